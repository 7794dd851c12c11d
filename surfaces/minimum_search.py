"""Known minima of a typed formula, found numerically in a bounded number of vectorised
evaluations of f: a grid, Newton polishing with finite-difference derivatives, strictness tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from surfaces.base import CriticalPoint, LossFn

SEARCH_POINTS = 81  # grid per side for the minimum search
MAX_MINIMA = 8
CANDIDATES = 4 * MAX_MINIMA  # the lowest grid minima, polished all at once
POLISH_STEPS = 60
GRAD_TOL = 1e-8
MIN_STEP = 1e-12  # the backtracking line search gives up below this step length
# Step lengths t₀·2⁻ʲ a polish step may try: enough to reach MIN_STEP from the longest first
# step, t₀ = h/‖∇f‖ with h ≤ 2·MAX_COORDINATE/80 and ‖∇f‖ > GRAD_TOL; LINE_BLOCK of them at once.
LINE_TRIALS = 84
LINE_BLOCK = 21
# Derivatives by finite differences of f (compiling f alone takes a tenth of compiling its
# Hessian): 5-point central differences, for ∇f with steps ±GRADIENT_STEP·h, ±2·GRADIENT_STEP·h
# and for ∇²f with ±CURVATURE_STEP·h, ±2·CURVATURE_STEP·h and the four diagonal points.
GRADIENT_STEP = 1e-3  # × h
CURVATURE_STEP = 1e-2  # × h
_AXES = np.array([[1.0, 0.0], [0.0, 1.0]])
_STENCIL = np.concatenate(
    [
        [[0.0, 0.0]],
        *(
            step * k * _AXES
            for step in (GRADIENT_STEP, CURVATURE_STEP)
            for k in (-2.0, -1.0, 1.0, 2.0)
        ),
        CURVATURE_STEP * np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]),
    ]
)  # 21 offsets, × h
BATCH = CANDIDATES * LINE_BLOCK  # points per evaluation of f (one compiled shape)
# A Hessian counts as positive definite when λ_min > this × |λ|_max: finite differences leave
# a flat direction's eigenvalue a little above or below 0.
DEFINITE = 1e-6
DIRECTIONS = 8  # probe directions around a point (kink and strictness tests)
KINK_RADII = (1e-2, 1e-4, 1e-6)  # × h
STRICT_RADII = (1.0, 1e-2)  # × h
# The whole search, in evaluations of f, padded batches included: the grid, per polish step
# the derivatives' stencils and the line's trials, the last derivatives, and the final tests'
# derivatives and probes. The same for every formula.
SEARCH_EVALUATIONS = BATCH * (
    -(-(SEARCH_POINTS**2) // BATCH)
    + POLISH_STEPS * (1 + LINE_TRIALS // LINE_BLOCK)
    + 3
    + -(-CANDIDATES * DIRECTIONS * (len(KINK_RADII) + 2 * len(STRICT_RADII)) // BATCH)
)
# Compiled for speed of compiling: f runs a few hundred times on a few hundred points.
QUICK_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
Values = Callable[[np.ndarray], jax.Array]  # f at BATCH points


def _batched_values(fn: LossFn) -> Values:
    """f at BATCH points at once, jitted."""
    return jax.jit(jax.vmap(lambda w: fn(w, {})), compiler_options=QUICK_COMPILE)


def _values(search: Values, points: np.ndarray) -> np.ndarray:
    """f at every row of `points` (m × 2), BATCH at a time (the last batch padded)."""
    count = len(points)
    padded = np.concatenate([points, np.repeat(points[:1], -count % BATCH, axis=0)])
    with np.errstate(all="ignore"):
        batches = [np.asarray(search(b)) for b in padded.reshape(-1, BATCH, 2)]
    return np.concatenate(batches)[:count]


class _Derivatives(NamedTuple):
    """f, ∇f and ∇²f at each point, and the steepest one-sided slope |Δf|/Δ along the axes."""

    value: np.ndarray
    grad: np.ndarray
    hessian: np.ndarray
    slope: np.ndarray


def _derivatives(search: Values, points: np.ndarray, h: float) -> _Derivatives:
    """Finite differences of f on `_STENCIL` around each of the CANDIDATES points:
    ∂f/∂x ≈ (f₋₂ − 8f₋₁ + 8f₁ − f₂)/(12δ), ∂²f/∂x² ≈ (−f₋₂ + 16f₋₁ − 30f₀ + 16f₁ − f₂)/(12δ²),
    ∂²f/∂x∂y ≈ (f₊₊ − f₊₋ − f₋₊ + f₋₋)/(4δ²)."""
    stencil = points[:, None, :] + h * _STENCIL[None]
    f = _values(search, stencil.reshape(-1, 2)).reshape(len(points), len(_STENCIL))
    center = f[:, 0]
    # Per axis (x, y), the values at −2δ, −δ, δ, 2δ:
    gradient_points = f[:, 1:9].reshape(-1, 4, 2).transpose(0, 2, 1)
    curvature_points = f[:, 9:17].reshape(-1, 4, 2).transpose(0, 2, 1)
    diagonal = f[:, 17:21]
    dg, dc = GRADIENT_STEP * h, CURVATURE_STEP * h
    with np.errstate(all="ignore"):
        grad = gradient_points @ np.array([1.0, -8.0, 8.0, -1.0]) / (12 * dg)
        second = (curvature_points @ np.array([-1.0, 16.0, 16.0, -1.0]) - 30 * center[:, None]) / (
            12 * dc * dc
        )
        mixed = (diagonal @ np.array([1.0, -1.0, -1.0, 1.0])) / (4 * dc * dc)
        slope = np.abs(gradient_points[:, :, 1:3] - center[:, None, None]).max(axis=(1, 2)) / dg
    hessian = np.stack(
        [np.stack([second[:, 0], mixed], axis=1), np.stack([mixed, second[:, 1]], axis=1)], axis=1
    )
    return _Derivatives(center, grad, hessian, slope)


def _positive_definite(H: np.ndarray) -> np.ndarray:
    """Per matrix: finite, with λ_min > DEFINITE·|λ|_max."""
    finite = np.isfinite(H).all(axis=(1, 2))
    eigenvalues = np.linalg.eigvalsh(np.where(finite[:, None, None], H, np.eye(2)))
    return finite & (eigenvalues[:, 0] > DEFINITE * np.abs(eigenvalues).max(axis=1))


def _line_search(
    search: Values,
    w: np.ndarray,
    f: np.ndarray,
    step: np.ndarray,
    first: np.ndarray,
    searching: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backtracking along −step from each w: the first t = first·2⁻ʲ > MIN_STEP with
    f(w − t·step) ≤ f, tried LINE_BLOCK lengths at a time for the rows still `searching`:
    the points, their values, and whether one was found."""
    rows = np.arange(len(w))
    moved, value, found = w.copy(), f.copy(), np.zeros(len(w), dtype=bool)
    for start in range(0, LINE_TRIALS, LINE_BLOCK):
        t = first[:, None] * 0.5 ** np.arange(start, start + LINE_BLOCK)
        open_rows = searching & ~found & (t[:, 0] > MIN_STEP)
        if not open_rows.any():
            break
        trials = w[:, None, :] - t[..., None] * step[:, None, :]
        values = _values(search, trials.reshape(-1, 2)).reshape(t.shape)
        lower = (values <= f[:, None]) & (t > MIN_STEP) & open_rows[:, None]
        j, hit = lower.argmax(axis=1), lower.any(axis=1)
        moved = np.where(hit[:, None], trials[rows, j], moved)
        value = np.where(hit, values[rows, j], value)
        found |= hit
    return moved, value, found


def _polish(search: Values, cells: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps from every cell at once (gradient steps with backtracking where the Hessian
    is not positive definite) until ‖∇f‖ ≤ GRAD_TOL·max(1, |f|): the points reached and whether
    each got there (not when f or ∇f stops being finite, no step length down to MIN_STEP lowers
    f, a step wanders beyond 10 h, or POLISH_STEPS pass). `cells` has CANDIDATES rows."""
    w, f = cells.copy(), _values(search, cells)
    active, reached = np.ones(CANDIDATES, dtype=bool), np.zeros(CANDIDATES, dtype=bool)
    for _ in range(POLISH_STEPS):
        _, g, H, _ = _derivatives(search, w, scale)
        norm = np.linalg.norm(g, axis=1)
        active &= np.isfinite(g).all(axis=1) & np.isfinite(f)
        done = active & (norm <= GRAD_TOL * np.maximum(1.0, np.abs(f)))
        reached |= done
        active &= ~done
        if not active.any():
            return w, reached
        definite = _positive_definite(H)
        newton = np.linalg.solve(np.where(definite[:, None, None], H, np.eye(2)), g[..., None])
        step = np.where(definite[:, None], newton[..., 0], g)
        with np.errstate(divide="ignore"):
            first = np.where(definite, 1.0, scale / np.maximum(norm, 1e-300))
        moved, value, lowered = _line_search(search, w, f, step, first, active)
        active &= lowered & (np.linalg.norm(moved - w, axis=1) <= 10 * scale)
        w, f = np.where(active[:, None], moved, w), np.where(active, value, f)
    g = _derivatives(search, w, scale).grad
    reached |= active & (np.linalg.norm(g, axis=1) <= GRAD_TOL * np.maximum(1.0, np.abs(f)))
    return w, reached


def _grid_minima(z: np.ndarray) -> list[tuple[int, int]]:
    """Interior grid cells (i, j) no higher than their 8 neighbours, finite, lowest first."""
    finite = np.where(np.isfinite(z), z, np.inf)
    core = finite[1:-1, 1:-1]
    lowest = np.isfinite(core)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                lowest &= core <= finite[1 + di : z.shape[0] - 1 + di, 1 + dj : z.shape[1] - 1 + dj]
    cells = [(int(i) + 1, int(j) + 1) for i, j in zip(*np.nonzero(lowest), strict=True)]
    return sorted(cells, key=lambda c: finite[c])


def _ring(points: np.ndarray, radii: tuple[float, ...], h: float) -> np.ndarray:
    """Probe points: around each point, at each radius r·h, DIRECTIONS directions (shape
    points × radii × DIRECTIONS × 2)."""
    angles = np.linspace(0, 2 * np.pi, DIRECTIONS, endpoint=False)
    unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    r = np.asarray(radii) * h
    return points[:, None, None, :] + r[None, :, None, None] * unit[None, None]


def _kinks(at: _Derivatives, ring: np.ndarray, h: float) -> np.ndarray:
    """Per point: every probe at distances h·10⁻², h·10⁻⁴, h·10⁻⁶ (`ring` values) lies higher
    than f by at least a tenth of its distance times the steepest one-sided slope along the
    axes: f has a corner there, not a slope."""
    f, slope = at.value, 0.1 * at.slope
    r = np.asarray(KINK_RADII) * h
    with np.errstate(invalid="ignore"):
        bound = f[:, None, None] + slope[:, None, None] * r[None, :, None]
        higher = (ring >= bound).all(axis=(1, 2))
    return np.isfinite(f) & (slope > 0) & higher


def _strict(at: _Derivatives, ring: np.ndarray) -> np.ndarray:
    """Per point: a positive definite Hessian, or else every probe at distance h and h/100
    (`ring` values) strictly higher than f: flat valleys and plateaus do not count."""
    with np.errstate(invalid="ignore"):
        return _positive_definite(at.hessian) | (ring > at.value[:, None, None]).all(axis=(1, 2))


def find_minima(
    fn: LossFn, box: tuple[float, float, float, float], n: int = SEARCH_POINTS
) -> tuple[CriticalPoint, ...]:
    """Minima of f inside `box`: the CANDIDATES lowest grid minima polished at once by Newton
    steps (derivatives by finite differences) to ‖∇f‖ ≤ 1e−8, kept when strict (`_strict`),
    duplicates merged; SEARCH_EVALUATIONS evaluations of f for any formula (n = SEARCH_POINTS),
    with one compiled function, f itself.

    The lowest is marked "global" only when no grid value in the box lies below it: the label
    then means "the lowest point of the plot box", the only claim a numerical search can make;
    otherwise (the lowest values lie on the box's edge, or the function is unbounded) every
    minimum found is "local". Nonsmooth kinks and flat minima may be missed.
    """
    x0, x1, y0, y1 = box
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    search = _batched_values(fn)
    z = _values(search, np.column_stack([X.ravel(), Y.ravel()])).reshape(n, n)
    scale = max(x1 - x0, y1 - y0) / (n - 1)
    chosen = _grid_minima(z)[:CANDIDATES]
    if not chosen:
        return ()
    cells = np.array([[X[i, j], Y[i, j]] for i, j in chosen])
    cells = np.concatenate([cells, np.repeat(cells[:1], CANDIDATES - len(cells), axis=0)])
    polished, reached = _polish(search, cells, scale)
    at_cell, at_polished = _derivatives(search, cells, scale), _derivatives(search, polished, scale)
    rings = [
        _ring(cells, KINK_RADII, scale),
        _ring(cells, STRICT_RADII, scale),
        _ring(polished, STRICT_RADII, scale),
    ]
    values = _values(search, np.concatenate([r.reshape(-1, 2) for r in rings]))
    kink_ring, cell_ring, polished_ring = np.split(
        values, np.cumsum([r[..., 0].size for r in rings])[:-1]
    )
    shape = (CANDIDATES, -1, DIRECTIONS)
    kink = _kinks(at_cell, kink_ring.reshape(shape), scale)
    strict = {
        False: _strict(at_cell, cell_ring.reshape(shape)),
        True: _strict(at_polished, polished_ring.reshape(shape)),
    }
    found: list[tuple[float, float, float]] = []
    for k in range(len(chosen)):
        if not (reached[k] or kink[k]):
            continue
        w, f = (polished[k], at_polished.value[k]) if reached[k] else (cells[k], at_cell.value[k])
        if not (x0 <= w[0] <= x1 and y0 <= w[1] <= y1):
            continue
        if any(math.hypot(w[0] - a, w[1] - b) <= 1.5 * scale for a, b, _ in found):
            continue
        if strict[bool(reached[k])][k]:
            found.append((float(w[0]), float(w[1]), float(f)))
        if len(found) == MAX_MINIMA:
            break
    found.sort(key=lambda p: p[2])
    finite = z[np.isfinite(z)]
    lowest_in_box = bool(found) and finite.size > 0 and found[0][2] <= finite.min() + 1e-12
    return tuple(
        CriticalPoint(x, y, value, "global" if k == 0 and lowest_in_box else "local")
        for k, (x, y, value) in enumerate(found)
    )
