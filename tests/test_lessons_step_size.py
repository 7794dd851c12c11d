"""The lessons on step sizes that set themselves, checked in numbers against the engine: every
number and quantitative word of "A line search cannot overshoot" and "Polyak knows the floor"
(tests/test_lessons.py runs these checks with the other lessons' and their status stories)."""

from __future__ import annotations

import numpy as np
import pytest

from app.lessons import LESSONS
from app.state import configs
from surfaces import SURFACES
from tests.lesson_tools import in_text, quadratic_hessian, trajectories


def check_line_search() -> None:
    """GD just past 2/λ_max = 0.02 diverges; Armijo from η₀ = 100 (5000 × 0.02) lowers the loss
    at every step, tried 14 sizes at its first (100 · 2⁻¹³ = 0.0122), converges in 654 steps with
    1.6 evaluations per step, and more than half of its accepted steps exceed 0.02."""
    in_text(
        "line_search",
        "λ_max = κ = 100", "2/λ_max = 0.02", "η₀ = 100", "5000 times", "halves", "η = 0.021",
        "14 sizes", "0.0122", "654 steps", "1.6 evaluations", "over half", "longer than 0.02",
    )  # fmt: skip
    gd, armijo = configs(LESSONS["line_search"].state)
    assert gd.optimizer == "gd" and armijo.optimizer == "armijo"
    assert armijo.hyper["shrink"] == 0.5  # "halves"
    kappa, angle = armijo.surface_params["kappa"], armijo.surface_params["angle"]
    limit = 2 / np.linalg.eigvalsh(quadratic_hessian(kappa, angle))[-1]
    assert kappa == 100 and round(limit, 2) == 0.02
    assert armijo.lr == 100 and round(armijo.lr / limit) == 5000
    assert gd.lr == 0.021 and gd.lr > limit
    t_gd, t_armijo = trajectories("line_search")
    assert t_gd.status.outcome == "diverged"
    n = t_armijo.status.step
    assert t_armijo.status.outcome == "converged" and n == 654
    falling = np.diff(t_armijo.loss[: n + 1])
    assert (falling < 0).all()  # "falls at every step"
    step = t_armijo.state["step_size"][:n, 0]
    evaluations = t_armijo.state["evaluations"][:n, 0]
    assert evaluations[0] == 14 and step[0] == 100 * 0.5**13 and round(step[0], 4) == 0.0122
    assert round(evaluations.mean(), 1) == 1.6
    assert (step > limit).mean() > 0.5


def check_polyak_floor() -> None:
    """With the true f* = 0 Polyak's step converges in 45 steps; a floor 0.5 too high stops on
    the level f = 0.5 from step 8 (0.92 from the minimum, step 0); one 0.5 too low keeps
    jumping back above 10 after step 100, once to 2364."""
    in_text(
        "polyak_floor",
        "(f − f*)/‖∇f‖²", "0 on this quadratic", "0.5 too high", "0.5 too low", "45 steps",
        "f = 0.5", "step 8", "0.92 from the minimum", "step is 0", "step 100",
        "f − f* + 0.5", "above 10", "again and again", "2364",
    )  # fmt: skip
    true, high, low = configs(LESSONS["polyak_floor"].state)
    assert {c.optimizer for c in (true, high, low)} == {"polyak"}
    assert [c.hyper["offset"] for c in (true, high, low)] == [0.0, 0.5, -0.5]
    assert SURFACES["quadratic"].minimum_value(true.surface_params) == 0.0
    t_true, t_high, t_low = trajectories("polyak_floor")
    g = t_true.grad[0]
    assert t_true.state["step_size"][0, 0] == pytest.approx(t_true.loss[0] / (g @ g), rel=1e-12)
    assert t_true.status.outcome == "converged" and t_true.status.step == 45
    level = np.abs(t_high.loss - 0.5) < 1e-12
    first = int(np.argmax(level))
    assert first == 8 and level[first:].all()
    assert round(t_high.status.distance, 2) == 0.92 and t_high.status.nearest.kind == "global"
    assert np.abs(t_high.update[first:]).max() < 1e-12  # its step is 0 on the level
    tail = t_low.loss[100:]
    assert t_low.status.outcome == "max_steps" and t_low.status.converged == -1
    above = np.flatnonzero(tail > 10)
    assert len(above) >= 10 and above[-1] > 0.75 * len(tail)  # again and again, to the end
    assert round(tail.max()) == 2364
    assert tail.min() < 1e-3  # it does pass close to the minimum between jumps


def test_line_search_lesson_claim() -> None:
    check_line_search()


def test_polyak_floor_lesson_claim() -> None:
    check_polyak_floor()
