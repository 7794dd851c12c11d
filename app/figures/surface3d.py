"""The surface in 3-D with each run's path drawn on it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.figures.geometry import RunGeometry, in_view
from app.figures.plane import box_of, colour_range, colouring
from app.figures.style import SURFACE_COLORSCALE, TOP_LEGEND, RunView, escape
from app.figures.transport import SpecFigure, typed
from surfaces.grid import Grid

LIFT_3D = 0.01  # paths in 3-D float this fraction of the z range above the surface


def surface3d_figure(grid: Grid, runs: Sequence[RunView]) -> go.Figure:
    """The surface in 3-D (coloured like the contour) with each run's path drawn at its loss,
    lifted slightly; positions outside the grid's box are left out."""
    colour, colorbar, levels = colouring(grid.z, None)
    cmin, cmax = colour_range(colour, levels)
    box = box_of(grid)
    z_low, z_high = float(grid.z.min()), float(grid.z.max())
    lift = LIFT_3D * (z_high - z_low)
    data = [
        {
            "type": "surface",
            "x": typed(grid.x),
            "y": typed(grid.y),
            "z": typed(grid.z),
            "surfacecolor": typed(colour, np.float32),
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
    for run in runs:
        geometry = RunGeometry.of(run.trajectory, box)
        kept = geometry.full_steps
        xy = in_view(geometry.positions[kept], box)
        z = np.asarray(run.trajectory.loss, dtype=np.float64)[kept] + lift
        data.append(
            {
                "type": "scatter3d",
                "x": typed(xy[:, 0]),
                "y": typed(xy[:, 1]),
                "z": typed(np.where(np.isnan(xy[:, 0]), np.nan, z)),
                "mode": "lines",
                "name": run.label,
                "line": {"color": run.color, "width": 5},
                "hovertemplate": f"{escape(run.label)}<br>f = %{{z:.4g}}<extra></extra>",
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
