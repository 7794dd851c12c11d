"""Mini-batch sampling: which data points step k's gradient sees, seeded and without replacement.

On a surface with data the objective is L(w) = (1/n) Σᵢ ℓ(w; xᵢ, yᵢ). With batch size b, step k
descends Σᵢ weightsᵢ ℓ(w; xᵢ, yᵢ) + (λ₂/2)‖w‖², the weights 1/b on the b points of batch B_k
and 0 elsewhere (`draw_batch_weights`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from common.cache import compiled_cache
from common.runtime import require_x64
from surfaces import Surface
from surfaces.base import Samples

Scalars = Mapping[str, jax.Array]


def draws_mini_batches(surface: Surface, batch_size: np.ndarray | float) -> bool:
    """Whether any of these batch sizes draws a true mini-batch on `surface` (1 ≤ b < n)."""
    if surface.samples is None:
        return False
    sizes = np.asarray(batch_size)
    return bool(np.any((sizes >= 1) & (sizes < surface.samples.size)))


def _seed_key(seed: jax.Array) -> jax.Array:
    return jax.random.key(jnp.asarray(seed).astype(jnp.uint32))


def batch_order(size: int, seed: jax.Array) -> jax.Array:
    """σ: a random permutation of the `size` data points drawn once per run from the seed."""
    return jax.random.permutation(_seed_key(seed), size)


@functools.cache
def _units(size: int) -> np.ndarray:
    """The multipliers a with gcd(a, size) = 1: a ↦ a·j mod size permutes 0 … size − 1."""
    return np.array([a for a in range(1, max(size, 2)) if math.gcd(a, size) == 1])


def draw_batch_weights(
    order: jax.Array, size: int, batch_size: jax.Array, seed: jax.Array, step: jax.Array
) -> jax.Array:
    """The weights of step k's mini-batch (traceable): 1/b on the b points i whose position
    (a_k σ(i) + c_k) mod n is below b, 0 elsewhere, with a_k drawn uniformly from the units
    mod n and c_k uniformly from 0 … n − 1 (keyed by the seed and k); σ = `order`.

    For each a_k the positions are a permutation of 0 … n − 1, so the batch holds exactly b
    distinct points (drawn without replacement); c_k uniform puts every point in it with
    probability exactly b/n, so Σᵢ weightsᵢ ℓᵢ is an unbiased estimate of (1/n) Σᵢ ℓᵢ. A sort
    per step would cost a hundred times a step; this costs a multiply per point. b =
    round(batch_size); the full batch where b < 1 or b ≥ n.
    """
    b = jnp.round(jnp.asarray(batch_size, dtype=jnp.float64))
    count = jnp.where((b >= 1) & (b < size), b, size)
    k_multiplier, k_shift = jax.random.split(jax.random.fold_in(_seed_key(seed), step))
    units = jnp.asarray(_units(size), dtype=jnp.int64)
    multiplier = units[jax.random.randint(k_multiplier, (), 0, len(units))]
    shift = jax.random.randint(k_shift, (), 0, size, dtype=jnp.int64)
    position = (multiplier * order.astype(jnp.int64) + shift) % size
    return jnp.where(position < count, 1.0 / count, 0.0)


def batch_weights(size: int, batch_size: float, seed: float, step: int) -> np.ndarray:
    """Step `step`'s mini-batch weights over `size` points, as the engine draws them.

    Raises:
        ValueError: where JAX is not in float64 (see `common.runtime.configure_jax`).

    >>> weights = batch_weights(10, 3, seed=0, step=0)
    >>> int((weights > 0).sum()), float(weights.sum())
    (3, 1.0)
    """
    require_x64()
    return np.asarray(
        _batch_weights_fn(size)(np.float64(batch_size), np.float64(seed), np.int64(step))
    )


@functools.cache
def _batch_weights_fn(size: int) -> Callable[..., jax.Array]:
    def weights(batch_size: jax.Array, seed: jax.Array, step: jax.Array) -> jax.Array:
        return draw_batch_weights(batch_order(size, seed), size, batch_size, seed, step)

    return jax.jit(weights)


def batch_loss(samples: Samples, w: jax.Array, weights: jax.Array, params: Scalars) -> jax.Array:
    """Σᵢ weightsᵢ ℓ(w; xᵢ, yᵢ): the mean loss over the batch the weights select."""
    x, y = samples.data(params)
    return jnp.sum(weights * samples.loss(w, x, y))


def minibatch_gradient(
    surface: Surface,
    w: Sequence[float],
    batch_size: float,
    seed: float,
    step: int,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """∇ of the mean loss over step `step`'s mini-batch at `w`, as the engine computes it (no
    L2, noise or clipping).

    Raises:
        ValueError: where the surface carries no data, or JAX is not in float64.
    """
    require_x64()
    if surface.samples is None:
        raise ValueError(f"surface {surface.key!r} has no data to draw mini-batches from")
    values = {k: np.float64(v) for k, v in surface.resolve(params).items()}
    return np.asarray(
        _minibatch_gradient_fn(surface)(
            jnp.asarray(w, dtype=jnp.float64),
            np.float64(batch_size),
            np.float64(seed),
            np.int64(step),
            values,
        )
    )


@compiled_cache
def _minibatch_gradient_fn(surface: Surface) -> Callable[..., jax.Array]:
    samples = surface.samples
    assert samples is not None

    def gradient(
        w: jax.Array, batch_size: jax.Array, seed: jax.Array, step: jax.Array, params: Scalars
    ) -> jax.Array:
        order = batch_order(samples.size, seed)
        weights = draw_batch_weights(order, samples.size, batch_size, seed, step)
        return jax.grad(batch_loss, argnums=1)(samples, w, weights, params)

    return jax.jit(gradient)
