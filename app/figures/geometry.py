"""Path geometry: downsampling (steps kept along the path, min-max decimation of curves) and
clipping of paths to the view box grown by CLIP_MARGIN (Liang–Barsky)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.figures.style import Box
from app.figures.transport import typed
from optimizers.engine import Trajectory

FRAME_PATH_POINTS = 200  # a path in an intermediate frame is sampled down to this many points
PATH_POINTS = 2000  # the full path (initial view and last frame) is sampled down to this many
LIVE_PATH_POINTS = 800  # … on the live plane, where plotly.js redraws paths while a rate is dragged
LIVE_PLANE_POINTS = 2400  # … and all runs' paths on it together (software raster repaints them)


def live_path_points(runs: int) -> int:
    """Points per path on the live plane with `runs` runs: LIVE_PATH_POINTS each up to three
    runs, then LIVE_PLANE_POINTS shared (400 each for six)."""
    return min(LIVE_PATH_POINTS, LIVE_PLANE_POINTS // max(runs, 1))


CLIP_MARGIN = 0.05  # paths are clipped to the view box grown by this fraction on each side


def path_indices(arc: np.ndarray, upto: int, limit: int) -> np.ndarray:
    """Indices 0 … upto, all of them when they fit in `limit`, else at most `limit`: half evenly
    spaced in steps, half evenly spaced along the path's length (dense where it moves fast, so
    early zig-zags survive); both ends always."""
    if upto < limit:
        return np.arange(upto + 1)
    by_step = np.linspace(0, upto, limit // 2).round().astype(int)
    targets = np.linspace(0.0, arc[upto], limit - limit // 2)
    by_length = np.searchsorted(arc[: upto + 1], targets).clip(0, upto)
    return np.union1d(by_step, by_length)


def decimated(values: np.ndarray, limit: int) -> np.ndarray:
    """Indices keeping each bucket's smallest and largest value (spikes survive), ≤ `limit`."""
    n = len(values)
    if n <= limit:
        return np.arange(n)
    size = math.ceil(n / (limit // 2))
    padded = np.concatenate([values, np.full(-n % size, values[-1])]).reshape(-1, size)
    starts = np.arange(0, padded.size, size)
    picks = np.concatenate([starts + padded.argmin(1), starts + padded.argmax(1), [n - 1]])
    return np.unique(picks.clip(0, n - 1))


def grown(box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of `box` grown by CLIP_MARGIN of its size on each side."""
    x0, x1, y0, y1 = box
    pad = CLIP_MARGIN * np.array([x1 - x0, y1 - y0])
    return np.array([x0, y0]) - pad, np.array([x1, y1]) + pad


def in_view(points: np.ndarray, box: Box) -> np.ndarray:
    """`points` (n, 2) with every row outside the grown box (see `grown`) set to NaN: a gap in
    a drawn line, a marker left out."""
    lo, hi = grown(box)
    inside = ((points >= lo) & (points <= hi)).all(axis=1, keepdims=True)
    return np.where(inside, points, np.nan)


def _clip_segments(points: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Liang–Barsky for every segment points[i] → points[i+1]: whether it is drawn (it meets the
    box and one end lies inside), the clipped ends (exactly the original points where a segment
    is not cut) and the parameters t ∈ [0, 1] where it enters and leaves."""
    start, end = points[:-1], points[1:]
    delta = end - start
    enter, leave = np.zeros(len(delta)), np.ones(len(delta))
    outside = np.zeros(len(delta), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in range(2):
            d, p = delta[:, axis], start[:, axis]
            flat = d == 0
            outside |= flat & ((p < lo[axis]) | (p > hi[axis]))
            t_lo, t_hi = (lo[axis] - p) / d, (hi[axis] - p) / d
            enter = np.where(flat, enter, np.maximum(enter, np.minimum(t_lo, t_hi)))
            leave = np.where(flat, leave, np.minimum(leave, np.maximum(t_lo, t_hi)))
    # Drawn: segments with an end inside; a jump between two far points is not part of the view.
    visible = ~outside & (enter <= leave) & ((enter == 0) | (leave == 1))
    first = np.where((enter == 0)[:, None], start, start + enter[:, None] * delta)
    last = np.where((leave == 1)[:, None], end, start + leave[:, None] * delta)
    return visible, first, last, enter, leave


def clipped(points: np.ndarray, box: Box) -> np.ndarray:
    """The polyline `points` clipped to the grown box: segments with an end inside, cut at the
    edge; NaN rows separate the pieces (a run that leaves and comes back)."""
    lo, hi = grown(box)
    inside = ((points >= lo) & (points <= hi)).all(axis=1)
    if len(points) < 2 or inside.all():  # nothing to cut (the usual case: a quick exit)
        return points[inside]
    visible, first, last, enter, leave = _clip_segments(points, lo, hi)
    joined = np.zeros_like(visible)
    joined[1:] = visible[:-1] & (leave[:-1] == 1) & (enter[1:] == 0)
    gap = np.full_like(first, np.nan)
    rows = np.stack([gap, first, last], axis=1)[visible]  # (k, 3, 2): gap, start, end
    new_piece = ~joined[visible]
    keep = np.stack([new_piece, new_piece, np.ones_like(new_piece)], axis=1)
    if len(keep):
        keep[0, 0] = False  # no gap before the first piece
    return rows[keep]


@dataclass(frozen=True)
class RunGeometry:
    """A run's positions and the steps drawn: ≤ PATH_POINTS for the full path, a coarser fixed
    set of ≤ FRAME_PATH_POINTS for the intermediate frames (fixed, so a path does not flicker
    as it grows)."""

    positions: np.ndarray
    box: Box
    full_steps: np.ndarray
    frame_steps: np.ndarray

    @classmethod
    def of(cls, trajectory: Trajectory, box: Box, points: int = PATH_POINTS) -> RunGeometry:
        """The geometry of `trajectory` in `box`, its full path sampled to `points`."""
        positions = np.asarray(trajectory.positions, dtype=np.float64).reshape(-1, 2)
        lo, hi = grown(box)
        moves = np.linalg.norm(np.diff(np.clip(positions, lo, hi), axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(moves)])
        last = len(positions) - 1
        if last < 0:
            return cls(positions, box, np.empty(0, int), np.empty(0, int))
        return cls(
            positions,
            box,
            path_indices(arc, last, points),
            path_indices(arc, last, FRAME_PATH_POINTS),
        )

    @property
    def last(self) -> int:
        """The last step (−1 for a run without positions)."""
        return len(self.positions) - 1

    def path(self, step: int, full: bool) -> np.ndarray:
        """The drawn path from step 0 to `step` (clipped, with NaN gaps where it is outside)."""
        upto = min(step, self.last)
        if upto < 0:
            return np.empty((0, 2))
        steps = self.full_steps if full else self.frame_steps
        return clipped(self.positions[np.append(steps[steps < upto], upto)], self.box)

    def head(self, step: int) -> np.ndarray:
        """The position at `step` (or the last one), NaN when it lies outside the grown box."""
        if self.last < 0:
            return np.full((1, 2), np.nan)
        return in_view(self.positions[min(step, self.last)][None], self.box)

    def frame_data(self, step: int, full: bool) -> list[dict]:
        """Path and current position at `step`, the only data a frame carries: float64 for the
        full path, float32 (half the bytes, ample for drawing) for intermediate frames."""
        dtype = np.float64 if full else np.float32
        return [
            {"x": typed(xy[:, 0], dtype), "y": typed(xy[:, 1], dtype)}
            for xy in (self.path(step, full), self.head(step))
        ]
