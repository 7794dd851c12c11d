"""The surface as a loss of a 2-vector `w` in each framework's array functions: one
expression table for the built-in surfaces, a typed formula compiled from its tree, and the data
set of a regression surface written in (or read from a CSV beside the script)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from optimizers.codegen.common import CSV_NAME, INLINE_POINTS, Run, literal, resolve, run_data
from optimizers.codegen.layout import returned
from optimizers.engine import RunConfig
from surfaces.formula import Binary, Call, Constant, Negate, Node, Number, Variable, parse

# Surfaces: one expression table, written for a module `m` (torch, ops, jnp) and numbers `p`.

SurfaceCode = Callable[[str, Mapping[str, float]], list[str]]


def _xy(expression: str) -> SurfaceCode:
    """A surface whose body is `x, y = w` and one returned expression (format fields: m, p)."""
    return lambda m, p: [
        "x, y = w[0], w[1]",
        f"return {expression.format(m=m, p={k: literal(v) for k, v in p.items()})}",
    ]


def _quadratic(m: str, p: Mapping[str, float]) -> list[str]:
    return [
        "x, y = w[0], w[1]",
        f"theta = math.radians({literal(p['angle'])})",
        "u = math.cos(theta) * x + math.sin(theta) * y",
        "v = math.cos(theta) * y - math.sin(theta) * x",
        f"return 0.5 * (u**2 + {literal(p['kappa'])} * v**2)",
    ]


def _ackley(m: str, p: Mapping[str, float]) -> list[str]:
    return [
        "x, y = w[0], w[1]",
        f"r = {m}.sqrt(0.5 * (x**2 + y**2))",
        f"ripple = {m}.exp(0.5 * ({m}.cos(2 * math.pi * x) + {m}.cos(2 * math.pi * y)))",
        f"return -20 * {m}.exp(-0.2 * r) - ripple + math.e + 20",
    ]


SURFACES: dict[str, SurfaceCode] = {
    "bowl": _xy("0.5 * (x**2 + y**2)"),
    "quadratic": _quadratic,
    "rosenbrock": _xy("(1 - x) ** 2 + {p[b]} * (y - x**2) ** 2"),
    "saddle": _xy("x**2 - y**2"),
    "monkey_saddle": _xy("x**3 - 3 * x * y**2"),
    "double_well": _xy("(x**2 - 1) ** 2 + 0.5 * x + y**2"),
    "plateau": _xy("-{m}.expm1(-0.5 * (x**2 + y**2))"),
    "cliff": _xy("0.1 * ((x + 2) ** 2 + y**2) + 20 * (1 + {m}.tanh(10 * x))"),
    "himmelblau": _xy("(x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2"),
    "camel": _xy("(4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2"),
    "styblinski_tang": _xy("0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)"),
    "rastrigin": _xy(
        "20 + x**2 - 10 * {m}.cos(2 * math.pi * x) + y**2 - 10 * {m}.cos(2 * math.pi * y)"
    ),
    "ackley": _ackley,
    "beale": _xy(
        "(1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2"
    ),
    "booth": _xy("(x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2"),
    "matyas": _xy("0.26 * (x**2 + y**2) - 0.48 * x * y"),
    "goldstein_price": lambda m, p: [
        "x, y = w[0], w[1]",
        "a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)",
        "b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y"
        " + 27 * y**2)",
        "return a * b",
    ],
    # Regression surfaces: the loss of a line over the data set `x_data`, `y_data`.
    "linreg": lambda m, p: ["return ((w[0] * x + w[1] - y) ** 2).mean()"],
    "logreg": lambda m, p: [
        "z = w[0] * x + w[1]",
        f"return ({m}.logaddexp({{zero}}, z) - y * z).mean()",
    ],
    "data": lambda m, p: ["return ((w[0] * x + w[1] - y) ** 2).mean()"],
}

# Formula functions per framework (name → callable text); the rest are the module's own names.
_FORMULA_NAMES: dict[str, dict[str, str]] = {
    "pytorch": {"asin": "torch.asin", "acos": "torch.acos", "atan": "torch.atan"},
    "jax": {
        "asin": "jnp.arcsin",
        "acos": "jnp.arccos",
        "atan": "jnp.arctan",
        "sigmoid": "jax.nn.sigmoid",
        "softplus": "jax.nn.softplus",
        "relu": "jax.nn.relu",
    },
}
_VARIADIC = {"min": "minimum", "max": "maximum"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def _has_variable(node: Node) -> bool:
    if isinstance(node, Variable):
        return True
    if isinstance(node, Negate):
        return _has_variable(node.operand)
    if isinstance(node, Binary):
        return _has_variable(node.left) or _has_variable(node.right)
    if isinstance(node, Call):
        return any(_has_variable(a) for a in node.args)
    return False


def _formula_code(node: Node, framework: str, m: str) -> str:
    """A formula tree as source text in the framework's functions (** for ^)."""

    def level(n: Node) -> int:
        if isinstance(n, Binary):
            return _PRECEDENCE[n.op]
        return 3 if isinstance(n, Negate) else 5

    def text(n: Node) -> str:
        if isinstance(n, Number):
            return literal(n.value)
        if isinstance(n, Variable):
            return n.name
        if isinstance(n, Constant):
            return f"math.{n.name}"
        if isinstance(n, Call):
            args = [text(a) for a in n.args]
            if framework == "pytorch":  # torch's functions take tensors, not Python numbers
                args = [
                    t if _has_variable(a) else f"torch.tensor({t})"
                    for a, t in zip(n.args, args, strict=True)
                ]
            if n.name in _VARIADIC:
                out = args[0]
                for a in args[1:]:
                    out = f"{m}.{_VARIADIC[n.name]}({out}, {a})"
                return out
            if n.name == "softplus" and framework == "pytorch":  # torch's own cuts off at 20
                return f"torch.logaddexp({args[0]}, torch.zeros(()))"
            names = _FORMULA_NAMES["pytorch" if framework == "pytorch" else "jax"]
            name = names.get(n.name, f"{m}.{n.name}")
            return f"{name}({args[0]})"
        if isinstance(n, Negate):
            inner = text(n.operand)
            return f"-({inner})" if level(n.operand) < 3 else f"-{inner}"
        p = _PRECEDENCE[n.op]
        left, right = text(n.left), text(n.right)
        if level(n.left) < p or (n.op == "^" and level(n.left) <= p):
            left = f"({left})"
        if isinstance(n.right, Negate) or (
            level(n.right) <= p and not (n.op == "^" and level(n.right) == p)
        ):
            right = f"({right})"
        if n.op == "^":  # spaced as ruff formats it: x**2, but (x + 1) ** 2
            simple = all(
                isinstance(side, Number | Variable | Constant) for side in (n.left, n.right)
            )
            return f"{left}**{right}" if simple else f"{left} ** {right}"
        if n.op in "+-":
            return f"{left} {n.op} {right}"
        return f"{left} {n.op} {right}"

    return text(node)


# The three frameworks differ in how a line of maths is spelled; `Lang` holds those spellings.


@dataclass(frozen=True)
class Lang:
    """How one framework spells the surface's maths: its key, array module and a scalar 0."""

    key: str
    module: str  # the array namespace of surface code: torch, ops, jnp
    zero: str  # a scalar 0 for logaddexp


LANGS = {
    "pytorch": Lang("pytorch", "torch", "torch.zeros(())"),
    # keras.ops computes sin, cos, tanh, logaddexp, … in float32 on the JAX backend even for
    # float64 input (Keras 3.15.1): the Keras script writes its maths in jax.numpy.
    "keras": Lang("keras", "jnp", "0.0"),
    "optax": Lang("optax", "jnp", "0.0"),
}


def data_csv(config: RunConfig) -> str | None:
    """The run's data set as CSV text (header `x,y`, the x the loss sees), or None without data."""
    data = run_data(resolve(config))
    if data is None:
        return None
    rows = "".join(f"{literal(a)},{literal(b)}\n" for a, b in zip(*data, strict=True))
    return "x,y\n" + rows


def surface_lines(run: Run, lang: Lang) -> list[str]:
    """`def loss_fn(w)` (and the data it needs) for this framework."""
    m = lang.module
    head: list[str] = []
    data = run_data(run)
    if data is not None:
        array = "torch.tensor" if lang.key == "pytorch" else "jnp.array"
        if len(data[0]) <= INLINE_POINTS:
            for name, column in zip(("x_data", "y_data"), data, strict=True):
                numbers = ", ".join(literal(v) for v in column)
                if len(numbers) + len(array) + 13 <= 99:
                    head.append(f"{name} = {array}([{numbers}])")
                    continue
                wrapped = textwrap.fill(
                    numbers, width=96, initial_indent="    ", subsequent_indent="    "
                )
                head += [
                    f"{name} = {array}(",
                    "    [",
                    textwrap.indent(wrapped, "    "),
                    "    ]",
                    ")",
                ]
        else:
            head += [
                f"# The data: {CSV_NAME} (downloaded beside this script), columns x, y.",
                f'x_data, y_data = {array}(np.loadtxt("{CSV_NAME}", delimiter=",", skiprows=1).T)',
            ]
        head.append("")
        head.append("")
    recipe = run.surface.recipe
    if recipe is not None and recipe[0] == "formula":
        formula = str(recipe[1])  # the canonical text
        body = [
            "x, y = w[0], w[1]",
            *returned(_formula_code(parse(formula, limit=None), lang.key, m)),
        ]
        doc = "\n    ".join(textwrap.wrap(f"f(x, y) = {formula}", width=88))
    else:
        key = "data" if recipe is not None else run.surface.key
        body = [line.replace("{zero}", lang.zero) for line in SURFACES[key](m, run.surface_params)]
        doc = f"{run.surface.name}."
    signature = "w, x=x_data, y=y_data" if data is not None else "w"
    lines = [*head, f"def loss_fn({signature}):", f'    """{doc}"""']
    return lines + [f"    {line}" for line in body]
