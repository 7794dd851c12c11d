"""The layers of the (x, y) plane that the contour figure, the live view's plane and the analyses
share: the surface as filled contour bands and their raster copy, the −∇f field, stationary
points, a run's path and marker, where a run left the box, and the plane's axes.

The contour figure's traces come in a fixed order:

    0                    "surface"          the filled contour (SURFACE_TRACE)
    1                    "gradient field"   −∇f arrows, empty and hidden without a field
    2 + 2r, 3 + 2r       run r's path (named by its label) and its current-position marker
    then                 "global minimum", "local minimum", "saddle point", "left the box"
                         (only those that occur)
    last                 "start-picker"     an invisible 41 × 41 scatter grid over the box
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from app.figures import raster
from app.figures.geometry import RunGeometry
from app.figures.style import KIND_STYLE, SURFACE_COLORSCALE, Box, RunView, escape, path_width
from app.figures.transport import typed
from optimizers.engine import box_exit, escape_path
from surfaces.base import CriticalPoint, Surface
from surfaces.grid import Field, Grid, LogLevels, arrow_vectors, log_levels

SURFACE_TRACE = 0
FIELD_TRACE = 1
FIRST_RUN_TRACE = 2
TRACES_PER_RUN = 2  # path, then current-position marker
FIELD_NAME = "gradient field"
CONTOUR_LEVELS = 28
SURFACE_IMAGE = "surface"  # the contour's raster underlay in layout.images
IMAGE_PIXELS = 640  # the underlay's longer side
MAX_ASPECT = 3.0  # a data surface's plane drops equal scales past this box aspect
ARROW_CELL_FRACTION = 0.45  # the longest arrow, as a fraction of the field's grid spacing
ARROW_HEAD = 0.3  # barb length as a fraction of the arrow
ARROW_HEAD_ANGLE = math.radians(25)


def colouring(z: np.ndarray, min_value: float | None) -> tuple[np.ndarray, dict, LogLevels]:
    """Colour values and colorbar: log10(f − f_min + ε) with ticks at real f values where the
    surface spans decades, plain f otherwise."""
    levels = log_levels(z, min_value)
    colorbar = {"title": {"text": "f"}, "thickness": 12, "outlinewidth": 0}
    if not levels.use_log:
        return z, colorbar, levels
    values, labels = zip(*levels.ticks, strict=True)
    colorbar |= {"tickmode": "array", "tickvals": list(values), "ticktext": list(labels)}
    return levels.color, colorbar, levels


def colour_range(colour: np.ndarray, levels: LogLevels) -> tuple[float, float]:
    """The colour scale's ends: from log10 ε (f_min itself, its tick at the bottom) on a log
    scale, from the grid's minimum on a linear one, to the grid's maximum."""
    low = levels.ticks[0][0] if levels.use_log else float(colour.min())
    return low, float(colour.max())


def _levels(zmin: float, zmax: float) -> dict:
    """Explicit contour levels: CONTOUR_LEVELS equal bands from zmin to zmax (the levels are the
    inner edges), shared by the contour trace and its raster underlay."""
    size = (zmax - zmin) / CONTOUR_LEVELS if zmax > zmin else 1.0
    return {"start": zmin + size, "end": zmin + (CONTOUR_LEVELS - 1) * size, "size": size}


class SurfaceLayer(NamedTuple):
    """The contour figure's part that depends on the surface only: the filled contour trace and
    its raster copy (a layout image). Build it once per surface with `surface_layer`."""

    trace: dict
    image: dict


def surface_layer(grid: Grid, min_value: float | None) -> SurfaceLayer:
    """The filled contour (hover is left to the start-picker above it, which would win anyway)
    and a layout image of the same bands to lay under it: plotly.js drops the contour during
    redraw-less animation frames, the image stays (see `contour._animation_controls`)."""
    colour, colorbar, levels = colouring(grid.z, min_value)
    zmin, zmax = colour_range(colour, levels)
    contours = _levels(zmin, zmax)
    trace = {
        "type": "contour",
        "x": typed(grid.x),
        "y": typed(grid.y),
        "z": typed(colour, np.float32),  # float32: half the bytes, far finer than the colours
        "zmin": zmin,
        "zmax": zmax,
        "name": "surface",
        "showlegend": False,
        "hoverinfo": "skip",
        "colorscale": SURFACE_COLORSCALE,
        "autocontour": False,
        "contours": {"coloring": "fill", "showlines": True, **contours},
        "line": {"width": 0.5, "color": f"rgba(0,0,0,{raster.LINE_ALPHA})"},
        "colorbar": colorbar,
    }
    x0, x1, y0, y1 = box_of(grid)
    ratio = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
    pixels = (IMAGE_PIXELS, max(1, round(IMAGE_PIXELS * ratio)))
    if ratio > 1:
        pixels = (max(1, round(IMAGE_PIXELS / ratio)), IMAGE_PIXELS)
    png = raster.banded_png(grid.x, grid.y, colour, contours, SURFACE_COLORSCALE, pixels)
    image = {
        "name": SURFACE_IMAGE,
        "source": raster.data_uri(png),
        "xref": "x",
        "yref": "y",
        "x": x0,
        "y": y1,
        "sizex": x1 - x0,
        "sizey": y1 - y0,
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
    }
    return SurfaceLayer(trace, image)


def box_of(grid: Grid) -> Box:
    """The box (x0, x1, y0, y1) a grid covers."""
    return float(grid.x[0]), float(grid.x[-1]), float(grid.y[0]), float(grid.y[-1])


def _arrow_polyline(field: Field) -> np.ndarray:
    """Arrows as one polyline: shaft tail → tip, NaN, barb → tip → barb, NaN; zero arrows out."""
    spacing = min(abs(field.X[0, 1] - field.X[0, 0]), abs(field.Y[1, 0] - field.Y[0, 0]))
    dx, dy = arrow_vectors(field, ARROW_CELL_FRACTION * spacing)
    tail = np.stack([field.X.ravel(), field.Y.ravel()], axis=1)
    shaft = np.stack([dx.ravel(), dy.ravel()], axis=1)
    drawn = np.hypot(shaft[:, 0], shaft[:, 1]) > 0
    tail, shaft = tail[drawn], shaft[drawn]
    tip = tail + shaft
    cos, sin = math.cos(ARROW_HEAD_ANGLE), math.sin(ARROW_HEAD_ANGLE)
    back = -ARROW_HEAD * shaft
    left = tip + back @ np.array([[cos, sin], [-sin, cos]])
    right = tip + back @ np.array([[cos, -sin], [sin, cos]])
    gap = np.full_like(tip, np.nan)
    return np.stack([tail, tip, gap, left, tip, right, gap], axis=1).reshape(-1, 2)


def field_trace(field: Field | None) -> dict:
    """The −∇f arrows as one line trace (FIELD_NAME); empty and hidden without a field."""
    xy = _arrow_polyline(field) if field is not None else np.empty((0, 2))
    return {
        "type": "scatter",
        "x": typed(xy[:, 0], np.float32),
        "y": typed(xy[:, 1], np.float32),
        "mode": "lines",
        "name": FIELD_NAME,
        "showlegend": False,
        "visible": field is not None,
        "line": {"color": "rgba(40,40,40,0.5)", "width": 1},
        "hoverinfo": "skip",
    }


def critical_traces(points: Sequence[CriticalPoint]) -> list[dict]:
    """One marker trace per kind present: stars for minima (gold global, white local), × saddles."""
    traces = []
    for kind, (name, marker) in KIND_STYLE.items():
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        traces.append(
            {
                "type": "scatter",
                "x": [p.x for p in chosen],
                "y": [p.y for p in chosen],
                "mode": "markers",
                "name": name,
                "marker": marker,
                "unselected": {"marker": {"opacity": 1}},
                "hovertext": [
                    f"{name}<br>({p.x:.4g}, {p.y:.4g})<br>f = {p.value:.6g}" for p in chosen
                ],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    return traces


def run_traces(run: RunView, index: int, geometry: RunGeometry, step: int) -> list[dict]:
    """The styled path (with its legend entry) and current-position marker of run `index`."""
    group = f"run-{index}"
    path, head = geometry.frame_data(step, full=True)
    path_trace = dict(
        path,
        type="scatter",
        mode="lines",
        name=run.label,
        legendgroup=group,
        line={"color": run.color, "width": path_width(index)},
        hoverinfo="skip",
    )
    head_trace = dict(
        head,
        type="scatter",
        mode="markers",
        name=f"{run.label} (now)",
        legendgroup=group,
        showlegend=False,
        marker={"color": run.color, "size": 11, "line": {"color": "white", "width": 1.5}},
        unselected={"marker": {"opacity": 1}},
        hovertemplate=(
            f"<b>{escape(run.label)}</b><br>(%{{x:.4~g}}, %{{y:.4~g}})<br>"
            f"{escape(run.status_text)}<extra></extra>"
        ),
    )
    return [path_trace, head_trace]


def exit_layers(runs: Sequence[RunView], box: Box) -> tuple[list[dict], list[dict]]:
    """A marker and an annotation at the box edge where each run that ends outside left it,
    counting the finite point a diverged run's last step reached where f was not finite (its
    escape path: the drawn positions stop before such a point). The status sentence names the
    same exit (both are `engine.box_exit`)."""
    exits = [
        (run, found)
        for run in runs
        if (found := box_exit(escape_path(run.trajectory), box)) is not None
    ]
    if not exits:
        return [], []
    centre = np.array([(box[0] + box[1]) / 2, (box[2] + box[3]) / 2])
    annotations = []
    for run, (step, point) in exits:
        inward = np.sign(centre - point)
        annotations.append(
            {
                "x": point[0],
                "y": point[1],
                "text": f"left at step {step}",
                "showarrow": True,
                "arrowcolor": run.color,
                "arrowwidth": 1.5,
                "ax": 40 * inward[0],
                "ay": -30 * inward[1],
                "font": {"color": run.color, "size": 11},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    marker = {
        "type": "scatter",
        "x": [point[0] for _, (_, point) in exits],
        "y": [point[1] for _, (_, point) in exits],
        "mode": "markers",
        "name": "left the box",
        "showlegend": False,
        "cliponaxis": False,  # on the edge: draw the whole ring
        "marker": {
            "symbol": "circle-open",
            "size": 14,
            "color": [run.color for run, _ in exits],
            "line": {"width": 3},
        },
        "unselected": {"marker": {"opacity": 1}},
        "hovertext": [
            f"{escape(run.label)} left the box at step {step}<br>{escape(run.status_text)}"
            for run, (step, _) in exits
        ],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    return [marker], annotations


def equal_scale(surface: Surface, box: Box) -> bool:
    """Whether the plane keeps x and y at one scale (level sets keep their shape and −∇f stays
    perpendicular to them): always, but for a data surface ("Your data") whose box is over
    MAX_ASPECT times longer one way than the other, where w and b live on unlike scales and
    one scale would leave a sliver (hours against scores: 70 px wide)."""
    width, height = box[1] - box[0], box[3] - box[2]
    recipe = surface.recipe or ()
    data = bool(recipe) and recipe[0] == "data"
    return not data or max(width / height, height / width) <= MAX_ASPECT


def plane_layout(box: Box, key: str, equal: bool = True) -> dict:
    """Axes fixed to the box (at equal scale if `equal`, see `equal_scale`), legend on top,
    small margins, zoom kept on reruns."""
    axis = {
        "constrain": "domain",
        "showgrid": False,
        "zeroline": False,
        "ticks": "outside",
        "mirror": True,
    }
    return {
        "uirevision": key,
        "height": 620,
        "margin": {"l": 10, "r": 10, "t": 44, "b": 80},
        # Raised off the plot's top edge, so that it does not cover half of the top y tick label.
        "legend": {"orientation": "h", "x": 0, "y": 1.025, "xanchor": "left", "yanchor": "bottom"},
        "hovermode": "closest",
        "clickmode": "event+select",
        "xaxis": dict(axis, range=[box[0], box[1]], autorange=False),
        "yaxis": dict(axis, range=[box[2], box[3]], autorange=False)
        | ({"scaleanchor": "x", "scaleratio": 1} if equal else {}),
    }
