"""The live view's plane (app/live.py): the contour figure without its animation, split into the
part that depends on the surface only (`live_surface`) and one part per run (`live_run`), so
that each travels to the page on its own."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from app.figures.geometry import LIVE_PATH_POINTS, RunGeometry, in_view
from app.figures.plane import (
    FIRST_RUN_TRACE,
    SurfaceLayer,
    box_of,
    critical_traces,
    exit_layers,
    field_trace,
    plane_layout,
    run_traces,
)
from app.figures.style import Box, RunView, escape
from app.figures.transport import array_of, typed
from surfaces.base import CriticalPoint, Surface
from surfaces.grid import Field, Grid

HOVER_POINTS = 48  # per side of the grid the hover reads f from
STATE_POINTS = 150  # at most this many of a state point's positions are drawn


class RunLayer(NamedTuple):
    """One run on the live plane: its path and marker traces (full path, last position), the
    marker and annotation where it left the box, and its path sampled for Play: "steps" (absent
    where they are 0 … n) and positions "x", "y" (float32, NaN outside the box grown by
    CLIP_MARGIN; absent where they equal the path trace's)."""

    plane: list[dict]
    exit: list[dict]
    annotations: list[dict]
    anim: dict
    last_step: int


class SurfaceLayerView(NamedTuple):
    """The live plane's surface part: traces before the runs (colour bar, −∇f field) and after
    them (stationary points), the layout with the raster underlay, and f on a coarse grid for
    the hover read-out."""

    traces: list[dict]
    before_runs: int
    layout: dict
    hover: dict


def _colour_bar(contour: dict) -> dict:
    """The contour's colour bar on an empty marker trace: the live plane has no contour trace
    (plotly.js redraws one on every update; the raster underlay shows the surface instead)."""
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "name": "surface",
        "showlegend": False,
        "hoverinfo": "skip",
        "marker": {
            "colorscale": contour["colorscale"],
            "cmin": contour["zmin"],
            "cmax": contour["zmax"],
            "color": [contour["zmin"]],
            "showscale": True,
            "colorbar": contour["colorbar"],
        },
    }


def live_surface(
    grid: Grid,
    surface: Surface,
    points: Sequence[CriticalPoint],
    layer: SurfaceLayer,
    *,
    field: Field | None = None,
    view_box: Box | None = None,
) -> SurfaceLayerView:
    """The surface part of the live plane (see `SurfaceLayerView`)."""
    box = view_box or surface.box
    layout = plane_layout(box, f"{surface.key}:{box}") | {"images": [layer.image]}
    rows = np.linspace(0, len(grid.y) - 1, HOVER_POINTS).round().astype(int)
    columns = np.linspace(0, len(grid.x) - 1, HOVER_POINTS).round().astype(int)
    hover = {
        "n": HOVER_POINTS,
        "box": list(box_of(grid)),
        "f": typed(np.clip(grid.z[np.ix_(rows, columns)], -3e38, 3e38), np.float32),
    }
    traces = [_colour_bar(layer.trace), field_trace(field), *critical_traces(points)]
    return SurfaceLayerView(traces, FIRST_RUN_TRACE, layout, hover)


def _state_points(run: RunView, index: int, name: str, points: np.ndarray, box: Box) -> dict:
    """A point the rule keeps besides w_k (a state entry named "…_point": SAM's adversarial
    point, Schedule-Free's averaged point), as open markers in the run's colour."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    kept = np.unique(np.linspace(0, len(points) - 1, STATE_POINTS).round().astype(int))
    shown = points[kept] if len(points) else np.empty((0, 2))
    shown = in_view(shown, box)
    label = name.replace("_", " ")
    return {
        "type": "scatter",
        "x": typed(shown[:, 0], np.float32),
        "y": typed(shown[:, 1], np.float32),
        "mode": "markers",
        "name": f"{run.label}: {label}",
        "legendgroup": f"run-{index}",
        "showlegend": False,
        "marker": {"symbol": "circle-open", "size": 6, "color": run.color, "opacity": 0.7},
        "hovertemplate": f"{escape(run.label)}<br>{label} (%{{x:.4~g}}, %{{y:.4~g}})"
        "<extra></extra>",
    }


STEP_ARROWS = {  # state entry → its label; drawn as −entry, the way it pushes the step
    "velocity": "−v (velocity)",
    "momentum": "−m (momentum)",
    "m_hat": "−m̂ (mean gradient)",
}


def _step_arrows(run: RunView, index: int, step: int) -> list[dict]:
    """At the inspected `step`, arrows from w_k: the update Δw_k itself, and the directions of
    −∇f(w_k) and of the rule's momentum-like state (−v, −m̂), drawn at the update's length so
    that they compare by direction."""
    t = run.trajectory
    if not 0 <= step < len(t.update):
        return []
    start, update = np.asarray(t.positions[step], float), np.asarray(t.update[step], float)
    length = float(np.linalg.norm(update))
    if not math.isfinite(length) or length == 0:
        return []
    pushes = [("update Δw_k", update, "solid")]
    vectors = {"−∇f (direction)": t.grad[step]}
    vectors |= {text: t.state[key][step] for key, text in STEP_ARROWS.items() if key in t.state}
    for label, vector in vectors.items():
        norm = float(np.linalg.norm(vector))
        if math.isfinite(norm) and norm > 0:
            pushes.append((label, -np.asarray(vector, float) / norm * length, "dot"))
    return [
        {
            "type": "scatter",
            "x": [start[0], start[0] + push[0]],
            "y": [start[1], start[1] + push[1]],
            "mode": "lines+markers",
            "name": f"{run.label}: {label} at step {step}",
            "legendgroup": f"run-{index}",
            "showlegend": False,
            "line": {"color": run.color, "width": 2.5 if dash == "solid" else 1.8, "dash": dash},
            "marker": {"symbol": ["circle", "arrow"], "angleref": "previous", "size": [1, 11]},
            "hovertemplate": f"{escape(run.label)}<br>{label} at step {step}<extra></extra>",
        }
        for label, push, dash in pushes
    ]


def live_run(
    run: RunView, index: int, box: Box, step: int | None = None, path_points: int = LIVE_PATH_POINTS
) -> RunLayer:
    """Run `index` on the live plane (see `RunLayer`), its path sampled to `path_points`: its points
    kept in the optimizer's state ("…_point") are drawn with its exit marker, and at an
    inspected `step` its arrows."""
    geometry = RunGeometry.of(run.trajectory, box, path_points)
    exit_marker, annotations = exit_layers([run], box)
    exit_marker += [
        _state_points(run, index, name, values, box)
        for name, values in run.trajectory.state.items()
        if name.endswith("_point")
    ]
    exit_marker += _step_arrows(run, index, step) if step is not None else []
    steps = geometry.full_steps
    points = in_view(geometry.positions[steps] if len(steps) else np.empty((0, 2)), box)
    traces = run_traces(run, index, geometry, geometry.last)
    # Play's points: the path's own where clipping inserted nothing (no copy sent), and the
    # steps only where they are not every step.
    anim: dict[str, object] = {}
    if not np.array_equal(steps, np.arange(len(steps))):
        anim["steps"] = typed(steps, np.int32)
    path = traces[0]
    if not np.array_equal(array_of(path["x"]), points[:, 0], equal_nan=True):
        anim |= {"x": typed(points[:, 0], np.float32), "y": typed(points[:, 1], np.float32)}
    return RunLayer(traces, exit_marker, annotations, anim, max(geometry.last, 0))
