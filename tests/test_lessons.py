"""The lesson gallery: every lesson is a clean link, the lessons cover every concept, and each
lesson's claim holds when its runs go through the engine (one check per lesson, computed with
closed forms or independent NumPy where there is one)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.lessons import CONCEPTS, LESSONS, Lesson
from app.state import MAX_RUNS, configs, from_query
from optimizers.curvature import critical_rate
from optimizers.engine import Trajectory, run
from surfaces import SURFACES, regression_data

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")


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


def tail_mean(trajectory: Trajectory, steps: int = 50) -> float:
    return float(trajectory.loss[-steps:].mean())


def start(key: str) -> np.ndarray:
    return np.array(LESSONS[key].state.start)


# 1. Links.


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
    assert 0 < len(lesson.question) <= 300 and 0 < len(lesson.look_for) <= 330


# 2. Coverage.


def test_there_are_enough_lessons_and_they_cover_every_concept() -> None:
    assert len(LESSONS) >= 16
    covered = {concept for lesson in LESSONS.values() for concept in lesson.concepts}
    assert covered == set(CONCEPTS)


# 3. One check per lesson: the lesson's claim, through the engine.


def check_one_step() -> None:
    (slow_lr, slow), (fast_lr, fast) = lesson_runs("one_step")
    w0 = start("one_step")
    assert fast_lr == 1.0 and fast.status == fast.status._replace(outcome="converged", step=1)
    np.testing.assert_array_equal(fast.positions[1], [0.0, 0.0])
    # On f = ½‖w‖², w_k = (1 − η)^k w₀; converged once ‖∇f‖ = ‖w_k‖ ≤ 1e-6.
    k = np.arange(len(slow.positions))[:, None]
    np.testing.assert_allclose(slow.positions, (1 - slow_lr) ** k * w0, rtol=1e-10, atol=1e-300)
    expected = math.ceil(math.log(1e-6 / np.linalg.norm(w0)) / math.log(1 - slow_lr))
    assert slow.status.outcome == "converged" and slow.status.step == expected == 143


def check_overshoot() -> None:
    (slow_lr, slow), (fast_lr, fast) = lesson_runs("overshoot")
    H = lesson_hessian("overshoot")
    lam = np.linalg.eigvalsh(H)[-1]
    assert slow_lr < 1 / lam < fast_lr < 2 / lam
    steep = np.linalg.eigh(H)[1][:, -1]  # across the valley floor
    across_fast = fast.positions[:20] @ steep
    across_slow = slow.positions[:20] @ steep
    assert np.all(np.sign(across_fast[1:]) == -np.sign(across_fast[:-1]))  # crosses every step
    assert np.all(np.sign(across_slow) == np.sign(across_slow[0]))  # never crosses
    assert fast.status.outcome == slow.status.outcome == "converged"
    assert fast.status.step < slow.status.step


def check_diverge() -> None:
    (below, stable), (above, unstable) = lesson_runs("diverge")
    limit = gd_limit(lesson_hessian("diverge"))
    state = LESSONS["diverge"].state
    rate = critical_rate(SURFACES["quadratic"], "gd", state.start, params=state.surface_params)
    assert rate is not None and rate.exact and rate.value == pytest.approx(limit, rel=1e-12)
    assert below < limit < above
    assert stable.status.outcome == "converged"
    assert unstable.status.outcome == "diverged"


def check_too_slow() -> None:
    (small, slow), (good_lr, good) = lesson_runs("too_slow")
    H = lesson_hessian("too_slow")
    steps = LESSONS["too_slow"].state.steps
    expected = np.linalg.matrix_power(np.eye(2) - small * H, steps) @ start("too_slow")
    assert slow.status.outcome == "max_steps"
    np.testing.assert_allclose(slow.positions[-1], expected, rtol=1e-9)
    assert slow.loss[-1] > 0.1
    low, high = np.linalg.eigvalsh(H)
    assert good_lr == pytest.approx(2 / (low + high), rel=0.02)  # the optimal constant rate
    assert good.status.outcome == "converged" and good.status.step < 80


def check_grid_search() -> None:
    runs = lesson_runs("grid_search")
    rates = np.array([lr for lr, _ in runs])
    assert len(runs) == MAX_RUNS
    assert {r.optimizer for r in LESSONS["grid_search"].state.runs} == {"gd"}
    assert np.all((rates[1:] / rates[:-1] > 2.5) & (rates[1:] / rates[:-1] < 3.5))  # log-spaced
    limit = gd_limit(lesson_hessian("grid_search"))
    outcomes = [t.status.outcome for _, t in runs]
    assert outcomes == ["max_steps"] * 4 + ["converged", "diverged"]
    assert all((lr > limit) == (t.status.outcome == "diverged") for lr, t in runs)
    finite = [(t.loss[-1], lr) for lr, t in runs if t.status.outcome != "diverged"]
    assert min(finite)[1] == max(lr for lr in rates if lr < limit)


def check_local_minimum() -> None:
    (_, gd), (_, momentum) = lesson_runs("local_minimum")
    # Stationary points of (x² − 1)² + x/2 + y² lie on y = 0 at the roots of 4x³ − 4x + ½;
    # the largest root is the shallow well.
    shallow = max(np.roots([4.0, 0.0, -4.0, 0.5]).real)
    assert gd.status.outcome == "converged" and gd.status.nearest.kind == "local"
    np.testing.assert_allclose(gd.positions[-1], [shallow, 0.0], atol=1e-6)
    assert momentum.status.outcome == "converged" and momentum.status.nearest.kind == "global"
    assert momentum.loss[-1] < gd.loss[-1] - 0.9


def check_momentum_valley() -> None:
    (lr_gd, gd), (lr_momentum, momentum) = lesson_runs("momentum_valley")
    assert lr_gd == lr_momentum < gd_limit(lesson_hessian("momentum_valley"))
    assert gd.status.outcome == momentum.status.outcome == "converged"
    assert momentum.status.step < 0.6 * gd.status.step


def check_momentum_limit() -> None:
    (lr, gd), (_, momentum) = lesson_runs("momentum_limit")
    beta = LESSONS["momentum_limit"].state.runs[1].hyper["beta"]
    lam = np.linalg.eigvalsh(lesson_hessian("momentum_limit"))[-1]
    assert 2 / lam < lr < 2 * (1 + beta) / lam
    assert gd.status.outcome == "diverged"
    assert momentum.status.outcome == "converged"
    assert momentum.loss.max() > 2 * momentum.loss[0]  # the overshoot the lesson points at


def check_adaptive() -> None:
    (lr_gd, gd), (lr_adam, adam) = lesson_runs("adaptive")
    assert lr_gd < gd_limit(lesson_hessian("adaptive")) < lr_adam
    # Adam's first step: m̂/√v̂ = g/|g| per coordinate, so each coordinate moves by η.
    np.testing.assert_allclose(adam.update[0], -lr_adam * np.sign(adam.grad[0]), rtol=1e-6)
    x_rate, y_rate = adam.effective_lr[0]
    assert x_rate > 10 * y_rate  # the flat x-axis gets the larger effective rate
    assert adam.status.outcome == "converged"
    assert gd.status.outcome == "max_steps"
    assert adam.loss[200] < gd.loss[200] / 1000


def check_step_decay() -> None:
    (_, constant), (lr, decayed) = lesson_runs("step_decay")
    params = LESSONS["step_decay"].state.runs[1].schedule_params
    k = np.arange(len(decayed.lr))
    expected = lr * params["gamma"] ** np.floor(k / params["step_size"])
    np.testing.assert_allclose(decayed.lr, expected, rtol=1e-12)
    drops = np.flatnonzero(np.diff(decayed.lr)) + 1
    np.testing.assert_array_equal(drops, np.arange(50, len(k), 50))
    assert tail_mean(decayed) < tail_mean(constant) / 10


def check_exponential_decay() -> None:
    (_, constant), (lr, gentle), (_, fast) = lesson_runs("exponential_decay")
    runs = LESSONS["exponential_decay"].state.runs
    for run_state, trajectory in ((runs[1], gentle), (runs[2], fast)):
        p = run_state.schedule_params
        k = np.arange(len(trajectory.lr))
        np.testing.assert_allclose(
            trajectory.lr, lr * p["gamma"] ** (k / p["decay_steps"]), rtol=1e-12
        )
    assert tail_mean(gentle) < tail_mean(constant) / 10
    # Too fast: the rates sum to a finite total, so the path freezes far from the minimum.
    np.testing.assert_allclose(fast.positions[-1], fast.positions[100], atol=1e-12)
    assert fast.loss[-1] > 0.5 * fast.loss[0] and fast.loss[-1] > 100 * tail_mean(constant)


def check_polynomial_decay() -> None:
    (_, constant), (lr, decayed) = lesson_runs("polynomial_decay")
    horizon = int(LESSONS["polynomial_decay"].state.runs[1].schedule_params["decay_steps"])
    k = np.arange(len(decayed.lr))
    np.testing.assert_allclose(decayed.lr, lr * (1 - np.minimum(k, horizon) / horizon), atol=1e-15)
    frozen = decayed.positions[horizon:]
    np.testing.assert_array_equal(frozen, np.broadcast_to(frozen[0], frozen.shape))  # η = 0
    assert decayed.loss[-1] < tail_mean(constant) / 3


def check_warmup() -> None:
    (lr, cold), (_, warm) = lesson_runs("warmup")
    rho = LESSONS["warmup"].state.runs[0].hyper["rho"]
    width = int(LESSONS["warmup"].state.runs[1].warmup["warmup_steps"])
    # v₁ = (1 − ρ)g², so the first RMSprop step is η/√(1 − ρ) per coordinate.
    np.testing.assert_allclose(np.abs(cold.update[0]), lr / math.sqrt(1 - rho), rtol=1e-6)
    assert cold.loss[:10].max() > 10 * cold.loss[0]  # the early blow-up
    np.testing.assert_allclose(warm.lr[:width], lr * np.arange(width) / width, rtol=1e-12)
    assert warm.loss[:width].max() <= warm.loss[0]  # no blow-up with warmup
    assert cold.status.outcome == warm.status.outcome == "converged"
    assert warm.status.step < cold.status.step


def check_cyclical() -> None:
    (_, constant), (_, cyclic) = lesson_runs("cyclical")
    period = 2 * int(LESSONS["cyclical"].state.runs[1].schedule_params["step_size"])
    np.testing.assert_allclose(cyclic.lr[period:], cyclic.lr[:-period], rtol=1e-12)
    steps = np.diff(cyclic.lr[:period])
    assert (steps > 0).any() and (steps < 0).any()  # non-monotone within a period
    assert cyclic.lr.max() > gd_limit(lesson_hessian("cyclical"))
    assert cyclic.status.outcome == "converged" and cyclic.status.step < 100
    assert constant.status.outcome == "max_steps"


def check_reduce_on_plateau() -> None:
    (lr, constant), (_, reduced) = lesson_runs("reduce_on_plateau")
    params = LESSONS["reduce_on_plateau"].state.runs[1].schedule_params
    patience = int(params["patience"])
    limit = gd_limit(lesson_hessian("reduce_on_plateau"))
    assert lr > limit
    assert constant.status.outcome == "diverged"
    assert np.all(reduced.loss[1 : patience + 2] > reduced.loss[0])  # no improvement
    drops = np.flatnonzero(np.diff(reduced.lr) < 0) + 1
    np.testing.assert_array_equal(drops, [patience + 1])  # cut once patience is exceeded
    assert reduced.lr[-1] == pytest.approx(params["factor"] * lr) and reduced.lr[-1] < limit
    assert reduced.status.outcome == "converged"


def check_range_test() -> None:
    ((lr, test),) = lesson_runs("range_test")
    state = LESSONS["range_test"].state
    limit = gd_limit(lesson_hessian("range_test"))
    top = lr * state.runs[0].schedule_params["max_factor"]
    k = np.arange(len(test.lr))
    np.testing.assert_allclose(test.lr, lr + (top - lr) * k / state.steps, rtol=1e-12)
    falls = np.diff(test.loss) < 0
    assert falls[test.lr <= limit].all()  # the loss falls at every stable rate
    first_rise = np.flatnonzero(~falls)[0]
    assert test.lr[first_rise] > limit
    assert test.status.outcome == "diverged"


def check_cliff() -> None:
    (lr, free), (_, clipped) = lesson_runs("cliff")
    clip = LESSONS["cliff"].state.runs[1].modifiers["clip_norm"]
    assert free.status.outcome == "diverged"
    assert np.linalg.norm(free.grad, axis=1).max() > 100  # the exploding gradient
    assert np.linalg.norm(clipped.update, axis=1).max() <= lr * clip * (1 + 1e-12)
    assert clipped.status.outcome == "converged"
    np.testing.assert_allclose(clipped.positions[-1], [-2.0, 0.0], atol=1e-6)


def check_vanishing() -> None:
    (_, gd), (_, adam) = lesson_runs("vanishing")
    r = np.linalg.norm(start("vanishing"))
    assert gd.grad_norm[0] == pytest.approx(
        r * math.exp(-(r**2) / 2), rel=1e-10
    )  # |∇f| = re^{−r²/2}
    assert gd.grad_norm[0] < 1e-3
    assert gd.status.outcome == "max_steps" and gd.loss[-1] > 0.99
    assert adam.status.outcome == "converged" and adam.status.nearest.kind == "global"


def check_l2() -> None:
    (_, plain), (_, ridge) = lesson_runs("l2")
    penalty = LESSONS["l2"].state.runs[1].modifiers["l2"]
    # Booth: f = ‖Aw − c‖² with A = [[1, 2], [2, 1]], c = (7, 5); H = 2AᵀA, w* = A⁻¹c.
    A, c = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([7.0, 5.0])
    H, w_star = 2 * A.T @ A, np.linalg.solve(A, c)
    shifted = np.linalg.solve(H + penalty * np.eye(2), H @ w_star)
    assert plain.status.outcome == ridge.status.outcome == "converged"
    np.testing.assert_allclose(plain.positions[-1], w_star, atol=1e-6)
    np.testing.assert_allclose(ridge.positions[-1], shifted, atol=1e-6)
    np.testing.assert_allclose(shifted, [1.3, 2.3], atol=1e-12)


def regression(key: str) -> tuple[np.ndarray, np.ndarray]:
    """The Hessian 2AᵀA/n of the mean squared error and the least-squares fit (w, b)."""
    x, y = regression_data("linreg", LESSONS[key].state.surface_params)
    A = np.column_stack([x, np.ones_like(x)])
    return 2 * A.T @ A / len(x), np.linalg.lstsq(A, y, rcond=None)[0]


def check_linreg_ravine() -> None:
    ((lr, fit),) = lesson_runs("linreg_ravine")
    H, best = regression("linreg_ravine")
    values, vectors = np.linalg.eigh(H)
    assert values[1] / values[0] > 100 and lr < 2 / values[1]
    assert fit.status.outcome == "max_steps"
    # Gradient descent on a quadratic: w_k − w* = (I − ηH)^k (w₀ − w*).
    steps = LESSONS["linreg_ravine"].state.steps
    error = fit.positions[-1] - best
    expected = np.linalg.matrix_power(np.eye(2) - lr * H, steps) @ (start("linreg_ravine") - best)
    np.testing.assert_allclose(error, expected, rtol=1e-6)
    assert np.linalg.norm(error) > 0.01  # not there yet
    assert abs(error @ vectors[:, 0]) > 0.999 * np.linalg.norm(error)  # along the ravine


def check_linreg_standardised() -> None:
    (lr_one, one), (lr_slow, slow) = lesson_runs("linreg_standardised")
    H, best = regression("linreg_standardised")
    np.testing.assert_allclose(H, 2 * np.eye(2), atol=1e-12)
    assert lr_one == 1 / 2  # ηH = I
    np.testing.assert_allclose(one.positions[1], best, atol=1e-12)
    assert one.status.outcome == "converged" and one.status.step == 1
    k = np.arange(20)[:, None]
    expected = best + (1 - 2 * lr_slow) ** k * (start("linreg_standardised") - best)
    np.testing.assert_allclose(slow.positions[:20], expected, atol=1e-10)
    assert slow.status.outcome == "converged"


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
    "l2": check_l2,
    "linreg_ravine": check_linreg_ravine,
    "linreg_standardised": check_linreg_standardised,
}


def test_every_lesson_has_a_check() -> None:
    assert list(CHECKS) == list(LESSONS)


@pytest.mark.parametrize("key", list(LESSONS))
def test_lesson_claim(key: str) -> None:
    CHECKS[key]()


# 4. The page (needs the lessons wired into app/streamlit_app.py).


def open_page(lesson: Lesson | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if lesson is not None:
        at.query_params.update(dict(parse_qsl(lesson.link)))
    at.run()
    assert not at.exception, at.exception
    return at


def card_title(at: AppTest) -> list[str]:
    """The subheaders that title an open lesson card."""
    return [e.value for e in at.get("subheader") if e.value.startswith("Lesson: ")]


def assert_runs_shown(at: AppTest, lesson: Lesson) -> None:
    for i, run_state in enumerate(lesson.state.runs, start=1):
        assert at.selectbox(key=f"run{i}_optimizer").value == run_state.optimizer
        assert at.number_input(key=f"run{i}_lr").value == run_state.lr
        assert at.selectbox(key=f"run{i}_schedule").value == run_state.schedule
        for name, value in {**run_state.warmup, **run_state.modifiers}.items():
            assert at.session_state[f"run{i}_{name}"] == value


@pytest.mark.parametrize("key", ["cliff", "warmup"])
def test_a_lesson_link_opens_the_lesson(key: str) -> None:
    lesson = LESSONS[key]
    at = open_page(lesson)
    assert card_title(at) == [f"Lesson: {lesson.title}"]
    assert f"**Predict, then run.** {lesson.question}" in [e.value for e in at.markdown]
    assert any(lesson.look_for in [m.value for m in x.markdown] for x in at.expander)
    assert at.selectbox(key="surface").value == lesson.state.surface
    assert_runs_shown(at, lesson)
    at.button(key="lesson_close").click().run()
    assert not at.exception, at.exception
    assert card_title(at) == []


def test_the_gallery_opens_a_lesson() -> None:
    lesson = LESSONS["reduce_on_plateau"]
    at = open_page()
    assert card_title(at) == []
    (table,) = [e.value for e in at.markdown if e.value.startswith("| Lesson |")]
    assert all(f"[{one.title}](?{one.link})" in table for one in LESSONS.values())
    at.selectbox(key="lesson_pick").set_value(lesson.key).run()
    at.button(key="lesson_open").click().run()
    assert not at.exception, at.exception
    assert card_title(at) == [f"Lesson: {lesson.title}"]
    assert_runs_shown(at, lesson)
    assert at.number_input(key="run2_sched_patience").value == 3
