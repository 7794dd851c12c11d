"""The learning-rate analysis views: sweep, stability map, range test, basins, curvature.

Widget keys (every one starts with "analysis_"):

    analysis_run                the run analysed (its id; default the first valid run)
    analysis_{setting}          the numeric settings in SETTINGS (ParamSpec rows), e.g.
                                analysis_sweep_rates, analysis_lr_low, analysis_range_steps
    analysis_map_axis           the stability map's second hyperparameter (a SECOND_AXES key)
    analysis_sweep_chart, analysis_map_chart, analysis_range_chart
                                clickable charts: a click loads the point's rate (and the map's
                                second number) into the analysed run
    analysis_basin_chart        clickable: a click starts every run from that cell
    analysis_use_steepest, analysis_use_valley   load a range-test suggestion

`panel.py` draws the views, `selection.py` turns a click into a loaded configuration, `cache.py`
caches the analyses.
"""

from app.analysis.panel import analysis_panel, view_selector
from app.analysis.selection import BASIN_CHART, MAP_CHART, RANGE_CHART, SWEEP_CHART, VIEW_KEY

__all__ = [
    "BASIN_CHART",
    "MAP_CHART",
    "RANGE_CHART",
    "SWEEP_CHART",
    "VIEW_KEY",
    "analysis_panel",
    "view_selector",
]
