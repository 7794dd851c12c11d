"""The schedule lessons (app/lessons/schedules.py), checked in numbers against the engine (one
check per lesson; tests/test_lessons.py runs them with the other lessons' checks), and the range
test view's dashed critical rate that the range-test lesson names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app import views
from app.figures import analysis as analysis_figures
from app.lessons import LESSONS
from app.state import configs
from optimizers import analysis
from tests.lesson_tools import (
    block_means,
    gd_limit,
    in_text,
    lesson_hessian,
    lesson_runs,
    stays_converged,
    tail_mean,
)


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
