"""What the rules keep for `show_state`, and the frame of the rules that take the engine's extra
arguments. Every shown entry is a 2-vector (a scalar is shown as two equal entries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers.specs import Scalars

View = Callable[[optax.OptState], dict[str, jax.Array]]
# (optax state after the step, w_{k+1} at unit rate) → the views show_state reads
PointView = Callable[[optax.OptState, jax.Array], dict[str, jax.Array]]


class ShownState(NamedTuple):
    """An optax state plus the views `show_state` reads, recomputed after every step."""

    inner: optax.OptState
    shown: dict[str, jax.Array]


def shown(state: ShownState) -> dict[str, jax.Array]:
    """The `show_state` of every rule built with `stepping`, `showing` or `step_sized`."""
    return state.shown


def stepping(
    tx: optax.GradientTransformation, view: PointView, flip: bool
) -> optax.GradientTransformation:
    """`tx` as a direction d_k (its update negated where `flip`: optax's step to add), keeping
    `view(state, w_k − d_k)` for show_state; the view may read the point the step reaches.
    Before the first step every view is zero (a bias correction would be 0/0)."""

    def init(params: jax.Array) -> ShownState:
        inner = tx.init(params)
        return ShownState(inner, jax.tree.map(jnp.zeros_like, view(inner, params)))

    def update(
        updates: jax.Array, state: ShownState, params: jax.Array | None = None, **extra: object
    ) -> tuple[jax.Array, ShownState]:
        assert params is not None, "these rules read w_k"
        step, inner = tx.update(updates, state.inner, params)
        direction = -step if flip else step
        return direction, ShownState(inner, view(inner, params - direction))

    return optax.GradientTransformation(init, update)


def showing(tx: optax.GradientTransformation, view: View) -> optax.GradientTransformation:
    """`tx` (a direction already) with `view(state)` kept for show_state: for views that need
    hyperparameters (β₁, β₂), which optax's state does not hold."""
    return stepping(tx, lambda state, point: view(state), flip=False)


def unbias(moment: jax.Array, beta: jax.Array, count: jax.Array) -> jax.Array:
    """Bias correction of an EMA started at zero: moment / (1 − βᵗ)."""
    return moment / (1 - beta**count)


def adam_view(h: Scalars, second: str = "v_hat") -> View:
    """{m̂, v̂} of a state with optax's Adam fields (count, mu, nu), each bias-corrected;
    `second` names v̂ (AdaBelief's is ŝ)."""
    return lambda state: {
        "m_hat": unbias(state.mu, h["b1"], state.count),
        second: unbias(state.nu, h["b2"], state.count),
    }


def pair(value: jax.Array) -> jax.Array:
    """A scalar shown as a 2-vector (the same number for x and y), as `show_state` requires."""
    return jnp.full(2, value, dtype=jnp.float64)


def ratio(a: jax.Array, b: jax.Array) -> jax.Array:
    """a / b, and 0 where b = 0."""
    return jnp.where(b != 0, a / jnp.where(b != 0, b, 1.0), 0.0)


def step_views(step_size: jax.Array, evaluations: jax.Array | None = None) -> dict[str, jax.Array]:
    """The step size η_k·(the rule's own factor) and, for a line search, its evaluations of f."""
    views = {"step_size": pair(step_size)}
    return views if evaluations is None else {**views, "evaluations": pair(evaluations)}


def step_sized(
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
        direction, inner, views = update(updates, state.inner, params, **extra)
        return direction, ShownState(inner, views)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
