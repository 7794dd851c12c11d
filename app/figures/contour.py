"""The animated contour figure (the HTML export's figure) and its standalone page.

Its traces follow the order in `app.figures.plane`. Streamlit only reports selections, and
contour traces cannot be selected, so a click on the plot selects the nearest start-picker
point, whose (x, y) is the start point picked: point index k is (xs[k % 41], ys[k // 41]) with
xs, ys = linspace over the box's x and y ranges. Animation frames update the run traces only
(`traces=[2, 3, …]`) and are named by their step; Play redraws only on its last frame, over a
raster copy of the surface in layout.images that stays on screen meanwhile (see
`_animation_controls`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.figures.geometry import RunGeometry
from app.figures.plane import (
    FIRST_RUN_TRACE,
    TRACES_PER_RUN,
    SurfaceLayer,
    critical_traces,
    equal_scale,
    exit_layers,
    field_trace,
    plane_layout,
    run_traces,
    surface_layer,
)
from app.figures.style import Box, RunView
from app.figures.transport import SpecFigure, typed
from surfaces.base import CriticalPoint, Surface
from surfaces.grid import Field, Grid

PICKER_NAME = "start-picker"
PICKER_POINTS = 41  # per side of the clickable grid: 1681 SVG markers redraw in ~0.2 s
MAX_FRAMES = 120
FRAME_MS = 60  # frame duration at 1× speed
SPEEDS = (0.5, 1.0, 2.0)


def _frame_steps(last_step: int, frames: int) -> list[int]:
    """At most `frames` steps from 0 to `last_step`, evenly spread, both ends included."""
    count = max(1, min(frames, last_step + 1))
    return sorted({int(s) for s in np.linspace(0, last_step, count).round()})


def _animation_controls(names: list[str]) -> dict:
    """Play buttons (one per speed, each playing every frame from step 0), Pause, and a step
    slider.

    Intermediate Play frames do not redraw (`redraw: False`: ~40 ms a frame instead of ~290 ms
    in headless Chromium). Such a transition makes plotly.js drop the contour layer (plotly.py
    #2151, plotly.js#4491; still so in plotly.js 4.1): the surface's raster underlay in
    layout.images shows through meanwhile. It also stops click/select events, so the last Play
    frame, every slider step and Pause redraw, which brings the contour back and keeps clicks
    alive. Play's frame options count from the first frame played, so Play always starts at
    step 0 (a Play resumed mid-way would end without its redraw); Pause animates to an empty
    frame object, which stops the queue and redraws (`[None]` would stop without redrawing).
    """
    immediate = {"mode": "immediate", "transition": {"duration": 0}}
    redraw = {"duration": 0, "redraw": True}

    def play(speed: float) -> dict:
        frame = {"duration": FRAME_MS / speed, "redraw": False}
        frames = [frame] * (len(names) - 1) + [{**frame, "redraw": True}]
        return {
            "label": f"▶ {speed:g}×",
            "method": "animate",
            "args": [None, {**immediate, "frame": frames}],
        }

    pause = {
        "label": "❚❚",
        "method": "animate",
        "args": [[{}], {**immediate, "frame": redraw}],
    }
    buttons = {
        "type": "buttons",
        "direction": "left",
        "showactive": False,
        "x": 0,
        "y": 0,
        "xanchor": "left",
        "yanchor": "top",
        "pad": {"t": 28, "r": 8},
        "buttons": [*(play(speed) for speed in SPEEDS), pause],
    }
    slider = {
        "active": len(names) - 1,
        "x": 0.36,
        "len": 0.64,
        "y": 0,
        "yanchor": "top",
        "pad": {"t": 18},
        "ticklen": 0,
        "minorticklen": 0,
        "font": {"color": "rgba(0,0,0,0)"},  # 120 step labels would overlap; the value shows above
        "currentvalue": {  # over the slider's right end, clear of the buttons on its left
            "prefix": "step ",
            "xanchor": "right",
            "font": {"size": 12, "color": "#444"},
        },
        "transition": {"duration": 0},
        "steps": [
            {
                "label": name,
                "method": "animate",
                "args": [[name], {**immediate, "frame": redraw}],
            }
            for name in names
        ],
    }
    return {"updatemenus": [buttons], "sliders": [slider]}


def _picker_trace(box: Box, grid: Grid) -> dict:
    """Invisible, clickable points covering the box: a click selects one as the start point.

    Its hover also reads f off the nearest grid node: Plotly gives hover to these points, never
    to the contour beneath them.
    """
    xs = np.linspace(box[0], box[1], PICKER_POINTS)
    ys = np.linspace(box[2], box[3], PICKER_POINTS)
    X, Y = np.meshgrid(xs, ys)
    column = np.abs(grid.x[None, :] - xs[:, None]).argmin(axis=1)
    row = np.abs(grid.y[None, :] - ys[:, None]).argmin(axis=1)
    invisible = {"marker": {"opacity": 0}}
    return {
        "type": "scatter",
        "x": typed(X.ravel()),
        "y": typed(Y.ravel()),
        "customdata": typed(grid.z[np.ix_(row, column)].ravel(), np.float32),
        "mode": "markers",
        "name": PICKER_NAME,
        "showlegend": False,
        "marker": {"size": 10, "opacity": 0, "color": "black"},
        "selected": invisible,
        "unselected": invisible,
        "hovertemplate": "(%{x:.3~g}, %{y:.3~g})  f ≈ %{customdata:.4~g}<br>click: start here"
        "<extra></extra>",
        "hoverlabel": {"bgcolor": "rgba(255,255,255,0.85)", "font": {"size": 11}},
    }


def contour_figure(
    grid: Grid,
    surface: Surface,
    points: Sequence[CriticalPoint],
    runs: Sequence[RunView],
    *,
    frames: int = MAX_FRAMES,
    field: Field | None = None,
    view_box: Box | None = None,
    layer: SurfaceLayer | None = None,
) -> go.Figure:
    """The surface as a filled contour with every run's path, known stationary points, an optional
    −∇f field, a start-picker grid and Play/Pause/slider animation (see the module docstring for
    the trace order). Axes stay on `view_box` (default: the surface's box); paths are clipped to
    it, grown by 5 %, and a run that leaves is marked where it crossed the edge.

    Frames (at most `frames`, named by step) carry each run's path up to that step, sampled to
    FRAME_PATH_POINTS, and its current position: the JSON grows linearly with the step count
    until the sampling caps it. The initial view and the last frame show the full paths.
    `layer` is `surface_layer(grid, f*)` (f*: the lowest global minimum in `points`), passed in
    when the caller keeps it between figures of the same surface.
    """
    box = view_box or surface.box
    geometries = [RunGeometry.of(run.trajectory, box) for run in runs]
    last_step = max((g.last for g in geometries), default=-1)
    minimum = min((p.value for p in points if p.kind == "global"), default=None)
    contour, underlay = layer or surface_layer(grid, minimum)
    data = [contour, field_trace(field)]
    for index, (run, geometry) in enumerate(zip(runs, geometries, strict=True)):
        data += run_traces(run, index, geometry, last_step)
    exit_markers, annotations = exit_layers(runs, box)
    data += [*critical_traces(points), *exit_markers, _picker_trace(box, grid)]
    layout = plane_layout(box, f"{surface.key}:{box}", equal_scale(surface, box))
    layout |= {"annotations": annotations, "images": [underlay]}
    if last_step < 0:
        return SpecFigure(data, layout)

    steps = _frame_steps(last_step, frames)
    run_trace_ids = list(range(FIRST_RUN_TRACE, FIRST_RUN_TRACE + TRACES_PER_RUN * len(runs)))
    frame_specs = [
        {
            "name": str(step),
            "traces": run_trace_ids,
            "data": [d for g in geometries for d in g.frame_data(step, full=step == last_step)],
        }
        for step in steps
    ]
    layout |= _animation_controls([str(step) for step in steps])
    return SpecFigure(data, layout, frame_specs)


# Pause, another speed, or a slider step pressed while Play runs interrupts `Plotly.animate`, whose
# promise plotly.js then rejects with no reason; its Play / Pause buttons and slider never catch it,
# so the browser reports "Uncaught (in promise) undefined" as a page error. This script notes when
# plotly.js announces the interruption (`plotly_animationinterrupted` on the graph div, emitted just
# before the rejection) and swallows exactly that rejection: no reason, within a second of an
# interruption. Anything else still surfaces. The page runs it from its head
# (app/live/component.py); the exported HTML runs it after its plot.
ANIMATION_GUARD = """(() => {
  if (window.__descentLabAnimationGuard) return;
  window.__descentLabAnimationGuard = true;
  let interruptedAt = -Infinity;
  const hook = (gd) => {
    if (gd && gd.on && !gd.__descentLabHooked) {
      gd.__descentLabHooked = true;
      gd.on("plotly_animationinterrupted", () => { interruptedAt = performance.now(); });
    }
  };
  document.querySelectorAll(".js-plotly-plot").forEach(hook);
  document.addEventListener("pointerdown", (event) => {
    hook(event.target.closest && event.target.closest(".js-plotly-plot"));
  }, true);
  window.addEventListener("unhandledrejection", (event) => {
    if (event.reason === undefined && performance.now() - interruptedAt < 1000) {
      event.preventDefault();
    }
  });
})();"""


def export_html(fig: go.Figure) -> str:
    """A standalone HTML page with plotly.js inlined: plays offline, does not start by itself,
    and pausing it raises no page error (the page's animation guard runs after the plot)."""
    return fig.to_html(
        include_plotlyjs=True, full_html=True, auto_play=False, post_script=ANIMATION_GUARD
    )
