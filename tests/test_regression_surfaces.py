"""The regression surfaces: their minimizers against independent fits, and the seeded data
behind them."""

from __future__ import annotations

import numpy as np
import pytest

from surfaces import SURFACES, regression_data
from tests.surface_probes import case_items, inside_box, probe_points

SEEDS = (0, 1, 42, 999)


# The regression surfaces.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("standardise", [0, 1])
def test_linreg_minimizer_is_the_least_squares_fit(seed: int, standardise: int):
    items = case_items("linreg", {"seed": seed, "standardise": standardise})
    x, y = regression_data("linreg", dict(items))
    A = np.column_stack([x, np.ones_like(x)])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    probe = probe_points("linreg", items)
    (point,) = probe.points
    np.testing.assert_allclose([point.x, point.y], beta, rtol=1e-10, atol=1e-12)
    assert point.value == pytest.approx(np.mean((A @ beta - y) ** 2), rel=1e-12)
    assert probe.f[0] == pytest.approx(point.value, rel=1e-12)
    assert np.linalg.norm(probe.grad[0]) < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_standardising_makes_the_linreg_bowl_round(seed: int):
    def condition(standardise: int) -> float:
        items = case_items("linreg", {"seed": seed, "standardise": standardise})
        return float(np.linalg.cond(probe_points("linreg", items).hessian[0]))

    assert condition(0) > 30
    assert condition(1) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_logreg_minimizer_is_stationary(seed: int):
    probe = probe_points("logreg", case_items("logreg", {"seed": seed}))
    assert probe.f[0] == pytest.approx(probe.points[0].value, rel=1e-12)
    assert np.linalg.norm(probe.grad[0]) < 1e-10
    assert np.linalg.eigvalsh(probe.hessian[0])[0] > 0


@pytest.mark.parametrize("key", ["linreg", "logreg"])
def test_regression_minimizers_lie_in_the_box_for_every_seed(key: str):
    surface = SURFACES[key]
    seed = next(spec for spec in surface.params if spec.name == "seed")
    variants = [{}, {"standardise": 1}] if key == "linreg" else [{}]
    for extra in variants:
        for s in range(int(seed.low), int(seed.high) + 1):
            (point,) = surface.critical_points({"seed": s, **extra})
            assert inside_box(surface.box, point.x, point.y), (s, extra, point)


def test_regression_data_is_seeded_and_standardised():
    x0, y0 = regression_data("linreg", {"seed": 0})
    x1, _ = regression_data("linreg", {"seed": 1})
    xs, ys = regression_data("linreg", {"seed": 0, "standardise": 1})
    assert x0.shape == y0.shape == (50,)
    assert x0.dtype == np.float64
    assert not np.allclose(x0, x1)
    assert x0.min() >= 1
    assert x0.max() <= 5
    np.testing.assert_allclose(xs, (x0 - x0.mean()) / x0.std(), atol=1e-12)
    np.testing.assert_array_equal(ys, y0)
    x, y = regression_data("logreg")
    assert x.shape == y.shape == (50,)
    assert set(np.unique(y)) == {0.0, 1.0}


def test_logreg_labels_overlap_for_every_seed():
    """No threshold on x separates the labels, whichever way round: the minimizer is finite."""
    for seed in range(1000):
        x, y = regression_data("logreg", {"seed": seed})
        assert x[y == 1].min() < x[y == 0].max()
        assert x[y == 0].min() < x[y == 1].max()


def test_regression_data_rejects_other_surfaces():
    with pytest.raises(ValueError, match="no data set"):
        regression_data("bowl")
    with pytest.raises(ValueError, match="unknown surface"):
        regression_data("nope")
    with pytest.raises(ValueError, match="outside"):
        regression_data("linreg", {"seed": 1000})
