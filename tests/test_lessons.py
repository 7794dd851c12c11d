"""The lesson gallery: every lesson is a clean link, the lessons cover every concept, and every
number and quantitative word of each lesson's question and "what to look for" holds when its
runs go through the engine (one check per lesson, with closed forms or NumPy where there is
one); no run's status contradicts the lesson's text; the gallery's Markdown keeps every
question whole."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import analysis_figures, controls, views
from app.lessons import CONCEPTS, LESSONS, Lesson, gallery_table
from app.state import MAX_RUNS, configs, from_query
from optimizers import analysis
from optimizers.curvature import critical_rate, hessian_eigenvalues
from optimizers.engine import Outcome, RunConfig, Trajectory, plan, run
from optimizers.report import describe
from surfaces import SURFACES, regression_data
from tests.apptest_tools import live, trigger
from tests.test_lessons_lr_free import check_lr_free, check_schedule_free
from tests.test_lessons_step_size import check_line_search, check_polyak_floor
from tests.test_sharpness import check_edge_of_stability

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
PLOT_PX = 500  # the contour's longer side on screen, in pixels (equal x and y scales)


@functools.cache
def trajectories(key: str) -> tuple[Trajectory, ...]:
    return tuple(run(config) for config in configs(LESSONS[key].state))


def lesson_runs(key: str) -> list[tuple[float, Trajectory]]:
    """(η₀, trajectory) of each run of the lesson."""
    state = LESSONS[key].state
    return [(r.lr, t) for r, t in zip(state.runs, trajectories(key), strict=True)]


def quadratic_hessian(kappa: float, angle: float) -> np.ndarray:
    """∇² of ½(u² + κv²), u = (cos θ, sin θ)·w, v = (−sin θ, cos θ)·w."""
    theta = math.radians(angle)
    u = np.array([math.cos(theta), math.sin(theta)])
    v = np.array([-math.sin(theta), math.cos(theta)])
    return np.outer(u, u) + kappa * np.outer(v, v)


def lesson_hessian(key: str) -> np.ndarray:
    params = LESSONS[key].state.surface_params
    return quadratic_hessian(params["kappa"], params["angle"])


def gd_limit(H: np.ndarray) -> float:
    return 2.0 / np.linalg.eigvalsh(H)[-1]


def steep_direction(H: np.ndarray) -> np.ndarray:
    return np.linalg.eigh(H)[1][:, -1]


def tail_mean(trajectory: Trajectory, steps: int = 50) -> float:
    return float(trajectory.loss[-steps:].mean())


def block_means(trajectory: Trajectory, width: int = 50) -> np.ndarray:
    """The mean loss over steps [0, width), [width, 2·width), …"""
    loss = trajectory.loss[: len(trajectory.loss) // width * width]
    return loss.reshape(-1, width).mean(axis=1)


def sign_changes(values: np.ndarray) -> int:
    return int(np.count_nonzero(np.sign(values[1:]) != np.sign(values[:-1])))


def start(key: str) -> np.ndarray:
    return np.array(LESSONS[key].state.start)


def in_text(key: str, *phrases: str) -> None:
    """The checked numbers are the ones the lesson says."""
    lesson = LESSONS[key]
    text = f"{lesson.question} {lesson.look_for}"
    for phrase in phrases:
        assert phrase in text, phrase


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


def stays_converged(trajectory: Trajectory) -> bool:
    """After the step it converged at, the loss never climbs back by more than 10⁻⁶ of its fall
    (a run thrown out of the minimum later fails this)."""
    after = trajectory.loss[trajectory.status.step :]
    fall = trajectory.loss[0] - trajectory.loss.min()
    return bool(after.max() - trajectory.loss.min() <= 1e-6 * fall)


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


# 4. One check per lesson: every number and quantitative word of its text, through the engine.


def check_one_step() -> None:
    (slow_lr, slow), (fast_lr, fast) = lesson_runs("one_step")
    w0 = start("one_step")
    in_text("one_step", "η = 0.1", "η = 1", "one step", "10 % per step", "143 steps")
    assert fast_lr == 1.0 and fast.status == fast.status._replace(outcome="converged", step=1)
    np.testing.assert_array_equal(fast.positions[1], [0.0, 0.0])
    # On f = ½‖w‖², w_k = (1 − η)^k w₀: a straight path, 10 % shorter each step; converged
    # once ‖∇f‖ = ‖w_k‖ ≤ 1e-6.
    k = np.arange(len(slow.positions))[:, None]
    np.testing.assert_allclose(slow.positions, (1 - slow_lr) ** k * w0, rtol=1e-10, atol=1e-300)
    assert 1 - slow_lr == pytest.approx(0.9)
    expected = math.ceil(math.log(1e-6 / np.linalg.norm(w0)) / math.log(1 - slow_lr))
    assert slow.status.outcome == "converged" and slow.status.step == expected == 143


def check_overshoot() -> None:
    (slow_lr, slow), (fast_lr, fast) = lesson_runs("overshoot")
    H = lesson_hessian("overshoot")
    lam = np.linalg.eigvalsh(H)[-1]
    in_text("overshoot", "λ_max = 10", "η = 0.1 = 1/λ_max", "η = 0.15", "η = 0.05")
    assert lam == pytest.approx(10) and slow_lr < 1 / lam < fast_lr < 2 / lam
    across_fast = fast.positions[:20] @ steep_direction(H)  # across the valley floor
    across_slow = slow.positions[:20] @ steep_direction(H)
    # Every step multiplies the distance across by 1 − ηλ_max = −0.5: it crosses, and halves.
    np.testing.assert_allclose(across_fast[1:] / across_fast[:-1], -0.5, rtol=1e-9)
    assert np.all(np.sign(across_slow) == np.sign(across_slow[0]))  # never crosses
    assert fast.status.step < slow.status.step  # run 1 is slower


def check_diverge() -> None:
    (below, stable), (above, unstable) = lesson_runs("diverge")
    H = lesson_hessian("diverge")
    limit = gd_limit(H)
    state = LESSONS["diverge"].state
    rate = critical_rate(SURFACES["quadratic"], "gd", state.start, params=state.surface_params)
    in_text("diverge", "λ_max = 10", "2/λ_max = 0.2", "η = 0.19", "η = 0.21", "10 %")
    assert rate is not None and rate.exact and rate.value == pytest.approx(limit, rel=1e-12)
    assert limit == pytest.approx(0.2) and below < limit < above
    assert round(above / below - 1, 1) == 0.1  # a 10 % change in η
    across_stable = stable.positions[:20] @ steep_direction(H)
    across_unstable = unstable.positions[:20] @ steep_direction(H)
    assert sign_changes(across_stable) == 19  # zig-zags
    # 1 − ηλ_max = −1.1: the zig-zag grows by 10 % per step.
    np.testing.assert_allclose(across_unstable[1:] / across_unstable[:-1], -1.1, rtol=1e-9)
    climbing = np.diff(unstable.loss) > 0
    assert climbing[10:].all()  # once the zig-zag dominates, the loss climbs every step


def check_too_slow() -> None:
    (small, slow), (good_lr, good) = lesson_runs("too_slow")
    H = lesson_hessian("too_slow")
    steps = LESSONS["too_slow"].state.steps
    in_text("too_slow", "η = 0.002", "0.2", "300 steps", "η = 0.18", "about 200-fold", "halved")
    assert gd_limit(H) == pytest.approx(0.2)
    expected = np.linalg.matrix_power(np.eye(2) - small * H, steps) @ start("too_slow")
    np.testing.assert_allclose(slow.positions[-1], expected, rtol=1e-9)
    assert 160 <= slow.loss[0] / slow.loss[-1] <= 250  # the loss fell about 200-fold
    values, vectors = np.linalg.eigh(H)
    remaining = (vectors.T @ slow.positions[-1]) / (vectors.T @ start("too_slow"))
    assert abs(remaining[1]) < 0.01  # the steep direction is done: (1 − 10η)³⁰⁰
    assert 0.45 <= remaining[0] <= 0.6  # the flat one has only halved: (1 − η)³⁰⁰ = 0.55
    assert good_lr == pytest.approx(2 / (values[0] + values[1]), rel=0.02)  # the optimal rate
    assert good.status.step < 80


def check_grid_search() -> None:
    runs = lesson_runs("grid_search")
    rates = np.array([lr for lr, _ in runs])
    in_text("grid_search", "0.001, 0.003, 0.01, 0.03, 0.1, 0.3", "half a decade", "= 0.2")
    assert len(runs) == MAX_RUNS
    assert {r.optimizer for r in LESSONS["grid_search"].state.runs} == {"gd"}
    decades = np.log10(rates[1:] / rates[:-1])
    assert np.all((decades > 0.45) & (decades < 0.55))  # about half a decade apart
    limit = gd_limit(lesson_hessian("grid_search"))
    assert limit == pytest.approx(0.2)
    assert all((lr > limit) == (t.status.outcome == "diverged") for lr, t in runs)
    assert runs[-1][1].status.step <= 10  # diverges within a few steps
    final = np.array([t.loss[-1] for _, t in runs[:4]])
    assert np.all(np.diff(final) < 0)  # the four slow curves fan out by rate
    finite = [(t.loss[-1], lr) for lr, t in runs if t.status.outcome != "diverged"]
    assert min(finite)[1] == max(lr for lr in rates if lr < limit)  # just below the breaker
    assert {spec.name: spec.default for spec in views.SETTINGS}["sweep_rates"] == 1000


def check_local_minimum() -> None:
    (gd_lr, gd), (momentum_lr, momentum) = lesson_runs("local_minimum")
    beta = LESSONS["local_minimum"].state.runs[1].hyper["beta"]
    in_text("local_minimum", "β = 0.8", "η = 0.05", "f ≈ 0.48", "f ≈ −0.51")
    assert gd_lr == momentum_lr == 0.05 and beta == 0.8
    # Stationary points of (x² − 1)² + x/2 + y² lie on y = 0 at the roots of 4x³ − 4x + ½:
    # the largest is the shallow well, the middle one the barrier, the smallest the deep well.
    deep, barrier, shallow = np.sort(np.roots([4.0, 0.0, -4.0, 0.5]).real)
    assert gd.status.nearest.kind == "local"
    np.testing.assert_allclose(gd.positions[-1], [shallow, 0.0], atol=1e-6)
    assert momentum.status.nearest.kind == "global"
    np.testing.assert_allclose(momentum.positions[-1], [deep, 0.0], atol=1e-6)
    assert (momentum.positions[:, 0] < barrier).any() and (gd.positions[:, 0] > barrier).all()
    assert round(gd.loss[-1], 2) == 0.48 and round(momentum.loss[-1], 2) == -0.51


def check_momentum_valley() -> None:
    (lr_gd, gd), (lr_momentum, momentum) = lesson_runs("momentum_valley")
    H = lesson_hessian("momentum_valley")
    in_text("momentum_valley", "κ = 100", "η < 0.02", "η = 0.019", "β = 0.9", "about half")
    assert gd_limit(H) == pytest.approx(0.02)
    assert lr_gd == lr_momentum == 0.019
    assert LESSONS["momentum_valley"].state.runs[1].hyper["beta"] == 0.9
    flat = np.linalg.eigh(H)[1][:, 0]
    assert sign_changes(momentum.positions @ flat) >= 1  # overshoots along the valley
    assert sign_changes(gd.positions @ flat) == 0
    assert 0.4 <= momentum.status.step / gd.status.step <= 0.6  # about half the steps


def check_momentum_limit() -> None:
    (lr, gd), (_, momentum) = lesson_runs("momentum_limit")
    beta = LESSONS["momentum_limit"].state.runs[1].hyper["beta"]
    lam = np.linalg.eigvalsh(lesson_hessian("momentum_limit"))[-1]
    in_text("momentum_limit", "η = 0.03", "2/λ_max = 0.02", "β = 0.9", "= 0.038")
    assert 2 / lam == pytest.approx(0.02) and round(2 * (1 + beta) / lam, 3) == 0.038
    assert 2 / lam < lr < 2 * (1 + beta) / lam
    assert gd.status.step <= 10  # diverges within a few steps
    jump = int(np.argmax(momentum.loss))
    assert jump <= 3 and momentum.loss[jump] > 2 * momentum.loss[0]  # first jumps up
    assert momentum.loss[-1] < 1e-12 * momentum.loss[0]  # then falls to the minimum


def check_adaptive() -> None:
    (lr_gd, gd), (lr_adam, adam) = lesson_runs("adaptive")
    in_text("adaptive", "κ = 100", "θ = 0°", "η < 0.02", "η = 0.1", "thousands of times")
    in_text("adaptive", "step 200", "near step 300", "at step 500")
    assert gd_limit(lesson_hessian("adaptive")) == pytest.approx(0.02)
    assert lr_gd < 0.02 < lr_adam == 0.1
    # Adam's first step: m̂/√v̂ = g/|g| per coordinate, so each coordinate moves by η.
    np.testing.assert_allclose(adam.update[0], -lr_adam * np.sign(adam.grad[0]), rtol=1e-6)
    x_rate, y_rate = adam.effective_lr[0]
    assert x_rate > 10 * y_rate  # the flat x-axis gets the far larger effective rate
    assert 1e3 <= gd.loss[200] / adam.loss[200] < 1e4  # thousands of times lower
    assert abs(adam.status.step - 300) <= 30  # converges near step 300
    assert LESSONS["adaptive"].state.steps == 500 and gd.loss[-1] > 0  # short at step 500


def check_step_decay() -> None:
    (_, constant), (lr, decayed) = lesson_runs("step_decay")
    params = LESSONS["step_decay"].state.runs[1].schedule_params
    in_text("step_decay", "σ = 1", "η = 0.1", "halves every 50 steps")
    assert lr == 0.1 and params["gamma"] == 0.5 and params["step_size"] == 50
    k = np.arange(len(decayed.lr))
    expected = lr * params["gamma"] ** np.floor(k / params["step_size"])
    np.testing.assert_allclose(decayed.lr, expected, rtol=1e-12)
    drops = np.flatnonzero(np.diff(decayed.lr)) + 1
    np.testing.assert_array_equal(drops, np.arange(50, len(k), 50))  # a staircase
    assert np.all(np.diff(block_means(decayed)) < 0)  # the loss steps down with each drop
    level = block_means(constant)[1:]
    assert level.max() < 3 * level.min()  # run 1 jitters at the same level, …
    assert np.linalg.norm(np.diff(constant.positions[-50:], axis=0), axis=1).min() > 0  # never
    assert tail_mean(decayed) < tail_mean(constant) / 10  # … far above run 2


def check_exponential_decay() -> None:
    (_, constant), (_, gentle), (fast_lr, fast) = lesson_runs("exponential_decay")
    runs = LESSONS["exponential_decay"].state.runs
    in_text("exponential_decay", "σ = 1", "η₀ = 0.3", "by 100 every 10 steps", "step 15")
    in_text("exponential_decay", "half-way", "over 40 times")
    assert fast_lr == 0.3 and runs[2].schedule_params == {"gamma": 0.01, "decay_steps": 10}
    assert runs[1].schedule_params["gamma"] == 0.5 and runs[1].schedule_params["decay_steps"] == 50
    for run_state, trajectory in zip(runs[1:], (gentle, fast), strict=True):
        p = run_state.schedule_params
        k = np.arange(len(trajectory.lr))
        np.testing.assert_allclose(
            trajectory.lr, run_state.lr * p["gamma"] ** (k / p["decay_steps"]), rtol=1e-12
        )
    assert tail_mean(gentle) < tail_mean(constant) / 10  # run 2 settles far closer
    assert np.flatnonzero(fast.lr < 1e-3)[0] <= 15  # below 10⁻³ by step 15
    # The rates sum to a finite total, so the path freezes: about half-way to the minimum.
    np.testing.assert_allclose(fast.positions[-1], fast.positions[100], atol=1e-12)
    covered = 1 - np.linalg.norm(fast.positions[-1]) / np.linalg.norm(fast.positions[0])
    assert 0.4 <= covered <= 0.6
    assert fast.loss[-1] > 40 * tail_mean(constant)


def check_polynomial_decay() -> None:
    (_, constant), (lr, decayed) = lesson_runs("polynomial_decay")
    horizon = int(LESSONS["polynomial_decay"].state.runs[1].schedule_params["decay_steps"])
    in_text("polynomial_decay", "σ = 1", "from 0.1 to 0 at step 250", "from step 250")
    assert lr == 0.1 and horizon == 250
    k = np.arange(len(decayed.lr))
    np.testing.assert_allclose(decayed.lr, lr * (1 - np.minimum(k, horizon) / horizon), atol=1e-15)
    assert np.all(np.diff(block_means(decayed)[1 : horizon // 50]) < 0)  # the jitter fades
    frozen = decayed.positions[horizon:]
    np.testing.assert_array_equal(frozen, np.broadcast_to(frozen[0], frozen.shape))  # η = 0
    assert np.linalg.norm(constant.positions[-1] - constant.positions[-2]) > 0  # run 1 jitters
    assert decayed.loss[-1] < tail_mean(constant) / 3


def check_warmup() -> None:
    (lr, cold), (_, warm) = lesson_runs("warmup")
    rho = LESSONS["warmup"].state.runs[0].hyper["rho"]
    width = int(LESSONS["warmup"].state.runs[1].warmup["warmup_steps"])
    in_text("warmup", "ρ = 0.999", "≈ 32η", "η = 0.3", "over 100 steps", "about 11 times")
    in_text("warmup", "at step 82", "at step 111", "29 steps")
    assert lr == 0.3 and rho == 0.999 and width == 100
    # v₁ = (1 − ρ)g², so the first RMSprop step is η/√(1 − ρ) per coordinate.
    assert round(1 / math.sqrt(1 - rho)) == 32
    np.testing.assert_allclose(np.abs(cold.update[0]), lr / math.sqrt(1 - rho), rtol=1e-6)
    assert int(np.argmax(cold.loss)) == 1 and round(cold.loss[1] / cold.loss[0]) == 11
    np.testing.assert_allclose(warm.lr[:width], lr * np.arange(width) / width, rtol=1e-12)
    assert warm.lr[0] == 0 and np.all(np.diff(warm.loss[1:]) < 0)  # falls at every step
    assert (cold.status.step, warm.status.step) == (82, 111)
    assert stays_converged(cold) and stays_converged(warm)


def check_cyclical() -> None:
    (lr, constant), (_, cyclic) = lesson_runs("cyclical")
    params = LESSONS["cyclical"].state.runs[1].schedule_params
    period = 2 * int(params["step_size"])
    limit = gd_limit(lesson_hessian("cyclical"))
    in_text("cyclical", "η₀ = 0.02", "12η₀ = 0.24", "every 50 steps", "2/λ_max = 0.2")
    in_text("cyclical", "9 steps of each cycle", "9-step", "under 100 steps", "step 300")
    assert lr == 0.02 and params["max_factor"] == 12 and period == 50
    assert limit == pytest.approx(0.2) and cyclic.lr.max() == pytest.approx(0.24)
    np.testing.assert_allclose(cyclic.lr[period:], cyclic.lr[:-period], rtol=1e-12)
    steps = np.diff(cyclic.lr[:period])
    assert (steps > 0).any() and (steps < 0).any()  # a saw-tooth
    above = (cyclic.lr > limit).reshape(-1, period).sum(axis=1)
    np.testing.assert_array_equal(above, 9)  # 9 steps of each cycle above the limit
    assert cyclic.status.step < 100
    assert constant.loss[-1] > 0 and LESSONS["cyclical"].state.steps == 300


def check_reduce_on_plateau() -> None:
    (lr, _), (_, reduced) = lesson_runs("reduce_on_plateau")
    params = LESSONS["reduce_on_plateau"].state.runs[1].schedule_params
    patience = int(params["patience"])
    limit = gd_limit(lesson_hessian("reduce_on_plateau"))
    in_text("reduce_on_plateau", "η = 0.3", "2/λ_max = 0.2", "for 3 steps", "for 4 steps")
    in_text("reduce_on_plateau", "drops once, to 0.15")
    assert lr == 0.3 and limit == pytest.approx(0.2) and patience == 3
    assert np.all(np.diff(reduced.loss[:5]) > 0) and reduced.loss[5] < reduced.loss[4]  # 4 up
    drops = np.flatnonzero(np.diff(reduced.lr) < 0) + 1
    np.testing.assert_array_equal(drops, [patience + 1])  # cut once patience is exceeded
    assert reduced.lr[-1] == pytest.approx(params["factor"] * lr) == 0.15
    assert reduced.lr[-1] < limit


def check_range_test() -> None:
    ((lr, test),) = lesson_runs("range_test")
    state = LESSONS["range_test"].state
    limit = gd_limit(lesson_hessian("range_test"))
    top = lr * state.runs[0].schedule_params["max_factor"]
    in_text("range_test", "from 0.005 to 0.5 over 200 steps", "2/λ_max = 0.2", "η_k ≈ 0.32")
    in_text("range_test", "by step 100", "(step 127)", "at step 152", "at step 160", "dashed")
    assert lr == 0.005 and top == 0.5 and state.steps == 200 and limit == pytest.approx(0.2)
    k = np.arange(len(test.lr))
    np.testing.assert_allclose(test.lr, lr + (top - lr) * k / state.steps, rtol=1e-12)
    falls = np.diff(test.loss) < 0
    assert falls[test.lr <= limit].all()  # the loss falls at every stable rate
    turn = int(np.flatnonzero(~falls)[0])
    assert turn == 127 and round(test.lr[turn], 2) == 0.32 and test.lr[turn] > limit
    assert test.status.converged <= 100  # at the minimum by step 100, …
    assert test.status.thrown_out == 152 and test.status.step == 160  # … then thrown out


def check_cliff() -> None:
    (lr, free), (_, clipped) = lesson_runs("cliff")
    clip = LESSONS["cliff"].state.runs[1].modifiers["clip_norm"]
    in_text("cliff", "η = 3.2", "2/0.2 = 10", "about 200", "step 1", "η·C = 3.2", "(−2, 0)")
    assert lr == 3.2 and clip == 1 and lr * clip == 3.2
    # f = ((x + 2)² + y²)/10 + 20(1 + tanh 10x): curvature 0.2 on the terrace, and the edge's
    # slope d/dx 20 tanh 10x = 200 sech² 10x peaks at 200 on x = 0.
    for point in (LESSONS["cliff"].state.start, (-2.0, 0.0)):
        np.testing.assert_allclose(hessian_eigenvalues(SURFACES["cliff"], point), 0.2, rtol=1e-9)
    assert 150 <= free.grad_norm[1] <= 250  # one gradient of about 200, at step 1 …
    assert free.status.step == 2  # … flings it off the map
    assert np.linalg.norm(clipped.update, axis=1).max() <= lr * clip * (1 + 1e-12)
    np.testing.assert_allclose(clipped.positions[-1], [-2.0, 0.0], atol=1e-6)


def check_vanishing() -> None:
    (gd_lr, gd), (adam_lr, adam) = lesson_runs("vanishing")
    r = np.linalg.norm(start("vanishing"))
    in_text("vanishing", "|∇f| ≈ 4·10⁻⁴", "η = 1", "500 steps", "0.43 of the 4.3", "3·10⁻³")
    in_text("vanishing", "above 0.999", "η = 0.1", "η√2 ≈ 0.14 per step")
    assert gd_lr == 1 and adam_lr == 0.1 and LESSONS["vanishing"].state.steps == 500
    # f = 1 − e^{−r²/2}: |∇f| = r e^{−r²/2}.
    assert gd.grad_norm[0] == pytest.approx(r * math.exp(-(r**2) / 2), rel=1e-10)
    assert round(gd.grad_norm[0], 4) == 4e-4 and round(r, 1) == 4.3
    assert round(np.linalg.norm(gd.positions[-1] - gd.positions[0]), 2) == 0.43  # barely moves
    assert gd.grad_norm.max() < 3e-3 and gd.loss.min() > 0.999
    pace = np.linalg.norm(np.diff(adam.positions[:21], axis=0), axis=1)
    np.testing.assert_allclose(pace, adam_lr * math.sqrt(2), rtol=0.12)  # a steady η√2
    assert adam.status.nearest.kind == "global"


def regression(key: str) -> tuple[np.ndarray, np.ndarray]:
    """The Hessian 2AᵀA/n of the mean squared error and the least-squares fit (w, b)."""
    x, y = regression_data("linreg", LESSONS[key].state.surface_params)
    A = np.column_stack([x, np.ones_like(x)])
    return 2 * A.T @ A / len(x), np.linalg.lstsq(A, y, rcond=None)[0]


def pixels(config: RunConfig, distance: float) -> float:
    """`distance` on screen: the contour has equal scales, its longer box side PLOT_PX long."""
    x0, x1, y0, y1 = plan(config).surface.box
    return PLOT_PX * distance / max(x1 - x0, y1 - y0)


def check_linreg_ravine() -> None:
    ((lr, fit),) = lesson_runs("linreg_ravine")
    H, best = regression("linreg_ravine")
    values, vectors = np.linalg.eigh(H)
    in_text("linreg_ravine", "50 points", "300 steps", "about 130", "η = 0.04 ≈ 1/λ_max", "0.082")
    assert 115 <= values[1] / values[0] <= 145  # condition number about 130
    assert round(1 / values[1], 2) == 0.04 and round(2 / values[1], 3) == 0.082
    assert lr == 0.04 and len(regression_data("linreg", {})[0]) == 50
    # Gradient descent on a quadratic: w_k − w* = (I − ηH)^k (w₀ − w*).
    steps = LESSONS["linreg_ravine"].state.steps
    error = fit.positions - best
    expected = np.linalg.matrix_power(np.eye(2) - lr * H, steps) @ (start("linreg_ravine") - best)
    np.testing.assert_allclose(error[-1], expected, rtol=1e-6)
    across = error @ vectors[:, 1]
    assert abs(across[5]) < 1e-3 * abs(across[0])  # into the ravine within a few steps
    assert np.linalg.norm(error[-1]) > 0.01  # then crawls, not there yet
    assert abs(error[-1] @ vectors[:, 0]) > 0.999 * np.linalg.norm(error[-1])  # along it


def check_linreg_standardised() -> None:
    (lr_one, one), (lr_slow, slow) = lesson_runs("linreg_standardised")
    H, best = regression("linreg_standardised")
    in_text("linreg_standardised", "exactly 2I", "η = 1/2", "η = 0.1", "20 %", "70 steps")
    np.testing.assert_allclose(H, 2 * np.eye(2), atol=1e-12)
    assert lr_one == 1 / 2  # ηH = I
    np.testing.assert_allclose(one.positions[1], best, atol=1e-12)
    assert one.status.step == 1
    assert 1 - 2 * lr_slow == pytest.approx(0.8)  # the error shrinks by 20 % per step
    k = np.arange(20)[:, None]
    expected = best + (1 - 2 * lr_slow) ** k * (start("linreg_standardised") - best)
    np.testing.assert_allclose(slow.positions[:20], expected, atol=1e-10)
    assert slow.status.step == 70


def check_l2() -> None:
    (_, plain), (_, ridge) = lesson_runs("l2")
    penalty = LESSONS["l2"].state.runs[1].modifiers["l2"]
    H, best = regression("l2")
    values, vectors = np.linalg.eigh(H)
    shifted = np.linalg.solve(H + penalty * np.eye(2), H @ best)  # (H + λ₂I)⁻¹Hw*
    in_text("l2", "(0.96, −1.73)", "λ₂ = 1", "(0.50, −0.17)", "1.6 away", "0.19", "6-fold")
    in_text("l2", "curvature 24", "4 %")
    assert penalty == 1
    np.testing.assert_allclose(plain.positions[-1], best, atol=1e-6)
    np.testing.assert_allclose(ridge.positions[-1], shifted, atol=1e-6)
    np.testing.assert_array_equal(np.round(best, 2), [0.96, -1.73])
    np.testing.assert_array_equal(np.round(shifted, 2), [0.50, -0.17])
    moved = best - shifted
    assert round(np.linalg.norm(moved), 1) == 1.6
    (plain_config, _) = configs(LESSONS["l2"].state)
    assert pixels(plain_config, np.linalg.norm(moved)) >= 60  # clearly apart on screen
    # Along each eigenvector the penalty keeps λ/(λ + λ₂) of w*.
    assert round(values[0], 2) == 0.19 and round(values[1]) == 24
    kept = (vectors.T @ shifted) / (vectors.T @ best)
    np.testing.assert_allclose(kept, values / (values + penalty), rtol=1e-9)
    assert round(1 / kept[0]) == 6 and round(1 - kept[1], 2) == 0.04
    assert abs(moved @ vectors[:, 0]) > 0.99 * np.linalg.norm(moved)  # along the ravine


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


def test_the_range_test_view_draws_the_dashed_critical_rate_the_lesson_names() -> None:
    """The range-test lesson sends students to the LR range test view "with the same dashed
    line": at the view's default settings its loss curve reaches past 2/λ_max = 0.2, where a
    dashed line is drawn."""
    (config,) = configs(LESSONS["range_test"].state)
    defaults = {spec.name: spec.default for spec in views.SETTINGS}
    test = analysis.range_test(
        config, defaults["range_low"], defaults["range_high"], int(defaults["range_steps"])
    )
    critical = analysis.threshold(config)
    assert critical is not None and critical.value == pytest.approx(0.2, rel=1e-9)
    assert test.lrs[0] < critical.value < test.lrs[test.stop - 1]
    figure = analysis_figures.range_curve_figure(test, critical)
    lines = [s for s in figure.layout.shapes if s.line.color == analysis_figures.THRESHOLD_COLOR]
    assert len(lines) == 2  # across both panels, loss and smoothed log-loss
    assert {(s.x0, s.x1, s.line.dash) for s in lines} == {(critical.value, critical.value, "dash")}
    label = analysis_figures.threshold_label(critical.formula, critical.exact)
    assert label.startswith("2/λ_max")
    named = [t.name for t in figure.data if (t.name or "").startswith(label)]
    assert named == [f"{label} = {critical.value:.4g}"]  # named once, in the legend
    without = analysis_figures.range_curve_figure(test)
    assert all(s.line.color != analysis_figures.THRESHOLD_COLOR for s in without.layout.shapes)


# 5. Markdown: lesson text is shown literally, and the gallery table keeps every question whole.


def table_cells(row: str) -> list[str]:
    """A GFM table row's cells, unescaped: a backslash makes the next character literal, an
    unescaped `|` ends a cell; the row starts and ends with `|`."""
    cells, cell, chars = [], "", iter(row.strip())
    for char in chars:
        if char == "\\":
            cell += next(chars)
        elif char == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    assert cell == "" and cells[0] == "", row
    return cells[1:]


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
    (table,) = [e.value for e in at.markdown if e.value.startswith("| Lesson |")]
    assert table == gallery_table()
    at.selectbox(key="lesson_pick").set_value(lesson.key).run()
    at.button(key="lesson_open").click().run()
    assert not at.exception, at.exception
    assert card_title(at) == [f"Lesson: {lesson.title}"]
    assert_runs_shown(at, lesson)
    assert at.number_input(key="run2_sched_patience").value == 3
