"""The trajectory engine against plain-Python loops, closed forms and its own contracts."""

from __future__ import annotations

import math
import os

import jax
import numpy as np
import pytest

from common.runtime import SMALL_LOOP_BYTES, configure_jax
from optimizers.curvature import critical_rate, hessian_eigenvalues, rule_threshold
from optimizers.engine import (
    MAX_STEPS,
    RunConfig,
    Tolerances,
    bucket,
    run,
    run_batch,
    summarize,
)
from optimizers.report import describe
from optimizers.rules import OPTIMIZERS
from surfaces import SURFACES

ROSENBROCK_START = (-1.2, 1.0)


def rosenbrock_grad(x: float, y: float) -> tuple[float, float]:
    """∇[(1 − x)² + 100 (y − x²)²], by hand."""
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def plain_loop(rule: str, lr: float, steps: int) -> list[tuple[float, float]]:
    """GD, momentum and Adam as plain Python over scalars, the textbook way optax computes them."""
    x, y = ROSENBROCK_START
    vx = vy = mx = my = sx = sy = 0.0
    b1, b2, eps, beta = 0.9, 0.999, 1e-8, 0.9
    path = [(x, y)]
    for t in range(1, steps + 1):
        gx, gy = rosenbrock_grad(x, y)
        if rule == "gd":
            dx, dy = gx, gy
        elif rule == "momentum":
            vx, vy = beta * vx + gx, beta * vy + gy
            dx, dy = vx, vy
        else:
            mx, my = b1 * mx + (1 - b1) * gx, b1 * my + (1 - b1) * gy
            sx, sy = b2 * sx + (1 - b2) * gx * gx, b2 * sy + (1 - b2) * gy * gy
            correct1, correct2 = 1 - b1**t, 1 - b2**t
            dx = (mx / correct1) / (math.sqrt(sx / correct2) + eps)
            dy = (my / correct1) / (math.sqrt(sy / correct2) + eps)
        x, y = x - lr * dx, y - lr * dy
        path.append((x, y))
    return path


@pytest.mark.parametrize(("rule", "lr"), [("gd", 1e-3), ("momentum", 1e-4), ("adam", 1e-2)])
def test_matches_plain_python_loop_over_200_steps(rule: str, lr: float) -> None:
    trajectory = run(RunConfig("rosenbrock", rule, lr=lr, steps=200, start=ROSENBROCK_START))
    np.testing.assert_allclose(trajectory.positions, plain_loop(rule, lr, 200), rtol=0, atol=1e-10)
    assert trajectory.status.outcome == "max_steps"


def quadratic_config(factor: float, optimizer: str = "gd", **hyper: float) -> RunConfig:
    params = {"kappa": 10.0, "angle": 30.0}
    config = RunConfig("quadratic", optimizer, steps=3000, start=(2.0, 1.5), surface_params=params)
    surface = SURFACES["quadratic"]
    lambda_max = hessian_eigenvalues(surface, (0.0, 0.0), params)[-1]
    threshold = rule_threshold(optimizer, lambda_max, hyper.get("beta", 0.9))
    assert threshold is not None
    return RunConfig(**{**config.__dict__, "lr": factor * threshold, "hyper": hyper})


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
def test_quadratic_stability_threshold_is_sharp(optimizer: str) -> None:
    hyper = {} if optimizer == "gd" else {"beta": 0.5}
    below = quadratic_config(0.99, optimizer, **hyper)
    above = quadratic_config(1.01, optimizer, **hyper)
    converged, diverged = run(below), run(above)
    assert converged.status.outcome == "converged"
    assert converged.status.nearest is not None and converged.status.nearest.kind == "global"
    assert diverged.status.outcome == "diverged"
    assert describe(converged, below).startswith("Converged to the global minimum")
    sentence = describe(diverged, above)
    assert sentence.startswith("Diverged: it left the view at step ")
    assert (
        f"passed the divergence bound (424.3 from the box centre) at step {diverged.status.step}"
        in sentence
    )
    assert "is above" in sentence and "λ_max" in sentence


def test_gd_threshold_on_the_quadratic_is_two_over_kappa() -> None:
    for kappa in (1.0, 10.0, 250.0):
        rate = critical_rate(SURFACES["quadratic"], "gd", (0.3, -0.2), {}, {"kappa": kappa})
        assert rate is not None and rate.exact
        assert rate.value == pytest.approx(2 / kappa, rel=1e-12)


def test_numeric_changes_compile_nothing(compiles) -> None:
    base = RunConfig("quadratic", "momentum", lr=0.01, steps=300, schedule="step", start=(1.0, 1.0))
    run(base)  # warm-up: the one compile this kernel needs
    compiles.count = 0
    variants = [
        {"lr": 0.02},
        {"hyper": {"beta": 0.5}},
        {"start": (-2.0, 0.5)},
        {"surface_params": {"kappa": 300.0, "angle": 45.0}},
        {"schedule_params": {"gamma": 0.3, "step_size": 7.0}},
        {"warmup": {"warmup_steps": 20.0}},
        {"modifiers": {"clip_norm": 1.0, "l2": 0.1}},
        {"steps": 400},  # same bucket as 300
    ]
    finals = {tuple(run(RunConfig(**{**base.__dict__, **v})).positions[-1]) for v in variants}
    assert compiles.count == 0
    assert len(finals) == len(variants)  # every change did change the run


def test_steps_are_bucketed() -> None:
    assert bucket(1) == bucket(63) == 64
    assert bucket(300) == bucket(511) == 512
    assert bucket(1000) == 1024
    assert bucket(MAX_STEPS) >= MAX_STEPS + 1


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_huge_learning_rate_never_crashes_or_leaks_nan(optimizer: str) -> None:
    configs = [RunConfig(key, optimizer, lr=1e3, steps=50) for key in SURFACES]
    for config, trajectory in zip(configs, run_batch(configs), strict=True):
        arrays = [trajectory.positions, trajectory.loss, trajectory.grad, trajectory.lr]
        arrays += [trajectory.update, trajectory.effective_lr, *trajectory.state.values()]
        assert all(np.isfinite(a).all() for a in arrays), config.surface
        x0, x1, y0, y1 = SURFACES[config.surface].box
        reach = 100 * math.hypot(x1 - x0, y1 - y0)
        bounded = np.abs(trajectory.positions).max() <= reach
        assert trajectory.status.outcome == "diverged" or bounded, config.surface


def test_record_is_consistent() -> None:
    config = RunConfig("rosenbrock", "adam", lr=0.02, steps=123, schedule="cosine")
    t = run(config)
    n = len(t.lr)
    assert n == 123 and t.positions.shape == (124, 2) and t.loss.shape == (124,)
    np.testing.assert_allclose(t.positions[1:], t.positions[:-1] + t.update, atol=1e-14)
    np.testing.assert_allclose(t.grad_norm, np.linalg.norm(t.grad, axis=1))
    k = np.arange(n)
    expected_lr = 0.02 * np.where(k < 200, 0.5 * (1 + np.cos(np.pi * k / 200)), 0.0)
    np.testing.assert_allclose(t.lr, expected_lr, rtol=1e-12)
    np.testing.assert_allclose(t.effective_lr * t.grad[:-1], -t.update, atol=1e-12)
    surface = SURFACES["rosenbrock"]
    params = {"b": 100.0}
    loss = [float(surface.fn(p, params)) for p in t.positions[:5]]
    np.testing.assert_allclose(t.loss[:5], loss, rtol=1e-14)
    assert set(t.state) == {"m_hat", "v_hat"}


def test_batch_equals_single_runs() -> None:
    configs = [
        RunConfig("himmelblau", "gd", lr=0.01, steps=80, start=(0.5, 0.5)),
        RunConfig("himmelblau", "adam", lr=0.1, steps=80),
        RunConfig("himmelblau", "gd", lr=0.02, steps=80),
        RunConfig("rosenbrock", "momentum", lr=1e-3, steps=30),
    ]
    for single, batched in zip(map(run, configs), run_batch(configs), strict=True):
        np.testing.assert_allclose(single.positions, batched.positions, rtol=1e-12, atol=1e-14)
        assert single.status[:3] == batched.status[:3]
        assert single.status.distance == pytest.approx(batched.status.distance, rel=1e-12)


def test_divergence_truncates_before_non_finite_values() -> None:
    t = run(RunConfig("rosenbrock", "gd", lr=0.05, steps=200))
    assert t.status.outcome == "diverged"
    assert len(t.positions) <= t.status.step + 1
    assert len(t.lr) == len(t.positions) - 1
    assert np.isfinite(t.positions).all() and np.isfinite(t.loss).all()


def gd_quadratic_events(
    lr: float, steps: int, start: tuple[float, float], kappa: float = 10.0, angle: float = 30.0
) -> tuple[int, int]:
    """(converged, diverged): the first steps k ≤ steps where GD on ½(u² + κv²), u = x cos θ +
    y sin θ, v = y cos θ − x sin θ, settles (‖∇f(w_k)‖ and ‖η∇f(w_k)‖ ≤ 1e-6) and where w_k
    leaves the divergence radius of the box [−3, 3]² (100 half-diagonals); −1 for none.
    A plain-Python loop with the gradient by hand."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    radius = 100 * math.hypot(6.0, 6.0) / 2
    x, y = start
    converged = -1
    for k in range(steps + 1):
        if not (math.isfinite(x) and math.isfinite(y)) or math.hypot(x, y) > radius:
            return converged, k
        u, v = c * x + s * y, c * y - s * x
        gx, gy = c * u - s * kappa * v, s * u + c * kappa * v
        norm = math.hypot(gx, gy)
        if converged < 0 and norm <= 1e-6 and lr * norm <= 1e-6:
            converged = k
        x, y = x - lr * gx, y - lr * gy
    return converged, -1


def test_summarize_agrees_with_full_runs() -> None:
    lrs = np.array([1e-4, 1e-3, 0.12, 0.3])
    base = RunConfig("quadratic", "gd", steps=400, start=(2.0, 1.5))
    summary = summarize(base, {"lr": lrs})
    for i, lr in enumerate(lrs):
        t = run(RunConfig(**{**base.__dict__, "lr": float(lr)}))
        converged, diverged = gd_quadratic_events(float(lr), 400, (2.0, 1.5))
        # The closed form: GD diverges iff |1 − ηλ| > 1 for an eigenvalue λ ∈ {1, κ = 10}.
        assert (diverged >= 0) == (abs(1 - lr * 10.0) > 1 or abs(1 - lr) > 1)
        assert (summary.converged_step[i], summary.diverged_step[i]) == (converged, diverged)
        expected = ("diverged", diverged) if diverged >= 0 else ("converged", converged)
        if max(converged, diverged) < 0:
            expected = ("max_steps", 400)
        assert (t.status.outcome, t.status.step) == expected
        if t.status.outcome == "diverged":
            assert summary.diverged_step[i] == t.status.step
        else:
            assert summary.diverged_step[i] == -1
            assert summary.final_loss[i] == pytest.approx(t.loss[-1], rel=1e-12, abs=1e-300)
            assert summary.best_loss[i] == pytest.approx(t.loss.min(), rel=1e-12, abs=1e-300)
        if t.status.outcome == "converged":
            assert summary.converged_step[i] == t.status.step


def test_summarize_varies_starts_and_hyperparameters() -> None:
    base = RunConfig("quadratic", "momentum", lr=0.05, steps=300)
    starts = np.array([[1.0, 1.0], [-2.0, 0.5]])
    by_start = summarize(base, {"start": starts})
    for i, start in enumerate(starts):
        t = run(RunConfig(**{**base.__dict__, "start": tuple(start)}))
        np.testing.assert_allclose(by_start.final_position[i], t.positions[-1], atol=1e-12)
    betas = summarize(base, {"hyper.beta": np.array([0.0, 0.9])})
    assert betas.final_loss[0] != betas.final_loss[1]
    with pytest.raises(ValueError, match=r"hyper\.beta"):
        summarize(base, {"hyper.beta": np.array([0.5, 1.5])})
    with pytest.raises(ValueError, match="cannot vary"):
        summarize(base, {"hyper.nope": np.array([0.5])})


def test_l2_and_weight_decay_move_the_bowls_minimum() -> None:
    """On ½‖w‖² + (λ/2)‖w‖² the minimum stays at 0; on Booth it moves to (A + λI)⁻¹b."""
    lam = 0.5
    # Booth: (x + 2y − 7)² + (2x + y − 5)² = wᵀAw − 2bᵀw + c with A = [[5, 4], [4, 5]].
    a, b = np.array([[10.0, 8.0], [8.0, 10.0]]), np.array([34.0, 38.0])
    expected = np.linalg.solve(a + lam * np.eye(2), b)
    for modifier in ("l2", "weight_decay"):
        config = RunConfig("booth", "gd", lr=0.05, steps=2000, modifiers={modifier: lam})
        t = run(config)
        assert t.status.outcome == "converged", modifier
        np.testing.assert_allclose(t.positions[-1], expected, atol=1e-6)
        assert describe(t, config).startswith("Converged to the regularised")


def test_clipping_bounds_every_step() -> None:
    plain = run(RunConfig("cliff", "gd", lr=0.5, steps=100))
    clipped = run(RunConfig("cliff", "gd", lr=0.5, steps=100, modifiers={"clip_norm": 1.0}))
    assert np.linalg.norm(clipped.update, axis=1).max() <= 0.5 + 1e-12
    assert np.linalg.norm(plain.update, axis=1).max() > 0.5
    by_value = run(RunConfig("cliff", "gd", lr=0.5, steps=100, modifiers={"clip_value": 0.1}))
    assert np.abs(by_value.update).max() <= 0.05 + 1e-12


def test_gradient_noise_is_seeded() -> None:
    def noisy(seed: float):
        return run(
            RunConfig(
                "bowl", "gd", lr=0.1, steps=60, modifiers={"noise_std": 0.5, "noise_seed": seed}
            )
        )

    first, again, other = noisy(1), noisy(1), noisy(2)
    np.testing.assert_array_equal(first.positions, again.positions)
    assert not np.allclose(first.positions, other.positions)
    # On ½‖w‖² the noise-free step is w ← (1 − η)w: the residue is exactly −η·noise.
    residue = first.positions[1:] - 0.9 * first.positions[:-1]
    noise = -residue / 0.1
    assert noise.std() == pytest.approx(0.5, rel=0.25)


def test_plateau_schedule_cuts_the_rate_when_the_loss_stalls() -> None:
    params = {"patience": 5.0, "factor": 0.5, "threshold": 1e-4}
    t = run(
        RunConfig("bowl", "signsgd", lr=0.3, steps=200, schedule="plateau", schedule_params=params)
    )
    assert t.lr[0] == 0.3
    assert t.lr[-1] < 0.3 / 8  # sign-SGD oscillates at a fixed amplitude until the rate drops
    assert np.all(np.diff(t.lr) <= 0)


def test_newton_solves_a_quadratic_in_one_step() -> None:
    t = run(RunConfig("booth", "newton", lr=1.0, steps=3))
    np.testing.assert_allclose(t.positions[1], (1.0, 3.0), atol=1e-12)
    assert t.status.outcome == "converged" and t.status.step == 1


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (RunConfig("styblinski_tang", "gd", lr=0.01, steps=400, start=(4.0, 4.5)), "local minimum"),
        (RunConfig("plateau", "gd", lr=0.01, steps=300), "plateau"),
        (RunConfig("saddle", "gd", lr=0.01, steps=300, start=(1.0, 0.0)), "saddle"),
        (RunConfig("rosenbrock", "gd", lr=1e-4, steps=100), "Still descending"),
    ],
)
def test_status_in_words(config: RunConfig, words: str) -> None:
    assert words in describe(run(config), config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"surface": "nope"}, "unknown surface 'nope'"),
        ({"optimizer": "nope"}, "unknown optimizer 'nope'"),
        ({"schedule": "nope"}, "unknown schedule 'nope'"),
        ({"lr": -0.1}, "learning rate"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": math.nan}, "learning rate"),
        ({"lr": math.inf}, "learning rate"),
        ({"steps": 0}, r"steps .*\[1, 20000\]"),
        ({"steps": -5}, r"steps .*\[1, 20000\]"),
        ({"steps": MAX_STEPS + 1}, r"steps .*\[1, 20000\]"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"start": (1.0,)}, "start must be a point"),
        ({"start": (1.0, 2.0, 3.0)}, "start must be a point"),
        ({"start": (1.0, math.nan)}, "start y"),
        ({"hyper": {"beta": 2.0}}, r"'beta' = 2.0 is outside the allowed range \[0, 0.999\]"),
        ({"hyper": {"gamma": 0.5}}, "has no parameter 'gamma'"),
        ({"schedule_params": {"gamma": -1.0}}, "gamma"),
        ({"modifiers": {"clip_norm": -1.0}}, "clip_norm"),
        ({"surface_params": {"kappa": 0.0}}, "kappa"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_field(change: dict, message: str) -> None:
    config = RunConfig(**{**RunConfig("quadratic", "momentum").__dict__, **change})
    with pytest.raises(ValueError, match=message):
        run(config)


def test_tolerances_are_explicit() -> None:
    loose = run(RunConfig("bowl", "gd", lr=0.1, steps=500, tol=Tolerances(grad=1e-2, step=1e-2)))
    tight = run(RunConfig("bowl", "gd", lr=0.1, steps=500, tol=Tolerances(grad=1e-9, step=1e-9)))
    assert loose.status.step < tight.status.step
    assert np.linalg.norm(loose.grad[loose.status.step]) <= 1e-2


def test_the_engine_refuses_to_run_in_float32() -> None:
    config = RunConfig("bowl", "gd", lr=0.5, steps=20)
    jax.config.update("jax_enable_x64", False)
    try:
        for call in (lambda: run(config), lambda: run_batch([config])):
            with pytest.raises(ValueError, match="configure_jax"):
                call()
        with pytest.raises(ValueError, match="configure_jax"):
            summarize(config, {"lr": np.array([0.1, 0.2])})
    finally:
        configure_jax()
    assert run(config).status.outcome == "max_steps"


def test_configure_jax_keeps_the_users_own_xla_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    own = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=5"
    monkeypatch.setenv("XLA_FLAGS", own)
    configure_jax()
    assert os.environ["XLA_FLAGS"] == own
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    configure_jax()
    configure_jax()  # idempotent: the option is added once
    flags = os.environ["XLA_FLAGS"]
    assert flags.startswith("--xla_dump_to=/tmp/x ")
    assert flags.count(f"xla_cpu_small_while_loop_byte_threshold={SMALL_LOOP_BYTES}") == 1
