"""The stability map: the outcome of every (η, second hyperparameter) cell."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from app.figures.analysis.parts import (
    DIVERGED_COLOR,
    RUNNING_COLOR,
    THRESHOLD_COLOR,
    add_legend_square,
    cell_picker,
    chart_layout,
)
from optimizers.analysis import CONVERGED, ESCAPED, RUNNING, SecondAxis, StabilityMap

STEPS_COLORSCALE = "Viridis"


def _rate_ticks(lrs: np.ndarray) -> dict:
    """Decade ticks for an axis in log10 η, labelled with the rates themselves."""
    decades = range(math.floor(math.log10(lrs[0])), math.ceil(math.log10(lrs[-1])) + 1)
    return {"tickvals": list(decades), "ticktext": [f"{10.0**d:g}" for d in decades]}


def _axis_coordinates(values: np.ndarray, axis: SecondAxis) -> np.ndarray:
    """Where values sit on the map's y axis: log10 v (log), −log10(1 − v) (log1m), else v."""
    if axis.scale == "log":
        return np.log10(values)
    if axis.scale == "log1m":
        return -np.log10(1.0 - values)
    return values


def _on_axis(value: float, axis: SecondAxis) -> bool:
    """Whether `value` has a place on the map's y axis (log: v > 0; log1m: v < 1)."""
    return {"log": value > 0, "log1m": value < 1}.get(axis.scale, True)


def _axis_ticks(values: np.ndarray, axis: SecondAxis) -> dict:
    if axis.scale == "linear":
        return {}
    coordinates = _axis_coordinates(values, axis)
    ticks = np.arange(math.ceil(coordinates.min()), math.floor(coordinates.max()) + 1)
    real = 10.0**ticks if axis.scale == "log" else 1.0 - 10.0 ** (-ticks)
    return {"tickvals": ticks.tolist(), "ticktext": [f"{v:g}" for v in real]}


def stability_figure(
    smap: StabilityMap, axis: SecondAxis, current: tuple[float, float] | None = None
) -> go.Figure:
    """The map over log10 η (x) and the second value (y): converged cells coloured by steps to
    tolerance, still-running cells grey, diverged cells red; the critical rate per row as a line
    (where the rule has one); the analysed run as a ring (unless its value is off the axis, as a
    clip norm of 0, meaning off, is on a log axis); an invisible picker per cell."""
    x = np.log10(smap.lrs)
    y = _axis_coordinates(smap.values, axis)
    steps = np.where(smap.outcome == CONVERGED, smap.steps, np.nan)
    cells = {"x": x, "y": y, "xgap": 0, "ygap": 0, "hoverinfo": "skip"}
    fig = go.Figure(
        [
            go.Heatmap(
                z=steps,
                name="converged",
                colorscale=STEPS_COLORSCALE,
                colorbar={"title": {"text": "steps to tolerance"}, "thickness": 12},
                **cells,
            ),
            *(
                go.Heatmap(
                    z=np.where(smap.outcome == code, 1.0, np.nan),
                    name=name,
                    colorscale=[[0, color], [1, color]],
                    showscale=False,
                    **cells,
                )
                for code, name, color in (
                    (RUNNING, "not converged", RUNNING_COLOR),
                    (ESCAPED, "diverged", DIVERGED_COLOR),
                )
            ),
        ]
    )
    for name, color in (("not converged", RUNNING_COLOR), ("diverged", DIVERGED_COLOR)):
        add_legend_square(fig, name, color)
    finite = np.isfinite(smap.threshold) & (smap.threshold > 0)
    if finite.any():
        fig.add_scatter(
            x=np.log10(smap.threshold[finite]),
            y=y[finite],
            mode="lines",
            name="critical rate (curvature at the start)",
            line={"color": THRESHOLD_COLOR, "dash": "dash", "width": 2},
            hoverinfo="skip",
        )
    if current is not None and _on_axis(current[1], axis):
        fig.add_scatter(
            x=[math.log10(current[0])],
            y=_axis_coordinates(np.array([current[1]]), axis),
            mode="markers",
            name="analysed run",
            marker={"symbol": "circle-open", "size": 14, "color": "white", "line": {"width": 3}},
            hoverinfo="skip",
        )
    X, Y = np.meshgrid(x, y)
    L, V = np.meshgrid(smap.lrs, smap.values)
    outcome = np.array(["converged", "not converged", "diverged"])[smap.outcome]
    fig.add_trace(
        cell_picker(
            X.ravel(),
            Y.ravel(),
            np.column_stack([L.ravel(), V.ravel()]),
            outcome.ravel(),
            f"η = %{{customdata[0]:.4g}}, {axis.label} = %{{customdata[1]:.4g}}<br>"
            "%{text}<br>click: run it<extra></extra>",
        )
    )
    fig.update_layout(
        **chart_layout(600, f"analysis-map:{axis.key}"),
        xaxis={"title": "learning rate η₀", **_rate_ticks(smap.lrs), "range": [x[0], x[-1]]},
        yaxis={"title": axis.label, **_axis_ticks(smap.values, axis)},
    )
    return fig
