"""The surface registry: stationary points, finiteness over the box, traceability, and the data
behind the regression surfaces.

Every surface is checked for its default parameters and for each parameter at both ends of its
range; adding a row to `SURFACES` adds its cases here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

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
GRID = 201  # every other node is the 101 × 101 grid
BATCH = GRID * GRID  # every batched (f, ∇f) call has this many points, so each compiles once
PROBE = 512  # and every batched (f, ∇f, ∇²f) call this many
RING = 16  # directions probed around each stationary point, besides the Hessian's eigenvectors
RADIUS = 1e-4
VALUE_TOL = 1e-10  # relative to max(1, |f|)
GRAD_TOL = 1e-8
SEEDS = (0, 1, 42, 999)
# Each test program runs a handful of times: XLA's optimisation passes would only double the time.
FAST_COMPILE = {"xla_backend_optimization_level": 0}

Items = tuple[tuple[str, float], ...]


def _cases() -> Iterator[tuple[str, Items, str]]:
    """(key, parameter items, id): the defaults, then each parameter at its low and high end."""
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
                yield key, tuple(values.items()), key + changed


CASES = [pytest.param(key, items, id=name) for key, items, name in _cases()]
SHAPED = [  # the cases whose tags claim a shape: 'quadratic' or 'convex'
    pytest.param(key, items, id=name)
    for key, items, name in _cases()
    if {"quadratic", "convex"} & SURFACES[key].tags
]


def _items(key: str, values: dict[str, float]) -> Items:
    return tuple(SURFACES[key].resolve(values).items())


def _scalars(items: Items) -> dict[str, jax.Array]:
    return {name: jnp.asarray(v, jnp.float64) for name, v in items}


@functools.cache
def _compiled(key: str):
    """Batched w ↦ (f, ∇f) and w ↦ (f, ∇f, ∇²f) of one surface, parameters traced."""
    fn = SURFACES[key].fn

    def grad_and_more(w, params):
        f, g = jax.value_and_grad(fn)(w, params)
        return g, (f, g)

    def local(w, params):
        H, (f, g) = jax.jacfwd(grad_and_more, has_aux=True)(w, params)
        return f, g, H

    def batched(f):
        return jax.jit(jax.vmap(f, in_axes=(0, None)), compiler_options=FAST_COMPILE)

    return batched(jax.value_and_grad(fn)), batched(local)


def _padded(points: np.ndarray, size: int) -> tuple[jax.Array, int]:
    """The points as a (size, 2) array, the first repeated to fill it, and how many there are."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    n = len(points)
    assert n <= size
    return jnp.asarray(np.concatenate([points, np.repeat(points[:1], size - n, 0)])), n


def _values(key: str, items: Items, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f and ∇f at each point."""
    ws, n = _padded(points, BATCH)
    f, g = _compiled(key)[0](ws, _scalars(items))
    return np.asarray(f)[:n], np.asarray(g)[:n]


def _local(key: str, items: Items, points: np.ndarray) -> tuple[np.ndarray, ...]:
    """f, ∇f and ∇²f at each point."""
    ws, n = _padded(points, PROBE)
    return tuple(np.asarray(a)[:n] for a in _compiled(key)[1](ws, _scalars(items)))


def _grid_points(box: tuple[float, float, float, float], n: int = GRID) -> np.ndarray:
    x_min, x_max, y_min, y_max = box
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, n), np.linspace(y_min, y_max, n))
    return np.column_stack([xs.ravel(), ys.ravel()])


@functools.cache
def _grid(key: str, items: Items) -> tuple[np.ndarray, np.ndarray]:
    """f and ∇f on a GRID × GRID grid over the box."""
    return _values(key, items, _grid_points(SURFACES[key].box))


class Probe(NamedTuple):
    points: tuple[CriticalPoint, ...]
    f: np.ndarray
    grad: np.ndarray
    hessian: np.ndarray
    around: np.ndarray  # f on a small ring and along ± each eigenvector of ∇²f, per point


@functools.cache
def _probe(key: str, items: Items) -> Probe:
    points = SURFACES[key].critical_points(dict(items))
    centres = np.array([(p.x, p.y) for p in points])
    f, g, H = _local(key, items, centres)
    angles = np.linspace(0, 2 * np.pi, RING, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)])
    eigenvectors = np.linalg.eigh(H)[1].transpose(0, 2, 1)
    directions = np.concatenate(
        [np.broadcast_to(ring, (len(points), RING, 2)), eigenvectors, -eigenvectors], axis=1
    )
    around, *_ = _local(key, items, centres[:, None, :] + RADIUS * directions)
    return Probe(points, f, g, H, around.reshape(len(points), -1))


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


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
def test_fn_returns_a_float64_scalar(surface: Surface):
    w = jnp.asarray(surface.starts[0], jnp.float64)
    params = _scalars(_items(surface.key, {}))
    value, grad = jax.eval_shape(jax.value_and_grad(surface.fn), w, params)
    assert (value.shape, value.dtype) == ((), jnp.float64)
    assert (grad.shape, grad.dtype) == ((2,), jnp.float64)


# Stationary points, for every parameter case.


@pytest.mark.parametrize(("key", "items"), CASES)
def test_stated_values_match_fn(key: str, items: Items):
    probe = _probe(key, items)
    assert probe.points
    for point, value in zip(probe.points, probe.f, strict=True):
        assert abs(value - point.value) <= VALUE_TOL * max(1.0, abs(point.value)), point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_gradient_vanishes_at_stationary_points(key: str, items: Items):
    probe = _probe(key, items)
    for point, grad in zip(probe.points, probe.grad, strict=True):
        assert np.linalg.norm(grad) < GRAD_TOL, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_hessian_matches_the_kind(key: str, items: Items):
    probe = _probe(key, items)
    for point, hessian in zip(probe.points, probe.hessian, strict=True):
        low, high = np.linalg.eigvalsh(hessian)
        if point.kind != "saddle":
            assert low >= -1e-8, point
        elif max(-low, high) > 1e-6:  # not the monkey saddle's zero Hessian
            assert low < -1e-6, point
            assert high > 1e-6, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_neighbourhood_matches_the_kind(key: str, items: Items):
    """Minima lie below every nearby probe; saddles between the lowest and the highest."""
    probe = _probe(key, items)
    for point, value, around in zip(probe.points, probe.f, probe.around, strict=True):
        if point.kind == "saddle":
            assert around.min() < value < around.max(), point
        else:
            assert around.min() > value, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_global_minimum_is_lowest(key: str, items: Items):
    """Every global minimum has one value f*, each local minimum lies above it, and so does every
    grid node; where f is unbounded below, the grid dips below every stationary value."""
    surface = SURFACES[key]
    points = _probe(key, items).points
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
    for point in _probe(key, items).points:
        assert _inside(surface.box, point.x, point.y), point


# Traceability: a parameter is a traced argument, never a constant.


@pytest.mark.parametrize("key", [key for key, surface in SURFACES.items() if surface.params])
def test_changing_a_parameter_does_not_recompile(key: str):
    """One compilation serves every parameter value, and each parameter changes f."""
    surface = SURFACES[key]
    w = jnp.asarray(surface.starts[0], jnp.float64)
    jitted = jax.jit(surface.fn, compiler_options=FAST_COMPILE)
    base = jitted(w, _scalars(_items(key, {})))
    for spec in surface.params:
        other = spec.low if spec.low != spec.default else spec.high
        changed = jitted(w, _scalars(_items(key, {spec.name: other})))
        assert not np.isclose(changed, base), spec.name
    assert jitted._cache_size() == 1


# The quadratics.


@pytest.mark.parametrize("kappa", [1.0, 10.0, 37.5, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_quadratic_hessian_has_the_documented_eigenvalues(kappa: float, angle: float):
    """∇²f = R(θ) diag(1, κ) R(θ)ᵀ everywhere, so gradient descent is stable iff η < 2/κ."""
    theta = np.deg2rad(angle)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    items = _items("quadratic", {"kappa": kappa, "angle": angle})
    _, _, H = _local("quadratic", items, np.array([[0.3, -1.2], [-2.0, 2.5]]))
    for hessian in H:
        np.testing.assert_allclose(hessian, R @ np.diag([1.0, kappa]) @ R.T, atol=1e-12)
        np.testing.assert_allclose(np.linalg.eigvalsh(hessian), [1.0, kappa], rtol=1e-12)


def test_bowl_is_the_unit_quadratic():
    points = _grid_points(SURFACES["bowl"].box, 7)
    f, _, H = _local("bowl", (), points)
    np.testing.assert_allclose(H, np.broadcast_to(np.eye(2), H.shape), atol=1e-15)
    np.testing.assert_allclose(f, 0.5 * np.sum(points**2, axis=1), rtol=1e-15)
    round_quadratic, _ = _values("quadratic", _items("quadratic", {"kappa": 1.0}), points)
    np.testing.assert_allclose(round_quadratic, f, rtol=1e-14)


@pytest.mark.parametrize(("key", "items"), SHAPED)
def test_shape_tags_hold_on_a_grid(key: str, items: Items):
    """'quadratic' means a constant Hessian, 'convex' a positive semi-definite one."""
    surface = SURFACES[key]
    _, _, H = _local(key, items, _grid_points(surface.box, 9))
    if "quadratic" in surface.tags:
        np.testing.assert_allclose(H, np.broadcast_to(H[0], H.shape), rtol=1e-10, atol=1e-12)
    if "convex" in surface.tags:
        assert np.linalg.eigvalsh(H)[:, 0].min() >= -1e-10


# The pathologies.


def test_plateau_gradient_is_tiny_but_nonzero():
    surface = SURFACES["plateau"]
    _, g = _values("plateau", (), np.array(surface.starts))
    assert all(1e-6 < norm < 1e-3 for norm in np.linalg.norm(g, axis=1))
    f, g = _grid("plateau", ())
    plateau = np.linalg.norm(_grid_points(surface.box), axis=1) > 4
    norms = np.linalg.norm(g[plateau], axis=1)
    assert norms.min() > 0
    assert norms.max() < 3e-3
    assert f[plateau].min() > 0.999


def test_cliff_gradient_jumps_by_two_orders_of_magnitude():
    surface = SURFACES["cliff"]
    x0, y0 = surface.starts[0]
    xs = np.linspace(x0, -0.5, 2001)
    _, g = _values("cliff", (), np.column_stack([xs, np.full_like(xs, y0)]))
    norms = np.linalg.norm(g, axis=1)
    assert norms[0] < 2
    assert norms.max() > 100 * norms[0]


# The regression surfaces.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("standardise", [0, 1])
def test_linreg_minimizer_is_the_least_squares_fit(seed: int, standardise: int):
    items = _items("linreg", {"seed": seed, "standardise": standardise})
    x, y = regression_data("linreg", dict(items))
    A = np.column_stack([x, np.ones_like(x)])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    probe = _probe("linreg", items)
    (point,) = probe.points
    np.testing.assert_allclose([point.x, point.y], beta, rtol=1e-10, atol=1e-12)
    assert point.value == pytest.approx(np.mean((A @ beta - y) ** 2), rel=1e-12)
    assert probe.f[0] == pytest.approx(point.value, rel=1e-12)
    assert np.linalg.norm(probe.grad[0]) < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_standardising_makes_the_linreg_bowl_round(seed: int):
    def condition(standardise: int) -> float:
        items = _items("linreg", {"seed": seed, "standardise": standardise})
        return float(np.linalg.cond(_probe("linreg", items).hessian[0]))

    assert condition(0) > 30
    assert condition(1) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_logreg_minimizer_is_stationary(seed: int):
    probe = _probe("logreg", _items("logreg", {"seed": seed}))
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
