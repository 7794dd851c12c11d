"""Helpers that list a surface's known stationary points from its symmetries or a 1-D profile."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from surfaces.base import CriticalPoint, PointKind


def points_at(kind: PointKind, value: float, *xy: tuple[float, float]) -> tuple[CriticalPoint, ...]:
    """Points of one kind sharing one value."""
    return tuple(CriticalPoint(x, y, value, kind) for x, y in xy)


def orbit(
    kind: PointKind, value: float, x: float, y: float, *, square: bool = False
) -> tuple[CriticalPoint, ...]:
    """(x, y) and its images: ±(x, y) under f(−w) = f(w), or all of (±x, ±y), (±y, ±x) when
    `square` (f symmetric under the square's reflections)."""
    if square:
        images = [(sx * a, sy * b) for a, b in ((x, y), (y, x)) for sx in (1, -1) for sy in (1, -1)]
    else:
        images = [(x, y), (-x, -y)]
    unique = dict.fromkeys((a + 0.0, b + 0.0) for a, b in images)
    return points_at(kind, value, *unique)


def separable(
    profile: Callable[[float], float], minima: Sequence[float], maxima: Sequence[float]
) -> tuple[CriticalPoint, ...]:
    """Stationary points of f(x, y) = g(x) + g(y) from those of g: minimum × minimum is a minimum
    (the lowest ones global), minimum × maximum a saddle; maximum × maximum is left out."""
    labelled = [(t, 1) for t in minima] + [(t, 0) for t in maxima]
    pairs = [(a, b, profile(a) + profile(b), m + n) for a, m in labelled for b, n in labelled]
    lowest = min(value for *_, value, n_min in pairs if n_min == 2)
    points = []
    for a, b, value, n_min in pairs:
        if n_min == 1:
            points.append(CriticalPoint(a, b, value, "saddle"))
        elif n_min == 2:
            points.append(CriticalPoint(a, b, value, "global" if value <= lowest else "local"))
    return tuple(points)


def real_roots(coefficients: Sequence[float]) -> list[float]:
    """Real roots of a polynomial (highest power first), ascending, polished by Newton steps."""
    derivative = np.polyder(coefficients)
    roots = []
    for root in np.roots(coefficients):
        if abs(root.imag) < 1e-9:
            r = root.real
            for _ in range(3):
                r -= np.polyval(coefficients, r) / np.polyval(derivative, r)
            roots.append(float(r))
    return sorted(roots)
