"""The pieces the analysis figures share: their colours, the learning-rate lines (a suggestion,
the critical rate), the invisible cell picker over a heatmap, the loss axis and the plane's
layout."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.log_axes import floored_log_axis
from app.figures.plane import equal_scale, plane_layout
from app.figures.style import PALETTE, TOP_LEGEND
from optimizers.analysis import Threshold
from surfaces.base import Surface

PICKER_NAME = "cell-picker"
DIVERGED_COLOR = "#B2182B"
RUNNING_COLOR = "#BDBDBD"
ELSEWHERE_COLOR = "#6B6B6B"
THRESHOLD_COLOR = "#222222"
STEEPEST_COLOR = PALETTE[3]
VALLEY_COLOR = PALETTE[2]


def loss_axis(values: np.ndarray) -> dict:
    """Log where every finite value is positive (its bottom at a floor where values go far
    lower, see `log_axes.floored_log_axis`), else linear."""
    finite = values[np.isfinite(values)]
    if len(finite) and (finite > 0).all():
        return {"type": "log", **floored_log_axis(finite)}
    return {"type": "linear"}


def chart_layout(height: int, uirevision: str) -> dict:
    """The layout every analysis chart shares: white template, legend on top, small margins,
    a click selects a point (see `cell_picker`), zoom kept while `uirevision` stays."""
    return {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": TOP_LEGEND,
        "hovermode": "closest",
        "clickmode": "event+select",
        "uirevision": uirevision,
    }


def add_legend_square(fig: go.Figure, name: str, color: str) -> None:
    """A legend entry alone (a square of `color` named `name`) for a heatmap's colour."""
    fig.add_scatter(
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker={"symbol": "square", "size": 12, "color": color},
    )


def threshold_label(formula: str, exact: bool) -> str:
    """A critical rate's name: its formula, marked as an estimate where it is not exact."""
    return formula if exact else f"{formula} at the start (estimate)"


def add_rate_line(
    fig: go.Figure, rate: float, label: str, color: str, dash: str, on_axis: bool = True
) -> None:
    """A vertical line at `rate` across every panel (`on_axis`; else none), named in the legend
    (not by an annotation: lines close together would print their labels over each other)."""
    line = {"color": color, "dash": dash, "width": 1.5}
    if on_axis:
        fig.add_vline(x=rate, line=line)
    fig.add_scatter(x=[None], y=[None], mode="lines", name=label, line=line, row=1, col=1)


def add_threshold_line(fig: go.Figure, critical: Threshold | None, lrs: np.ndarray) -> None:
    """The critical rate (e.g. 2/λ_max) as a dashed vertical line where it lies within `lrs`;
    beyond them, named in the legend only, with the side it lies on."""
    if critical is None or not len(lrs):
        return
    label = f"{threshold_label(critical.formula, critical.exact)} = {critical.value:.4g}"
    inside = lrs[0] <= critical.value <= lrs[-1]
    if not inside:
        label += f" ({'above' if critical.value > lrs[-1] else 'below'} the rates shown)"
    add_rate_line(fig, critical.value, label, THRESHOLD_COLOR, "dash", inside)


def cell_picker(
    x: np.ndarray, y: np.ndarray, customdata: np.ndarray, text: np.ndarray, hovertemplate: str
) -> go.Scattergl:
    """Invisible, clickable points (PICKER_NAME), one per cell of a heatmap, carrying the cell's
    configuration in `customdata`: heatmaps themselves cannot be selected."""
    return go.Scattergl(
        x=x,
        y=y,
        customdata=customdata,
        text=text,
        mode="markers",
        name=PICKER_NAME,
        showlegend=False,
        marker={"size": 6, "opacity": 0, "color": "black"},
        selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}},
        hovertemplate=hovertemplate,
    )


def analysis_plane_layout(surface: Surface, key: str) -> dict:
    """The race contour's plane over the surface's box (`plane.plane_layout`), shorter, without
    its room for the animation controls, on the white template (validated go.Figures)."""
    box = surface.box
    return plane_layout(box, key, equal_scale(surface, box)) | {
        "template": "plotly_white",
        "height": 560,
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
    }
