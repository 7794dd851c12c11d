"""The surface registry: stationary points, finiteness over the box, traceability, and the data
behind the regression surfaces.

Every surface is checked for its default parameters and for each parameter at both ends of its
range; adding a row to `SURFACES` adds its cases here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _pytest.mark import ParameterSet

from surfaces import SURFACES, TAGS, CriticalPoint, Surface, get_surface, regression_data

REQUIRED = {
    "bowl",
    "quadratic",
    "rosenbrock",
    "beale",
    "booth",
    "matyas",
    "himmelblau",
    "rastrigin",
    "ackley",
    "camel",
    "goldstein_price",
    "styblinski_tang",
    "saddle",
    "monkey_saddle",
    "cliff",
    "plateau",
    "linreg",
    "logreg",
}
GRID = 301  # every third node is the 101 × 101 grid
RING = 16  # directions probed around each stationary point, besides the Hessian's eigenvectors
RADIUS = 1e-4
VALUE_TOL = 1e-10  # relative to max(1, |f|)
GRAD_TOL = 1e-8
SEEDS = (0, 1, 42, 999)

Items = tuple[tuple[str, float], ...]


def _cases() -> Iterator[ParameterSet]:
    """(key, parameter items): the defaults, then each parameter at its low and high end."""
    for key, surface in SURFACES.items():
        default = surface.resolve()
        seen: list[dict[str, float]] = []
        for spec in (None, *surface.params):
            ends = (None,) if spec is None else (spec.low, spec.high)
            for end in ends:
                values = default if spec is None else surface.resolve({spec.name: end})
                if values in seen:
                    continue
                seen.append(values)
                changed = "".join(f"-{k}={v:g}" for k, v in values.items() if v != default[k])
                yield pytest.param(key, tuple(values.items()), id=key + changed)


CASES = list(_cases())


def _scalars(values: dict[str, float] | Items) -> dict[str, jax.Array]:
    return {name: jnp.asarray(v, jnp.float64) for name, v in dict(values).items()}


@functools.cache
def _compiled(key: str):
    """Batched (f, ∇f) and a probe of (f, ∇f, ∇²f, f around w), compiled once per surface."""
    fn = SURFACES[key].fn
    angles = np.linspace(0, 2 * np.pi, RING, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)])

    def probe(w, params):
        H = jax.hessian(fn)(w, params)
        eigenvectors = jnp.linalg.eigh(H)[1].T
        directions = jnp.concatenate([ring, eigenvectors, -eigenvectors])
        around = jax.vmap(fn, in_axes=(0, None))(w + RADIUS * directions, params)
        return fn(w, params), jax.grad(fn)(w, params), H, around

    grid = jax.jit(jax.vmap(jax.value_and_grad(fn), in_axes=(0, None)))
    return grid, jax.jit(jax.vmap(probe, in_axes=(0, None)))


def _grid_points(box: tuple[float, float, float, float], n: int = GRID) -> np.ndarray:
    x_min, x_max, y_min, y_max = box
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, n), np.linspace(y_min, y_max, n))
    return np.column_stack([xs.ravel(), ys.ravel()])


@functools.cache
def _grid(key: str, items: Items) -> tuple[np.ndarray, np.ndarray]:
    """f and ∇f on a GRID × GRID grid over the box."""
    grid, _ = _compiled(key)
    f, g = grid(jnp.asarray(_grid_points(SURFACES[key].box)), _scalars(items))
    return np.asarray(f), np.asarray(g)


@functools.cache
def _probe(key: str, items: Items):
    """The stationary points; f, ∇f and ∇²f at each; f on a small ring and along ±eigenvectors."""
    points = SURFACES[key].critical_points(dict(items))
    _, probe = _compiled(key)
    ws = jnp.asarray([(p.x, p.y) for p in points])
    return points, *(np.asarray(a) for a in probe(ws, _scalars(items)))


def _inside(box: tuple[float, float, float, float], x: float, y: float) -> bool:
    x_min, x_max, y_min, y_max = box
    return x_min <= x <= x_max and y_min <= y <= y_max


# The registry.


def test_registry_has_every_required_surface():
    assert len(SURFACES) >= 18
    assert set(SURFACES) >= REQUIRED
    assert all(surface.key == key for key, surface in SURFACES.items())
    names = [surface.name for surface in SURFACES.values()]
    assert len(set(names)) == len(names)


def test_get_surface_returns_the_registered_row():
    for key, surface in SURFACES.items():
        assert get_surface(key) is surface


def test_get_surface_rejects_unknown_keys_listing_the_valid_ones():
    with pytest.raises(ValueError, match="'nope'") as caught:
        get_surface("nope")
    assert all(key in str(caught.value) for key in SURFACES)


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
def test_row_is_well_formed(surface: Surface):
    x_min, x_max, y_min, y_max = surface.box
    assert x_min < x_max
    assert y_min < y_max
    assert surface.starts
    assert all(_inside(surface.box, *start) for start in surface.starts)
    assert surface.latex.startswith("f(")
    assert surface.latex.count("{") == surface.latex.count("}")
    assert surface.note
    assert "\n" not in surface.note
    assert len(surface.note) <= 200
    assert surface.tags
    assert surface.tags <= TAGS
    assert len({spec.name for spec in surface.params}) == len(surface.params)


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
def test_tags_agree_with_the_stationary_points(surface: Surface):
    points = surface.critical_points()
    kinds = [p.kind for p in points]
    assert ("unbounded" in surface.tags) == (surface.minimum_value() is None)
    assert ("saddle" in surface.tags) == ("saddle" in kinds)
    if "multimodal" in surface.tags:
        assert kinds.count("global") + kinds.count("local") >= 2


# Stationary points, for every parameter case.


@pytest.mark.parametrize(("key", "items"), CASES)
def test_fn_returns_a_float64_scalar(key: str, items: Items):
    surface = SURFACES[key]
    w = jnp.asarray(surface.starts[0], jnp.float64)
    value, grad = jax.value_and_grad(surface.fn)(w, _scalars(items))
    assert value.shape == ()
    assert value.dtype == jnp.float64
    assert grad.shape == (2,)
    assert grad.dtype == jnp.float64


@pytest.mark.parametrize(("key", "items"), CASES)
def test_stated_values_match_fn(key: str, items: Items):
    points, f, *_ = _probe(key, items)
    assert points
    for point, value in zip(points, f, strict=True):
        assert abs(value - point.value) <= VALUE_TOL * max(1.0, abs(point.value)), point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_gradient_vanishes_at_stationary_points(key: str, items: Items):
    points, _, g, *_ = _probe(key, items)
    for point, grad in zip(points, g, strict=True):
        assert np.linalg.norm(grad) < GRAD_TOL, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_hessian_matches_the_kind(key: str, items: Items):
    points, *_, H, _ = _probe(key, items)
    for point, hessian in zip(points, H, strict=True):
        low, high = np.linalg.eigvalsh(hessian)
        if point.kind == "saddle":
            if max(abs(low), abs(high)) > 1e-6:  # the monkey saddle's Hessian is zero
                assert low < -1e-6, point
                assert high > 1e-6, point
        else:
            assert low >= -1e-8, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_neighbourhood_matches_the_kind(key: str, items: Items):
    """Minima lie below every nearby probe; saddles between the lowest and the highest."""
    points, f, *_, ring = _probe(key, items)
    for point, value, around in zip(points, f, ring, strict=True):
        if point.kind == "saddle":
            assert around.min() < value < around.max(), point
        else:
            assert around.min() > value, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_global_minimum_is_lowest(key: str, items: Items):
    """Every global minimum has one value f*, each local minimum lies above it, and so does every
    grid node; where f is unbounded below, the grid dips below every stationary value."""
    surface = SURFACES[key]
    points = surface.critical_points(dict(items))
    f_star = surface.minimum_value(dict(items))
    f, _ = _grid(key, items)
    if f_star is None:
        assert f.min() < min(p.value for p in points) - 1.0
        return
    tol = 1e-9 * max(1.0, abs(f_star))
    assert all(abs(p.value - f_star) <= tol for p in points if p.kind == "global")
    assert all(p.value > f_star + tol for p in points if p.kind == "local")
    assert f.min() >= f_star - tol


@pytest.mark.parametrize(("key", "items"), CASES)
def test_finite_over_the_box(key: str, items: Items):
    f, g = _grid(key, items)
    assert np.isfinite(f).all()
    assert np.isfinite(g).all()


@pytest.mark.parametrize(("key", "items"), CASES)
def test_stationary_points_lie_in_the_box(key: str, items: Items):
    surface = SURFACES[key]
    for point in surface.critical_points(dict(items)):
        assert isinstance(point, CriticalPoint)
        assert _inside(surface.box, point.x, point.y), point


# Traceability: a parameter is a traced argument, never a constant.


TRACED = [
    pytest.param(key, spec.name, id=f"{key}-{spec.name}")
    for key, surface in SURFACES.items()
    for spec in surface.params
]


@pytest.mark.parametrize(("key", "name"), TRACED)
def test_changing_a_parameter_does_not_recompile(key: str, name: str):
    surface = SURFACES[key]
    spec = next(spec for spec in surface.params if spec.name == name)
    other = spec.default if spec.default != spec.low else spec.high
    w = jnp.asarray(surface.starts[0], jnp.float64)
    jitted = jax.jit(surface.fn)
    first = jitted(w, _scalars(surface.resolve({name: spec.low})))
    second = jitted(w, _scalars(surface.resolve({name: other})))
    assert jitted._cache_size() == 1
    assert not np.isclose(first, second)


# The quadratics.


@pytest.mark.parametrize("kappa", [1.0, 10.0, 37.5, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_quadratic_hessian_has_the_documented_eigenvalues(kappa: float, angle: float):
    surface = SURFACES["quadratic"]
    params = _scalars(surface.resolve({"kappa": kappa, "angle": angle}))
    theta = np.deg2rad(angle)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    expected = R @ np.diag([1.0, kappa]) @ R.T
    for w in ([0.3, -1.2], [-2.0, 2.5]):
        H = np.asarray(jax.hessian(surface.fn)(jnp.asarray(w), params))
        np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.linalg.eigvalsh(H), [1.0, kappa], rtol=1e-12)


def test_bowl_is_the_unit_quadratic():
    bowl, quadratic = SURFACES["bowl"], SURFACES["quadratic"]
    params = _scalars(quadratic.resolve({"kappa": 1.0}))
    for w in _grid_points(bowl.box, 7):
        H = jax.hessian(bowl.fn)(jnp.asarray(w), {})
        np.testing.assert_allclose(H, np.eye(2), atol=1e-15)
        np.testing.assert_allclose(bowl.fn(w, {}), quadratic.fn(w, params), rtol=1e-14)


SHAPED = [case for case in CASES if {"quadratic", "convex"} & SURFACES[case.values[0]].tags]


@pytest.mark.parametrize(("key", "items"), SHAPED)
def test_shape_tags_hold_on_a_grid(key: str, items: Items):
    """'quadratic' means a constant Hessian, 'convex' a positive semi-definite one."""
    surface = SURFACES[key]
    _, probe = _compiled(key)
    _, _, H, _ = probe(jnp.asarray(_grid_points(surface.box, 9)), _scalars(items))
    H = np.asarray(H)
    if "quadratic" in surface.tags:
        np.testing.assert_allclose(H, np.broadcast_to(H[0], H.shape), rtol=1e-10, atol=1e-12)
    if "convex" in surface.tags:
        assert np.linalg.eigvalsh(H)[:, 0].min() >= -1e-10


# The pathologies.


def test_plateau_gradient_is_tiny_but_nonzero():
    surface = SURFACES["plateau"]
    for start in surface.starts:
        norm = np.linalg.norm(jax.grad(surface.fn)(jnp.asarray(start), {}))
        assert 1e-6 < norm < 1e-3
    f, g = _grid("plateau", ())
    r = np.linalg.norm(_grid_points(surface.box), axis=1)
    norms = np.linalg.norm(g, axis=1)[r > 4]
    assert norms.min() > 0
    assert norms.max() < 3e-3
    assert f[r > 4].min() > 0.999


def test_cliff_gradient_jumps_by_two_orders_of_magnitude():
    surface = SURFACES["cliff"]
    grad = jax.jit(jax.vmap(jax.grad(surface.fn), in_axes=(0, None)))
    x0, y0 = surface.starts[0]
    terrace = np.linalg.norm(grad(jnp.asarray([[x0, y0]]), {}), axis=1)[0]
    xs = np.linspace(-0.5, x0, 2001)
    across = np.linalg.norm(grad(jnp.column_stack([xs, np.full_like(xs, y0)]), {}), axis=1)
    assert terrace < 2
    assert across.max() > 100 * terrace


# The regression surfaces.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("standardise", [0, 1])
def test_linreg_minimizer_is_the_least_squares_fit(seed: int, standardise: int):
    surface = SURFACES["linreg"]
    values = {"seed": seed, "standardise": standardise}
    x, y = regression_data("linreg", values)
    A = np.column_stack([x, np.ones_like(x)])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    (point,) = surface.critical_points(values)
    np.testing.assert_allclose([point.x, point.y], beta, rtol=1e-10, atol=1e-12)
    assert point.value == pytest.approx(np.mean((A @ beta - y) ** 2), rel=1e-12)
    grad = jax.grad(surface.fn)(jnp.asarray(beta), _scalars(surface.resolve(values)))
    assert np.linalg.norm(grad) < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_standardising_makes_the_linreg_bowl_round(seed: int):
    surface = SURFACES["linreg"]

    def condition(standardise: int) -> float:
        values = surface.resolve({"seed": seed, "standardise": standardise})
        (point,) = surface.critical_points(values)
        H = jax.hessian(surface.fn)(jnp.asarray([point.x, point.y]), _scalars(values))
        return float(np.linalg.cond(np.asarray(H)))

    assert condition(0) > 30
    assert condition(1) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_logreg_minimizer_is_stationary(seed: int):
    surface = SURFACES["logreg"]
    values = surface.resolve({"seed": seed})
    (point,) = surface.critical_points(values)
    w = jnp.asarray([point.x, point.y])
    params = _scalars(values)
    assert np.linalg.norm(jax.grad(surface.fn)(w, params)) < 1e-10
    assert np.linalg.eigvalsh(jax.hessian(surface.fn)(w, params))[0] > 0
    assert surface.fn(w, params) == pytest.approx(point.value, rel=1e-12)


@pytest.mark.parametrize("key", ["linreg", "logreg"])
def test_regression_minimizers_lie_in_the_box_for_every_seed(key: str):
    surface = SURFACES[key]
    seed = next(spec for spec in surface.params if spec.name == "seed")
    variants = [{}, {"standardise": 1}] if key == "linreg" else [{}]
    for extra in variants:
        for s in range(int(seed.low), int(seed.high) + 1):
            (point,) = surface.critical_points({"seed": s, **extra})
            assert _inside(surface.box, point.x, point.y), (s, extra, point)


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


def test_logreg_data_overlaps_for_every_seed():
    """No threshold on x separates the labels, whichever way round: the minimizer is finite."""
    for seed in range(0, 1000, 37):
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
