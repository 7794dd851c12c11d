"""Grids for plotting: values and gradients against the surfaces themselves, the log colouring's
ticks against real values, and one compilation per surface whatever its parameters."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from surfaces import SURFACES, get_surface, regression_data
from surfaces.grid import (
    Field,
    Grid,
    arrow_vectors,
    gradient_field,
    log_levels,
    surface_grid,
    tick_label,
)

SAMPLES = 25  # grid nodes checked per surface
N = 33  # a small grid: every surface's values, fast


def sampled_nodes(shape: tuple[int, int], count: int = SAMPLES) -> list[tuple[int, int]]:
    rows, columns = np.random.default_rng(0).integers(0, shape, size=(count, 2)).T
    return [
        (0, 0),
        (shape[0] - 1, shape[1] - 1),
        *zip(rows.tolist(), columns.tolist(), strict=True),
    ]


def value_at(surface, x: float, y: float, params=None) -> float:
    """f(x, y): the regression losses by hand in numpy over their data set, the others from the
    surface's own function, one point at a time."""
    if surface.key in ("linreg", "logreg"):
        data_x, data_y = regression_data(surface.key, params)
        z = x * data_x + y
        if surface.key == "linreg":
            return float(np.mean((z - data_y) ** 2))
        return float(np.mean(np.logaddexp(0.0, z) - data_y * z))
    resolved = {k: jnp.asarray(v) for k, v in surface.resolve(params).items()}
    return float(surface.fn(jnp.array([x, y]), resolved))


@pytest.mark.parametrize("key", list(SURFACES))
def test_grid_values_are_the_surface(key: str) -> None:
    surface = SURFACES[key]
    grid = surface_grid(surface, n=N)
    x0, x1, y0, y1 = surface.box
    assert isinstance(grid, Grid) and grid.z.shape == (N, N) and grid.z.dtype == np.float64
    assert (grid.x[0], grid.x[-1], grid.y[0], grid.y[-1]) == (x0, x1, y0, y1)
    assert np.isfinite(grid.z).all()
    for i, j in sampled_nodes(grid.z.shape):
        expected = value_at(surface, grid.x[j], grid.y[i])
        assert grid.z[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_grid_follows_surface_parameters() -> None:
    surface = get_surface("quadratic")
    params = {"kappa": 7.0, "angle": 30.0}
    grid = surface_grid(surface, params, n=N)
    for i, j in sampled_nodes(grid.z.shape):
        expected = value_at(surface, grid.x[j], grid.y[i], params)
        assert grid.z[i, j] == pytest.approx(expected, rel=1e-12)
    assert not np.allclose(grid.z, surface_grid(surface, n=N).z)


def test_gradient_field_is_minus_the_gradient() -> None:
    surface = get_surface("rosenbrock")
    field = gradient_field(surface, n=9)
    assert isinstance(field, Field) and field.U.shape == (9, 9)
    params = {k: jnp.asarray(v) for k, v in surface.resolve().items()}
    grad = jax.jit(jax.grad(surface.fn))
    for i, j in sampled_nodes(field.X.shape, 10):
        g = np.asarray(grad(jnp.array([field.X[i, j], field.Y[i, j]]), params))
        np.testing.assert_allclose([field.U[i, j], field.V[i, j]], -g, rtol=1e-12)


def test_gradient_field_on_the_bowl_points_home() -> None:
    """f = ½‖w‖², so −∇f = −w exactly."""
    X, Y, U, V = gradient_field(get_surface("bowl"), n=21)
    np.testing.assert_array_equal(U, -X)
    np.testing.assert_array_equal(V, -Y)


def test_arrows_follow_the_field_and_fit_their_cell() -> None:
    field = gradient_field(get_surface("goldstein_price"), n=11)
    dx, dy = arrow_vectors(field, longest=0.1)
    length = np.hypot(dx, dy)
    assert length.max() == pytest.approx(0.1) and length.min() > 0
    np.testing.assert_allclose(dx * field.V, dy * field.U, atol=1e-12)  # parallel
    assert (dx * field.U + dy * field.V >= 0).all()  # same way
    zero = Field(field.X, field.Y, np.zeros_like(field.U), np.zeros_like(field.V))
    assert not np.hypot(*arrow_vectors(zero, longest=0.1)).any()


def real_value(position: float, levels) -> float:
    """Invert the colour map: f = f_min + 10^c − ε."""
    return levels.f_min + 10.0**position - levels.epsilon


@pytest.mark.parametrize("key", ["goldstein_price", "beale", "rosenbrock", "styblinski_tang"])
def test_log_ticks_label_real_values(key: str) -> None:
    surface = SURFACES[key]
    grid = surface_grid(surface)
    levels = log_levels(grid.z, surface.minimum_value())
    np.testing.assert_allclose(10**levels.color - levels.epsilon + levels.f_min, grid.z, rtol=1e-9)
    assert len(levels.ticks) >= 3
    positions = [p for p, _ in levels.ticks]
    assert positions == sorted(positions)
    assert positions[0] == math.log10(levels.epsilon) <= levels.color.min()  # f_min at the bottom
    assert positions[-1] <= levels.color.max()
    for position, label in levels.ticks:
        value = real_value(position, levels)
        assert float(label) == pytest.approx(value, rel=5e-3, abs=1e-9 + 5e-3 * abs(levels.f_min))
    assert float(levels.ticks[0][1]) == pytest.approx(surface.minimum_value(), rel=5e-3)


def test_log_colouring_only_where_the_surface_spans_decades() -> None:
    def warranted(key: str) -> bool:
        surface = SURFACES[key]
        return log_levels(surface_grid(surface, n=N).z, surface.minimum_value()).use_log

    assert warranted("goldstein_price") and warranted("beale") and warranted("rosenbrock")
    assert not warranted("bowl") and not warranted("plateau") and not warranted("rastrigin")


def test_flat_and_unknown_minimum_grids() -> None:
    flat = log_levels(np.full((3, 3), 2.0))
    assert not flat.use_log and flat.ticks == [(0.0, "2")]
    levels = log_levels(np.array([[1.0, 10.0], [100.0, 1000.0]]))
    assert levels.f_min == 1.0 and levels.color.min() == pytest.approx(math.log10(levels.epsilon))


def test_non_finite_values_take_the_extremes() -> None:
    from surfaces.grid import _finite

    z = np.array([[1.0, np.nan], [np.inf, -np.inf], [5.0, 2.0]])
    np.testing.assert_array_equal(_finite(z), [[1.0, 5.0], [5.0, 1.0], [5.0, 2.0]])
    assert not _finite(np.full((2, 2), np.nan)).any()


@pytest.mark.parametrize(
    ("value", "label"),
    [(0.0, "0"), (3.0, "3"), (1000.0, "1000"), (2512.3, "2510"), (1e6, "1e6"), (-78.33, "-78.3")],
)
def test_tick_labels(value: float, label: str) -> None:
    assert tick_label(value) == label


def test_parameters_never_recompile(compiles) -> None:
    surface = get_surface("quadratic")
    surface_grid(surface, {"kappa": 2.0}, n=N)
    gradient_field(surface, {"kappa": 2.0}, n=7)
    compiles.count = 0
    for kappa, angle in [(3.0, 0.0), (50.0, 45.0), (1.0, 90.0)]:
        surface_grid(surface, {"kappa": kappa, "angle": angle}, n=N)
        gradient_field(surface, {"kappa": kappa, "angle": angle}, n=7)
    assert compiles.count == 0
