"""The learning-rate analyses (optimizers/analysis/) against closed forms and plain loops."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from optimizers import analysis
from optimizers.engine import RunConfig, batch_weights, run
from optimizers.report import NEAR
from surfaces import SURFACES
from surfaces.dataset import Points, data_surface

KAPPA = 10.0  # the quadratic's default: eigenvalues 1 and κ


def one_cell(lrs: np.ndarray) -> float:
    """The log-width of one cell of a log-spaced grid."""
    return float(np.log(lrs[1] / lrs[0]))


# The sweep.


def test_gd_sweep_diverges_within_one_cell_of_two_over_lambda_max() -> None:
    lrs = analysis.log_rates(1e-3, 10.0, 600)
    sweep = analysis.lr_sweep(RunConfig("quadratic", "gd", steps=500), lrs)
    critical = 2.0 / KAPPA
    assert sweep.threshold is not None and sweep.threshold.exact
    assert sweep.threshold.value == pytest.approx(critical, rel=1e-12)
    assert sweep.boundary is not None
    assert abs(math.log(sweep.boundary / critical)) <= one_cell(lrs)
    diverged = sweep.diverged_step >= 0
    np.testing.assert_array_equal(diverged, lrs >= sweep.boundary)  # one boundary, nothing above


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_heavy_ball_sweep_diverges_within_one_cell_of_its_threshold(beta: float) -> None:
    lrs = analysis.log_rates(1e-3, 10.0, 600)
    config = RunConfig("quadratic", "momentum", steps=1000, hyper={"beta": beta})
    sweep = analysis.lr_sweep(config, lrs)
    critical = 2.0 * (1.0 + beta) / KAPPA
    assert sweep.threshold is not None and sweep.threshold.value == pytest.approx(critical)
    assert sweep.boundary is not None
    assert abs(math.log(sweep.boundary / critical)) <= one_cell(lrs)


def test_sweep_entries_equal_a_plain_loop() -> None:
    """A few rates of a GD sweep on Rosenbrock, against w ← w − η∇f in plain Python."""
    lrs = analysis.log_rates(1e-4, 1e-3, 500)
    steps = 200
    sweep = analysis.lr_sweep(RunConfig("rosenbrock", "gd", steps=steps), lrs)
    for i in (0, 123, 499):
        x, y = SURFACES["rosenbrock"].starts[0]
        best = math.inf
        for _ in range(steps + 1):
            loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
            best = min(best, loss)
            gx, gy = -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)
            lr = float(lrs[i])
            x, y = x - lr * gx, y - lr * gy
        assert sweep.final_loss[i] == pytest.approx(loss, rel=1e-9)
        assert sweep.best_loss[i] == pytest.approx(best, rel=1e-9)
        assert sweep.converged_step[i] == -1 and sweep.diverged_step[i] == -1


def test_threshold_is_an_estimate_away_from_quadratics() -> None:
    config = RunConfig("rosenbrock", "gd", steps=100)
    critical = analysis.threshold(config)
    assert critical is not None and not critical.exact
    point = analysis.point_curvature(SURFACES["rosenbrock"], None, critical.point)
    assert critical.value == pytest.approx(point.gd_rate)
    assert analysis.threshold(RunConfig("quadratic", "adam")) is None
    scheduled = analysis.threshold(RunConfig("quadratic", "gd", schedule="cosine"))
    assert scheduled is not None and not scheduled.exact
    penalised = analysis.threshold(RunConfig("quadratic", "gd", modifiers={"l2": 1.0}))
    assert penalised is not None and penalised.value == pytest.approx(2.0 / (KAPPA + 1.0))


# The stability map.


def test_momentum_map_boundary_follows_two_one_plus_beta_over_lambda() -> None:
    config = RunConfig("quadratic", "momentum", steps=1000)
    lrs = analysis.log_rates(1e-2, 1.0, 100)
    betas = analysis.SECOND_AXES["beta"].values(config, 100)
    smap = analysis.stability_map(config, lrs, "beta", betas)
    assert smap.outcome.shape == (100, 100)
    np.testing.assert_allclose(smap.threshold, 2.0 * (1.0 + betas) / KAPPA)
    for i in range(0, 100, 9):
        diverged = smap.outcome[i] == analysis.ESCAPED
        boundary = lrs[diverged][0]
        assert diverged[lrs >= boundary].all()
        assert abs(math.log(boundary / smap.threshold[i])) <= one_cell(lrs)


def test_map_cells_equal_single_runs() -> None:
    config = RunConfig("quadratic", "gd", steps=300, schedule="step")
    lrs = analysis.log_rates(1e-2, 1.0, 5)
    gammas = analysis.SECOND_AXES["gamma"].values(config, 4)
    smap = analysis.stability_map(config, lrs, "gamma", gammas)
    for i, gamma in enumerate(gammas):
        for j, lr in enumerate(lrs):
            cell = analysis.with_number(config, "schedule.gamma", gamma)
            status = run(analysis.with_number(cell, "lr", lr)).status
            expected = {"converged": 0, "max_steps": 1, "diverged": 2}[status.outcome]
            assert smap.outcome[i, j] == expected
            if status.outcome != "max_steps":
                assert smap.steps[i, j] == status.step


def test_second_axes_follow_the_configuration() -> None:
    keys = {axis.key for axis in analysis.second_axes(RunConfig("quadratic", "momentum"))}
    assert {"beta", "warmup_steps", "clip_norm", "kappa"} <= keys and "b1" not in keys
    keys = {axis.key for axis in analysis.second_axes(RunConfig("rosenbrock", "adam"))}
    assert {"b1", "b2"} <= keys and not {"beta", "kappa", "gamma"} & keys
    warmup = analysis.SECOND_AXES["warmup_steps"].values(RunConfig("bowl", steps=50), 100)
    assert warmup[0] == 0 and warmup[-1] == 50 and (warmup == np.round(warmup)).all()
    b2 = analysis.SECOND_AXES["b2"].values(RunConfig("bowl", "adam"), 3)
    np.testing.assert_allclose(b2, [0.5, 1 - math.sqrt(0.5 * 1e-4), 0.9999])


# The range test.


def test_range_test_rates_grow_geometrically_and_repeat_exactly() -> None:
    config = RunConfig("rosenbrock", "adam")
    first = analysis.range_test(config, 1e-5, 1.0, 200)
    again = analysis.range_test(config, 1e-5, 1.0, 200)
    np.testing.assert_allclose(first.lrs, 1e-5 * (1e5) ** (np.arange(200) / 199), rtol=1e-12)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def test_constant_rates_reproduce_the_engine() -> None:
    for config in (
        RunConfig("rosenbrock", "adam", lr=0.02, steps=150),
        RunConfig("quadratic", "momentum", lr=0.05, steps=150, modifiers={"clip_norm": 1.0}),
        RunConfig("himmelblau", "newton", lr=0.5, steps=20, modifiers={"l2": 0.1}),
    ):
        positions, loss = analysis.run_with_rates(config, np.full(config.steps, config.lr))
        expected = run(config)
        np.testing.assert_allclose(positions, expected.positions, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(loss, expected.loss[:-1], rtol=1e-12, atol=1e-12)


def test_range_test_on_gd_is_a_plain_loop_with_growing_rates() -> None:
    config = RunConfig("bowl", "gd")
    test = analysis.range_test(config, 1e-3, 3.0, 50)
    w = np.array(SURFACES["bowl"].starts[0])
    for k, lr in enumerate(test.lrs):
        assert test.loss[k] == pytest.approx(0.5 * w @ w, rel=1e-12)
        w = w - lr * w  # ∇f = w
    np.testing.assert_allclose(test.positions[-1], w, rtol=1e-12)


@pytest.mark.parametrize(
    "config",
    [
        RunConfig("quadratic", "gd", steps=1000),
        RunConfig("quadratic", "momentum", steps=1000),
        RunConfig("bowl", "gd", steps=300),
        RunConfig("himmelblau", "gd", steps=1000),
    ],
    ids=lambda c: f"{c.surface}-{c.optimizer}",
)
def test_range_test_suggestions_converge_at_a_constant_rate(config: RunConfig) -> None:
    test = analysis.range_test(config, 1e-6, 10.0, 1000)
    assert test.steepest is not None and test.valley is not None
    lrs = analysis.log_rates(1e-5, 10.0, 600)
    converged = analysis.lr_sweep(config, lrs).converged_step >= 0
    low, high = lrs[converged][0], lrs[converged][-1]
    for rate in (test.steepest, test.valley):
        assert low <= rate <= high
        assert analysis.lr_sweep(config, [rate, rate * 1.000001]).converged_step[0] >= 0
    first, last = test.valley_span
    assert first <= test.valley_index <= last < test.stop


def test_range_test_stops_where_the_loss_blows_up() -> None:
    test = analysis.range_test(RunConfig("bowl", "gd"), 1e-3, 100.0, 300)
    # Gradient descent on ½‖w‖² multiplies w by (1 − η): it grows once η > 2.
    assert test.stop < len(test.lrs)
    assert test.loss[test.stop] > analysis.BLOWUP_FACTOR * test.loss[0]
    assert (test.loss[: test.stop] <= analysis.BLOWUP_FACTOR * test.loss[0]).all()
    assert test.lrs[test.stop] > 2.0


# Basins and curvature.


def test_himmelblau_neighbourhoods_are_labelled_with_their_minimizer() -> None:
    basins = analysis.basin_map(RunConfig("himmelblau", "gd", lr=0.005, steps=500), 150)
    assert basins.label.shape == (150, 150) and len(basins.minima) == 4
    X, Y = np.meshgrid(basins.xs, basins.ys)
    for i, minimum in enumerate(basins.minima):
        near = np.hypot(X - minimum.x, Y - minimum.y) < 0.75
        assert near.sum() > 50 and (basins.label[near] == i).all()
    assert set(np.unique(basins.label)) == {0, 1, 2, 3}


def test_basin_labels_match_single_runs() -> None:
    config = RunConfig("himmelblau", "momentum", lr=0.02, steps=300)
    basins = analysis.basin_map(config, 12)
    assert {analysis.DIVERGED, 0, 1, 2, 3} <= set(np.unique(basins.label))
    for i, j in [(0, 0), (3, 7), (6, 6), (11, 2), (9, 11)]:
        start = (float(basins.xs[j]), float(basins.ys[i]))
        trajectory = run(replace(config, start=start))
        if trajectory.status.outcome == "diverged":
            assert basins.label[i, j] == analysis.DIVERGED
        else:
            np.testing.assert_allclose(basins.final_position[i, j], trajectory.positions[-1])
            distances = [math.dist(trajectory.positions[-1], (p.x, p.y)) for p in basins.minima]
            reached = min(distances) <= NEAR * math.hypot(10.0, 10.0)
            assert basins.label[i, j] == (int(np.argmin(distances)) if reached else -2)


def test_large_rates_diverge_in_the_basin_map() -> None:
    basins = analysis.basin_map(RunConfig("himmelblau", "gd", lr=0.1, steps=100), 20)
    assert (basins.label == analysis.DIVERGED).mean() > 0.5


def test_curvature_report_on_the_quadratic_and_himmelblau() -> None:
    report = analysis.curvature_report(SURFACES["quadratic"], {"kappa": 50.0}, (1.0, 2.0))
    np.testing.assert_allclose(report.start.eigenvalues, [1.0, 50.0])
    assert report.start.condition == pytest.approx(50.0) and report.start.positive_definite
    assert report.start.gd_rate == pytest.approx(0.04)
    assert report.nearest is not None and (report.nearest.x, report.nearest.y) == (0.0, 0.0)
    report = analysis.curvature_report(SURFACES["himmelblau"], None, (2.5, 2.5))
    assert (report.nearest.x, report.nearest.y) == (3.0, 2.0)
    # ∇²f at (3, 2): [[12x² + 4y − 42, 4(x + y)], [4(x + y), 4x + 12y² − 26]]
    hessian = np.array([[74.0, 20.0], [20.0, 34.0]])
    np.testing.assert_allclose(report.minimum.eigenvalues, np.linalg.eigvalsh(hessian))
    saddle = analysis.curvature_report(SURFACES["saddle"], None, (0.5, 0.5))
    assert not saddle.start.positive_definite and saddle.minimum is None


# Bad input.


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: analysis.lr_sweep(RunConfig("bowl"), [0.1]), "at least"),
        (lambda: analysis.lr_sweep(RunConfig("bowl"), [0.2, 0.1]), "increasing"),
        (lambda: analysis.lr_sweep(RunConfig("bowl"), [-1.0, 0.1]), "positive"),
        (lambda: analysis.lr_sweep(RunConfig("bowl"), [[0.1, 0.2]]), "1-D"),
        (lambda: analysis.log_rates(1.0, 0.1, 10), "low < high"),
        (lambda: analysis.log_rates(0.1, 1.0, 1), "≥ 2"),
        (
            lambda: analysis.stability_map(RunConfig("bowl", "gd"), [0.1, 0.2], "beta", [0.5]),
            "not a number of this configuration",
        ),
        (
            lambda: analysis.stability_map(RunConfig("bowl", "momentum"), [0.1, 0.2], "x", [1]),
            "unknown stability-map axis",
        ),
        (
            lambda: analysis.stability_map(
                RunConfig("bowl", "momentum"), [0.1, 0.2], "beta", [1.5]
            ),
            "must lie in",
        ),
        (lambda: analysis.basin_map(RunConfig("bowl", steps=20_000), 150), "exceeds the cap"),
        (lambda: analysis.basin_map(RunConfig("bowl"), 1), "resolution"),
        (lambda: analysis.range_test(RunConfig("bowl"), 1e-3, 1.0, 5), "outside"),
        (lambda: analysis.range_test(RunConfig("bowl"), 1e-3, 1e-4, 50), "low < high"),
        (lambda: analysis.range_test(RunConfig("nope"), 1e-3, 1.0, 50), "unknown surface"),
        (lambda: analysis.with_number(RunConfig("bowl"), "steps", 3), "cannot set"),
        (
            lambda: analysis.curvature_report(SURFACES["bowl"], None, (math.nan, 0.0)),
            "finite point",
        ),
    ],
)
def test_bad_input_is_a_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_work_is_capped() -> None:
    lrs = analysis.log_rates(1e-3, 1.0, 300_000)
    with pytest.raises(ValueError, match="at most"):
        analysis.lr_sweep(RunConfig("bowl", steps=10), lrs)


def test_the_range_test_takes_the_engines_mini_batches() -> None:
    points = Points(tuple(float(i) for i in range(8)), (1.0, 2.9, 5.2, 6.8, 9.1, 11.0, 13.2, 14.8))
    surface = data_surface(points)
    batched = RunConfig(surface, "gd", modifiers={"batch_size": 3, "batch_seed": 4})
    full = analysis.range_test(RunConfig(surface, "gd"), 1e-4, 0.05, 40)
    test = analysis.range_test(batched, 1e-4, 0.05, 40)
    assert not np.array_equal(test.loss, full.loss)
    # A plain loop: w_{k+1} = w_k − η_k Σᵢ aᵢ ∇ℓᵢ(w_k), aᵢ the engine's batch weights of step k.
    x, y = points.arrays()
    w, losses = np.array(surface.starts[0], dtype=float), []
    for k, rate in enumerate(test.lrs):
        residual = w[0] * x + w[1] - y
        losses.append(np.mean(residual**2))
        weights = batch_weights(len(x), 3, 4, k)
        w = w - rate * np.array(
            [np.sum(weights * 2 * residual * x), np.sum(weights * 2 * residual)]
        )
    np.testing.assert_allclose(test.loss, losses, rtol=1e-12)
    np.testing.assert_allclose(test.positions[-1], w, rtol=1e-12)
