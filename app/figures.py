"""Plotly figures: pure functions from grids and trajectories to `go.Figure`.

No Streamlit here and no maths beyond layout and downsampling (the surface maths is in
`surfaces.grid`). The contour figure's traces come in a fixed order:

    0                    "surface"          the filled contour
    1                    "gradient field"   −∇f arrows (empty and hidden without a field)
    2 + 2r, 3 + 2r       run r's path (named by its label) and its current-position marker
    then                 "global minimum", "local minimum", "saddle point", "left the box"
                         (only those that occur)
    last                 "start-picker"     an invisible 41 × 41 scatter grid over the box

Streamlit only reports selections, and contour traces cannot be selected, so a click on the
plot selects the nearest start-picker point, whose (x, y) is the start point picked: point
index k is (xs[k % 41], ys[k // 41]) with xs, ys = linspace over the box's x and y ranges.
Animation frames update the run traces only (`traces=[2, 3, …]`) and are named by their step;
Play redraws only on its last frame, over a raster copy of the surface in layout.images that
stays on screen meanwhile (see `_animation_controls`). Data arrays are plotly.js typed-array
specs; `array_of` reads any of them back as numpy.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from app import raster
from optimizers.engine import Trajectory, box_exit, escape_path
from optimizers.sharpness import Sharpness
from surfaces.base import CriticalPoint, PointKind, Surface
from surfaces.grid import Field, Grid, LogLevels, arrow_vectors, log_levels

# Okabe–Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
SURFACE_COLORSCALE = [[0.0, "#ffffff"], [0.35, "#e3e3e3"], [1.0, "#6b6b6b"]]
CONTOUR_LEVELS = 28
SURFACE_IMAGE = "surface"  # the contour's raster underlay in layout.images
IMAGE_PIXELS = 640  # the underlay's longer side
TOP_LEGEND = {"orientation": "h", "x": 0, "y": 1.0, "xanchor": "left", "yanchor": "bottom"}

SURFACE_TRACE = 0
FIELD_TRACE = 1
FIRST_RUN_TRACE = 2
TRACES_PER_RUN = 2  # path, then current-position marker
PICKER_NAME = "start-picker"
FIELD_NAME = "gradient field"
PICKER_POINTS = 41  # per side of the clickable grid: 1681 SVG markers redraw in ~0.2 s

MAX_FRAMES = 120
FRAME_PATH_POINTS = 200  # a path in an intermediate frame is sampled down to this many points
PATH_POINTS = 2000  # the full path (initial view and last frame) is sampled down to this many
LIVE_PATH_POINTS = 800  # … on the live plane, where plotly.js redraws paths while a rate is dragged
METRIC_POINTS = 2000  # per metric curve, by min-max decimation
METRIC_GAP = 0.05  # the gap between two metric rows, as a share of the figure
METRIC_ROW_PX = 180  # the metrics figure's height per row
SHARPNESS_TITLE = "sharpness λ_max<br>of ∇²L at w_k"
HEADROOM_DECADES = 3.0  # a log metric axis ends this many decades above the highest start …
HEADROOM_SPANS = 2.0  # … a linear one this many (start − lowest) spans above it
LOG_TICKS = 6  # at most about this many decade labels on a metric log axis …
LOG_TICK_MIN_DECADES = 1.5  # … once it spans this many decades (else Plotly's own ticks)
FLOOR_DECADES = 12  # a log metric axis ends this many decades below the highest start …
MAX_DECADES = 14  # … and spans at most this many: lower values leave through the bottom edge
LOSS_FLOOR = 1e-16  # f − f* at or below this × max(1, |f*|) is the minimum to machine precision
LOSS_OFFSET = 1e-6  # f* unknown: the reference is the lowest loss less this × the loss's drop
MAX_ASPECT = 3.0  # a data surface's plane drops equal scales past this box aspect
CLIP_MARGIN = 0.05  # paths are clipped to the view box grown by this fraction on each side
FRAME_MS = 60  # frame duration at 1× speed
SPEEDS = (0.5, 1.0, 2.0)
ARROW_CELL_FRACTION = 0.45  # the longest arrow, as a fraction of the field's grid spacing
ARROW_HEAD = 0.3  # barb length as a fraction of the arrow
ARROW_HEAD_ANGLE = math.radians(25)
LIFT_3D = 0.01  # paths in 3-D float this fraction of the z range above the surface

KIND_STYLE: dict[PointKind, tuple[str, dict]] = {
    "global": (
        "global minimum",
        {"symbol": "star", "size": 17, "color": "#FFD23F", "line": {"color": "black", "width": 1}},
    ),
    "local": (
        "local minimum",
        {"symbol": "star", "size": 13, "color": "white", "line": {"color": "black", "width": 1}},
    ),
    "saddle": (
        "saddle point",
        {"symbol": "x-thin", "size": 11, "color": "black", "line": {"color": "black", "width": 2}},
    ),
}
Box = tuple[float, float, float, float]
WHITE_TEMPLATE = pio.templates["plotly_white"].to_plotly_json()


@dataclass(frozen=True)
class RunView:
    """One run as drawn: its legend label (e.g. "Adam η=0.05 · cosine"), colour, data and the
    one-line status shown on hover."""

    label: str
    color: str
    trajectory: Trajectory
    status_text: str


# Downsampling and clipping.


def _path_indices(arc: np.ndarray, upto: int, limit: int) -> np.ndarray:
    """Indices 0 … upto, all of them when they fit in `limit`, else at most `limit`: half evenly
    spaced in steps, half evenly spaced along the path's length (dense where it moves fast, so
    early zig-zags survive); both ends always."""
    if upto < limit:
        return np.arange(upto + 1)
    by_step = np.linspace(0, upto, limit // 2).round().astype(int)
    targets = np.linspace(0.0, arc[upto], limit - limit // 2)
    by_length = np.searchsorted(arc[: upto + 1], targets).clip(0, upto)
    return np.union1d(by_step, by_length)


def _decimated(values: np.ndarray, limit: int) -> np.ndarray:
    """Indices keeping each bucket's smallest and largest value (spikes survive), ≤ `limit`."""
    n = len(values)
    if n <= limit:
        return np.arange(n)
    size = math.ceil(n / (limit // 2))
    padded = np.concatenate([values, np.full(-n % size, values[-1])]).reshape(-1, size)
    starts = np.arange(0, padded.size, size)
    picks = np.concatenate([starts + padded.argmin(1), starts + padded.argmax(1), [n - 1]])
    return np.unique(picks.clip(0, n - 1))


def _grown(box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of `box` grown by CLIP_MARGIN of its size on each side."""
    x0, x1, y0, y1 = box
    pad = CLIP_MARGIN * np.array([x1 - x0, y1 - y0])
    return np.array([x0, y0]) - pad, np.array([x1, y1]) + pad


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


def _clipped(points: np.ndarray, box: Box) -> np.ndarray:
    """The polyline `points` clipped to the grown box: segments with an end inside, cut at the
    edge; NaN rows separate the pieces (a run that leaves and comes back)."""
    lo, hi = _grown(box)
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


def _exit(points: np.ndarray, box: Box) -> tuple[int, np.ndarray] | None:
    """Where a run that ends outside `box` left it for good: the step of its first position
    outside after its last one inside, and the point where that step crosses the box edge;
    None when the run ends inside (or never was inside). The status sentence names the same
    (both are `engine.box_exit`)."""
    return box_exit(points, box)


# Runs in the contour figure.


def _typed(values: object, dtype: type = np.float64) -> dict | list:
    """A plotly.js typed-array spec (base64, with its shape when 2-D): what plotly.py emits for
    numpy arrays anyway, but built directly, since validating the arrays costs seconds."""
    with np.errstate(over="ignore"):  # beyond float32's range: ±inf, shown as such
        values = np.ascontiguousarray(values, dtype=dtype)
    if not values.size:
        return []
    spec = {"dtype": np.dtype(dtype).str[1:], "bdata": base64.b64encode(values.tobytes()).decode()}
    if values.ndim > 1:
        spec["shape"] = ",".join(str(n) for n in values.shape)
    return spec


class SpecFigure(go.Figure):
    """A go.Figure over ready plain-dict traces, layout and frames (arrays as typed-array specs),
    built without plotly.py's validation and handed to Streamlit by `to_dict` without its deep
    copy and base64 pass: for a 120-frame contour those take ~200 ms per rerun, this ~5 ms.
    The frames are validated only when read through `frames` (the tests do, the app does not).
    """

    def __init__(self, data: list[dict], layout: dict, frames: list[dict] | None = None) -> None:
        super().__init__(
            {"data": data, "layout": {"template": WHITE_TEMPLATE, **layout}}, _validate=False
        )
        self._frame_specs = frames or []

    @property
    def frames(self) -> tuple[go.Frame, ...]:
        return tuple(go.Frame(frame) for frame in self._frame_specs)

    def to_dict(self) -> dict:
        """The figure as plotly.js reads it (shared, not copied: read it, do not change it)."""
        spec = {"data": self._data, "layout": self._layout}
        if self._frame_specs:
            spec["frames"] = self._frame_specs
        return spec


def array_of(value: object) -> np.ndarray:
    """Figure data as float64 numpy, whether a typed-array spec, a list or an array."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return data.reshape([int(n) for n in str(shape).split(",")] if shape else -1).astype(float)
    return np.asarray(value if value is not None else [], dtype=np.float64)


@dataclass(frozen=True)
class _RunGeometry:
    """A run's positions and the steps drawn: ≤ PATH_POINTS for the full path, a coarser fixed
    set of ≤ FRAME_PATH_POINTS for the intermediate frames (fixed, so a path does not flicker
    as it grows)."""

    positions: np.ndarray
    box: Box
    full_steps: np.ndarray
    frame_steps: np.ndarray

    @classmethod
    def of(cls, trajectory: Trajectory, box: Box, points: int = PATH_POINTS) -> _RunGeometry:
        positions = np.asarray(trajectory.positions, dtype=np.float64).reshape(-1, 2)
        lo, hi = _grown(box)
        moves = np.linalg.norm(np.diff(np.clip(positions, lo, hi), axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(moves)])
        last = len(positions) - 1
        if last < 0:
            return cls(positions, box, np.empty(0, int), np.empty(0, int))
        return cls(
            positions,
            box,
            _path_indices(arc, last, points),
            _path_indices(arc, last, FRAME_PATH_POINTS),
        )

    @property
    def last(self) -> int:
        return len(self.positions) - 1

    def path(self, step: int, full: bool) -> np.ndarray:
        """The drawn path from step 0 to `step` (clipped, with NaN gaps where it is outside)."""
        upto = min(step, self.last)
        if upto < 0:
            return np.empty((0, 2))
        steps = self.full_steps if full else self.frame_steps
        return _clipped(self.positions[np.append(steps[steps < upto], upto)], self.box)

    def head(self, step: int) -> np.ndarray:
        """The position at `step` (or the last one), NaN when it lies outside the grown box."""
        if self.last < 0:
            return np.full((1, 2), np.nan)
        point = self.positions[min(step, self.last)][None]
        lo, hi = _grown(self.box)
        return point if ((point >= lo) & (point <= hi)).all() else np.full((1, 2), np.nan)

    def frame_data(self, step: int, full: bool) -> list[dict]:
        """Path and current position at `step`, the only data a frame carries: float64 for the
        full path, float32 (half the bytes, ample for drawing) for intermediate frames."""
        dtype = np.float64 if full else np.float32
        return [
            {"x": _typed(xy[:, 0], dtype), "y": _typed(xy[:, 1], dtype)}
            for xy in (self.path(step, full), self.head(step))
        ]


def _escape(text: str) -> str:
    """Plain text for Plotly's HTML-like labels (so "η < 2/κ" is not read as a tag)."""
    return html.escape(text, quote=False)


def path_width(index: int) -> float:
    """Run `index`'s path width: later runs thinner, so that a path drawn over an earlier one
    leaves it showing on both sides (a halo) where they overlap."""
    return 3.8 - 0.45 * min(index, 5)


def _run_traces(run: RunView, index: int, geometry: _RunGeometry, step: int) -> list[dict]:
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
            f"<b>{_escape(run.label)}</b><br>(%{{x:.4~g}}, %{{y:.4~g}})<br>"
            f"{_escape(run.status_text)}<extra></extra>"
        ),
    )
    return [path_trace, head_trace]


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


# The contour figure's other layers.


def _colouring(z: np.ndarray, min_value: float | None) -> tuple[np.ndarray, dict, LogLevels]:
    """Colour values and colorbar: log10(f − f_min + ε) with ticks at real f values where the
    surface spans decades, plain f otherwise."""
    levels = log_levels(z, min_value)
    colorbar = {"title": {"text": "f"}, "thickness": 12, "outlinewidth": 0}
    if not levels.use_log:
        return z, colorbar, levels
    values, labels = zip(*levels.ticks, strict=True)
    colorbar |= {"tickmode": "array", "tickvals": list(values), "ticktext": list(labels)}
    return levels.color, colorbar, levels


def _colour_range(colour: np.ndarray, levels: LogLevels) -> tuple[float, float]:
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
    redraw-less animation frames, the image stays (see `_animation_controls`)."""
    colour, colorbar, levels = _colouring(grid.z, min_value)
    zmin, zmax = _colour_range(colour, levels)
    contours = _levels(zmin, zmax)
    trace = {
        "type": "contour",
        "x": _typed(grid.x),
        "y": _typed(grid.y),
        "z": _typed(colour, np.float32),  # float32: half the bytes, far finer than the colours
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
    x0, x1, y0, y1 = _box_of(grid)
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


def _field_trace(field: Field | None) -> dict:
    xy = _arrow_polyline(field) if field is not None else np.empty((0, 2))
    return {
        "type": "scatter",
        "x": _typed(xy[:, 0], np.float32),
        "y": _typed(xy[:, 1], np.float32),
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


def _exit_layers(
    runs: Sequence[RunView], geometries: Sequence[_RunGeometry], box: Box
) -> tuple[list[dict], list[dict]]:
    """A marker and an annotation at the box edge where each run that ends outside left it,
    counting the finite point a diverged run's last step reached where f was not finite."""
    del geometries  # the drawn positions stop before such a point: read the escape path
    exits = [(run, _exit(escape_path(run.trajectory), box)) for run in runs]
    exits = [(run, found) for run, found in exits if found is not None]
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
            f"{_escape(run.label)} left the box at step {step}<br>{_escape(run.status_text)}"
            for run, (step, _) in exits
        ],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    return [marker], annotations


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
        "x": _typed(X.ravel()),
        "y": _typed(Y.ravel()),
        "customdata": _typed(grid.z[np.ix_(row, column)].ravel(), np.float32),
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


def equal_scale(surface: Surface, box: Box) -> bool:
    """Whether the plane keeps x and y at one scale (level sets keep their shape and −∇f stays
    perpendicular to them): always, but for a data surface ("Your data") whose box is over
    MAX_ASPECT times longer one way than the other, where w and b live on unlike scales and
    one scale would leave a sliver (hours against scores: 70 px wide)."""
    width, height = box[1] - box[0], box[3] - box[2]
    data = bool(surface.recipe) and surface.recipe[0] == "data"
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
    geometries = [_RunGeometry.of(run.trajectory, box) for run in runs]
    last_step = max((g.last for g in geometries), default=-1)
    minimum = min((p.value for p in points if p.kind == "global"), default=None)
    contour, underlay = layer or surface_layer(grid, minimum)
    data = [contour, _field_trace(field)]
    for index, (run, geometry) in enumerate(zip(runs, geometries, strict=True)):
        data += _run_traces(run, index, geometry, last_step)
    exit_markers, annotations = _exit_layers(runs, geometries, box)
    data += [*critical_traces(points), *exit_markers, _picker_trace(box, grid)]
    layout = plane_layout(box, f"{surface.key}:{box}", equal_scale(surface, box))
    layout |= {"annotations": annotations, "images": [underlay]}
    if last_step < 0:
        return SpecFigure(data, layout)

    steps = _frame_steps(last_step, frames)
    run_traces = list(range(FIRST_RUN_TRACE, FIRST_RUN_TRACE + TRACES_PER_RUN * len(runs)))
    frame_specs = [
        {
            "name": str(step),
            "traces": run_traces,
            "data": [d for g in geometries for d in g.frame_data(step, full=step == last_step)],
        }
        for step in steps
    ]
    layout |= _animation_controls([str(step) for step in steps])
    return SpecFigure(data, layout, frame_specs)


# The live view's plane (app/live.py): the contour figure without its animation, split into the
# part that depends on the surface only and one part per run, so that each travels on its own.


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


HOVER_POINTS = 48  # per side of the grid the hover reads f from


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
        "box": list(_box_of(grid)),
        "f": _typed(np.clip(grid.z[np.ix_(rows, columns)], -3e38, 3e38), np.float32),
    }
    traces = [_colour_bar(layer.trace), _field_trace(field), *critical_traces(points)]
    return SurfaceLayerView(traces, FIRST_RUN_TRACE, layout, hover)


STATE_POINTS = 150  # at most this many of a state point's positions are drawn


def _state_points(run: RunView, index: int, name: str, points: np.ndarray, box: Box) -> dict:
    """A point the rule keeps besides w_k (a state entry named "…_point": SAM's adversarial
    point, Schedule-Free's averaged point), as open markers in the run's colour."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    kept = np.unique(np.linspace(0, len(points) - 1, STATE_POINTS).round().astype(int))
    shown = points[kept] if len(points) else np.empty((0, 2))
    lo, hi = _grown(box)
    shown = np.where(((shown >= lo) & (shown <= hi)).all(axis=1)[:, None], shown, np.nan)
    label = name.replace("_", " ")
    return {
        "type": "scatter",
        "x": _typed(shown[:, 0], np.float32),
        "y": _typed(shown[:, 1], np.float32),
        "mode": "markers",
        "name": f"{run.label}: {label}",
        "legendgroup": f"run-{index}",
        "showlegend": False,
        "marker": {"symbol": "circle-open", "size": 6, "color": run.color, "opacity": 0.7},
        "hovertemplate": f"{_escape(run.label)}<br>{label} (%{{x:.4~g}}, %{{y:.4~g}})"
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
            "hovertemplate": f"{_escape(run.label)}<br>{label} at step {step}<extra></extra>",
        }
        for label, push, dash in pushes
    ]


def live_run(run: RunView, index: int, box: Box, step: int | None = None) -> RunLayer:
    """Run `index` on the live plane (see `RunLayer`): its points kept in the optimizer's state
    ("…_point") are drawn with its exit marker, and at an inspected `step` its arrows."""
    geometry = _RunGeometry.of(run.trajectory, box, LIVE_PATH_POINTS)
    exit_marker, annotations = _exit_layers([run], [geometry], box)
    exit_marker += [
        _state_points(run, index, name, values, box)
        for name, values in run.trajectory.state.items()
        if name.endswith("_point")
    ]
    exit_marker += _step_arrows(run, index, step) if step is not None else []
    steps = geometry.full_steps
    points = geometry.positions[steps] if len(steps) else np.empty((0, 2))
    lo, hi = _grown(box)
    inside = ((points >= lo) & (points <= hi)).all(axis=1)
    points = np.where(inside[:, None], points, np.nan)
    traces = _run_traces(run, index, geometry, geometry.last)
    # Play's points: the path's own where clipping inserted nothing (no copy sent), and the
    # steps only where they are not every step.
    anim: dict[str, object] = {}
    if not np.array_equal(steps, np.arange(len(steps))):
        anim["steps"] = _typed(steps, np.int32)
    path = traces[0]
    if not np.array_equal(array_of(path["x"]), points[:, 0], equal_nan=True):
        anim |= {"x": _typed(points[:, 0], np.float32), "y": _typed(points[:, 1], np.float32)}
    return RunLayer(traces, exit_marker, annotations, anim, max(geometry.last, 0))


# Metrics and 3-D.


class Threshold(NamedTuple):
    """A learning rate to compare η_k with, drawn dashed on the η_k panel: a rule's stability
    limit, e.g. Threshold("2/λ_max = 0.2", 0.2)."""

    label: str
    value: float


class LossGap(NamedTuple):
    """The loss panel's curves f − reference on a log axis, and its title."""

    series: list[np.ndarray]
    title: str


def _loss_gap(losses: Sequence[np.ndarray], minimum: float | None) -> LossGap:
    """f − f* where the minimum f* is known; else f − (f_low − δ), with f_low the lowest loss
    seen and δ = LOSS_OFFSET × (highest start − f_low), so the lowest point sits at δ. Gaps at
    or below LOSS_FLOOR × max(1, |reference|) (the minimum reached, rounding, exact zeros) are
    drawn at that floor: every point stays on the log axis."""
    if minimum is not None:
        reference, title = minimum, "loss above the minimum<br>f − f*"
    else:
        finite = [s[np.isfinite(s)] for s in losses]
        finite = [f for f in finite if len(f)]
        low = min((f.min() for f in finite), default=0.0)
        drop = max((f[0] for f in finite), default=low) - low
        delta = LOSS_OFFSET * (drop if drop > 0 else max(1.0, abs(low)))
        reference = low - delta
        title = f"loss above the lowest seen<br>less δ = {delta:.2g} (f* unknown)"
    floor = LOSS_FLOOR * max(1.0, abs(reference))
    return LossGap([np.maximum(s - reference, floor) for s in losses], title)


def _threshold_trace(threshold: Threshold, color: str, rates: np.ndarray, last_step: int) -> dict:
    """A dashed horizontal line at the threshold across the η_k panel (steps 0 … last_step),
    labelled at its right end on the side away from the run's rates `rates` (clear of its
    curve): inside the panel, whose range leaves room beyond the line (see `_padded_range`)."""
    below = bool(np.nanmax(rates, initial=-np.inf) <= threshold.value)
    return {
        "type": "scatter",
        "x": [0, last_step],
        "y": [threshold.value, threshold.value],
        "xaxis": "x2",
        "yaxis": "y2",
        "mode": "lines+text",
        "text": ["", _escape(threshold.label)],
        "textposition": "top left" if below else "bottom left",
        "cliponaxis": False,
        "textfont": {"color": color, "size": 11},
        "name": threshold.label,
        "showlegend": False,
        "line": {"color": color, "width": 1.2, "dash": "dash"},
        "hovertemplate": f"{_escape(threshold.label)}<extra></extra>",
    }


def _padded_range(series: Sequence[np.ndarray]) -> list[float] | None:
    """A log y range (in decades) over the positive values, padded by 15 % of its span (at
    least 0.15 decade) each side: room for a line's label at either end."""
    positive = [s[s > 0] for s in series]
    positive = [p for p in positive if len(p)]
    if not positive:
        return None
    low = math.log10(min(p.min() for p in positive))
    high = math.log10(max(p.max() for p in positive))
    pad = 0.15 * max(high - low, 1.0)
    return [low - pad, high + pad]


def _axis_type(series: Sequence[np.ndarray]) -> str:
    """Log when every value is positive, else linear (a log axis would drop the rest)."""
    return "log" if all((s > 0).all() for s in series if len(s)) else "linear"


def _floor(start: float, top: float) -> int:
    """The bottom of a log axis, a whole decade: FLOOR_DECADES below `start`, but at most
    MAX_DECADES below `top` (both in decades)."""
    return max(math.floor(start - FLOOR_DECADES), math.ceil(top - MAX_DECADES))


def floored_log_axis(values: np.ndarray) -> dict:
    """A log axis's range (in decades) and ticks over the positive values, ending at their
    `_floor` below the highest with that bottom tick marked "below …" (see `_log_ticks`);
    nothing (autorange) where no value lies below the floor: 1e-270 does not stretch the axis."""
    positive = values[values > 0]
    if not len(positive):
        return {}
    low, high = math.log10(positive.min()), math.log10(positive.max())
    floor = _floor(high, high)
    if low >= floor:
        return {}
    y_range = [floor, high + 0.03 * (high - floor)]
    return {"range": y_range, **_log_ticks([positive], y_range)}


def _capped_range(series: Sequence[np.ndarray], log: bool) -> list[float] | None:
    """A y range whose top is HEADROOM above the highest starting value, so that a diverging run
    leaves through the top instead of squashing every other curve; on a log axis, whose bottom
    is the `_floor` below that start where a run goes lower (it leaves through the bottom, see
    `_log_ticks`); None (autorange) when no value goes that high or low. Log ranges are in
    decades, as Plotly takes them."""
    curves = [s[s > 0] if log else s for s in series]
    curves = [c for c in curves if len(c)]
    if not curves:
        return None
    low, high = min(c.min() for c in curves), max(c.max() for c in curves)
    start = max(c[0] for c in curves)
    if log:
        low, high, start = math.log10(low), math.log10(high), math.log10(start)
        top = start + HEADROOM_DECADES
    else:
        top = start + HEADROOM_SPANS * ((start - low) or abs(start) or 1.0)
    capped = high > top
    top = top if capped else high
    floor = _floor(start, top) if log else low
    if not capped and low >= floor:
        return None
    if low < floor:  # the bottom edge is the floor itself
        return [floor, top + 0.03 * (top - floor)]
    pad = 0.03 * (top - low)
    return [low - pad, top + pad]


def _decade_text(decade: int) -> str:
    """10^k as Plotly's power format writes it: 1, 10, else 10 with a superscript."""
    return {0: "1", 1: "10"}.get(decade, f"10<sup>{decade}</sup>".replace("-", "−"))


def _log_ticks(
    series: Sequence[np.ndarray], y_range: list[float] | None, below: str | None = None
) -> dict:
    """A metric log axis's tick settings. Over LOG_TICK_MIN_DECADES or more: whole decades only
    (every k-th, for about LOG_TICKS labels), as Plotly's automatic 2 and 5 labels crowd the
    short subplots. Over less, where decades alone would leave ≤ 1 tick: 1, 2 and 5 times the
    decades, labelled with their values (Plotly would label every digit 2 … 9, overlapping).
    Nothing (Plotly's own ticks) where fewer than two such ticks fall inside the values.
    Where values lie below the range's bottom (a floor, see `_floor`), every k-th decade up
    from it, the bottom one labelled `below` (default "below 1e-12", its value)."""
    positive = [s[s > 0] for s in series]
    positive = [p for p in positive if len(p)]
    if not positive:
        return {}
    low = min(p.min() for p in positive)
    high = max(p.max() for p in positive)
    if y_range is not None and low < 10.0 ** y_range[0]:  # floored: decades up from the floor
        floor, top = round(y_range[0]), math.floor(y_range[1])
        decades = list(range(floor, top + 1, max(1, round((top - floor) / LOG_TICKS))))
        text = [below or f"below 1e{floor}", *map(_decade_text, decades[1:])]
        return {"tickmode": "array", "tickvals": [10.0**d for d in decades], "ticktext": text}
    if y_range is not None:  # the axis's range, in decades, where it is set
        low, high = 10.0 ** y_range[0], 10.0 ** y_range[1]
    span = math.log10(high / low)
    if span >= LOG_TICK_MIN_DECADES:
        return {"dtick": max(1, round(span / LOG_TICKS))}
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ticks = [m * 10.0**k for k in decades for m in (1, 2, 5) if low <= m * 10.0**k <= high]
    if len(ticks) < 2:
        return {}
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


class _SharpnessCurves(NamedTuple):
    """The sharpness row per run: finite λ_max values, their steps, finite limit values."""

    values: list[np.ndarray]
    steps: list[np.ndarray]
    limits: list[np.ndarray]


def _sharpness_curves(sharpness: Sequence[Sharpness | None], count: int) -> _SharpnessCurves:
    """The finite part of each of `count` runs' sharpness (empty where it has none)."""
    none = Sharpness(np.empty(0, int), np.empty(0), np.empty(0), "", -1)
    given = [*sharpness, *[None] * count][:count]
    sharps = [none if sharp is None else sharp for sharp in given]
    finite = [np.isfinite(sharp.lambda_max) for sharp in sharps]
    return _SharpnessCurves(
        [sharp.lambda_max[kept] for sharp, kept in zip(sharps, finite, strict=True)],
        [sharp.steps[kept] for sharp, kept in zip(sharps, finite, strict=True)],
        [sharp.limit[np.isfinite(sharp.limit)] for sharp in sharps],
    )


def _steps_of_changes(values: np.ndarray) -> np.ndarray:
    """Indices of the finite values that draw a step curve: both ends of every run of equal
    values (2 for a constant), min-max decimated to METRIC_POINTS where more."""
    finite = np.flatnonzero(np.isfinite(values))
    if not len(finite):
        return finite
    ends = np.flatnonzero(np.diff(values[finite]) != 0)
    kept = finite[np.unique(np.concatenate([[0], ends, ends + 1, [len(finite) - 1]]))]
    return kept if len(kept) <= METRIC_POINTS else kept[_decimated(values[kept], METRIC_POINTS)]


def _sharpness_marks(
    runs: Sequence[RunView], sharpness: Sequence[Sharpness | None], suffix: str
) -> list[dict]:
    """Each run's limit c/η_k dashed in its colour on the sharpness row, and ✕ at its crossing
    (at λ_max there, or on the line where λ_max is not finite; the hover names the step)."""
    traces = []
    for index, (run, sharp) in enumerate(zip(runs, sharpness, strict=False)):
        if sharp is None:
            continue
        label, formula = _escape(run.label), _escape(sharp.formula)
        kept = _steps_of_changes(sharp.limit)
        common = {"type": "scatter", "xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        traces.append(
            common
            | {
                "x": _typed(kept, np.int32),
                "y": _typed(sharp.limit[kept]),
                "mode": "lines",
                "name": f"{run.label}: {sharp.formula}",
                "legendgroup": f"run-{index}",
                "showlegend": False,
                "line": {"color": run.color, "width": 1.2, "dash": "dash"},
                "hovertemplate": f"{label}<br>step %{{x}}: {formula} = %{{y:.4g}}<extra></extra>",
            }
        )
        if sharp.crossing >= 0:
            value = float(sharp.lambda_max[np.searchsorted(sharp.steps, sharp.crossing)])
            traces.append(
                common
                | {
                    "x": [sharp.crossing],
                    "y": [value if math.isfinite(value) else float(sharp.limit[sharp.crossing])],
                    "mode": "markers",
                    "name": f"{run.label}: crossing",
                    "legendgroup": f"run-{index}",
                    "showlegend": False,
                    "marker": {"symbol": "x", "size": 11, "color": run.color},
                    "hovertemplate": (
                        f"{label}<br>from step %{{x}} λ_max = %{{y:.4g}} stayed above "
                        f"{formula} up to the divergence<extra></extra>"
                    ),
                }
            )
    return traces


USED_RATES = {  # a self-setting rule's state entry → how to read the step it used from it
    "step_size": "the step size it used",
    "step_scale": "the step scale it used",
    "d": "D·η_k, the rate it used",
}


def _used_rate_traces(runs: Sequence[RunView]) -> list[dict]:
    """On the η_k row, dotted, the rate a rule that sets its own step actually used (the
    accepted line-search step, Polyak's step, DoG's scale, D-Adaptation's and Prodigy's D·η_k),
    next to the scheduled η_k it was given."""
    traces = []
    for index, run in enumerate(runs):
        for name, words in USED_RATES.items():
            if name not in run.trajectory.state:
                continue
            values = np.asarray(run.trajectory.state[name], dtype=np.float64)[:, 0]
            if name == "d":
                values = values * np.asarray(run.trajectory.lr, dtype=np.float64)
            kept = _decimated(values, METRIC_POINTS)
            traces.append(
                {
                    "type": "scatter",
                    "x": _typed(kept, np.int32),
                    "y": _typed(values[kept]),
                    "xaxis": "x2",
                    "yaxis": "y2",
                    "mode": "lines",
                    "name": f"{run.label}: {words}",
                    "legendgroup": f"run-{index}",
                    "showlegend": False,
                    "line": {"color": run.color, "width": 1.6, "dash": "dot"},
                    "hovertemplate": f"{_escape(run.label)}<br>step %{{x}}: {words} = %{{y:.4g}}"
                    "<extra></extra>",
                }
            )
    return traces


def metrics_figure(
    runs: Sequence[RunView],
    step: int | None = None,
    *,
    minimum: float | None = None,
    thresholds: Sequence[Threshold | None] = (),
    sharpness: Sequence[Sharpness | None] = (),
) -> go.Figure:
    """Loss above the minimum, applied learning rate η_k, gradient norm and, where `sharpness`
    is given, the sharpness λ_max against the step, one colour per run.

    The loss panel shows f − f* on a log axis (`minimum` is the surface's f*; see `_loss_gap`
    where it is unknown), its hover the loss f itself. η_k uses a log axis when all its values
    are positive, else a linear one; `thresholds[r]` (None: none) draws run r's stability limit
    on η as a dashed line. The gradient norm is always on a log axis; exact zeros drop out.
    `sharpness[r]` (None: no curve) adds the row "sharpness": λ_max(∇²L(w_k)) at its sampled
    steps, with its rule's limit (2/η_k for GD) dashed in the run's colour and, where the run
    diverged, ✕ at its crossing (see `optimizers.sharpness`); a row with every value positive
    is on a log axis, else a linear one.
    A diverging run leaves through the top of the axes (see `_capped_range`). Curves longer
    than METRIC_POINTS are min-max decimated.
    Plotly cannot drive one animation across two figures, so this figure is not animated: a
    dotted vertical line marks `step`, which the caller keeps in sync with the contour slider.
    """
    losses = [np.asarray(run.trajectory.loss, dtype=np.float64) for run in runs]
    gap = _loss_gap(losses, minimum)
    rates = [np.asarray(run.trajectory.lr, dtype=np.float64) for run in runs]
    limits = [
        t if t is not None and math.isfinite(t.value) and t.value > 0 else None for t in thresholds
    ]
    marks = [np.array([t.value]) for t in limits if t is not None]
    used = _used_rate_traces(runs)
    marks += [array_of(trace["y"]) for trace in used]  # the rates the rules used show too
    rows = [  # title, curves, their steps (None: 0, 1, …), values the axis must also show, hover
        (gap.title, gap.series, None, [], "f = %{customdata:.6g}"),
        ("learning rate η_k", rates, None, marks, "η_k = %{y:.4g}"),
        ("gradient norm ‖g‖", [r.trajectory.grad_norm for r in runs], None, [], "‖g‖ = %{y:.4g}"),
    ]
    sharp = _sharpness_curves(sharpness, len(runs)) if sharpness else None
    if sharp is not None:
        rows.append((SHARPNESS_TITLE, sharp.values, sharp.steps, sharp.limits, "λ_max = %{y:.4g}"))
    height = (1.0 - (len(rows) - 1) * METRIC_GAP) / len(rows)
    data: list[dict] = []
    layout: dict = {
        "height": METRIC_ROW_PX * len(rows) + 20,
        "margin": {"l": 10, "r": 10, "t": 36, "b": 10},
        "legend": TOP_LEGEND,
        "hovermode": "x unified",
        "uirevision": "metrics",
        "shapes": [],
    }
    for row, (title, series, steps, shown, hover) in enumerate(rows, start=1):
        suffix = "" if row == 1 else str(row)
        series = [np.asarray(values, dtype=np.float64) for values in series]
        linear = row in (2, 4) and _axis_type([*series, *shown]) == "linear"
        kind = "linear" if linear else "log"
        for index, (run, values) in enumerate(zip(runs, series, strict=True)):
            kept = _decimated(values, METRIC_POINTS)
            trace = {
                "type": "scatter",
                "x": _typed(kept if steps is None else steps[index][kept], np.int32),
                "y": _typed(values[kept]),
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "mode": "lines",
                "name": run.label,
                "legendgroup": f"run-{index}",
                "showlegend": row == 1,
                "line": {"color": run.color, "width": 1.8},
                "hovertemplate": f"{_escape(run.label)}<br>step %{{x}}: {hover}<extra></extra>",
            }
            if row == 1:  # the loss itself, for the hover
                trace["customdata"] = _typed(losses[index][kept])
            data.append(trace)
        y_range = _capped_range([*series, *shown], kind == "log")
        if y_range is None and shown and kind == "log":  # the thresholds clear of the edges
            y_range = _padded_range([*series, *shown])
        top = 1.0 - (row - 1) * (height + METRIC_GAP)  # rows stacked from the top
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "domain": [max(top - height, 0.0), top],
            "type": kind,
            "title": {"text": title, "font": {"size": 12}},
            "exponentformat": "power",
        }
        if y_range is not None:
            layout[f"yaxis{suffix}"]["range"] = y_range
        if kind == "log":
            below = "→ 0" if row == 2 else None  # a rate decayed below the floor
            layout[f"yaxis{suffix}"] |= _log_ticks([*series, *shown], y_range, below)
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [0.0, 1.0]}
        if row < len(rows):  # one step axis, labelled on the bottom row
            layout[f"xaxis{suffix}"] |= {"matches": f"x{len(rows)}", "showticklabels": False}
        else:
            layout[f"xaxis{suffix}"]["title"] = {"text": "step"}
        if step is not None:
            layout["shapes"].append(
                {
                    "type": "line",
                    "xref": f"x{suffix}",
                    "yref": f"y{suffix} domain",
                    "x0": step,
                    "x1": step,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#555", "width": 1, "dash": "dot"},
                }
            )
    # After every curve, so that trace row × runs + run stays run's curve in that row; a
    # caller without thresholds leaves them out (zip stops at the shorter).
    last_step = max((len(rate) - 1 for rate in rates), default=1)
    for run, rate, limit in zip(runs, rates, limits, strict=False):
        if limit is not None:
            data.append(_threshold_trace(limit, run.color, rate, max(last_step, 1)))
    data.extend(used)
    if sharp is not None:
        data.extend(_sharpness_marks(runs, sharpness, suffix=str(len(rows))))
    return SpecFigure(data, layout)


def _box_of(grid: Grid) -> Box:
    return float(grid.x[0]), float(grid.x[-1]), float(grid.y[0]), float(grid.y[-1])


def surface3d_figure(grid: Grid, runs: Sequence[RunView]) -> go.Figure:
    """The surface in 3-D (coloured like the contour) with each run's path drawn at its loss,
    lifted slightly; positions outside the grid's box are left out."""
    colour, colorbar, levels = _colouring(grid.z, None)
    cmin, cmax = _colour_range(colour, levels)
    box = _box_of(grid)
    z_low, z_high = float(grid.z.min()), float(grid.z.max())
    lift = LIFT_3D * (z_high - z_low)
    data = [
        {
            "type": "surface",
            "x": _typed(grid.x),
            "y": _typed(grid.y),
            "z": _typed(grid.z),
            "surfacecolor": _typed(colour, np.float32),
            "cmin": cmin,
            "cmax": cmax,
            "colorscale": SURFACE_COLORSCALE,
            "colorbar": colorbar,
            "opacity": 0.95,
            "name": "surface",
            "showlegend": False,
            "hovertemplate": "(%{x:.3g}, %{y:.3g})<br>f = %{z:.4g}<extra></extra>",
        }
    ]
    lo, hi = _grown(box)
    for run in runs:
        geometry = _RunGeometry.of(run.trajectory, box)
        kept = geometry.full_steps
        xy = geometry.positions[kept]
        z = np.asarray(run.trajectory.loss, dtype=np.float64)[kept] + lift
        inside = ((xy >= lo) & (xy <= hi)).all(axis=1)
        data.append(
            {
                "type": "scatter3d",
                "x": _typed(np.where(inside, xy[:, 0], np.nan)),
                "y": _typed(np.where(inside, xy[:, 1], np.nan)),
                "z": _typed(np.where(inside, z, np.nan)),
                "mode": "lines",
                "name": run.label,
                "line": {"color": run.color, "width": 5},
                "hovertemplate": f"{_escape(run.label)}<br>f = %{{z:.4g}}<extra></extra>",
            }
        )
    aspect = (box[3] - box[2]) / (box[1] - box[0])
    layout = {
        "height": 620,
        "margin": {"l": 0, "r": 0, "t": 36, "b": 0},
        "legend": TOP_LEGEND,
        "uirevision": "surface3d",
        "scene": {
            "xaxis": {"range": [box[0], box[1]], "title": {"text": "x"}},
            "yaxis": {"range": [box[2], box[3]], "title": {"text": "y"}},
            "zaxis": {"title": {"text": "f"}},
            "aspectmode": "manual",
            "aspectratio": {"x": 1, "y": aspect, "z": 0.6},
        },
    }
    return SpecFigure(data, layout)


# Pause, another speed, or a slider step pressed while Play runs interrupts `Plotly.animate`, whose
# promise plotly.js then rejects with no reason; its Play / Pause buttons and slider never catch it,
# so the browser reports "Uncaught (in promise) undefined" as a page error. This script notes when
# plotly.js announces the interruption (`plotly_animationinterrupted` on the graph div, emitted just
# before the rejection) and swallows exactly that rejection: no reason, within a second of an
# interruption. Anything else still surfaces. The page mounts it (app/animation_guard.py); the
# exported HTML runs it after its plot.
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
