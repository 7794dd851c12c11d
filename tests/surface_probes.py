"""Probes of the registry's surfaces shared by the surface tests: every parameter case, batched
f, ∇f and ∇²f compiled once per surface, a grid over the box, and rings around stationary points."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from surfaces import SURFACES, CriticalPoint

GRID = 201  # every other node is the 101 × 101 grid
BATCH = GRID * GRID  # every batched (f, ∇f) call has this many points, so each compiles once
PROBE = 512  # and every batched (f, ∇f, ∇²f) call this many
RING = 16  # directions probed around each stationary point, besides the Hessian's eigenvectors
RADIUS = 1e-4
# Each test program runs a handful of times: XLA's optimisation passes would only double the time.
FAST_COMPILE = {"xla_backend_optimization_level": 0}

Items = tuple[tuple[str, float], ...]


def cases() -> Iterator[tuple[str, Items, str]]:
    """(key, parameter items, id): the defaults, then each parameter at its low and high end."""
    for key, surface in SURFACES.items():
        default = surface.resolve()
        seen: list[dict[str, float]] = []
        for spec in (None, *surface.params):
            ends = (None,) if spec is None else (spec.low, spec.high)
            for end in ends:
                values = default if spec is None else surface.resolve({spec.name: end})
                if values in seen:
                    continue
                seen.append(values)
                changed = "".join(f"-{k}={v:g}" for k, v in values.items() if v != default[k])
                yield key, tuple(values.items()), key + changed


def case_items(key: str, values: dict[str, float]) -> Items:
    return tuple(SURFACES[key].resolve(values).items())


def scalars(items: Items) -> dict[str, jax.Array]:
    return {name: jnp.asarray(v, jnp.float64) for name, v in items}


@functools.cache
def _compiled(key: str):
    """Batched w ↦ (f, ∇f) and w ↦ (f, ∇f, ∇²f) of one surface, parameters traced."""
    fn = SURFACES[key].fn

    def grad_and_more(w, params):
        f, g = jax.value_and_grad(fn)(w, params)
        return g, (f, g)

    def local(w, params):
        H, (f, g) = jax.jacfwd(grad_and_more, has_aux=True)(w, params)
        return f, g, H

    def batched(f):
        return jax.jit(jax.vmap(f, in_axes=(0, None)), compiler_options=FAST_COMPILE)

    return batched(jax.value_and_grad(fn)), batched(local)


def _padded(points: np.ndarray, size: int) -> tuple[jax.Array, int]:
    """The points as a (size, 2) array, the first repeated to fill it, and how many there are."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    n = len(points)
    assert n <= size
    return jnp.asarray(np.concatenate([points, np.repeat(points[:1], size - n, 0)])), n


def values_and_grads(key: str, items: Items, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f and ∇f at each point."""
    ws, n = _padded(points, BATCH)
    f, g = _compiled(key)[0](ws, scalars(items))
    return np.asarray(f)[:n], np.asarray(g)[:n]


def local_derivatives(key: str, items: Items, points: np.ndarray) -> tuple[np.ndarray, ...]:
    """f, ∇f and ∇²f at each point."""
    ws, n = _padded(points, PROBE)
    return tuple(np.asarray(a)[:n] for a in _compiled(key)[1](ws, scalars(items)))


def grid_points(box: tuple[float, float, float, float], n: int = GRID) -> np.ndarray:
    x_min, x_max, y_min, y_max = box
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, n), np.linspace(y_min, y_max, n))
    return np.column_stack([xs.ravel(), ys.ravel()])


@functools.cache
def grid_values(key: str, items: Items) -> tuple[np.ndarray, np.ndarray]:
    """f and ∇f on a GRID × GRID grid over the box."""
    return values_and_grads(key, items, grid_points(SURFACES[key].box))


class Probe(NamedTuple):
    points: tuple[CriticalPoint, ...]
    f: np.ndarray
    grad: np.ndarray
    hessian: np.ndarray
    around: np.ndarray  # f on a small ring and along ± each eigenvector of ∇²f, per point


@functools.cache
def probe_points(key: str, items: Items) -> Probe:
    points = SURFACES[key].critical_points(dict(items))
    centres = np.array([(p.x, p.y) for p in points])
    f, g, H = local_derivatives(key, items, centres)
    angles = np.linspace(0, 2 * np.pi, RING, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)])
    eigenvectors = np.linalg.eigh(H)[1].transpose(0, 2, 1)
    directions = np.concatenate(
        [np.broadcast_to(ring, (len(points), RING, 2)), eigenvectors, -eigenvectors], axis=1
    )
    around, *_ = local_derivatives(key, items, centres[:, None, :] + RADIUS * directions)
    return Probe(points, f, g, H, around.reshape(len(points), -1))


def inside_box(box: tuple[float, float, float, float], x: float, y: float) -> bool:
    x_min, x_max, y_min, y_max = box
    return x_min <= x <= x_max and y_min <= y <= y_max
