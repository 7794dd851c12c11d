"""Rules that choose their step size at every iteration, from the loss or its history: Polyak's
step, Armijo's line search, hypergradient descent and MoMo. Each takes the engine's extra
arguments (value, grad, value_fn, rate η_k, floor f*) and shows the step size it used."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from common.params import ParamSpec
from optimizers.rules.parts import ADAM_LINES, MOMENTUM, adam_hyper, lr, rule
from optimizers.rules.views import View, adam_view, ratio, shown, step_sized, step_views
from optimizers.specs import OptimizerSpec


def polyak_step(offset: jax.Array, max_step: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Polyak's step (optax.scale_by_polyak): d_k = γ_k g_k with
    γ_k = min((L(w_k) − f* − δ) / ‖g_k‖², γ_max), 0 where ‖g_k‖² is below machine ε."""

    def update(g, inner, params, *, value, rate, floor, **extra):
        polyak = optax.scale_by_polyak(f_min=floor + offset, max_learning_rate=max_step)
        direction, inner = polyak.update(g, inner, params, value=value)
        gamma = ratio(direction @ g, g @ g)
        return direction, inner, step_views(rate * gamma)

    return step_sized(update, optax.scale_by_polyak().init, ("step_size",))


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
        return t * g, inner, step_views(rate * t, inner.info.num_linesearch_steps)

    return step_sized(update, search.init, ("step_size", "evaluations"))


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
        shown = {**view(inner), **step_views(rate * multiplier)}
        return multiplier * direction, HypergradientState(inner, multiplier, direction), shown

    return step_sized(update, init, (*names, "step_size"))


def momo_step(beta: jax.Array, offset: jax.Array) -> optax.GradientTransformationExtraArgs:
    """optax.contrib.momo at rate η_k and lower bound f* + δ: d_k = (τ_k / η_k) d̄_k with d̄_k the
    momentum average of g, τ_k = min(η_k, (f̄_k − f* − δ − γ_k + ⟨d̄_k, w_k⟩)₊ / ‖d̄_k‖²)."""
    init = optax.contrib.momo(beta=beta).init

    def update(g, inner, params, *, value, rate, floor, **extra):
        momo = optax.contrib.momo(learning_rate=rate, beta=beta)
        # The bound lives in the state (set by init); here it follows f* + δ, both traced.
        step, inner = momo.update(g, inner._replace(lb=floor + offset), params, value=value)
        tau = ratio(-(step @ inner.exp_avg), inner.exp_avg @ inner.exp_avg)
        return ratio(-step, rate), inner, {"momentum": inner.exp_avg, **step_views(tau)}

    return step_sized(update, init, ("momentum", "step_size"))


FLOOR_OFFSET = ParamSpec(
    "offset",
    "δ",
    0.0,
    -100.0,
    100.0,
    "Error in the floor the rule assumes, f* + δ: δ > 0 stops short of the minimum, δ < 0"
    " overshoots it.",
)
HYPER_RATE = ParamSpec(
    "beta", "β", 1e-3, 1e-8, 1.0, "Hyper-learning rate: how fast α follows its gradient.", log=True
)
BAYDIN = (
    "A. G. Baydin, R. Cornish, D. Martínez Rubio, M. Schmidt, F. Wood, Online learning rate"
    " adaptation with hypergradient descent, 2018"
)


# In picker order; `optimizers.rules` interleaves them with the other modules' rows.
STEP_SIZE_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="polyak",
        name="Polyak's step",
        group="line-search",
        reference="B. T. Polyak, Minimization of unsmooth functionals, 1969",
        latex=rule(
            r"\gamma_k &= \min\Big(\frac{L(w_k) - f^\star - \delta}{\lVert g_k\rVert^2},"
            r"\ \gamma_{\max}\Big) \quad (0 \text{ where } \lVert g_k\rVert^2"
            r" \le \epsilon_{\text{mach}})",
            r"d_k &= \gamma_k\, g_k",
        ),
        note=(
            "Steps by how far the loss is above its floor f* (the surface's minimum, 0 where it"
            " has none; with L2 the floor is the surface's): δ ≠ 0 is a wrong floor."
        ),
        lr=lr(1.0, low=1e-3, high=10.0),
        build=lambda h: polyak_step(h["offset"], h["max_step"]),
        show_state=shown,
        hyper=(
            FLOOR_OFFSET,
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
        latex=rule(
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
        lr=lr(1.0, low=1e-3, high=1e3),
        build=lambda h: armijo_step(h["c"], h["shrink"], h["grow"]),
        show_state=shown,
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
        key="hd_gd",
        name="Hypergradient descent (GD)",
        group="line-search",
        reference=BAYDIN,
        latex=rule(
            r"\alpha_k &= \alpha_{k-1} + \beta\, g_k^\top g_{k-1}, \quad \alpha_{-1} = 1,"
            r" \ g_{-1} = 0",
            r"d_k &= \alpha_k\, g_k",
        ),
        note=(
            "Learns its own rate as it goes: the rate grows while successive gradients agree"
            " and shrinks when they turn back."
        ),
        lr=lr(1e-2),
        build=lambda h: hypergradient(optax.identity(), h["beta"]),
        show_state=shown,
        hyper=(HYPER_RATE,),
        extra_args=True,
    ),
    OptimizerSpec(
        key="hd_adam",
        name="Hypergradient Adam",
        group="line-search",
        reference=BAYDIN,
        latex=rule(
            *ADAM_LINES,
            r"u_k &= \frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \varepsilon}",
            r"\alpha_k &= \alpha_{k-1} + \beta\, g_k^\top u_{k-1}, \quad \alpha_{-1} = 1,"
            r" \ u_{-1} = 0",
            r"d_k &= \alpha_k\, u_k",
        ),
        note="Adam whose rate follows its hypergradient: it rises while steps keep helping.",
        lr=lr(0.05),
        build=lambda h: hypergradient(
            optax.scale_by_adam(h["b1"], h["b2"], h["eps"]),
            h["beta"],
            adam_view(h),
            ("m_hat", "v_hat"),
        ),
        show_state=shown,
        hyper=(*adam_hyper(), HYPER_RATE),
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
        latex=rule(
            r"\bar d_k &= \beta \bar d_{k-1} + (1-\beta)\, g_k, \quad \bar f_k = \beta \bar f_{k-1}"
            r" + (1-\beta) L(w_k), \quad \bar\gamma_k = \beta \bar\gamma_{k-1} + (1-\beta)\,"
            r" g_k^\top w_k \ (\beta = 0 \text{ at } k = 0)",
            r"\tau_k &= \min\Big(\eta_k,\ \frac{(\bar f_k - f^\star - \delta - \bar\gamma_k"
            r" + \bar d_k^\top w_k)_+}{\lVert \bar d_k\rVert^2}\Big)",
            r"d_k &= (\tau_k / \eta_k)\, \bar d_k",
        ),
        note="Momentum whose step is a Polyak-like model of the loss, capped at η_k: needs f*.",
        lr=lr(1.0, low=1e-3, high=10.0),
        build=lambda h: momo_step(h["beta"], h["offset"]),
        show_state=shown,
        hyper=(MOMENTUM, FLOOR_OFFSET),
        extra_args=True,
    ),
)
