"""Links through the real page (AppTest): a link sets every widget, the address bar follows the
widgets, classroom links hide and lock what they say, and a corpus of hostile links opens the
page without an exception, each bad field reported."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import share
from app.link import LINK_VERSION, MAX_FIELDS, from_query
from app.state import CONTROL_GROUPS, configs
from app.text import plain
from app.views import SETTINGS, VIEW_SETTINGS, setting_key
from optimizers.engine import run
from tests.apptest_tools import address, live, open_link, trigger, unfold, warnings


def final_positions(at: AppTest) -> np.ndarray:
    """The engine's final positions of the page's runs, from the state the page holds."""
    page = from_query(address(at)).state
    return np.array([run(config).positions[-1] for config in configs(page)])


# A link sets the page; the page writes its link.


def test_a_link_sets_every_widget_it_names() -> None:
    query = {
        "v": "1",
        "surface": "rosenbrock",
        "rosenbrock_b": "50",
        "steps": "200",
        "x0": "-1",
        "y0": "1.5",
        "runs": "2",
        "run1_lr": "0.0005",
        "run2_optimizer": "adam",
        "run2_lr": "0.02",
        "run2_b1": "0.8",
        "run2_schedule": "cosine",
        "run2_clip_norm": "5",
    }
    at = open_link(query)
    assert at.selectbox(key="surface").value == "rosenbrock"
    assert at.select_slider(key="steps").value == 200
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (-1.0, 1.5)
    assert at.number_input(key="run1_lr").value == 0.0005
    # Run 2's panel is folded (no widget drawn), its run drawn with the link's values all the same.
    assert "run2_optimizer" not in [w.key for w in at.selectbox]
    folded = final_positions(at)
    assert live(at)["view"]["controls"][1]["label"].startswith("2: Adam, η₀=0.02, β₁=0.8")
    unfold(at, 2)
    np.testing.assert_array_equal(final_positions(at), folded)
    assert at.selectbox(key="run2_optimizer").value == "adam"
    assert at.number_input(key="run2_lr").value == 0.02
    assert at.selectbox(key="run2_schedule").value == "cosine"
    assert at.number_input(key="run2_clip_norm").value == 5.0
    assert not warnings(at)
    assert address(at) == query  # canonical already: the address bar keeps it as it is


def test_the_address_bar_follows_the_widgets() -> None:
    at = open_link({})
    assert address(at) == {"v": str(LINK_VERSION)}
    at.number_input(key="run1_lr").set_value(0.07)
    at.button(key="add_run").click()
    at.run()
    assert address(at) == {"v": "1", "runs": "2", "run1_lr": "0.07"}
    reopened = open_link(address(at))
    np.testing.assert_array_equal(final_positions(reopened), final_positions(at))
    assert reopened.number_input(key="run1_lr").value == 0.07


def test_the_share_panel_shows_the_link_and_builds_a_classroom_link() -> None:
    at = open_link({"surface": "himmelblau"})
    codes = [element.value for element in at.get("code")]
    assert any(code.endswith("?v=1&surface=himmelblau") for code in codes), codes
    at.toggle(key="class_builder").set_value(True).run()
    at.checkbox(key="class_hide_steps").check()
    at.checkbox(key="class_lock_lr").check()
    at.checkbox(key="class_notes").uncheck()
    at.run()
    links = [element.value for element in at.get("code")]
    classroom = parse_qs(links[-1].split("?", 1)[1])
    assert classroom == {
        "v": ["1"],
        "surface": ["himmelblau"],
        "hide": ["steps"],
        "lock": ["lr"],
        "notes": ["0"],
    }
    assert address(at) == {"v": "1", "surface": "himmelblau"}  # the teacher's page is unchanged


# Classroom mode.


def test_a_classroom_link_hides_and_locks_controls() -> None:
    at = open_link(
        {"hide": "steps,optimizer,schedule,warmup,modifiers,hyper,runs", "lock": "surface,lr"}
    )
    assert not at.get("select_slider") or all(s.key != "steps" for s in at.select_slider)
    keys = {
        element.key for kind in ("selectbox", "number_input", "button") for element in at.get(kind)
    }
    assert not keys & {"run1_optimizer", "run1_schedule", "run1_clip_norm", "add_run", "steps"}
    assert at.selectbox(key="surface").disabled
    assert at.number_input(key="run1_lr").disabled and at.select_slider(key="run1_lr_log").disabled
    assert not at.number_input(key="x0").disabled  # start point: neither hidden nor locked


def test_hidden_controls_keep_the_linked_values() -> None:
    at = open_link({"hide": "lr,steps", "run1_lr": "0.3", "steps": "40"})
    assert all(e.key not in {"run1_lr", "steps"} for e in at.get("number_input"))
    page = from_query(address(at)).state
    assert page.runs[0].lr == 0.3 and page.steps == 40
    assert address(at)["hide"] == "steps,lr"


def test_notes_can_be_hidden() -> None:
    shown = " ".join(e.value for e in open_link({}).get("caption"))
    hidden = " ".join(e.value for e in open_link({"notes": "0"}).get("caption"))
    assert "race up to six optimizers" in shown and "race up to six optimizers" not in hidden


def test_a_hidden_share_panel_and_inspector_are_gone() -> None:
    assert open_link({"lock": "analysis"}).radio(key="view").disabled
    linked_view = open_link({"hide": "analysis", "view": "Curvature"})
    assert not linked_view.get("radio")  # no choice, but the linked view is shown
    assert any("Hessian eigenvalues" in caption.value for caption in linked_view.caption)
    at = open_link({"hide": "share,inspector,export,lessons,analysis"})
    assert not at.get("radio")
    assert not at.get("code")
    assert "Step inspector" not in [e.value for e in at.get("subheader")]
    assert not at.get("download_button")


# Hostile links: the page opens, each bad field is reported.

BAD_TEXTS = (
    "abc", "nan", "NaN", "inf", "-inf", "1e999", "-1e999", " ", "0x1F", "1_0", "1,5",
    "١٢", "1e", "--1", "9" * 300, "<script>alert(1)</script>", "${jndi:ldap://x/a}",
    "'; DROP TABLE runs;--", "%00", "\u202e", "🙂", "1/0", "__import__('os').system('id')",
)  # fmt: skip
NUMERIC_FIELDS = (
    "steps", "x0", "y0", "runs", "run1_lr", "quadratic_kappa", "quadratic_angle",
    "run1_warmup_steps", "run1_clip_norm", "run1_noise_seed", "show_3d", "notes",
)  # fmt: skip
CHOICE_FIELDS = ("surface", "run1_optimizer", "run1_schedule", "lesson", "hide", "lock")


def hostile_corpus() -> list[tuple[dict[str, Any], set[str]]]:
    """(query, the fields the page must report) pairs: every numeric field with a spread of bad
    texts, unknown choices, out-of-range numbers, fields that do not exist, repeats, versions."""
    corpus: list[tuple[dict[str, Any], set[str]]] = []
    for i, name in enumerate(NUMERIC_FIELDS):
        for text in BAD_TEXTS[i % 3 :: 3]:
            corpus.append(({name: text}, {name}))
    for name in CHOICE_FIELDS:
        for text in ("__class__", "../../etc/passwd", "eval(1)", "x" * 250):
            corpus.append(({name: text}, {name}))
    out_of_range = {
        "steps": "1e12", "runs": "99", "run1_lr": "1e9", "x0": "1e308", "quadratic_kappa": "-3",
        "run1_noise_seed": "2.5", "inspect_step": "-1",
    }  # fmt: skip
    corpus += [({name: text}, {name}) for name, text in out_of_range.items()]
    corpus += [
        ({"run9_lr": "0.1"}, {"run9_lr"}),
        ({"run1_b1": "0.9"}, {"run1_b1"}),
        ({"rosenbrock_b": "10"}, {"rosenbrock_b"}),
        ({"__proto__": "1"}, {"__proto__"}),
        ({"steps": ["10", "20", "30"]}, {"steps"}),
        ({"v": "2"}, {"v"}),
        ({"v": "abc", "surface": "nope", "steps": "-1"}, {"v", "surface", "steps"}),
        ({"runs": "3", "run3_optimizer": "adam", "run3_lr": "1e-99"}, {"run3_lr"}),
        # The warning lists the first SHOWN_PROBLEMS: the fields beyond MAX_FIELDS come first.
        (
            {f"f{i}": "1" for i in range(MAX_FIELDS + 20)},
            {f"f{MAX_FIELDS + i}" for i in range(share.SHOWN_PROBLEMS)},
        ),
    ]
    return corpus


CORPUS = hostile_corpus()


def test_the_corpus_is_large() -> None:
    assert len(CORPUS) >= 100


@pytest.mark.parametrize(("query", "bad"), CORPUS, ids=[f"q{i}" for i in range(len(CORPUS))])
def test_a_hostile_link_opens_the_page_and_names_each_bad_field(
    query: dict[str, Any], bad: set[str]
) -> None:
    at = open_link(query)
    assert live(at)["view"]["runs"], "the race is drawn"
    reported = warnings(at)
    shown = re.findall(r"^- (`+) ?(.*?) ?\1: ", reported, flags=re.MULTILINE)
    for name in bad:
        assert any(text.startswith(f"{name[:37]}") for _, text in shown), (name, reported)
    canonical = address(at)  # the address bar now holds only usable, canonical fields
    assert from_query(canonical).problems == []


def test_the_report_can_be_dismissed() -> None:
    at = open_link({"steps": "abc"})
    assert "`steps=abc`" in warnings(at)
    at.button(key="link_dismiss").click().run()
    assert not warnings(at)


def test_every_control_group_has_a_classroom_checkbox() -> None:
    at = open_link({})
    at.toggle(key="class_builder").set_value(True).run()
    keys = {element.key for element in at.get("checkbox")}
    assert {f"class_hide_{g}" for g in CONTROL_GROUPS} <= keys
    assert {f"class_lock_{g}" for g in CONTROL_GROUPS} <= keys


def test_a_link_opens_an_analysis_view_with_its_settings() -> None:
    at = open_link({"view": "LR sweep", "analysis_sweep_rates": "600", "surface": "bowl"})
    assert at.radio(key="view").value == "LR sweep"
    assert at.number_input(key="analysis_sweep_rates").value == 600
    assert address(at) == {
        "v": "1",
        "surface": "bowl",
        "view": "LR sweep",
        "analysis_sweep_rates": "600",
    }


def test_a_link_chooses_the_analysed_run_and_the_map_axis() -> None:
    query = {
        "v": "1",
        "view": "Stability map",
        "analysis_run": "2",
        "analysis_map_axis": "kappa",
        "runs": "2",
    }
    at = open_link(query)
    assert at.selectbox(key="analysis_run").value == 2
    assert at.selectbox(key="analysis_map_axis").value == "kappa"
    assert address(at) == query
    # Run 2 (momentum) maps against β first: its default axis, left out of the link.
    first_axis = open_link(query | {"analysis_map_axis": "beta"})
    assert first_axis.selectbox(key="analysis_map_axis").value == "beta"
    assert address(first_axis) == {k: v for k, v in query.items() if k != "analysis_map_axis"}
    reasons = warnings(open_link({"analysis_run": "5"}))
    assert f"`analysis_run=5`: {plain('not one of the runs (1); using run 1')}" in reasons


# Run numbers and colours survive the link (in a browser: tests/browser/test_identity_browser.py).


def run_colours(at: AppTest) -> dict[str, str]:
    """The contour's run paths: {legend label: line colour}."""
    spec = live(at)["plane"]
    return {
        trace["name"]: trace["line"]["color"]
        for trace in spec["data"]
        if trace.get("legendgroup", "").startswith("run-") and trace.get("mode") == "lines"
    }


def test_removing_run_1_keeps_the_other_runs_numbers_and_colours_through_the_link() -> None:
    at = open_link({"runs": "3", "steps": "20"})
    before = run_colours(at)
    at.button(key="run1_remove").click().run()
    query = address(at)
    assert query["runs"] == "2,3"
    sender = run_colours(at)
    assert sender == {label: c for label, c in before.items() if not label.startswith("1:")}
    assert [label[:2] for label in sender] == ["2:", "3:"]

    receiver = open_link(query)
    assert receiver.session_state["run_ids"] == [2, 3]
    assert run_colours(receiver) == sender
    panels = [e.label for e in receiver.get("expander") if e.label.startswith("Run ")]
    assert panels == [e.label for e in at.get("expander") if e.label.startswith("Run ")]
    assert [label.split(" · ")[0] for label in panels] == ["Run 2", "Run 3"]
    assert address(receiver) == query


# Numbers in the link: short, no float noise.


def test_a_contour_click_writes_four_significant_digits() -> None:
    at = open_link({"steps": "20"})
    trigger(at, "start", {"x": -1.6500000000000001, "y": 0.123456789})
    assert (address(at)["x0"], address(at)["y0"]) == ("-1.65", "0.1235")


def test_a_formula_s_default_start_is_written_short() -> None:
    query = address(open_link({"surface": "formula"}))
    assert (query["x0"], query["y0"]) == ("2.4", "1.8")  # 90 % and 80 % across [-3, 3]


def test_the_share_link_has_a_slash_before_the_query_and_literal_commas() -> None:
    at = open_link({"hide": "lr,steps", "lock": "optimizer,surface"})
    (link,) = [e.value for e in at.get("code") if e.value.startswith(("/?", "http"))]
    assert link == "/?v=1&hide=steps,lr&lock=surface,optimizer"


def test_a_link_to_the_browser_s_address(monkeypatch: pytest.MonkeyPatch) -> None:
    query = {"v": "1", "hide": "steps,lr"}
    for url in ("http://host:8501", "http://host:8501/"):
        monkeypatch.setattr(share.st, "context", type("Context", (), {"url": url}))
        assert share.link_to(query) == "http://host:8501/?v=1&hide=steps,lr"


def test_a_view_visited_once_leaves_no_settings_in_later_links() -> None:
    at = open_link({"runs": "2", "steps": "20"})
    at.radio(key="view").set_value("Stability map").run()
    at.selectbox(key="analysis_run").set_value(2).run()
    at.number_input(key="analysis_map_cells").set_value(120).run()
    assert address(at) == {
        "v": "1",
        "runs": "2",
        "steps": "20",
        "view": "Stability map",
        "analysis_run": "2",
        "analysis_map_cells": "120",
        # The axis shown is run 1's first, kept for run 2, whose own first (default) is β.
        "analysis_map_axis": "warmup_steps",
    }
    at.radio(key="view").set_value("Race").run()
    assert address(at) == {"v": "1", "runs": "2", "steps": "20"}
    assert at.session_state["analysis_map_cells"] == 120  # kept for the next visit


@pytest.mark.parametrize("view", list(VIEW_SETTINGS))
def test_each_view_s_link_settings_are_the_ones_it_draws(view: str) -> None:
    at = open_link({"view": view, "steps": "20"})
    kinds = ("number_input", "select_slider", "slider")
    drawn = {element.key for kind in kinds for element in at.get(kind)}
    assert drawn & {setting_key(spec.name) for spec in SETTINGS} == {
        setting_key(name) for name in VIEW_SETTINGS[view]
    }
