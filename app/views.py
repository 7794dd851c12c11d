"""The page's views and the analysis views' numeric settings: tables read by the analysis
page (app/analysis/) and by the link's field table (app/link/table.py), so both stay in step."""

from __future__ import annotations

from typing import NamedTuple

from surfaces import ParamSpec

RACE = "Race"


class View(NamedTuple):
    """An analysis view: its name on the view selector, a one-line description, and the
    SETTINGS it draws (by name; the link carries the current view's)."""

    name: str
    about: str
    settings: tuple[str, ...]


VIEWS: tuple[View, ...] = (
    View(
        "LR sweep",
        "Hundreds of learning rates at once: where does the run diverge?",
        ("lr_low", "lr_high", "sweep_rates"),
    ),
    View(
        "Stability map",
        "Learning rate × a second hyperparameter: converged or diverged.",
        ("lr_low", "lr_high", "map_cells"),
    ),
    View(
        "LR range test",
        "The learning-rate finder: one run whose rate grows every step.",
        ("range_low", "range_high", "range_steps"),
    ),
    View(
        "Basins",
        "Which minimum each start point reaches, for this run's settings.",
        ("basin_cells",),
    ),
    View(
        "Curvature",
        "Hessian eigenvalues and condition numbers at the start and the minimum.",
        (),
    ),
)

SETTINGS: tuple[ParamSpec, ...] = (
    ParamSpec("lr_low", "lowest η₀", 1e-5, 1e-8, 100.0, "Sweep and map start here.", log=True),
    ParamSpec("lr_high", "highest η₀", 10.0, 1e-8, 100.0, "Sweep and map end here.", log=True),
    ParamSpec(
        "sweep_rates", "rates", 1000.0, 500.0, 4000.0, "Log-spaced rates swept.", integer=True
    ),
    ParamSpec("map_cells", "cells per side", 100.0, 100.0, 200.0, "Map grid.", integer=True),
    ParamSpec(
        "range_low", "starting η", 1e-6, 1e-8, 100.0, "The range test's first rate.", log=True
    ),
    ParamSpec("range_high", "final η", 10.0, 1e-8, 100.0, "Its last rate.", log=True),
    ParamSpec(
        "range_steps", "steps N", 1000.0, 50.0, 5000.0, "Steps of the range test.", integer=True
    ),
    ParamSpec("basin_cells", "starts per side", 150.0, 150.0, 300.0, "Basin grid.", integer=True),
)


RUN_KEY = "analysis_run"  # the run analysed (its number)
AXIS_KEY = "analysis_map_axis"  # the stability map's second hyperparameter (a SECOND_AXES key)


def setting_key(name: str) -> str:
    return f"analysis_{name}"


VIEW_SETTINGS: dict[str, tuple[str, ...]] = {view.name: view.settings for view in VIEWS}
