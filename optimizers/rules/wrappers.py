"""Wrappers: they change how another rule's steps are taken (Lookahead) or where its gradient is
evaluated (SAM)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from common.params import ParamSpec
from optimizers.rules.parts import adam_hyper, lr, rule
from optimizers.rules.views import ratio, showing, shown, step_sized, step_views
from optimizers.specs import OptimizerSpec


class LookaheadState(NamedTuple):
    """The inner rule's state, the steps taken and the fast weights' unit-rate lead o_k."""

    inner: optax.OptState
    steps: jax.Array
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
        steps = state.steps + 1
        sync = jnp.mod(steps, sync_period) == 0
        direction = jnp.where(sync, slow_step * lead - state.offset, direction)
        return direction, LookaheadState(inner, steps, jnp.where(sync, 0.0, lead))

    return optax.GradientTransformation(init, update)


def sam_step(radius: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Sharpness-aware minimisation: d_k = ∇L(w̃_k) at the adversarial point
    w̃_k = w_k + ρ g_k / ‖g_k‖ (w_k where g_k = 0). Shows w̃_k."""

    def update(g, inner, params, *, value_fn, rate, **extra):
        norm = jnp.linalg.norm(g)
        adversary = params + radius * ratio(g, norm)
        shown = {"adversarial_point": adversary, **step_views(rate)}
        return jax.grad(value_fn)(adversary), inner, shown

    return step_sized(update, lambda params: optax.EmptyState(), ("adversarial_point", "step_size"))


# In picker order; `optimizers.rules` interleaves them with the other modules' rows.
WRAPPER_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="lookahead",
        name="Lookahead (Adam)",
        latex=rule(
            r"u_k &= \hat m_{k+1} / (\sqrt{\hat v_{k+1}} + \varepsilon)"
            r" \ \text{(Adam's } d_k), \quad o_0 = 0",
            r"d_k &= \begin{cases} \alpha (o_k + u_k) - o_k & (k+1) \bmod K = 0"
            r" \quad (o_{k+1} = 0) \\ u_k & \text{otherwise} \quad (o_{k+1} = o_k + u_k)"
            r" \end{cases}",
        ),
        note="Adam's fast weights run K steps ahead, then the slow weights move α of the way"
        " there and both restart from them.",
        lr=lr(0.05),
        build=lambda h: showing(
            lookahead(
                optax.scale_by_adam(h["b1"], h["b2"], h["eps"]), h["sync_period"], h["alpha"]
            ),
            lambda state: {"offset": state.offset},
        ),
        show_state=shown,
        hyper=(
            *adam_hyper(),
            ParamSpec(
                "sync_period", "K", 5.0, 1.0, 100.0, "Fast steps between syncs.", integer=True
            ),
            ParamSpec("alpha", "α", 0.5, 0.0, 1.0, "Fraction of the way the slow weights move."),
        ),
        group="wrappers",
        reference="Zhang et al., Lookahead Optimizer: k steps forward, 1 step back, NeurIPS 2019",
    ),
    OptimizerSpec(
        key="sam",
        name="SAM (sharpness-aware GD)",
        group="wrappers",
        reference=(
            "P. Foret, A. Kleiner, H. Mobahi, B. Neyshabur, Sharpness-aware minimization for"
            " efficiently improving generalization, 2021"
        ),
        latex=rule(
            r"\tilde w_k &= w_k + \rho\, g_k / \lVert g_k\rVert \quad (w_k \text{ where } g_k = 0)",
            r"d_k &= \nabla L(\tilde w_k)",
        ),
        note=(
            "Steps with the gradient at the worst nearby point w̃ (drawn on the contour): it"
            " prefers wide valleys to sharp ones."
        ),
        lr=lr(1e-2),
        build=lambda h: sam_step(h["radius"]),
        show_state=shown,
        hyper=(ParamSpec("radius", "ρ", 0.05, 0.0, 5.0, "Distance to the adversarial point w̃."),),
        extra_args=True,
    ),
)
