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

import re
from collections.abc import Callable
from typing import Literal, NamedTuple

from surfaces.formula import syntax
from surfaces.formula.syntax import Binary, Call, Constant, FormulaError, Negate, Number, Variable

_ALLOWED = ", ".join(syntax.ALLOWED_NAMES)
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


def _scan(text: str, limit: int | None = syntax.MAX_LENGTH) -> list[Token]:
    """The tokens of `text`, ending with an "end" token, or with a "bad" token whose text is
    the message for the first character no token can start with (the parser raises it when it
    gets there, so that problems are reported in reading order). The length `limit` applies to
    the typed text; None only for the canonical text of a formula already accepted."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}", 1)
    if limit is not None and len(text) > limit:
        raise FormulaError(
            f"the formula is {len(text)} characters long; the limit is {syntax.MAX_LENGTH}",
            syntax.MAX_LENGTH + 1,
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
    if len(token.text) > syntax.MAX_NUMBER_CHARS:
        raise FormulaError(
            f"the number {_show(token.text)} at character {token.position} is too long "
            f"(at most {syntax.MAX_NUMBER_CHARS} characters)",
            token.position,
        )
    value = float(token.text)  # the regex admits only plain decimal literals
    if not value <= syntax.MAX_NUMBER:
        raise FormulaError(
            f"the number {_show(token.text)} at character {token.position} is too large "
            f"(at most {syntax.MAX_NUMBER:g})",
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
        if self.depth > syntax.MAX_DEPTH:
            raise self.fail(
                f"the formula nests deeper than {syntax.MAX_DEPTH} levels at character "
                f"{token.position} (parentheses, functions, signs and powers each add one)",
                token,
            )

    def leave(self) -> None:
        self.depth -= 1

    def parse(self) -> syntax.Node:
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

    def left_associative(
        self, ops: tuple[str, ...], operand: Callable[[], syntax.Node]
    ) -> syntax.Node:
        """One precedence level: operands joined by any of `ops`, grouped from the left
        (a − b − c is (a − b) − c)."""
        node = operand()
        while self.at(*ops):
            op = self.advance().text
            node = Binary(op, node, operand())
        return node

    def expression(self) -> syntax.Node:
        return self.left_associative(("+", "-"), self.term)

    def term(self) -> syntax.Node:
        return self.left_associative(("*", "/"), self.unary)

    def unary(self) -> syntax.Node:
        if self.at("+", "-"):
            sign = self.advance()
            self.enter(sign)
            operand = self.unary()
            self.leave()
            return Negate(operand) if sign.text == "-" else operand
        return self.power()

    def power(self) -> syntax.Node:
        base = self.atom()
        if self.at("^", "**"):
            caret = self.advance()
            self.enter(caret)
            exponent = self.unary()
            self.leave()
            return Binary("^", base, exponent)
        return base

    def atom(self) -> syntax.Node:
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

    def name(self) -> syntax.Node:
        token = self.advance()
        name = token.text
        if name in syntax.VARIABLES:
            return Variable(name)
        if name in syntax.CONSTANTS:
            return Constant(name)
        if name in syntax.FUNCTIONS or name in syntax.VARIADIC:
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
        if name in syntax.FUNCTIONS and len(args) != 1:
            raise self.fail(
                f"the function {name!r} at character {token.position} takes one argument, "
                f"got {len(args)}",
                token,
            )
        if name in syntax.VARIADIC and len(args) < 2:
            raise self.fail(
                f"the function {name!r} at character {token.position} takes two or more "
                "arguments separated by commas",
                token,
            )
        return Call(name, tuple(args))


def parse(text: str, limit: int | None = syntax.MAX_LENGTH) -> syntax.Node:
    """The tree of a formula in x and y, read by the whitelist grammar of this module.

    Args:
        text: the typed formula, e.g. "x^2 + 2*y".
        limit: the most characters accepted (MAX_LENGTH); None only for the canonical text of
            a formula already accepted, which may be longer than what was typed.

    Returns:
        The immutable tree: `Number`, `Variable`, `Constant`, `Negate`, `Binary`, `Call` nodes.

    Raises:
        FormulaError: (a ValueError) for the first offending token, in reading order; its
            message quotes the token and its 1-based character `position`.

    >>> parse("x - 1")
    Binary(op='-', left=Variable(name='x'), right=Number(value=1.0))
    >>> try:
    ...     parse("2x")
    ... except FormulaError as error:
    ...     print(error.position, error)
    2 missing operator before 'x' at character 2: write products with * (2*x, not 2x; x*y, not x y)
    """
    return _Parser(_scan(text, limit)).parse()
