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

from optimizers.rule_parts import beta as _beta
from optimizers.rule_parts import eps as _eps
from optimizers.rule_parts import lr as _lr
from optimizers.rule_parts import rule as _rule
from optimizers.rule_parts import unbias as _unbias
from optimizers.rules_free import LR_FREE_RULES
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


def _pair(value: jax.Array) -> jax.Array:
    """A scalar shown as a 2-vector (the same number for x and y), as `show_state` requires."""
    return jnp.full(2, value, dtype=jnp.float64)


def _step_views(step_size: jax.Array, evaluations: jax.Array | None = None) -> dict:
    """The step size η_k·(the rule's own factor) and, for a line search, its evaluations of f."""
    views = {"step_size": _pair(step_size)}
    return views if evaluations is None else {**views, "evaluations": _pair(evaluations)}


def _step_sized(
    update: Callable[..., tuple[jax.Array, optax.OptState, dict[str, jax.Array]]],
    init: Callable[[jax.Array], optax.OptState],
    names: tuple[str, ...],
) -> optax.GradientTransformationExtraArgs:
    """A rule that takes the engine's extra arguments (value, grad, value_fn, rate, floor) and
    shows what `update` reports: `update(g, inner, w, **extra) -> (d, inner, shown)`. `names`
    are the shown entries (each 0 before the first step)."""

    def init_fn(params: jax.Array) -> ShownState:
        return ShownState(init(params), {name: jnp.zeros(2) for name in names})

    def update_fn(
        updates: jax.Array, state: ShownState, params: jax.Array | None = None, **extra: object
    ) -> tuple[jax.Array, ShownState]:
        direction, inner, shown = update(updates, state.inner, params, **extra)
        return direction, ShownState(inner, shown)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _ratio(a: jax.Array, b: jax.Array) -> jax.Array:
    """a / b, and 0 where b = 0."""
    return jnp.where(b != 0, a / jnp.where(b != 0, b, 1.0), 0.0)


def polyak_step(offset: jax.Array, max_step: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Polyak's step (optax.scale_by_polyak): d_k = γ_k g_k with
    γ_k = min((L(w_k) − f* − δ) / ‖g_k‖², γ_max), 0 where ‖g_k‖² is below machine ε."""

    def update(g, inner, params, *, value, rate, floor, **extra):
        polyak = optax.scale_by_polyak(f_min=floor + offset, max_learning_rate=max_step)
        direction, inner = polyak.update(g, inner, params, value=value)
        gamma = _ratio(direction @ g, g @ g)
        return direction, inner, _step_views(rate * gamma)

    return _step_sized(update, optax.scale_by_polyak().init, ("step_size",))


MAX_BACKTRACKS = 30  # static: the line search's loop bound (optax's `max_backtracking_steps`)


def armijo_step(
    c: jax.Array, shrink: jax.Array, grow: jax.Array
) -> optax.GradientTransformationExtraArgs:
    """Armijo backtracking on the step −η_k g_k (optax.scale_by_backtracking_linesearch): the
    first t = t⁰ βʲ with L(w − t η_k g) ≤ L(w) − c t η_k ⟨g, ∇L⟩, t⁰ = min(γ t_{k−1}, 1);
    d_k = t_k g_k. Shows η_k t_k and the evaluations of L it took."""
    search = optax.scale_by_backtracking_linesearch(
        max_backtracking_steps=MAX_BACKTRACKS,
        slope_rtol=c,
        decrease_factor=shrink,
        increase_factor=grow,
        max_learning_rate=1.0,
    )

    def update(g, inner, params, *, value, grad, value_fn, rate, **extra):
        _, inner = search.update(
            -rate * g, inner, params, value=value, grad=grad, value_fn=value_fn
        )
        t = inner.learning_rate
        return t * g, inner, _step_views(rate * t, inner.info.num_linesearch_steps)

    return _step_sized(update, search.init, ("step_size", "evaluations"))


def lbfgs_step() -> optax.GradientTransformationExtraArgs:
    """optax.lbfgs: d_k = −(the line-searched step along −H_k g_k), H_k the L-BFGS inverse-Hessian
    estimate from the last 10 pairs; the zoom line search picks t_k (strong Wolfe conditions)."""
    lbfgs = optax.lbfgs()

    def update(g, inner, params, *, value, grad, value_fn, rate, **extra):
        step, inner = lbfgs.update(g, inner, params, value=value, grad=grad, value_fn=value_fn)
        search = inner[-1]
        shown = _step_views(rate * search.learning_rate, search.info.num_linesearch_steps)
        return -step, inner, shown

    return _step_sized(update, lbfgs.init, ("step_size", "evaluations"))


class HypergradientState(NamedTuple):
    """The inner rule's state, the rate multiplier α_k and the last direction d_{k−1}."""

    inner: optax.OptState
    multiplier: jax.Array
    previous: jax.Array


def hypergradient(
    tx: optax.GradientTransformation,
    beta: jax.Array,
    view: View = lambda state: {},
    names: tuple[str, ...] = (),
) -> optax.GradientTransformationExtraArgs:
    """Hypergradient descent on a multiplier of the rate (Baydin et al. 2018): with d_k the
    inner rule's direction, α_k = α_{k−1} + β ⟨g_k, d_{k−1}⟩ (α_0 = 1, d_{−1} = 0) and the
    step η_k α_k d_k; −⟨g_k, d_{k−1}⟩ is ∂L(w_k)/∂α_{k−1} up to the factor η_{k−1}.
    `view` shows the inner state, under `names`."""

    def init(params: jax.Array) -> HypergradientState:
        return HypergradientState(tx.init(params), jnp.ones(()), jnp.zeros_like(params))

    def update(g, state, params, *, rate, **extra):
        multiplier = state.multiplier + beta * (g @ state.previous)
        direction, inner = tx.update(g, state.inner, params)
        shown = {**view(inner), **_step_views(rate * multiplier)}
        return multiplier * direction, HypergradientState(inner, multiplier, direction), shown

    return _step_sized(update, init, (*names, "step_size"))


def momo_step(beta: jax.Array, offset: jax.Array) -> optax.GradientTransformationExtraArgs:
    """optax.contrib.momo at rate η_k and lower bound f* + δ: d_k = (τ_k / η_k) d̄_k with d̄_k the
    momentum average of g, τ_k = min(η_k, (f̄_k − f* − δ − γ_k + ⟨d̄_k, w_k⟩)₊ / ‖d̄_k‖²)."""
    init = optax.contrib.momo(beta=beta).init

    def update(g, inner, params, *, value, rate, floor, **extra):
        momo = optax.contrib.momo(learning_rate=rate, beta=beta)
        # The bound lives in the state (set by init); here it follows f* + δ, both traced.
        step, inner = momo.update(g, inner._replace(lb=floor + offset), params, value=value)
        tau = _ratio(-(step @ inner.exp_avg), inner.exp_avg @ inner.exp_avg)
        return _ratio(-step, rate), inner, {"momentum": inner.exp_avg, **_step_views(tau)}

    return _step_sized(update, init, ("momentum", "step_size"))


def sam_step(radius: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Sharpness-aware minimisation: d_k = ∇L(w̃_k) at the adversarial point
    w̃_k = w_k + ρ g_k / ‖g_k‖ (w_k where g_k = 0). Shows w̃_k."""

    def update(g, inner, params, *, value_fn, rate, **extra):
        norm = jnp.linalg.norm(g)
        adversary = params + radius * _ratio(g, norm)
        shown = {"adversarial_point": adversary, **_step_views(rate)}
        return jax.grad(value_fn)(adversary), inner, shown

    return _step_sized(
        update, lambda params: optax.EmptyState(), ("adversarial_point", "step_size")
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


_FLOOR_OFFSET = ParamSpec(
    "offset",
    "δ",
    0.0,
    -100.0,
    100.0,
    "Error in the floor the rule assumes, f* + δ: δ > 0 stops short of the minimum, δ < 0"
    " overshoots it.",
)
_HYPER_RATE = ParamSpec(
    "beta", "β", 1e-3, 1e-8, 1.0, "Hyper-learning rate: how fast α follows its gradient.", log=True
)
_BAYDIN = (
    "A. G. Baydin, R. Cornish, D. Martínez Rubio, M. Schmidt, F. Wood, Online learning rate"
    " adaptation with hypergradient descent, 2018"
)


OPTIMIZERS: Registry[OptimizerSpec] = Registry(
    "optimizer",
    OptimizerSpec(
        key="gd",
        name="Gradient descent",
        group="classic",
        reference="A.-L. Cauchy, Méthode générale pour la résolution des systèmes, 1847",
        latex=_rule(r"d_k &= g_k"),
        note="Steps straight downhill; too small a rate crawls, too large a rate oscillates.",
        lr=_lr(1e-2),
        build=lambda h: optax.identity(),
        show_state=lambda state: {},
    ),
    OptimizerSpec(
        key="momentum",
        name="Momentum (heavy ball)",
        group="classic",
        reference="B. T. Polyak, Some methods of speeding up the convergence of iterations, 1964",
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
        group="classic",
        reference="Y. Nesterov, A method of solving a convex problem with rate O(1/k²), 1983",
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
        group="adaptive",
        reference="J. Duchi, E. Hazan, Y. Singer, Adaptive subgradient methods, 2011",
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
        group="adaptive",
        reference="T. Tieleman, G. Hinton, Neural Networks for Machine Learning, lecture 6.5, 2012",
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
        group="adaptive",
        reference="D. P. Kingma, J. Ba, Adam: a method for stochastic optimization, 2015",
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
        group="second-order",
        reference="I. Newton, 1669, and J. Raphson, 1690; damped: K. Levenberg, 1944",
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
        group="adaptive",
        reference="I. Loshchilov, F. Hutter, Decoupled weight decay regularization, 2019",
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
        group="adaptive",
        reference="T. Dozat, Incorporating Nesterov momentum into Adam, 2016",
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
        group="adaptive",
        reference="S. J. Reddi, S. Kale, S. Kumar, On the convergence of Adam and beyond, 2018",
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
        group="adaptive",
        reference="D. P. Kingma, J. Ba, Adam: a method for stochastic optimization (§7), 2015",
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
        group="adaptive",
        reference="L. Liu et al., On the variance of the adaptive learning rate and beyond, 2020",
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
        group="adaptive",
        reference="J. Zhuang et al., AdaBelief optimizer: adapting stepsizes by the belief, 2020",
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
        group="adaptive",
        reference="M. D. Zeiler, ADADELTA: an adaptive learning rate method, 2012",
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
        group="classic",
        reference="J. Bernstein et al., signSGD: compressed optimisation for non-convex problems,"
        " 2018",
        latex=_rule(r"d_k &= \operatorname{sign}(g_k)"),
        note="Moves every coordinate by exactly η, whatever the slope: ignores gradient size.",
        lr=_lr(1e-2),
        build=lambda h: optax.scale_by_sign(),
        show_state=lambda state: {},
    ),
    OptimizerSpec(
        key="lion",
        name="Lion",
        group="classic",
        reference="X. Chen et al., Symbolic discovery of optimization algorithms, 2023",
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
    *LR_FREE_RULES,  # optimizers/rules_free.py: adaptive, learning-rate-free, Lookahead
    OptimizerSpec(
        key="polyak",
        name="Polyak's step",
        group="line-search",
        reference="B. T. Polyak, Minimization of unsmooth functionals, 1969",
        latex=_rule(
            r"\gamma_k &= \min\Big(\frac{L(w_k) - f^\star - \delta}{\lVert g_k\rVert^2},"
            r"\ \gamma_{\max}\Big) \quad (0 \text{ where } \lVert g_k\rVert^2"
            r" \le \epsilon_{\text{mach}})",
            r"d_k &= \gamma_k\, g_k",
        ),
        note=(
            "Steps by how far the loss is above its floor f* (the surface's minimum, 0 where it"
            " has none; with L2 the floor is the surface's): δ ≠ 0 is a wrong floor."
        ),
        lr=_lr(1.0, low=1e-3, high=10.0),
        build=lambda h: polyak_step(h["offset"], h["max_step"]),
        show_state=_shown,
        hyper=(
            _FLOOR_OFFSET,
            ParamSpec(
                "max_step", "γ_max", 1e3, 1e-3, 1e6, "Largest factor γ_k of a step.", log=True
            ),
        ),
        extra_args=True,
    ),
    OptimizerSpec(
        key="armijo",
        name="Armijo line search (GD)",
        group="line-search",
        reference=(
            "L. Armijo, Minimization of functions having Lipschitz continuous first partial"
            " derivatives, 1966"
        ),
        latex=_rule(
            r"t^{(0)}_k &= \min(\gamma\, t_{k-1},\ 1), \quad t_{-1} = 1",
            r"t_k &= \text{the first } t = t^{(0)}_k \beta^j,\ j = 0, 1, \dots, 30, \text{ with }"
            r" L(w_k - t \eta_k g_k) \le L(w_k) - c\, t \eta_k\, g_k^\top \nabla L(w_k)"
            r" \ (\text{else } j = 30)",
            r"d_k &= t_k\, g_k",
        ),
        note=(
            "Tries the step η_k, then shrinks it by β until the loss falls enough: a huge η₀"
            " cannot overshoot. Costs one evaluation of L per trial."
        ),
        lr=_lr(1.0, low=1e-3, high=1e3),
        build=lambda h: armijo_step(h["c"], h["shrink"], h["grow"]),
        show_state=_shown,
        hyper=(
            ParamSpec(
                "c", "c", 1e-4, 1e-8, 0.5, "Fraction of the linear decrease required.", log=True
            ),
            ParamSpec("shrink", "β", 0.5, 0.05, 0.95, "Factor a rejected step is cut by."),
            ParamSpec(
                "grow", "γ", 1.5, 1.0, 10.0, "Growth of the last accepted t for the next first try."
            ),
        ),
        extra_args=True,
    ),
    OptimizerSpec(
        key="lbfgs",
        name="L-BFGS (zoom line search)",
        group="second-order",
        reference=(
            "D. C. Liu, J. Nocedal, On the limited memory BFGS method for large scale"
            " optimization, 1989"
        ),
        latex=_rule(
            r"p_k &= H_k g_k \quad (\text{two-loop recursion over the last 10 pairs }"
            r" s_i = t_i p_i,\ y_i = g_{i+1} - g_i)",
            r"t_k &= \text{zoom line search for the strong Wolfe conditions on }"
            r" t \mapsto L(w_k - t p_k),\ t^{(0)} = 1,\ \le 20 \text{ trials}",
            r"d_k &= t_k\, p_k",
        ),
        note=(
            "Estimates the inverse Hessian from the last 10 steps and line-searches along it:"
            " η₀ = 1 is L-BFGS itself; the memory assumes the step it proposed was taken."
        ),
        lr=_lr(1.0, low=1e-3, high=4.0),
        build=lambda h: lbfgs_step(),
        show_state=_shown,
        extra_args=True,
    ),
    OptimizerSpec(
        key="hd_gd",
        name="Hypergradient descent (GD)",
        group="line-search",
        reference=_BAYDIN,
        latex=_rule(
            r"\alpha_k &= \alpha_{k-1} + \beta\, g_k^\top g_{k-1}, \quad \alpha_{-1} = 1,"
            r" \ g_{-1} = 0",
            r"d_k &= \alpha_k\, g_k",
        ),
        note=(
            "Learns its own rate as it goes: the rate grows while successive gradients agree"
            " and shrinks when they turn back."
        ),
        lr=_lr(1e-2),
        build=lambda h: hypergradient(optax.identity(), h["beta"]),
        show_state=_shown,
        hyper=(_HYPER_RATE,),
        extra_args=True,
    ),
    OptimizerSpec(
        key="hd_adam",
        name="Hypergradient Adam",
        group="line-search",
        reference=_BAYDIN,
        latex=_rule(
            *_ADAM_LINES,
            r"u_k &= \frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \varepsilon}",
            r"\alpha_k &= \alpha_{k-1} + \beta\, g_k^\top u_{k-1}, \quad \alpha_{-1} = 1,"
            r" \ u_{-1} = 0",
            r"d_k &= \alpha_k\, u_k",
        ),
        note="Adam whose rate follows its hypergradient: it rises while steps keep helping.",
        lr=_lr(0.05),
        build=lambda h: hypergradient(
            optax.scale_by_adam(h["b1"], h["b2"], h["eps"]),
            h["beta"],
            _adam_view(h),
            ("m_hat", "v_hat"),
        ),
        show_state=_shown,
        hyper=(*_adam_hyper(), _HYPER_RATE),
        extra_args=True,
    ),
    OptimizerSpec(
        key="momo",
        name="MoMo",
        group="lr-free",
        reference=(
            "F. Schaipp, R. Ohana, M. Eickenberg, A. Defazio, R. M. Gower, MoMo: momentum models"
            " for adaptive learning rates, 2024"
        ),
        latex=_rule(
            r"\bar d_k &= \beta \bar d_{k-1} + (1-\beta)\, g_k, \quad \bar f_k = \beta \bar f_{k-1}"
            r" + (1-\beta) L(w_k), \quad \bar\gamma_k = \beta \bar\gamma_{k-1} + (1-\beta)\,"
            r" g_k^\top w_k \ (\beta = 0 \text{ at } k = 0)",
            r"\tau_k &= \min\Big(\eta_k,\ \frac{(\bar f_k - f^\star - \delta - \bar\gamma_k"
            r" + \bar d_k^\top w_k)_+}{\lVert \bar d_k\rVert^2}\Big)",
            r"d_k &= (\tau_k / \eta_k)\, \bar d_k",
        ),
        note="Momentum whose step is a Polyak-like model of the loss, capped at η_k: needs f*.",
        lr=_lr(1.0, low=1e-3, high=10.0),
        build=lambda h: momo_step(h["beta"], h["offset"]),
        show_state=_shown,
        hyper=(_MOMENTUM, _FLOOR_OFFSET),
        extra_args=True,
    ),
    OptimizerSpec(
        key="sam",
        name="SAM (sharpness-aware GD)",
        group="wrappers",
        reference=(
            "P. Foret, A. Kleiner, H. Mobahi, B. Neyshabur, Sharpness-aware minimization for"
            " efficiently improving generalization, 2021"
        ),
        latex=_rule(
            r"\tilde w_k &= w_k + \rho\, g_k / \lVert g_k\rVert \quad (w_k \text{ where } g_k = 0)",
            r"d_k &= \nabla L(\tilde w_k)",
        ),
        note=(
            "Steps with the gradient at the worst nearby point w̃ (drawn on the contour): it"
            " prefers wide valleys to sharp ones."
        ),
        lr=_lr(1e-2),
        build=lambda h: sam_step(h["radius"]),
        show_state=_shown,
        hyper=(ParamSpec("radius", "ρ", 0.05, 0.0, 5.0, "Distance to the adversarial point w̃."),),
        extra_args=True,
    ),
)


def get_optimizer(key: str) -> OptimizerSpec:
    """The optimizer registered under `key`; ValueError listing the valid keys otherwise."""
    return OPTIMIZERS.lookup(key)
