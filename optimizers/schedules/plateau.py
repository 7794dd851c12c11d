"""ReduceLROnPlateau as a state machine the engine threads through its loop (see
`optimizers.schedules`): the factor s_k on η and the counters that decide when to cut it."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers.specs import Scalars


class PlateauState(NamedTuple):
    """ReduceLROnPlateau's memory, all float64 scalars: the factor s_k on η and its counters."""

    scale: jax.Array
    best: jax.Array
    bad_steps: jax.Array
    cooldown_left: jax.Array


def plateau_init() -> PlateauState:
    """Factor 1, no best loss yet (+∞), nothing counted."""
    zero = jnp.zeros((), dtype=float)
    return PlateauState(zero + 1, zero + jnp.inf, zero, zero)


def plateau_update(state: PlateauState, loss: jax.Array, p: Scalars) -> PlateauState:
    """PyTorch's ReduceLROnPlateau ('min' mode, relative threshold) after observing `loss`.

    An improvement is loss < best − τ|best|; it resets the bad-step count, anything else adds
    one. During cooldown the count is held at 0. Once the count exceeds the patience P, the
    factor becomes max(φ s, s_min), the count resets and the cooldown restarts at C.
    """
    finite = jnp.isfinite(state.best)
    bar = jnp.where(finite, state.best - p["threshold"] * jnp.abs(state.best), state.best)
    improved = loss < bar
    in_cooldown = state.cooldown_left > 0
    bad = jnp.where(improved | in_cooldown, 0.0, state.bad_steps + 1)
    cut = bad > p["patience"]
    return PlateauState(
        scale=jnp.where(cut, jnp.maximum(state.scale * p["factor"], p["min_scale"]), state.scale),
        best=jnp.where(improved, loss, state.best),
        bad_steps=jnp.where(cut, 0.0, bad),
        cooldown_left=jnp.where(
            cut, p["cooldown"], jnp.where(in_cooldown, state.cooldown_left - 1, 0.0)
        ),
    )
