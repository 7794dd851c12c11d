"""Accepted formulas: values, canonical text and LaTeX, exact gradients, the surface they make,
overflow as divergence, and the sidebar controls."""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from app.text import plain
from optimizers.engine import RunConfig, run
from optimizers.report import describe
from surfaces.formula import (
    FUNCTIONS,
    MAX_LENGTH,
    canonical,
    compile_formula,
    formula_surface,
    parse,
)

HUGE = ["x^999999999", "9^9^9^9^9", "exp(exp(exp(x)))", "1e9^1e9", "(x^64)^64^64", "10^308*10"]

# Meaning.


def value(text: str, x: float = 0.7, y: float = -1.3) -> float:
    return float(compile_formula(text).fn(jnp.array([x, y]), {}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-x^2", -(0.7**2)),
        ("(-x)^2", 0.7**2),
        ("2^3^2", 512.0),
        ("2**3**2", 512.0),
        ("(2^3)^2", 64.0),
        ("x^-2", 0.7**-2),
        ("-2^2", -4.0),
        ("2*-y", 2.6),
        ("x - y - 1", 0.7 + 1.3 - 1),
        ("x - (y - 1)", 0.7 - (-1.3 - 1)),
        ("8/2/4", 1.0),
        ("8/(2/4)", 16.0),
        ("1 + 2*3^2", 19.0),
        ("+x", 0.7),
        ("--x", 0.7),
        ("pi + e", math.pi + math.e),
        ("y^3", (-1.3) ** 3),
        ("y^0.5", math.nan),
        ("min(x, y, 0)", -1.3),
        ("max(x, y)", 0.7),
        ("3e-2*x + .5", 0.03 * 0.7 + 0.5),
        ("log10(100) + log(e)", 3.0),
        ("abs(y) + relu(y)", 1.3),
    ],
)
def test_precedence_and_values(text: str, expected: float) -> None:
    if math.isnan(expected):
        assert math.isnan(value(text))
    else:
        assert value(text) == pytest.approx(expected, rel=1e-14)


REFERENCE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
    "softplus": lambda t: np.log1p(np.exp(t)),
    "relu": lambda t: np.maximum(t, 0),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_matches_numpy(name: str) -> None:
    assert set(REFERENCE) == set(FUNCTIONS)
    for t in (-0.9, -0.2, 0.3, 0.8):
        with np.errstate(invalid="ignore"):  # log and sqrt of a negative number: NaN
            expected = REFERENCE[name](np.float64(t))
        got = value(f"{name}(x)", x=t)
        if np.isnan(expected):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(expected, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2 + 10*y^2", "x^2 + 10*y^2"),
        ("x**2+10 * y ^ 2", "x^2 + 10*y^2"),
        ("((x))", "x"),
        ("(x*y)*x", "x*y*x"),
        ("x*(y*x)", "x*(y*x)"),
        ("x - (y + 1)", "x - (y + 1)"),
        ("(x^2)^3", "(x^2)^3"),
        ("x^2^3", "x^2^3"),
        ("x^(-2)", "x^(-2)"),
        ("-(x + y)", "-(x + y)"),
        ("2*(-x)", "2*(-x)"),
        ("0.10*x + 1.0", "0.1*x + 1"),
        ("1e-3*x", "0.001*x"),
        ("1e-8*x", "1e-08*x"),
        ("max(x,y,  1)", "max(x, y, 1)"),
    ],
)
def test_canonical_text(text: str, expected: str) -> None:
    assert canonical(parse(text)) == expected
    assert parse(expected) == parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2 + 10*y^2", r"f(x, y) = {x}^{2} + 10\,{y}^{2}"),
        ("sin(x)/(1 + y^2)", r"f(x, y) = \frac{\sin\left(x\right)}{1 + {y}^{2}}"),
        ("sqrt(abs(x))", r"f(x, y) = \sqrt{\left|x\right|}"),
        ("(x - 1)^2*pi", r"f(x, y) = {\left(x - 1\right)}^{2} \cdot \pi"),
        ("1e-8*sigmoid(x)", r"f(x, y) = 1 \times 10^{-8}\,\sigma\left(x\right)"),
        ("-(x*y) - (-x)", r"f(x, y) = -\left(x \cdot y\right) - \left(-x\right)"),
    ],
)
def test_latex(text: str, expected: str) -> None:
    latex = compile_formula(text).latex
    assert latex == expected
    assert latex.count("{") == latex.count("}")


# Exact gradients.

GRADIENTS: dict[str, Callable[[float, float], tuple[float, float]]] = {
    "x^2 + 10*y^2": lambda x, y: (2 * x, 20 * y),
    "sin(x)*cos(y) + 0.1*(x^2 + y^2)": lambda x, y: (
        math.cos(x) * math.cos(y) + 0.2 * x,
        -math.sin(x) * math.sin(y) + 0.2 * y,
    ),
    "(1 - x)^2 + 100*(y - x^2)^2": lambda x, y: (
        -2 * (1 - x) - 400 * x * (y - x * x),
        200 * (y - x * x),
    ),
    "exp(-(x^2 + y^2)/2)": lambda x, y: (
        -x * math.exp(-(x * x + y * y) / 2),
        -y * math.exp(-(x * x + y * y) / 2),
    ),
    "log(1 + x^2 + y^2)": lambda x, y: (
        2 * x / (1 + x * x + y * y),
        2 * y / (1 + x * x + y * y),
    ),
    "sqrt(x^2 + y^2 + 1)": lambda x, y: (
        x / math.sqrt(x * x + y * y + 1),
        y / math.sqrt(x * x + y * y + 1),
    ),
    "tanh(x*y)": lambda x, y: (
        y / math.cosh(x * y) ** 2,
        x / math.cosh(x * y) ** 2,
    ),
    "sigmoid(x - 2*y)": lambda x, y: (
        (s := 1 / (1 + math.exp(2 * y - x))) * (1 - s),
        -2 * s * (1 - s),
    ),
    "softplus(x) + y^3/3": lambda x, y: (1 / (1 + math.exp(-x)), y * y),
    "x/(1 + y^2)": lambda x, y: (1 / (1 + y * y), -2 * x * y / (1 + y * y) ** 2),
    "2^x + x*y": lambda x, y: (math.log(2) * 2**x + y, x),
    "cosh(x) - e^y": lambda x, y: (math.sinh(x), -math.exp(y)),
    "abs(x - 5) + y^4": lambda x, y: (-1.0, 4 * y**3),
    "atan(x) * min(y, 10)": lambda x, y: (y / (1 + x * x), math.atan(x)),
    "-x^-2 + y": lambda x, y: (2 * x**-3, 1.0),
}


@pytest.mark.parametrize("text", list(GRADIENTS))
def test_gradients_equal_hand_derived_ones(text: str) -> None:
    gradient = jax.jit(jax.grad(compile_formula(text).fn))
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    for x, y in rng.uniform(-2.0, 2.0, (20, 2)):
        if abs(x) < 0.1:  # x^-2 is steep at 0; keep well-conditioned points
            x += 0.5
        got = np.asarray(gradient(jnp.array([x, y]), {}))
        np.testing.assert_allclose(got, GRADIENTS[text](x, y), rtol=1e-12, atol=1e-12)


def test_formulas_work_under_jit_vmap_and_hessian() -> None:
    fn = compile_formula("x^2*y + sin(y)").fn
    points = jnp.array([[0.5, 1.0], [-1.0, 2.0], [2.0, -0.5]])
    values = jax.jit(jax.vmap(lambda w: fn(w, {})))(points)
    expected = [x * x * y + math.sin(y) for x, y in np.asarray(points)]
    np.testing.assert_allclose(values, expected, rtol=1e-14)
    hessian = jax.hessian(fn)(jnp.array([0.5, 1.0]), {})
    np.testing.assert_allclose(hessian, [[2.0, 1.0], [1.0, -math.sin(1.0)]], rtol=1e-14)
    constant = compile_formula("3").fn
    assert float(constant(jnp.array([1.0, 2.0]), {})) == 3.0
    np.testing.assert_array_equal(jax.grad(constant)(jnp.array([1.0, 2.0]), {}), [0.0, 0.0])


def test_long_flat_sums_do_not_recurse_deeply() -> None:
    text = "+".join(["x"] * 240)
    assert len(text) <= MAX_LENGTH
    assert value(text, x=0.5) == pytest.approx(120.0)
    assert float(jax.grad(compile_formula(text).fn)(jnp.array([0.5, 0.0]), {})[0]) == 240.0


# The surface and the engine.


def test_formula_surface_is_a_surface_with_its_minima() -> None:
    surface = formula_surface("(x - 1)^2 + 2*(y + 0.5)^2", (-3.0, 3.0, -2.0, 2.0), (2.5, 1.5))
    assert surface.key == "formula" and surface.latex.startswith("f(x, y) = ")
    assert surface.box == (-3.0, 3.0, -2.0, 2.0) and surface.starts == ((2.5, 1.5),)
    (point,) = surface.critical_points()
    assert point.kind == "global"
    assert (point.x, point.y, point.value) == pytest.approx((1.0, -0.5, 0.0), abs=1e-9)
    assert surface.recipe == ("formula", "(x - 1)^2 + 2*(y + 0.5)^2", surface.box, (2.5, 1.5))
    again = formula_surface("(x-1)**2 + 2*(y+0.5)^2", [-3, 3, -2, 2], [2.5, 1.5])
    assert again is surface  # memoised on the canonical text


def test_found_minima_are_stationary_and_labelled_honestly() -> None:
    surface = formula_surface("sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    points = surface.critical_points()
    assert len(points) >= 2
    assert [p.kind for p in points].count("global") == 1
    gradient = jax.grad(surface.fn)
    for p in points:
        assert np.linalg.norm(gradient(jnp.array([p.x, p.y]), {})) < 1e-7
    assert formula_surface("x^3 + y^2").critical_points() == ()  # no minimum in the box
    assert formula_surface("(x - y)^2").critical_points() == ()  # a valley, not a point
    # Minima inside the box, but the box's lowest point lies on its edge (x = −3): none of
    # them is called global.
    tilted = formula_surface("x + 2*cos(3*x) + y^2").critical_points()
    assert [round(p.x, 2) for p in tilted] == [-1.1, 0.99]
    assert all(p.kind == "local" for p in tilted)


@pytest.mark.parametrize(
    ("box", "start", "message"),
    [
        ((1.0, 0.0, -1.0, 1.0), None, "x_min < x_max"),
        ((0.0, 1.0, 2.0, 2.0), None, "y_min < y_max"),
        ((0.0, math.inf, 0.0, 1.0), None, "finite"),
        ((0.0, 1.0, 0.0), None, "four numbers"),
        ((0.0, 1.0, 0.0, 1.0), (math.nan, 0.0), "start coordinates"),
        ((0.0, 1.0, 0.0, 1.0), (1.0,), "start must be a point"),
    ],
)
def test_bad_box_or_start_is_a_value_error(box, start, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        formula_surface("x^2 + y^2", box, start)


def test_runs_on_a_formula_converge_to_its_minimum() -> None:
    surface = formula_surface("x^2 + 10*y^2")
    config = RunConfig(surface, "gd", lr=0.05, steps=2000, start=(2.0, 1.0))
    t = run(config)
    assert t.status.outcome == "converged"
    assert t.status.nearest is not None and t.status.nearest.kind == "global"
    assert describe(t, config).startswith("Converged to the global minimum")


@pytest.mark.parametrize("text", HUGE)
def test_huge_exponents_parse_and_overflow_into_a_diverged_run(text: str) -> None:
    surface = formula_surface(text, (-3.0, 3.0, -3.0, 3.0), (2.0, 1.0))
    config = RunConfig(surface, "adam", lr=0.1, steps=50)
    t = run(config)
    assert t.status.outcome in ("diverged", "converged", "max_steps")
    arrays = [t.positions, t.loss, t.grad, t.update, t.lr]
    assert all(np.isfinite(a).all() for a in arrays)
    assert describe(t, config)


def test_overflow_at_the_start_is_a_diverged_run() -> None:
    surface = formula_surface("exp(exp(x)) + y^2", start=(8.0, 0.0))
    config = RunConfig(surface, "gd", lr=0.1, steps=100)
    t = run(config)
    assert t.status.outcome == "diverged" and t.status.step == 0
    assert len(t.positions) == 0
    assert "not finite at the start" in describe(t, config)


def test_overflow_mid_run_is_a_diverged_run() -> None:
    surface = formula_surface("x^4 + y^2", (-3.0, 3.0, -3.0, 3.0), (2.0, 1.0))
    config = RunConfig(surface, "gd", lr=1.0, steps=200)
    t = run(config)
    assert t.status.outcome == "diverged" and t.status.step > 0
    assert np.isfinite(t.positions).all() and np.isfinite(t.loss).all()
    sentence = describe(t, config)
    assert sentence.startswith("Diverged: it left the view at step ")
    assert f"at step {t.status.step} at " in sentence


def test_leaving_the_domain_is_a_diverged_run() -> None:
    surface = formula_surface("sqrt(x) + log(y)", (0.0, 4.0, 0.1, 4.0), (1.0, 1.0))
    t = run(RunConfig(surface, "gd", lr=10.0, steps=100))
    assert t.status.outcome == "diverged"
    assert np.isfinite(t.positions).all()


# The sidebar controls (app/custom.py), driven by AppTest.


def _formula_page() -> None:
    import streamlit as st

    from app import custom

    surface = custom.formula_controls()
    st.write("recipe", None if surface is None else repr(surface.recipe))


def test_formula_controls_show_latex_errors_and_keep_the_last_good_formula() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_formula_page, default_timeout=60)
    at.run()
    assert not at.exception and at.get("latex")
    at.text_input(key="formula").set_value("(x - 1)^2 + y^2").run()
    assert "'(x - 1)^2 + y^2'" in at.markdown[-1].value
    at.text_input(key="formula").set_value("x^2 + 2x").run()
    assert "missing operator before 'x' at character 8" in at.error[0].value
    assert "'(x - 1)^2 + y^2'" in at.markdown[-1].value  # the last good one stays in use
    at.text_input(key="formula").set_value("(x - 1)^2 + y^2").run()
    at.number_input(key="formula_x0").set_value(5.0).run()
    assert plain("x_min < x_max") in at.error[0].value
    assert "(-3.0, 3.0, -3.0, 3.0)" in at.markdown[-1].value
