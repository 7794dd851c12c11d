"""Custom surfaces from a formula in x and y, parsed safely: no eval, no exec, no sympy.

The text comes from strangers (it travels in shared links), so it is read by a hand-written
tokenizer and a recursive-descent parser that know only a whitelist:

    numbers     12, 0.5, .5, 3e-2 (at most 32 characters, magnitude at most 1e9)
    variables   x, y
    constants   pi, e
    operators   + − * / and power as ^ or **, parentheses
    functions   sin cos tan asin acos atan sinh cosh tanh exp log log10 sqrt abs
                sigmoid softplus relu (one argument), min max (two or more, comma-separated)

Grammar (maths precedence; power is right-associative and binds tighter than unary minus, so
−x^2 = −(x^2) and 2^3^2 = 2^(3^2) = 512; an exponent may carry its own sign: x^−2):

    expression := term (("+" | "−") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "−") unary | power
    power      := atom [("^" | "**") unary]
    atom       := number | name | function "(" expression ("," expression)* ")" | "(" expression ")"

Implicit multiplication (2x, x y, 2(x + 1), x(y)) is refused with a message asking for `*`:
reading `xy` as x·y would make names ambiguous. The text is at most 500 characters and nests
at most 30 levels (parentheses, function calls, signs and exponents each add a level).

Every refusal is a `FormulaError` (a ValueError) whose message quotes the offending token and
its 1-based character position. Nothing in the text is ever executed: the parser builds an
immutable tree of `Number`, `Variable`, `Constant`, `Negate`, `Binary` and `Call` nodes, and
`compile_formula` maps the tree onto jnp operations. Overflow (exp(exp(x)), x^1000) yields inf
or NaN at run time, which the engine reports as a diverged run.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from surfaces.base import CriticalPoint, Surface

MAX_LENGTH = 500
MAX_DEPTH = 30
MAX_NUMBER_CHARS = 32
MAX_NUMBER = 1e9
MAX_INTEGER_POWER = 64  # x^n with a whole |n| ≤ this is exact repeated multiplication
MAX_COORDINATE = 1e6  # the engine's limit on start points, also used for the plot box
DEFAULT_BOX = (-3.0, 3.0, -3.0, 3.0)
DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"  # the formula a new page starts with

VARIABLES = ("x", "y")
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

Unary = Callable[[jax.Array], jax.Array]

# name → (jnp function, LaTeX operator); every one takes exactly one argument.
FUNCTIONS: dict[str, tuple[Unary, str]] = {
    "sin": (jnp.sin, r"\sin"),
    "cos": (jnp.cos, r"\cos"),
    "tan": (jnp.tan, r"\tan"),
    "asin": (jnp.arcsin, r"\arcsin"),
    "acos": (jnp.arccos, r"\arccos"),
    "atan": (jnp.arctan, r"\arctan"),
    "sinh": (jnp.sinh, r"\sinh"),
    "cosh": (jnp.cosh, r"\cosh"),
    "tanh": (jnp.tanh, r"\tanh"),
    "exp": (jnp.exp, r"\exp"),
    "log": (jnp.log, r"\log"),
    "log10": (jnp.log10, r"\log_{10}"),
    "sqrt": (jnp.sqrt, r"\sqrt"),
    "abs": (jnp.abs, ""),
    "sigmoid": (jax.nn.sigmoid, r"\sigma"),
    "softplus": (jax.nn.softplus, r"\operatorname{softplus}"),
    "relu": (jax.nn.relu, r"\operatorname{relu}"),
}
# name → (reduction of two arrays, LaTeX operator); two or more arguments.
VARIADIC: dict[str, tuple[Callable[[jax.Array, jax.Array], jax.Array], str]] = {
    "min": (jnp.minimum, r"\min"),
    "max": (jnp.maximum, r"\max"),
}
ALLOWED_NAMES = (*VARIABLES, *CONSTANTS, *FUNCTIONS, *VARIADIC)
_ALLOWED = ", ".join(ALLOWED_NAMES)


class FormulaError(ValueError):
    """A refused formula; `position` is the 1-based character where the problem starts."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


# The tree.


@dataclass(frozen=True, slots=True)
class Number:
    """A non-negative numeric literal (a sign is a `Negate` node)."""

    value: float


@dataclass(frozen=True, slots=True)
class Variable:
    """x or y."""

    name: str


@dataclass(frozen=True, slots=True)
class Constant:
    """pi or e."""

    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    """−operand."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """left op right, op one of + − * / ^."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A whitelisted function applied to its arguments."""

    name: str
    args: tuple[Node, ...]


Node = Number | Variable | Constant | Negate | Binary | Call


# Tokens.

TokenKind = Literal["number", "name", "op", "end", "bad"]


class Token(NamedTuple):
    kind: TokenKind
    text: str
    position: int  # 1-based character of its first character


_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")", ",")
_SPACE = frozenset(" \t\r\n")
_HINTS = {
    "²": "write x^2",
    "³": "write x^3",
    "−": "type the minus sign as -",
    "×": "type products with *",
    "·": "type products with *",
    "÷": "type divisions with /",
    "π": "type pi",
}


def _show(text: str, limit: int = 24) -> str:
    """A token as quoted in a message: control characters escaped, long ones shortened."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(shown)


def _scan(text: str, limit: int | None = MAX_LENGTH) -> list[Token]:
    """The tokens of `text`, ending with an "end" token, or with a "bad" token whose text is
    the message for the first character no token can start with (the parser raises it when it
    gets there, so that problems are reported in reading order). The length `limit` applies to
    the typed text; None only for the canonical text of a formula already accepted."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}", 1)
    if limit is not None and len(text) > limit:
        raise FormulaError(
            f"the formula is {len(text)} characters long; the limit is {MAX_LENGTH}",
            MAX_LENGTH + 1,
        )
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _SPACE:
            i += 1
            continue
        if number := _NUMBER.match(text, i):
            tokens.append(Token("number", number.group(), i + 1))
            i = number.end()
        elif name := _NAME.match(text, i):
            tokens.append(Token("name", name.group(), i + 1))
            i = name.end()
        elif op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
            tokens.append(Token("op", op, i + 1))
            i += len(op)
        else:
            hint = _HINTS.get(
                char,
                "a formula may use only numbers, x, y, pi, e, + - * / ^ **, "
                "parentheses, commas and the listed functions",
            )
            message = f"the character {_show(char)} at character {i + 1} is not allowed: {hint}"
            tokens.append(Token("bad", message, i + 1))
            return tokens
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# The parser.


def _number(token: Token) -> Number:
    if len(token.text) > MAX_NUMBER_CHARS:
        raise FormulaError(
            f"the number {_show(token.text)} at character {token.position} is too long "
            f"(at most {MAX_NUMBER_CHARS} characters)",
            token.position,
        )
    value = float(token.text)  # the regex admits only plain decimal literals
    if not value <= MAX_NUMBER:
        raise FormulaError(
            f"the number {_show(token.text)} at character {token.position} is too large "
            f"(at most {MAX_NUMBER:g})",
            token.position,
        )
    return Number(value)


class _Parser:
    """Recursive descent over the tokens; `depth` counts the nesting levels entered."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        token = self.tokens[self.i]
        if token.kind == "bad":
            raise FormulaError(token.text, token.position)
        return token

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def fail(self, message: str, token: Token | None = None) -> FormulaError:
        token = token or self.token
        return FormulaError(message, token.position)

    def describe(self, token: Token) -> str:
        if token.kind == "end":
            return f"the end of the formula (character {token.position})"
        return f"{_show(token.text)} at character {token.position}"

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                f"the formula nests deeper than {MAX_DEPTH} levels at character "
                f"{token.position} (parentheses, functions, signs and powers each add one)",
                token,
            )

    def leave(self) -> None:
        self.depth -= 1

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise self.fail("the formula is empty; type an expression in x and y, e.g. x^2 + y^2")
        node = self.expression()
        if self.token.kind != "end":
            raise self.unexpected()
        return node

    def unexpected(self) -> FormulaError:
        """The message for a token that cannot follow a complete operand."""
        token = self.token
        if token.kind in ("number", "name") or self.at("("):
            return self.fail(
                f"missing operator before {self.describe(token)}: write products with * "
                f"(2*x, not 2x; x*y, not x y)"
            )
        if self.at(")"):
            return self.fail(f"unmatched {self.describe(token)}")
        if self.at(","):
            return self.fail(
                f"unexpected {self.describe(token)}: commas only separate the "
                "arguments of min and max"
            )
        return self.fail(f"unexpected {self.describe(token)}")

    def expression(self) -> Node:
        node = self.term()
        while self.at("+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.term())  # type: ignore[arg-type]
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at("*", "/"):
            op = self.advance().text
            node = Binary(op, node, self.unary())  # type: ignore[arg-type]
        return node

    def unary(self) -> Node:
        if self.at("+", "-"):
            sign = self.advance()
            self.enter(sign)
            operand = self.unary()
            self.leave()
            return Negate(operand) if sign.text == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.at("^", "**"):
            caret = self.advance()
            self.enter(caret)
            exponent = self.unary()
            self.leave()
            return Binary("^", base, exponent)
        return base

    def atom(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            return _number(token)
        if token.kind == "name":
            return self.name()
        if self.at("("):
            self.advance()
            self.enter(token)
            node = self.expression()
            self.expect_close(token)
            self.leave()
            return node
        if token.kind == "end":
            raise self.fail(
                f"the formula ends too early: an operand is missing at {self.describe(token)}"
            )
        raise self.fail(f"expected a number, x, y or a function, found {self.describe(token)}")

    def expect_close(self, opening: Token) -> None:
        if self.at(")"):
            self.advance()
            return
        if self.token.kind == "end":
            raise self.fail(
                f"the parenthesis opened at character {opening.position} is never closed",
                opening,
            )
        raise self.unexpected()

    def name(self) -> Node:
        token = self.advance()
        name = token.text
        if name in VARIABLES:
            return Variable(name)  # type: ignore[arg-type]
        if name in CONSTANTS:
            return Constant(name)
        if name in FUNCTIONS or name in VARIADIC:
            return self.call(token)
        hint = ""
        if len(name) > 1 and all(c in "xy" for c in name):
            hint = f" (for a product write {'*'.join(name)})"
        raise self.fail(
            f"unknown name {_show(name)} at character {token.position}{hint}; allowed: {_ALLOWED}",
            token,
        )

    def call(self, token: Token) -> Call:
        name = token.text
        if not self.at("("):
            raise self.fail(
                f"the function {name!r} at character {token.position} needs parentheses: "
                f"{name}(...)",
                token,
            )
        opening = self.advance()
        self.enter(opening)
        args = [self.expression()]
        while self.at(","):
            self.advance()
            args.append(self.expression())
        self.expect_close(opening)
        self.leave()
        if name in FUNCTIONS and len(args) != 1:
            raise self.fail(
                f"the function {name!r} at character {token.position} takes one argument, "
                f"got {len(args)}",
                token,
            )
        if name in VARIADIC and len(args) < 2:
            raise self.fail(
                f"the function {name!r} at character {token.position} takes two or more "
                "arguments separated by commas",
                token,
            )
        return Call(name, tuple(args))


def parse(text: str, limit: int | None = MAX_LENGTH) -> Node:
    """The tree of `text`; FormulaError quoting the first offending token and its position.
    `limit` as in `_scan`: None only for the canonical text of an accepted formula."""
    return _Parser(_scan(text, limit)).parse()


# Text forms: canonical text for links, LaTeX for display.

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}
_NEGATE, _ATOM = 3, 5


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    return _NEGATE if isinstance(node, Negate) else _ATOM


def _number_text(value: float) -> str:
    """The shortest text that reads back as exactly `value`."""
    if value.is_integer() and value < 1e16:
        return str(int(value))
    return repr(value)


def canonical(node: Node) -> str:
    """The tree as text that parses back to the same tree: spaces around + and −, `^` for
    power, parentheses only where precedence needs them (and around a negated operand)."""
    if isinstance(node, Number):
        return _number_text(node.value)
    if isinstance(node, Variable | Constant):
        return node.name
    if isinstance(node, Call):
        return f"{node.name}({', '.join(canonical(a) for a in node.args)})"
    if isinstance(node, Negate):
        inner = canonical(node.operand)
        return f"-({inner})" if _precedence(node.operand) < _NEGATE else f"-{inner}"
    left, right = canonical(node.left), canonical(node.right)
    p = _PRECEDENCE[node.op]
    if _precedence(node.left) < p or (node.op == "^" and _precedence(node.left) <= p):
        left = f"({left})"
    if isinstance(node.right, Negate) or (
        _precedence(node.right) <= p and not (node.op == "^" and _precedence(node.right) == p)
    ):
        right = f"({right})"
    if node.op in "+-":
        return f"{left} {node.op} {right}"
    return f"{left}{node.op}{right}"


def _number_latex(value: float) -> str:
    text = _number_text(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


_LATEX_NAMES = {"x": "x", "y": "y", "pi": r"\pi", "e": "e"}


def latex(node: Node) -> str:
    """The tree as LaTeX for st.latex: fractions for /, superscripts for powers."""
    if isinstance(node, Number):
        return _number_latex(node.value)
    if isinstance(node, Variable | Constant):
        return _LATEX_NAMES[node.name]
    if isinstance(node, Call):
        args = ", ".join(latex(a) for a in node.args)
        if node.name == "sqrt":
            return rf"\sqrt{{{args}}}"
        if node.name == "abs":
            return rf"\left|{args}\right|"
        operator = FUNCTIONS[node.name][1] if node.name in FUNCTIONS else VARIADIC[node.name][1]
        return rf"{operator}\left({args}\right)"
    if isinstance(node, Negate):
        inner = latex(node.operand)
        return rf"-\left({inner}\right)" if _precedence(node.operand) < _NEGATE else f"-{inner}"
    left, right = latex(node.left), latex(node.right)
    if node.op == "/":
        return rf"\frac{{{left}}}{{{right}}}"
    if node.op == "^":
        wrap = not isinstance(node.left, Number | Variable | Constant) or (
            isinstance(node.left, Number) and "e" in _number_text(node.left.value)
        )
        base = rf"\left({left}\right)" if wrap else left
        return f"{{{base}}}^{{{right}}}"
    p = _PRECEDENCE[node.op]
    if _precedence(node.left) < p:
        left = rf"\left({left}\right)"
    fraction = isinstance(node.right, Binary) and node.right.op == "/"
    if isinstance(node.right, Negate) or (_precedence(node.right) <= p and not fraction):
        right = rf"\left({right}\right)"
    if node.op == "*":
        juxtapose = isinstance(node.left, Number) and not isinstance(node.right, Number | Negate)
        return f"{left}\\,{right}" if juxtapose else f"{left} \\cdot {right}"
    return f"{left} {node.op} {right}"


# From the tree to jnp.

Evaluator = Callable[[jax.Array, jax.Array], jax.Array]


def _integer_exponent(node: Node) -> int | None:
    """n where `node` is a whole literal ±n with |n| ≤ MAX_INTEGER_POWER, else None."""
    sign = 1
    if isinstance(node, Negate):
        node, sign = node.operand, -1
    if isinstance(node, Number) and node.value.is_integer() and node.value <= MAX_INTEGER_POWER:
        return sign * int(node.value)
    return None


_ARITHMETIC: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "+": jnp.add,
    "-": jnp.subtract,
    "*": jnp.multiply,
    "/": jnp.divide,
}
_GROUP = {"+": "+-", "-": "+-", "*": "*/", "/": "*/"}


def _chain(node: Binary) -> tuple[Node, list[tuple[str, Node]]]:
    """A left-associated chain a op₁ b op₂ c … of one precedence level, unrolled: (a, [(op₁, b),
    (op₂, c), …]), so that long sums are evaluated by a loop rather than deep recursion."""
    ops: list[tuple[str, Node]] = []
    group = _GROUP[node.op]
    current: Node = node
    while isinstance(current, Binary) and current.op in group:
        ops.append((current.op, current.right))
        current = current.left
    ops.reverse()
    return current, ops


def _evaluator(node: Node) -> Evaluator:
    """A function (x, y) ↦ value built from jnp operations only."""
    if isinstance(node, Number | Constant):
        value = node.value if isinstance(node, Number) else CONSTANTS[node.name]
        return lambda x, y: jnp.full_like(x, value)
    if isinstance(node, Variable):
        return (lambda x, y: x) if node.name == "x" else (lambda x, y: y)
    if isinstance(node, Negate):
        inner = _evaluator(node.operand)
        return lambda x, y: -inner(x, y)
    if isinstance(node, Call):
        args = [_evaluator(a) for a in node.args]
        if node.name in FUNCTIONS:
            function, (arg,) = FUNCTIONS[node.name][0], args
            return lambda x, y: function(arg(x, y))
        reduce = VARIADIC[node.name][0]
        return lambda x, y: functools.reduce(reduce, (a(x, y) for a in args))
    if node.op == "^":
        base = _evaluator(node.left)
        n = _integer_exponent(node.right)
        if n is not None:  # exact, and differentiable for negative bases
            return lambda x, y: jax.lax.integer_pow(base(x, y), n)
        exponent = _evaluator(node.right)
        return lambda x, y: jnp.power(base(x, y), exponent(x, y))
    first, rest = _chain(node)
    head = _evaluator(first)
    steps = [(_ARITHMETIC[op], _evaluator(operand)) for op, operand in rest]

    def chain(x: jax.Array, y: jax.Array) -> jax.Array:
        value = head(x, y)
        for apply, operand in steps:
            value = apply(value, operand(x, y))
        return value

    return chain


LossFn = Callable[[jax.Array, Mapping[str, jax.Array]], jax.Array]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its tree, canonical text, LaTeX and jnp function f(w) with w = (x, y)."""

    tree: Node
    text: str
    latex: str
    fn: LossFn


def compile_formula(text: str, limit: int | None = MAX_LENGTH) -> Formula:
    """Parse `text` (FormulaError when refused; `limit` as in `_scan`) and build
    f(w, params) = formula(w[0], w[1]).

    The function is pure jnp, so it works under jit, grad, hessian and vmap; `params` is
    accepted for the engine's signature and ignored.
    """
    tree = parse(text, limit)
    evaluate = _evaluator(tree)

    def fn(w: jax.Array, params: Mapping[str, jax.Array] | None = None) -> jax.Array:
        w = jnp.asarray(w, dtype=jnp.float64)
        return evaluate(w[0], w[1])

    return Formula(tree, canonical(tree), f"f(x, y) = {latex(tree)}", fn)


# Known minima, found numerically, in a bounded number of vectorised evaluations.

SEARCH_POINTS = 81  # grid per side for the minimum search
MAX_MINIMA = 8
CANDIDATES = 4 * MAX_MINIMA  # the lowest grid minima, polished all at once
POLISH_STEPS = 60
GRAD_TOL = 1e-8
MIN_STEP = 1e-12  # the backtracking line search gives up below this step length
# Step lengths t₀·2⁻ʲ a polish step may try: enough to reach MIN_STEP from the longest first
# step, t₀ = h/‖∇f‖ with h ≤ 2·MAX_COORDINATE/80 and ‖∇f‖ > GRAD_TOL; LINE_BLOCK of them at once.
LINE_TRIALS = 84
LINE_BLOCK = 21
# Derivatives by finite differences of f (compiling f alone takes a tenth of compiling its
# Hessian): 5-point central differences, for ∇f with steps ±GRADIENT_STEP·h, ±2·GRADIENT_STEP·h
# and for ∇²f with ±CURVATURE_STEP·h, ±2·CURVATURE_STEP·h and the four diagonal points.
GRADIENT_STEP = 1e-3  # × h
CURVATURE_STEP = 1e-2  # × h
_AXES = np.array([[1.0, 0.0], [0.0, 1.0]])
_STENCIL = np.concatenate(
    [
        [[0.0, 0.0]],
        *(
            step * k * _AXES
            for step in (GRADIENT_STEP, CURVATURE_STEP)
            for k in (-2.0, -1.0, 1.0, 2.0)
        ),
        CURVATURE_STEP * np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]),
    ]
)  # 21 offsets, × h
BATCH = CANDIDATES * LINE_BLOCK  # points per evaluation of f (one compiled shape)
# A Hessian counts as positive definite when λ_min > this × |λ|_max: finite differences leave
# a flat direction's eigenvalue a little above or below 0.
DEFINITE = 1e-6
DIRECTIONS = 8  # probe directions around a point (kink and strictness tests)
KINK_RADII = (1e-2, 1e-4, 1e-6)  # × h
STRICT_RADII = (1.0, 1e-2)  # × h
# The whole search, in evaluations of f, padded batches included: the grid, per polish step
# the derivatives' stencils and the line's trials, the last derivatives, and the final tests'
# derivatives and probes. The same for every formula.
SEARCH_EVALUATIONS = BATCH * (
    -(-(SEARCH_POINTS**2) // BATCH)
    + POLISH_STEPS * (1 + LINE_TRIALS // LINE_BLOCK)
    + 3
    + -(-CANDIDATES * DIRECTIONS * (len(KINK_RADII) + 2 * len(STRICT_RADII)) // BATCH)
)
# Compiled for speed of compiling: f runs a few hundred times on a few hundred points.
QUICK_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
Values = Callable[[np.ndarray], jax.Array]  # f at BATCH points


def _batched_values(fn: LossFn) -> Values:
    """f at BATCH points at once, jitted."""
    return jax.jit(jax.vmap(lambda w: fn(w, {})), compiler_options=QUICK_COMPILE)


def _values(search: Values, points: np.ndarray) -> np.ndarray:
    """f at every row of `points` (m × 2), BATCH at a time (the last batch padded)."""
    count = len(points)
    padded = np.concatenate([points, np.repeat(points[:1], -count % BATCH, axis=0)])
    with np.errstate(all="ignore"):
        batches = [np.asarray(search(b)) for b in padded.reshape(-1, BATCH, 2)]
    return np.concatenate(batches)[:count]


class _Derivatives(NamedTuple):
    """f, ∇f and ∇²f at each point, and the steepest one-sided slope |Δf|/Δ along the axes."""

    value: np.ndarray
    grad: np.ndarray
    hessian: np.ndarray
    slope: np.ndarray


def _derivatives(search: Values, points: np.ndarray, h: float) -> _Derivatives:
    """Finite differences of f on `_STENCIL` around each of the CANDIDATES points:
    ∂f/∂x ≈ (f₋₂ − 8f₋₁ + 8f₁ − f₂)/(12δ), ∂²f/∂x² ≈ (−f₋₂ + 16f₋₁ − 30f₀ + 16f₁ − f₂)/(12δ²),
    ∂²f/∂x∂y ≈ (f₊₊ − f₊₋ − f₋₊ + f₋₋)/(4δ²)."""
    stencil = points[:, None, :] + h * _STENCIL[None]
    f = _values(search, stencil.reshape(-1, 2)).reshape(len(points), len(_STENCIL))
    center = f[:, 0]
    # Per axis (x, y), the values at −2δ, −δ, δ, 2δ:
    gradient_points = f[:, 1:9].reshape(-1, 4, 2).transpose(0, 2, 1)
    curvature_points = f[:, 9:17].reshape(-1, 4, 2).transpose(0, 2, 1)
    diagonal = f[:, 17:21]
    dg, dc = GRADIENT_STEP * h, CURVATURE_STEP * h
    with np.errstate(all="ignore"):
        grad = gradient_points @ np.array([1.0, -8.0, 8.0, -1.0]) / (12 * dg)
        second = (curvature_points @ np.array([-1.0, 16.0, 16.0, -1.0]) - 30 * center[:, None]) / (
            12 * dc * dc
        )
        mixed = (diagonal @ np.array([1.0, -1.0, -1.0, 1.0])) / (4 * dc * dc)
        slope = np.abs(gradient_points[:, :, 1:3] - center[:, None, None]).max(axis=(1, 2)) / dg
    hessian = np.stack(
        [np.stack([second[:, 0], mixed], axis=1), np.stack([mixed, second[:, 1]], axis=1)], axis=1
    )
    return _Derivatives(center, grad, hessian, slope)


def _positive_definite(H: np.ndarray) -> np.ndarray:
    """Per matrix: finite, with λ_min > DEFINITE·|λ|_max."""
    finite = np.isfinite(H).all(axis=(1, 2))
    eigenvalues = np.linalg.eigvalsh(np.where(finite[:, None, None], H, np.eye(2)))
    return finite & (eigenvalues[:, 0] > DEFINITE * np.abs(eigenvalues).max(axis=1))


def _line_search(
    search: Values,
    w: np.ndarray,
    f: np.ndarray,
    step: np.ndarray,
    first: np.ndarray,
    searching: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backtracking along −step from each w: the first t = first·2⁻ʲ > MIN_STEP with
    f(w − t·step) ≤ f, tried LINE_BLOCK lengths at a time for the rows still `searching`:
    the points, their values, and whether one was found."""
    rows = np.arange(len(w))
    moved, value, found = w.copy(), f.copy(), np.zeros(len(w), dtype=bool)
    for start in range(0, LINE_TRIALS, LINE_BLOCK):
        t = first[:, None] * 0.5 ** np.arange(start, start + LINE_BLOCK)
        open_rows = searching & ~found & (t[:, 0] > MIN_STEP)
        if not open_rows.any():
            break
        trials = w[:, None, :] - t[..., None] * step[:, None, :]
        values = _values(search, trials.reshape(-1, 2)).reshape(t.shape)
        lower = (values <= f[:, None]) & (t > MIN_STEP) & open_rows[:, None]
        j, hit = lower.argmax(axis=1), lower.any(axis=1)
        moved = np.where(hit[:, None], trials[rows, j], moved)
        value = np.where(hit, values[rows, j], value)
        found |= hit
    return moved, value, found


def _polish(search: Values, cells: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps from every cell at once (gradient steps with backtracking where the Hessian
    is not positive definite) until ‖∇f‖ ≤ GRAD_TOL·max(1, |f|): the points reached and whether
    each got there (not when f or ∇f stops being finite, no step length down to MIN_STEP lowers
    f, a step wanders beyond 10 h, or POLISH_STEPS pass). `cells` has CANDIDATES rows."""
    w, f = cells.copy(), _values(search, cells)
    active, reached = np.ones(CANDIDATES, dtype=bool), np.zeros(CANDIDATES, dtype=bool)
    for _ in range(POLISH_STEPS):
        _, g, H, _ = _derivatives(search, w, scale)
        norm = np.linalg.norm(g, axis=1)
        active &= np.isfinite(g).all(axis=1) & np.isfinite(f)
        done = active & (norm <= GRAD_TOL * np.maximum(1.0, np.abs(f)))
        reached |= done
        active &= ~done
        if not active.any():
            return w, reached
        definite = _positive_definite(H)
        newton = np.linalg.solve(np.where(definite[:, None, None], H, np.eye(2)), g[..., None])
        step = np.where(definite[:, None], newton[..., 0], g)
        with np.errstate(divide="ignore"):
            first = np.where(definite, 1.0, scale / np.maximum(norm, 1e-300))
        moved, value, lowered = _line_search(search, w, f, step, first, active)
        active &= lowered & (np.linalg.norm(moved - w, axis=1) <= 10 * scale)
        w, f = np.where(active[:, None], moved, w), np.where(active, value, f)
    g = _derivatives(search, w, scale).grad
    reached |= active & (np.linalg.norm(g, axis=1) <= GRAD_TOL * np.maximum(1.0, np.abs(f)))
    return w, reached


def _grid_minima(z: np.ndarray) -> list[tuple[int, int]]:
    """Interior grid cells (i, j) no higher than their 8 neighbours, finite, lowest first."""
    finite = np.where(np.isfinite(z), z, np.inf)
    core = finite[1:-1, 1:-1]
    lowest = np.isfinite(core)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                lowest &= core <= finite[1 + di : z.shape[0] - 1 + di, 1 + dj : z.shape[1] - 1 + dj]
    cells = [(int(i) + 1, int(j) + 1) for i, j in zip(*np.nonzero(lowest), strict=True)]
    return sorted(cells, key=lambda c: finite[c])


def _ring(points: np.ndarray, radii: tuple[float, ...], h: float) -> np.ndarray:
    """Probe points: around each point, at each radius r·h, DIRECTIONS directions (shape
    points × radii × DIRECTIONS × 2)."""
    angles = np.linspace(0, 2 * np.pi, DIRECTIONS, endpoint=False)
    unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    r = np.asarray(radii) * h
    return points[:, None, None, :] + r[None, :, None, None] * unit[None, None]


def _kinks(at: _Derivatives, ring: np.ndarray, h: float) -> np.ndarray:
    """Per point: every probe at distances h·10⁻², h·10⁻⁴, h·10⁻⁶ (`ring` values) lies higher
    than f by at least a tenth of its distance times the steepest one-sided slope along the
    axes: f has a corner there, not a slope."""
    f, slope = at.value, 0.1 * at.slope
    r = np.asarray(KINK_RADII) * h
    with np.errstate(invalid="ignore"):
        bound = f[:, None, None] + slope[:, None, None] * r[None, :, None]
        higher = (ring >= bound).all(axis=(1, 2))
    return np.isfinite(f) & (slope > 0) & higher


def _strict(at: _Derivatives, ring: np.ndarray) -> np.ndarray:
    """Per point: a positive definite Hessian, or else every probe at distance h and h/100
    (`ring` values) strictly higher than f: flat valleys and plateaus do not count."""
    with np.errstate(invalid="ignore"):
        return _positive_definite(at.hessian) | (ring > at.value[:, None, None]).all(axis=(1, 2))


def find_minima(
    fn: LossFn, box: tuple[float, float, float, float], n: int = SEARCH_POINTS
) -> tuple[CriticalPoint, ...]:
    """Minima of f inside `box`: the CANDIDATES lowest grid minima polished at once by Newton
    steps (derivatives by finite differences) to ‖∇f‖ ≤ 1e−8, kept when strict (`_strict`),
    duplicates merged; SEARCH_EVALUATIONS evaluations of f for any formula (n = SEARCH_POINTS),
    with one compiled function, f itself.

    The lowest is marked "global" only when no grid value in the box lies below it: the label
    then means "the lowest point of the plot box", the only claim a numerical search can make;
    otherwise (the lowest values lie on the box's edge, or the function is unbounded) every
    minimum found is "local". Nonsmooth kinks and flat minima may be missed.
    """
    x0, x1, y0, y1 = box
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    search = _batched_values(fn)
    z = _values(search, np.column_stack([X.ravel(), Y.ravel()])).reshape(n, n)
    scale = max(x1 - x0, y1 - y0) / (n - 1)
    chosen = _grid_minima(z)[:CANDIDATES]
    if not chosen:
        return ()
    cells = np.array([[X[i, j], Y[i, j]] for i, j in chosen])
    cells = np.concatenate([cells, np.repeat(cells[:1], CANDIDATES - len(cells), axis=0)])
    polished, reached = _polish(search, cells, scale)
    at_cell, at_polished = _derivatives(search, cells, scale), _derivatives(search, polished, scale)
    rings = [
        _ring(cells, KINK_RADII, scale),
        _ring(cells, STRICT_RADII, scale),
        _ring(polished, STRICT_RADII, scale),
    ]
    values = _values(search, np.concatenate([r.reshape(-1, 2) for r in rings]))
    kink_ring, cell_ring, polished_ring = np.split(
        values, np.cumsum([r[..., 0].size for r in rings])[:-1]
    )
    shape = (CANDIDATES, -1, DIRECTIONS)
    kink = _kinks(at_cell, kink_ring.reshape(shape), scale)
    strict = {
        False: _strict(at_cell, cell_ring.reshape(shape)),
        True: _strict(at_polished, polished_ring.reshape(shape)),
    }
    found: list[tuple[float, float, float]] = []
    for k in range(len(chosen)):
        if not (reached[k] or kink[k]):
            continue
        w, f = (polished[k], at_polished.value[k]) if reached[k] else (cells[k], at_cell.value[k])
        if not (x0 <= w[0] <= x1 and y0 <= w[1] <= y1):
            continue
        if any(math.hypot(w[0] - a, w[1] - b) <= 1.5 * scale for a, b, _ in found):
            continue
        if strict[bool(reached[k])][k]:
            found.append((float(w[0]), float(w[1]), float(f)))
        if len(found) == MAX_MINIMA:
            break
    found.sort(key=lambda p: p[2])
    finite = z[np.isfinite(z)]
    lowest_in_box = bool(found) and finite.size > 0 and found[0][2] <= finite.min() + 1e-12
    return tuple(
        CriticalPoint(x, y, value, "global" if k == 0 and lowest_in_box else "local")
        for k, (x, y, value) in enumerate(found)
    )


# The surface.

Box = tuple[float, float, float, float]


def check_box(box: Box) -> Box:
    """`box` as floats with x_min < x_max, y_min < y_max, all within ±1e6; ValueError else."""
    try:
        x0, x1, y0, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(
            f"the plot box must be four numbers (x_min, x_max, y_min, y_max), got {box!r}"
        ) from None
    for value in (x0, x1, y0, y1):
        if not (math.isfinite(value) and abs(value) <= MAX_COORDINATE):
            raise ValueError(f"plot box limits must be finite numbers within ±{MAX_COORDINATE:g}")
    if not x0 < x1:
        raise ValueError(f"the plot box needs x_min < x_max, got {x0:g} ≥ {x1:g}")
    if not y0 < y1:
        raise ValueError(f"the plot box needs y_min < y_max, got {y0:g} ≥ {y1:g}")
    return x0, x1, y0, y1


def without_float_noise(value: float) -> float:
    """`value` to 12 significant digits: the decimal a computation meant, without the binary
    rounding noise (−3 + 0.9 · 6 gives 2.4000000000000004; this gives 2.4)."""
    return float(f"{value:.12g}")


def default_start(box: Box) -> tuple[float, float]:
    """A start away from the centre and off its axes: 90 % across the box and 80 % up, so that
    a run on a symmetric bowl shows both coordinates moving (short decimals: it goes in links)."""
    x0, x1, y0, y1 = box
    return without_float_noise(x0 + 0.9 * (x1 - x0)), without_float_noise(y0 + 0.8 * (y1 - y0))


def formula_surface(
    text: str,
    box: Box = DEFAULT_BOX,
    start: tuple[float, float] | None = None,
    limit: int | None = MAX_LENGTH,
) -> Surface:
    """The `Surface` of a typed formula: key "formula", its LaTeX, jnp function, the box, one
    start (default: `default_start(box)`) and the minima `find_minima` finds in the box.

    The same canonical formula, box and start give the same Surface object (memoised), so the
    engine's and the grid's compiled functions are reused. FormulaError / ValueError on bad
    input. `recipe` is ("formula", canonical text, box, start); `limit` as in `_scan` (None to
    rebuild a surface from its recipe).
    """
    formula = compile_formula(text, limit)
    box = check_box(box)
    if start is None:
        start = default_start(box)
    try:
        sx, sy = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be a point (x, y), got {start!r}") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in (sx, sy)):
        raise ValueError(f"start coordinates must be finite numbers within ±{MAX_COORDINATE:g}")
    return _formula_surface(formula.text, box, (sx, sy))


@functools.lru_cache(maxsize=64)
def _formula_surface(text: str, box: Box, start: tuple[float, float]) -> Surface:
    formula = _compiled(text)
    return Surface(
        key="formula",
        name="Your function",
        latex=formula.latex,
        fn=formula.fn,
        box=box,
        starts=(start,),
        critical=find_minima(formula.fn, box),
        note=(
            "Your own formula, with exact JAX gradients. Minima are searched numerically in the "
            "plot box; 'global' means the lowest point of the box."
        ),
        recipe=("formula", text, box, start),
    )


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> Formula:
    """The formula of a canonical text (typed text within MAX_LENGTH may expand beyond it:
    spaces around + and −, 1e9 written out)."""
    return compile_formula(text, limit=None)
