"""Surfaces sampled on grids for plotting: values, the descent field and the log colouring.

Everything here is numpy out, float64, and free of any plotting library; the figures only lay out
what these functions compute. One jitted, vmapped function per surface (and per grid size) serves
every parameter value: parameters travel as float64 scalars, so moving a surface slider never
recompiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.cache import compiled_cache
from surfaces.base import Surface

GRID_POINTS = 160
FIELD_POINTS = 21
LOG_MIN_DECADES = 2.0  # log colouring once max z − f_min ≥ 100 × (its 5th percentile)
LOG_REFERENCE_PERCENTILE = 5.0
LOG_FLOOR = 1e-5  # ε as a fraction of the span max f − f_min: the colours cover ~5 decades
ARROW_DECADES = 3.0  # arrow lengths grow with log10 ‖∇f‖ over the top 3 decades of the field
ARROW_MIN_FRACTION = 0.15  # the shortest drawn arrow, as a fraction of the longest

Params = Mapping[str, float] | None
GridFn = Callable[[np.ndarray, np.ndarray, dict[str, np.float64]], jax.Array]


class Grid(NamedTuple):
    """f sampled on a rectangular grid: z[i, j] = f(x[j], y[i])."""

    x: np.ndarray  # (nx,)
    y: np.ndarray  # (ny,)
    z: np.ndarray  # (ny, nx)


class LogLevels(NamedTuple):
    """Colour values log10(f − f_min + ε), colorbar ticks labelled with real f values, and whether
    the surface spans enough decades for log colouring to be worth it."""

    color: np.ndarray
    ticks: list[tuple[float, str]]
    use_log: bool
    f_min: float
    epsilon: float


class Field(NamedTuple):
    """−∇f on a grid: arrows from (X, Y) along (U, V); every array is (n, n)."""

    X: np.ndarray
    Y: np.ndarray
    U: np.ndarray
    V: np.ndarray


def _traced(surface: Surface, params: Params) -> dict[str, np.float64]:
    """The resolved parameters as float64 scalars: one dtype, never a weak type, no recompiles."""
    return {name: np.float64(value) for name, value in surface.resolve(params).items()}


def _mesh(surface: Surface, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x0, x1, y0, y1 = surface.box
    x, y = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(x, y)
    return x, y, X, Y


def _pointwise(fn: Callable[[jax.Array, dict[str, jax.Array]], jax.Array]) -> GridFn:
    """`fn(w, params)` jitted and mapped over a 2-D mesh of x and y."""

    def on_mesh(X: jax.Array, Y: jax.Array, params: dict[str, jax.Array]) -> jax.Array:
        def at(x: jax.Array, y: jax.Array) -> jax.Array:
            return fn(jnp.stack([x, y]), params)

        return jax.vmap(jax.vmap(at))(X, Y)

    return jax.jit(on_mesh)


@compiled_cache
def _values_fn(surface: Surface) -> GridFn:
    return _pointwise(surface.fn)


@compiled_cache
def _descent_fn(surface: Surface) -> GridFn:
    return _pointwise(lambda w, params: -jax.grad(surface.fn)(w, params))


def _finite(z: np.ndarray) -> np.ndarray:
    """z with NaN and +inf set to the largest finite value and −inf to the smallest, so holes in
    a surface's domain show as the top colour and never poison the colour range; all zeros when
    nothing is finite."""
    finite = np.isfinite(z)
    if finite.all():
        return z
    if not finite.any():
        return np.zeros_like(z)
    top, bottom = z[finite].max(), z[finite].min()
    return np.where(finite, z, np.where(z == -np.inf, bottom, top))


def surface_grid(surface: Surface, params: Params = None, n: int = GRID_POINTS) -> Grid:
    """f on an n × n grid over `surface.box`; non-finite values are replaced as in `_finite`."""
    x, y, X, Y = _mesh(surface, n)
    z = np.asarray(_values_fn(surface)(X, Y, _traced(surface, params)), dtype=np.float64)
    return Grid(x, y, _finite(z))


def gradient_field(surface: Surface, params: Params = None, n: int = FIELD_POINTS) -> Field:
    """(X, Y, U, V): the descent direction −∇f on a coarse n × n grid over the box; a non-finite
    gradient becomes 0 (no arrow)."""
    _, _, X, Y = _mesh(surface, n)
    descent = np.asarray(_descent_fn(surface)(X, Y, _traced(surface, params)), dtype=np.float64)
    descent = np.where(np.isfinite(descent), descent, 0.0)
    return Field(X, Y, descent[..., 0], descent[..., 1])


def arrow_vectors(field: Field, longest: float) -> tuple[np.ndarray, np.ndarray]:
    """Display vectors for `field`: the direction of −∇f with a length growing with log10 ‖∇f‖,
    from `ARROW_MIN_FRACTION · longest` (ARROW_DECADES below the steepest) to `longest`;
    0 where the gradient vanishes."""
    norm = np.hypot(field.U, field.V)
    if not (norm > 0).any():
        return np.zeros_like(norm), np.zeros_like(norm)
    decades = np.log10(np.where(norm > 0, norm, 1.0) / norm.max())
    fraction = np.clip(1 + decades / ARROW_DECADES, ARROW_MIN_FRACTION, 1.0)
    scale = np.divide(longest * fraction, norm, out=np.zeros_like(norm), where=norm > 0)
    return field.U * scale, field.V * scale


def tick_label(value: float) -> str:
    """A real f value as a colorbar label: 3 significant digits, positional from 10⁻³ to 10⁵."""
    if value != 0 and not 1e-3 <= abs(value) < 1e5:
        mantissa, exponent = f"{value:.2e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}"
    return np.format_float_positional(value, precision=3, unique=False, fractional=False, trim="-")


def log_levels(z: np.ndarray, min_value: float | None = None) -> LogLevels:
    """Colour values log10(z − f_min + ε) and colorbar ticks at real values f_min + 10^k.

    f_min is the smaller of `min_value` (the known minimum, None when unknown) and the grid's
    minimum; ε = LOG_FLOOR · (max z − f_min). The tick at log10(ε) is labelled f_min itself.
    Log colouring is warranted when max z − f_min is at least 10^LOG_MIN_DECADES times the
    5th percentile of z − f_min: a linear scale would then paint the low ground, where the runs
    go, in one colour (Rosenbrock's valley, Beale's basins).
    """
    z = np.asarray(z, dtype=np.float64)
    f_min = float(z.min()) if min_value is None else min(float(min_value), float(z.min()))
    offset = z - f_min
    span = float(offset.max())
    if not span > 0:
        return LogLevels(np.zeros_like(z), [(0.0, tick_label(f_min))], False, f_min, 1.0)
    epsilon = LOG_FLOOR * span
    color = np.log10(offset + epsilon)
    reference = float(np.percentile(offset, LOG_REFERENCE_PERCENTILE))
    use_log = span >= 10**LOG_MIN_DECADES * reference
    ticks = [(math.log10(epsilon), tick_label(f_min))]
    for k in range(math.ceil(math.log10(epsilon)) + 1, math.floor(math.log10(span)) + 1):
        label = tick_label(f_min + 10.0**k)
        if label != ticks[-1][1]:  # offsets far below |f_min| print alike: keep the first
            ticks.append((math.log10(10.0**k + epsilon), label))
    return LogLevels(color, ticks, use_log, f_min, epsilon)
