"""The learning-rate sweep: final loss, best loss and steps to converge against η."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.analysis.parts import DIVERGED_COLOR, add_threshold_line, chart_layout, loss_axis
from app.figures.style import PALETTE
from optimizers.analysis import Sweep

_HOVER = "η = %{x:.4g}<br>%{y:.4g}<extra>%{fullData.name}</extra>"


def _add_against_lr(
    fig: go.Figure, sweep: Sweep, values: np.ndarray, kept: np.ndarray, row: int, **style: Any
) -> None:
    """One trace of `values` against the sweep's rates, at the points `kept`, in subplot `row`:
    η on hover and as customdata (which a click on the point hands back); `style` is the
    trace's name and look."""
    lrs = sweep.lrs[kept]
    fig.add_scatter(
        x=lrs,
        y=values[kept],
        customdata=lrs[:, None],
        hovertemplate=_HOVER,
        row=row,
        col=1,
        **style,
    )


def sweep_figure(sweep: Sweep, current_lr: float | None = None) -> go.Figure:
    """Final loss, best loss and steps against η (log axis). Diverged runs: red × (at their best
    loss before escaping, and at the step they escaped) over a red band from the first one;
    the critical rate as a dashed line; the analysed run's rate as a dotted one."""
    diverged = sweep.diverged_step >= 0
    converged = sweep.converged_step >= 0
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05)
    stable = ~diverged
    rows = (
        ("final loss", sweep.final_loss, stable, PALETTE[0], 1),
        ("best loss", sweep.best_loss, stable, PALETTE[1], 2),
        ("steps to converge", sweep.converged_step.astype(float), converged, PALETTE[2], 3),
    )
    for name, values, kept, color, row in rows:
        style = {"line": {"color": color, "width": 1.2}, "marker": {"color": color, "size": 4}}
        _add_against_lr(fig, sweep, values, kept, row, name=name, mode="lines+markers", **style)
    for name, values, row in (
        ("diverged (best loss before)", sweep.best_loss, 2),
        ("diverged (step it escaped)", sweep.diverged_step.astype(float), 3),
    ):
        _add_against_lr(
            fig,
            sweep,
            values,
            diverged,
            row,
            name=name,
            mode="markers",
            legendgroup="diverged",
            showlegend=row == 2,
            marker={"symbol": "x-thin", "size": 7, "color": DIVERGED_COLOR, "line": {"width": 1.5}},
        )
    if sweep.boundary is not None:
        fig.add_vrect(
            x0=sweep.boundary,
            x1=float(sweep.lrs[-1]),
            fillcolor=DIVERGED_COLOR,
            opacity=0.08,
            line_width=0,
            layer="below",
        )
    add_threshold_line(fig, sweep.threshold, sweep.lrs)
    if current_lr is not None:
        fig.add_vline(x=current_lr, line={"color": "#555", "dash": "dot", "width": 1})
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="learning rate η₀ (click a point to run it)", row=3, col=1)
    for row, values in ((1, sweep.final_loss[~diverged]), (2, sweep.best_loss)):
        fig.update_yaxes(exponentformat="power", row=row, col=1, **loss_axis(values))
    for row, title in ((1, "final loss"), (2, "best loss"), (3, "steps")):
        fig.update_yaxes(title_text=title, row=row, col=1)
    fig.update_layout(
        **chart_layout(640, "analysis-sweep"),
    )
    return fig
