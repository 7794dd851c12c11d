"""Learning-rate analysis: hundreds of runs at once, on top of `summarize`.

    lr_sweep          K log-spaced rates η₁ < … < η_K: final loss, best loss, steps to converge
    stability_map     rates × a second hyperparameter (a row of `SECOND_AXES`): outcome per cell
    range_test        the "LR finder": one run with η_k = η_min (η_max/η_min)^(k/(N−1))
    basin_map         a grid of starts: which known minimum each one reaches
    curvature_report  Hessian eigenvalues and condition numbers at the start and nearest minimum

One module per analysis (sweep, stability, lr_finder, basins, local_curvature), with what they
share in `inputs` (caps, rate arrays, `with_number`) and `thresholds` (the critical rate).
Every function validates its input and raises ValueError with a message naming the problem.
Work per request is capped: at most MAX_CONFIGURATIONS variants and MAX_WORK variant-steps, a
hard limit (about 8 s here on the cheapest surface); the pages hold every request to a budget
of CPU time first (`optimizers.cost`), estimated from what each step costs.
"""

from optimizers.analysis.basins import DIVERGED, ELSEWHERE, UNFINISHED, BasinMap, basin_map
from optimizers.analysis.inputs import (
    MAX_CONFIGURATIONS,
    MAX_WORK,
    MIN_SWEEP_RATES,
    Cancel,
    log_rates,
    with_number,
)
from optimizers.analysis.local_curvature import (
    CurvatureReport,
    PointCurvature,
    curvature_report,
    point_curvature,
)
from optimizers.analysis.lr_finder import (
    BLOWUP_FACTOR,
    MAX_RANGE_STEPS,
    SMOOTHING_FRACTION,
    VALLEY_FRACTIONS,
    RangeTest,
    range_test,
    run_with_rates,
)
from optimizers.analysis.stability import (
    CONVERGED,
    ESCAPED,
    RUNNING,
    SECOND_AXES,
    SecondAxis,
    StabilityMap,
    second_axes,
    stability_map,
)
from optimizers.analysis.sweep import Sweep, lr_sweep
from optimizers.analysis.thresholds import Threshold, threshold

__all__ = [
    "BLOWUP_FACTOR",
    "CONVERGED",
    "DIVERGED",
    "ELSEWHERE",
    "ESCAPED",
    "MAX_CONFIGURATIONS",
    "MAX_RANGE_STEPS",
    "MAX_WORK",
    "MIN_SWEEP_RATES",
    "RUNNING",
    "SECOND_AXES",
    "SMOOTHING_FRACTION",
    "UNFINISHED",
    "VALLEY_FRACTIONS",
    "BasinMap",
    "Cancel",
    "CurvatureReport",
    "PointCurvature",
    "RangeTest",
    "SecondAxis",
    "StabilityMap",
    "Sweep",
    "Threshold",
    "basin_map",
    "curvature_report",
    "log_rates",
    "lr_sweep",
    "point_curvature",
    "range_test",
    "run_with_rates",
    "second_axes",
    "stability_map",
    "threshold",
    "with_number",
]
