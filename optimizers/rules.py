"""The update rules, one `OptimizerSpec` each, in `OPTIMIZERS` (most didactic first).

Every rule is optax's own transformation where optax has it; only Newton's method is written here.
Vector operations in the formulas (squares, roots, quotients, max, sign) act per coordinate.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers.specs import OptimizerSpec, Scalars
from surfaces.params import ParamSpec, Registry

View = Callable[[optax.OptState], dict[str, jax.Array]]


class ShownState(NamedTuple):
    """An optax state plus the views `show_state` reads, recomputed after every step."""

    inner: optax.OptState
    shown: dict[str, jax.Array]


def _showing(tx: optax.GradientTransformation, view: View) -> optax.GradientTransformation:
    """`tx` whose state also keeps `view(state)`: for views that need hyperparameters (β₁, β₂)."""

    def init(params: jax.Array) -> ShownState:
        inner = tx.init(params)
        # Before the first step every moment is zero (its bias correction would be 0/0).
        return ShownState(inner, jax.tree.map(jnp.zeros_like, view(inner)))

    def update(
        updates: jax.Array, state: ShownState, params: jax.Array | None = None
    ) -> tuple[jax.Array, ShownState]:
        updates, inner = tx.update(updates, state.inner, params)
        return updates, ShownState(inner, view(inner))

    return optax.GradientTransformation(init, update)


_shown: View = attrgetter("shown")


def _unbias(moment: jax.Array, beta: jax.Array, count: jax.Array) -> jax.Array:
    """Bias correction of an EMA started at zero: moment / (1 − βᵗ)."""
    return moment / (1 - beta**count)


def _adam_view(h: Scalars, second: str = "v_hat") -> View:
    """{m̂, v̂} of a state with optax's Adam fields (count, mu, nu), each bias-corrected."""
    return lambda state: {
        "m_hat": _unbias(state.mu, h["b1"], state.count),
        second: _unbias(state.nu, h["b2"], state.count),
    }


class NewtonState(NamedTuple):
    """The eigenvalues of the last Hessian H_k, ascending."""

    curvature: jax.Array


def scale_by_newton(damping: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Damped Newton direction d_k = (H_k + λI)⁻¹ g_k, from the keyword argument `hessian=H_k`.

    Solved by Cramer's rule as it stands: a singular H_k + λI yields a non-finite direction.
    """

    def init(params: jax.Array) -> NewtonState:
        return NewtonState(jnp.zeros_like(params))

    def update(
        updates: jax.Array,
        state: NewtonState,
        params: jax.Array | None = None,
        *,
        hessian: jax.Array,
        **extra_args: object,
    ) -> tuple[jax.Array, NewtonState]:
        del state, params, extra_args
        # Closed forms for 2 × 2: LAPACK calls would stop XLA compiling the scan as one kernel.
        (a, b), (_, d) = hessian
        a_damped, d_damped = a + damping, d + damping
        det = a_damped * d_damped - b * b
        g1, g2 = updates
        direction = jnp.stack([d_damped * g1 - b * g2, a_damped * g2 - b * g1]) / det
        mean, radius = (a + d) / 2, jnp.hypot((a - d) / 2, b)
        return direction, NewtonState(jnp.stack([mean - radius, mean + radius]))

    return optax.GradientTransformationExtraArgs(init, update)


def _rule(*lines: str) -> str:
    """Aligned LaTeX: the rule's own lines, then the step every rule shares."""
    body = r" \\ ".join((*lines, r"w_{k+1} &= w_k - \eta_k\, d_k"))
    return rf"\begin{{aligned}} {body} \end{{aligned}}"


def _lr(default: float, low: float = 1e-5, high: float = 10.0) -> ParamSpec:
    return ParamSpec(
        "lr",
        "η₀",
        default,
        low,
        high,
        "Base learning rate; the schedule turns it into η_k.",
        log=True,
    )


def _beta(name: str, label: str, default: float, help: str, high: float = 0.999) -> ParamSpec:
    return ParamSpec(name, label, default, 0.0, high, help)


def _eps(default: float) -> ParamSpec:
    return ParamSpec(
        "eps", "ε", default, 1e-16, 1.0, "Keeps the denominator away from zero.", log=True
    )


_B1 = _beta("b1", "β₁", 0.9, "Decay of the gradient average m: the momentum.")


def _adam_hyper(eps: float = 1e-8) -> tuple[ParamSpec, ...]:
    return (
        _B1,
        _beta("b2", "β₂", 0.999, "Decay of the squared-gradient average v.", high=0.9999),
        _eps(eps),
    )


_MOMENTUM = _beta("beta", "β", 0.9, "Fraction of the velocity kept at each step.")
_RHO = _beta("rho", "ρ", 0.9, "Decay of the running averages.", high=0.9999)
_BETA1_LINE = r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad m_0 = 0"
_M_HAT = r"\hat m_{k+1} &= \frac{m_{k+1}}{1-\beta_1^{k+1}}"
_ADAM_LINES = (
    _BETA1_LINE,
    r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad v_0 = 0",
    _M_HAT + r", \quad \hat v_{k+1} = \frac{v_{k+1}}{1-\beta_2^{k+1}}",
)
_ADAM_STEP = r"d_k &= \frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \varepsilon}"


OPTIMIZERS: Registry[OptimizerSpec] = Registry(
    "optimizer",
    OptimizerSpec(
        key="gd",
        name="Gradient descent",
        latex=_rule(r"d_k &= g_k"),
        note="Steps straight downhill; too small a rate crawls, too large a rate oscillates.",
        lr=_lr(1e-2),
        build=lambda h: optax.identity(),
        show_state=lambda state: {},
    ),
    OptimizerSpec(
        key="momentum",
        name="Momentum (heavy ball)",
        latex=_rule(r"v_{k+1} &= \beta v_k + g_k, \quad v_0 = 0", r"d_k &= v_{k+1}"),
        note="Accumulates past gradients into a velocity: speeds along valleys, damps zig-zags.",
        lr=_lr(1e-2),
        build=lambda h: optax.trace(h["beta"]),
        show_state=lambda state: {"velocity": state.trace},
        hyper=(_MOMENTUM,),
    ),
    OptimizerSpec(
        key="nesterov",
        name="Nesterov momentum",
        latex=_rule(r"v_{k+1} &= \beta v_k + g_k, \quad v_0 = 0", r"d_k &= g_k + \beta v_{k+1}"),
        note="Momentum that also looks one velocity step ahead, so it brakes earlier.",
        lr=_lr(1e-2),
        build=lambda h: optax.trace(h["beta"], nesterov=True),
        show_state=lambda state: {"velocity": state.trace},
        hyper=(_MOMENTUM,),
    ),
    OptimizerSpec(
        key="adagrad",
        name="AdaGrad",
        latex=_rule(
            r"G_{k+1} &= G_k + g_k^2, \quad G_0 = G_{\text{init}}",
            r"d_k &= \frac{g_k}{\sqrt{G_{k+1} + \varepsilon}}",
        ),
        note="Divides each coordinate by its summed squared gradients: steps shrink forever.",
        lr=_lr(0.3, low=1e-4),
        build=lambda h: optax.scale_by_rss(h["initial_accumulator"], h["eps"]),
        show_state=lambda state: {"accumulator": state.sum_of_squares},
        hyper=(
            ParamSpec(
                "initial_accumulator",
                "G_init",
                0.1,
                1e-8,
                10.0,
                "Starting value of the sum of squares; large values damp the first steps.",
                log=True,
            ),
            _eps(1e-7),
        ),
    ),
    OptimizerSpec(
        key="rmsprop",
        name="RMSprop",
        latex=_rule(
            r"v_{k+1} &= \rho v_k + (1-\rho)\, g_k^2, \quad v_0 = 0",
            r"d_k &= \frac{g_k}{\sqrt{v_{k+1} + \varepsilon}}",
        ),
        note="AdaGrad with a forgetting average, so steps adapt without shrinking to zero.",
        lr=_lr(1e-2),
        build=lambda h: optax.scale_by_rms(h["rho"], h["eps"]),
        show_state=lambda state: {"mean_square": state.nu},
        hyper=(_RHO, _eps(1e-8)),
    ),
    OptimizerSpec(
        key="adam",
        name="Adam",
        latex=_rule(*_ADAM_LINES, _ADAM_STEP),
        note="Momentum divided by an RMS of recent gradients, bias-corrected: a robust default.",
        lr=_lr(0.05),
        build=lambda h: _showing(optax.scale_by_adam(h["b1"], h["b2"], h["eps"]), _adam_view(h)),
        show_state=_shown,
        hyper=_adam_hyper(),
    ),
    OptimizerSpec(
        key="newton",
        name="Newton's method (damped)",
        latex=_rule(
            r"H_k &= \nabla^2 f(w_k)",
            r"d_k &= (H_k + \lambda I)^{-1} g_k \quad (\text{singular } H_k + \lambda I"
            r" \Rightarrow \text{non-finite } d_k)",
        ),
        note=(
            "Jumps to the stationary point of the local quadratic model, be it a minimum, saddle"
            " or maximum; λ > 0 blends in gradient descent, and a singular H + λI diverges."
        ),
        lr=_lr(1.0, low=1e-3, high=4.0),
        build=lambda h: scale_by_newton(h["damping"]),
        show_state=lambda state: {"curvature": state.curvature},
        hyper=(
            ParamSpec(
                "damping", "λ", 0.0, 0.0, 10.0, "Added to every curvature; large λ acts like GD."
            ),
        ),
        needs_hessian=True,
    ),
    OptimizerSpec(
        key="adamw",
        name="AdamW",
        latex=_rule(*_ADAM_LINES, _ADAM_STEP + r" + \lambda w_k"),
        note="Adam plus weight decay applied outside the adaptive scaling: pulls w towards 0.",
        lr=_lr(0.05),
        build=lambda h: _showing(
            optax.chain(
                optax.scale_by_adam(h["b1"], h["b2"], h["eps"]),
                optax.add_decayed_weights(h["weight_decay"]),
            ),
            lambda state: _adam_view(h)(state[0]),
        ),
        show_state=_shown,
        hyper=(
            *_adam_hyper(),
            ParamSpec(
                "weight_decay", "λ", 0.1, 1e-4, 10.0, "Pull of w towards the origin.", log=True
            ),
        ),
    ),
    OptimizerSpec(
        key="nadam",
        name="NAdam",
        latex=_rule(
            *_ADAM_LINES,
            r"d_k &= \frac{\beta_1 m_{k+1} / (1-\beta_1^{k+2})"
            r" + (1-\beta_1)\, g_k / (1-\beta_1^{k+1})}{\sqrt{\hat v_{k+1}} + \varepsilon}",
        ),
        note="Adam with Nesterov's look-ahead on the momentum: reacts faster to turns.",
        lr=_lr(0.05),
        build=lambda h: _showing(
            optax.scale_by_adam(h["b1"], h["b2"], h["eps"], nesterov=True), _adam_view(h)
        ),
        show_state=_shown,
        hyper=_adam_hyper(),
    ),
    OptimizerSpec(
        key="amsgrad",
        name="AMSGrad",
        latex=_rule(
            *_ADAM_LINES,
            r"\hat v^{\max}_{k+1} &= \max(\hat v^{\max}_k,\ \hat v_{k+1}),"
            r" \quad \hat v^{\max}_0 = 0",
            r"d_k &= \frac{\hat m_{k+1}}{\sqrt{\hat v^{\max}_{k+1}} + \varepsilon}",
        ),
        note="Adam that never lets a coordinate's denominator shrink, so steps cannot grow back.",
        lr=_lr(0.05),
        build=lambda h: _showing(
            optax.scale_by_amsgrad(h["b1"], h["b2"], h["eps"]),
            lambda state: {**_adam_view(h)(state), "v_hat_max": state.nu_max},
        ),
        show_state=_shown,
        hyper=_adam_hyper(),
    ),
    OptimizerSpec(
        key="adamax",
        name="AdaMax",
        latex=_rule(
            _BETA1_LINE,
            r"u_{k+1} &= \max(\beta_2 u_k,\ |g_k| + \varepsilon), \quad u_0 = 0",
            _M_HAT,
            r"d_k &= \hat m_{k+1} / u_{k+1}",
        ),
        note="Adam with a decaying maximum of |g| instead of an RMS: steps stay bounded by η.",
        lr=_lr(0.05),
        build=lambda h: _showing(
            optax.scale_by_adamax(h["b1"], h["b2"], h["eps"]),
            lambda state: {"m_hat": _unbias(state.mu, h["b1"], state.count), "u": state.nu},
        ),
        show_state=_shown,
        hyper=(
            _B1,
            _beta("b2", "β₂", 0.999, "Decay of the running maximum u of |g|.", high=0.9999),
            _eps(1e-8),
        ),
    ),
    OptimizerSpec(
        key="radam",
        name="RAdam",
        latex=_rule(
            *_ADAM_LINES,
            r"\rho_\infty &= \frac{2}{1-\beta_2} - 1, \quad"
            r" \rho_{k+1} = \rho_\infty - \frac{2(k+1)\,\beta_2^{k+1}}{1-\beta_2^{k+1}}",
            r"r_{k+1} &= \sqrt{\frac{(\rho_{k+1}-4)(\rho_{k+1}-2)\,\rho_\infty}"
            r"{(\rho_\infty-4)(\rho_\infty-2)\,\rho_{k+1}}}",
            r"d_k &= \begin{cases} r_{k+1}\, \hat m_{k+1} / (\sqrt{\hat v_{k+1}} + \varepsilon)"
            r" & \rho_{k+1} \ge \tau \\ \hat m_{k+1} & \text{otherwise} \end{cases}",
        ),
        note="Adam that takes plain momentum steps until its variance estimate is trustworthy.",
        lr=_lr(0.05),
        build=lambda h: _showing(
            optax.scale_by_radam(h["b1"], h["b2"], h["eps"], threshold=h["threshold"]),
            _adam_view(h),
        ),
        show_state=_shown,
        hyper=(
            *_adam_hyper(),
            ParamSpec("threshold", "τ", 5.0, 4.0, 50.0, "Adaptive steps start once ρ_k reaches τ."),
        ),
    ),
    OptimizerSpec(
        key="adabelief",
        name="AdaBelief",
        latex=_rule(
            _BETA1_LINE,
            r"s_{k+1} &= \beta_2 s_k + (1-\beta_2)\,(g_k - m_{k+1})^2 + \varepsilon, \quad s_0 = 0",
            _M_HAT + r", \quad \hat s_{k+1} = \frac{s_{k+1}}{1-\beta_2^{k+1}}",
            r"d_k &= \frac{\hat m_{k+1}}{\sqrt{\hat s_{k+1}} + \varepsilon}",
        ),
        note="Adam scaled by how far gradients stray from their average: bold where they agree.",
        lr=_lr(0.05),
        build=lambda h: _showing(
            optax.scale_by_belief(h["b1"], h["b2"], h["eps"], h["eps"]),
            _adam_view(h, second="s_hat"),
        ),
        show_state=_shown,
        hyper=_adam_hyper(eps=1e-16),
    ),
    OptimizerSpec(
        key="adadelta",
        name="AdaDelta",
        latex=_rule(
            r"v_{k+1} &= \rho v_k + (1-\rho)\, g_k^2, \quad v_0 = 0",
            r"d_k &= \frac{\sqrt{u_k + \varepsilon}}{\sqrt{v_{k+1} + \varepsilon}}\, g_k",
            r"u_{k+1} &= \rho u_k + (1-\rho)\, d_k^2, \quad u_0 = 0",
        ),
        note="Sizes each step by the RMS of its recent steps over that of its gradients.",
        lr=_lr(1.0, low=1e-3, high=100.0),
        build=lambda h: optax.scale_by_adadelta(h["rho"], h["eps"]),
        show_state=lambda state: {"mean_square_grad": state.e_g, "mean_square_step": state.e_x},
        hyper=(_RHO, _eps(1e-6)),
    ),
    OptimizerSpec(
        key="signsgd",
        name="signSGD",
        latex=_rule(r"d_k &= \operatorname{sign}(g_k)"),
        note="Moves every coordinate by exactly η, whatever the slope: ignores gradient size.",
        lr=_lr(1e-2),
        build=lambda h: optax.scale_by_sign(),
        show_state=lambda state: {},
    ),
    OptimizerSpec(
        key="lion",
        name="Lion",
        latex=_rule(
            r"d_k &= \operatorname{sign}\big(\beta_1 m_k + (1-\beta_1)\, g_k\big)",
            r"m_{k+1} &= \beta_2 m_k + (1-\beta_2)\, g_k, \quad m_0 = 0",
        ),
        note="Steps by the sign of a momentum blend: every coordinate moves by exactly η.",
        lr=_lr(1e-2),
        build=lambda h: optax.scale_by_lion(h["b1"], h["b2"]),
        show_state=lambda state: {"momentum": state.mu},
        hyper=(
            _beta("b1", "β₁", 0.9, "Weight of the momentum in the sign taken this step."),
            _beta("b2", "β₂", 0.99, "Decay of the momentum kept between steps.", high=0.9999),
        ),
    ),
)


def get_optimizer(key: str) -> OptimizerSpec:
    """The optimizer registered under `key`; ValueError listing the valid keys otherwise."""
    return OPTIMIZERS.lookup(key)
