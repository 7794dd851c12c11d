"""Plotly figures: pure functions from grids and trajectories to `go.Figure` (or to the plain
trace and layout dicts the live view ships). No Streamlit here and no maths beyond layout and
downsampling (the surface maths is in `surfaces.grid`).

    style        colours, marker styles, `RunView` (one run as drawn)
    transport    plotly.js typed arrays (`typed`, `array_of`), `FigureSpec` and `SpecFigure`
    geometry     path downsampling and clipping to the view box (`RunGeometry`)
    raster       the contour's banded PNG underlay
    plane        the plane's layers: surface, −∇f field, stationary points, runs, exits, axes
    contour      the animated contour figure and its standalone HTML page
    live_plane   the live view's plane, split into a surface part and one part per run
    log_axes     metric y axes: capped ranges, floors and log ticks
    metrics      the metrics figure (loss gap, η_k, ‖g‖, sharpness)
    surface3d    the surface in 3-D
    data_panel   the "Your data" panel: points and fitted lines
    analysis     the learning-rate analyses (sweep, stability map, range test, basins)
"""

from app.figures.contour import (
    ANIMATION_GUARD,
    FRAME_MS,
    MAX_FRAMES,
    PICKER_NAME,
    PICKER_POINTS,
    contour_figure,
    export_html,
)
from app.figures.data_panel import FitLine, data_panel_figure, fit_lines
from app.figures.geometry import (
    FRAME_PATH_POINTS,
    LIVE_PATH_POINTS,
    RunGeometry,
    clipped,
    grown,
    in_view,
    live_path_points,
    path_indices,
)
from app.figures.live_plane import RunLayer, SurfaceLayerView, live_run, live_surface
from app.figures.log_axes import (
    FLOOR_DECADES,
    HEADROOM_DECADES,
    LOG_TICKS,
    MAX_DECADES,
    floored_log_axis,
)
from app.figures.metrics import (
    LOSS_FLOOR,
    METRIC_POINTS,
    SHARPNESS_TITLE,
    USED_RATES,
    Threshold,
    metrics_figure,
    metrics_spec,
)
from app.figures.plane import (
    CONTOUR_LEVELS,
    FIELD_NAME,
    FIELD_TRACE,
    FIRST_RUN_TRACE,
    IMAGE_PIXELS,
    MAX_ASPECT,
    SURFACE_TRACE,
    TRACES_PER_RUN,
    SurfaceLayer,
    box_of,
    critical_traces,
    equal_scale,
    exit_layers,
    plane_layout,
    surface_layer,
)
from app.figures.style import PALETTE, SURFACE_COLORSCALE, TOP_LEGEND, RunView
from app.figures.surface3d import LIFT_3D, surface3d_figure
from app.figures.transport import FigureSpec, SpecFigure, array_of, typed

__all__ = [
    "ANIMATION_GUARD",
    "CONTOUR_LEVELS",
    "FIELD_NAME",
    "FIELD_TRACE",
    "FIRST_RUN_TRACE",
    "FLOOR_DECADES",
    "FRAME_MS",
    "FRAME_PATH_POINTS",
    "HEADROOM_DECADES",
    "IMAGE_PIXELS",
    "LIFT_3D",
    "LIVE_PATH_POINTS",
    "LOG_TICKS",
    "LOSS_FLOOR",
    "MAX_ASPECT",
    "MAX_DECADES",
    "MAX_FRAMES",
    "METRIC_POINTS",
    "PALETTE",
    "PICKER_NAME",
    "PICKER_POINTS",
    "SHARPNESS_TITLE",
    "SURFACE_COLORSCALE",
    "SURFACE_TRACE",
    "TOP_LEGEND",
    "TRACES_PER_RUN",
    "USED_RATES",
    "FigureSpec",
    "FitLine",
    "RunGeometry",
    "RunLayer",
    "RunView",
    "SpecFigure",
    "SurfaceLayer",
    "SurfaceLayerView",
    "Threshold",
    "array_of",
    "box_of",
    "clipped",
    "contour_figure",
    "critical_traces",
    "data_panel_figure",
    "equal_scale",
    "exit_layers",
    "export_html",
    "fit_lines",
    "floored_log_axis",
    "grown",
    "in_view",
    "live_path_points",
    "live_run",
    "live_surface",
    "metrics_figure",
    "metrics_spec",
    "path_indices",
    "plane_layout",
    "surface3d_figure",
    "surface_layer",
    "typed",
]
