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

Loading a configuration writes the analysed run's widget state (run{i}_lr, run{i}_lr_log and
the second hyperparameter's own key) in a callback, before the script, and switches the page's
"view" back to the race.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from app import analysis_figures, compute, controls
from app.controls import RunSetup, Scene
from app.state import START_LIMIT, coerce, widget_value
from app.text import code, plain
from app.views import AXIS_KEY, RACE, RUN_KEY, SETTINGS, VIEW_SETTINGS, VIEWS, setting_key
from optimizers import analysis, cost
from optimizers.engine import MODIFIERS, RunConfig, plan
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES, ParamSpec
from surfaces.formula import without_float_noise

VIEW_KEY = "view"
SWEEP_CHART = "analysis_sweep_chart"
MAP_CHART = "analysis_map_chart"
RANGE_CHART = "analysis_range_chart"
BASIN_CHART = "analysis_basin_chart"
CHART_CONFIG = {"displaylogo": False}


def _setting_widgets(view: str) -> dict[str, float]:
    """The widgets of the settings `view` draws (VIEW_SETTINGS), side by side; their values by
    name."""
    names = VIEW_SETTINGS[view]
    values = {}
    for column, name in zip(st.columns(len(names)), names, strict=True):
        with column:
            spec = _setting_spec(name)
            values[name] = controls.param_widget(spec, setting_key(spec.name))
    return values


def _keep_settings() -> None:
    """Settings outlive the views that draw them: Streamlit drops the state of widgets a run
    does not draw, but keeps values written through session state."""
    state = st.session_state
    for key in [*(setting_key(s.name) for s in SETTINGS), RUN_KEY, AXIS_KEY]:
        if key in state:
            state[key] = state[key]


def view_selector() -> str:
    """The page's view (key "view"): "Race" or one of VIEWS; classroom mode can hide the
    choice (the linked view stays) or lock it."""
    options = [RACE, *(view.name for view in VIEWS)]
    view = controls.ensure_choice(VIEW_KEY, options, RACE)
    _keep_settings()
    mode = controls.classroom().mode("analysis")
    if mode == "hide":
        return view
    radio = st.radio(
        "View", options, key=VIEW_KEY, horizontal=True, disabled=mode == "lock",
        label_visibility="collapsed",
    )  # fmt: skip
    return str(radio)


# Loading a configuration into a run's controls.


def _widget_of(state: Mapping[str, Any], run_id: int, grid_key: str) -> tuple[str, ParamSpec, str]:
    """The session-state key, ParamSpec and widget kind that hold number `grid_key` of run
    `run_id` ("hyper.beta" → run{i}_beta, "surface.kappa" → quadratic_kappa, …)."""
    group, _, name = grid_key.partition(".")
    optimizer = OPTIMIZERS[state.get(controls.run_key(run_id, "optimizer"), "gd")]
    schedule = SCHEDULES[state.get(controls.run_key(run_id, "schedule"), "constant")]
    surface_params = getattr(SURFACES.get(state.get("surface", "")), "params", ())  # none: custom
    groups: dict[str, tuple[tuple[ParamSpec, ...], Callable[[str], str]]] = {
        "hyper": (optimizer.hyper, lambda n: controls.hyper_key(run_id, n)),
        "schedule": (schedule.params, lambda n: controls.schedule_key(run_id, n)),
        "warmup": (WARMUP_PARAMS, lambda n: controls.run_key(run_id, n)),
        "modifiers": (MODIFIERS, lambda n: controls.run_key(run_id, n)),
        "surface": (surface_params, lambda n: controls.surface_key(state["surface"], n)),
    }
    if group not in groups:
        raise ValueError(f"no widget holds {grid_key!r}")
    specs, key_of = groups[group]
    spec = next((s for s in specs if s.name == name), None)
    if spec is None:
        raise ValueError(f"no widget holds {grid_key!r} for this run")
    kind = controls.modifier_kind(spec) if group == "modifiers" else controls.widget_kind(spec)
    return key_of(name), spec, kind


def load_configuration(
    state: MutableMapping[str, Any],
    run_id: int,
    lr: float,
    number: tuple[str, float] | None = None,
) -> None:
    """Set run `run_id`'s rate (entry and slider) and optionally one more number (a grid key of
    `summarize` and its value), coerced as the widgets coerce them; then show the race."""
    spec = OPTIMIZERS[state.get(controls.run_key(run_id, "optimizer"), "gd")].lr
    rate = widget_value(spec, lr, "number")
    state[controls.run_key(run_id, "lr")] = rate
    state[controls.run_key(run_id, "lr_log")] = rate
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


def apply_rate_selection(state: MutableMapping[str, Any], run_id: int, chart: str) -> bool:
    """Load the rate of the point selected on `chart` (SWEEP_CHART or RANGE_CHART, whose points
    carry (η,)); True if one was."""
    point = selected_point(state.get(chart))
    if point is None:
        return False
    load_configuration(state, run_id, point[0])
    return True


def apply_map_selection(state: MutableMapping[str, Any], run_id: int, grid_key: str) -> bool:
    """Load the (η, v) of the map cell selected (chart key MAP_CHART); True if one was."""
    point = selected_point(state.get(MAP_CHART))
    if point is None or len(point) < 2:
        return False
    load_configuration(state, run_id, point[0], (grid_key, point[1]))
    return True


def apply_basin_selection(state: MutableMapping[str, Any]) -> bool:
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


def _on_rate_select(run_id: int, chart: str) -> None:
    apply_rate_selection(st.session_state, run_id, chart)


def _on_map_select(run_id: int, grid_key: str) -> None:
    apply_map_selection(st.session_state, run_id, grid_key)


def _on_basin_select() -> None:
    if controls.classroom().mode("start") == "show":
        apply_basin_selection(st.session_state)


def _load(run_id: int, lr: float) -> None:
    load_configuration(st.session_state, run_id, lr)


# Cached computations (hashable arguments in, records of numpy arrays out).


@st.cache_data(show_spinner="Sweeping the learning rate…", max_entries=32)
def cached_sweep(key: compute.ConfigKey, low: float, high: float, count: int) -> analysis.Sweep:
    rates = analysis.log_rates(low, high, count)
    with compute.heavy_slot():
        return analysis.lr_sweep(compute.config_from_key(key), rates, compute.stop_requested)


@st.cache_data(show_spinner="Mapping stability…", max_entries=16)
def cached_map(
    key: compute.ConfigKey, low: float, high: float, cells: int, axis: str
) -> analysis.StabilityMap:
    config = compute.config_from_key(key)
    values = analysis.SECOND_AXES.lookup(axis).values(config, cells)
    rates = analysis.log_rates(low, high, cells)
    with compute.heavy_slot():
        return analysis.stability_map(config, rates, axis, values, compute.stop_requested)


@st.cache_data(show_spinner="Running the range test…", max_entries=32)
def cached_range_test(
    key: compute.ConfigKey, low: float, high: float, steps: int
) -> analysis.RangeTest:
    with compute.heavy_slot():
        return analysis.range_test(compute.config_from_key(key), low, high, steps)


@st.cache_data(show_spinner="Finding basins…", max_entries=16)
def cached_basins(key: compute.ConfigKey, resolution: int) -> analysis.BasinMap:
    config = compute.config_from_key(key)
    with compute.heavy_slot():
        return analysis.basin_map(config, resolution, cancelled=compute.stop_requested)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_curvature(
    surface: compute.SurfaceRef, params: compute.Items, start: tuple[float, float]
) -> analysis.CurvatureReport:
    return analysis.curvature_report(compute.surface_of(surface), dict(params), start)


# The views.


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return "∞" if math.isinf(value) else f"{value:.4g}"


def _rate_range(setup: RunSetup, values: Mapping[str, float]) -> tuple[float, float]:
    """The swept rates: the settings' range clipped to what the run's η₀ control accepts."""
    assert setup.config is not None
    spec = OPTIMIZERS[setup.config.optimizer].lr
    low, high = max(values["lr_low"], spec.low), min(values["lr_high"], spec.high)
    if not low < high:
        raise ValueError(
            f"the rate range [{values['lr_low']:g}, {values['lr_high']:g}] within this "
            f"optimizer's [{spec.low:g}, {spec.high:g}] is empty: make the lowest η₀ smaller "
            "than the highest"
        )
    return low, high


def _setting_spec(name: str) -> ParamSpec:
    return next(spec for spec in SETTINGS if spec.name == name)


def _refused(message: str | None) -> bool:
    """Show a budget refusal (with its suggestion) instead of the view; True if refused."""
    if message is not None:
        st.error(plain(message))
    return message is not None


def _over_budget(
    setup: RunSetup,
    count: int,
    setting: str,
    cost_of: Callable[[RunConfig, int], cost.Estimate],
    noun: str,
) -> bool:
    """Refuse a grid of `count` (setting `setting`) whose estimated work is over budget."""
    assert setup.config is not None
    low = int(_setting_spec(setting).low)
    return _refused(cost.grid_refusal(setup.config, count, low, cost_of, noun))


def _number(setup: RunSetup, grid_key: str) -> float:
    assert setup.config is not None
    the_plan = plan(setup.config)
    return float(the_plan.numbers[the_plan.layout.index(grid_key)])


def _sweep_view(setup: RunSetup, scene: Scene) -> None:
    assert setup.config is not None
    values = _setting_widgets("LR sweep")
    low, high = _rate_range(setup, values)
    count = int(values["sweep_rates"])
    if _over_budget(setup, count, "sweep_rates", cost.sweep_seconds, "rates"):
        return
    key = compute.config_key(setup.config)
    sweep = cached_sweep(key, low, high, count)
    st.plotly_chart(
        analysis_figures.sweep_figure(sweep, setup.config.lr),
        key=SWEEP_CHART,
        on_select=functools.partial(_on_rate_select, setup.run_id, SWEEP_CHART),
        selection_mode=("points",),
        theme=None,
        config=CHART_CONFIG,
    )
    converged = sweep.converged_step >= 0
    lines = [f"{len(sweep.lrs)} rates from {low:.3g} to {high:.3g}, {scene.steps} steps each."]
    if converged.any():
        fastest = int(np.argmin(np.where(converged, sweep.converged_step, np.iinfo(int).max)))
        lines.append(
            f"Converged for {int(converged.sum())} rates; fastest at η₀ = "
            f"{sweep.lrs[fastest]:.4g} ({int(sweep.converged_step[fastest])} steps)."
        )
    if sweep.boundary is not None:
        lines.append(f"The first rate that diverged: η₀ = {sweep.boundary:.4g}.")
    critical = sweep.threshold
    if critical is not None:
        where = "exact here" if critical.exact else "from the curvature at the start: an estimate"
        lines.append(
            f"{critical.formula} = {_fmt(critical.value)} with λ_max = "
            f"{critical.lambda_max:.4g} ({where})."
        )
    st.caption(" ".join(lines) + " Click a point to run that rate.")


def _map_view(setup: RunSetup, scene: Scene) -> None:
    assert setup.config is not None
    axes = analysis.second_axes(setup.config)
    if not axes:
        st.info("This run has no second hyperparameter to map against the learning rate.")
        return
    keys = [axis.key for axis in axes]
    controls.ensure_choice(AXIS_KEY, keys, keys[0])
    axis = analysis.SECOND_AXES[
        st.selectbox(
            "Second hyperparameter",
            keys,
            format_func=lambda k: analysis.SECOND_AXES[k].label,
            key=AXIS_KEY,
        )
    ]
    values = _setting_widgets("Stability map")
    low, high = _rate_range(setup, values)
    cells = int(values["map_cells"])
    if _over_budget(setup, cells, "map_cells", cost.map_seconds, "cells per side"):
        return
    smap = cached_map(compute.config_key(setup.config), low, high, cells, axis.key)
    current = (float(setup.config.lr or 0.0), _number(setup, axis.grid_key))
    st.plotly_chart(
        analysis_figures.stability_figure(smap, axis, current),
        key=MAP_CHART,
        on_select=functools.partial(_on_map_select, setup.run_id, axis.grid_key),
        selection_mode=("points",),
        theme=None,
        config=CHART_CONFIG,
    )
    shares = [(smap.outcome == code).mean() for code in (analysis.CONVERGED, analysis.ESCAPED)]
    st.caption(
        f"{cells} × {cells} runs of {scene.steps} steps: {shares[0]:.0%} converged, "
        f"{shares[1]:.0%} diverged. The dashed line is the critical rate where the rule has "
        "one. Click a cell to run that setting."
    )


def _range_view(setup: RunSetup, scene: Scene) -> None:
    assert setup.config is not None
    values = _setting_widgets("LR range test")
    steps, low = int(values["range_steps"]), int(_setting_spec("range_steps").low)
    if _refused(cost.range_refusal(setup.config, steps, low)):
        return
    key = compute.config_key(setup.config)
    test = cached_range_test(
        key,
        values["range_low"],
        values["range_high"],
        steps,
    )
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.plotly_chart(
            analysis_figures.range_curve_figure(test, compute.critical(key)),
            key=RANGE_CHART,
            on_select=functools.partial(_on_rate_select, setup.run_id, RANGE_CHART),
            selection_mode=("points",),
            theme=None,
            config=CHART_CONFIG,
        )
    with right:
        layer = compute.surface_layer(scene.ref, compute.items(scene.params))
        points = scene.surface.critical_points(scene.params)
        st.plotly_chart(
            analysis_figures.range_path_figure(layer, scene.surface, points, test),
            key="analysis_range_path",
            theme=None,
            config=CHART_CONFIG,
        )
    stopped = (
        f"the loss blew up at step {test.stop} (η = {test.lrs[test.stop]:.3g})"
        if test.stop < len(test.lrs)
        else "the loss never blew up"
    )
    st.caption(
        f"η_k grows from {test.lrs[0]:.3g} to {test.lrs[-1]:.3g} over {len(test.lrs)} steps; "
        f"{stopped}. **Steepest**: the rate where the smoothed log-loss falls fastest against "
        "log η, bold, often near the cliff. **Valley**: the middle (on the log axis) of the "
        "stretch where the smoothed loss makes 10 % to 90 % of its fall: safely inside the band "
        "where it falls. Click a point of the loss curve to run that rate."
        + " The dashed line is the rule's critical rate (curvature at the start)."
        * (compute.critical(key) is not None)
    )
    left, right = st.columns(2)
    for column, name, rate in (
        (left, "steepest", test.steepest),
        (right, "valley", test.valley),
    ):
        column.button(
            f"Run at the {name} rate η₀ = {_fmt(rate)}",
            key=f"analysis_use_{name}",
            on_click=_load,
            args=(setup.run_id, rate or 0.0),
            disabled=rate is None,
        )


def _basin_view(setup: RunSetup, scene: Scene) -> None:
    assert setup.config is not None
    values = _setting_widgets("Basins")
    cells = int(values["basin_cells"])
    if _over_budget(setup, cells, "basin_cells", cost.basin_seconds, "starts per side"):
        return
    basins = cached_basins(compute.config_key(setup.config), cells)
    if len(basins.minima) < 2:
        st.info(f"{scene.surface.name} lists {len(basins.minima)} minimum: one basin at most.")
    clickable = controls.classroom().mode("start") == "show"
    st.plotly_chart(
        analysis_figures.basin_figure(basins, scene.surface, scene.start),
        key=BASIN_CHART,
        on_select=_on_basin_select,
        selection_mode=("points",),
        theme=None,
        config=CHART_CONFIG,
    )
    total = basins.label.size
    parts = [
        f"{name}: {(basins.label == label).sum() / total:.0%}"
        for label, name, _ in analysis_figures.basin_colors(len(basins.minima))
        if (basins.label == label).any()
    ]
    st.caption(
        f"{basins.label.shape[0]} × {basins.label.shape[1]} starts, {scene.steps} steps each, "
        f"at η₀ = {_fmt(setup.config.lr)} — "
        + "; ".join(parts)
        + "."
        + " Click a cell to start every run there." * clickable
    )


def _curvature_view(setup: RunSetup, scene: Scene) -> None:
    assert setup.config is not None
    report = cached_curvature(scene.ref, compute.items(scene.params), scene.start)
    beta = _number(setup, "hyper.beta") if setup.config.optimizer in ("momentum", "nesterov") else 0
    rows = []
    for where, point in (("start", report.start), ("nearest minimum", report.minimum)):
        if point is None:
            continue
        rule = analysis.rule_threshold(setup.config.optimizer, float(point.eigenvalues[-1]), beta)
        rows.append(
            {
                "where": where,
                "point": f"({point.point[0]:.4g}, {point.point[1]:.4g})",
                "λ₁": float(point.eigenvalues[0]),
                "λ₂": float(point.eigenvalues[1]),
                "condition κ": _fmt(point.condition),
                "2/λ_max": _fmt(point.gd_rate),
                f"{OPTIMIZERS[setup.config.optimizer].name} limit": _fmt(rule),
            }
        )
    st.dataframe(rows, hide_index=True)
    if report.minimum is None:
        st.info(f"{scene.surface.name} lists no minimum.")
    st.caption(
        "κ = |λ|_max / |λ|_min: how stretched the bowl is. Gradient descent is stable below "
        "2/λ_max and crosses the flat direction at a speed set by ηλ_min, so a large κ forces "
        "a slow crawl. The sidebar marks the run's critical rate under its learning-rate control."
    )


RENDERERS: dict[str, Callable[[RunSetup, Scene], None]] = {
    "LR sweep": _sweep_view,
    "Stability map": _map_view,
    "LR range test": _range_view,
    "Basins": _basin_view,
    "Curvature": _curvature_view,
}


def analysis_panel(view: str, scene: Scene, setups: Sequence[RunSetup]) -> None:
    """Render analysis `view` (a name in VIEWS) for the run chosen in "analysis_run"."""
    runnable = {s.run_id: s for s in setups if s.config is not None}
    if view not in RENDERERS:
        st.error(f"Unknown view {code(view)}.")
        return
    if not runnable:
        st.error("No run can be analysed: every run's configuration has a problem.")
        return
    ids = list(runnable)
    if st.session_state.get(RUN_KEY) not in ids:
        st.session_state[RUN_KEY] = ids[0]
    run_id = st.selectbox(
        "Analyse run", ids, format_func=lambda i: f"run {runnable[i].label}", key=RUN_KEY
    )
    st.caption(next(v.about for v in VIEWS if v.name == view))
    try:
        RENDERERS[view](runnable[run_id], scene)
    except ValueError as error:
        st.error(f"Could not compute the {view.lower()}: {plain(error)}")
