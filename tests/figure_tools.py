"""Shared pieces of the figure tests: run views (from the engine or a fast fake spiral), the
contour of a surface, traces read back as arrays. Their fixtures are in `tests.figure_fixtures`."""

from __future__ import annotations

import numpy as np

from app.figures import PALETTE, RunView, array_of, contour_figure
from optimizers.engine import Status, Trajectory

STEPS = 40
GRID_N = 41


def view(trajectory: Trajectory, index: int = 0, label: str | None = None) -> RunView:
    return RunView(label or f"run {index}", PALETTE[index], trajectory, f"status < {index}")


def fake(steps: int, *, spike: bool = False) -> Trajectory:
    """A spiral into (1, 1) of `steps` steps, built without the engine (big step counts, fast)."""
    t = np.arange(steps + 1, dtype=np.float64)
    radius = 0.9 * np.exp(-t / max(steps / 4, 1))
    positions = np.stack([1 + radius * np.cos(t / 7), 1 + radius * np.sin(t / 7)], axis=1)
    loss = radius**2 + 1e-3
    if spike:
        loss[steps // 3] = 1e3
    grad = np.stack([radius, radius], axis=1)
    return Trajectory(
        positions=positions,
        loss=loss,
        grad=grad,
        grad_norm=np.linalg.norm(grad, axis=1),
        lr=np.full(steps, 0.01),
        update=np.diff(positions, axis=0),
        effective_lr=np.full((steps, 2), 0.01),
        state={},
        status=Status("max_steps", steps, None, float("inf")),
    )


def xy(trace) -> np.ndarray:
    return np.stack([array_of(trace.x), array_of(trace.y)], axis=1)


def named(fig, name: str):
    return next(trace for trace in fig.data if trace.name == name)


def plot(surface_and_grid, runs, **options):
    surface, grid = surface_and_grid
    return contour_figure(grid, surface, surface.critical_points(), runs, **options)
