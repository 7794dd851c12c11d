"""The formula language's whitelist and its tree: names, functions, nodes, and `FormulaError`.

Nothing typed is ever executed: the parser builds an immutable tree of `Number`, `Variable`,
`Constant`, `Negate`, `Binary` and `Call` nodes, and only the names listed here are accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

MAX_LENGTH = 500
MAX_DEPTH = 30
MAX_NUMBER_CHARS = 32
MAX_NUMBER = 1e9
MAX_INTEGER_POWER = 64  # x^n with a whole |n| ≤ this is exact repeated multiplication

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
