"""Rules that set their own step (learning-rate-free), modern adaptive rules and wrappers.

`LR_FREE_RULES` holds their `OptimizerSpec` rows; `optimizers.rules` puts them in the registry.
Every row keeps the engine's convention w_{k+1} = w_k − η_k d_k, with d_k the direction at unit
rate. The learning-rate-free methods run with their own learning rate at 1, so that at the default
η₀ = 1 the engine takes exactly their step (another η₀ scales it from outside). Schedule-Free and
MADGRAD step from averaged points that they recover from w_k, so their rate γ is a hyperparameter
inside the rule and η₀ = 1 keeps their averaging exact. Where optax returns the step to add
(w_{k+1} − w_k at unit rate), its sign is flipped to give d_k. `show_state` names each method's own
scale of step (D-Adaptation's and Prodigy's D, DoG's distance ratio, Mechanic's s, ...) so the
inspector shows the rate it really uses; scalars are shown as 2-vectors of equal entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from optax import contrib

from optimizers.rule_parts import beta as _beta
from optimizers.rule_parts import eps as _eps
from optimizers.rule_parts import lr as _lr
from optimizers.rule_parts import rule as _rule
from optimizers.rule_parts import unbias as _unbias
from optimizers.specs import OptimizerSpec, Scalars
from surfaces.params import ParamSpec

# (optax state after the step, w_{k+1} at unit rate) → the views show_state reads
PointView = Callable[[optax.OptState, jax.Array], dict[str, jax.Array]]


class _Shown(NamedTuple):
    """An optax state plus the views `show_state` reads, recomputed after every step."""

    inner: optax.OptState
    shown: dict[str, jax.Array]


def _stepping(
    tx: optax.GradientTransformation, view: PointView, flip: bool
) -> optax.GradientTransformation:
    """`tx` as a direction d_k (its update negated where `flip`: optax's step to add), keeping
    `view(state, w_k − d_k)` for show_state; the view may read the point the step reaches."""

    def init(params: jax.Array) -> _Shown:
        inner = tx.init(params)
        return _Shown(inner, jax.tree.map(jnp.zeros_like, view(inner, params)))

    def update(
        updates: jax.Array, state: _Shown, params: jax.Array | None = None, **extra: object
    ) -> tuple[jax.Array, _Shown]:
        step, inner = tx.update(updates, state.inner, params)
        direction = -step if flip else step
        return direction, _Shown(inner, view(inner, params - direction))

    return optax.GradientTransformation(init, update)


def _shown(state: _Shown) -> dict[str, jax.Array]:
    return state.shown


def _pair(scalar: jax.Array, like: jax.Array) -> jax.Array:
    """A scalar shown as a 2-vector (show_state's entries all have the shape of w)."""
    return jnp.zeros_like(like) + scalar


def _unit_lr(low: float = 1e-3, high: float = 10.0) -> ParamSpec:
    return ParamSpec(
        "lr",
        "η₀",
        1.0,
        low,
        high,
        "Scales the method's own step from outside; 1 takes it exactly as published.",
        log=True,
    )


def _gamma(default: float) -> ParamSpec:
    return ParamSpec(
        "gamma",
        "γ",
        default,
        1e-5,
        10.0,
        "The method's own rate, inside its averaging; keep η₀ = 1.",
        log=True,
    )


def _d0(default: float = 1e-6) -> ParamSpec:
    return ParamSpec(
        "d0", "D₀", default, 1e-12, 1.0, "First estimate of the distance to the solution.", log=True
    )


_B1 = _beta("b1", "β₁", 0.9, "Decay of the gradient average m: the momentum.")
_B2 = _beta("b2", "β₂", 0.999, "Decay of the squared-gradient average v.", high=0.9999)
_T = r"t = k + 1"


# D-Adaptation and Prodigy: Adam whose step is scaled by a growing estimate D of ‖w_0 − w*‖.

_D_LINES = (
    r"\lambda_k &= D_k \sqrt{1-\beta_2^{t}} / (1-\beta_1^{t}), \quad "
    + _T
    + r", \quad D_0 \text{ given}",
)


def _d_view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
    return {"d": _pair(state.estim_lr, point)}


def _dadapt(h: Scalars) -> optax.GradientTransformation:
    tx = contrib.dadapt_adamw(1.0, (h["b1"], h["b2"]), h["eps"], h["d0"])
    return _stepping(tx, _d_view, flip=True)


def _prodigy(h: Scalars) -> optax.GradientTransformation:
    tx = contrib.prodigy(1.0, (h["b1"], h["b2"]), eps=h["eps"], estim_lr0=h["d0"])
    return _stepping(tx, _d_view, flip=True)


# DoG and DoWG: gradient descent at the rate (distance travelled) / √(sum of squared gradients).


def _dog(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        dog = state[1]
        rate = dog.max_dist / jnp.sqrt(dog.sum_sq_norm_grads + h["eps"])
        return {"step_scale": _pair(rate, point), "max_distance": _pair(dog.max_dist, point)}

    tx = contrib.dog(1.0, init_step=("heuristic", h["r_eps"]), eps=h["eps"])
    return _stepping(tx, view, flip=True)


def _dowg(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        dowg = state[1]
        rate = dowg.estim_sq_dist / (jnp.sqrt(dowg.weighted_sq_norm_grads) + h["eps"])
        return {"step_scale": _pair(rate, point), "sq_distance": _pair(dowg.estim_sq_dist, point)}

    tx = contrib.dowg(1.0, init_estim_sq_dist=h["r0_sq"], eps=h["eps"])
    return _stepping(tx, view, flip=True)


def _cocob(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        L, G, R = state.scale, state.subgradients, state.reward
        bet = (L + R) / (L * jnp.maximum(G + L, h["alpha"] * L))
        return {"bet_fraction": bet, "reward": R}

    return _stepping(contrib.scale_by_cocob(h["alpha"], h["eps"]), view, flip=True)


def _mechanic(base: optax.GradientTransformation, h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        return {"scale": _pair(jnp.sum(state.s), point)}

    tx = contrib.mechanize(base, weight_decay=h["weight_decay"], s_init=h["s_init"])
    return _stepping(tx, view, flip=True)


# Schedule-Free: the gradient is taken at y_k = w_k, between the base sequence z_k and the
# average x_k of the z's, which is the point to use once training stops.


def _schedule_free(
    tx: optax.GradientTransformation, beta: jax.Array
) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        return {"averaged_point": (point - (1 - beta) * state.z) / beta, "z_base": state.z}

    return _stepping(tx, view, flip=True)


def _madgrad(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        return {"z_dual": state.x0 - state.s / (jnp.cbrt(state.grad_sum_sq) + h["eps"])}

    tx = contrib.scale_by_madgrad(h["gamma"], momentum=h["beta"], eps=h["eps"])
    return _stepping(tx, view, flip=True)


class LookaheadState(NamedTuple):
    """The inner rule's state, the steps taken and the fast weights' unit-rate lead o_k."""

    inner: optax.OptState
    count: jax.Array
    offset: jax.Array


def lookahead(
    fast: optax.GradientTransformation, sync_period: jax.Array, slow_step: jax.Array
) -> optax.GradientTransformation:
    """Lookahead (Zhang et al. 2019) as a direction at unit rate, for a plain 2-vector.

    The fast weights run `fast` and lead the slow ones by −η o_k; every `sync_period` steps the
    slow weights move `slow_step` of the way to the fast ones and the fast weights restart there:
    with u_k the fast direction and o' = o_k + u_k, d_k = α o' − o_k and o_{k+1} = 0 on a
    synchronising step, else d_k = u_k and o_{k+1} = o'. At a constant η this is Lookahead exactly
    (optax's `lookahead` needs its own pair of parameters, which the engine does not carry).
    """

    def init(params: jax.Array) -> LookaheadState:
        return LookaheadState(
            fast.init(params), jnp.zeros([], params.dtype), jnp.zeros_like(params)
        )

    def update(
        updates: jax.Array, state: LookaheadState, params: jax.Array | None = None, **extra: object
    ) -> tuple[jax.Array, LookaheadState]:
        direction, inner = fast.update(updates, state.inner, params)
        lead = state.offset + direction
        count = state.count + 1
        sync = jnp.mod(count, sync_period) == 0
        direction = jnp.where(sync, slow_step * lead - state.offset, direction)
        return direction, LookaheadState(inner, count, jnp.where(sync, 0.0, lead))

    return optax.GradientTransformation(init, update)


def _adam_view(h: Scalars) -> Callable[[optax.OptState], dict[str, jax.Array]]:
    return lambda state: {
        "m_hat": _unbias(state.mu, h["b1"], state.count),
        "v_hat": _unbias(state.nu, h["b2"], state.count),
    }


def _viewing(
    tx: optax.GradientTransformation, view: Callable[[optax.OptState], dict[str, jax.Array]]
) -> optax.GradientTransformation:
    """`tx` (a direction already) with `view(state)` kept for show_state."""
    return _stepping(tx, lambda state, point: view(state), flip=False)


_ADAM_HYPER = (_B1, _B2, _eps(1e-8))
_MECHANIC_HYPER = (
    ParamSpec(
        "weight_decay",
        "λ",
        0.01,
        0.0,
        1.0,
        "Mechanic's own pull of w towards 0, relative to the gradient's size.",
    ),
    ParamSpec("s_init", "s₀", 1e-6, 1e-12, 1.0, "First scale of the base rule's steps.", log=True),
)
_MECHANIC_LINES = (
    r"S_k &= \textstyle\sum_i s_{k,i}, \quad \Delta_k = (w_0 - w_k) / (S_k + \varepsilon), \quad"
    r" \tilde g_k = g_k + \lambda S_k \frac{\|g_k\|}{\|w_k\| + \varepsilon} w_k",
    r"h_k &= \langle \tilde g_k, \Delta_k \rangle, \quad"
    r" \beta_i = 1 - 10^{-i},\ i = 1 \dots 6, \quad s_{0,i} = s_0",
    r"M_{k+1} &= \max(\beta M_k,\ |h_k| + \varepsilon), \quad"
    r" V_{k+1} = \beta^2 V_k + h_k^2, \quad M_0 = V_0 = R_0 = 0",
    r"R_{k+1} &= \beta R_k + \operatorname{clip}(h_k, \pm M_k)\, s_k, \quad"
    r" s_{k+1} = \frac{s_0 M_{k+1} / 6 + \max(R_{k+1}, 0)}{\sqrt{V_{k+1}} + \varepsilon}",
    r"d_k &= w_k - w_0 + S_{k+1} (\Delta_k + u_k), \quad \varepsilon = 10^{-8}",
)
_SCHEDULE_FREE_LINES = (
    r"z_{k+1} &= z_k - \gamma\, u_k, \quad z_0 = x_0 = w_0, \quad c_{k+1} = 1 / (k + 1)",
    r"x_{k+1} &= (1 - c_{k+1})\, x_k + c_{k+1} z_{k+1}",
    r"d_k &= w_k - \big((1-\beta) z_{k+1} + \beta x_{k+1}\big)",
)
_SCHEDULE_FREE_NOTE = (
    "Gradients at w_k, between a plain SGD sequence z and its running average x (the"
    " contour's open circles: use x at the end); no decay. γ is its rate, η₀ = 1."
)


# The rows, in picker order within their groups (adaptive, lr-free, wrappers).
LR_FREE_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="yogi",
        name="Yogi",
        latex=_rule(
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad m_0 = v_0 = 10^{-6}",
            r"v_{k+1} &= v_k - (1-\beta_2)\operatorname{sign}(v_k - g_k^2)\, g_k^2",
            r"d_k &= \frac{m_{k+1} / (1-\beta_1^{k+1})}{\sqrt{v_{k+1} / (1-\beta_2^{k+1})}"
            r" + \varepsilon}",
        ),
        note="Adam whose v moves towards g² by a bounded amount, so it cannot forget fast.",
        lr=_lr(0.05),
        build=lambda h: _viewing(optax.scale_by_yogi(h["b1"], h["b2"], h["eps"]), _adam_view(h)),
        show_state=_shown,
        hyper=(_B1, _B2, _eps(1e-3)),
        group="adaptive",
        reference="Zaheer et al., Adaptive Methods for Nonconvex Optimization, NeurIPS 2018",
    ),
    OptimizerSpec(
        key="adan",
        name="Adan",
        latex=_rule(
            r"\delta_k &= g_k - g_{k-1}, \quad \delta_0 = 0, \quad m_0 = v_0 = n_0 = 0",
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad"
            r" v_{k+1} = \beta_2 v_k + (1-\beta_2)\, \delta_k",
            r"n_{k+1} &= \beta_3 n_k + (1-\beta_3)\, \big(g_k + (1-\beta_2)\, \delta_k\big)^2",
            r"d_k &= \frac{\hat m_{k+1} + (1-\beta_2)\, \hat v_{k+1}}{\sqrt{\hat n_{k+1}}"
            r" + \varepsilon}, \quad \hat{\ } = \cdot / (1 - \beta^{k+1})",
        ),
        note="Adam plus a momentum of gradient differences: Nesterov's look-ahead, estimated.",
        lr=_lr(0.05),
        build=lambda h: _viewing(
            optax.scale_by_adan(h["b1"], h["b2"], h["b3"], h["eps"]),
            lambda state: {
                "m_hat": _unbias(state.m, h["b1"], state.t),
                "diff_hat": _unbias(state.v, h["b2"], state.t),
                "n_hat": _unbias(state.n, h["b3"], state.t),
            },
        ),
        show_state=_shown,
        hyper=(
            _beta("b1", "β₁", 0.98, "Decay of the gradient average m."),
            _beta("b2", "β₂", 0.92, "Decay of the average v of gradient differences."),
            _beta("b3", "β₃", 0.99, "Decay of the squared average n.", high=0.9999),
            _eps(1e-8),
        ),
        group="adaptive",
        reference="Xie et al., Adan: Adaptive Nesterov Momentum Algorithm, 2022 (TPAMI 2024)",
    ),
    OptimizerSpec(
        key="novograd",
        name="NovoGrad",
        latex=_rule(
            r"\nu_1 &= \|g_0\|^2, \quad \nu_{k+1} = \beta_2 \nu_k + (1-\beta_2)\, \|g_k\|^2",
            r"m_1 &= \frac{g_0}{\sqrt{\nu_1} + \varepsilon}, \quad"
            r" m_{k+1} = \beta_1 m_k + \frac{g_k}{\sqrt{\nu_{k+1}} + \varepsilon}",
            r"d_k &= m_{k+1}",
        ),
        note="Momentum on the gradient divided by its whole norm: one scale for all of w.",
        lr=_lr(0.01),
        build=lambda h: _viewing(
            optax.scale_by_novograd(h["b1"], h["b2"], h["eps"]),
            lambda state: {"momentum": state.mu, "nu": _pair(state.nu, state.mu)},
        ),
        show_state=_shown,
        hyper=(
            _beta("b1", "β₁", 0.9, "Decay of the momentum m."),
            _beta("b2", "β₂", 0.25, "Decay of the squared-norm average ν."),
            _eps(1e-8),
        ),
        group="adaptive",
        reference="Ginsburg et al., Stochastic Gradient Methods with Layer-wise Adaptive"
        " Moments, 2019",
    ),
    OptimizerSpec(
        key="ademamix",
        name="AdEMAMix",
        latex=_rule(
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad"
            r" \mu_{k+1} = \beta_3 \mu_k + (1-\beta_3)\, g_k, \quad m_0 = \mu_0 = v_0 = 0",
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2",
            r"d_k &= \frac{m_{k+1} / (1-\beta_1^{k+1}) + \alpha\, \mu_{k+1}}"
            r"{\sqrt{v_{k+1} / (1-\beta_2^{k+1})} + \varepsilon}",
        ),
        note="Adam plus a very slow second momentum μ weighted by α: remembers old gradients.",
        lr=_lr(0.05),
        build=lambda h: _viewing(
            contrib.scale_by_ademamix(h["b1"], h["b2"], h["b3"], h["alpha"], h["eps"]),
            lambda state: {
                "m_hat": _unbias(state.m1, h["b1"], state.count),
                "slow_momentum": state.m2,
                "v_hat": _unbias(state.nu, h["b2"], state.count),
            },
        ),
        show_state=_shown,
        hyper=(
            _B1,
            _B2,
            _beta("b3", "β₃", 0.9999, "Decay of the slow momentum μ.", high=0.99999),
            ParamSpec("alpha", "α", 5.0, 0.0, 20.0, "Weight of the slow momentum μ."),
            _eps(1e-8),
        ),
        group="adaptive",
        reference="Pagliardini et al., The AdEMAMix Optimizer: Better, Faster, Older, 2024",
    ),
    OptimizerSpec(
        key="adopt",
        name="ADOPT",
        latex=_rule(
            r"v_1 &= g_0^2, \quad m_1 = 0 \quad (d_0 = 0)",
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, \operatorname{clip}\!\Big("
            r"\frac{g_k}{\max(\sqrt{v_k}, \varepsilon)},\ \pm k^{1/4}\Big), \quad k \ge 1",
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad d_k = m_{k+1}",
        ),
        note="Adam that divides g_k by the v of earlier steps only, then averages: no bias.",
        lr=_lr(0.05),
        build=lambda h: _viewing(
            contrib.scale_by_adopt(h["b1"], h["b2"], h["eps"]),
            lambda state: {"momentum": state.mu, "mean_square": state.nu},
        ),
        show_state=_shown,
        hyper=(
            _B1,
            _beta("b2", "β₂", 0.9999, "Decay of the squared-gradient average v.", 0.99999),
            _eps(1e-6),
        ),
        group="adaptive",
        reference="Taniguchi et al., ADOPT: Modified Adam Can Converge with Any β₂, 2024",
    ),
    OptimizerSpec(
        key="madgrad",
        name="MADGRAD",
        latex=_rule(
            r"\lambda_k &= (\gamma + \varepsilon) \sqrt{k + 1}, \quad S_0 = V_0 = 0",
            r"S_{k+1} &= S_k + \lambda_k g_k, \quad V_{k+1} = V_k + \lambda_k g_k^2",
            r"z_{k+1} &= w_0 - \frac{S_{k+1}}{\sqrt[3]{V_{k+1}} + \varepsilon}, \quad"
            r" d_k = (1-\beta)\, (w_k - z_{k+1})",
        ),
        note="Dual averaging with a cube-root scale, then momentum by averaging with w_k."
        " γ is its rate, η₀ = 1.",
        lr=_unit_lr(),
        build=_madgrad,
        show_state=_shown,
        hyper=(
            _gamma(0.05),
            _beta("beta", "β", 0.9, "Weight of w_k when averaging with z."),
            _eps(1e-6),
        ),
        group="adaptive",
        reference="Defazio & Jelassi, A Momentumized, Adaptive, Dual Averaged Gradient"
        " Method, 2021",
    ),
    OptimizerSpec(
        key="rmsprop_centred",
        name="Centred RMSprop",
        latex=_rule(
            r"m_{k+1} &= \rho m_k + (1-\rho)\, g_k, \quad m_0 = v_0 = 0",
            r"v_{k+1} &= \rho v_k + (1-\rho)\, g_k^2",
            r"d_k &= \frac{g_k}{\sqrt{v_{k+1} - m_{k+1}^2 + \varepsilon}}",
        ),
        note="RMSprop that divides by the gradient's spread, not its size: bold where steady.",
        lr=_lr(1e-2),
        build=lambda h: _viewing(
            optax.scale_by_stddev(h["rho"], h["eps"]),
            lambda state: {"mean": state.mu, "mean_square": state.nu},
        ),
        show_state=_shown,
        hyper=(_beta("rho", "ρ", 0.9, "Decay of the running averages.", 0.9999), _eps(1e-8)),
        group="adaptive",
        reference="Graves, Generating Sequences With Recurrent Neural Networks, 2013",
    ),
    OptimizerSpec(
        key="signum",
        name="Signum",
        latex=_rule(
            r"m_{k+1} &= \beta m_k + (1-\beta)\, g_k, \quad m_0 = 0",
            r"d_k &= \operatorname{sign}(m_{k+1})",
        ),
        note="signSGD on a momentum: every coordinate moves by exactly η, the sign smoothed.",
        lr=_lr(1e-2),
        build=lambda h: _viewing(
            optax.chain(optax.ema(h["beta"], debias=False), optax.scale_by_sign()),
            lambda state: {"momentum": state[0].ema},
        ),
        show_state=_shown,
        hyper=(_beta("beta", "β", 0.9, "Decay of the momentum m."),),
        group="adaptive",
        reference="Bernstein et al., signSGD: Compressed Optimisation for Non-Convex"
        " Problems, ICML 2018",
    ),
    OptimizerSpec(
        key="dadapt",
        name="D-Adaptation (Adam)",
        latex=_rule(
            *_D_LINES,
            r"r_{k+1} &= \sqrt{\beta_2}\, r_k + (1-\sqrt{\beta_2})\, \lambda_k"
            r" \Big\langle g_k, \frac{s_k}{\sqrt{v_k} + \varepsilon} \Big\rangle, \quad"
            r" m_0 = v_0 = s_0 = r_0 = 0",
            r"s_{k+1} &= \sqrt{\beta_2}\, s_k + (1-\sqrt{\beta_2})\, \lambda_k g_k, \quad"
            r" m_{k+1} = \beta_1 m_k + (1-\beta_1)\, \lambda_k g_k",
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad"
            r" D_{k+1} = \max\Big(D_k, \frac{r_{k+1}}{(1-\sqrt{\beta_2}) \|s_{k+1}\|_1}\Big)",
            r"d_k &= \frac{m_{k+1}}{\sqrt{v_{k+1}} + \varepsilon}",
        ),
        note="Adam whose rate λ_k grows with a lower bound D_k on the distance to the"
        " minimum; its own rate is 1, η₀ = 1 keeps it.",
        lr=_unit_lr(),
        build=_dadapt,
        show_state=_shown,
        hyper=(*_ADAM_HYPER, _d0()),
        group="lr-free",
        reference="Defazio & Mishchenko, Learning-Rate-Free Learning by D-Adaptation, ICML 2023",
    ),
    OptimizerSpec(
        key="prodigy",
        name="Prodigy",
        latex=_rule(
            *_D_LINES,
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, D_k g_k, \quad"
            r" v_{k+1} = \beta_2 v_k + (1-\beta_2)\, D_k^2 g_k^2, \quad \beta_3 = \sqrt{\beta_2}",
            r"s_{k+1} &= \beta_3 s_k + \frac{\lambda_k D_k}{D_0} g_k, \quad"
            r" r_{k+1} = \beta_3 r_k + \frac{\lambda_k D_k}{D_0}"
            r" \langle g_k, w_0 - w_k \rangle, \quad m_0 = v_0 = s_0 = r_0 = 0",
            r"D_{k+1} &= \max\big(D_k, r_{k+1} / \|s_{k+1}\|_1\big), \quad"
            r" d_k = \frac{\lambda_k m_{k+1}}{\sqrt{v_{k+1}} + D_{k+1} \varepsilon}",
        ),
        note="D-Adaptation that measures the distance travelled, w_0 − w_k, so D grows"
        " faster; its own rate is 1, η₀ = 1 keeps it.",
        lr=_unit_lr(),
        build=_prodigy,
        show_state=_shown,
        hyper=(*_ADAM_HYPER, _d0()),
        group="lr-free",
        reference="Mishchenko & Defazio, Prodigy: An Expeditiously Adaptive Parameter-Free"
        " Learner, ICML 2024",
    ),
    OptimizerSpec(
        key="dog",
        name="DoG",
        latex=_rule(
            r"\bar r_k &= \max\big(\bar r_{k-1}, \|w_k - w_0\|\big), \quad"
            r" \bar r_{-1} = r_\epsilon (1 + \|w_0\|)",
            r"G_k &= \textstyle\sum_{j \le k} \|g_j\|^2, \quad"
            r" d_k = \frac{\bar r_k}{\sqrt{G_k + \varepsilon}}\, g_k",
        ),
        note="Gradient descent at the rate (farthest distance from w_0) / √(Σ‖g‖²): no rate"
        " to set; η₀ = 1 keeps it.",
        lr=_unit_lr(),
        build=_dog,
        show_state=_shown,
        hyper=(
            ParamSpec(
                "r_eps",
                "r_ε",
                1e-6,
                1e-12,
                1.0,
                "First distance, relative to 1 + ‖w_0‖: the size of the first step.",
                log=True,
            ),
            _eps(1e-8),
        ),
        group="lr-free",
        reference="Ivgi, Hinder & Carmon, DoG is SGD's Best Friend, ICML 2023",
    ),
    OptimizerSpec(
        key="dowg",
        name="DoWG",
        latex=_rule(
            r"\bar r^2_k &= \max\big(\bar r^2_{k-1}, \|w_k - w_0\|^2\big), \quad"
            r" \bar r^2_{-1} = r_0^2",
            r"V_k &= V_{k-1} + \bar r^2_k \|g_k\|^2, \quad V_{-1} = 0, \quad"
            r" d_k = \frac{\bar r^2_k}{\sqrt{V_k} + \varepsilon}\, g_k",
        ),
        note="DoG with the gradients weighted by the distance reached: later ones count"
        " more; η₀ = 1 keeps it.",
        lr=_unit_lr(),
        build=_dowg,
        show_state=_shown,
        hyper=(
            ParamSpec(
                "r0_sq",
                "r₀²",
                1e-4,
                1e-12,
                1.0,
                "First squared distance: the size of the first step.",
                log=True,
            ),
            _eps(1e-4),
        ),
        group="lr-free",
        reference="Khaled, Mishchenko & Jin, DoWG Unleashed: An Efficient Universal"
        " Parameter-Free Gradient Descent Method, NeurIPS 2023",
    ),
    OptimizerSpec(
        key="cocob",
        name="COCOB-Backprop",
        latex=_rule(
            r"L_{k+1} &= \max(L_k, |g_k|), \quad G_{k+1} = G_k + |g_k|, \quad"
            r" L_0 = \varepsilon, \quad G_0 = R_0 = \theta_0 = 0",
            r"R_{k+1} &= \max\big(R_k - g_k (w_k - w_0),\ 0\big), \quad"
            r" \theta_{k+1} = \theta_k - g_k",
            r"d_k &= w_k - w_0 - \frac{\theta_{k+1} (L_{k+1} + R_{k+1})}"
            r"{L_{k+1} \max(G_{k+1} + L_{k+1},\ \alpha L_{k+1})}",
        ),
        note="Bets a fraction of its winnings R on each coordinate, coin-betting style: no"
        " rate; η₀ = 1 keeps it.",
        lr=_unit_lr(),
        build=_cocob,
        show_state=_shown,
        hyper=(
            ParamSpec(
                "alpha", "α", 100.0, 1.0, 1000.0, "Caps the early bets: larger is more careful."
            ),
            _eps(1e-8),
        ),
        group="lr-free",
        reference="Orabona & Tommasi, Training Deep Networks without Learning Rates Through"
        " Coin Betting, NeurIPS 2017",
    ),
    OptimizerSpec(
        key="mechanic_sgd",
        name="Mechanic (SGD)",
        latex=_rule(r"u_k &= g_k", *_MECHANIC_LINES),
        note="Learns one scale S for SGD's summed steps from w_0 by online betting; η₀ = 1"
        " keeps it.",
        lr=_unit_lr(),
        build=lambda h: _mechanic(optax.sgd(1.0), h),
        show_state=_shown,
        hyper=_MECHANIC_HYPER,
        group="lr-free",
        reference="Cutkosky, Defazio & Mehta, Mechanic: A Learning Rate Tuner, NeurIPS 2023",
    ),
    OptimizerSpec(
        key="mechanic_adam",
        name="Mechanic (Adam)",
        latex=_rule(
            r"u_k &= \hat m_{k+1} / (\sqrt{\hat v_{k+1}} + 10^{-8}) \ \text{(Adam's } d_k)",
            *_MECHANIC_LINES,
        ),
        note="Learns one scale S for Adam's summed steps from w_0 by online betting; η₀ = 1"
        " keeps it.",
        lr=_unit_lr(),
        build=lambda h: _mechanic(optax.adam(1.0, h["b1"], h["b2"]), h),
        show_state=_shown,
        hyper=(_B1, _B2, *_MECHANIC_HYPER),
        group="lr-free",
        reference="Cutkosky, Defazio & Mehta, Mechanic: A Learning Rate Tuner, NeurIPS 2023",
    ),
    OptimizerSpec(
        key="schedule_free_sgd",
        name="Schedule-Free SGD",
        latex=_rule(r"u_k &= g_k", *_SCHEDULE_FREE_LINES),
        note=_SCHEDULE_FREE_NOTE,
        lr=_unit_lr(),
        build=lambda h: _schedule_free(
            contrib.schedule_free_sgd(h["gamma"], b1=h["beta"]), h["beta"]
        ),
        show_state=_shown,
        hyper=(_gamma(0.05), _beta("beta", "β", 0.9, "Weight of x in the gradient point.")),
        group="lr-free",
        reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024",
    ),
    OptimizerSpec(
        key="schedule_free_adamw",
        name="Schedule-Free AdamW",
        latex=_rule(
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad"
            r" u_k = \frac{g_k}{\sqrt{v_{k+1} / (1-\beta_2^{k+1})} + \varepsilon}",
            *_SCHEDULE_FREE_LINES,
        ),
        note=_SCHEDULE_FREE_NOTE.replace("plain SGD", "Adam-scaled"),
        lr=_unit_lr(),
        build=lambda h: _schedule_free(
            contrib.schedule_free_adamw(h["gamma"], b1=h["b1"], b2=h["b2"], eps=h["eps"]),
            h["b1"],
        ),
        show_state=_shown,
        hyper=(
            _gamma(0.05),
            _beta("b1", "β", 0.9, "Weight of x in the gradient point."),
            _B2,
            _eps(1e-8),
        ),
        group="lr-free",
        reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024",
    ),
    OptimizerSpec(
        key="lookahead",
        name="Lookahead (Adam)",
        latex=_rule(
            r"u_k &= \hat m_{k+1} / (\sqrt{\hat v_{k+1}} + \varepsilon)"
            r" \ \text{(Adam's } d_k), \quad o_0 = 0",
            r"d_k &= \begin{cases} \alpha (o_k + u_k) - o_k & (k+1) \bmod K = 0"
            r" \quad (o_{k+1} = 0) \\ u_k & \text{otherwise} \quad (o_{k+1} = o_k + u_k)"
            r" \end{cases}",
        ),
        note="Adam's fast weights run K steps ahead, then the slow weights move α of the way"
        " there and both restart from them.",
        lr=_lr(0.05),
        build=lambda h: _viewing(
            lookahead(
                optax.scale_by_adam(h["b1"], h["b2"], h["eps"]), h["sync_period"], h["alpha"]
            ),
            lambda state: {"offset": state.offset},
        ),
        show_state=_shown,
        hyper=(
            *_ADAM_HYPER,
            ParamSpec(
                "sync_period", "K", 5.0, 1.0, 100.0, "Fast steps between syncs.", integer=True
            ),
            ParamSpec("alpha", "α", 0.5, 0.0, 1.0, "Fraction of the way the slow weights move."),
        ),
        group="wrappers",
        reference="Zhang et al., Lookahead Optimizer: k steps forward, 1 step back, NeurIPS 2019",
    ),
)
