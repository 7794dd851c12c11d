"""Mini-batch SGD in the engine: unbiased, seeded, exact full batch, and only where data is."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optimizers.engine import (
    MODIFIERS,
    RunConfig,
    batch_weights,
    minibatch_gradient,
    run,
    summarize,
)
from surfaces import SURFACES
from surfaces.base import Samples
from surfaces.dataset import Points, data_surface, squared_error
from surfaces.regression import N_SAMPLES, linreg_data

N = 20
W = (0.3, -0.2)


def points(n: int = N, seed: int = 0) -> Points:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 3.0, n)
    y = 1.5 * x - 0.5 + rng.normal(0.0, 0.7, n)
    return Points(tuple(x), tuple(y))


def full_gradient(data: Points, w: tuple[float, float]) -> np.ndarray:
    """∇ (1/n) Σ (w₀ xᵢ + w₁ − yᵢ)² = (2/n) Σ rᵢ (xᵢ, 1), by hand."""
    x, y = data.arrays()
    r = w[0] * x + w[1] - y
    return np.array([2 * np.mean(r * x), 2 * np.mean(r)])


def batched(surface, batch: float, seed: float = 1.0, **overrides) -> RunConfig:
    base = {"optimizer": "gd", "lr": 0.05, "steps": 80, "start": (-1.0, 2.0)}
    modifiers = {"batch_size": batch, "batch_seed": seed}
    return RunConfig(surface, **{**base, **overrides}, modifiers=modifiers)


def test_batch_modifiers_are_listed_with_full_batch_defaults() -> None:
    specs = {spec.name: spec for spec in MODIFIERS}
    assert specs["batch_size"].default == 0 and specs["batch_size"].integer
    assert specs["batch_seed"].integer


@pytest.mark.parametrize("batch", [1, 3, 7, 19])
def test_every_batch_holds_exactly_b_distinct_points(batch: int) -> None:
    for step in range(30):
        weights = batch_weights(N, batch, seed=5, step=step)
        chosen = weights > 0
        assert chosen.sum() == batch
        np.testing.assert_array_equal(weights[chosen], 1.0 / batch)


def test_minibatch_gradient_is_unbiased() -> None:
    """The mean over K batches of the mini-batch gradient approaches the full gradient within
    five standard errors; every point is drawn with frequency ≈ b/n."""
    data, batch, draws = points(), 5, 4000
    surface = data_surface(data)
    grads = np.array([minibatch_gradient(surface, W, batch, 3, k) for k in range(draws)])
    full = full_gradient(data, W)
    standard_error = grads.std(axis=0, ddof=1) / np.sqrt(draws)
    assert np.all(np.abs(grads.mean(axis=0) - full) <= 5 * standard_error)
    assert not np.allclose(grads, full)  # each batch alone is noisy
    chosen = np.array([batch_weights(N, batch, 3, k) > 0 for k in range(draws)])
    p = batch / N
    assert np.all(np.abs(chosen.mean(axis=0) - p) <= 5 * np.sqrt(p * (1 - p) / draws))


def test_minibatch_gradient_equals_the_hand_derived_one_over_its_batch() -> None:
    data = points()
    x, y = data.arrays()
    surface = data_surface(data)
    for step in range(10):
        chosen = batch_weights(N, 4, 9, step) > 0
        expected = full_gradient(Points(tuple(x[chosen]), tuple(y[chosen])), W)
        np.testing.assert_allclose(minibatch_gradient(surface, W, 4, 9, step), expected, rtol=1e-12)


def test_the_engine_steps_along_the_minibatch_gradient() -> None:
    surface = data_surface(points())
    config = batched(surface, 4, seed=11, steps=25)
    t = run(config)
    for k in range(25):
        g = minibatch_gradient(surface, t.positions[k], 4, 11, k)
        np.testing.assert_allclose(t.update[k], -0.05 * g, rtol=1e-10, atol=1e-14)
    # The loss and gradient reported are the full ones: the run is drawn on the true surface.
    np.testing.assert_allclose(
        t.grad[3], full_gradient(points(), tuple(t.positions[3])), rtol=1e-10
    )


def test_same_seed_same_path_other_seed_other_path() -> None:
    surface = data_surface(points())
    first, again, other = (run(batched(surface, 5, seed)) for seed in (1, 1, 2))
    np.testing.assert_array_equal(first.positions, again.positions)
    assert not np.allclose(first.positions, other.positions)
    full = run(batched(surface, 0))
    assert not np.allclose(first.positions, full.positions)


@pytest.mark.parametrize("batch", [N, N + 1, 10 * N])
def test_batch_of_at_least_n_is_exactly_full_batch_gd(batch: int) -> None:
    surface = data_surface(points())
    full = run(batched(surface, 0))
    whole = run(batched(surface, batch, seed=123))
    np.testing.assert_array_equal(whole.positions, full.positions)
    assert whole.status == full.status


def test_full_batch_in_the_batched_kernel_matches_full_batch_gd() -> None:
    """In a sweep that mixes batch sizes every row takes the batched kernel; its full-batch rows
    still follow gradient descent (to rounding: a weighted sum instead of a mean)."""
    surface = data_surface(points())
    config = batched(surface, 0)
    summary = summarize(config, {"modifiers.batch_size": np.array([0.0, 5.0, float(N)])})
    reference = run(config)
    np.testing.assert_allclose(summary.final_position[0], reference.positions[-1], rtol=1e-10)
    np.testing.assert_allclose(summary.final_position[2], reference.positions[-1], rtol=1e-10)
    mini = run(batched(surface, 5))
    np.testing.assert_allclose(summary.final_position[1], mini.positions[-1], rtol=1e-10)


def test_summarize_varies_the_batch_seed_like_separate_runs() -> None:
    surface = data_surface(points())
    config = batched(surface, 3)
    seeds = np.array([1.0, 2.0, 3.0])
    summary = summarize(config, {"modifiers.batch_seed": seeds})
    for i, seed in enumerate(seeds):
        t = run(batched(surface, 3, float(seed)))
        np.testing.assert_allclose(summary.final_position[i], t.positions[-1], rtol=1e-10)
        assert summary.final_loss[i] == pytest.approx(t.loss[-1], rel=1e-10)


def test_surfaces_without_data_ignore_the_batch_size() -> None:
    plain = run(RunConfig("quadratic", "gd", lr=0.1, steps=50))
    with_batch = run(
        RunConfig("quadratic", "gd", lr=0.1, steps=50, modifiers={"batch_size": 3, "batch_seed": 4})
    )
    np.testing.assert_array_equal(plain.positions, with_batch.positions)
    with pytest.raises(ValueError, match="no data"):
        minibatch_gradient(SURFACES["quadratic"], W, 3, 0, 0)


def test_l2_is_added_to_the_minibatch_gradient() -> None:
    surface = data_surface(points())
    config = RunConfig(
        surface,
        "gd",
        lr=0.05,
        steps=5,
        start=(1.0, 1.0),
        modifiers={"batch_size": 6, "batch_seed": 2, "l2": 0.5},
    )
    t = run(config)
    g = minibatch_gradient(surface, t.positions[0], 6, 2, 0) + 0.5 * t.positions[0]
    np.testing.assert_allclose(t.update[0], -0.05 * g, rtol=1e-12)


def test_linreg_gets_minibatches_once_it_carries_its_samples() -> None:
    """The registry's linear regression, given `samples` (one line in surfaces/registry.py)."""
    linreg = dataclasses.replace(
        SURFACES["linreg"], samples=Samples(linreg_data, squared_error, N_SAMPLES)
    )
    params = {"seed": 3.0, "standardise": 1.0}
    x, y = (np.asarray(a) for a in linreg_data(params))
    w = np.array([0.4, -0.7])
    assert float(linreg.fn(w, params)) == pytest.approx(np.mean((w[0] * x + w[1] - y) ** 2))
    chosen = batch_weights(N_SAMPLES, 10, 5, 0) > 0
    r = w[0] * x[chosen] + w[1] - y[chosen]
    expected = [2 * np.mean(r * x[chosen]), 2 * np.mean(r)]
    np.testing.assert_allclose(minibatch_gradient(linreg, w, 10, 5, 0, params), expected)
    config = RunConfig(linreg, "gd", lr=0.1, steps=60, surface_params=params)
    noisy = RunConfig(**{**config.__dict__, "modifiers": {"batch_size": 10, "batch_seed": 5}})
    assert not np.allclose(run(config).positions, run(noisy).positions)


def test_changing_batch_size_or_seed_compiles_nothing(compiles) -> None:
    surface = data_surface(points())
    run(batched(surface, 5, seed=1))  # warm-up: the batched kernel's one compile
    compiles.count = 0
    finals = {tuple(run(batched(surface, b, s)).positions[-1]) for b, s in [(3, 1), (7, 1), (7, 9)]}
    assert compiles.count == 0
    assert len(finals) == 3
