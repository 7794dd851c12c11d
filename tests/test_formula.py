"""The formula parser: fuzzed with injections, and every refusal explained (the meaning of an
accepted formula: tests/test_formula_meaning.py)."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surfaces import formula
from surfaces.formula import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    VARIADIC,
    FormulaError,
    canonical,
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


@pytest.mark.parametrize("path", sorted(Path(formula.__file__).parent.glob("*.py")), ids=str)
def test_the_module_never_evaluates_text(path: Path) -> None:
    tree = ast.parse(path.read_text())
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
