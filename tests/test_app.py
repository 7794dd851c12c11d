"""The Streamlit page, driven by widget key through AppTest, and its pure helper modules.

Every control is set by its key and the figures are checked against the engine's own output for
the configuration the controls describe: the contour's run paths are the engine's positions, the
metrics figure's rate traces are the engine's η_k, the status lines are report.describe.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import controls, figures, link, state
from app.state import CUSTOM_SURFACES
from optimizers.engine import MODIFIERS
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES
from tests.apptest_tools import fresh, live
from tests.page_tools import (
    charts,
    check_run,
    contour,
    decode,
    default_config,
    latex,
    lower_lr,
    other_value,
    set_param,
    settle,
)

# The page as it opens.


def test_default_page_draws_the_engines_run(page: AppTest) -> None:
    assert page.title[0].value == "Descent Lab"
    assert not page.warning and not page.error  # nothing but the run's status line
    surface = SURFACES[state.DEFAULT_SURFACE]
    assert surface.latex in latex(page)
    assert any(surface.note in c.value for c in page.caption)
    assert page.session_state["run_ids"] == [1]
    assert page.selectbox(key="surface").value == state.DEFAULT_SURFACE
    assert page.select_slider(key="steps").value == state.DEFAULT_STEPS
    start = SURFACES[state.DEFAULT_SURFACE].starts[0]
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == start
    check_run(page, 0, 1, default_config(steps=state.DEFAULT_STEPS))
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
    page.toggle(key="run1_more").set_value(True).run()
    keys = {
        w.key
        for kind in ("selectbox", "select_slider", "slider", "number_input", "toggle", "button")
        for w in page.get(kind)
    }
    assert None not in keys
    expected = set(link.key_list([1], SURFACES[state.DEFAULT_SURFACE]))
    # buttons, and the toggle that shows warmup and the modifiers (a view, not a setting)
    buttons = {"next_start", "add_run", "run1_duplicate", "run1_remove", "run1_more"}
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
        assert any(optimizer.note in c.value for c in page.caption)
        hyper = {}
        for spec in optimizer.hyper:
            hyper[spec.name] = other_value(spec)
            set_param(page, spec, state.hyper_key(1, spec.name), hyper[spec.name])
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
            set_param(page, spec, state.schedule_key(1, spec.name), params[spec.name])
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
    page.toggle(key="run1_more").set_value(True)
    settle(page)
    for name, value in values.items():
        kind = state.modifier_kind(specs[name]) if name in state.MODIFIER_NAMES else None
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
    if key != state.DEFAULT_SURFACE:  # a new surface starts from its own preset
        assert start == surface.starts[0]
    else:
        assert start == (0.5, surface.starts[0][1])
    assert surface.latex in latex(page)
    params = {}
    for spec in surface.params:
        params[spec.name] = other_value(spec)
        set_param(page, spec, state.surface_key(surface, spec.name), params[spec.name])
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


# Pure helpers.


def test_log_options_span_the_range_and_hold_the_value_exactly() -> None:
    options = controls.log_options(1e-5, 10.0, 0.01201)
    assert options[0] == 1e-5 and options[-1] == 10.0 and 0.01201 in options
    assert options == sorted(set(options))
    assert 0.012 not in options  # within 0.2 % of the exact value: dropped
    assert len({controls.fmt(v) for v in options}) == len(options)
    assert {0.01, 0.02, 0.05, 0.1, 1.0} <= set(options)


def test_coerce_clamps_and_types() -> None:
    assert state.coerce("0.5", 1.0, 0.0, 2.0, "number") == 0.5
    assert state.coerce("x", 1.0, 0.0, 2.0, "number") == 1.0
    assert state.coerce(math.inf, 1.0, 0.0, 2.0, "number") == 1.0
    assert state.coerce(7, 1.0, 0.0, 2.0, "slider") == 2.0
    assert state.coerce(3.6, 1.0, 0.0, 10.0, "int") == 4
    assert state.coerce(1, 0.0, 0.0, 1.0, "toggle") is True
    assert state.coerce(None, 0.0, 0.0, 1.0, "toggle") is False


def test_widget_kinds_and_keys() -> None:
    specs = {s.name: s for s in (*MODIFIERS, *WARMUP_PARAMS)}
    assert state.widget_kind(OPTIMIZERS["gd"].lr) == "log"
    assert state.widget_kind(specs["noise_seed"]) == "int"
    assert state.widget_kind(specs["clip_norm"]) == "number"
    assert state.modifier_kind(specs["l2"]) == "number"
    assert state.modifier_kind(specs["noise_seed"]) == "int"
    assert state.widget_kind(specs["warmup_start"]) == "slider"
    assert state.widget_kind(SURFACES["linreg"].params[1]) == "toggle"
    assert state.hyper_key(2, "beta") == "run2_beta"
    assert state.hyper_key(2, "weight_decay") == "run2_opt_weight_decay"  # not the modifier's
    assert state.schedule_key(2, "threshold") == "run2_sched_threshold"  # not RAdam's τ
    keys = link.key_list([1, 2], SURFACES["quadratic"])
    assert len(keys) == len(set(keys))
