"""The lessons on the learning rate itself (app/lessons/basics.py), checked in numbers against the
engine: one check per lesson, every number and quantitative word of its text, with closed forms
or NumPy where there is one (tests/test_lessons.py runs them with the other lessons' checks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app import views
from app.lessons import LESSONS
from app.state import MAX_RUNS
from optimizers.curvature import critical_rate
from surfaces import SURFACES
from tests.lesson_tools import (
    gd_limit,
    in_text,
    lesson_hessian,
    lesson_runs,
    sign_changes,
    start,
    steep_direction,
)


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
