"""Every run as a script in PyTorch, Keras 3 (JAX backend) or optax that reproduces it.

`to_code(config, framework)` returns one runnable script: the surface as a loss of a 2-vector
(for regression surfaces, of (w, b) on the same data), the optimizer with the same
hyperparameters, the schedule (with warmup) as that framework's own scheduler where it has one
that matches, else a small closed form, the modifiers, the same number of steps from the same
start, and a last line that prints the final point and loss:

    final point: (x, y) loss: f

Where a framework's built-in rule or scheduler differs from the app's, the script either sets its
options so that it matches or writes the rule out, and says so in its docstring; what cannot
match (torch's random numbers, every framework's mini-batch draws) is said there too.

`TORCH_OPTIMIZERS`, `KERAS_OPTIMIZERS`, `OPTAX_OPTIMIZERS`, `SCHEDULE_CODE` and `MODIFIER_CODE`
have a row per registry key; a rule, schedule or modifier without one is a KeyError here (and a
failing test).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Never

import jax.numpy as jnp
import numpy as np

from optimizers.engine import RunConfig, bucket, plan
from optimizers.rules import get_optimizer
from optimizers.schedules import get_schedule
from surfaces import Surface
from surfaces.dataset import standardised
from surfaces.formula import (
    Binary,
    Call,
    Constant,
    Negate,
    Node,
    Number,
    Variable,
    parse,
)
from surfaces.registry import regression_data

FRAMEWORKS: dict[str, str] = {"pytorch": "PyTorch", "keras": "Keras 3", "optax": "optax"}
INLINE_POINTS = 100  # data sets up to this size are written into the script, larger ones read
CSV_NAME = "data.csv"  # … from this file, which the app offers beside the script


# One run, resolved: every number filled in from the registries' defaults.


@dataclass(frozen=True)
class Run:
    """A configuration with every default filled in, as the engine runs it."""

    surface: Surface
    optimizer: str
    lr: float
    steps: int
    start: tuple[float, float]
    hyper: dict[str, float]
    schedule: str
    schedule_params: dict[str, float]
    warmup_steps: int
    warmup_start: float
    mods: dict[str, float]
    surface_params: dict[str, float]

    @property
    def label(self) -> str:
        x, y = self.start
        return (
            f"{get_optimizer(self.optimizer).name} on {self.surface.name},"
            f" {get_schedule(self.schedule).name.lower()}"
            f" rate from η₀ = {_n(self.lr)}, {self.steps} steps from ({_n(x)}, {_n(y)})"
        )


def resolve(config: RunConfig) -> Run:
    """The run `config` describes with every default filled in (ValueError as `engine.plan`)."""
    the_plan = plan(config)
    values = dict(zip(the_plan.layout, (float(v) for v in the_plan.numbers), strict=True))

    def group(name: str) -> dict[str, float]:
        prefix = f"{name}."
        return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}

    warm = group("warmup")
    return Run(
        surface=the_plan.surface,
        optimizer=the_plan.optimizer.key,
        lr=values["lr"],
        steps=the_plan.steps,
        start=(values["start.x"], values["start.y"]),
        hyper=group("hyper"),
        schedule=the_plan.schedule.key,
        schedule_params=group("schedule"),
        warmup_steps=round(warm["warmup_steps"]),
        warmup_start=warm["warmup_start"],
        mods=group("modifiers"),
        surface_params=group("surface"),
    )


def _n(value: float) -> str:
    """A number as the shortest Python literal that reads back as exactly `value`."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# Surfaces: one expression table, written for a module `m` (torch, ops, jnp) and numbers `p`.

SurfaceCode = Callable[[str, Mapping[str, float]], list[str]]


def _xy(expression: str) -> SurfaceCode:
    """A surface whose body is `x, y = w` and one returned expression (format fields: m, p)."""
    return lambda m, p: [
        "x, y = w[0], w[1]",
        f"return {expression.format(m=m, p={k: _n(v) for k, v in p.items()})}",
    ]


def _quadratic(m: str, p: Mapping[str, float]) -> list[str]:
    return [
        "x, y = w[0], w[1]",
        f"theta = math.radians({_n(p['angle'])})",
        "u = math.cos(theta) * x + math.sin(theta) * y",
        "v = math.cos(theta) * y - math.sin(theta) * x",
        f"return 0.5 * (u**2 + {_n(p['kappa'])} * v**2)",
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
            return _n(n.value)
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


def _returned(expression: str, width: int = 88) -> list[str]:
    """`return expression`, split at its top-level + and − into parenthesised lines when long;
    a term still too long keeps its line, marked for the linter."""
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


# The three frameworks differ in how a line of maths is spelled; `_Lang` holds those spellings.


@dataclass(frozen=True)
class _Lang:
    key: str
    module: str  # the array namespace of surface code: torch, ops, jnp
    zero: str  # a scalar 0 for logaddexp


_LANGS = {
    "pytorch": _Lang("pytorch", "torch", "torch.zeros(())"),
    # keras.ops computes sin, cos, tanh, logaddexp, … in float32 on the JAX backend even for
    # float64 input (Keras 3.15.1): the Keras script writes its maths in jax.numpy.
    "keras": _Lang("keras", "jnp", "0.0"),
    "optax": _Lang("optax", "jnp", "0.0"),
}


def _data(run: Run) -> tuple[np.ndarray, np.ndarray] | None:
    """The data set of a regression surface (x standardised where the surface does), or None."""
    surface = run.surface
    if surface.key in ("linreg", "logreg"):
        return regression_data(surface.key, run.surface_params)
    if surface.recipe is not None and surface.recipe[0] == "data":
        points, scaled = surface.recipe[1], surface.recipe[2]
        if scaled:
            x, y, _, _ = standardised(points)
            return x, y
        return points.arrays()
    return None


def data_csv(config: RunConfig) -> str | None:
    """The run's data set as CSV text (header `x,y`, the x the loss sees), or None without data."""
    data = _data(resolve(config))
    if data is None:
        return None
    rows = "".join(f"{_n(a)},{_n(b)}\n" for a, b in zip(*data, strict=True))
    return "x,y\n" + rows


def _surface_lines(run: Run, lang: _Lang) -> list[str]:
    """`def loss_fn(w)` (and the data it needs) for this framework."""
    m = lang.module
    head: list[str] = []
    data = _data(run)
    if data is not None:
        array = "torch.tensor" if lang.key == "pytorch" else "jnp.array"
        if len(data[0]) <= INLINE_POINTS:
            for name, column in zip(("x_data", "y_data"), data, strict=True):
                numbers = ", ".join(_n(v) for v in column)
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
        body = [
            "x, y = w[0], w[1]",
            *_returned(_formula_code(parse(recipe[1], limit=None), lang.key, m)),
        ]
        doc = "\n    ".join(textwrap.wrap(f"f(x, y) = {recipe[1]}", width=88))
    else:
        key = "data" if recipe is not None else run.surface.key
        body = [line.replace("{zero}", lang.zero) for line in SURFACES[key](m, run.surface_params)]
        doc = f"{run.surface.name}."
    signature = "w, x=x_data, y=y_data" if data is not None else "w"
    lines = [*head, f"def loss_fn({signature}):", f'    """{doc}"""']
    return lines + [f"    {line}" for line in body]


# Hand-written rules: the same lines of maths for torch and Keras (module `{m}`).


@dataclass(frozen=True)
class _Rule:
    """An update rule written out: `body` computes the direction d from g and the state, which
    starts at zeros; `t` is the 1-based step count where `uses_step` ({root_t}: √t in float32)."""

    name: str
    doc: str
    hyper: tuple[str, ...]
    state: tuple[str, ...]
    body: tuple[str, ...]
    uses_step: bool = False


_ADAM_MOMENTS = ("m = b1 * m + (1 - b1) * g", "v = b2 * v + (1 - b2) * g**2")
_RULES: dict[str, _Rule] = {
    "momentum": _Rule(
        "HeavyBall",
        "Heavy ball: v = βv + g, w -= η_k v (the rate scales the velocity after it is summed).",
        ("beta",),
        ("v",),
        ("v = beta * v + g", "d = v"),
    ),
    "nesterov": _Rule(
        "Nesterov",
        "Nesterov momentum: v = βv + g, w -= η_k (g + βv).",
        ("beta",),
        ("v",),
        ("v = beta * v + g", "d = g + beta * v"),
    ),
    "rmsprop": _Rule(
        "RMSprop",
        "RMSprop with ε inside the square root: v = ρv + (1 − ρ)g², w -= η_k g / √(v + ε).",
        ("rho", "eps"),
        ("v",),
        ("v = rho * v + (1 - rho) * g**2", "d = g / {m}.sqrt(v + eps)"),
    ),
    "adam": _Rule(
        "Adam",
        "Adam with ε added to √v̂: w -= η_k m̂ / (√v̂ + ε).",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            *_ADAM_MOMENTS,
            "d = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "nadam": _Rule(
        "NAdam",
        "NAdam as optax writes it: Nesterov's look-ahead on m̂, no momentum-decay schedule.",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            *_ADAM_MOMENTS,
            "m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)",
            "d = m_hat / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "amsgrad": _Rule(
        "AMSGrad",
        "AMSGrad keeping the running maximum of the bias-corrected v̂ (as optax does).",
        ("b1", "b2", "eps"),
        ("m", "v", "v_max"),
        (
            *_ADAM_MOMENTS,
            "v_max = {m}.maximum(v_max, v / (1 - b2**t))",
            "d = m / (1 - b1**t) / ({m}.sqrt(v_max) + eps)",
        ),
        uses_step=True,
    ),
    "adamax": _Rule(
        "AdaMax",
        "AdaMax with ε inside the maximum: u = max(β₂u, |g| + ε), w -= η_k m̂ / u.",
        ("b1", "b2", "eps"),
        ("m", "u"),
        (
            "m = b1 * m + (1 - b1) * g",
            "u = {m}.maximum(b2 * u, abs(g) + eps)",
            "d = m / (1 - b1**t) / u",
        ),
        uses_step=True,
    ),
    "radam": _Rule(
        "RAdam",
        "RAdam: plain momentum steps until ρ_t reaches the threshold τ, then rectified Adam.",
        ("b1", "b2", "eps", "threshold"),
        ("m", "v"),
        (
            *_ADAM_MOMENTS,
            "rho_inf = 2 / (1 - b2) - 1",
            "rho = rho_inf - 2 * t * b2**t / (1 - b2**t)",
            "m_hat = m / (1 - b1**t)",
            "ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)",
            "r = {m}.sqrt(abs(ratio))",
            "adaptive = r * m_hat / ({m}.sqrt(v / (1 - b2**t)) + eps)",
            "d = {where}(rho >= threshold, adaptive, m_hat)",
        ),
        uses_step=True,
    ),
    "adabelief": _Rule(
        "AdaBelief",
        "AdaBelief: s = β₂s + (1 − β₂)(g − m)² + ε, w -= η_k m̂ / (√ŝ + ε).",
        ("b1", "b2", "eps"),
        ("m", "s"),
        (
            "m = b1 * m + (1 - b1) * g",
            "s = b2 * s + (1 - b2) * (g - m) ** 2 + eps",
            "d = m / (1 - b1**t) / ({m}.sqrt(s / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "signsgd": _Rule("SignSGD", "signSGD: w -= η_k sign(g).", (), (), ("d = {m}.sign(g)",)),
    "lion": _Rule(
        "Lion",
        "Lion: w -= η_k sign(β₁m + (1 − β₁)g), then m = β₂m + (1 − β₂)g.",
        ("b1", "b2"),
        ("m",),
        ("d = {m}.sign(b1 * m + (1 - b1) * g)", "m = b2 * m + (1 - b2) * g"),
    ),
}
_RULES["adamw"] = _RULES["adam"]  # the decay λ is Keras's weight_decay option

# The rows of optimizers/rules_free.py, as optax computes them. Scalars (D, r, ‖g‖², ...) are kept
# as vectors of equal entries; a state that does not start at zero is set on the first step
# (t == 1), by multiplying with the comparisons (t == 1) and (t > 1).
_NORM = "{m}.sqrt({m}.sum({x} * {x}))"
_FIRST_W0 = "w0 = w0 + (t == 1) * (w - w0)"
_LR_FREE_RULES: dict[str, _Rule] = {
    "yogi": _Rule(
        "Yogi",
        "Yogi: v moves towards g² by (1 − β₂)g² at most; m and v start at 1e-6.",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            "m = m + (t == 1) * 1e-6",
            "v = v + (t == 1) * 1e-6",
            "m = b1 * m + (1 - b1) * g",
            "v = v - (1 - b2) * {m}.sign(v - g**2) * g**2",
            "d = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "adan": _Rule(
        "Adan",
        "Adan: momenta of g and of g − g_prev, scaled by an average of their squared blend.",
        ("b1", "b2", "b3", "eps"),
        ("m", "v", "n", "g_prev"),
        (
            "diff = (t > 1) * (g - g_prev)",
            "g_prev = g",
            "m = b1 * m + (1 - b1) * g",
            "v = b2 * v + (1 - b2) * diff",
            "n = b3 * n + (1 - b3) * (g + (1 - b2) * diff) ** 2",
            "step = m / (1 - b1**t) + (1 - b2) * v / (1 - b2**t)",
            "d = step / ({m}.sqrt(n / (1 - b3**t)) + eps)",
        ),
        uses_step=True,
    ),
    "novograd": _Rule(
        "NovoGrad",
        "NovoGrad: momentum of g divided by an average of the whole gradient's squared norm.",
        ("b1", "b2", "eps"),
        ("m", "nu"),
        (
            "square = {m}.sum(g * g)",
            "nu = (t == 1) * square + (t > 1) * (b2 * nu + (1 - b2) * square)",
            "m = (t > 1) * b1 * m + g / ({m}.sqrt(nu) + eps)",
            "d = m",
        ),
        uses_step=True,
    ),
    "ademamix": _Rule(
        "AdEMAMix",
        "AdEMAMix: Adam plus α times a slow momentum μ (β₃), which is not bias-corrected.",
        ("b1", "b2", "b3", "alpha", "eps"),
        ("m", "mu", "v"),
        (
            "m = b1 * m + (1 - b1) * g",
            "mu = b3 * mu + (1 - b3) * g",
            "v = b2 * v + (1 - b2) * g**2",
            "d = (m / (1 - b1**t) + alpha * mu) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "adopt": _Rule(
        "ADOPT",
        "ADOPT: g divided by the v of earlier steps, clipped to ±k^(1/4), then averaged.",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            "bound = (t - 1) ** 0.25",
            "normed = {m}.clip(g / {m}.maximum({m}.sqrt(v), 0 * v + eps), -bound, bound)",
            "m = (t > 1) * (b1 * m + (1 - b1) * normed)",
            "v = (t == 1) * g**2 + (t > 1) * (b2 * v + (1 - b2) * g**2)",
            "d = m",
        ),
        uses_step=True,
    ),
    "madgrad": _Rule(
        "MADGRAD",
        "MADGRAD: dual averaging from w0 with a cube-root scale, averaged with w (rate γ).",
        ("gamma", "beta", "eps"),
        ("w0", "S", "V"),
        (
            _FIRST_W0,
            "# optax takes √t in float32",
            "lam = (gamma + eps) * {root_t}",
            "S = S + lam * g",
            "V = V + lam * g**2",
            "z = w0 - S / (V ** (1 / 3) + eps)",
            "d = (1 - beta) * (w - z)",
        ),
        uses_step=True,
    ),
    "rmsprop_centred": _Rule(
        "CentredRMSprop",
        "Centred RMSprop: g / √(v − m² + ε), m and v running averages of g and g².",
        ("rho", "eps"),
        ("m", "v"),
        (
            "m = rho * m + (1 - rho) * g",
            "v = rho * v + (1 - rho) * g**2",
            "d = g / {m}.sqrt(v - m**2 + eps)",
        ),
    ),
    "signum": _Rule(
        "Signum",
        "Signum: the sign of the momentum m = βm + (1 − β)g.",
        ("beta",),
        ("m",),
        ("m = beta * m + (1 - beta) * g", "d = {m}.sign(m)"),
    ),
    "dadapt": _Rule(
        "DAdaptAdam",
        "D-Adaptation (Adam), as optax's dadapt_adamw at learning rate 1: D grows to fit.",
        ("b1", "b2", "eps", "d0"),
        ("D", "m", "v", "s", "r"),
        (
            "D = D + (t == 1) * d0",
            "root = b2**0.5",
            "lam = D * (1 - b2**t) ** 0.5 / (1 - b1**t)",
            "r = root * r + (1 - root) * lam * {m}.sum(g * s / ({m}.sqrt(v) + eps))",
            "s = root * s + (1 - root) * lam * g",
            "m = b1 * m + (1 - b1) * lam * g",
            "v = b2 * v + (1 - b2) * g**2",
            "D = {m}.maximum(D, r / ((1 - root) * {m}.sum(abs(s))))",
            "d = m / ({m}.sqrt(v) + eps)",
        ),
        uses_step=True,
    ),
    "prodigy": _Rule(
        "Prodigy",
        "Prodigy, as optax's prodigy at learning rate 1 (β₃ = √β₂): D grows to fit.",
        ("b1", "b2", "eps", "d0"),
        ("w0", "D", "m", "v", "s", "r"),
        (
            _FIRST_W0,
            "D = D + (t == 1) * d0",
            "b3 = b2**0.5",
            "lam = D * (1 - b2**t) ** 0.5 / (1 - b1**t)",
            "m = b1 * m + (1 - b1) * D * g",
            "v = b2 * v + (1 - b2) * (D * g) ** 2",
            "s = b3 * s + lam * D / d0 * g",
            "r = b3 * r + D / d0 * lam * {m}.sum(g * (w0 - w))",
            "D = {m}.maximum(D, r / {m}.sum(abs(s)))",
            "d = lam * m / ({m}.sqrt(v) + D * eps)",
        ),
        uses_step=True,
    ),
    "dog": _Rule(
        "DoG",
        "DoG: gradient descent at the rate max‖w − w0‖ / √(Σ‖g‖² + ε).",
        ("r_eps", "eps"),
        ("w0", "r", "G"),
        (
            _FIRST_W0,
            "r = r + (t == 1) * r_eps * (1 + " + _NORM.format(m="{m}", x="w") + ")",
            "r = {m}.maximum(r, " + _NORM.format(m="{m}", x="(w - w0)") + " + 0 * r)",
            "G = G + {m}.sum(g * g)",
            "d = r / {m}.sqrt(G + eps) * g",
        ),
        uses_step=True,
    ),
    "dowg": _Rule(
        "DoWG",
        "DoWG: gradient descent at the rate r̄² / (√(Σ r̄² ‖g‖²) + ε), r̄² = max‖w − w0‖².",
        ("r0_sq", "eps"),
        ("w0", "r2", "V"),
        (
            _FIRST_W0,
            "r2 = r2 + (t == 1) * r0_sq",
            "r2 = {m}.maximum(r2, {m}.sum((w - w0) ** 2) + 0 * r2)",
            "V = V + r2 * {m}.sum(g * g)",
            "d = r2 / ({m}.sqrt(V) + eps) * g",
        ),
        uses_step=True,
    ),
    "cocob": _Rule(
        "COCOB",
        "COCOB-Backprop: each coordinate bets a fraction of its winnings R (no learning rate).",
        ("alpha", "eps"),
        ("w0", "L", "G", "R", "theta"),
        (
            _FIRST_W0,
            "L = {m}.maximum(L + (t == 1) * eps, abs(g))",
            "G = G + abs(g)",
            "R = {m}.maximum(R - g * (w - w0), 0 * R)",
            "theta = theta - g",
            "bet = (L + R) / (L * {m}.maximum(G + L, alpha * L))",
            "d = w - w0 - theta * bet",
        ),
        uses_step=True,
    ),
    "schedule_free_sgd": _Rule(
        "ScheduleFreeSGD",
        "Schedule-Free SGD at rate γ, recovering the average x from w as optax does.",
        ("gamma", "beta"),
        ("z",),
        (
            "z = z + (t == 1) * w",
            "x = (w - (1 - beta) * z) / beta",
            "z = z - gamma * g",
            "x = (1 - 1 / t) * x + z / t",
            "d = w - ((1 - beta) * z + beta * x)",
        ),
        uses_step=True,
    ),
    "schedule_free_adamw": _Rule(
        "ScheduleFreeAdamW",
        "Schedule-Free AdamW at rate γ (no decay), recovering the average x from w as optax does.",
        ("gamma", "b1", "b2", "eps"),
        ("z", "v"),
        (
            "z = z + (t == 1) * w",
            "x = (w - (1 - b1) * z) / b1",
            "v = b2 * v + (1 - b2) * g**2",
            "z = z - gamma * g / ({m}.sqrt(v / (1 - b2**t)) + eps)",
            "x = (1 - 1 / t) * x + z / t",
            "d = w - ((1 - b1) * z + b1 * x)",
        ),
        uses_step=True,
    ),
    "lookahead": _Rule(
        "LookaheadAdam",
        "Lookahead around Adam: every K steps the slow weights move α of the way to the fast.",
        ("b1", "b2", "eps", "sync_period", "alpha"),
        ("m", "v", "lead"),
        (
            *_ADAM_MOMENTS,
            "u = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
            "sync, keep = t % sync_period == 0, t % sync_period != 0",
            "d = sync * (alpha * (lead + u) - lead) + keep * u",
            "lead = keep * (lead + u)",
        ),
        uses_step=True,
    ),
}
_RULES.update(_LR_FREE_RULES)
# Hypergradient descent (Baydin et al. 2018) on a multiplier α = 1 + a of the rate; p is the
# last direction (a copy: torch zeroes w.grad in place).
_HD_STEP = ("a = a + beta * {m}.sum(g * p)", "p = 1 * u", "d = (1 + a) * u")
_RULES["hd_gd"] = _Rule(
    "HypergradientGD",
    "Hypergradient descent: α = α + β⟨g, g_prev⟩ (α starts at 1), w -= η_k α g.",
    ("beta",),
    ("a", "p"),
    ("u = g", *_HD_STEP),
)
_RULES["hd_adam"] = _Rule(
    "HypergradientAdam",
    "Hypergradient Adam: u = m̂/(√v̂ + ε), α = α + β⟨g, u_prev⟩ (α starts at 1), w -= η_k α u.",
    ("b1", "b2", "eps", "beta"),
    ("m", "v", "a", "p"),
    (*_ADAM_MOMENTS, "u = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)", *_HD_STEP),
    uses_step=True,
)


def _bracketed(
    indent: str, head: str, items: Sequence[str], brackets: str, bare: bool = False
) -> list[str]:
    """`head` then the items in `brackets` (none if `bare`) on one line, or one item a line in
    the brackets where that line would be too long (as ruff formats it)."""
    opening, closing = ("", "") if bare else brackets
    line = f"{indent}{head}{opening}{', '.join(items)}{closing}"
    if len(line) <= 99:
        return [line]
    items = [f"{indent}    {item}," for item in items]
    return [f"{indent}{head}{brackets[0]}", *items, f"{indent}{brackets[1]}"]


def _torch_rule_class(rule: _Rule) -> list[str]:
    hyper = ", ".join(rule.hyper)
    defaults = [f'"{h}": {h}' for h in ("lr", *rule.hyper)]
    lines = [
        f"class {rule.name}(torch.optim.Optimizer):",
        f'    """{rule.doc}"""',
        "",
        f"    def __init__(self, params, lr{', ' + hyper if hyper else ''}):",
        *_bracketed("        ", "defaults = ", defaults, "{}"),
        "        super().__init__(params, defaults)",
        "",
        "    @torch.no_grad()",
        "    def step(self):",
        "        for group in self.param_groups:",
    ]
    if rule.hyper:
        lookups = [f'group["{h}"]' for h in rule.hyper]
        lines += _bracketed("            ", f"{hyper} = ", lookups, "()", bare=True)
    lines += [
        "            for w in group['params']:".replace("'", '"'),
        "                g = w.grad",
    ]
    if rule.state or rule.uses_step:
        lines.append("                state = self.state[w]")
        zeros = ", ".join(f"{s}=torch.zeros_like(w)" for s in rule.state)
        init = ", ".join(x for x in ("t=0" if rule.uses_step else "", zeros) if x)
        lines += ["                if not state:", f"                    state.update({init})"]
        if rule.uses_step:
            lines.append('                state["t"] += 1')
        names = (("t",) if rule.uses_step else ()) + rule.state
        lookups = [f'state["{s}"]' for s in names]
        lines += _bracketed("                ", f"{', '.join(names)} = ", lookups, "()", bare=True)
    # √t rounded to float32 (torch's own float32 sqrt can be an ulp away from it)
    root_t = "torch.tensor(t**0.5, dtype=torch.float32).item()"
    body = [b.format(m="torch", where="torch.where", root_t=root_t) for b in rule.body]
    if rule.name == "RAdam":  # t is a Python int here, so ρ_t is a float
        body = [b.replace("torch.sqrt(abs(", "math.sqrt(abs(") for b in body]
        body[-1] = "d = adaptive if rho >= threshold else m_hat"
    lines += [f"                {b}" for b in body]
    if rule.state:
        lines.append(f"                state.update({', '.join(f'{s}={s}' for s in rule.state)})")
    lines.append('                w -= group["lr"] * d')
    return lines


def _keras_rule_class(rule: _Rule) -> list[str]:
    hyper = ", ".join(rule.hyper)
    lines = [
        f"class {rule.name}(keras.optimizers.Optimizer):",
        f'    """{rule.doc}"""',
        "",
        f"    def __init__(self, learning_rate{', ' + hyper if hyper else ''}, **options):",
        "        super().__init__(learning_rate, **options)",
    ]
    if rule.hyper:
        lines.append(f"        self.{', self.'.join(rule.hyper)} = {hyper}")
    if rule.state:
        lines += [
            "",
            "    def build(self, variables):",
            "        super().build(variables)",
            "        (w,) = variables",
        ]
        lines += [
            f'        self.{s} = self.add_variable_from_reference(w, "{s}")' for s in rule.state
        ]
    lines += ["", "    def update_step(self, g, w, lr):"]
    if rule.hyper:
        lines.append(f"        {hyper} = self.{', self.'.join(rule.hyper)}")
    if rule.uses_step:
        lines.append('        t = ops.cast(self.iterations + 1, "float64")')
    if rule.state:
        lines.append(f"        {', '.join(rule.state)} = self.{', self.'.join(rule.state)}")
    root_t = 'ops.cast(ops.sqrt(ops.cast(t, "float32")), "float64")'
    lines += [f"        {b.format(m='ops', where='ops.where', root_t=root_t)}" for b in rule.body]
    lines += [f"        self.assign(self.{s}, {s})" for s in rule.state]
    lines.append("        self.assign_sub(w, lr * d)")
    return lines


def _newton_torch() -> list[str]:
    return [
        "class Newton(torch.optim.Optimizer):",
        '    """Damped Newton: w -= η_k (H + λI)⁻¹ g, with the Hessian H passed to step()."""',
        "",
        "    def __init__(self, params, lr, damping):",
        '        super().__init__(params, {"lr": lr, "damping": damping})',
        "",
        "    @torch.no_grad()",
        "    def step(self, hessian):",
        "        for group in self.param_groups:",
        '            for w in group["params"]:',
        '                damped = hessian + group["damping"] * torch.eye(len(w))',
        '                w -= group["lr"] * torch.linalg.solve(damped, w.grad)',
    ]


def _newton_keras() -> list[str]:
    return [
        "class Newton(keras.optimizers.Optimizer):",
        '    """Damped Newton: w -= η_k (H + λI)⁻¹ g, with H set in `hessian` before apply()."""',
        "",
        "    def __init__(self, learning_rate, damping, **options):",
        "        super().__init__(learning_rate, **options)",
        "        self.damping = damping",
        "        self.hessian = None",
        "",
        "    def update_step(self, g, w, lr):",
        "        damped = self.hessian + self.damping * ops.eye(2)",
        "        self.assign_sub(w, lr * ops.linalg.solve(damped, g))",
    ]


_MECHANIC_DOC = (
    '    """Mechanic (optax.contrib.mechanize at rate 1) around SGD or Adam.\n\n'
    "    One scale S = Σ s_i of the base rule's summed steps u from w0, learnt by online"
    ' betting:\n    w -= η_k (w − w0 + S (Δ + u)).\n    """'
)


def _mechanic_torch() -> list[str]:
    return [
        "class Mechanic(torch.optim.Optimizer):",
        _MECHANIC_DOC,
        "",
        '    def __init__(self, params, lr, weight_decay, s_init, base="sgd", b1=0.9, b2=0.999):',
        '        defaults = {"lr": lr, "weight_decay": weight_decay, "s_init": s_init, "b1": b1,'
        ' "b2": b2}',
        "        super().__init__(params, defaults)",
        "        self.base = base",
        "",
        "    @torch.no_grad()",
        "    def step(self):",
        "        betas = torch.tensor([1 - 0.1**i for i in range(1, 7)], dtype=torch.float64)",
        "        eps = 1e-8",
        "        for group in self.param_groups:",
        '            b1, b2, s0 = group["b1"], group["b2"], group["s_init"]',
        '            for w in group["params"]:',
        "                g, state = w.grad, self.state[w]",
        "                if not state:",
        "                    zeros = torch.zeros(6, dtype=w.dtype)",
        "                    state.update(t=0, w0=w.clone(), s=zeros + s0)",
        "                    state.update(M=zeros, V=zeros, R=zeros)",
        "                    state.update(m=torch.zeros_like(w), v=torch.zeros_like(w))",
        '                state["t"] += 1',
        '                t, w0, s = state["t"], state["w0"], state["s"]',
        '                if self.base == "adam":',
        '                    state["m"] = b1 * state["m"] + (1 - b1) * g',
        '                    state["v"] = b2 * state["v"] + (1 - b2) * g**2',
        '                    v_hat = state["v"] / (1 - b2**t)',
        '                    u = state["m"] / (1 - b1**t) / (v_hat.sqrt() + eps)',
        "                else:",
        "                    u = g",
        "                S = s.sum()",
        '                tilted = g + group["weight_decay"] * S * g.norm() / (w.norm() + eps) * w',
        "                delta = (w0 - w) / (S + eps)",
        "                h = torch.dot(tilted, delta)",
        '                R = betas * state["R"] + torch.clamp(h, -state["M"], state["M"]) * s',
        '                M = torch.maximum(betas * state["M"], h.abs() + eps)',
        '                V = betas**2 * state["V"] + h**2',
        "                s = (s0 / 6 * M + torch.clamp(R, min=0)) / (V.sqrt() + eps)",
        "                state.update(s=s, M=M, V=V, R=R)",
        '                w -= group["lr"] * (w - w0 + s.sum() * (delta + u))',
    ]


def _mechanic_keras() -> list[str]:
    return [
        "class Mechanic(keras.optimizers.Optimizer):",
        _MECHANIC_DOC,
        "",
        "    def __init__(self, learning_rate, mechanic_decay, s_init, base, b1, b2, **options):",
        "        super().__init__(learning_rate, **options)",
        "        self.mechanic_decay, self.s_init, self.base = mechanic_decay, s_init, base",
        "        self.b1, self.b2 = b1, b2",
        "",
        "    def build(self, variables):",
        "        super().build(variables)",
        "        (w,) = variables",
        "        self.w0, self.m, self.v = (",
        '            self.add_variable_from_reference(w, n) for n in ("w0", "m", "v")',
        "        )",
        "        self.s, self.M, self.V, self.R = (",
        '            self.add_variable((6,), dtype=w.dtype, name=n) for n in ("s", "M", "V", "R")',
        "        )",
        "",
        "    def update_step(self, g, w, lr):",
        '        t = ops.cast(self.iterations + 1, "float64")',
        '        first = ops.cast(t == 1, "float64")',
        '        betas = ops.convert_to_tensor([1 - 0.1**i for i in range(1, 7)], dtype="float64")',
        "        eps = 1e-8",
        "        w0, s = self.w0 + first * (w - self.w0), self.s + first * self.s_init",
        "        m = self.b1 * self.m + (1 - self.b1) * g",
        "        v = self.b2 * self.v + (1 - self.b2) * g**2",
        '        if self.base == "adam":',
        "            u = m / (1 - self.b1**t) / (ops.sqrt(v / (1 - self.b2**t)) + eps)",
        "        else:",
        "            u = g",
        "        M0, V0, R0 = (ops.convert_to_tensor(x) for x in (self.M, self.V, self.R))",
        "        S = ops.sum(s)",
        "        norm_g, norm_w = ops.sqrt(ops.sum(g * g)), ops.sqrt(ops.sum(w * w))",
        "        tilted = g + self.mechanic_decay * S * norm_g / (norm_w + eps) * w",
        "        delta = (w0 - w) / (S + eps)",
        "        h = ops.sum(tilted * delta)",
        "        R = betas * R0 + ops.clip(h, -M0, M0) * s",
        "        M = ops.maximum(betas * M0, ops.abs(h) + eps)",
        "        V = betas**2 * V0 + h**2",
        "        s = (self.s_init / 6 * M + ops.maximum(R, 0)) / (ops.sqrt(V) + eps)",
        "        for variable, value in zip((self.w0, self.m, self.v), (w0, m, v), strict=True):",
        "            self.assign(variable, value)",
        "        variables = (self.s, self.M, self.V, self.R)",
        "        for variable, value in zip(variables, (s, M, V, R), strict=True):",
        "            self.assign(variable, value)",
        "        self.assign_sub(w, lr * (w - w0 + ops.sum(s) * (delta + u)))",
    ]


def _mechanic_call(base: str, h: Mapping[str, float], decay: str, head: str, tail: str) -> str:
    adam = f", b1={_n(h['b1'])}, b2={_n(h['b2'])}" if base == "adam" else ", b1=0.9, b2=0.999"
    return (
        f"Mechanic({head}, {decay}={_n(h['weight_decay'])}, s_init={_n(h['s_init'])},"
        f' base="{base}"{adam}{tail})'
    )


_MECHANIC_NOTE = "{fw} has no Mechanic: the class below is optax's mechanize at rate 1."


# Optimizer tables. Each entry: (definitions, constructor text) from the run's hyperparameters.

Built = tuple[list[str], str, list[str]]  # (class lines, constructor, notes for the docstring)
OptimizerCode = Callable[[Mapping[str, float]], Built]


# Rules whose step needs the objective itself (its value and floor, a line search, a second
# gradient): not written out yet in any framework. Their rows refuse with a ValueError, which
# the code panel shows.
NOT_EXPORTED: dict[str, str] = {
    "polyak": "its step needs the loss value and the floor f* at every step",
    "armijo": "its line search evaluates the loss several times a step",
    "lbfgs": "its zoom line search is optax's own",
    "momo": "its step needs the loss value and the floor f* at every step",
    "sam": "its step needs a second gradient, at the adversarial point",
}


def _not_exported(key: str) -> Callable[[Mapping[str, float]], Never]:
    def refuse(h: Mapping[str, float]) -> Never:
        name = get_optimizer(key).name
        raise ValueError(f"{name} cannot be written out as a script yet: {NOT_EXPORTED[key]}")

    return refuse


def _torch_custom(key: str, why: str) -> OptimizerCode:
    rule = _RULES[key]

    def build(h: Mapping[str, float]) -> Built:
        args = "".join(f", {name}={_n(h[name])}" for name in rule.hyper)
        return _torch_rule_class(rule), f"{rule.name}([w], lr=LR{args})", [why]

    return build


def _builtin(text: str, *notes: str) -> OptimizerCode:
    return lambda h: ([], text.format(**{k: _n(v) for k, v in h.items()}), list(notes))


TORCH_OPTIMIZERS: dict[str, OptimizerCode] = {
    "gd": _builtin("torch.optim.SGD([w], lr=LR)"),
    "momentum": _builtin("torch.optim.SGD([w], lr=LR, momentum={beta})"),
    "nesterov": _builtin("torch.optim.SGD([w], lr=LR, momentum={beta}, nesterov=True)"),
    "adagrad": lambda h: (
        [],
        f"torch.optim.Adagrad([w], lr=LR, initial_accumulator_value={_n(h['initial_accumulator'])}"
        f" + {_n(h['eps'])}, eps=0)",
        [
            "torch's Adagrad adds ε outside the square root; the app takes √(G + ε). Starting "
            "the sum at G_init + ε with eps=0 gives the app's rule exactly."
        ],
    ),
    "rmsprop": _torch_custom(
        "rmsprop", "torch's RMSprop adds ε outside √v; this class takes √(v + ε) as the app does."
    ),
    "adam": _builtin("torch.optim.Adam([w], lr=LR, betas=({b1}, {b2}), eps={eps})"),
    "newton": lambda h: (
        _newton_torch(),
        f"Newton([w], lr=LR, damping={_n(h['damping'])})",
        ["torch has no Newton optimizer: the class below solves (H + λI) d = g."],
    ),
    "adamw": _builtin(
        "torch.optim.AdamW([w], lr=LR, betas=({b1}, {b2}), eps={eps}, weight_decay={weight_decay})"
    ),
    "nadam": _torch_custom(
        "nadam", "torch's NAdam adds a momentum-decay schedule; this class is optax's NAdam."
    ),
    "amsgrad": _torch_custom(
        "amsgrad", "torch's amsgrad=True keeps the maximum of raw v; the app that of v̂."
    ),
    "adamax": _builtin("torch.optim.Adamax([w], lr=LR, betas=({b1}, {b2}), eps={eps})"),
    "radam": _torch_custom(
        "radam", "torch's RAdam fixes the threshold at 5 and adds ε to √v before correcting it."
    ),
    "adabelief": _torch_custom("adabelief", "torch has no AdaBelief: the class below is optax's."),
    "adadelta": _builtin("torch.optim.Adadelta([w], lr=LR, rho={rho}, eps={eps})"),
    "signsgd": _torch_custom("signsgd", "torch has no signSGD: the class below is the rule."),
    "lion": _torch_custom("lion", "torch has no Lion: the class below is the rule."),
    **{  # the rows of optimizers/rules_free.py
        key: _torch_custom(key, f"torch has no {rule.name}: the class below is optax's rule.")
        for key, rule in _LR_FREE_RULES.items()
    },
    **{
        key: lambda h, base=base: (
            _mechanic_torch(),
            _mechanic_call(base, h, "weight_decay", "[w], lr=LR", ""),
            [_MECHANIC_NOTE.format(fw="torch")],
        )
        for key, base in (("mechanic_sgd", "sgd"), ("mechanic_adam", "adam"))
    },
    "hd_gd": _torch_custom("hd_gd", "torch has no hypergradient descent: the class below is it."),
    "hd_adam": _torch_custom("hd_adam", "torch has no hypergradient Adam: the class below is it."),
    **{key: _not_exported(key) for key in NOT_EXPORTED},
}


def _keras_custom(key: str, why: str) -> OptimizerCode:
    rule = _RULES[key]

    def build(h: Mapping[str, float]) -> Built:
        args = "".join(f", {name}={_n(h[name])}" for name in rule.hyper)
        return _keras_rule_class(rule), f"{rule.name}(LR{args}OPTIONS)", [why]

    return build


KERAS_OPTIMIZERS: dict[str, OptimizerCode] = {
    "gd": _builtin("keras.optimizers.SGD(LROPTIONS)"),
    "momentum": _keras_custom(
        "momentum",
        "Keras's SGD(momentum=) keeps η_k inside the velocity, which differs once η_k changes; "
        "this class scales the velocity by η_k as the app does.",
    ),
    "nesterov": _keras_custom(
        "nesterov", "Keras's SGD(nesterov=True) keeps η_k inside the velocity; this class does not."
    ),
    "adagrad": _builtin(
        "keras.optimizers.Adagrad(LR, initial_accumulator_value={initial_accumulator},"
        " epsilon={eps}OPTIONS)"
    ),
    "rmsprop": _builtin("keras.optimizers.RMSprop(LR, rho={rho}, epsilon={eps}OPTIONS)"),
    "adam": _keras_custom(
        "adam", "Keras's Adam adds its ε before the bias correction of v (ε̂); this class after."
    ),
    "newton": lambda h: (
        _newton_keras(),
        f"Newton(LR, damping={_n(h['damping'])}OPTIONS)",
        ["Keras has no Newton optimizer: the class below solves (H + λI) d = g."],
    ),
    "adamw": _keras_custom(
        "adamw", "Keras's AdamW adds its ε before the bias correction of v; this class after."
    ),
    "nadam": _keras_custom(
        "nadam", "Keras's Nadam adds a momentum-decay schedule; this class is optax's NAdam."
    ),
    "amsgrad": _keras_custom(
        "amsgrad", "Keras's amsgrad=True keeps the maximum of raw v; the app that of v̂."
    ),
    "adamax": _keras_custom(
        "adamax", "Keras's Adamax adds ε after the maximum; the app inside it: max(β₂u, |g| + ε)."
    ),
    "radam": _keras_custom("radam", "Keras has no RAdam: the class below is optax's."),
    "adabelief": _keras_custom("adabelief", "Keras has no AdaBelief: the class below is optax's."),
    "adadelta": _builtin("keras.optimizers.Adadelta(LR, rho={rho}, epsilon={eps}OPTIONS)"),
    "signsgd": _keras_custom("signsgd", "Keras has no signSGD: the class below is the rule."),
    "lion": _builtin("keras.optimizers.Lion(LR, beta_1={b1}, beta_2={b2}OPTIONS)"),
    **{  # the rows of optimizers/rules_free.py
        key: _keras_custom(key, f"Keras has no {rule.name}: the class below is optax's rule.")
        for key, rule in _LR_FREE_RULES.items()
    },
    **{
        key: lambda h, base=base: (
            _mechanic_keras(),
            _mechanic_call(base, h, "mechanic_decay", "LR", "OPTIONS"),
            [_MECHANIC_NOTE.format(fw="Keras")],
        )
        for key, base in (("mechanic_sgd", "sgd"), ("mechanic_adam", "adam"))
    },
    "hd_gd": _keras_custom("hd_gd", "Keras has no hypergradient descent: the class below is it."),
    "hd_adam": _keras_custom("hd_adam", "Keras has no hypergradient Adam: the class below is it."),
    **{key: _not_exported(key) for key in NOT_EXPORTED},
}

_FLIP = "optax.scale(-1.0)"  # optax's step to add → the direction d_k the app scales by η_k


def _betas(h: Mapping[str, float]) -> str:
    return f"b1={_n(h['b1'])}, b2={_n(h['b2'])}"


def _mechanize(base: str, h: Mapping[str, float]) -> str:
    return (
        f"optax.contrib.mechanize({base}, weight_decay={_n(h['weight_decay'])},"
        f" s_init={_n(h['s_init'])}),\n{_FLIP}"
    )


OPTAX_LR_FREE: dict[str, Callable[[Mapping[str, float]], str]] = {
    "yogi": lambda h: f"optax.scale_by_yogi({_betas(h)}, eps={_n(h['eps'])})",
    "adan": lambda h: f"optax.scale_by_adan({_betas(h)}, b3={_n(h['b3'])}, eps={_n(h['eps'])})",
    "novograd": lambda h: f"optax.scale_by_novograd({_betas(h)}, eps={_n(h['eps'])})",
    "ademamix": lambda h: (
        f"optax.contrib.scale_by_ademamix({_betas(h)}, b3={_n(h['b3'])},"
        f" alpha={_n(h['alpha'])}, eps={_n(h['eps'])})"
    ),
    "adopt": lambda h: f"optax.contrib.scale_by_adopt({_betas(h)}, eps={_n(h['eps'])})",
    "madgrad": lambda h: (
        f"optax.contrib.scale_by_madgrad(jnp.float64({_n(h['gamma'])}), momentum={_n(h['beta'])},"
        f" eps={_n(h['eps'])}),\n{_FLIP}"
    ),
    "rmsprop_centred": lambda h: f"optax.scale_by_stddev(decay={_n(h['rho'])}, eps={_n(h['eps'])})",
    "signum": lambda h: f"optax.ema({_n(h['beta'])}, debias=False),\noptax.scale_by_sign()",
    "dadapt": lambda h: (
        f"optax.contrib.dadapt_adamw(1.0, betas=({_n(h['b1'])}, {_n(h['b2'])}),"
        f" eps={_n(h['eps'])}, estim_lr0={_n(h['d0'])}),\n{_FLIP}"
    ),
    "prodigy": lambda h: (
        f"optax.contrib.prodigy(1.0, betas=({_n(h['b1'])}, {_n(h['b2'])}),"
        f" eps={_n(h['eps'])}, estim_lr0={_n(h['d0'])}),\n{_FLIP}"
    ),
    "dog": lambda h: (
        f"optax.contrib.dog(1.0, init_step=('heuristic', {_n(h['r_eps'])}),"
        f" eps={_n(h['eps'])}),\n{_FLIP}"
    ),
    "dowg": lambda h: (
        f"optax.contrib.dowg(1.0, init_estim_sq_dist={_n(h['r0_sq'])},"
        f" eps={_n(h['eps'])}),\n{_FLIP}"
    ),
    "cocob": lambda h: (
        f"optax.contrib.scale_by_cocob(alpha={_n(h['alpha'])}, eps={_n(h['eps'])}),\n{_FLIP}"
    ),
    "mechanic_sgd": lambda h: _mechanize("optax.sgd(1.0)", h),
    "mechanic_adam": lambda h: _mechanize(f"optax.adam(1.0, {_betas(h)})", h),
    "schedule_free_sgd": lambda h: (
        f"optax.contrib.schedule_free_sgd({_n(h['gamma'])}, b1={_n(h['beta'])}),\n{_FLIP}"
    ),
    "schedule_free_adamw": lambda h: (
        f"optax.contrib.schedule_free_adamw({_n(h['gamma'])}, {_betas(h)},"
        f" eps={_n(h['eps'])}),\n{_FLIP}"
    ),
    "lookahead": lambda h: (
        f"lookahead(optax.scale_by_adam({_betas(h)}, eps={_n(h['eps'])}),"
        f" sync_period={_n(h['sync_period'])}, alpha={_n(h['alpha'])})"
    ),
}

OPTAX_OPTIMIZERS: dict[str, Callable[[Mapping[str, float]], str]] = {
    "gd": lambda h: "",
    "momentum": lambda h: f"optax.trace(decay={_n(h['beta'])})",
    "nesterov": lambda h: f"optax.trace(decay={_n(h['beta'])}, nesterov=True)",
    "adagrad": lambda h: (
        f"optax.scale_by_rss(initial_accumulator_value={_n(h['initial_accumulator'])},"
        f" eps={_n(h['eps'])})"
    ),
    "rmsprop": lambda h: f"optax.scale_by_rms(decay={_n(h['rho'])}, eps={_n(h['eps'])})",
    "adam": lambda h: (
        f"optax.scale_by_adam(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])})"
    ),
    "newton": lambda h: f"scale_by_newton(damping={_n(h['damping'])})",
    "adamw": lambda h: (
        f"optax.scale_by_adam(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])}),\n"
        f"optax.add_decayed_weights({_n(h['weight_decay'])})"
    ),
    "nadam": lambda h: (
        f"optax.scale_by_adam(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])},"
        " nesterov=True)"
    ),
    "amsgrad": lambda h: (
        f"optax.scale_by_amsgrad(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])})"
    ),
    "adamax": lambda h: (
        f"optax.scale_by_adamax(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])})"
    ),
    "radam": lambda h: (
        f"optax.scale_by_radam(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])},"
        f" threshold={_n(h['threshold'])})"
    ),
    "adabelief": lambda h: (
        f"optax.scale_by_belief(b1={_n(h['b1'])}, b2={_n(h['b2'])}, eps={_n(h['eps'])},"
        f" eps_root={_n(h['eps'])})"
    ),
    "adadelta": lambda h: f"optax.scale_by_adadelta(rho={_n(h['rho'])}, eps={_n(h['eps'])})",
    "signsgd": lambda h: "optax.scale_by_sign()",
    "lion": lambda h: f"optax.scale_by_lion(b1={_n(h['b1'])}, b2={_n(h['b2'])})",
    **OPTAX_LR_FREE,  # the rows of optimizers/rules_free.py
    "hd_gd": lambda h: f"hypergradient(optax.identity(), beta={_n(h['beta'])})",
    "hd_adam": lambda h: (
        f"hypergradient(optax.scale_by_adam(b1={_n(h['b1'])}, b2={_n(h['b2'])},"
        f" eps={_n(h['eps'])}), beta={_n(h['beta'])})"
    ),
    **{key: _not_exported(key) for key in NOT_EXPORTED},
}

_OPTAX_NEWTON = [
    "def scale_by_newton(damping):",
    '    """Damped Newton direction (H + λI)⁻¹ g, from the Hessian passed as `hessian=`."""',
    "",
    "    def update(updates, state, params=None, *, hessian, **extra):",
    "        return jnp.linalg.solve(hessian + damping * jnp.eye(2), updates), state",
    "",
    "    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)",
]

_OPTAX_LOOKAHEAD = [
    "def lookahead(fast, sync_period, alpha):",
    '    """Lookahead at unit rate: the fast weights lead the slow ones by -η·lead; every',
    '    sync_period steps the slow weights move alpha of the way and the fast ones restart."""',
    "",
    "    def init(params):",
    "        return fast.init(params), 0, jnp.zeros_like(params)",
    "",
    "    def update(updates, state, params=None):",
    "        inner, count, lead = state",
    "        direction, inner = fast.update(updates, inner, params)",
    "        ahead, count = lead + direction, count + 1",
    "        sync = count % sync_period == 0",
    "        direction = jnp.where(sync, alpha * ahead - lead, direction)",
    "        return direction, (inner, count, jnp.where(sync, 0.0, ahead))",
    "",
    "    return optax.GradientTransformation(init, update)",
]
_OPTAX_HYPERGRADIENT = [
    "def hypergradient(inner, beta):",
    '    """Hypergradient descent on a multiplier α of the rate (Baydin et al. 2018):',
    '    α = α + β⟨g, d_prev⟩ with α starting at 1, then the direction α·d."""',
    "",
    "    def init(params):",
    "        return inner.init(params), jnp.ones(()), jnp.zeros_like(params)",
    "",
    "    def update(updates, state, params=None):",
    "        inner_state, alpha, previous = state",
    "        alpha = alpha + beta * updates @ previous",
    "        direction, inner_state = inner.update(updates, inner_state, params)",
    "        return alpha * direction, (inner_state, alpha, direction)",
    "",
    "    return optax.GradientTransformation(init, update)",
]
_OPTAX_DEFINITIONS = {
    "newton": _OPTAX_NEWTON,
    "lookahead": _OPTAX_LOOKAHEAD,
    "hd_gd": _OPTAX_HYPERGRADIENT,
    "hd_adam": _OPTAX_HYPERGRADIENT,
}


# Schedules: the factor η_k / η₀ as a closed form, in each framework's spelling.

Params = Mapping[str, float]


def _closed_form(key: str, p: Params, lang: str) -> tuple[list[str], str]:
    """(statements, expression) that compute η_k / η₀ from the step `k`, for the schedules that
    a framework lacks: the statements name the parts, the expression combines them."""
    ns = "math" if lang == "pytorch" else "jnp"
    floor, cos, log = f"{ns}.floor", f"{ns}.cos", f"{ns}.log"
    smaller = "min" if lang == "pytorch" else f"{ns}.minimum"
    if key == "inverse_time":
        return [], f"1 / (1 + {_n(p['decay_rate'])} * k / {_n(p['decay_steps'])})"
    if key == "polynomial":
        end, T = _n(p["end_factor"]), _n(p["decay_steps"])
        return [
            f"left = 1 - {smaller}(k, {T}) / {T}"
        ], f"{end} + (1 - {end}) * left**{_n(p['power'])}"
    if key == "cosine":
        rho, T = _n(p["min_factor"]), _n(p["decay_steps"])
        return [
            f"u = {smaller}(k, {T}) / {T}"
        ], f"{rho} + (1 - {rho}) * (1 + {cos}(math.pi * u)) / 2"
    if key in ("triangular", "triangular2", "exp_range"):
        s, top = _n(p["step_size"]), _n(p["max_factor"] - 1)
        lines = [
            f"cycle = {floor}(k / {_n(2 * p['step_size'])})",
            f"height = 1 - abs(k / {s} - 2 * cycle - 1)",
        ]
        amplitude = {
            "triangular": "",
            "triangular2": " * 0.5**cycle",
            "exp_range": f" * {_n(p.get('gamma', 1.0))}**k",
        }[key]
        return lines, f"1 + {top} * height{amplitude}"
    if key == "one_cycle":
        T, rise = p["total_steps"], p["pct"] * p["total_steps"]
        low = 1 / p["div"]
        end = low / p["final_div"]
        lines = [
            f"warm = {_n(low)} + {_n(1 - low)} * (1 - {cos}(math.pi * k / {_n(rise)})) / 2",
            f"u = ({smaller}(k, {_n(T)}) - {_n(rise)}) / {_n(T - rise)}",
            f"anneal = {_n(end)} + {_n(1 - end)} * (1 + {cos}(math.pi * u)) / 2",
        ]
        if lang == "pytorch":
            return lines, f"warm if k < {_n(rise)} else anneal"
        return lines, f"{ns}.where(k < {_n(rise)}, warm, anneal)"
    if key == "sgdr":
        T0, mult, rho = p["period"], p["period_mult"], _n(p["min_factor"])
        if mult == 1:
            lines = [f"u = (k % {_n(T0)}) / {_n(T0)}"]
        else:  # cycle i starts at S_i = T₀(M^i − 1)/(M − 1); the 1e-9 guards the log's rounding
            lines = [
                f"i = {floor}({log}(1 + k * {_n(mult - 1)} / {_n(T0)}) / {log}({_n(mult)}) + 1e-9)",
                f"start = {_n(T0)} * ({_n(mult)}**i - 1) / {_n(mult - 1)}",
                f"u = (k - start) / ({_n(T0)} * {_n(mult)}**i)",
            ]
        return lines, f"{rho} + (1 - {rho}) * (1 + {cos}(math.pi * u)) / 2"
    raise KeyError(key)


# How each framework writes each schedule: its own scheduler where one matches the app's, else
# the closed form written out (LambdaLR in torch, a LearningRateSchedule in Keras, a function
# in optax).
_OUT = "written out"
SCHEDULE_CODE: dict[str, dict[str, str]] = {
    "constant": {"pytorch": "no scheduler", "keras": "a float", "optax": "a float"},
    "step": {"pytorch": "StepLR", "keras": "ExponentialDecay", "optax": "exponential_decay"},
    "multistep": {
        "pytorch": "MultiStepLR",
        "keras": "PiecewiseConstantDecay",
        "optax": "piecewise_constant_schedule",
    },
    "exponential": {
        "pytorch": "ExponentialLR",
        "keras": "ExponentialDecay",
        "optax": "exponential_decay",
    },
    "inverse_time": {"pytorch": _OUT, "keras": "InverseTimeDecay", "optax": _OUT},
    "polynomial": {
        "pytorch": "PolynomialLR (ρ = 0), else written out",
        "keras": "PolynomialDecay",
        "optax": "polynomial_schedule",
    },
    "cosine": {
        "pytorch": "CosineAnnealingLR (run within T), else written out",
        "keras": _OUT,
        "optax": "cosine_decay_schedule",
    },
    "sgdr": {"pytorch": "CosineAnnealingWarmRestarts", "keras": _OUT, "optax": _OUT},
    "triangular": {"pytorch": "CyclicLR", "keras": _OUT, "optax": _OUT},
    "triangular2": {"pytorch": "CyclicLR", "keras": _OUT, "optax": _OUT},
    "exp_range": {"pytorch": "CyclicLR", "keras": _OUT, "optax": _OUT},
    "one_cycle": {
        "pytorch": _OUT,
        "keras": _OUT,
        "optax": "cosine_onecycle_schedule (whole p·T), else written out",
    },
    "plateau": {
        "pytorch": "ReduceLROnPlateau (no warmup), else written out",
        "keras": _OUT,
        "optax": "contrib.reduce_on_plateau",
    },
}
WARMUP_CODE = {
    "pytorch": "LambdaLR then SequentialLR",
    "keras": "a Warmup schedule around the other",
    "optax": "linear_schedule + join_schedules",
}
MODIFIER_CODE: dict[str, dict[str, str]] = {
    "clip_value": {"pytorch": "grad.clamp_", "keras": "clipvalue=", "optax": "optax.clip"},
    "clip_norm": {
        "pytorch": "g · min(1, C/‖g‖) by hand",
        "keras": "global_clipnorm=",
        "optax": "clip_by_global_norm",
    },
    "l2": {
        "pytorch": "added to the loss",
        "keras": "added to the loss",
        "optax": "added to the loss",
    },
    "weight_decay": {
        "pytorch": "w −= η_k λ_w w_k after step() (AdamW: its weight_decay=)",
        "keras": "w −= η_k λ_w w_k after apply() (AdamW: its weight_decay=)",
        "optax": "add_decayed_weights",
    },
    "noise_std": {
        "pytorch": "torch.randn (another draw)",
        "keras": "the app's jax.random draw",
        "optax": "the app's jax.random draw",
    },
    "noise_seed": {
        "pytorch": "Generator seed",
        "keras": "jax.random.key",
        "optax": "jax.random.key",
    },
    "batch_size": {
        "pytorch": "torch.randperm (another draw)",
        "keras": "jax.random.permutation (another draw)",
        "optax": "jax.random.permutation (another draw)",
    },
    "batch_seed": {
        "pytorch": "Generator seed",
        "keras": "jax.random.key",
        "optax": "jax.random.key",
    },
}


def _first_factor(run: Run) -> float:
    """η̂ / η₀: the schedule's own first rate, the peak a warmup climbs to."""
    spec = get_schedule(run.schedule)
    params = {k: jnp.float64(v) for k, v in run.schedule_params.items()}
    return float(spec.fn(jnp.float64(0.0), jnp.float64(1.0), params))


_PLATEAU_CLASS = [
    "class Plateau:",
    '    """ReduceLROnPlateau as the app runs it: after more than `patience` steps in a row',
    "    without loss < best − τ|best|, scale ← max(φ·scale, s_min), then `cooldown` steps",
    '    uncounted. update(loss) returns the scale for the step at that loss."""',
    "",
    "    def __init__(self, factor, patience, threshold, cooldown, min_scale):",
    "        self.factor, self.patience, self.threshold = factor, patience, threshold",
    "        self.cooldown, self.min_scale = cooldown, min_scale",
    "        self.scale, self.best, self.bad, self.cooling = 1.0, math.inf, 0, 0",
    "",
    "    def update(self, loss):",
    "        bar = self.best - self.threshold * abs(self.best)",
    "        improved = self.best == math.inf or loss < bar",
    "        in_cooldown = self.cooling > 0",
    "        self.bad = 0 if improved or in_cooldown else self.bad + 1",
    "        if improved:",
    "            self.best = loss",
    "        if self.bad > self.patience:",
    "            self.scale = max(self.scale * self.factor, self.min_scale)",
    "            self.bad, self.cooling = 0, self.cooldown",
    "        elif in_cooldown:",
    "            self.cooling -= 1",
    "        return self.scale",
]
_PLATEAU_HAND = (
    "ReduceLROnPlateau is written out (class Plateau) so that it composes with the warmup and "
    "cuts η_k from the loss at w_k, as the app does."
)


def _plateau_new(run: Run) -> str:
    p = run.schedule_params
    return (
        f"Plateau(factor={_n(p['factor'])}, patience={_n(p['patience'])},"
        f" threshold={_n(p['threshold'])}, cooldown={_n(p['cooldown'])},"
        f" min_scale={_n(p['min_scale'])})"
    )


def _plateau_rate(run: Run) -> str:
    """η_k = η₀ · warmup ramp · `scale` (the plateau's factor), as text."""
    rate = _n(run.lr)
    if run.warmup_steps > 0:
        W, a = run.warmup_steps, run.warmup_start
        rate += f" * ({_n(a)} + {_n(1 - a)} * min(step, {W}) / {W})"
    return f"{rate} * scale"


# Modifiers that change the code: which are on.


def _on(run: Run, name: str) -> bool:
    return run.mods[name] > 0


def _batched(run: Run) -> bool:
    data = _data(run)
    return data is not None and 1 <= round(run.mods["batch_size"]) < len(data[0])


# The scripts.


@dataclass
class _Script:
    """A script in parts, so that several runs can share one file."""

    imports: list[str]
    setup: list[str]
    docs: list[str]  # what differs from the app, one sentence each
    body: list[str]  # definitions, then the loop, then the print


def _differs_noise(framework: str) -> str:
    return (
        f"Gradient noise: {framework}'s random numbers are not JAX's, so the noise is another "
        "draw of the same Gaussian (replace `noise` by the app's to get its path exactly)."
    )


_BATCH_NOTE = (
    "Mini-batches: the batches are drawn by this script's own generator, not the app's, so the "
    "path is another draw of the same sampling (same batch size, without replacement)."
)
_PLATEAU_SIGN = (
    "ReduceLROnPlateau: an improvement is loss < best·(1 − τ) here and best − τ|best| in the "
    "app: the same while the best loss is positive."
)


def _decays_after_step(run: Run) -> str:
    """λ_w as text where the script decays w after the step, else "". The app's step is
    w_{k+1} = w_k − η_k (d(w_k) + λ_w w_k): rules that read w (MADGRAD, Prodigy, Schedule-Free,
    ...) must see the undecayed w_k, so the decay comes after the step, from a copy of w_k.
    AdamW's own option decays before its step, which is the same since Adam does not read w."""
    if not _on(run, "weight_decay") or run.optimizer == "adamw":
        return ""
    return _n(run.mods["weight_decay"])


def _torch(run: Run) -> _Script:
    imports = ["import torch"]
    h = run.hyper
    if run.optimizer == "adamw":  # both decays are decoupled: AdamW takes their sum
        h = {**h, "weight_decay": h["weight_decay"] + run.mods["weight_decay"]}
    classes, optimizer, notes = TORCH_OPTIMIZERS[run.optimizer](h)
    body: list[str] = []
    body += [*_surface_lines(run, _LANGS["pytorch"]), "", ""]
    if classes:
        body += [*classes, "", ""]
    if run.schedule == "plateau" and run.warmup_steps > 0:
        body += [*_PLATEAU_CLASS, "", ""]
        notes.append(_PLATEAU_HAND)
    l2 = run.mods["l2"]
    objective = "loss_fn(w)" + (f" + {_n(l2 / 2)} * w.dot(w)" if l2 > 0 else "")
    if run.optimizer == "newton" or l2 > 0:
        body += ["def objective(w):", f"    return {objective}", "", ""]
        objective = "objective(w)"
    x, y = run.start
    body += [f"w = torch.tensor([{x!r}, {y!r}], requires_grad=True)"]
    body.append(f"optimizer = {optimizer.replace('LR', _n(run.lr))}")
    plateau = run.schedule == "plateau"
    scheduler, more, extra_notes = _torch_scheduler(run)
    notes += extra_notes
    body += more
    if run.schedule == "plateau" and not scheduler:
        body.append(f"plateau = {_plateau_new(run)}")
    if scheduler:
        body.append(f"scheduler = {scheduler}")
    batched = _batched(run)
    if _on(run, "noise_std"):
        body.append(
            f"noise = {_n(run.mods['noise_std'])} * torch.randn({run.steps}, 2,"
            f" generator=torch.Generator().manual_seed({round(run.mods['noise_seed'])}))"
        )
        notes.append(_differs_noise("torch"))
    if batched:
        body.append(f"batches = torch.Generator().manual_seed({round(run.mods['batch_seed'])})")
        notes.append(_BATCH_NOTE)
    body += ["", f"for step in range({run.steps}):", "    optimizer.zero_grad()"]
    if batched:
        b = round(run.mods["batch_size"])
        penalty = f" + {_n(l2 / 2)} * w.dot(w)" if l2 > 0 else ""
        body += [
            f"    batch = torch.randperm(len(x_data), generator=batches)[:{b}]",
            f"    batch_loss = loss_fn(w, x_data[batch], y_data[batch]){penalty}",
            "    batch_loss.backward()",
        ]
        if run.schedule == "plateau":
            body.append(f"    loss = {objective}.detach()  # the full loss drives the plateau")
    else:
        body += [f"    loss = {objective}", "    loss.backward()"]
    if plateau and scheduler:
        body.append("    scheduler.step(loss.item())  # the app cuts η_k from the loss at w_k")
    elif plateau:
        body += [
            "    scale = plateau.update(loss.item())",
            f'    optimizer.param_groups[0]["lr"] = {_plateau_rate(run)}',
        ]
    grads: list[str] = []
    if _on(run, "noise_std"):
        grads.append("w.grad += noise[step]")
    if _on(run, "clip_value"):
        c = _n(run.mods["clip_value"])
        grads.append(f"w.grad.clamp_(-{c}, {c})")
    if _on(run, "clip_norm"):
        grads += [
            "# g · min(1, C/‖g‖) as the app: clip_grad_norm_ would divide by ‖g‖ + 1e-6",
            f"w.grad *= torch.clamp({_n(run.mods['clip_norm'])} / w.grad.norm(), max=1.0)",
        ]
    if grads:
        body += ["    with torch.no_grad():", *(f"        {g}" for g in grads)]
    decay = _decays_after_step(run)
    if decay:
        body.append("    w_k = w.detach().clone()  # d_k and the decay are both taken at w_k")
    if run.optimizer == "newton":
        body.append("    optimizer.step(torch.autograd.functional.hessian(objective, w.detach()))")
    else:
        body.append("    optimizer.step()")
    if decay:
        body += [
            "    with torch.no_grad():  # decoupled weight decay: w −= η_k λ_w w_k",
            f'        w -= {decay} * optimizer.param_groups[0]["lr"] * w_k',
        ]
    if scheduler and not plateau:
        body.append("    scheduler.step()")
    final = "objective(w)" if objective == "objective(w)" else "loss_fn(w)"
    body += [
        "",
        "x, y = w.tolist()",
        f'print(f"final point: ({{x}}, {{y}}) loss: {{{final}.item()}}")',
    ]
    setup = ["torch.set_default_dtype(torch.float64)"]
    return _Script(imports, setup, notes, body)


def _torch_scheduler(run: Run) -> tuple[str, list[str], list[str]]:
    """(scheduler expression or "", lines before it, notes) for torch."""
    p, key, lr = run.schedule_params, run.schedule, run.lr
    sched = "torch.optim.lr_scheduler"
    notes: list[str] = []
    before: list[str] = []
    main = ""
    factor = ""  # a LambdaLR factor k ↦ η_k/η₀ where torch has no matching scheduler
    if key == "step":
        main = f"{sched}.StepLR(optimizer, step_size={_n(p['step_size'])}, gamma={_n(p['gamma'])})"
    elif key == "multistep":
        ms = ", ".join(_n(p[f"milestone{i}"]) for i in (1, 2, 3))
        main = f"{sched}.MultiStepLR(optimizer, milestones=[{ms}], gamma={_n(p['gamma'])})"
    elif key == "exponential":
        main = (
            f"{sched}.ExponentialLR(optimizer, gamma={_n(p['gamma'])} ** (1 / "
            f"{_n(p['decay_steps'])}))"
        )
    elif key == "polynomial" and p["end_factor"] == 0:
        main = (
            f"{sched}.PolynomialLR(optimizer, total_iters={_n(p['decay_steps'])},"
            f" power={_n(p['power'])})"
        )
    elif key == "cosine" and run.steps - run.warmup_steps <= p["decay_steps"] + 1:
        main = (
            f"{sched}.CosineAnnealingLR(optimizer, T_max={_n(p['decay_steps'])},"
            f" eta_min={_n(p['min_factor'] * lr)})"
        )
    elif key == "sgdr":
        main = (
            f"{sched}.CosineAnnealingWarmRestarts(optimizer, T_0={_n(p['period'])},"
            f" T_mult={_n(p['period_mult'])}, eta_min={_n(p['min_factor'] * lr)})"
        )
    elif key in ("triangular", "triangular2", "exp_range"):
        gamma = f", gamma={_n(p['gamma'])}" if key == "exp_range" else ""
        main = (
            f"{sched}.CyclicLR(optimizer, base_lr={_n(lr)}, max_lr={_n(p['max_factor'] * lr)},"
            f' step_size_up={_n(p["step_size"])}, mode="{key}"{gamma}, cycle_momentum=False)'
        )
    elif key == "plateau":
        main = (
            f"{sched}.ReduceLROnPlateau(optimizer, factor={_n(p['factor'])},"
            f" patience={_n(p['patience'])}, threshold={_n(p['threshold'])},"
            f" cooldown={_n(p['cooldown'])}, min_lr={_n(p['min_scale'] * lr)}, eps=0)"
        )
        notes.append(
            "ReduceLROnPlateau: eps=0 so that no cut is skipped, and scheduler.step(loss) before "
            "optimizer.step() so that a cut applies to the step it was decided at, as in the app."
        )
        notes.append(_PLATEAU_SIGN)
    elif key != "constant":
        statements, expression = _closed_form(key, p, "pytorch")
        before += [
            "def factor(k):",
            f'    """{get_schedule(key).name}: η_k / η₀ at step k."""',
            *(f"    {line}" for line in statements),
            f"    return {expression}",
            "",
            "",
        ]
        factor = "factor"
        if key == "one_cycle":
            notes.append(
                "One cycle: torch's OneCycleLR reaches its final rate one step earlier (it spans "
                "total_steps − 1 steps); this LambdaLR is the app's schedule."
            )
        if key == "cosine":
            notes.append(
                "Cosine: torch's CosineAnnealingLR climbs back after T_max; the app holds η_min, "
                "so this run, longer than T, uses a LambdaLR."
            )
    if run.warmup_steps > 0:
        W, a = run.warmup_steps, run.warmup_start
        peak = _n(_first_factor(run))
        ramp = f"k / {W}" if a == 0 else f"{_n(a)} + {_n(1 - a)} * k / {W}"
        ramp = ramp if peak == "1" else f"{peak} * ({ramp})"
        if key == "plateau":  # torch cannot chain ReduceLROnPlateau: the loop sets lr
            return "", before, notes
        warm = f"{sched}.LambdaLR(optimizer, lambda k: {ramp})"
        after = main or (f"{sched}.LambdaLR(optimizer, {factor})" if factor else "")
        if not after:
            after = f"{sched}.ConstantLR(optimizer, factor=1.0)"
        before += [f"warmup = {warm}", f"schedule = {after}"]
        return (
            f"{sched}.SequentialLR(optimizer, [warmup, schedule], milestones=[{W}])",
            before,
            notes,
        )
    if factor:
        return f"{sched}.LambdaLR(optimizer, {factor})", before, notes
    return main, before, notes


def to_code(config: RunConfig, framework: str) -> str:
    """The run as a runnable script in `framework` (one of FRAMEWORKS)."""
    run = resolve(config)
    script = _script(run, framework)
    return _join(
        script.imports,
        script.setup,
        [_docstring(run, framework, script.docs)],
        script.body,
    )


def to_code_all(configs: Sequence[RunConfig], framework: str) -> str:
    """Several runs (the race) as one script: each run a function, all run in turn."""
    if not configs:
        raise ValueError("there are no runs to write")
    runs = [resolve(c) for c in configs]
    scripts = [_script(run, framework) for run in runs]
    imports = list(dict.fromkeys(i for s in scripts for i in s.imports))
    setup = list(dict.fromkeys(line for s in scripts for line in s.setup))
    head = [f'"""{len(runs)} runs from Descent Lab, in {FRAMEWORKS[framework]}, one after another.']
    notes = list(dict.fromkeys(n for s in scripts for n in s.docs))
    if notes:
        head += ["", "Where this differs from a plain port:"]
        for note in notes:
            head += textwrap.wrap(f"- {note}", width=96, subsequent_indent="  ")
    head = ["\n".join([*head, '"""'])]
    body: list[str] = []
    for i, (run, script) in enumerate(zip(runs, scripts, strict=True), start=1):
        title = textwrap.wrap(f"Run {i}: {run.label}.", width=92)
        title[0] = f'"""{title[0]}'
        title[-1] += '"""'
        inner = [*title, "", *script.body]
        body += [f"def run_{i}():", *(f"    {line}" if line else "" for line in inner), "", ""]
    calls = ", ".join(f"run_{i}" for i in range(1, len(runs) + 1))
    body += [f"for run in ({calls}{',' if len(runs) == 1 else ''}):", "    run()"]
    return _join(imports, setup, head, body)


def file_name(config: RunConfig, framework: str) -> str:
    """A file name for the script that names neither a framework module nor anything unsafe."""
    run = resolve(config)
    surface = re.sub(r"[^a-z0-9]+", "_", run.surface.key.lower()).strip("_") or "surface"
    return f"descent_lab_{run.optimizer}_{surface}_{framework}.py"


def _script(run: Run, framework: str) -> _Script:
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    unmapped = ({run.schedule} - set(SCHEDULE_CODE)) | (set(run.mods) - set(MODIFIER_CODE))
    if unmapped:
        raise KeyError(f"no code is written for {', '.join(sorted(unmapped))}")
    return {"pytorch": _torch, "keras": _keras, "optax": _optax}[framework](run)


def _docstring(run: Run, framework: str, notes: Sequence[str]) -> str:
    title = f"{run.label}: the run from Descent Lab, in {FRAMEWORKS[framework]}."
    lines = textwrap.wrap(title, width=96)
    lines[0] = f'"""{lines[0]}'

    if notes:
        lines.append("")
        lines.append("Where this differs from a plain port:")
        for note in notes:
            lines += textwrap.wrap(f"- {note}", width=96, subsequent_indent="  ")
    lines.append('"""')
    return "\n".join(lines)


def _join(imports: list[str], setup: list[str], head: list[str], body: list[str]) -> str:
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


# Keras 3 on the JAX backend.


_KERAS_FLOAT32 = (
    "The maths is written in jax.numpy: on the JAX backend keras.ops returns float32 from "
    "sin, cos, tanh, logaddexp and norm even for float64 input (Keras 3.15.1)."
)


def _keras_schedule(run: Run) -> tuple[list[str], str, list[str]]:
    """(class lines, the learning_rate argument, notes) for Keras."""
    p, key, lr = run.schedule_params, run.schedule, run.lr
    ks = "keras.optimizers.schedules"
    classes: list[str] = []
    notes: list[str] = []
    if key in ("constant", "plateau"):
        main = repr(lr)  # Keras takes a float here, not an int
    elif key == "step":
        main = (
            f"{ks}.ExponentialDecay(eta0, decay_steps={_n(p['step_size'])},"
            f" decay_rate={_n(p['gamma'])}, staircase=True)"
        )
    elif key == "exponential":
        main = (
            f"{ks}.ExponentialDecay(eta0, decay_steps={_n(p['decay_steps'])},"
            f" decay_rate={_n(p['gamma'])})"
        )
    elif key == "multistep":
        milestones = sorted(round(p[f"milestone{i}"]) for i in (1, 2, 3))
        unique = sorted(set(milestones))
        gamma = _n(p["gamma"])
        values = ["eta0"]
        for m in unique:
            passed = sum(1 for x in milestones if x <= m)
            values.append(f"eta0 * {gamma}" + (f"**{passed}" if passed > 1 else ""))
        boundaries = ", ".join(str(m - 1) for m in unique)
        main = (
            f"{ks}.PiecewiseConstantDecay(boundaries=[{boundaries}], values=[{', '.join(values)}])"
        )
        notes.append("PiecewiseConstantDecay switches after a boundary: each is a milestone − 1.")
    elif key == "inverse_time":
        main = (
            f"{ks}.InverseTimeDecay(eta0, decay_steps={_n(p['decay_steps'])},"
            f" decay_rate={_n(p['decay_rate'])})"
        )
    elif key == "polynomial":
        main = (
            f"{ks}.PolynomialDecay(eta0, decay_steps={_n(p['decay_steps'])},"
            f" end_learning_rate={_n(p['end_factor'] * lr)}, power={_n(p['power'])})"
        )
    else:
        if key in ("cosine", "sgdr"):
            notes.append(
                "Keras's CosineDecay and CosineDecayRestarts take their cosine in float32 on the "
                "JAX backend (a relative error near 1e-8): the schedule is written out."
            )
        statements, expression = _closed_form(key, p, "keras")
        name = "".join(part.capitalize() for part in key.split("_"))
        spec = get_schedule(key)
        classes = [
            f"class {name}({ks}.LearningRateSchedule):",
            f'    """{spec.name}: η_k = η₀ · factor(k) (Keras has no such schedule)."""',
            "",
            "    def __call__(self, step):",
            "        k = jnp.asarray(step, jnp.float64)",
            *(f"        {line}" for line in statements),
            f"        return {_n(lr)} * ({expression})",
        ]
        main = f"{name}()"
    if "eta0" in main:
        classes.append(
            "eta0 = jnp.asarray(LR, jnp.float64)  # Keras schedules compute in η₀'s dtype".replace(
                "LR", repr(lr)
            )
        )
    if run.warmup_steps > 0 and key != "plateau":
        classes += [
            "",
            "",
            f"class Warmup({ks}.LearningRateSchedule):",
            '    """Linear warmup over `steps` steps from start·η̂ to η̂ = after(0), then',
            '    after(k − steps)."""',
            "",
            "    def __init__(self, after, steps, start):",
            "        self.after, self.steps, self.start = after, steps, start",
            "",
            "    def __call__(self, step):",
            "        k = jnp.asarray(step, jnp.float64)",
            "        ramp = self.after(0) * (self.start + (1 - self.start) * k / self.steps)",
            "        after = self.after(jnp.maximum(k - self.steps, 0))",
            "        return jnp.where(k < self.steps, ramp, after)",
        ]
        after = main if key != "constant" else f"lambda k: {_n(lr)}"
        main = f"Warmup({after}, steps={run.warmup_steps}, start={_n(run.warmup_start)})"
    return classes, main, notes


def _options(run: Run) -> tuple[str, list[str]]:
    """Keras's own keyword options for the modifiers, and gradient lines it cannot express."""
    options: list[str] = []
    lines: list[str] = []
    if run.optimizer == "adamw":  # both decays are decoupled: AdamW's option takes their sum
        decay = run.hyper["weight_decay"] + run.mods["weight_decay"]
        if decay > 0:
            options.append(f"weight_decay={_n(decay)}")
    value, norm = _on(run, "clip_value"), _on(run, "clip_norm")
    if value and norm:  # Keras takes one clipping option: both are written out, in the app's order
        c, C = _n(run.mods["clip_value"]), _n(run.mods["clip_norm"])
        lines += [
            f"grad = jnp.clip(grad, -{c}, {c})",
            f"grad = grad * jnp.minimum(1, {C} / jnp.linalg.norm(grad))",
        ]
    elif value:
        options.append(f"clipvalue={_n(run.mods['clip_value'])}")
    elif norm:
        options.append(f"global_clipnorm={_n(run.mods['clip_norm'])}")
    return "".join(f", {o}" for o in options), lines


def _jax_noise(run: Run) -> list[str]:
    """The app's own noise draw: one N(0, I) table for the engine's whole scan."""
    return [
        f"# The app's gradient noise: one draw for all {bucket(run.steps)} steps of its scan",
        f"noise = {_n(run.mods['noise_std'])} * jax.random.normal("
        f"jax.random.key({round(run.mods['noise_seed'])}), ({bucket(run.steps)}, 2))",
    ]


def _jax_batches(run: Run) -> list[str]:
    return [f"batches = jax.random.key({round(run.mods['batch_seed'])})"]


def _keras(run: Run) -> _Script:
    imports = ["import jax", "import keras"]
    classes, optimizer, notes = KERAS_OPTIMIZERS[run.optimizer](run.hyper)
    notes.insert(0, _KERAS_FLOAT32)
    schedule_classes, rate, schedule_notes = _keras_schedule(run)
    notes += schedule_notes
    options, grad_lines = _options(run)
    body = [*_surface_lines(run, _LANGS["keras"]), "", ""]
    for block in (classes, schedule_classes):
        if block:
            body += [*block, "", ""]
    plateau = run.schedule == "plateau"
    if plateau:
        body += [*_PLATEAU_CLASS, "", ""]
        notes.append("Keras schedules cannot see the loss: class Plateau is the app's rule.")
    l2 = run.mods["l2"]
    objective = "loss_fn"
    if l2 > 0:
        body += ["def objective(w):", f"    return loss_fn(w) + {_n(l2 / 2)} * w @ w", "", ""]
        objective = "objective"
    if _batched(run):
        body += _batch_objective(run, "w @ w")
    x, y = run.start
    body.append(f"w = keras.Variable([{x!r}, {y!r}])")
    body.append(f"optimizer = {optimizer.replace('LR', rate).replace('OPTIONS', options)}")
    if plateau:
        body.append(f"plateau = {_plateau_new(run)}")
    if _on(run, "noise_std"):
        body += _jax_noise(run)
    batched = _batched(run)
    if batched:
        body += _jax_batches(run)
        notes.append(_BATCH_NOTE)
    if plateau:
        body.append(f"value_and_grad = jax.jit(jax.value_and_grad({objective}))")
    else:
        body.append(f"gradient = jax.jit(jax.grad({objective}))")
    if run.optimizer == "newton":
        body.append(f"hessian = jax.jit(jax.hessian({objective}))")
    first = "loss, grad = value_and_grad(w.value)" if plateau else "grad = gradient(w.value)"
    body += ["", f"for step in range({run.steps}):", f"    {first}"]
    if batched:
        body += _jax_batch_grad(run, "w.value")
    if _on(run, "noise_std"):
        body.append("    grad = grad + noise[step]")
    body += [f"    {line}" for line in grad_lines]
    if plateau:
        body += [
            "    scale = plateau.update(float(loss))",
            f"    optimizer.learning_rate = {_plateau_rate(run)}",
        ]
    if run.optimizer == "newton":
        body.append("    optimizer.hessian = hessian(w.value)")
    decay = _decays_after_step(run)
    if decay:
        body += [
            "    w_k = w.value  # d_k and the decay are both taken at w_k",
            f"    decay = {decay} * optimizer.learning_rate  # λ_w η_k: read before apply()",
        ]
    body.append("    optimizer.apply([grad], [w])")
    if decay:
        body.append(
            "    w.assign(w.value - decay * w_k)  # decoupled weight decay: w −= η_k λ_w w_k"
        )
    body += [
        "",
        "x, y = w.numpy().tolist()",
        f'print(f"final point: ({{x}}, {{y}}) loss: {{{objective}(w.value)}}")',
    ]
    setup = [
        'os.environ["KERAS_BACKEND"] = "jax"',
        'jax.config.update("jax_enable_x64", True)',
        'keras.config.set_floatx("float64")',
    ]
    return _Script(imports, setup, notes, body)


def _jax_batch_grad(run: Run, w: str) -> list[str]:
    """Lines that replace `grad` by that of a mini-batch drawn without replacement."""
    b = round(run.mods["batch_size"])
    return [
        f"    batch = jax.random.permutation(jax.random.fold_in(batches, step), len(x_data))[:{b}]",
        f"    grad = jax.grad(batch_objective)({w}, batch)",
    ]


def _batch_objective(run: Run, dot: str) -> list[str]:
    """`def batch_objective(w, batch)`: the loss over the points `batch` (plus the L2 term)."""
    l2 = run.mods["l2"]
    penalty = f" + {_n(l2 / 2)} * {dot}" if l2 > 0 else ""
    return [
        "def batch_objective(w, batch):",
        f"    return loss_fn(w, x_data[batch], y_data[batch]){penalty}",
        "",
        "",
    ]


# optax.


def _optax_schedule(run: Run) -> tuple[list[str], str, list[str]]:
    """(lines defining `schedule` if any, the rate argument, notes) for optax."""
    p, key, lr = run.schedule_params, run.schedule, run.lr
    notes: list[str] = []
    lines: list[str] = []
    main = ""
    if key in ("constant", "plateau"):
        main = f"optax.constant_schedule({_n(lr)})" if run.warmup_steps else ""
    elif key in ("step", "exponential"):
        steps = p["step_size"] if key == "step" else p["decay_steps"]
        stair = ", staircase=True" if key == "step" else ""
        main = (
            f"optax.exponential_decay({_n(lr)}, transition_steps={_n(steps)},"
            f" decay_rate={_n(p['gamma'])}{stair})"
        )
    elif key == "multistep":
        scales: dict[int, int] = {}
        for i in (1, 2, 3):
            m = round(p[f"milestone{i}"])
            scales[m] = scales.get(m, 0) + 1
        gamma = _n(p["gamma"])
        pairs = ", ".join(
            f"{m}: {gamma}" + (f" ** {n}" if n > 1 else "") for m, n in sorted(scales.items())
        )
        main = f"optax.piecewise_constant_schedule({_n(lr)}, {{{pairs}}})"
    elif key == "polynomial":
        main = (
            f"optax.polynomial_schedule({_n(lr)}, end_value={_n(p['end_factor'] * lr)},"
            f" power={_n(p['power'])}, transition_steps={_n(p['decay_steps'])})"
        )
    elif key == "cosine":
        main = (
            f"optax.cosine_decay_schedule({_n(lr)}, decay_steps={_n(p['decay_steps'])},"
            f" alpha={_n(p['min_factor'])})"
        )
    elif key == "one_cycle" and (p["pct"] * p["total_steps"]).is_integer():
        main = (
            f"optax.cosine_onecycle_schedule({_n(p['total_steps'])}, peak_value={_n(lr)},"
            f" pct_start={_n(p['pct'])}, div_factor={_n(p['div'])},"
            f" final_div_factor={_n(p['final_div'])})"
        )
    else:
        lines = [
            "def schedule(k):",
            f'    """{get_schedule(key).name}: η_k = η₀ · factor(k)."""',
            *(f"    {line}" for line in _closed_form(key, p, "optax")[0]),
            f"    return {_n(lr)} * ({_closed_form(key, p, 'optax')[1]})",
            "",
            "",
        ]
        main = "schedule"
    if run.warmup_steps > 0:
        W, a = run.warmup_steps, run.warmup_start
        peak = lr * _first_factor(run)
        if main != "schedule":
            lines.append(f"schedule = {main}")
        lines += [
            f"warmup = optax.linear_schedule({_n(a * peak)}, {_n(peak)}, transition_steps={W})",
            f"warmed = optax.join_schedules([warmup, schedule], boundaries=[{W}])",
        ]
        return lines, "warmed", notes
    if not main:
        return lines, _n(lr), notes
    if main == "schedule":
        return lines, "schedule", notes
    return [f"schedule = {main}"], "schedule", notes


def _optax(run: Run) -> _Script:
    imports = ["import jax", "import jax.numpy as jnp", "import optax"]
    notes: list[str] = []
    body = [*_surface_lines(run, _LANGS["optax"]), "", ""]
    if run.optimizer in _OPTAX_DEFINITIONS:
        body += [*_OPTAX_DEFINITIONS[run.optimizer], "", ""]
    l2 = run.mods["l2"]
    objective = "loss_fn"
    if l2 > 0:
        body += ["def objective(w):", f"    return loss_fn(w) + {_n(l2 / 2)} * w @ w", "", ""]
        objective = "objective"
    if _batched(run):
        body += _batch_objective(run, "w @ w")
    schedule_lines, rate, schedule_notes = _optax_schedule(run)
    notes += schedule_notes
    body += schedule_lines
    chain: list[str] = []
    if _on(run, "clip_value"):
        chain.append(f"optax.clip({_n(run.mods['clip_value'])})")
    if _on(run, "clip_norm"):
        chain.append(f"optax.clip_by_global_norm({_n(run.mods['clip_norm'])})")
    rule = OPTAX_OPTIMIZERS[run.optimizer](run.hyper)
    if rule:
        chain += rule.split("\n")
    if _on(run, "weight_decay"):
        chain.append(f"optax.add_decayed_weights({_n(run.mods['weight_decay'])})")
    if rate in ("schedule", "warmed"):  # a float64 count: see the note
        rate = f"lambda count: {rate}(count.astype(jnp.float64))"
        notes.append(
            "optax counts steps in int32, and some of its schedules then compute in float32 "
            "(a relative error near 1e-8); the schedule is given the count as float64."
        )
    chain.append(f"optax.scale_by_learning_rate({rate})")
    plateau = run.schedule == "plateau"
    if plateau:
        p = run.schedule_params
        chain.append(
            f"optax.contrib.reduce_on_plateau(factor={_n(p['factor'])},"
            f" patience={_n(p['patience'] + 1)}, rtol={_n(p['threshold'])},"
            f" cooldown={_n(p['cooldown'])}, min_scale={_n(p['min_scale'])})"
        )
        notes.append(
            "reduce_on_plateau cuts when its count reaches patience, the app when it exceeds "
            "it: patience here is the app's + 1."
        )
        notes.append(_PLATEAU_SIGN.replace("ReduceLROnPlateau", "reduce_on_plateau"))
    if len(chain) == 1:
        body.append(f"optimizer = {chain[0]}")
    else:
        body += ["optimizer = optax.chain(", *(f"    {c.rstrip(',')}," for c in chain), ")"]
    x, y = run.start
    body += [f"w = jnp.array([{x!r}, {y!r}])", "state = optimizer.init(w)"]
    batched = _batched(run)
    noisy = _on(run, "noise_std")
    if noisy:
        body += _jax_noise(run)
    if batched:
        body += _jax_batches(run)
        notes.append(_BATCH_NOTE)
    extra = []
    if plateau:
        extra.append("value=loss")
    if run.optimizer == "newton":
        extra.append(f"hessian=jax.hessian({objective})(w)")
    args = ["w", "state"] + (["step"] if batched or noisy else [])
    body += [
        "",
        "",
        "@jax.jit",
        f"def train_step({', '.join(args)}):",
        f"    loss, grad = jax.value_and_grad({objective})(w)"
        if plateau
        else f"    grad = jax.grad({objective})(w)",
    ]
    if batched:
        body += _jax_batch_grad(run, "w")
    if noisy:
        body.append("    grad = grad + noise[step]")
    body += [
        f"    updates, state = optimizer.update({', '.join(['grad', 'state', 'w', *extra])})",
        "    return optax.apply_updates(w, updates), state",
        "",
        "",
        f"for step in range({run.steps}):",
        f"    w, state = train_step({', '.join(args)})",
        "",
        "x, y = w.tolist()",
        f'print(f"final point: ({{x}}, {{y}}) loss: {{{objective}(w)}}")',
    ]
    setup = ['jax.config.update("jax_enable_x64", True)']
    return _Script(imports, setup, notes, body)
