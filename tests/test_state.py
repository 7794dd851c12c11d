"""The page state and its link: round trips (Hypothesis), defaults left out, every bad field
reported with the value used instead."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app import state
from app.link import (
    LINK_VERSION,
    MAX_FIELDS,
    from_query,
    from_session,
    number_text,
    to_query,
    to_session,
)
from app.state import (
    CONTROL_GROUPS,
    CUSTOM_SURFACES,
    DEFAULT_STEPS,
    MAP_VIEW,
    MAX_RUNS,
    START_LIMIT,
    SURFACE_CHOICES,
    Classroom,
    PageState,
    RunState,
    configs,
    default_state,
)
from app.views import RACE, SETTINGS, VIEW_SETTINGS, VIEWS
from optimizers.analysis import SECOND_AXES
from optimizers.engine import MAX_STEPS, MODIFIERS, run
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES, ParamSpec

# Strategies: valid states, every value inside its widget's range.


def spec_value(spec: ParamSpec) -> st.SearchStrategy[float]:
    if spec.integer:
        return st.integers(int(spec.low), int(spec.high)).map(float)
    return st.floats(spec.low, spec.high, allow_nan=False)


def spec_values(specs: tuple[ParamSpec, ...]) -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries({spec.name: spec_value(spec) for spec in specs})


@st.composite
def run_states(draw: st.DrawFn, run_id: int) -> RunState:
    rule = OPTIMIZERS[draw(st.sampled_from(list(OPTIMIZERS)))]
    schedule = SCHEDULES[draw(st.sampled_from(list(SCHEDULES)))]
    return RunState(
        run_id=run_id,
        optimizer=rule.key,
        lr=draw(spec_value(rule.lr)),
        hyper=draw(spec_values(rule.hyper)),
        schedule=schedule.key,
        schedule_params=draw(spec_values(schedule.params)),
        warmup=draw(spec_values(WARMUP_PARAMS)),
        modifiers=draw(spec_values(MODIFIERS)),
    )


FORMULAS = ("x^2 + 10*y^2", "sin(x)*cos(y) + 0.1*(x^2 + y^2)", "abs(x) + max(y, -y)^2")
DATA = ("1,2;2,3.9;3,6.1", "-1,0.5;0,0;1,0.5;2,2.25", "0.001,100;2,3;7,-50")


@st.composite
def custom_fields(draw: st.DrawFn, surface: str) -> dict[str, Any]:
    if surface == "formula":
        x0, y0 = draw(st.floats(-50, 0)), draw(st.floats(-50, 0))
        box = (x0, x0 + draw(st.floats(0.5, 50)), y0, y0 + draw(st.floats(0.5, 50)))
        return {"formula": draw(st.sampled_from(FORMULAS)), "formula_box": box}
    if surface == "data":
        return {"data": draw(st.sampled_from(DATA)), "data_standardise": draw(st.booleans())}
    return {}


@st.composite
def page_states(draw: st.DrawFn, max_steps: int = MAX_STEPS, max_runs: int = MAX_RUNS) -> PageState:
    key = draw(st.sampled_from(SURFACE_CHOICES))
    custom = key in CUSTOM_SURFACES
    surface = SURFACES[key] if not custom else None
    steps = draw(st.integers(1, max_steps))
    hidden = draw(st.frozensets(st.sampled_from(list(CONTROL_GROUPS))))
    locked = draw(st.frozensets(st.sampled_from(list(CONTROL_GROUPS)))) - hidden
    coordinate = st.floats(-START_LIMIT, START_LIMIT, allow_nan=False)
    start = (draw(coordinate), draw(coordinate))
    run_ids = draw(
        st.one_of(  # runs 1 … n (`runs=n`), or any numbers in any order (`runs=2,3`, `runs=3,`)
            st.integers(1, max_runs).map(lambda n: list(range(1, n + 1))),
            st.lists(st.integers(1, MAX_RUNS), min_size=1, max_size=max_runs, unique=True),
        )
    )
    runs = tuple(draw(run_states(run_id)) for run_id in run_ids)
    view = draw(st.sampled_from([RACE, *(view.name for view in VIEWS)]))
    # A link carries only the current view's settings: the others stay at their defaults.
    analysis = {spec.name: float(spec.default) for spec in SETTINGS}
    shown = [spec for spec in SETTINGS if spec.name in VIEW_SETTINGS.get(view, ())]
    analysis |= draw(spec_values(tuple(shown)))
    return PageState(
        **draw(custom_fields(key)),
        surface=key,
        surface_params=draw(spec_values(surface.params)) if surface else {},
        steps=steps,
        start=draw(st.sampled_from([start, None])) if custom else start,
        runs=runs,
        show_3d=draw(st.booleans()),
        show_field=draw(st.booleans()),
        inspect_step=draw(st.integers(0, steps)),
        view=view,
        analysis=analysis,
        analysis_run=draw(st.sampled_from(run_ids)) if view != RACE else run_ids[0],
        map_axis=draw(st.sampled_from(["", *SECOND_AXES])) if view == MAP_VIEW else "",
        classroom=Classroom(hidden, locked, draw(st.booleans()), draw(st.booleans())),
    )


def through_url(query: dict[str, str]) -> dict[str, list[str]]:
    """The query as a browser sends it back: encoded into a URL and parsed again."""
    return parse_qs(urlencode(query), keep_blank_values=True)


# Round trips.


@settings(max_examples=150, deadline=None)
@given(page_states())
def test_a_state_survives_its_link(page: PageState) -> None:
    decoded = from_query(through_url(to_query(page)))
    assert decoded.problems == []
    assert decoded.state == page


@settings(max_examples=8, deadline=None)
@given(page_states(max_steps=120, max_runs=2))
def test_the_link_reproduces_the_trajectories(page: PageState) -> None:
    decoded = from_query(through_url(to_query(page))).state
    for original, reopened in zip(configs(page), configs(decoded), strict=True):
        a, b = run(original), run(reopened)
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.loss, b.loss)
        assert a.status == b.status


@settings(max_examples=100, deadline=None)
@given(page_states())
def test_a_state_survives_the_widgets(page: PageState) -> None:
    assume(page.start is not None)  # None: the page puts the surface's preset in the widgets
    assert from_session(to_session(page), page.classroom) == page


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_reads_back_exactly(value: float) -> None:
    assert float(number_text(value)) == value


def test_a_default_setup_is_a_bare_versioned_link() -> None:
    assert to_query(default_state()) == {"v": str(LINK_VERSION)}
    assert from_query({}) == (default_state(), [])


def test_links_leave_defaults_out_and_stay_readable() -> None:
    page = default_state("rosenbrock")
    adam = state.default_run(2, "adam")
    page = PageState(
        surface="rosenbrock",
        surface_params=page.surface_params,
        steps=DEFAULT_STEPS,
        start=page.start,
        runs=(page.runs[0], RunState(**{**adam.__dict__, "lr": 0.01})),
    )
    assert (
        urlencode(to_query(page))
        == "v=1&surface=rosenbrock&runs=2&run2_optimizer=adam&run2_lr=0.01"
    )


# Bad fields: each is reported, the rest of the link still applies.


def problems_of(query: dict[str, Any]) -> dict[str, str]:
    decoded = from_query(query)
    return {problem.field: problem.reason for problem in decoded.problems}


@pytest.mark.parametrize(
    ("text", "used", "reason"),
    [
        ("abc", 300, "not a number"),
        ("nan", 300, "not a number"),
        ("1e999", 300, "too large"),
        ("-5", 1, "clamped to 1"),
        ("99999999", MAX_STEPS, f"clamped to {MAX_STEPS}"),
        ("12.6", 13, "rounded to 13"),
        ("0x10", 300, "not a number"),
        ("1_000", 300, "not a number"),
        ("9" * 300, 300, "longer than"),
    ],
)
def test_a_bad_number_falls_back_or_is_clamped(text: str, used: int, reason: str) -> None:
    decoded = from_query({"steps": text, "surface": "rosenbrock"})
    assert decoded.state.steps == used and decoded.state.surface == "rosenbrock"
    assert [p.field for p in decoded.problems] == ["steps"]
    assert reason in decoded.problems[0].reason


def test_unknown_choices_fall_back_to_defaults() -> None:
    decoded = from_query(
        {"surface": "__class__", "run1_optimizer": "eval", "run1_schedule": "<script>"}
    )
    assert decoded.state == default_state()
    reasons = problems_of({"surface": "x", "run1_optimizer": "y", "run1_schedule": "z"})
    assert "unknown surface" in reasons["surface"] and "rosenbrock" in reasons["surface"]
    assert "unknown optimizer" in reasons["run1_optimizer"]
    assert "unknown schedule" in reasons["run1_schedule"]


def test_fields_the_setup_does_not_have_are_named() -> None:
    reasons = problems_of(
        {
            "runs": "2",
            "run3_lr": "0.1",
            "run1_b1": "0.5",  # GD has no β₁
            "rosenbrock_b": "5",  # the surface is the quadratic
            "colour": "red",
        }
    )
    assert "no run 3" in reasons["run3_lr"]
    assert "not a setting of run 1" in reasons["run1_b1"]
    assert "not of Ill-conditioned quadratic" in reasons["rosenbrock_b"]
    assert "unknown parameter" in reasons["colour"]


def test_repeated_fields_use_the_last_and_say_so() -> None:
    decoded = from_query({"steps": ["10", "20"]})
    assert decoded.state.steps == 20
    assert "given 2 times" in decoded.problems[0].reason


def test_the_work_a_link_can_ask_for_is_bounded() -> None:
    query = {"runs": "1000", "steps": "1e9"} | {f"junk{i}": "1" for i in range(5000)}
    decoded = from_query(query)
    assert len(decoded.state.runs) == MAX_RUNS and decoded.state.steps == MAX_STEPS
    ignored = [p for p in decoded.problems if "more than" in p.reason]
    assert len(ignored) == len(query) - MAX_FIELDS


def test_an_unknown_version_is_read_as_the_current_one() -> None:
    decoded = from_query({"v": "99", "steps": "50"})
    assert decoded.state.steps == 50
    assert "unknown link version" in problems_of({"v": "99"})["v"]


def test_classroom_fields() -> None:
    decoded = from_query({"hide": "lr,steps,nonsense", "lock": "lr,surface", "notes": "0"})
    room = decoded.state.classroom
    assert room.hidden == {"lr", "steps"} and room.locked == {"surface"} and not room.notes
    assert room.mode("lr") == "hide" and room.mode("surface") == "lock"
    assert room.mode("optimizer") == "show"
    assert "unknown control nonsense" in problems_of({"hide": "lr,nonsense"})["hide"]
    assert to_query(decoded.state)["hide"] == "steps,lr"  # in CONTROL_GROUPS order


def test_a_lesson_must_be_known() -> None:
    assert from_query({"lesson": "diverge"}, lessons={"diverge"}).state.lesson == "diverge"
    decoded = from_query({"lesson": "nope"}, lessons={"diverge"})
    assert decoded.state.lesson is None and "unknown lesson" in decoded.problems[0].reason


# Run numbers: a run keeps its number (and colour) through the link.


def numbered_runs(*run_ids: int) -> PageState:
    """The default page with runs numbered `run_ids`, run k at learning rate (k + 0.5) / 100."""
    runs = tuple(replace(state.default_run(k), lr=(k + 0.5) / 100) for k in run_ids)
    return replace(default_state(), runs=runs, analysis_run=run_ids[0])


@pytest.mark.parametrize(
    ("run_ids", "text"),
    [((1,), None), ((1, 2, 3), "3"), ((2, 3), "2,3"), ((3,), "3,"), ((3, 1, 2), "3,1,2")],
)
def test_the_runs_field_names_the_runs(run_ids: tuple[int, ...], text: str | None) -> None:
    query = to_query(numbered_runs(*run_ids))
    assert query.get("runs") == text
    lrs = {key: value for key, value in query.items() if key.endswith("_lr")}
    assert lrs == {f"run{k}_lr": number_text((k + 0.5) / 100) for k in run_ids}
    decoded = from_query(through_url(query))
    assert decoded.problems == []
    assert [run.run_id for run in decoded.state.runs] == list(run_ids)
    assert [run.lr for run in decoded.state.runs] == [(k + 0.5) / 100 for k in run_ids]


def test_a_count_still_means_runs_one_to_n() -> None:
    runs = from_query({"runs": "3", "run2_lr": "0.5"}).state.runs
    assert [(r.run_id, r.optimizer) for r in runs] == [(1, "gd"), (2, "momentum"), (3, "adam")]
    assert runs[1].lr == 0.5


def test_a_run_keeps_its_default_rule_under_its_number() -> None:
    runs = from_query({"runs": "3,5"}).state.runs  # DEFAULT_OPTIMIZERS by number, not place
    assert [(r.run_id, r.optimizer) for r in runs] == [(3, "adam"), (5, "rmsprop")]


def test_bad_run_numbers_are_skipped_and_named() -> None:
    decoded = from_query({"runs": "2,9,2,x,0", "run9_lr": "0.1"})
    assert [run.run_id for run in decoded.state.runs] == [2]
    reasons = {problem.field: problem.reason for problem in decoded.problems}
    assert "9, 2, x, 0; skipped" in reasons["runs"]
    assert "there is no run 9 (this link has runs 2)" in reasons["run9_lr"]
    empty = from_query({"runs": ","})
    assert [run.run_id for run in empty.state.runs] == [1]
    assert "using run 1" in empty.problems[0].reason


def test_the_analysed_run_must_be_one_of_the_runs() -> None:
    decoded = from_query({"runs": "2,3", "view": "Curvature", "analysis_run": "3"})
    assert decoded.state.analysis_run == 3 and decoded.problems == []
    assert from_query({"runs": "2,3"}).state.analysis_run == 2  # absent: the first run
    wrong = from_query({"runs": "2,3", "analysis_run": "1"})
    assert wrong.state.analysis_run == 2
    assert "not one of the runs (2, 3); using run 2" in wrong.problems[0].reason


# Only the current view's settings go in the link.


def test_only_the_current_view_s_changed_settings_go_in_the_link() -> None:
    analysis = {spec.name: float(spec.default) for spec in SETTINGS}
    changed = {"sweep_rates": 600.0, "map_cells": 120.0, "basin_cells": 200.0}
    page = replace(
        numbered_runs(1, 2),
        analysis=analysis | changed,
        analysis_run=2,
        map_axis="beta",
    )
    assert not [key for key in to_query(page) if key.startswith("analysis_")]  # the race
    sweep = to_query(replace(page, view="LR sweep"))
    assert {k: v for k, v in sweep.items() if k.startswith("analysis_")} == {
        "analysis_sweep_rates": "600",
        "analysis_run": "2",
    }
    stability = to_query(replace(page, view=MAP_VIEW))
    assert {k: v for k, v in stability.items() if k.startswith("analysis_")} == {
        "analysis_map_cells": "120",
        "analysis_run": "2",
        "analysis_map_axis": "beta",
    }
    first_run = to_query(replace(page, view="Basins", analysis_run=1))
    assert {k: v for k, v in first_run.items() if k.startswith("analysis_")} == {
        "analysis_basin_cells": "200"
    }
