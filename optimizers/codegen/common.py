"""What every framework's script is built from: the run resolved, numbers as literals, the
script in parts, the modifiers that change the code, and the data set of a regression surface."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Never

import numpy as np

from optimizers.engine import RunConfig, plan
from optimizers.rules import get_optimizer
from optimizers.schedules import get_schedule
from surfaces import Surface
from surfaces.dataset import Points, standardised
from surfaces.registry import regression_data

FRAMEWORKS: dict[str, str] = {"pytorch": "PyTorch", "keras": "Keras 3", "optax": "optax"}
INLINE_POINTS = 100  # data sets up to this size are written into the script, larger ones read
CSV_NAME = "data.csv"  # … from this file, which the app offers beside the script

BATCH_NOTE = (
    "Mini-batches: the batches are drawn by this script's own generator, not the app's, so the "
    "path is another draw of the same sampling (same batch size, without replacement)."
)


def literal(value: float) -> str:
    """A number as the shortest Python literal that reads back as exactly `value`.

    >>> literal(2.0), literal(0.1), literal(1e20)
    ('2', '0.1', '1e+20')
    """
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


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
        """The run in words: rule, surface, schedule, η₀, steps and start."""
        x, y = self.start
        return (
            f"{get_optimizer(self.optimizer).name} on {self.surface.name},"
            f" {get_schedule(self.schedule).name.lower()}"
            f" rate from η₀ = {literal(self.lr)}, {self.steps} steps from"
            f" ({literal(x)}, {literal(y)})"
        )

    def on(self, modifier: str) -> bool:
        """Whether the modifier is switched on (a value above 0)."""
        return self.mods[modifier] > 0

    def decay_after_step(self) -> str:
        """λ_w as text where the script decays w after the step, else "". The app's step is
        w_{k+1} = w_k − η_k (d(w_k) + λ_w w_k): rules that read w (MADGRAD, Prodigy,
        Schedule-Free, ...) must see the undecayed w_k, so the decay comes after the step, from
        a copy of w_k. AdamW's own option decays before its step, which is the same since Adam
        does not read w."""
        if not self.on("weight_decay") or self.optimizer == "adamw":
            return ""
        return literal(self.mods["weight_decay"])


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


@dataclass
class Script:
    """A script in parts, so that several runs can share one file."""

    imports: list[str]
    setup: list[str]
    docs: list[str]  # what differs from the app, one sentence each
    body: list[str]  # definitions, then the loop, then the print


def run_data(run: Run) -> tuple[np.ndarray, np.ndarray] | None:
    """The data set of a regression surface (x standardised where the surface does), or None."""
    surface = run.surface
    if surface.key in ("linreg", "logreg"):
        return regression_data(surface.key, run.surface_params)
    recipe = surface.recipe
    if recipe is not None and recipe[0] == "data" and isinstance(recipe[1], Points):
        if recipe[2]:  # standardised
            x, y, _, _ = standardised(recipe[1])
            return x, y
        return recipe[1].arrays()
    return None


def uses_batches(run: Run) -> bool:
    """Whether the run draws mini-batches (a batch size below the data set's size)."""
    data = run_data(run)
    return data is not None and 1 <= round(run.mods["batch_size"]) < len(data[0])


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


def not_exported(key: str) -> Callable[[Mapping[str, float]], Never]:
    """A row for a rule in NOT_EXPORTED: it raises a ValueError that says why."""

    def refuse(h: Mapping[str, float]) -> Never:
        name = get_optimizer(key).name
        raise ValueError(f"{name} cannot be written out as a script yet: {NOT_EXPORTED[key]}")

    return refuse
