"""The learning-rate range test: its loss curve against the growing rate, and its path."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.analysis.parts import (
    STEEPEST_COLOR,
    VALLEY_COLOR,
    add_rate_line,
    add_threshold_line,
    analysis_plane_layout,
    chart_layout,
    loss_axis,
)
from app.figures.geometry import in_view
from app.figures.plane import SurfaceLayer, critical_traces
from app.figures.style import PALETTE
from optimizers.analysis import RangeTest, Threshold
from surfaces.base import CriticalPoint, Surface


def range_curve_figure(test: RangeTest, critical: Threshold | None = None) -> go.Figure:
    """Loss against the growing rate (log axes) up to the blow-up, its smoothed log-loss, both
    suggestions (steepest descent, the middle of the valley, shaded) and, where the rule has
    one, the critical rate (`analysis.threshold`, e.g. 2/λ_max) as a dashed line."""
    stop = test.stop
    lrs, loss = test.lrs[:stop], test.loss[:stop]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    fig.add_scatter(
        x=lrs,
        y=loss,
        customdata=lrs[:, None],
        mode="lines+markers",
        name="loss L(w_k)",
        line={"color": PALETTE[0]},
        marker={"size": 3, "color": PALETTE[0]},
        unselected={"marker": {"opacity": 1}},
        hovertemplate="η = %{x:.4g}: L = %{y:.4g}, click: run it<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=lrs,
        y=test.smoothed[:stop],
        mode="lines",
        name="smoothed log₁₀(L − f*)",
        line={"color": PALETTE[5]},
        row=2,
        col=1,
    )
    if test.valley_span is not None:
        first, last = test.valley_span
        fig.add_vrect(
            x0=float(test.lrs[first]),
            x1=float(test.lrs[last]),
            fillcolor=VALLEY_COLOR,
            opacity=0.12,
            line_width=0,
            layer="below",
        )
    for name, rate, color in (
        ("steepest", test.steepest, STEEPEST_COLOR),
        ("valley", test.valley, VALLEY_COLOR),
    ):
        if rate is not None:
            add_rate_line(fig, rate, f"{name}: η = {rate:.3g}", color, "dashdot")
    add_threshold_line(fig, critical, test.lrs)  # the axis grows to it, past a blow-up
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="learning rate η_k (grows every step)", row=2, col=1)
    fig.update_yaxes(title_text="loss", exponentformat="power", row=1, **loss_axis(loss))
    fig.update_yaxes(title_text="smoothed log-loss", row=2, col=1)
    fig.update_layout(
        **chart_layout(560, "analysis-range"),
    )
    return fig


def range_path_figure(
    layer: SurfaceLayer, surface: Surface, points: Sequence[CriticalPoint], test: RangeTest
) -> go.Figure:
    """The path the range test took on the contour (`layer`: `plane.surface_layer`), up to its
    blow-up (points outside the box left out), with the positions where the rate reached each
    suggestion."""
    fig = go.Figure([layer.trace, *critical_traces(points)])
    fig.update_layout(analysis_plane_layout(surface, f"analysis-range:{surface.key}"))
    fig.add_layout_image(layer.image)
    path = in_view(test.positions[: test.stop + 1], surface.box)
    fig.add_scatter(
        x=path[:, 0],
        y=path[:, 1],
        mode="lines+markers",
        name="range-test path",
        marker={"size": 3},
        line={"color": PALETTE[0], "width": 2},
        hoverinfo="skip",
    )
    for name, index, color in (
        ("at the steepest rate", test.steepest_index, STEEPEST_COLOR),
        ("at the valley rate", test.valley_index, VALLEY_COLOR),
    ):
        if index is not None:
            w = test.positions[index]
            fig.add_scatter(
                x=[w[0]],
                y=[w[1]],
                mode="markers",
                name=name,
                marker={"size": 12, "color": color, "line": {"color": "white", "width": 1.5}},
            )
    return fig
