"""The formula parser: fuzzed with injections, exact gradients, and overflow as divergence."""

from __future__ import annotations

import ast
import builtins
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.text import plain
from optimizers.engine import RunConfig, run
from optimizers.report import describe
from surfaces import formula
from surfaces.formula import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    VARIADIC,
    FormulaError,
    canonical,
    compile_formula,
    formula_surface,
    parse,
)

EXECUTED: list[str] = []  # an injection that ran would append here

INJECTIONS = [
    "__import__('os').system('echo pwned')",
    "__import__",
    "__builtins__",
    "x.__class__.__mro__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.real",
    "(lambda: 1)()",
    "lambda x: x",
    "[x for x in range(9)]",
    "{x: y for x in y}",
    "(x for x in y)",
    "f'{x}'",
    "f\"{__import__('os')}\"",
    "eval('1')",
    "exec('x=1')",
    "open('/etc/passwd').read()",
    "getattr(x, 'y')",
    "globals()",
    "tests.test_formula.EXECUTED.append('ran')",
    "__import__('tests.test_formula').test_formula.EXECUTED.append(1)",
    "x if y else 1",
    "x; import os",
    "x\nimport os",
    "x := 3",
    "x == y",
    "x < y",
    "not x",
    "x and y",
    "x @ y",
    "x % 2",
    "x // 2",
    "x[0]",
    "x{1}",
    "'x'",
    '"x"',
    "b'x'",
    "`x`",
    "$x",
    "x#comment",
    "\\x",
    "x\\\ny",
    "sin.__call__(x)",
    "sin(x).__class__",
    "_",
    "__",
    "sin(*x)",
    "max(**y)",
    "x ^ ^ y",
]
HUGE = ["x^999999999", "9^9^9^9^9", "exp(exp(exp(x)))", "1e9^1e9", "(x^64)^64^64", "10^308*10"]


@pytest.fixture
def nothing_executes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """eval, exec and compile replaced by recorders: a parse must call none of them."""
    calls: list[str] = []
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, lambda *a, _n=name, **k: calls.append(_n))
    yield calls
    assert calls == []
    assert EXECUTED == []


def refusal(text: str) -> FormulaError | None:
    """The parser's refusal of `text`, or None when it parses."""
    try:
        parse(text)
    except FormulaError as error:
        return error
    return None


def assert_explained(error: FormulaError, text: str) -> None:
    """A refusal names a position inside the text (or just past it) and says why."""
    assert isinstance(error, ValueError)
    assert 1 <= error.position <= len(text) + 1
    message = str(error)
    assert len(message) >= 20
    if "character" in message and "characters long" not in message:
        assert f"character {error.position}" in message


# Fuzzing: 500 + 400 + 300 + 150 + 50 generated inputs.

_SOUP = list("xyepi0123456789.+-*/^(),  _abcdfghlmnoqrstuvwz[]{}'\":;=<>!@#$%&|~`\\\n\t")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(_SOUP), max_size=120))
def test_random_text_parses_or_is_refused_with_a_reason(text: str) -> None:
    error = refusal(text)
    if error is not None:
        assert_explained(error, text)
    else:
        tree = parse(text)
        assert parse(canonical(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_unicode_text_is_handled(text: str) -> None:
    error = refusal(text)
    if error is not None:
        assert_explained(error, text)


def _leaf() -> st.SearchStrategy[str]:
    numbers = st.one_of(
        st.integers(0, 10**6).map(str),
        st.floats(0, 1e6, allow_nan=False).map(lambda v: f"{v:.6g}"),
        st.sampled_from(["0.5", ".25", "3e-2", "1E3", "2.", "1e+2"]),
    )
    return st.one_of(numbers, st.sampled_from(["x", "y", "pi", "e"]))


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    space = st.sampled_from(["", " "])
    binary = st.tuples(children, space, st.sampled_from(["+", "-", "*", "/", "^", "**"]), space)
    return st.one_of(
        st.builds(lambda t, r: f"{t[0]}{t[1]}{t[2]}{t[3]}{r}", binary, children),
        st.builds(lambda c: f"-{c}", children),
        st.builds(lambda c: f"+{c}", children),
        st.builds(lambda c: f"({c})", children),
        st.builds(lambda f, c: f"{f}({c})", st.sampled_from(sorted(FUNCTIONS)), children),
        st.builds(
            lambda f, cs: f"{f}({', '.join(cs)})",
            st.sampled_from(sorted(VARIADIC)),
            st.lists(children, min_size=2, max_size=3),
        ),
    )


FORMULAS = st.recursive(_leaf(), _grow, max_leaves=25)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULAS)
def test_grammar_formulas_parse_and_round_trip(text: str) -> None:
    error = refusal(text)
    if error is not None:  # only the caps may refuse a grammatical formula
        assert "nests deeper" in str(error) or "characters long" in str(error), str(error)
        return
    tree = parse(text)
    text_form = canonical(tree)
    assert parse(text_form) == tree
    assert canonical(parse(text_form)) == text_form


@settings(max_examples=300, deadline=None)
@given(FORMULAS, st.sampled_from(INJECTIONS), st.integers(0, 10**6))
def test_injections_inside_formulas_are_refused(text: str, attack: str, where: int) -> None:
    cut = where % (len(text) + 1)
    mixed = text[:cut] + attack + text[cut:]
    error = refusal(mixed)
    assert error is not None, mixed
    assert_explained(error, mixed)
    assert EXECUTED == []


@settings(max_examples=150, deadline=None)
@given(st.integers(MAX_DEPTH + 1, 400), st.sampled_from(["(", "-", "sin(", "x^", "max(1,", "+"]))
def test_deep_nesting_is_refused_at_the_level_that_exceeds_the_cap(depth: int, opener: str) -> None:
    closer = ")" if opener.endswith("(") else ""
    text = opener * depth + "x" + closer * depth
    error = refusal(text)
    assert error is not None
    assert_explained(error, text)
    message = str(error)
    if len(text) > MAX_LENGTH:
        assert "characters long" in message
    else:
        assert f"deeper than {MAX_DEPTH} levels" in message


@settings(max_examples=50, deadline=None)
@given(st.integers(1, MAX_DEPTH // 2))
def test_nesting_within_the_cap_is_accepted(depth: int) -> None:
    assert parse("(" * depth + "x" + ")" * depth) == parse("x")
    assert parse("-" * (2 * depth) + "x") is not None


@pytest.mark.parametrize("attack", INJECTIONS)
def test_every_injection_is_refused_and_nothing_runs(
    attack: str, nothing_executes: list[str]
) -> None:
    error = refusal(attack)
    assert error is not None
    assert_explained(error, attack)


def test_the_module_never_evaluates_text() -> None:
    tree = ast.parse(Path(formula.__file__).read_text())
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "setattr"}
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert not imported & {"sympy", "builtins", "importlib", "os", "subprocess", "pickle"}


# Messages.


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("__import__('os')", "unknown name '__import__' at character 1; allowed: x, y, pi", 1),
        ("x + y.real", "the character '.' at character 6 is not allowed", 6),
        ("x + 2x", "missing operator before 'x' at character 6: write products with *", 6),
        ("2(x + 1)", "missing operator before '(' at character 2", 2),
        ("xy", "unknown name 'xy' at character 1 (for a product write x*y)", 1),
        ("sin x", "needs parentheses: sin(...)", 1),
        ("sin(x, y)", "takes one argument, got 2", 1),
        ("max(x)", "takes two or more arguments", 1),
        ("(x + 1", "the parenthesis opened at character 1 is never closed", 1),
        ("x + 1)", "unmatched ')' at character 6", 6),
        ("x +", "the formula ends too early", 4),
        ("", "the formula is empty", 1),
        ("   ", "the formula is empty", 4),
        ("x²", "write x^2", 2),
        ("x − y", "type the minus sign as -", 3),
        ("1e10*x", "the number '1e10' at character 1 is too large", 1),
        ("1" * 40, "is too long", 1),
        ("x" + "+x" * 300, f"the limit is {MAX_LENGTH}", MAX_LENGTH + 1),
        ("x, y", "commas only separate the arguments of min and max", 2),
        ("x * * y", "expected a number, x, y or a function, found '*' at character 5", 5),
    ],
)
def test_refusals_point_at_the_offending_token(text: str, message: str, position: int) -> None:
    error = refusal(text)
    assert error is not None
    assert message in str(error)
    assert error.position == position


def test_formula_errors_are_value_errors() -> None:
    assert issubclass(FormulaError, ValueError)
    with pytest.raises(ValueError, match="must be text"):
        parse(42)  # type: ignore[arg-type]


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
