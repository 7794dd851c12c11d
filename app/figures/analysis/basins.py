"""The basin map: each start coloured by the minimum it reaches."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.analysis.parts import (
    DIVERGED_COLOR,
    ELSEWHERE_COLOR,
    RUNNING_COLOR,
    add_legend_square,
    analysis_plane_layout,
    cell_picker,
)
from app.figures.plane import critical_traces
from app.figures.style import PALETTE
from optimizers.analysis import DIVERGED, ELSEWHERE, UNFINISHED, BasinMap
from surfaces.base import Surface


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
        cell_picker(
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
            add_legend_square(fig, name, color)
    fig.add_traces(critical_traces(basins.minima))
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
    fig.update_layout(analysis_plane_layout(surface, f"analysis-basins:{surface.key}"))
    return fig
