"""Linear warmup in front of any schedule: `with_warmup(lambda j: spec.fn(j, η₀, p), k, W, α)`."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.params import ParamSpec
from optimizers.schedules.parts import as_step, count, fraction

WARMUP_REFERENCE = (
    "P. Goyal et al., Accurate, large minibatch SGD: training ImageNet in 1 hour, 2017"
)

WARMUP_PARAMS: tuple[ParamSpec, ...] = (
    count("warmup_steps", "W", 0, "Steps of linear warmup before the schedule; 0 is off.", 0),
    fraction(
        "warmup_start", "α", 0.0, "Rate at step 0 as a fraction of the schedule's first rate."
    ),
)


def with_warmup(
    value_fn: Callable[[jax.Array], jax.Array],
    k: jax.Array,
    warmup_steps: jax.Array,
    start_factor: jax.Array,
) -> jax.Array:
    """Linear warmup in front of the schedule k ↦ value_fn(k), with peak η̂ = value_fn(0).

    η_k = η̂ (α + (1 − α) k/W) for k < W, then value_fn(k − W): the schedule starts at W.
    W = 0 returns value_fn(k) exactly.
    """
    k = as_step(k)
    ramp = value_fn(jnp.zeros_like(k)) * (
        start_factor + (1 - start_factor) * k / jnp.maximum(warmup_steps, 1)
    )
    return jnp.where(k < warmup_steps, ramp, value_fn(jnp.maximum(k - warmup_steps, 0)))
