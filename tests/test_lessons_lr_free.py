"""The lessons on learning-rate-free and schedule-free rules, checked in numbers against the
engine: every number and quantitative word of "No learning rate to set?" and "Schedule-free: no
decay, same end" (tests/test_lessons.py runs these checks with the other lessons' and their status
stories)."""

from __future__ import annotations

import numpy as np

from app.lessons import LESSONS
from app.state import configs
from optimizers.engine import run
from surfaces import SURFACES
from tests.lesson_tools import in_text, trajectories


def check_lr_free() -> None:
    """GD at η = 0.1 < 2/κ converges in 133 steps, at 0.21 > 2/κ = 0.2 diverges at step 53;
    D-Adaptation's D grows from 10⁻⁶ to 2.5 and converges in 295 steps; Prodigy's D reaches 1.1
    with loss 3 × 10⁻¹² at step 300; DoG's rate grows from ~10⁻⁷ to 0.013, loss 0.002."""
    in_text(
        "lr_free",
        *("κ = 10", "2/κ = 0.2", "10⁻⁶", "η₀ = 1", "300 steps", "η = 0.1", "η = 0.21"),
        *("133 steps", "step 53", "to 2.5", "295 steps", "reaches 1.1", "3 × 10⁻¹²"),
        *("10⁻⁷", "only 0.013", "still 0.002", "None diverges"),
    )
    gd, bad, prodigy, dadapt, dog = configs(LESSONS["lr_free"].state)
    assert [c.optimizer for c in (gd, bad, prodigy, dadapt, dog)] == [
        *("gd", "gd", "prodigy", "dadapt", "dog")
    ]
    assert gd.surface_params["kappa"] == 10 and gd.steps == 300
    assert gd.lr == 0.1 < 2 / 10 < bad.lr == 0.21
    assert prodigy.lr == dadapt.lr == dog.lr == 1.0
    assert prodigy.hyper["d0"] == dadapt.hyper["d0"] == 1e-6
    t_gd, t_bad, t_prodigy, t_dadapt, t_dog = trajectories("lr_free")
    assert t_gd.status[:2] == ("converged", 133)
    assert t_bad.status[:2] == ("diverged", 53)
    d = t_dadapt.state["d"][:, 0]
    assert d[0] == 1e-6 and round(d.max(), 1) == 2.5
    assert t_dadapt.status[:2] == ("converged", 295)
    assert round(t_prodigy.state["d"][:, 0].max(), 1) == 1.1
    assert t_prodigy.status.outcome == "max_steps"
    assert round(t_prodigy.loss[-1] * 1e12) == 3
    rate = t_dog.state["step_scale"][:, 0]
    assert 1e-7 <= rate[0] < 1e-6 and round(rate.max(), 3) == 0.013
    assert round(t_dog.loss[-1], 3) == 0.002
    for t in (t_prodigy, t_dadapt, t_dog):
        assert t.status.outcome != "diverged"  # "None diverges"
        assert t.status.step > t_gd.status.step  # "they pay in steps"


def check_schedule_free() -> None:
    """σ = 1 on the bowl, 500 steps at η = γ = 0.1: constant GD's last 50 losses average ~0.08;
    cosine decay to 0 ends at 0.004; Schedule-Free's averaged x ends at f = 0.005, within 1.5
    times the cosine's loss and 14 times below constant GD's."""
    in_text(
        "schedule_free",
        *("σ = 1", "η = 0.1", "500 steps", "decays η to 0", "γ = 0.1", "about 0.08"),
        "last 50 steps",
        *("0.004 at the end", "f = 0.005", "within 1.5 times", "14 times below"),
    )
    constant, cosine, free = configs(LESSONS["schedule_free"].state)
    assert constant.steps == 500 and constant.surface == "bowl"
    assert all(c.modifiers["noise_std"] == 1 for c in (constant, cosine, free))
    assert constant.lr == cosine.lr == free.hyper["gamma"] == 0.1 and free.lr == 1
    assert cosine.schedule == "cosine" and cosine.schedule_params["decay_steps"] == 500
    assert cosine.schedule_params["min_factor"] == 0  # "decays η to 0"
    t_constant, t_cosine, t_free = trajectories("schedule_free")
    assert t_cosine.lr[-1] < 1e-5 * t_cosine.lr[0]
    floor = t_constant.loss[-50:].mean()
    assert round(floor, 2) == 0.08
    assert round(t_cosine.loss[-1], 3) == 0.004
    bowl = SURFACES["bowl"]
    average = float(bowl.fn(t_free.state["averaged_point"][-1], bowl.resolve({})))
    assert round(average, 3) == 0.005
    assert average <= 1.5 * t_cosine.loss[-1]
    assert round(floor / average) == 14


def test_the_averaged_point_is_better_than_the_gradient_point_here() -> None:
    """Why the lesson points at x: Schedule-Free's gradient point w ends higher than x."""
    free = run(configs(LESSONS["schedule_free"].state)[2])
    bowl = SURFACES["bowl"]
    average = float(bowl.fn(free.state["averaged_point"][-1], bowl.resolve({})))
    assert average < free.loss[-1]
    np.testing.assert_allclose(free.loss[-1], bowl.fn(free.positions[-1], bowl.resolve({})))
