"""The analysis views on the page (AppTest): each draws the backend's own numbers, and a click on
a sweep point or a map cell loads that configuration into the analysed run and shows the race."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import views
from app.analysis import panel, selection
from app.figures import analysis as analysis_figures
from app.figures import in_view
from app.state import hyper_key, run_key
from optimizers import analysis
from optimizers.engine import RunConfig
from surfaces import SURFACES
from tests.apptest_tools import open_link, select_point

ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
STEPS = 50
DEFAULTS = {spec.name: spec.default for spec in views.SETTINGS}


def page(**state: Any) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in {"steps": STEPS, **state}.items():
        at.session_state[key] = value
    return settle(at)


def settle(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def show(at: AppTest, view: str) -> AppTest:
    at.radio(key=selection.VIEW_KEY).set_value(view)
    return settle(at)


def decode(data: Any) -> np.ndarray:
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        if data.get("shape"):
            array = array.reshape([int(n) for n in str(data["shape"]).split(",")])
        return array.astype(np.float64)
    return np.asarray(data, dtype=np.float64)


def chart(at: AppTest, key: str) -> dict[str, Any]:
    for element in at.get("plotly_chart"):
        if key in element.proto.id:
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def trace(figure: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in figure["data"] if t.get("name") == name)


def config(**changes: Any) -> RunConfig:
    """Run 1 of the page as it opens, with STEPS steps and `changes`."""
    base = {"surface": "quadratic", "optimizer": "gd", "lr": 0.01, "steps": STEPS}
    base["start"] = SURFACES["quadratic"].starts[0]
    return RunConfig(**(base | changes))


def select(at: AppTest, key: str, customdata: list[float]) -> None:
    """Send the chart `key` the selection event of a click on its point with this `customdata`,
    shaped as Chromium sends it: the row as an object keyed "0", "1", … (a typed-array row)."""
    row = {str(i): value for i, value in enumerate(customdata)}
    point = {"curve_number": 0, "point_number": 0, "x": 0.0, "y": 0.0, "customdata": row}
    select_point(at, key, point)


# Each view draws the backend's numbers.


def test_view_selector_offers_race_and_every_analysis() -> None:
    at = page()
    assert at.radio(key=selection.VIEW_KEY).options == ["Race", *(v.name for v in views.VIEWS)]
    assert at.radio(key=selection.VIEW_KEY).value == "Race"
    assert set(panel.RENDERERS) == {v.name for v in views.VIEWS}


def test_sweep_view_draws_the_sweep() -> None:
    at = show(page(), "LR sweep")
    lrs = analysis.log_rates(DEFAULTS["lr_low"], DEFAULTS["lr_high"], int(DEFAULTS["sweep_rates"]))
    sweep = analysis.lr_sweep(config(), lrs)
    figure = chart(at, selection.SWEEP_CHART)
    stable = sweep.diverged_step < 0
    final = trace(figure, "final loss")
    np.testing.assert_array_equal(decode(final["x"]), lrs[stable])
    np.testing.assert_array_equal(decode(final["y"]), sweep.final_loss[stable])
    steps = trace(figure, "steps to converge")
    np.testing.assert_array_equal(
        decode(steps["y"]), sweep.converged_step[sweep.converged_step >= 0]
    )
    escaped = trace(figure, "diverged (step it escaped)")
    np.testing.assert_array_equal(decode(escaped["x"]), lrs[~stable])
    names = [t.get("name", "") for t in figure["data"]]
    assert [name for name in names if name.startswith("2/λ")] == ["2/λ_max = 0.2"]
    dashed = [s["x0"] for s in figure["layout"]["shapes"] if s["line"].get("dash") == "dash"]
    assert dashed == [0.2] * 3  # across the three panels
    widgets = {
        w.key for kind in ("select_slider", "number_input", "selectbox") for w in at.get(kind)
    }
    assert {
        "analysis_run",
        "analysis_lr_low",
        "analysis_lr_high",
        "analysis_sweep_rates",
    } <= widgets


def test_stability_map_draws_the_map() -> None:
    at = page(run1_optimizer="momentum")
    at = show(at, "Stability map")
    assert at.selectbox(key=views.AXIS_KEY).value == "beta"
    momentum = config(optimizer="momentum")
    cells = int(DEFAULTS["map_cells"])
    lrs = analysis.log_rates(DEFAULTS["lr_low"], DEFAULTS["lr_high"], cells)
    betas = analysis.SECOND_AXES["beta"].values(momentum, cells)
    smap = analysis.stability_map(momentum, lrs, "beta", betas)
    figure = chart(at, selection.MAP_CHART)
    converged = trace(figure, "converged")
    expected = np.where(smap.outcome == analysis.CONVERGED, smap.steps, np.nan)
    np.testing.assert_array_equal(decode(converged["z"]), expected)
    diverged = trace(figure, "diverged")
    np.testing.assert_array_equal(
        np.isfinite(decode(diverged["z"])), smap.outcome == analysis.ESCAPED
    )
    picker = trace(figure, analysis_figures.PICKER_NAME)
    L, B = np.meshgrid(lrs, betas)
    np.testing.assert_array_equal(
        decode(picker["customdata"]), np.column_stack([L.ravel(), B.ravel()])
    )


def test_range_test_view_draws_the_test_and_loads_a_suggestion() -> None:
    at = show(page(), "LR range test")
    test = analysis.range_test(
        config(), DEFAULTS["range_low"], DEFAULTS["range_high"], int(DEFAULTS["range_steps"])
    )
    figure = chart(at, "analysis_range_chart")
    np.testing.assert_array_equal(decode(trace(figure, "loss L(w_k)")["y"]), test.loss[: test.stop])
    path = decode(trace(chart(at, "analysis_range_path"), "range-test path")["x"])
    box = SURFACES["quadratic"].box
    expected = in_view(test.positions[: test.stop + 1], box)[:, 0]
    np.testing.assert_array_equal(path, expected)
    assert test.valley is not None
    at.button(key="analysis_use_valley").click()
    settle(at)
    assert at.radio(key=selection.VIEW_KEY).value == "Race"
    assert at.number_input(key="run1_lr").value == test.valley


def test_basin_view_colours_each_start_by_its_minimum() -> None:
    at = page(surface="himmelblau", run1_lr=0.005)
    at = show(at, "Basins")
    basins = analysis.basin_map(config(surface="himmelblau", lr=0.005, start=(-0.3, -0.9)), 150)
    figure = chart(at, "analysis_basin_chart")
    heatmap = trace(figure, "basins")
    colours = analysis_figures.basin_colors(len(basins.minima))
    code = {label: i for i, (label, _, _) in enumerate(colours)}
    np.testing.assert_array_equal(decode(heatmap["z"]), np.vectorize(code.get)(basins.label))
    names = {t.get("name") for t in figure["data"]}
    assert {"minimum 1", "minimum 2", "minimum 3", "minimum 4"} <= names


def test_curvature_view_shows_eigenvalues_and_condition_numbers() -> None:
    at = show(page(), "Curvature")
    (table,) = at.dataframe
    rows = table.value
    start = SURFACES["quadratic"].starts[0]
    report = analysis.curvature_report(SURFACES["quadratic"], None, start)
    assert list(rows["where"]) == ["start", "nearest minimum"]
    np.testing.assert_allclose(rows["λ₁"], [report.start.eigenvalues[0]] * 2)
    np.testing.assert_allclose(rows["λ₂"], [10.0, 10.0])
    assert list(rows["condition κ"]) == ["10", "10"] and list(rows["2/λ_max"]) == ["0.2", "0.2"]


# Clicks load the configuration.


def test_a_click_on_a_sweep_point_loads_its_rate_into_the_race() -> None:
    at = page()
    at.button(key="add_run").click()
    settle(at)
    at = show(at, "LR sweep")
    at.selectbox(key=views.RUN_KEY).set_value(2)
    settle(at)
    lr = 0.123456789
    select(at, selection.SWEEP_CHART, [lr])
    settle(at)
    assert at.radio(key=selection.VIEW_KEY).value == "Race"
    assert at.number_input(key="run2_lr").value == lr
    assert at.select_slider(key="run2_lr_log").value == lr
    assert at.number_input(key="run1_lr").value == 0.01  # the other run is left alone


def test_a_click_on_a_map_cell_loads_rate_and_beta() -> None:
    at = page(run1_optimizer="momentum")
    at = show(at, "Stability map")
    select(at, selection.MAP_CHART, [0.0456, 0.73])
    settle(at)
    assert at.radio(key=selection.VIEW_KEY).value == "Race"
    assert at.number_input(key="run1_lr").value == 0.0456
    assert at.slider(key=hyper_key(1, "beta")).value == 0.73


def test_a_click_on_the_range_test_curve_loads_its_rate() -> None:
    at = show(page(), "LR range test")
    select(at, selection.RANGE_CHART, [0.0321])
    settle(at)
    assert at.radio(key=selection.VIEW_KEY).value == "Race"
    assert at.number_input(key="run1_lr").value == 0.0321


def test_a_click_on_a_basin_cell_starts_every_run_there() -> None:
    at = show(page(surface="himmelblau"), "Basins")
    figure = chart(at, selection.BASIN_CHART)
    picker = trace(figure, analysis_figures.PICKER_NAME)
    x, y = decode(picker["x"])[1234], decode(picker["y"])[1234]
    np.testing.assert_array_equal(decode(picker["customdata"])[1234], [x, y])
    select(at, selection.BASIN_CHART, [x, y])
    settle(at)
    assert at.radio(key=selection.VIEW_KEY).value == "Race"
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (
        float(f"{x:.12g}"),
        float(f"{y:.12g}"),
    )


def test_a_basin_click_does_not_move_a_locked_start() -> None:
    at = open_link({"v": "1", "surface": "himmelblau", "view": "Basins", "lock": "start"})
    before = at.session_state["x0"], at.session_state["y0"]
    select(at, selection.BASIN_CHART, [1.5, 2.5])
    settle(at)
    assert (at.session_state["x0"], at.session_state["y0"]) == before


def test_load_configuration_coerces_like_the_widgets() -> None:
    state: dict[str, Any] = {"run3_optimizer": "momentum", "surface": "quadratic"}
    selection.load_configuration(state, 3, 1e9, ("hyper.beta", 0.5))
    assert state["run3_lr"] == state["run3_lr_log"] == 10.0 and state["run3_beta"] == 0.5
    assert state[selection.VIEW_KEY] == "Race"
    selection.load_configuration(state, 3, 0.1, ("surface.kappa", 50.0))
    assert state["quadratic_kappa"] == 50.0
    selection.load_configuration(state, 3, 0.1, ("warmup.warmup_steps", 12.4))
    assert state["run3_warmup_steps"] == 12 and type(state["run3_warmup_steps"]) is int
    selection.load_configuration(state, 3, 0.1, ("modifiers.weight_decay", 0.25))
    assert state["run3_weight_decay"] == 0.25
    with pytest.raises(ValueError, match="no widget"):
        selection.load_configuration(state, 3, 0.1, ("hyper.b2", 0.9))


def test_selected_point_reads_customdata_only() -> None:
    event = {"selection": {"points": [{"x": 1.0}, {"customdata": [0.5, 0.25]}]}}
    assert selection.selected_point(event) == (0.5, 0.25)
    # Chromium's form: a typed-array row as an object keyed by index (order from the keys).
    browser = {"selection": {"points": [{"customdata": {"1": 0.25, "0": 0.5}}]}}
    assert selection.selected_point(browser) == (0.5, 0.25)
    assert selection.selected_point({"selection": {"points": [{"customdata": 0.125}]}}) == (0.125,)
    for bad in ({"a": 1.0}, {"0": "x"}, [], [True], "0.5", {"0": math.inf}):
        assert selection.selected_point({"selection": {"points": [{"customdata": bad}]}}) is None
    assert selection.selected_point({"selection": {"points": [{"customdata": [math.nan]}]}}) is None
    assert selection.selected_point(None) is None
    state: dict[str, Any] = {"run1_optimizer": "gd", selection.SWEEP_CHART: event}
    assert (
        selection.apply_rate_selection(state, 1, selection.SWEEP_CHART) and state["run1_lr"] == 0.5
    )
    assert not selection.apply_map_selection({selection.MAP_CHART: None}, 1, "hyper.beta")


# Errors are shown, not raised.


def test_bad_settings_and_capped_work_are_reported() -> None:
    at = page(analysis_lr_low=1.0, analysis_lr_high=0.1)
    at = show(at, "LR sweep")
    (error,) = at.error
    assert "is empty" in error.value
    at = page(steps=20_000)
    at = show(at, "Basins")
    (error,) = at.error
    assert "would take about" in error.value  # over the work budget: refused before it starts


def test_a_map_against_a_switched_off_clip_norm_draws_without_the_run_s_ring() -> None:
    """Clipping off is a clip norm of 0, which has no place on the map's log axis: the map is
    drawn (no log10(0) warning) and only the analysed run's ring is left out."""
    at = show(page(run1_more=True), "Stability map")  # warmup and the modifiers shown
    at.selectbox(key=views.AXIS_KEY).set_value("clip_norm")
    settle(at)
    names = {t.get("name") for t in chart(at, selection.MAP_CHART)["data"]}
    assert {"converged", analysis_figures.PICKER_NAME} <= names
    assert "analysed run" not in names
    at.number_input(key=run_key(1, "clip_norm")).set_value(2.0)
    settle(at)
    assert "analysed run" in {t.get("name") for t in chart(at, selection.MAP_CHART)["data"]}
