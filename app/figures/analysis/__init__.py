"""Figures of the learning-rate analyses: pure functions from `optimizers.analysis` records to
`go.Figure` (no Streamlit, no maths beyond layout).

Clickable points: Streamlit reports only selections, and heatmaps cannot be selected, so the
stability and basin maps carry an invisible scatter (`PICKER_NAME`) with one point per cell.
Every clickable point here carries what it loads in `customdata`: (η,) on the sweep and the
range test's loss curve, (η, v) on the stability map, the start (x, y) on the basin map.
"""

from app.figures.analysis.basins import basin_colors, basin_figure
from app.figures.analysis.parts import PICKER_NAME, THRESHOLD_COLOR, threshold_label
from app.figures.analysis.range_test import range_curve_figure, range_path_figure
from app.figures.analysis.stability import stability_figure
from app.figures.analysis.sweep import sweep_figure

__all__ = [
    "PICKER_NAME",
    "THRESHOLD_COLOR",
    "basin_colors",
    "basin_figure",
    "range_curve_figure",
    "range_path_figure",
    "stability_figure",
    "sweep_figure",
    "threshold_label",
]
