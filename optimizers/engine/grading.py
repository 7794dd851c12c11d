"""From a kernel's table to a `Trajectory`: cut at the events, graded, and the path's geometry.

A run's table has a row per step (see `optimizers.engine.kernels.Columns`); read at row n it holds
the run's first divergence and convergence. The events beyond those (thrown out after converging,
a rate frozen at ~0) and the nearest known point are found here, in numpy.
"""

from __future__ import annotations

import math

import numpy as np

from optimizers.engine.config import FROZEN_RATE, THROWN_OUT
from optimizers.engine.kernels import COLUMNS, state_names
from optimizers.engine.plan import Plan
from optimizers.engine.results import Escape, Outcome, Status, Trajectory
from surfaces import CriticalPoint, Surface


def _nearest(
    surface: Surface, params: dict[str, float], w: np.ndarray
) -> tuple[CriticalPoint | None, float]:
    points = surface.critical_points(params)
    if not points or not len(w):
        return None, math.inf
    x, y = float(w[0]), float(w[1])
    distance, i = min((math.hypot(x - p.x, y - p.y), i) for i, p in enumerate(points))
    return points[i], distance


def _thrown_out(positions: np.ndarray, converged: int, box: tuple[float, ...]) -> int:
    """The first step after `converged` farther than THROWN_OUT box diagonals from w_converged."""
    if converged < 0 or converged >= len(positions):
        return -1
    x0, x1, y0, y1 = box
    away = np.linalg.norm(positions[converged:] - positions[converged], axis=1)
    far = np.flatnonzero(away > THROWN_OUT * math.hypot(x1 - x0, y1 - y0))
    return converged + int(far[0]) if len(far) else -1


def _frozen(lr: np.ndarray) -> int:
    """The step from which η_k ≤ FROZEN_RATE · max η up to the last move (−1: none)."""
    if not len(lr):
        return -1
    moving = np.flatnonzero(np.abs(lr) > FROZEN_RATE * np.abs(lr).max())
    last = int(moving[-1]) if len(moving) else -1
    return last + 1 if last + 1 < len(lr) else -1


def _escape(row: np.ndarray, finite: bool) -> tuple[Escape, tuple[float, float] | None]:
    """How a diverged run's escape step escaped, and w there where it is finite."""
    c = COLUMNS
    w, loss = row[c.positions], float(row[c.loss])
    point = (float(w[0]), float(w[1])) if np.isfinite(w).all() else None
    if finite:
        return "bound", point
    if point is not None and math.isfinite(loss):
        return "slope", point
    undefined = point is not None and (math.isnan(loss) or loss == -math.inf)
    return ("undefined" if undefined else "overflow"), point


def box_exit(points: np.ndarray, box: tuple[float, ...]) -> tuple[int, np.ndarray] | None:
    """Where a path that ends outside `box` left it for good: the step k of its first point
    outside after its last one inside, and where the segment w_{k−1} → w_k crosses the edge,
    w_{k−1} + t (w_k − w_{k−1}) with t the smallest (edge − w_{k−1}) / Δ over the axes it
    leaves by; None when the path ends inside (or never was inside).

    >>> box_exit(np.array([[0.0, 0.0], [2.0, 0.0]]), (-1.0, 1.0, -1.0, 1.0))
    (1, array([1., 0.]))
    """
    lo, hi = np.array([box[0], box[2]]), np.array([box[1], box[3]])
    inside = np.asarray(((points >= lo) & (points <= hi)).all(axis=1))
    if len(points) < 2 or inside[-1] or not inside.any():
        return None
    i = int(np.flatnonzero(inside)[-1])
    start, delta = points[i], points[i + 1] - points[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(delta > 0, (hi - start) / delta, (lo - start) / delta)
    t = np.where(delta == 0, np.inf, t)
    return i + 1, start + min(float(t.min()), 1.0) * delta


def escape_path(trajectory: Trajectory) -> np.ndarray:
    """The kept positions w_0 … and, where a run escaped to a finite w at which f or ∇f was not
    finite (a step the trajectory drops), that w too: the path as far as it is known."""
    status, positions = trajectory.status, np.asarray(trajectory.positions).reshape(-1, 2)
    if status.escape in (None, "bound") or status.escape_point is None:
        return positions
    return np.vstack([positions, [status.escape_point]])


def graded(the_plan: Plan, table: np.ndarray) -> Trajectory:
    """Cut one table to w_0 … w_n, dropping any non-finite tail, and grade it."""
    c, n = COLUMNS, the_plan.steps
    diverged, converged, finite = table[n, c.diverged : c.finite + 1].tolist()
    kept = n + 1
    escape: Escape | None = None
    escape_point: tuple[float, float] | None = None
    outcome: Outcome
    if diverged >= 0:
        at, outcome = int(diverged), "diverged"
        kept = at + 1 if finite else at
        escape, escape_point = _escape(table[at], bool(finite))
    elif converged >= 0:
        at, outcome = int(converged), "converged"
    else:
        at, outcome = n, "max_steps"
    moves = max(kept - 1, 0)
    positions = table[:kept, c.positions]
    last = positions[-1] if kept else np.empty(0)
    nearest, distance = _nearest(the_plan.surface, the_plan.surface_params(), last)
    state = {
        name: table[:moves, c.state + 2 * i : c.state + 2 * i + 2]
        for i, name in enumerate(state_names(the_plan.optimizer))
    }
    return Trajectory(
        positions=positions,
        loss=table[:kept, c.loss],
        grad=table[:kept, c.grad],
        grad_norm=table[:kept, c.grad_norm],
        lr=table[:moves, c.lr],
        update=table[:moves, c.update],
        effective_lr=table[:moves, c.effective_lr],
        state=state,
        status=Status(
            outcome,
            at,
            nearest,
            distance,
            converged=int(converged),
            thrown_out=_thrown_out(positions, int(converged), the_plan.surface.box),
            frozen=_frozen(table[:moves, c.lr]),
            escape=escape,
            escape_point=escape_point,
        ),
    )
