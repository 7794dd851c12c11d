"""Basins of attraction: a grid of starts, each labelled with the known minimum it reaches."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from optimizers.analysis.inputs import Cancel, check_work
from optimizers.engine import RunConfig, Summary, plan, summarize
from optimizers.report import NEAR
from surfaces import CriticalPoint

# Basin labels (a start that reaches known minimum i is labelled i ≥ 0).
DIVERGED = -1
UNFINISHED = -2  # neither diverged nor near a known minimum nor settled
ELSEWHERE = -3  # settled, but not at a known minimum (a saddle or an unlisted point)


class BasinMap(NamedTuple):
    """`basin_map`: label[i, j] for the start (xs[j], ys[i]): the index in `minima` of the known
    minimum reached, or DIVERGED, UNFINISHED, ELSEWHERE."""

    xs: np.ndarray
    ys: np.ndarray
    label: np.ndarray
    minima: tuple[CriticalPoint, ...]
    final_position: np.ndarray


def basin_map(
    config: RunConfig, resolution: int, capture: float = NEAR, cancelled: Cancel | None = None
) -> BasinMap:
    """Start `config` from every node of a resolution × resolution grid over the surface's box.

    A start is labelled with the known minimum (global or local) its final position lies within
    `capture` × the box diagonal of; else DIVERGED, ELSEWHERE (converged anywhere else) or
    UNFINISHED.

    Args:
        config: the run; its own start is replaced by each node.
        resolution: nodes per side, a whole number ≥ 2.
        capture: the radius around a minimum that counts as reaching it, in box diagonals.
        cancelled: asked between chunks whether to stop (see `summarize`).

    Returns:
        A `BasinMap` of labels and final positions per node, and the minima labelled.

    Raises:
        ValueError: for an invalid configuration, resolution or capture, or over the caps.
        CancelledError: when `cancelled()` said so.

    GD at a small rate on the bowl ½‖w‖² brings every start to its one minimum:

    >>> basins = basin_map(RunConfig("bowl", "gd", lr=0.5, steps=60), 3)
    >>> basins.label.tolist()
    [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ValueError(f"resolution must be a whole number ≥ 2, got {resolution!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be ≥ 2, got {resolution}")
    if not (math.isfinite(capture) and capture > 0):
        raise ValueError(f"capture must be a positive fraction of the diagonal, got {capture!r}")
    the_plan = plan(config)
    check_work(resolution * resolution, the_plan.steps)
    x0, x1, y0, y1 = the_plan.surface.box
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(xs, ys)
    summary = summarize(config, {"start": np.column_stack([X.ravel(), Y.ravel()])}, cancelled)
    minima = tuple(
        p
        for p in the_plan.surface.critical_points(the_plan.surface_params())
        if p.kind in ("global", "local")
    )
    label = _labels(summary, minima, capture * math.hypot(x1 - x0, y1 - y0))
    shape = (resolution, resolution)
    return BasinMap(xs, ys, label.reshape(shape), minima, summary.final_position.reshape(*shape, 2))


def _labels(summary: Summary, minima: tuple[CriticalPoint, ...], radius: float) -> np.ndarray:
    label = np.where(summary.converged_step >= 0, ELSEWHERE, UNFINISHED)
    if minima:
        centres = np.array([(p.x, p.y) for p in minima])
        distance = np.linalg.norm(summary.final_position[:, None, :] - centres[None], axis=2)
        nearest = distance.argmin(axis=1)
        label = np.where(distance.min(axis=1) <= radius, nearest, label)
    return np.where(summary.diverged_step >= 0, DIVERGED, label).astype(np.int64)
