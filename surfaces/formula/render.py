"""Text forms of a formula tree: canonical text for links, LaTeX for display."""

from __future__ import annotations

from surfaces.formula import syntax
from surfaces.formula.syntax import Binary, Call, Constant, Negate, Node, Number, Variable

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
        operator = (
            syntax.FUNCTIONS[node.name][1]
            if node.name in syntax.FUNCTIONS
            else syntax.VARIADIC[node.name][1]
        )
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
