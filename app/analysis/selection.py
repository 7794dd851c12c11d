"""A click on an analysis chart loads its configuration into a run's controls.

Loading writes the analysed run's widget state (run{i}_lr, run{i}_lr_log and the second
hyperparameter's own key) in a callback, before the script, and switches the page's "view" back
to the race. The functions take the session state as a mapping, so tests hand them a dict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import streamlit as st

from app import controls
from app.state import (
    START_LIMIT,
    Kind,
    coerce,
    hyper_key,
    modifier_kind,
    run_key,
    schedule_key,
    surface_key,
    widget_kind,
    widget_value,
)
from app.views import RACE
from optimizers.engine import find_spec, param_groups
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES, ParamSpec
from surfaces.formula import without_float_noise

VIEW_KEY = "view"
SWEEP_CHART = "analysis_sweep_chart"
MAP_CHART = "analysis_map_chart"
RANGE_CHART = "analysis_range_chart"
BASIN_CHART = "analysis_basin_chart"

# Streamlit's session state is keyed by `str | int`; the tests' stand-in is a dict keyed by str.
SessionState = MutableMapping[Any, Any]


def _widget_of(state: Mapping[str, Any], run_id: int, grid_key: str) -> tuple[str, ParamSpec, Kind]:
    """The session-state key, ParamSpec and widget kind that hold number `grid_key` of run
    `run_id` ("hyper.beta" → run{i}_beta, "surface.kappa" → quadratic_kappa, …)."""
    group, _, name = grid_key.partition(".")
    optimizer = OPTIMIZERS[state.get(run_key(run_id, "optimizer"), "gd")]
    schedule = SCHEDULES[state.get(run_key(run_id, "schedule"), "constant")]
    surface_params = getattr(SURFACES.get(state.get("surface", "")), "params", ())  # none: custom
    key_of: dict[str, Callable[[str], str]] = {
        "hyper": lambda n: hyper_key(run_id, n),
        "schedule": lambda n: schedule_key(run_id, n),
        "warmup": lambda n: run_key(run_id, n),
        "modifiers": lambda n: run_key(run_id, n),
        "surface": lambda n: surface_key(state["surface"], n),
    }
    if group not in key_of:
        raise ValueError(f"no widget holds {grid_key!r}")
    spec = find_spec(param_groups(optimizer, schedule, surface_params), grid_key)
    if spec is None:
        raise ValueError(f"no widget holds {grid_key!r} for this run")
    kind = modifier_kind(spec) if group == "modifiers" else widget_kind(spec)
    return key_of[group](name), spec, kind


def load_configuration(
    state: SessionState,
    run_id: int,
    lr: float,
    number: tuple[str, float] | None = None,
) -> None:
    """Set run `run_id`'s rate (entry and slider) and optionally one more number (a grid key of
    `summarize` and its value), coerced as the widgets coerce them; then show the race."""
    spec = OPTIMIZERS[state.get(run_key(run_id, "optimizer"), "gd")].lr
    rate = widget_value(spec, lr, "number")
    state[run_key(run_id, "lr")] = rate
    state[run_key(run_id, "lr_log")] = rate
    if number is not None:
        key, param, kind = _widget_of(state, run_id, number[0])
        state[key] = widget_value(param, number[1], kind)
    state[VIEW_KEY] = RACE


def customdata_values(raw: Any) -> tuple[float, ...]:
    """One point's `customdata` as floats. AppTest hands over the row as a list; Chromium sends
    a typed-array row serialised as an object keyed "0", "1", … (read its values in key order,
    never its keys); a one-column row may arrive as a bare number. ValueError otherwise."""
    if isinstance(raw, Mapping):
        try:
            ordered = sorted(raw.items(), key=lambda item: int(item[0]))
        except (TypeError, ValueError) as error:
            raise ValueError(f"customdata keys are not indices: {list(raw)!r}") from error
        raw = [value for _, value in ordered]
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        raise ValueError(f"customdata is not a row: {raw!r}")
    try:
        values = tuple(float(v) for v in raw if not isinstance(v, bool))
    except (TypeError, ValueError) as error:
        raise ValueError(f"customdata holds a non-number: {raw!r}") from error
    if len(values) != len(raw) or not values or not all(math.isfinite(v) for v in values):
        raise ValueError(f"customdata is not a row of finite numbers: {raw!r}")
    return values


def selected_point(selection: Any) -> tuple[float, ...] | None:
    """The `customdata` of the first selected point that carries finite numbers, else None."""
    try:
        points = list(selection["selection"]["points"])
    except (KeyError, TypeError):
        return None
    for point in points:
        try:
            return customdata_values(point["customdata"])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def apply_rate_selection(state: SessionState, run_id: int, chart: str) -> bool:
    """Load the rate of the point selected on `chart` (SWEEP_CHART or RANGE_CHART, whose points
    carry (η,)); True if one was."""
    point = selected_point(state.get(chart))
    if point is None:
        return False
    load_configuration(state, run_id, point[0])
    return True


def apply_map_selection(state: SessionState, run_id: int, grid_key: str) -> bool:
    """Load the (η, v) of the map cell selected (chart key MAP_CHART); True if one was."""
    point = selected_point(state.get(MAP_CHART))
    if point is None or len(point) < 2:
        return False
    load_configuration(state, run_id, point[0], (grid_key, point[1]))
    return True


def apply_basin_selection(state: SessionState) -> bool:
    """Start every run from the basin-map cell selected (chart key BASIN_CHART), to 12
    significant digits as a contour click; then show the race."""
    point = selected_point(state.get(BASIN_CHART))
    if point is None or len(point) < 2:
        return False
    state["x0"], state["y0"] = (
        coerce(without_float_noise(v), 0.0, -START_LIMIT, START_LIMIT, "number") for v in point[:2]
    )
    state[VIEW_KEY] = RACE
    return True


def on_rate_select(run_id: int, chart: str) -> None:
    """Callback of a sweep or range-test chart: load the selected point's rate."""
    apply_rate_selection(st.session_state, run_id, chart)


def on_map_select(run_id: int, grid_key: str) -> None:
    """Callback of the stability map: load the selected cell's (η, second number)."""
    apply_map_selection(st.session_state, run_id, grid_key)


def on_basin_select() -> None:
    """Callback of the basin map: start every run at the selected cell (unless the class
    link hides or locks the start)."""
    if controls.classroom().mode("start") == "show":
        apply_basin_selection(st.session_state)


def load_rate(run_id: int, lr: float) -> None:
    """Callback of a "Run at …" button: load rate `lr` into run `run_id`."""
    load_configuration(st.session_state, run_id, lr)
