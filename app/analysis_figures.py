"""Figures of the learning-rate analyses: pure functions from `optimizers.analysis` records to
`go.Figure` (no Streamlit, no maths beyond layout).

Clickable points: Streamlit reports only selections, and heatmaps cannot be selected, so the
stability and basin maps carry an invisible scatter (`PICKER_NAME`) with one point per cell.
Every clickable point here carries what it loads in `customdata`: (η,) on the sweep and the
range test's loss curve, (η, v) on the stability map, the start (x, y) on the basin map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app import figures
from app.figures import PALETTE, TOP_LEGEND, SurfaceLayer
from optimizers.analysis import (
    CONVERGED,
    DIVERGED,
    ELSEWHERE,
    ESCAPED,
    RUNNING,
    UNFINISHED,
    BasinMap,
    RangeTest,
    SecondAxis,
    StabilityMap,
    Sweep,
    Threshold,
)
from surfaces.base import CriticalPoint, Surface

PICKER_NAME = "cell-picker"
DIVERGED_COLOR = "#B2182B"
RUNNING_COLOR = "#BDBDBD"
ELSEWHERE_COLOR = "#6B6B6B"
THRESHOLD_COLOR = "#222222"
STEEPEST_COLOR = PALETTE[3]
VALLEY_COLOR = PALETTE[2]
STEPS_COLORSCALE = "Viridis"


def _loss_axis(values: np.ndarray) -> dict:
    """Log where every finite value is positive (its bottom at a floor where values go far
    lower, see `figures.floored_log_axis`), else linear."""
    finite = values[np.isfinite(values)]
    if len(finite) and (finite > 0).all():
        return {"type": "log", **figures.floored_log_axis(finite)}
    return {"type": "linear"}


def _rate_ticks(lrs: np.ndarray) -> dict:
    """Decade ticks for an axis in log10 η, labelled with the rates themselves."""
    decades = range(math.floor(math.log10(lrs[0])), math.ceil(math.log10(lrs[-1])) + 1)
    return {"tickvals": list(decades), "ticktext": [f"{10.0**d:g}" for d in decades]}


def threshold_label(formula: str, exact: bool) -> str:
    return formula if exact else f"{formula} at the start (estimate)"


def _add_rate_line(
    fig: go.Figure, rate: float, label: str, color: str, dash: str, on_axis: bool = True
) -> None:
    """A vertical line at `rate` across every panel (`on_axis`; else none), named in the legend
    (not by an annotation: lines close together would print their labels over each other)."""
    line = {"color": color, "dash": dash, "width": 1.5}
    if on_axis:
        fig.add_vline(x=rate, line=line)
    fig.add_scatter(x=[None], y=[None], mode="lines", name=label, line=line, row=1, col=1)


def _add_threshold_line(fig: go.Figure, critical: Threshold | None, lrs: np.ndarray) -> None:
    """The critical rate (e.g. 2/λ_max) as a dashed vertical line where it lies within `lrs`;
    beyond them, named in the legend only, with the side it lies on."""
    if critical is None or not len(lrs):
        return
    label = f"{threshold_label(critical.formula, critical.exact)} = {critical.value:.4g}"
    inside = lrs[0] <= critical.value <= lrs[-1]
    if not inside:
        label += f" ({'above' if critical.value > lrs[-1] else 'below'} the rates shown)"
    _add_rate_line(fig, critical.value, label, THRESHOLD_COLOR, "dash", inside)


def sweep_figure(sweep: Sweep, current_lr: float | None = None) -> go.Figure:
    """Final loss, best loss and steps against η (log axis). Diverged runs: red × (at their best
    loss before escaping, and at the step they escaped) over a red band from the first one;
    the critical rate as a dashed line; the analysed run's rate as a dotted one."""
    diverged = sweep.diverged_step >= 0
    converged = sweep.converged_step >= 0
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05)
    hover = "η = %{x:.4g}<br>%{y:.4g}<extra>%{fullData.name}</extra>"
    stable = ~diverged
    rows = (
        ("final loss", sweep.final_loss, stable, PALETTE[0], 1),
        ("best loss", sweep.best_loss, stable, PALETTE[1], 2),
        ("steps to converge", sweep.converged_step.astype(float), converged, PALETTE[2], 3),
    )
    for name, values, kept, color, row in rows:
        lrs = sweep.lrs[kept]
        fig.add_scatter(
            x=lrs,
            y=values[kept],
            customdata=lrs[:, None],
            mode="lines+markers",
            name=name,
            line={"color": color, "width": 1.2},
            marker={"color": color, "size": 4},
            hovertemplate=hover,
            row=row,
            col=1,
        )
    for name, values, row in (
        ("diverged (best loss before)", sweep.best_loss, 2),
        ("diverged (step it escaped)", sweep.diverged_step.astype(float), 3),
    ):
        lrs = sweep.lrs[diverged]
        fig.add_scatter(
            x=lrs,
            y=values[diverged],
            customdata=lrs[:, None],
            mode="markers",
            name=name,
            legendgroup="diverged",
            showlegend=row == 2,
            marker={"symbol": "x-thin", "size": 7, "color": DIVERGED_COLOR, "line": {"width": 1.5}},
            hovertemplate=hover,
            row=row,
            col=1,
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
    _add_threshold_line(fig, sweep.threshold, sweep.lrs)
    if current_lr is not None:
        fig.add_vline(x=current_lr, line={"color": "#555", "dash": "dot", "width": 1})
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="learning rate η₀ (click a point to run it)", row=3, col=1)
    for row, values in ((1, sweep.final_loss[~diverged]), (2, sweep.best_loss)):
        fig.update_yaxes(exponentformat="power", row=row, col=1, **_loss_axis(values))
    for row, title in ((1, "final loss"), (2, "best loss"), (3, "steps")):
        fig.update_yaxes(title_text=title, row=row, col=1)
    fig.update_layout(
        template="plotly_white",
        height=640,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend=TOP_LEGEND,
        hovermode="closest",
        clickmode="event+select",
        uirevision="analysis-sweep",
    )
    return fig


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
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="markers",
            name=name,
            marker={"symbol": "square", "size": 12, "color": color},
        )
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
        _cell_picker(
            X.ravel(),
            Y.ravel(),
            np.column_stack([L.ravel(), V.ravel()]),
            outcome.ravel(),
            f"η = %{{customdata[0]:.4g}}, {axis.label} = %{{customdata[1]:.4g}}<br>"
            "%{text}<br>click: run it<extra></extra>",
        )
    )
    fig.update_layout(
        template="plotly_white",
        height=600,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend=TOP_LEGEND,
        hovermode="closest",
        clickmode="event+select",
        uirevision=f"analysis-map:{axis.key}",
        xaxis={"title": "learning rate η₀", **_rate_ticks(smap.lrs), "range": [x[0], x[-1]]},
        yaxis={"title": axis.label, **_axis_ticks(smap.values, axis)},
    )
    return fig


def _cell_picker(
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
            _add_rate_line(fig, rate, f"{name}: η = {rate:.3g}", color, "dashdot")
    _add_threshold_line(fig, critical, test.lrs)  # the axis grows to it, past a blow-up
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="learning rate η_k (grows every step)", row=2, col=1)
    fig.update_yaxes(title_text="loss", exponentformat="power", row=1, **_loss_axis(loss))
    fig.update_yaxes(title_text="smoothed log-loss", row=2, col=1)
    fig.update_layout(
        template="plotly_white",
        height=560,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend=TOP_LEGEND,
        hovermode="closest",
        clickmode="event+select",
        uirevision="analysis-range",
    )
    return fig


def _plane_layout(surface: Surface, key: str) -> dict:
    """The race contour's plane over the surface's box (figures.plane_layout), shorter, without
    its room for the animation controls, on the white template (validated go.Figures)."""
    box = surface.box
    return figures.plane_layout(box, key, figures.equal_scale(surface, box)) | {
        "template": "plotly_white",
        "height": 560,
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
    }


def in_view(points: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """`points` with every row outside the box grown by 5 % set to NaN (a gap in the line)."""
    x0, x1, y0, y1 = box
    pad_x, pad_y = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    inside = (
        (points[:, 0] >= x0 - pad_x)
        & (points[:, 0] <= x1 + pad_x)
        & (points[:, 1] >= y0 - pad_y)
        & (points[:, 1] <= y1 + pad_y)
    )
    return np.where(inside[:, None], points, np.nan)


def range_path_figure(
    layer: SurfaceLayer, surface: Surface, points: Sequence[CriticalPoint], test: RangeTest
) -> go.Figure:
    """The path the range test took on the contour (`layer`: figures.surface_layer), up to its
    blow-up (points outside the box left out), with the positions where the rate reached each
    suggestion."""
    fig = go.Figure([layer.trace, *figures.critical_traces(points)])
    fig.update_layout(_plane_layout(surface, f"analysis-range:{surface.key}"))
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


def basin_colors(count: int) -> list[tuple[int, str, str]]:
    """(label, name, colour) for every basin label with `count` known minima."""
    rows = [
        (ELSEWHERE, "stopped elsewhere (saddle, …)", ELSEWHERE_COLOR),
        (UNFINISHED, "unfinished", RUNNING_COLOR),
        (DIVERGED, "diverged", DIVERGED_COLOR),
    ]
    return rows + [(i, f"minimum {i + 1}", PALETTE[i % len(PALETTE)]) for i in range(count)]


def basin_figure(
    basins: BasinMap, surface: Surface, start: tuple[float, float] | None = None
) -> go.Figure:
    """Each start coloured by the minimum it reaches (diverged, unfinished and stopped-elsewhere
    starts in their own colours), the known points on top, the current start as a ring."""
    palette = basin_colors(len(basins.minima))
    code = {label: i for i, (label, _, _) in enumerate(palette)}
    z = np.vectorize(code.__getitem__)(basins.label).astype(float)
    n = len(palette)
    scale = []
    for i, (_, _, color) in enumerate(palette):
        scale += [[i / n, color], [(i + 1) / n, color]]
    names = np.array([name for _, name, _ in palette])[z.astype(int)]
    fig = go.Figure(
        go.Heatmap(
            x=basins.xs,
            y=basins.ys,
            z=z,
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=scale,
            showscale=False,
            hoverinfo="skip",
            name="basins",
        )
    )
    X, Y = np.meshgrid(basins.xs, basins.ys)
    fig.add_trace(
        _cell_picker(
            X.ravel(),
            Y.ravel(),
            np.column_stack([X.ravel(), Y.ravel()]),
            names.ravel(),
            "start (%{x:.3g}, %{y:.3g}) → %{text}<br>click: start there<extra></extra>",
        )
    )
    present = set(np.unique(basins.label).tolist())
    for label, name, color in palette:
        if label in present:
            fig.add_scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                marker={"symbol": "square", "size": 12, "color": color},
            )
    fig.add_traces(figures.critical_traces(basins.minima))
    for i, point in enumerate(basins.minima):
        fig.add_annotation(
            x=point.x, y=point.y, text=str(i + 1), showarrow=False, yshift=14, font={"size": 12}
        )
    if start is not None:
        fig.add_scatter(
            x=[start[0]],
            y=[start[1]],
            mode="markers",
            name="current start",
            marker={"symbol": "circle-open", "size": 14, "color": "black", "line": {"width": 3}},
        )
    fig.update_layout(_plane_layout(surface, f"analysis-basins:{surface.key}"))
    return fig
