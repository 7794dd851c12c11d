"""The Hessian at the start and at the nearest known minimum: eigenvalues, κ, GD's limit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from optimizers.curvature import gd_threshold, hessian_eigenvalues
from surfaces import CriticalPoint, Surface


class PointCurvature(NamedTuple):
    """The Hessian at one point: eigenvalues λ₁ ≤ λ₂, condition number κ = |λ|_max / |λ|_min
    (∞ where an eigenvalue is 0), and the GD threshold 2/λ_max (∞ where λ_max ≤ 0)."""

    point: tuple[float, float]
    eigenvalues: np.ndarray
    condition: float
    positive_definite: bool
    gd_rate: float


class CurvatureReport(NamedTuple):
    """Curvature at the start and at the known minimum nearest to it (None: none listed)."""

    start: PointCurvature
    minimum: PointCurvature | None
    nearest: CriticalPoint | None


def point_curvature(
    surface: Surface, params: Mapping[str, float] | None, point: tuple[float, float]
) -> PointCurvature:
    """Eigenvalues of ∇²f at `point`, κ = |λ|_max/|λ|_min and 2/λ_max.

    Raises:
        ValueError: where the Hessian at `point` is not finite.
    """
    eigenvalues = hessian_eigenvalues(surface, point, params)
    if not np.isfinite(eigenvalues).all():
        raise ValueError(f"the Hessian at {point} is not finite")
    magnitudes = np.abs(eigenvalues)
    condition = float(magnitudes.max() / magnitudes.min()) if magnitudes.min() > 0 else math.inf
    return PointCurvature(
        (float(point[0]), float(point[1])),
        eigenvalues,
        condition,
        bool(eigenvalues[0] > 0),
        gd_threshold(float(eigenvalues[-1])),
    )


def curvature_report(
    surface: Surface, params: Mapping[str, float] | None, start: tuple[float, float]
) -> CurvatureReport:
    """Curvature at `start` and at the known minimum (global or local) nearest to it.

    Args:
        surface: the loss surface.
        params: its parameters (None: the defaults).
        start: the point (x, y).

    Returns:
        A `CurvatureReport`: `PointCurvature` at the start and at the nearest minimum.

    Raises:
        ValueError: for a start that is not a finite point, or a Hessian that is not finite.

    >>> from surfaces import get_surface
    >>> report = curvature_report(get_surface("quadratic"), {"kappa": 50.0}, (1.0, 2.0))
    >>> round(report.start.condition, 9), round(report.minimum.gd_rate, 12)
    (50.0, 0.04)
    """
    if len(start) != 2 or not all(math.isfinite(float(v)) for v in start):
        raise ValueError(f"start must be a finite point (x, y), got {start!r}")
    minima = [p for p in surface.critical_points(params) if p.kind in ("global", "local")]
    nearest = min(minima, key=lambda p: math.hypot(p.x - start[0], p.y - start[1]), default=None)
    at_minimum = point_curvature(surface, params, (nearest.x, nearest.y)) if nearest else None
    return CurvatureReport(point_curvature(surface, params, start), at_minimum, nearest)
