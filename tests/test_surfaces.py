"""The surface registry: its rows, stationary points, finiteness over the box, traceability and
the pathologies (the regression surfaces' data: tests/test_regression_surfaces.py).

Every surface is checked for its default parameters and for each parameter at both ends of its
range; adding a row to `SURFACES` adds its cases here.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from surfaces import SURFACES, TAGS, Surface, get_surface
from tests.surface_probes import (
    FAST_COMPILE,
    Items,
    case_items,
    cases,
    grid_points,
    grid_values,
    inside_box,
    local_derivatives,
    probe_points,
    scalars,
    values_and_grads,
)

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
VALUE_TOL = 1e-10  # relative to max(1, |f|)
GRAD_TOL = 1e-8

CASES = [pytest.param(key, items, id=name) for key, items, name in cases()]
SHAPED = [  # the cases whose tags claim a shape: 'quadratic' or 'convex'
    pytest.param(key, items, id=name)
    for key, items, name in cases()
    if {"quadratic", "convex"} & SURFACES[key].tags
]


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
    assert all(inside_box(surface.box, *start) for start in surface.starts)
    assert surface.latex.startswith("f(")
    assert surface.latex.count("{") == surface.latex.count("}")
    assert surface.note
    assert "\n" not in surface.note
    assert len(surface.note) <= 200
    assert surface.tags
    assert surface.tags <= TAGS
    assert len({spec.name for spec in surface.params}) == len(surface.params)


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
def test_every_row_names_its_reference_with_a_year(surface: Surface):
    """The paper or book shown under the formula: one line, with a year in parentheses."""
    assert surface.reference.strip() == surface.reference
    assert "\n" not in surface.reference
    assert re.search(r"\((1[6-9]|20)\d\d\)", surface.reference) or surface.reference.startswith(
        "Descent Lab teaching surface"
    ), surface.reference


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
    params = scalars(case_items(surface.key, {}))
    value, grad = jax.eval_shape(jax.value_and_grad(surface.fn), w, params)
    assert (value.shape, value.dtype) == ((), jnp.float64)
    assert (grad.shape, grad.dtype) == ((2,), jnp.float64)


# Stationary points, for every parameter case.


@pytest.mark.parametrize(("key", "items"), CASES)
def test_stated_values_match_fn(key: str, items: Items):
    probe = probe_points(key, items)
    assert probe.points
    for point, value in zip(probe.points, probe.f, strict=True):
        assert abs(value - point.value) <= VALUE_TOL * max(1.0, abs(point.value)), point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_gradient_vanishes_at_stationary_points(key: str, items: Items):
    probe = probe_points(key, items)
    for point, grad in zip(probe.points, probe.grad, strict=True):
        assert np.linalg.norm(grad) < GRAD_TOL, point


@pytest.mark.parametrize(("key", "items"), CASES)
def test_hessian_matches_the_kind(key: str, items: Items):
    probe = probe_points(key, items)
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
    probe = probe_points(key, items)
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
    points = probe_points(key, items).points
    f_star = surface.minimum_value(dict(items))
    f, _ = grid_values(key, items)
    if f_star is None:
        assert f.min() < min(p.value for p in points) - 1.0
        return
    tol = 1e-9 * max(1.0, abs(f_star))
    assert all(abs(p.value - f_star) <= tol for p in points if p.kind == "global")
    assert all(p.value > f_star + tol for p in points if p.kind == "local")
    assert f.min() >= f_star - tol


@pytest.mark.parametrize(("key", "items"), CASES)
def test_finite_over_the_box(key: str, items: Items):
    f, g = grid_values(key, items)
    assert np.isfinite(f).all()
    assert np.isfinite(g).all()


@pytest.mark.parametrize(("key", "items"), CASES)
def test_stationary_points_lie_in_the_box(key: str, items: Items):
    surface = SURFACES[key]
    for point in probe_points(key, items).points:
        assert inside_box(surface.box, point.x, point.y), point


# Traceability: a parameter is a traced argument, never a constant.


@pytest.mark.parametrize("key", [key for key, surface in SURFACES.items() if surface.params])
def test_changing_a_parameter_does_not_recompile(key: str):
    """One compilation serves every parameter value, and each parameter changes f."""
    surface = SURFACES[key]
    w = jnp.asarray(surface.starts[0], jnp.float64)
    jitted = jax.jit(surface.fn, compiler_options=FAST_COMPILE)
    base = jitted(w, scalars(case_items(key, {})))
    for spec in surface.params:
        other = spec.low if spec.low != spec.default else spec.high
        changed = jitted(w, scalars(case_items(key, {spec.name: other})))
        assert not np.isclose(changed, base), spec.name
    assert jitted._cache_size() == 1


# The quadratics.


@pytest.mark.parametrize("kappa", [1.0, 10.0, 37.5, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_quadratic_hessian_has_the_documented_eigenvalues(kappa: float, angle: float):
    """∇²f = R(θ) diag(1, κ) R(θ)ᵀ everywhere, so gradient descent is stable iff η < 2/κ."""
    theta = np.deg2rad(angle)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    items = case_items("quadratic", {"kappa": kappa, "angle": angle})
    _, _, H = local_derivatives("quadratic", items, np.array([[0.3, -1.2], [-2.0, 2.5]]))
    for hessian in H:
        np.testing.assert_allclose(hessian, R @ np.diag([1.0, kappa]) @ R.T, atol=1e-12)
        np.testing.assert_allclose(np.linalg.eigvalsh(hessian), [1.0, kappa], rtol=1e-12)


def test_bowl_is_the_unit_quadratic():
    points = grid_points(SURFACES["bowl"].box, 7)
    f, _, H = local_derivatives("bowl", (), points)
    np.testing.assert_allclose(H, np.broadcast_to(np.eye(2), H.shape), atol=1e-15)
    np.testing.assert_allclose(f, 0.5 * np.sum(points**2, axis=1), rtol=1e-15)
    round_quadratic, _ = values_and_grads(
        "quadratic", case_items("quadratic", {"kappa": 1.0}), points
    )
    np.testing.assert_allclose(round_quadratic, f, rtol=1e-14)


@pytest.mark.parametrize(("key", "items"), SHAPED)
def test_shape_tags_hold_on_a_grid(key: str, items: Items):
    """'quadratic' means a constant Hessian, 'convex' a positive semi-definite one."""
    surface = SURFACES[key]
    _, _, H = local_derivatives(key, items, grid_points(surface.box, 9))
    if "quadratic" in surface.tags:
        np.testing.assert_allclose(H, np.broadcast_to(H[0], H.shape), rtol=1e-10, atol=1e-12)
    if "convex" in surface.tags:
        assert np.linalg.eigvalsh(H)[:, 0].min() >= -1e-10


# The pathologies.


def test_plateau_gradient_is_tiny_but_nonzero():
    surface = SURFACES["plateau"]
    _, g = values_and_grads("plateau", (), np.array(surface.starts))
    assert all(1e-6 < norm < 1e-3 for norm in np.linalg.norm(g, axis=1))
    f, g = grid_values("plateau", ())
    plateau = np.linalg.norm(grid_points(surface.box), axis=1) > 4
    norms = np.linalg.norm(g[plateau], axis=1)
    assert norms.min() > 0
    assert norms.max() < 3e-3
    assert f[plateau].min() > 0.999


def test_cliff_gradient_jumps_by_two_orders_of_magnitude():
    surface = SURFACES["cliff"]
    x0, y0 = surface.starts[0]
    xs = np.linspace(x0, -0.5, 2001)
    _, g = values_and_grads("cliff", (), np.column_stack([xs, np.full_like(xs, y0)]))
    norms = np.linalg.norm(g, axis=1)
    assert norms[0] < 2
    assert norms.max() > 100 * norms[0]
