"""Sharpness (issue 14): λ_max of ∇²L along a path against independent references (the
quadratic's κ + λ₂, Rosenbrock's Hessian in closed form through numpy's eigvalsh), its limit
c/η_k, the crossing that a diverged run's status sentence and the metrics figure's ✕ name
(checked against a plain loop over every step), no compilation for a new number, and the
edge-of-stability lesson's claim in numbers through the engine."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app import compute, figures
from app.figures import RunView, SpecFigure, array_of, metrics_figure
from app.lessons import LESSONS
from app.state import configs
from optimizers.engine import RunConfig, Trajectory, run
from optimizers.report import describe
from optimizers.sharpness import (
    SHARPNESS_POINTS,
    Sharpness,
    largest_eigenvalues,
    path_sharpness,
)
from surfaces import SURFACES


def rosenbrock_lambda_max(points: np.ndarray, b: float = 100.0) -> np.ndarray:
    """λ_max of ∇²[(1 − x)² + b(y − x²)²] = [[2 − 4b(y − x²) + 8bx², −4bx], [−4bx, 2b]]."""
    x, y = np.asarray(points, dtype=np.float64).T
    hessians = np.empty((len(x), 2, 2))
    hessians[:, 0, 0] = 2 - 4 * b * (y - x**2) + 8 * b * x**2
    hessians[:, 0, 1] = hessians[:, 1, 0] = -4 * b * x
    hessians[:, 1, 1] = 2 * b
    return np.linalg.eigvalsh(hessians)[:, -1]


def last_stretch_above(above: np.ndarray) -> int:
    """A plain loop: the first step of the stretch of True that runs to the end (−1: none)."""
    first = -1
    for k, is_above in enumerate(above):
        if not is_above:
            first = -1
        elif first < 0:
            first = k
    return first


def traced(config: RunConfig) -> tuple[Trajectory, Sharpness]:
    """The engine's run and its sharpness."""
    trajectory = run(config)
    return trajectory, path_sharpness(trajectory, config)


# 1. λ_max against closed forms.


def test_largest_eigenvalue_of_two_by_two_matrices_is_numpys() -> None:
    rng = np.random.default_rng(14)
    scale = 10.0 ** rng.uniform(-3, 6, size=(2000, 1, 1))
    a = rng.normal(size=(2000, 2, 2)) * scale
    hessians = a + np.swapaxes(a, 1, 2)
    hessians[:5, 0, 1] = hessians[:5, 1, 0] = 0.0  # diagonal ones: the larger diagonal entry
    expected = np.linalg.eigvalsh(hessians)[:, -1]
    error = np.abs(largest_eigenvalues(hessians) - expected) / scale.ravel()
    assert error.max() < 1e-12


def test_quadratic_sharpness_is_kappa_plus_l2_at_every_step() -> None:
    """½(u² + κv²) rotated has eigenvalues 1 and κ at every w; L2 adds λ₂ to both."""
    config = RunConfig(
        "quadratic",
        "gd",
        lr=0.05,
        steps=200,
        surface_params={"kappa": 30.0, "angle": 20.0},
        modifiers={"l2": 0.5},
    )
    t, sharp = traced(config)
    np.testing.assert_array_equal(sharp.steps, np.arange(len(t.positions)))
    np.testing.assert_allclose(sharp.lambda_max, 30.5, rtol=1e-12)
    np.testing.assert_allclose(sharp.limit, 2 / 0.05, rtol=1e-15)
    assert len(sharp.limit) == len(t.lr) and sharp.formula == "2/η_k" and sharp.crossing == -1


def test_rosenbrock_sharpness_is_numpys_at_every_step_for_a_surface_parameter() -> None:
    config = RunConfig("rosenbrock", "gd", lr=0.002, steps=500, surface_params={"b": 50.0})
    t, sharp = traced(config)
    np.testing.assert_array_equal(sharp.steps, np.arange(501))
    np.testing.assert_allclose(
        sharp.lambda_max, rosenbrock_lambda_max(t.positions, b=50.0), rtol=1e-12
    )


def test_a_long_path_is_sampled_evenly_and_momentum_has_its_own_limit() -> None:
    config = RunConfig(
        "rosenbrock", "momentum", lr=0.0005, steps=20_000, hyper={"beta": 0.9}, start=(-1.2, 1)
    )
    t, sharp = traced(config)
    assert len(t.positions) == 20_001 and len(sharp.steps) == SHARPNESS_POINTS
    assert sharp.steps[0] == 0 and sharp.steps[-1] == 20_000
    assert set(np.diff(sharp.steps)) <= {9, 10}  # 20 000 / 2047 ≈ 9.77
    np.testing.assert_allclose(
        sharp.lambda_max, rosenbrock_lambda_max(t.positions[sharp.steps]), rtol=1e-12
    )
    np.testing.assert_allclose(sharp.limit, 2 * (1 + 0.9) / 0.0005, rtol=1e-15)
    assert sharp.formula == "2(1+β)/η_k"


def test_new_rates_starts_and_surface_parameters_compile_nothing(compiles) -> None:
    def sharpness_at(lr: float, start: tuple[float, float], b: float) -> Sharpness:
        config = RunConfig("rosenbrock", "gd", lr=lr, steps=300, start=start)
        config = replace(config, surface_params={"b": b})
        return path_sharpness(run(config), config)

    sharpness_at(0.001, (-1.2, 1.0), 100.0)  # warm-up: the compiles these kernels need once
    compiles.count = 0
    for lr, start, b in ((0.0011, (0.5, 0.5), 80.0), (0.004, (-1.5, 2.0), 120.0)):
        sharpness_at(lr, start, b)
    assert compiles.count == 0


# 2. The crossing: where a diverged run's sharpness passed its limit for good.


def test_warming_quadratic_crosses_where_the_rate_first_passes_two_over_lambda() -> None:
    """η_k = 0.25 k/100 during warmup: λ_max = 10 > 2/η_k from k = 81 (η_k = 0.2025) on."""
    config = RunConfig("quadratic", "gd", lr=0.25, steps=300, warmup={"warmup_steps": 100})
    t, sharp = traced(config)
    k = np.arange(len(t.lr))
    closed = np.where(k < 100, 0.25 * k / 100, 0.25)
    np.testing.assert_allclose(t.lr, closed, rtol=1e-12, atol=1e-15)
    assert t.status.outcome == "diverged"
    assert sharp.crossing == last_stretch_above(2 / np.maximum(closed, 1e-300) < 10.0) == 81
    assert describe(t, config).endswith(
        "Cause: from step 81 the learning rate η_k = 0.2025 is above 2/λ_max = 0.2 (✕ on the "
        "sharpness row), so every step overshoots further."
    )


@pytest.mark.parametrize(
    ("lr", "steps", "warmup"),
    [(0.02, 3000, 1000), (0.012, 5000, 4000)],  # every step computed; sampled, then refined
)
def test_rosenbrock_crossing_is_where_numpys_sharpness_stays_above_two_over_eta(
    lr: float, steps: int, warmup: int
) -> None:
    config = RunConfig(
        "rosenbrock", "gd", lr=lr, steps=steps, start=(-1.2, 1.0), warmup={"warmup_steps": warmup}
    )
    t, sharp = traced(config)
    assert t.status.outcome == "diverged"
    moves = len(t.lr)
    lam = rosenbrock_lambda_max(t.positions[:moves])
    with np.errstate(divide="ignore"):  # η_0 = 0 at the start of the warmup
        above = ~(lam <= 2 / t.lr)
    c = last_stretch_above(above)
    assert sharp.crossing == c and 0 < c < moves - 1 and not above[c - 1]
    assert (len(t.positions) > SHARPNESS_POINTS) == (steps == 5000)  # the sampled case
    assert c in sharp.steps
    lambda_c = lam[c]
    assert sharp.lambda_max[np.searchsorted(sharp.steps, c)] == pytest.approx(lambda_c, rel=1e-12)
    x, y = t.positions[c]
    assert describe(t, config).endswith(
        f"Cause: from step {c} at ({x:.4g}, {y:.4g}) the local sharpness λ_max = {lambda_c:.4g} "
        f"of the Hessian put η_k = {t.lr[c]:.4g} above 2/λ_max = {2 / lambda_c:.4g}, and "
        "λ_max stayed above 2/η_k to the end (✕ on the sharpness row), so each step overshot "
        "further."
    )


@pytest.mark.parametrize(
    "config",
    [
        RunConfig("rosenbrock", "gd", lr=0.003, steps=3000, start=(-1.2, 1.0)),  # no divergence
        RunConfig("quadratic", "adam", lr=5.0, steps=300),  # no limit on η for Adam
    ],
)
def test_no_crossing_without_a_divergence_or_without_a_limit(config: RunConfig) -> None:
    t, sharp = traced(config)
    assert sharp.crossing == -1
    assert "✕" not in describe(t, config)


def test_metrics_figure_draws_the_sharpness_row_its_limit_and_the_crossing() -> None:
    runs = [
        RunConfig(
            "rosenbrock",
            "gd",
            lr=0.02,
            steps=3000,
            start=(-1.2, 1.0),
            warmup={"warmup_steps": 1000},
        ),
        RunConfig("rosenbrock", "gd", lr=0.003, steps=3000, start=(-1.2, 1.0)),
    ]
    traced_runs = [traced(config) for config in runs]
    views = [RunView(f"run {i}", figures.PALETTE[i], t, "") for i, (t, _) in enumerate(traced_runs)]
    sharps = [sharp for _, sharp in traced_runs]
    fig = metrics_figure(views, minimum=0.0, sharpness=sharps)
    assert fig.layout.yaxis4.title.text == figures.SHARPNESS_TITLE
    assert fig.layout.yaxis4.domain[0] == pytest.approx(0.0, abs=1e-12)
    rows = 4
    for i, (_, sharp) in enumerate(traced_runs):
        curve = fig.data[3 * len(runs) + i]  # row 4, run i
        assert curve.yaxis == "y4" and curve.line.color == figures.PALETTE[i]
        x = array_of(curve.x).astype(int)  # every sample, or ≤ METRIC_POINTS of them
        assert len(x) == min(len(sharp.steps), figures.METRIC_POINTS) or len(x) < len(sharp.steps)
        at = np.searchsorted(sharp.steps, x)
        np.testing.assert_array_equal(sharp.steps[at], x)
        np.testing.assert_array_equal(array_of(curve.y), sharp.lambda_max[at])
        assert len(x) <= figures.METRIC_POINTS and x[0] == 0 and x[-1] == sharp.steps[-1]
    extra = fig.data[rows * len(runs) :]
    limits = [trace for trace in extra if trace.mode == "lines"]
    crosses = [trace for trace in extra if trace.mode == "markers"]
    assert [trace.line.dash for trace in limits] == ["dash", "dash"]
    np.testing.assert_allclose(array_of(limits[1].y), 2 / 0.003, rtol=1e-15)
    np.testing.assert_array_equal(array_of(limits[1].x), [0, 2999])  # a constant: two points
    warming = traced_runs[0][0].lr  # η_k ramps: its line follows 2/η_k wherever η_k > 0
    np.testing.assert_allclose(
        array_of(limits[0].y), 2 / warming[array_of(limits[0].x).astype(int)], rtol=1e-15
    )
    (cross,) = crosses  # only the diverged run
    c = traced_runs[0][1].crossing
    assert list(cross.x) == [c] and cross.marker.symbol == "x"
    assert cross.y[0] == pytest.approx(rosenbrock_lambda_max(traced_runs[0][0].positions[[c]])[0])
    assert len(metrics_figure(views, minimum=0.0).data) == 3 * len(runs)  # no row without it


def test_the_pages_metrics_figure_marks_the_crossing_its_status_sentence_names() -> None:
    """Through app/compute.py's caches, as the page draws them: the ✕ sits at the step that
    the run's status sentence names."""
    config = RunConfig("quadratic", "gd", lr=0.25, steps=300, warmup={"warmup_steps": 100})
    steady = RunConfig("quadratic", "gd", lr=0.1, steps=300)
    runs = tuple(
        (compute.config_key(c), f"run {i}", "#0072B2") for i, c in enumerate([config, steady])
    )
    sentence = compute.run(runs[0][0])[1]
    assert "Cause: from step 81 the learning rate" in sentence
    fig = SpecFigure(*compute.metrics_spec(runs, 0))
    (cross,) = [t for t in fig.data if t.mode == "markers" and t.yaxis == "y4"]
    assert list(cross.x) == [81] and cross.y[0] == pytest.approx(10.0, rel=1e-12)
    assert fig.layout.yaxis4.title.text == figures.SHARPNESS_TITLE


# 3. The lesson "Edge of stability".


def check_edge_of_stability() -> None:
    """Rosenbrock's minimum has λ_max ≈ 1002; GD at η = 0.003 and 0.004 from (−1.2, 1) neither
    blows up nor reaches (1, 1): λ_max falls to 200, climbs to 2/η and stays, averaged over
    each two steps within 0.5 % of 2/η over the last 1000 steps, in a two-step bounce."""
    lesson = LESSONS["edge_of_stability"]
    text = f"{lesson.question} {lesson.look_for}"
    for phrase in (
        "λ_max ≈ 1002", "2/λ_max ≈ 0.002", "(−1.2, 1)", "η = 0.003", "η = 0.004", "(1, 1)",
        "falls to 200", "(667, 500)", "last 1000 steps", "0.5 %", "two-step",
    ):  # fmt: skip
        assert phrase in text, phrase
    at_minimum = rosenbrock_lambda_max(np.array([[1.0, 1.0]]))[0]
    assert round(at_minimum) == 1002 and round(2 / at_minimum, 3) == 0.002
    state = lesson.state
    limits = []
    for config in configs(state):
        assert config.start == (-1.2, 1.0) and config.optimizer == "gd"
        assert config.lr > 2 / at_minimum  # the minimum is unstable at this rate
        t, sharp = traced(config)
        n = len(t.positions) - 1
        assert t.status.outcome == "max_steps" and n == 3000
        box = np.array(SURFACES["rosenbrock"].box)
        assert (t.positions[:, 0] >= box[0]).all() and (t.positions[:, 0] <= box[1]).all()
        assert np.linalg.norm(t.positions[-1] - 1.0) > 0.25  # far from (1, 1)
        lam = rosenbrock_lambda_max(t.positions)
        np.testing.assert_allclose(sharp.lambda_max, lam[sharp.steps], rtol=1e-12)  # sampled
        limit = 2 / config.lr
        limits.append(round(limit))
        low = int(np.argmin(lam))
        assert round(lam[low]) == 200
        met = low + int(np.argmax(lam[low:] >= limit))
        assert lam[met] >= limit and met < n - 1000  # it climbed to the line early
        assert t.positions[met, 0] > t.positions[low, 0] + 0.3  # along the valley, to x → 1
        pairs = (lam[n - 1000 : n] + lam[n - 999 : n + 1]) / 2
        assert np.abs(pairs / limit - 1).max() < 0.005
        bounce = np.linalg.norm(t.positions[-1] - t.positions[-2])
        assert np.linalg.norm(t.positions[-1] - t.positions[-3]) < 0.01 * bounce
    assert limits == [667, 500]


def test_edge_of_stability_lesson_claim() -> None:
    check_edge_of_stability()
