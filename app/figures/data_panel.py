"""The data panel of the "Your data" surface: the points and each run's line y = w x + b."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import plotly.graph_objects as go

from app import inspector
from optimizers.engine import Trajectory
from surfaces.dataset import Points, data_surface, fitted_line


class FitLine(NamedTuple):
    """One run's line at the shown step: legend label, colour and the parameters (w, b)."""

    label: str
    color: str
    w: float
    b: float


def fit_lines(
    runs: Sequence[tuple[str, str, Trajectory]], step: int | None = None
) -> list[FitLine]:
    """Each started run's (label, colour, trajectory) as its line (w, b) at `step` (clamped to
    the steps it kept), or at its last kept step where `step` is None: the fit it ended with,
    which the data panel shows by default."""
    fits = []
    for label, color, trajectory in runs:
        if inspector.started(trajectory):
            last = len(trajectory.positions) - 1
            shown = inspector.clamp_step(trajectory, last if step is None else step)
            fits.append(FitLine(label, color, *trajectory.positions[shown]))
    return fits


def data_panel_figure(
    points: Points, fits: Sequence[FitLine], standardise: bool = False, step: int | None = None
) -> go.Figure:
    """The points and each run's line y = w x + b at the shown step (None: each run's last,
    see `fit_lines`; in the data's own x units when x is standardised for the fit), plus the
    least-squares line dotted."""
    x, y = points.arrays()
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            name="data",
            marker={"color": "#444444", "size": 7, "opacity": 0.8},
            hovertemplate="x=%{x:.4g}<br>y=%{y:.4g}<extra></extra>",
        )
    )
    surface = data_surface(points, standardise)
    (best,) = surface.critical_points()
    for label, color, w, b, dash in [
        ("least squares", "#999999", best.x, best.y, "dot"),
        *((f.label, f.color, f.w, f.b, "solid") for f in fits),
    ]:
        if not (math.isfinite(w) and math.isfinite(b)):
            continue
        xs, ys = fitted_line(points, w, b, standardise)
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=label,
                line={"color": color, "width": 2, "dash": dash},
                hovertemplate=f"w={w:.4g}, b={b:.4g}<extra></extra>",
            )
        )
    title = "Data and fitted lines " + (
        "at each run's last step" if step is None else f"at step {step}"
    )
    span = float(y.max() - y.min()) or 1.0
    figure.update_layout(
        title={"text": title, "x": 0},
        template="plotly_white",
        height=360,
        margin={"l": 50, "r": 10, "t": 50, "b": 40},
        xaxis={"title": {"text": "x"}},
        yaxis={
            "title": {"text": "y"},
            "range": [float(y.min()) - 0.3 * span, float(y.max()) + 0.3 * span],
        },
        legend={"orientation": "h", "x": 0, "y": -0.2},
    )
    return figure
