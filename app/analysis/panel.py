"""The analysis views on the page: the view selector and the panel that draws the chosen view
(sweep, stability map, range test, basins, curvature) for the chosen run."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import streamlit as st

from app import compute, controls
from app.analysis.cache import (
    cached_basins,
    cached_curvature,
    cached_map,
    cached_range_test,
    cached_sweep,
)
from app.analysis.selection import (
    BASIN_CHART,
    MAP_CHART,
    RANGE_CHART,
    SWEEP_CHART,
    VIEW_KEY,
    load_rate,
    on_basin_select,
    on_map_select,
    on_rate_select,
)
from app.controls import RunSetup, Scene
from app.figures import analysis as analysis_figures
from app.text import code, plain
from app.views import AXIS_KEY, RACE, RUN_KEY, SETTINGS, VIEW_SETTINGS, VIEWS, setting_key
from optimizers import analysis, cost
from optimizers.curvature import rule_threshold
from optimizers.engine import RunConfig, plan
from optimizers.rules import OPTIMIZERS
from surfaces import ParamSpec

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
        on_select=functools.partial(on_rate_select, setup.run_id, SWEEP_CHART),
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
    current = (float(setup.config.lr or 0.0), plan(setup.config).number(axis.grid_key))
    st.plotly_chart(
        analysis_figures.stability_figure(smap, axis, current),
        key=MAP_CHART,
        on_select=functools.partial(on_map_select, setup.run_id, axis.grid_key),
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
            on_select=functools.partial(on_rate_select, setup.run_id, RANGE_CHART),
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
            on_click=load_rate,
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
        named = plain(scene.surface.name)
        st.info(f"{named} lists {len(basins.minima)} minimum: one basin at most.")
    clickable = controls.classroom().mode("start") == "show"
    st.plotly_chart(
        analysis_figures.basin_figure(basins, scene.surface, scene.start),
        key=BASIN_CHART,
        on_select=on_basin_select,
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
    beta = plan(setup.config).number("hyper.beta", 0.0)  # 0 for rules without momentum
    rows = []
    for where, point in (("start", report.start), ("nearest minimum", report.minimum)):
        if point is None:
            continue
        rule = rule_threshold(setup.config.optimizer, float(point.eigenvalues[-1]), beta)
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
        st.info(f"{plain(scene.surface.name)} lists no minimum.")
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
