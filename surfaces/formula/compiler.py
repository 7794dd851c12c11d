"""From a formula tree to a pure jnp function f(w) with w = (x, y)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from surfaces.base import LossFn
from surfaces.formula import syntax
from surfaces.formula.parser import parse
from surfaces.formula.render import canonical, latex
from surfaces.formula.syntax import Binary, Call, Constant, Negate, Node, Number, Variable

Evaluator = Callable[[jax.Array, jax.Array], jax.Array]


def _integer_exponent(node: Node) -> int | None:
    """n where `node` is a whole literal ±n with |n| ≤ MAX_INTEGER_POWER, else None."""
    sign = 1
    if isinstance(node, Negate):
        node, sign = node.operand, -1
    if (
        isinstance(node, Number)
        and node.value.is_integer()
        and node.value <= syntax.MAX_INTEGER_POWER
    ):
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
        value = node.value if isinstance(node, Number) else syntax.CONSTANTS[node.name]
        return lambda x, y: jnp.full_like(x, value)
    if isinstance(node, Variable):
        return (lambda x, y: x) if node.name == "x" else (lambda x, y: y)
    if isinstance(node, Negate):
        inner = _evaluator(node.operand)
        return lambda x, y: -inner(x, y)
    if isinstance(node, Call):
        args = [_evaluator(a) for a in node.args]
        if node.name in syntax.FUNCTIONS:
            function, (arg,) = syntax.FUNCTIONS[node.name][0], args
            return lambda x, y: function(arg(x, y))
        reduce = syntax.VARIADIC[node.name][0]
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


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its tree, canonical text, LaTeX and jnp function f(w) with w = (x, y)."""

    tree: Node
    text: str
    latex: str
    fn: LossFn


def compile_formula(text: str, limit: int | None = syntax.MAX_LENGTH) -> Formula:
    """Parse `text` (FormulaError when refused; `limit` as in `parse`) and build
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
