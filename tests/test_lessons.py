"""The lesson gallery: every lesson is a clean link, the lessons cover every concept, and every
number and quantitative word of each lesson's question and "what to look for" holds when its
runs go through the engine (one check per lesson, with closed forms or NumPy where there is
one); no run's status contradicts the lesson's text; the gallery's Markdown keeps every
question whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from app import controls
from app.lessons import CONCEPTS, LESSONS, Lesson, gallery_table
from app.link import from_query
from app.state import MAX_RUNS, configs
from optimizers.engine import Outcome, RunConfig, Trajectory
from optimizers.report import describe
from tests.apptest_tools import live, trigger, unfold
from tests.lesson_tools import (
    stays_converged,
    table_cells,
    trajectories,
)
from tests.test_lessons_advanced import (
    check_cliff,
    check_l2,
    check_linreg_ravine,
    check_linreg_standardised,
    check_vanishing,
)
from tests.test_lessons_basics import (
    check_adaptive,
    check_diverge,
    check_grid_search,
    check_local_minimum,
    check_momentum_limit,
    check_momentum_valley,
    check_one_step,
    check_overshoot,
    check_too_slow,
)
from tests.test_lessons_lr_free import check_lr_free, check_schedule_free
from tests.test_lessons_schedules import (
    check_cyclical,
    check_exponential_decay,
    check_polynomial_decay,
    check_range_test,
    check_reduce_on_plateau,
    check_step_decay,
    check_warmup,
)
from tests.test_lessons_step_size import check_line_search, check_polyak_floor
from tests.test_sharpness import check_edge_of_stability

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
PLOT_PX = 500  # the contour's longer side on screen, in pixels (equal x and y scales)


# 1. Links, labels and text.


@pytest.mark.parametrize("key", list(LESSONS))
def test_lesson_query_decodes_cleanly_and_its_link_round_trips(key: str) -> None:
    lesson = LESSONS[key]
    assert not {"v", "lesson"} & dict(parse_qsl(lesson.query)).keys()
    decoded = lesson.decoded()
    assert decoded.problems == []
    assert decoded.state.lesson == key
    assert len(decoded.state.runs) <= MAX_RUNS
    assert lesson.link.startswith(f"v=1&lesson={key}&")
    again = from_query(dict(parse_qsl(lesson.link)), LESSONS)
    assert again.problems == []
    assert again.state == lesson.state


@pytest.mark.parametrize("key", list(LESSONS))
def test_lesson_text_and_concepts(key: str) -> None:
    lesson = LESSONS[key]
    assert lesson.key == key
    assert lesson.concepts and set(lesson.concepts) <= CONCEPTS.keys()
    assert "?" in lesson.question
    assert 0 < len(lesson.question) <= 300 and 0 < len(lesson.look_for) <= 340


@pytest.mark.parametrize("key", list(LESSONS))
def test_the_runs_of_a_lesson_have_distinct_legend_labels(key: str) -> None:
    """Beyond the run number ("2: "), each legend label says how the run differs."""
    state = LESSONS[key].state
    labels = [
        controls.run_label(r.run_id, config)
        for r, config in zip(state.runs, configs(state), strict=True)
    ]
    settings = [label.split(": ", 1)[1] for label in labels]
    assert len(set(settings)) == len(settings), labels


# 2. Coverage.


def test_there_are_enough_lessons_and_they_cover_every_concept() -> None:
    assert len(LESSONS) >= 16
    covered = {concept for lesson in LESSONS.values() for concept in lesson.concepts}
    assert covered == set(CONCEPTS)


# 3. Statuses: what the engine and the status line say agrees with the lesson's text.

# Each run's story as the lesson's text tells it: C converged (and stayed), D diverged,
# T met the tolerance, was thrown out and diverged, S still short of the minimum at the end,
# N hovering at its noise floor, F frozen (its rate decayed to ~0).
STORIES: dict[str, str] = {
    "one_step": "CC",
    "overshoot": "CC",
    "diverge": "CD",
    "too_slow": "SC",
    "grid_search": "SSSSCD",
    "local_minimum": "CC",
    "momentum_valley": "CC",
    "momentum_limit": "DC",
    "adaptive": "SC",
    "step_decay": "NS",
    "exponential_decay": "NSF",
    "polynomial_decay": "NF",
    "warmup": "CC",
    "cyclical": "SC",
    "reduce_on_plateau": "DC",
    "range_test": "T",
    "cliff": "DC",
    "vanishing": "SC",
    "linreg_ravine": "S",
    "linreg_standardised": "CC",
    "l2": "CC",
    "edge_of_stability": "SS",
    "line_search": "DC",
    "polyak_floor": "CSS",
    "lr_free": "CDSCS",
    "schedule_free": "NNN",
}
# Per story: the engine's outcome, and what the status sentence must say (a regex) and must not.
STATUS_WORDS: dict[str, tuple[Outcome, str, str]] = {
    "C": ("converged", r"^(converged|stopped in a local minimum)", r"diverg|thrown|frozen"),
    "D": ("diverged", r"^diverged", r"thrown|tolerance"),
    "T": ("diverged", r"^met the tolerance .* thrown out .* diverged", r"^diverged"),
    "S": ("max_steps", r"", r"^(converged|diverged|frozen|hovering)|thrown"),
    "N": ("max_steps", r"^hovering at the noise floor", r"thrown"),
    "F": ("max_steps", r"^frozen", r"thrown"),
}
# Words of "what to look for" that some run's story must back, and only then.
TEXT_WORDS: dict[str, str] = {
    "DT": r"diverg",
    "T": r"thrown out",
    "N": r"jitter",
    "F": r"freez|stops dead",
}


def assert_story(story: str, trajectory: Trajectory, config: RunConfig) -> None:
    """The engine's Status fields and describe()'s sentence both tell `story`."""
    status, sentence = trajectory.status, describe(trajectory, config)
    outcome, must, must_not = STATUS_WORDS[story]
    assert status.outcome == outcome, sentence
    assert re.search(must, sentence, re.IGNORECASE), sentence
    assert not re.search(must_not, sentence, re.IGNORECASE), sentence
    assert (status.converged >= 0) == (story in "CT"), sentence
    assert (status.thrown_out >= 0) == (story == "T"), sentence
    assert (status.frozen >= 0) == (story == "F"), sentence
    if story == "C":
        assert stays_converged(trajectory), sentence
    if story == "T":
        assert status.converged < status.thrown_out <= status.step


def test_every_lesson_tells_each_runs_story() -> None:
    assert list(STORIES) == list(LESSONS)
    assert all(len(STORIES[key]) == len(lesson.state.runs) for key, lesson in LESSONS.items())


@pytest.mark.parametrize("key", list(LESSONS))
def test_no_status_contradicts_what_the_lesson_says(key: str) -> None:
    lesson = LESSONS[key]
    for story, trajectory, config in zip(
        STORIES[key], trajectories(key), configs(lesson.state), strict=True
    ):
        assert_story(story, trajectory, config)
    for stories, words in TEXT_WORDS.items():
        told = bool(set(stories) & set(STORIES[key]))
        assert bool(re.search(words, lesson.look_for)) == told, words


# 4. One check per lesson (in tests/test_lessons_*.py and tests/test_sharpness.py): every number
# and quantitative word of its text, through the engine.

CHECKS: dict[str, Callable[[], None]] = {
    "one_step": check_one_step,
    "overshoot": check_overshoot,
    "diverge": check_diverge,
    "too_slow": check_too_slow,
    "grid_search": check_grid_search,
    "local_minimum": check_local_minimum,
    "momentum_valley": check_momentum_valley,
    "momentum_limit": check_momentum_limit,
    "adaptive": check_adaptive,
    "step_decay": check_step_decay,
    "exponential_decay": check_exponential_decay,
    "polynomial_decay": check_polynomial_decay,
    "warmup": check_warmup,
    "cyclical": check_cyclical,
    "reduce_on_plateau": check_reduce_on_plateau,
    "range_test": check_range_test,
    "cliff": check_cliff,
    "vanishing": check_vanishing,
    "linreg_ravine": check_linreg_ravine,
    "linreg_standardised": check_linreg_standardised,
    "l2": check_l2,
    "edge_of_stability": check_edge_of_stability,
    "line_search": check_line_search,
    "polyak_floor": check_polyak_floor,
    "lr_free": check_lr_free,
    "schedule_free": check_schedule_free,
}


def test_every_lesson_has_a_check() -> None:
    assert list(CHECKS) == list(LESSONS)


@pytest.mark.parametrize("key", list(LESSONS))
def test_lesson_claim(key: str) -> None:
    CHECKS[key]()


# 5. Markdown: lesson text is shown literally, and the gallery table keeps every question whole.


def test_the_gallery_table_keeps_every_question_whole() -> None:
    header, separator, *rows = gallery_table().split("\n")
    assert table_cells(header) == ["Lesson", "Concepts", "Predict, then run"]
    assert table_cells(separator) == ["---"] * 3
    assert len(rows) == len(LESSONS)
    assert "|" in LESSONS["vanishing"].question  # the case that used to split its cell
    for row, lesson in zip(rows, LESSONS.values(), strict=True):
        title, _, question = table_cells(row)
        assert title == f"[{lesson.title}](?{lesson.link})"
        assert question == lesson.question


# 6. The page (needs the lessons wired into app/streamlit_app.py).


def open_page(lesson: Lesson | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if lesson is not None:
        at.query_params.update(dict(parse_qsl(lesson.link)))
    at.run()
    assert not at.exception, at.exception
    return at


def card_title(at: AppTest) -> list[str]:
    """The open lesson's title, as the live view shows it beside the picture."""
    lesson = live(at)["view"]["lesson"]
    return [] if lesson is None else [f"Lesson: {lesson['title']}"]


def assert_runs_shown(at: AppTest, lesson: Lesson) -> None:
    unfold(at, *range(1, len(lesson.state.runs) + 1))
    for i, run_state in enumerate(lesson.state.runs, start=1):
        assert at.selectbox(key=f"run{i}_optimizer").value == run_state.optimizer
        assert at.number_input(key=f"run{i}_lr").value == run_state.lr
        assert at.selectbox(key=f"run{i}_schedule").value == run_state.schedule
        for name, value in {**run_state.warmup, **run_state.modifiers}.items():
            assert at.session_state[f"run{i}_{name}"] == value


@pytest.mark.parametrize("key", ["cliff", "vanishing"])
def test_a_lesson_link_opens_the_lesson(key: str) -> None:
    lesson = LESSONS[key]
    at = open_page(lesson)
    assert card_title(at) == [f"Lesson: {lesson.title}"]
    shown = live(at)["view"]["lesson"]  # plain text: the browser sets it as textContent
    assert (shown["question"], shown["look_for"]) == (lesson.question, lesson.look_for)
    assert shown["concepts"] == [CONCEPTS[c] for c in lesson.concepts]
    assert at.selectbox(key="surface").value == lesson.state.surface
    assert_runs_shown(at, lesson)
    trigger(at, "close", True)
    assert not at.exception, at.exception
    assert card_title(at) == []


def test_the_gallery_opens_a_lesson() -> None:
    lesson = LESSONS["reduce_on_plateau"]
    at = open_page()
    assert card_title(at) == []
    (table,) = [e.value for e in at.markdown if "| Lesson |" in e.value]
    assert table == f"### Lessons\n\n{gallery_table()}"  # the heading and the table, one element
    at.selectbox(key="lesson_pick").set_value(lesson.key).run()
    at.button(key="lesson_open").click().run()
    assert not at.exception, at.exception
    assert card_title(at) == [f"Lesson: {lesson.title}"]
    assert_runs_shown(at, lesson)
    assert at.number_input(key="run2_sched_patience").value == 3
