"""The Streamlit page, driven by widget key through AppTest, and its pure helper modules.

Every control is set by its key and the figures are checked against the engine's own output for
the configuration the controls describe: the contour's run paths are the engine's positions, the
metrics figure's rate traces are the engine's η_k, the status lines are report.describe.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import time
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import controls, export, figures, inspector
from app.state import CUSTOM_SURFACES
from optimizers import report
from optimizers.engine import MODIFIERS, RunConfig, run
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES
from surfaces.dataset import least_squares
from surfaces.registry import regression_data
from tests.apptest_tools import fresh, live, trigger

MODIFIER_NAMES = {spec.name for spec in MODIFIERS}


# Reading the page.


def settle(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def decode(data: Any) -> np.ndarray:
    """A Plotly array: a list, or a typed array {"dtype", "bdata"} (plotly.py 6+)."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = data.get("shape")
        if shape:
            dims = [int(d) for d in str(shape).split(",")]
            array = array.reshape(dims)
        return array.astype(np.float64)
    return np.asarray(data, dtype=np.float64)


def chart(at: AppTest, key: str) -> dict[str, Any]:
    """The figure JSON of the plotly chart with this widget key (or element key)."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if key in element.proto.id or element.proto.id.endswith(key):
            return spec
    raise AssertionError(f"no chart {key!r}")


def charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def latex(at: AppTest) -> list[str]:
    """The formulas shown, without the $$ … $$ that st.latex wraps them in."""
    return [e.value.removeprefix("$$\n").removesuffix("\n$$") for e in at.get("latex")]


def statuses(at: AppTest) -> list[str]:
    return [e.value for kind in ("success", "warning", "error", "info") for e in at.get(kind)]


def trace_xy(trace: dict[str, Any]) -> np.ndarray:
    return np.column_stack([decode(trace["x"]), decode(trace["y"])])


def contour(at: AppTest) -> dict[str, Any]:
    return live(at)["plane"]


def metrics(at: AppTest) -> dict[str, Any]:
    return live(at)["metrics"]


def metric_trace(at: AppTest, index: int, metric: str) -> dict[str, Any]:
    """Run `index`'s curve of `metric` ("loss", "lr", "gnorm") on the metrics plot."""
    (trace,) = [t for t in metrics(at)["data"] if t.get("meta") == {"run": index, "metric": metric}]
    return trace


def set_param(at: AppTest, spec: Any, key: str, value: float, kind: str | None = None) -> None:
    """Move the widget `controls.param_widget` drew for `spec` to `value`."""
    kind = kind or controls.widget_kind(spec)
    if kind == "toggle":
        at.toggle(key=key).set_value(bool(value))
    elif kind == "int":
        at.number_input(key=key).set_value(int(value))
    elif kind == "log":
        at.select_slider(key=key).set_value(value)
    elif kind == "slider":
        at.slider(key=key).set_value(float(value))
    else:
        at.number_input(key=key).set_value(float(value))


def other_value(spec: Any) -> float:
    """A value for `spec` other than its default that its widget can take."""
    kind = controls.widget_kind(spec)
    if kind == "toggle":
        return 1.0 - spec.default
    if kind == "int":
        return spec.default + 1 if spec.default + 1 <= spec.high else spec.default - 1
    if kind == "log":
        options = controls.log_options(spec.low, spec.high, spec.default)
        i = options.index(spec.default)
        return options[i - 1] if i > 0 else options[i + 1]
    step = 10.0 ** (math.floor(math.log10(spec.high - spec.low)) - 3)
    move = (spec.high - spec.low) / 20
    value = spec.default + move if spec.default + move <= spec.high else spec.default - move
    return round(round(value / step) * step, 12)


def lower_lr(spec: Any) -> float:
    """The log slider's option just below the optimizer's default rate."""
    options = controls.log_options(spec.low, spec.high, spec.default)
    return options[options.index(spec.default) - 1]


def check_run(at: AppTest, index: int, n_runs: int, config: RunConfig) -> Any:
    """Run `index` of `n_runs` as drawn equals the engine's run of `config` (in float32, as
    sent): the contour path (clipped to the box as the figure clips), the metrics η_k trace,
    and the status sentence."""
    expected = run(config)
    surface = SURFACES[config.surface] if isinstance(config.surface, str) else config.surface
    path = contour(at)["data"][figures.FIRST_RUN_TRACE + figures.TRACES_PER_RUN * index]
    clipped = figures._clipped(expected.positions, surface.box)
    np.testing.assert_array_equal(trace_xy(path), clipped.astype(np.float32))
    assert len(live(at)["view"]["runs"]) == n_runs
    lr_trace = metric_trace(at, index, "lr")
    np.testing.assert_array_equal(decode(lr_trace["y"]), expected.lr.astype(np.float32))
    steps = (
        decode(lr_trace["x"]) if "x" in lr_trace else lr_trace["x0"] + np.arange(len(expected.lr))
    )
    np.testing.assert_array_equal(steps, np.arange(len(expected.lr)))  # x0 + k·dx where all
    sentence = report.describe(expected, config)
    assert any(text.endswith(f"— {sentence}") for text in statuses(at)), statuses(at)
    return expected


def default_config(**changes: Any) -> RunConfig:
    """The first run of the `short` page on its default surface, with `changes`."""
    surface = SURFACES[changes.get("surface", controls.DEFAULT_SURFACE)]
    base = {
        "surface": surface.key,
        "optimizer": "gd",
        "lr": OPTIMIZERS[changes.get("optimizer", "gd")].lr.default,
        "steps": SHORT,
        "start": surface.starts[0],
    }
    return RunConfig(**(base | changes))


SHORT = 50  # steps in most tests: one compiled scan length (64) shared by all of them


@pytest.fixture
def page() -> AppTest:
    """The page as it opens."""
    return fresh()


@pytest.fixture
def short() -> AppTest:
    """The page with SHORT steps: cheaper figures, and every test compiles the same scan length."""
    at = fresh(steps=SHORT)
    assert at.select_slider(key="steps").value == SHORT
    return at


# The page as it opens.


def test_default_page_draws_the_engines_run(page: AppTest) -> None:
    assert page.title[0].value == "Descent Lab"
    assert not page.warning and not page.error  # nothing but the run's status line
    surface = SURFACES[controls.DEFAULT_SURFACE]
    assert surface.latex in latex(page) and surface.note in [c.value for c in page.caption]
    assert page.session_state["run_ids"] == [1]
    assert page.selectbox(key="surface").value == controls.DEFAULT_SURFACE
    assert page.select_slider(key="steps").value == controls.DEFAULT_STEPS
    start = SURFACES[controls.DEFAULT_SURFACE].starts[0]
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == start
    check_run(page, 0, 1, default_config(steps=controls.DEFAULT_STEPS))
    names = [trace["name"] for trace in contour(page)["data"]]
    assert names[figures.SURFACE_TRACE] == "surface" and names[-1] == "global minimum"
    view = live(page)["view"]
    assert view["frames"] == figures.MAX_FRAMES and view["start"] is True
    assert [b.key for b in page.get("download_button")] == [
        "code_download",  # the Code popover beside Share
        "export_csv",
        "export_json",
        "export_html",
    ]


def test_every_widget_has_a_stable_key(page: AppTest) -> None:
    keys = {
        w.key
        for kind in ("selectbox", "select_slider", "slider", "number_input", "toggle", "button")
        for w in page.get(kind)
    }
    assert None not in keys
    expected = set(controls.key_list([1], SURFACES[controls.DEFAULT_SURFACE]))
    buttons = {"next_start", "add_run", "run1_duplicate", "run1_remove"}
    # the lesson gallery, share panel, view picker and presenter toggle (classroom settings)
    page_widgets = ("lesson_", "class_", "view", "present")
    shown = {k for k in keys if k not in buttons and not k.startswith(page_widgets)}
    assert shown <= expected
    for key in ("surface", "steps", "x0", "y0", "show_3d", "show_field", "inspect_step"):
        assert key in keys
    for name in ("optimizer", "lr", "lr_log", "schedule", "clip_value", "clip_norm", "l2"):
        assert f"run1_{name}" in keys
    for name in ("weight_decay", "noise_std", "noise_seed", "warmup_steps", "warmup_start"):
        assert f"run1_{name}" in keys
    assert {"quadratic_kappa", "quadratic_angle"} <= keys


# Every control, against the engine.


def covering(registry: dict[str, Any], params: str, keys: list[str]) -> set[str]:
    """`keys` of `registry`, plus each later entry that brings a parameter name they lack, so
    that together their parameters include every parameter name (a new row is covered)."""
    chosen = list(keys)
    covered = {spec.name for key in keys for spec in getattr(registry[key], params)}
    for key, entry in registry.items():
        if {spec.name for spec in getattr(entry, params)} - covered:
            chosen.append(key)
            covered |= {spec.name for spec in getattr(entry, params)}
    assert covered == {spec.name for e in registry.values() for spec in getattr(e, params)}
    return set(chosen)


# Between them these rules show every hyperparameter widget (compiling all 16 costs ~20 s here;
# tests/test_engine.py runs every rule).
RULES = covering(
    OPTIMIZERS, "hyper", ["momentum", "adagrad", "rmsprop", "radam", "newton", "adamw"]
)
# … and these schedules every schedule parameter widget.
SCHEDULE_KEYS = ["multistep", "inverse_time", "polynomial", "sgdr", "exp_range", "one_cycle"]
SCHEDULE_COVER = covering(SCHEDULES, "params", [*SCHEDULE_KEYS, "plateau"])


def test_every_rule_and_schedule_is_offered(page: AppTest) -> None:
    groups = {  # the picker's order, and each group's name
        "classic": "Classic",
        "adaptive": "Adaptive",
        "second-order": "Second-order",
        "line-search": "Line search and step-size rules",
        "lr-free": "Learning-rate-free",
        "wrappers": "Wrappers",
    }
    expected = [
        f"{label} · {o.name}"
        for group, label in groups.items()
        for o in OPTIMIZERS.values()
        if o.group == group
    ]
    assert len(expected) == len(OPTIMIZERS)
    assert page.selectbox(key="run1_optimizer").options == expected
    assert page.selectbox(key="run1_schedule").options == [s.name for s in SCHEDULES.values()]
    surfaces = [*(s.name for s in SURFACES.values()), *CUSTOM_SURFACES.values()]
    assert page.selectbox(key="surface").options == surfaces


def test_optimizers_with_every_hyperparameter_and_the_learning_rate(short: AppTest) -> None:
    page = short
    for key in [k for k in OPTIMIZERS if k in RULES]:
        optimizer = OPTIMIZERS[key]
        page.selectbox(key="run1_optimizer").set_value(key)
        settle(page)
        assert page.number_input(key="run1_lr").value == optimizer.lr.default
        assert optimizer.latex in latex(page)
        assert any(c.value == optimizer.note for c in page.caption)
        hyper = {}
        for spec in optimizer.hyper:
            hyper[spec.name] = other_value(spec)
            set_param(page, spec, controls.hyper_key(1, spec.name), hyper[spec.name])
        lr = lower_lr(optimizer.lr)
        page.select_slider(key="run1_lr_log").set_value(lr)
        settle(page)
        assert page.number_input(key="run1_lr").value == lr  # the entry follows the slider
        config = default_config(optimizer=key, lr=lr, hyper=hyper)
        check_run(page, 0, 1, config)


def test_schedules_with_every_parameter() -> None:
    page = fresh(steps=200)  # long enough for every schedule's default milestones
    for key in [k for k in SCHEDULES if k in SCHEDULE_COVER]:
        schedule = SCHEDULES[key]
        page.selectbox(key="run1_schedule").set_value(key)
        settle(page)
        assert schedule.latex in latex(page)
        params = {}
        for spec in schedule.params:
            params[spec.name] = other_value(spec)
            set_param(page, spec, controls.schedule_key(1, spec.name), params[spec.name])
        settle(page)
        config = default_config(steps=200, schedule=key, schedule_params=params)
        expected = check_run(page, 0, 1, config)
        if key != "plateau":  # plateau cuts only when the loss stalls
            assert not np.all(expected.lr == expected.lr[0]), key


def test_warmup_and_every_modifier(short: AppTest) -> None:
    page = short
    values = {
        "warmup_steps": 20,
        "warmup_start": 0.1,
        "clip_value": 1.5,
        "clip_norm": 2.0,
        "l2": 0.1,
        "weight_decay": 0.05,
        "noise_std": 0.3,
        "noise_seed": 7,
    }
    specs = {spec.name: spec for spec in (*WARMUP_PARAMS, *MODIFIERS)}
    for name, value in values.items():
        kind = controls.modifier_kind(specs[name]) if name in MODIFIER_NAMES else None
        set_param(page, specs[name], f"run1_{name}", value, kind)
    settle(page)
    warmup = {n: float(values[n]) for n in ("warmup_steps", "warmup_start")}
    modifiers = {n: float(v) for n, v in values.items() if n not in warmup}
    config = default_config(warmup=warmup, modifiers=modifiers)
    check_run(page, 0, 1, config)
    label = contour(page)["data"][figures.FIRST_RUN_TRACE]["name"]
    assert "warmup 20" in label and "clip C=2" in label and "noise σ=0.3" in label
    # The seed matters once there is noise.
    set_param(page, specs["noise_seed"], "run1_noise_seed", 8, "int")
    settle(page)
    check_run(page, 0, 1, default_config(warmup=warmup, modifiers=modifiers | {"noise_seed": 8.0}))


@pytest.mark.parametrize("key", ["quadratic", "rosenbrock", "linreg", "bowl"])
def test_surface_picker_and_surface_parameters(short: AppTest, key: str) -> None:
    page = short
    page.number_input(key="x0").set_value(0.5)
    settle(page)
    page.selectbox(key="surface").set_value(key)
    settle(page)
    surface = SURFACES[key]
    start = (page.number_input(key="x0").value, page.number_input(key="y0").value)
    if key != controls.DEFAULT_SURFACE:  # a new surface starts from its own preset
        assert start == surface.starts[0]
    else:
        assert start == (0.5, surface.starts[0][1])
    assert surface.latex in latex(page)
    params = {}
    for spec in surface.params:
        params[spec.name] = other_value(spec)
        set_param(page, spec, controls.surface_key(surface, spec.name), params[spec.name])
    settle(page)
    check_run(page, 0, 1, default_config(surface=key, surface_params=params, start=start))
    grid = compute_grid(key, params)  # the surface under the paths is this grid's
    (image,) = contour(page)["layout"]["images"]
    assert (image["x"], image["y"]) == (grid.x[0], grid.y[-1])
    assert (image["sizex"], image["sizey"]) == (grid.x[-1] - grid.x[0], grid.y[-1] - grid.y[0])


def compute_grid(key: str, params: dict[str, float]) -> Any:
    from surfaces.grid import surface_grid

    return surface_grid(SURFACES[key], params)


def test_steps_start_point_and_preset_starts(page: AppTest) -> None:
    page.selectbox(key="surface").set_value("rosenbrock")
    settle(page)
    page.select_slider(key="steps").set_value(20)
    page.number_input(key="x0").set_value(-1.0)
    page.number_input(key="y0").set_value(0.5)
    settle(page)
    check_run(page, 0, 1, default_config(surface="rosenbrock", steps=20, start=(-1.0, 0.5)))
    page.button(key="next_start").click()
    settle(page)
    starts = SURFACES["rosenbrock"].starts
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == starts[0]
    page.button(key="next_start").click()
    settle(page)
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == starts[1]
    check_run(page, 0, 1, default_config(surface="rosenbrock", steps=20, start=starts[1]))


def test_view_toggles_add_the_field_and_the_3d_view(short: AppTest) -> None:
    page = short
    field = contour(page)["data"][figures.FIELD_TRACE]
    assert field["name"] == "gradient field" and field["visible"] is False
    page.toggle(key="show_field").set_value(True)
    page.toggle(key="show_3d").set_value(True)
    settle(page)
    field = contour(page)["data"][figures.FIELD_TRACE]
    assert field["visible"] is True and np.isfinite(decode(field["x"])).any()
    assert len(charts(page)) == 1  # the contour and the metrics are drawn by the live view
    view = charts(page)[0]
    assert view["data"][0]["type"] == "surface" and view["data"][1]["type"] == "scatter3d"
    check_run(page, 0, 1, default_config())


# Divergence, runs, the start-point click.


def test_too_large_a_learning_rate_diverges_with_an_explained_status(short: AppTest) -> None:
    page = short
    page.number_input(key="run1_lr").set_value(0.5)
    settle(page)
    assert page.select_slider(key="run1_lr_log").value == 0.5  # the slider follows the entry
    config = default_config(lr=0.5)
    expected = check_run(page, 0, 1, config)
    assert expected.status.outcome == "diverged"
    (status,) = page.error
    assert "Diverged: it left the view at step" in status.value
    assert "is above 2/λ_max = 0.2" in status.value
    assert any("η₀ is above 2/λ_max = 0.2" in c.value for c in page.caption)
    path = trace_xy(contour(page)["data"][figures.FIRST_RUN_TRACE])
    lo, hi = figures._grown(SURFACES["quadratic"].box)
    finite = path[np.isfinite(path).all(axis=1)]
    assert ((finite >= lo - 1e-9) & (finite <= hi + 1e-9)).all()  # the view stays on the box
    assert "left the box" in [trace["name"] for trace in contour(page)["data"]]


def test_below_the_critical_rate_the_hint_says_stable(page: AppTest) -> None:
    assert any(c.value == "Stable below 2/λ_max = 0.2." for c in page.caption)


def test_add_duplicate_and_remove_runs(short: AppTest) -> None:
    page = short
    page.button(key="add_run").click()
    settle(page)
    page.button(key="add_run").click()
    settle(page)
    assert page.session_state["run_ids"] == [1, 2, 3]
    assert page.selectbox(key="run2_optimizer").value == controls.DEFAULT_OPTIMIZERS[2]
    assert page.selectbox(key="run3_optimizer").value == controls.DEFAULT_OPTIMIZERS[3]
    before = len(contour(page)["data"])
    page.number_input(key="run3_lr").set_value(0.02)
    page.number_input(key="run1_lr").set_value(0.03)
    settle(page)
    page.button(key="run1_duplicate").click()
    settle(page)
    assert page.session_state["run_ids"] == [1, 2, 3, 4]
    assert page.number_input(key="run4_lr").value == 0.03
    assert len(contour(page)["data"]) == before + figures.TRACES_PER_RUN
    paths = [contour(page)["data"][figures.FIRST_RUN_TRACE + 2 * i] for i in range(4)]
    np.testing.assert_array_equal(trace_xy(paths[0]), trace_xy(paths[3]))

    page.button(key="run2_remove").click()
    settle(page)
    assert page.session_state["run_ids"] == [1, 3, 4]
    assert page.number_input(key="run3_lr").value == 0.02  # the others keep their widgets
    assert page.selectbox(key="run3_optimizer").value == controls.DEFAULT_OPTIMIZERS[3]
    assert not [w for w in page.get("number_input") if w.key and w.key.startswith("run2_")]
    assert len(contour(page)["data"]) == before
    check_run(page, 1, 3, default_config(optimizer="adam", lr=0.02))


def test_six_runs_at_most_and_one_at_least() -> None:
    page = fresh(steps=10, run_ids=[1, 2, 3, 4, 5])
    page.button(key="add_run").click()
    settle(page)
    assert page.session_state["run_ids"] == [1, 2, 3, 4, 5, 6]
    assert page.button(key="add_run").disabled and page.button(key="run1_duplicate").disabled
    assert len(contour(page)["data"]) == figures.FIRST_RUN_TRACE + 6 * figures.TRACES_PER_RUN + 1
    for run_id in (1, 3, 4, 2, 5):
        page.button(key=f"run{run_id}_remove").click()
        settle(page)
    assert page.session_state["run_ids"] == [6]
    assert page.button(key="run6_remove").disabled
    check_run(page, 0, 1, default_config(optimizer=controls.DEFAULT_OPTIMIZERS[6], steps=10))


def test_same_optimizer_at_two_learning_rates(short: AppTest) -> None:
    page = short
    page.button(key="add_run").click()
    settle(page)
    page.selectbox(key="run2_optimizer").set_value("gd")
    settle(page)
    page.select_slider(key="run2_lr_log").set_value(0.05)
    settle(page)
    slow = check_run(page, 0, 2, default_config(lr=0.01))
    fast = check_run(page, 1, 2, default_config(lr=0.05))
    assert not np.array_equal(slow.positions, fast.positions)
    labels = [contour(page)["data"][figures.FIRST_RUN_TRACE + 2 * i]["name"] for i in range(2)]
    assert labels == ["1: Gradient descent, η₀=0.01", "2: Gradient descent, η₀=0.05"]


# The start point from a click on the contour.


def click(at: AppTest, x: float, y: float) -> None:
    """What the browser sends when the contour is clicked at data coordinates (x, y)."""
    trigger(at, "start", {"x": x, "y": y})


def test_a_click_on_the_contour_moves_every_run_to_start_there(short: AppTest) -> None:
    page = short
    page.button(key="add_run").click()
    settle(page)
    click(page, 1.5, -1.0)
    settle(page)
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == (1.5, -1.0)
    check_run(page, 0, 2, default_config(start=(1.5, -1.0)))
    check_run(page, 1, 2, default_config(optimizer="momentum", start=(1.5, -1.0)))
    # The start can still be typed afterwards: the old selection is not applied again.
    page.number_input(key="x0").set_value(-1.0)
    settle(page)
    check_run(page, 0, 2, default_config(start=(-1.0, -1.0)))


# The step inspector.


def test_inspector_shows_each_run_at_the_chosen_step(short: AppTest) -> None:
    page = short
    page.button(key="add_run").click()
    settle(page)
    page.selectbox(key="run2_optimizer").set_value("adam")
    settle(page)
    page.number_input(key="run1_lr").set_value(0.5)  # run 1 diverges within a few steps
    page.slider(key="inspect_step").set_value(20)
    settle(page)
    diverged = run(default_config(lr=0.5))
    adam = run(default_config(optimizer="adam"))
    assert diverged.status.outcome == "diverged" and len(diverged.positions) <= 20
    tables = [frame.value for frame in page.dataframe]
    last = len(diverged.positions) - 1
    assert tables[0].to_dict("records") == inspector.table(inspector.step_rows(diverged, last))
    assert tables[1].to_dict("records") == inspector.table(inspector.step_rows(adam, 20))
    assert any(f"(the run ends at step {last})" in m.value for m in page.markdown)
    quantities = list(tables[1]["quantity"])
    assert "m̂ (mean gradient)" in quantities and "v̂ (mean squared gradient)" in quantities
    shapes = metrics(page)["layout"]["shapes"]
    assert {shape["x0"] for shape in shapes} == {20}  # one dotted line per subplot


def test_step_rows_read_the_trajectory() -> None:
    trajectory = run(RunConfig("quadratic", "momentum", lr=0.05, steps=30))
    rows = {row.quantity: row.values for row in inspector.step_rows(trajectory, 7)}
    assert rows["position w_k"] == tuple(trajectory.positions[7])
    assert rows["loss f(w_k)"] == (trajectory.loss[7],)
    assert rows["gradient ∇L(w_k)"] == tuple(trajectory.grad[7])
    assert rows["learning rate η_k"] == (trajectory.lr[7],)
    assert rows["update Δw_k"] == tuple(trajectory.update[7])
    assert rows["velocity v"] == tuple(trajectory.state["velocity"][7])
    assert rows["effective step −Δw/∇L"] == tuple(trajectory.effective_lr[7])
    final = {row.quantity for row in inspector.step_rows(trajectory, 10_000)}
    assert "position w_k" in final and "learning rate η_k" not in final  # w_n takes no step
    assert inspector.clamp_step(trajectory, -3) == 0
    assert inspector.tone(trajectory) == "info"
    assert inspector.tone(run(RunConfig("quadratic", "gd", lr=0.5, steps=30))) == "error"
    assert inspector.tone(run(RunConfig("bowl", "gd", lr=1.0, steps=30))) == "success"


# Exports.


def export_runs() -> list[export.ExportRun]:
    configs = [
        RunConfig("quadratic", "adam", lr=0.05, steps=40, start=(-2.5, 2.0)),
        RunConfig("quadratic", "gd", lr=0.5, steps=40, start=(-2.5, 2.0), modifiers={"l2": 0.1}),
    ]
    return [
        export.ExportRun(f"run {i}", c, t := run(c), report.describe(t, c))
        for i, c in enumerate(configs, start=1)
    ]


def test_csv_export_holds_every_step_of_every_run_exactly() -> None:
    runs = export_runs()
    rows = list(csv.DictReader(io.StringIO(export.to_csv(runs))))
    assert len(rows) == sum(len(r.trajectory.positions) for r in runs)
    for r in runs:
        t = r.trajectory
        mine = [row for row in rows if row["run"] == r.label]
        assert [int(row["step"]) for row in mine] == list(range(len(t.positions)))
        assert {row["optimizer"] for row in mine} == {r.config.optimizer}
        assert {row["outcome"] for row in mine} == {t.status.outcome}
        assert {float(row["lr0"]) for row in mine} == {r.config.lr}
        np.testing.assert_array_equal([[float(m["x"]), float(m["y"])] for m in mine], t.positions)
        np.testing.assert_array_equal([float(m["loss"]) for m in mine], t.loss)
        np.testing.assert_array_equal([float(m["grad_norm"]) for m in mine], t.grad_norm)
        moves = mine[: len(t.lr)]
        np.testing.assert_array_equal([float(m["lr"]) for m in moves], t.lr)
        np.testing.assert_array_equal(
            [[float(m["update_x"]), float(m["update_y"])] for m in moves], t.update
        )
        for name, values in t.state.items():
            drawn = [[float(m[f"{name}_x"]), float(m[f"{name}_y"])] for m in moves]
            np.testing.assert_array_equal(drawn, values)
        assert mine[-1]["lr"] == "" and mine[-1]["update_x"] == ""
    assert json.loads(rows[-1]["modifiers"]) == {"l2": 0.1}
    assert {row["m_hat_x"] for row in rows if row["optimizer"] == "gd"} == {""}


def test_json_export_holds_every_step_of_every_run_exactly() -> None:
    runs = export_runs()
    payload = json.loads(export.to_json(runs))
    assert [r["label"] for r in payload["runs"]] == ["run 1", "run 2"]
    for r, out in zip(runs, payload["runs"], strict=True):
        t = r.trajectory
        assert (
            out["config"]["optimizer"] == r.config.optimizer and out["config"]["lr"] == r.config.lr
        )
        assert out["status"]["outcome"] == t.status.outcome and out["description"] == r.description
        points, steps = out["points"], out["steps"]
        np.testing.assert_array_equal(np.column_stack([points["x"], points["y"]]), t.positions)
        np.testing.assert_array_equal(points["loss"], t.loss)
        np.testing.assert_array_equal(np.column_stack([points["grad_x"], points["grad_y"]]), t.grad)
        np.testing.assert_array_equal(steps["lr"], t.lr)
        np.testing.assert_array_equal(
            np.column_stack([steps["update_x"], steps["update_y"]]), t.update
        )
        for name, values in t.state.items():
            np.testing.assert_array_equal(
                np.column_stack([steps[f"{name}_x"], steps[f"{name}_y"]]), values
            )
    assert payload["runs"][1]["status"]["outcome"] == "diverged"


def test_the_largest_export_reads_back_exactly() -> None:
    """6 runs × 20,000 steps (the page's largest) through both writers; times printed."""
    configs = [
        RunConfig("rosenbrock", name, lr=lr, steps=20_000)
        for name, lr in (("gd", 1e-4), ("momentum", 1e-4), ("adam", 1e-3), ("rmsprop", 1e-3),
                         ("nesterov", 1e-4), ("adagrad", 0.05))
    ]  # fmt: skip
    runs = [export.ExportRun(f"run {i}", c, run(c)) for i, c in enumerate(configs, start=1)]
    started = time.perf_counter()
    text = export.to_csv(runs)
    csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    payload = json.loads(export.to_json(runs))
    json_seconds = time.perf_counter() - started
    print(f"export of 6 x 20,000 steps: CSV {csv_seconds:.2f} s, JSON {json_seconds:.2f} s")
    rows = list(csv.reader(io.StringIO(text)))
    header, rows = rows[0], rows[1:]
    assert len(rows) == sum(len(r.trajectory.positions) for r in runs)
    x, m_hat = header.index("x"), header.index("m_hat_x")
    start = 0
    for r, out in zip(runs, payload["runs"], strict=True):
        t = r.trajectory
        mine = rows[start : start + len(t.positions)]
        start += len(t.positions)
        np.testing.assert_array_equal([[float(m[x]), float(m[x + 1])] for m in mine], t.positions)
        np.testing.assert_array_equal(out["points"]["loss"], t.loss)
        if "m_hat" in t.state:
            drawn = [float(m[m_hat]) for m in mine[: len(t.lr)]]
            np.testing.assert_array_equal(drawn, t.state["m_hat"][:, 0])
        else:
            assert {m[m_hat] for m in mine} == {""}


def test_the_html_export_is_titled_with_the_setup_and_the_outcomes() -> None:
    runs = export_runs()
    title, outcomes = export.html_title("Quadratic bowl <b>", runs)
    assert title == "Descent Lab: Quadratic bowl <b>, run 1; run 2"
    assert outcomes == [f"{r.label}: {r.description}" for r in runs]
    page = export.titled_html("<html><head></head><body><div></div></body></html>", title, outcomes)
    assert "<title>Descent Lab: Quadratic bowl &lt;b&gt;, run 1; run 2</title>" in page
    assert page.count("<li>") == 2 and "<b>" not in page


def test_page_offers_the_three_exports(page: AppTest) -> None:
    buttons = {b.key: b for b in page.get("download_button") if b.key.startswith("export_")}
    assert set(buttons) == {"export_csv", "export_json", "export_html"}
    assert not any(b.disabled for b in buttons.values())
    assert buttons["export_html"].label == "Animated figure (HTML)"


# Bad input.


def test_untrusted_values_are_repaired_not_raised() -> None:
    page = fresh(
        surface="nope",
        steps=0,
        x0="abc",
        y0=math.nan,
        run_ids="junk",
        run1_optimizer="nope",
        run1_lr=-3.0,
        run1_schedule=42,
        show_3d="maybe",
        inspect_step=-5,
    )
    assert page.selectbox(key="surface").value == controls.DEFAULT_SURFACE
    assert page.select_slider(key="steps").value == 1
    start = SURFACES[controls.DEFAULT_SURFACE].starts[0]
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == start
    assert page.session_state["run_ids"] == [1]
    assert page.selectbox(key="run1_optimizer").value == "gd"
    assert page.number_input(key="run1_lr").value == OPTIMIZERS["gd"].lr.low
    assert page.selectbox(key="run1_schedule").value == "constant"
    assert page.slider(key="inspect_step").value == 0
    check_run(page, 0, 1, default_config(lr=OPTIMIZERS["gd"].lr.low, steps=1))


def test_a_backend_error_is_reported_and_the_other_runs_carry_on(
    short: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = short
    page.button(key="add_run").click()
    settle(page)
    real = controls.plan

    def picky(config: RunConfig) -> Any:
        if config.optimizer == "momentum":
            raise ValueError("momentum is off today")
        return real(config)

    monkeypatch.setattr(controls, "plan", picky)
    settle(page)
    (error,) = page.error
    assert error.value == "**Run 2** cannot run: momentum is off today"
    check_run(page, 0, 1, default_config())
    assert page.selectbox(key="run2_optimizer").value == "momentum"  # its controls stay


# Pure helpers.


def test_log_options_span_the_range_and_hold_the_value_exactly() -> None:
    options = controls.log_options(1e-5, 10.0, 0.01201)
    assert options[0] == 1e-5 and options[-1] == 10.0 and 0.01201 in options
    assert options == sorted(set(options))
    assert 0.012 not in options  # within 0.2 % of the exact value: dropped
    assert len({controls.fmt(v) for v in options}) == len(options)
    assert {0.01, 0.02, 0.05, 0.1, 1.0} <= set(options)


def test_coerce_clamps_and_types() -> None:
    assert controls.coerce("0.5", 1.0, 0.0, 2.0, "number") == 0.5
    assert controls.coerce("x", 1.0, 0.0, 2.0, "number") == 1.0
    assert controls.coerce(math.inf, 1.0, 0.0, 2.0, "number") == 1.0
    assert controls.coerce(7, 1.0, 0.0, 2.0, "slider") == 2.0
    assert controls.coerce(3.6, 1.0, 0.0, 10.0, "int") == 4
    assert controls.coerce(1, 0.0, 0.0, 1.0, "toggle") is True
    assert controls.coerce(None, 0.0, 0.0, 1.0, "toggle") is False


def test_widget_kinds_and_keys() -> None:
    specs = {s.name: s for s in (*MODIFIERS, *WARMUP_PARAMS)}
    assert controls.widget_kind(OPTIMIZERS["gd"].lr) == "log"
    assert controls.widget_kind(specs["noise_seed"]) == "int"
    assert controls.widget_kind(specs["clip_norm"]) == "number"
    assert controls.modifier_kind(specs["l2"]) == "number"
    assert controls.modifier_kind(specs["noise_seed"]) == "int"
    assert controls.widget_kind(specs["warmup_start"]) == "slider"
    assert controls.widget_kind(SURFACES["linreg"].params[1]) == "toggle"
    assert controls.hyper_key(2, "beta") == "run2_beta"
    assert controls.hyper_key(2, "weight_decay") == "run2_opt_weight_decay"  # not the modifier's
    assert controls.schedule_key(2, "threshold") == "run2_sched_threshold"  # not RAdam's τ
    keys = controls.key_list([1, 2], SURFACES["quadratic"])
    assert len(keys) == len(set(keys))


# Text the page shows: labels, the rate's limits, the stability lines (issue 11).


def test_an_exact_rate_out_of_range_is_clamped_and_said(short: AppTest) -> None:
    """η₀ = 100 where the limit is 10: the run uses 10, a warning names the range and both
    rates, the rest of the setup stays; a rate in range clears the warning."""
    short.selectbox(key="run1_schedule").set_value("step")
    settle(short)
    short.number_input(key="run1_lr").set_value(100.0)
    settle(short)
    spec = OPTIMIZERS["gd"].lr
    assert (spec.low, spec.high) == (1e-5, 10.0)
    assert short.number_input(key="run1_lr").value == 10.0
    assert [w.value for w in short.warning] == [
        "η₀ = 100 is outside the allowed range 1e-05 to 10 for this optimizer: "
        "η₀ = 10 is used instead."
    ]
    assert short.selectbox(key="run1_schedule").value == "step"  # nothing else was lost
    step_params = {s.name: s.default for s in SCHEDULES["step"].params}
    n_runs = len(short.session_state["run_ids"])
    check_run(
        short, 0, n_runs, default_config(lr=10.0, schedule="step", schedule_params=step_params)
    )
    settle(short)  # the warning stays while the clamped rate does
    assert len(short.warning) == 1
    short.number_input(key="run1_lr").set_value(-3.0)
    settle(short)
    assert short.number_input(key="run1_lr").value == 1e-5
    assert "η₀ = -3 is outside" in short.warning[0].value
    short.number_input(key="run1_lr").set_value(0.05)
    settle(short)
    assert not short.warning and short.number_input(key="run1_lr").value == 0.05


def test_run_labels_keep_names_as_registered() -> None:
    """Only a leading capital that starts a plain word is lower-cased inside a label:
    acronyms (SGDR) and mixed-case names (RMSprop, AdaGrad) stay as registered."""
    for key, schedule in SCHEDULES.items():
        if key == "constant":
            continue
        label = controls.run_label(1, RunConfig("quadratic", "gd", 0.1, 10, schedule=key))
        shown = label.removeprefix("1: Gradient descent, η₀=0.1, ")
        assert shown[0] == schedule.name[0].lower() and shown[1:] == schedule.name[1:], label
    sgdr = controls.run_label(2, RunConfig("quadratic", "rmsprop", 0.01, 10, schedule="sgdr"))
    assert sgdr == "2: RMSprop, η₀=0.01, cosine with warm restarts (SGDR)"
    for key, optimizer in OPTIMIZERS.items():
        label = controls.run_label(3, RunConfig("quadratic", key, 0.1, 10))
        assert label == f"3: {optimizer.name}, η₀=0.1"


def test_the_rate_panel_draws_each_runs_critical_rate() -> None:
    """κ = 25 at 30°: H = Rᵀ diag(1, κ) R, so GD's line is at 2/λ_max and heavy ball's at
    2(1 + β)/λ_max, λ_max from numpy's eigenvalues; Adam has no such line."""
    at = fresh(
        steps=SHORT,
        quadratic_kappa=25.0,
        quadratic_angle=30.0,
        run_ids=[1, 2, 3],
        run1_optimizer="gd",
        run2_optimizer="momentum",
        run3_optimizer="adam",
    )
    theta = math.radians(30.0)
    rotation = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
    hessian = rotation.T @ np.diag([1.0, 25.0]) @ rotation
    lambda_max = np.linalg.eigvalsh(hessian)[-1]
    beta = OPTIMIZERS["momentum"].resolve({})["beta"]
    figure = metrics(at)
    dashed = [t for t in figure["data"] if t.get("line", {}).get("dash") == "dash"]
    lines = [t for t in dashed if t["yaxis"] == "y2"]  # the η_k row's limits
    assert [(t["name"], t["line"]["dash"], t["yaxis"]) for t in lines] == [
        (f"2/λ_max = {2 / lambda_max:.3g}", "dash", "y2"),
        (f"2(1+β)/λ_max = {2 * (1 + beta) / lambda_max:.3g}", "dash", "y2"),
    ]
    np.testing.assert_allclose(lines[0]["y"], [2 / lambda_max] * 2, rtol=1e-9)
    np.testing.assert_allclose(lines[1]["y"], [2 * (1 + beta) / lambda_max] * 2, rtol=1e-9)
    assert figure["layout"]["yaxis"]["title"]["text"] == "loss above the minimum<br>f − f*"


def test_the_loss_panel_measures_from_the_surfaces_minimum_at_its_parameters() -> None:
    """Linear regression on data seed 7: f* from the normal equations (numpy) for that data;
    the panel's run 1 curve is the engine's f − f* (floored at 1e-16 · max(1, |f*|))."""
    at = fresh(steps=SHORT, surface="linreg", linreg_seed=7)
    x, y = regression_data("linreg", {"seed": 7.0})
    f_star = least_squares(x, y)[2]
    config = default_config(surface="linreg", surface_params={"seed": 7.0, "standardise": 0.0})
    loss = run(config).loss
    shown = decode(metrics(at)["data"][0]["y"])
    np.testing.assert_allclose(shown, np.maximum(loss - f_star, 1e-16 * max(1.0, abs(f_star))))
    assert shown.min() > 0
