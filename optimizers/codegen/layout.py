"""The generated text laid out as ruff would format it: long returns and calls split, brackets
opened one item a line, imports gathered and sorted, unused loop counters named `_`."""

from __future__ import annotations

import re
from collections.abc import Sequence


def returned(expression: str, width: int = 88) -> list[str]:
    """`return expression`, split at its top-level + and − into parenthesised lines when long;
    a term still too long keeps its line, marked for the linter.

    >>> returned("x + y")
    ['return x + y']
    >>> returned("x + y", width=4)
    ['return (', '    x', '    + y', ')']
    """
    if len(expression) <= width:
        return [f"return {expression}"]
    terms, depth, current = [], 0, ""
    for i, ch in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and expression[i - 1 : i + 2] in (" + ", " - ") and current.strip():
            terms.append(current.strip())
            current = ""
        current += ch
    terms.append(current.strip())
    lines = ["return (", f"    {terms[0]}", *(f"    {t}" for t in terms[1:]), ")"]
    return [f"{line}  # noqa: E501" if len(line) > width + 4 else line for line in lines]


def bracketed(
    indent: str, head: str, items: Sequence[str], brackets: str, bare: bool = False
) -> list[str]:
    """`head` then the items in `brackets` (none if `bare`) on one line, or one item a line in
    the brackets where that line would be too long (as ruff formats it).

    >>> bracketed("", "a, b = ", ["x", "y"], "()", bare=True)
    ['a, b = x, y']
    """
    opening, closing = ("", "") if bare else (brackets[0], brackets[1])
    line = f"{indent}{head}{opening}{', '.join(items)}{closing}"
    if len(line) <= 99:
        return [line]
    rows = [f"{indent}    {item}," for item in items]
    return [f"{indent}{head}{brackets[0]}", *rows, f"{indent}{brackets[1]}"]


def join(imports: list[str], setup: list[str], head: list[str], body: list[str]) -> str:
    """Docstring, imports (math, numpy and keras.ops only where used), setup, body."""
    text = "\n".join(body)
    environment = [line for line in setup if line.startswith("os.environ")]
    setup = [line for line in setup if line not in environment]
    standard = (["import math"] if "math." in text else []) + (["import os"] if environment else [])
    third = list(imports)
    if "jnp." in text and "import jax.numpy as jnp" not in third:
        third.append("import jax.numpy as jnp")
    if re.search(r"\bnp\.", text):
        third.append("import numpy as np")
    plain = sorted((i for i in third if i.startswith("import ")), key=lambda i: i.split()[1])
    froms = ["from keras import ops"] if "ops." in text and "import keras" in imports else []
    third = plain + froms
    parts = [*head, ""]
    for block in (standard, environment, third, setup):
        if block:
            parts += [*block, ""]
    return _tidy("\n".join([*parts, "", *body]))


def _split_arguments(text: str) -> list[str]:
    """The top-level comma-separated parts of `text` (brackets and strings kept whole)."""
    parts, depth, current, quote = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    return [*parts, current.strip()] if current.strip() else parts


def _closing(text: str, opening: int) -> int:
    """The index of the bracket that closes the one at `opening`."""
    depth = 0
    for i in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return -1


def _wrap(line: str, width: int = 99) -> str:
    """A call too long for one line, with one argument per line (recursively where needed)."""
    comma = "," if line.endswith(",") else ""
    core = line.removesuffix(",")
    if len(line) <= width or "(" not in core or not core.endswith(")") or "#" in line:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    opening = core.index("(")
    called = opening > 0 and (core[opening - 1].isalnum() or core[opening - 1] in "_.]")
    if not called or _closing(core, opening) != len(core) - 1:  # not one call: left as it is
        return line
    head, inner = core[: opening + 1], core[opening + 1 : -1]
    arguments = [_wrap(f"{indent}    {a},", width) for a in _split_arguments(inner)]
    return "\n".join([head, *arguments, f"{indent}){comma}"])


def _unused_counters(text: str) -> str:
    """`for _ in range(n)` where the loop body never reads `step`."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("for step in range("):
            depth = len(line) - len(line.lstrip())
            loop = []
            for later in lines[i + 1 :]:
                if later.strip() and len(later) - len(later.lstrip()) <= depth:
                    break
                loop.append(later)
            if not re.search(r"(?<!\.)\bstep\b", "\n".join(loop)):
                lines[i] = line.replace("for step in", "for _ in")
    return "\n".join(lines)


def _tidy(text: str) -> str:
    """Long calls wrapped; an unused loop counter named `_`; at most two blank lines in a row,
    none at the end."""
    text = _unused_counters(text)
    text = "\n".join(_wrap(line) for line in text.split("\n"))
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.rstrip("\n") + "\n"
