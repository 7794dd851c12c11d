"""A configuration resolved: `plan(config)` validates a `RunConfig` and returns a typed `Plan`.

A plan holds the static parts (surface, optimizer, schedule) and every number of the run in one
float64 vector, in the order of its `layout`:

    lr, steps, start.x, start.y, hyper.*, schedule.*, warmup.*, modifiers.*, surface.*, [run.floor]

A number's name is "group.name" (the names `summarize` varies); its ParamSpec comes from
`param_groups`, the one map from group to specs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import numpy as np

from common.cache import COMPILED_FUNCTIONS
from common.params import ParamSpec, resolve_params
from optimizers.engine.config import MAX_STEPS, MODIFIERS, RunConfig
from optimizers.rules import get_optimizer
from optimizers.schedules import WARMUP_PARAMS, get_schedule
from optimizers.specs import OptimizerSpec, ScheduleSpec
from surfaces import Surface, get_surface

PARAM_GROUPS = ("hyper", "schedule", "warmup", "modifiers", "surface")  # in layout order
# f* of the surface at its parameters (0 where no global minimum is known), in the numbers of a
# rule that takes extra arguments: Polyak's step and MoMo descend towards it. (`summarize`
# varying surface parameters keeps the base configuration's f*.)
FLOOR = "run.floor"
LR_RANGE = (1e-12, 1e6)
START_RANGE = (-1e6, 1e6)

Numbers = dict[str, dict[str, jax.Array]]  # group → name → value, as `unpack` returns them


def param_groups(
    optimizer: OptimizerSpec, schedule: ScheduleSpec, surface_params: tuple[ParamSpec, ...]
) -> dict[str, tuple[ParamSpec, ...]]:
    """The ParamSpecs of each group of a configuration's numbers (PARAM_GROUPS, layout order)."""
    return {
        "hyper": optimizer.hyper,
        "schedule": schedule.params,
        "warmup": WARMUP_PARAMS,
        "modifiers": MODIFIERS,
        "surface": surface_params,
    }


def find_spec(groups: Mapping[str, tuple[ParamSpec, ...]], name: str) -> ParamSpec | None:
    """The ParamSpec of number `name` ("group.name") in `groups` (see `param_groups`), or None."""
    group, _, key = name.partition(".")
    return next((spec for spec in groups.get(group, ()) if spec.name == key), None)


@functools.lru_cache(maxsize=COMPILED_FUNCTIONS)
def layout_of(
    surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec
) -> tuple[str, ...]:
    """The names of a run's numbers, in the order of its vector (see the module's docstring)."""
    groups = param_groups(optimizer, schedule, surface.params)
    named = tuple(f"{group}.{spec.name}" for group, specs in groups.items() for spec in specs)
    floor = (FLOOR,) if optimizer.extra_args else ()
    return ("lr", "steps", "start.x", "start.y", *named, *floor)


@functools.cache
def _positions(layout: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(layout)}


@functools.lru_cache(maxsize=COMPILED_FUNCTIONS)
def _defaults(surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec) -> np.ndarray:
    """Every number at its default, in layout order (the run's own four are filled in later)."""
    specs = param_groups(optimizer, schedule, surface.params).values()
    floor = [0.0] if optimizer.extra_args else []
    return np.array([0.0] * 4 + [spec.default for group in specs for spec in group] + floor)


def unpack(layout: tuple[str, ...], numbers: Sequence[jax.Array] | jax.Array) -> Numbers:
    """The numbers by group and name: {"run": {lr, steps, floor}, "start": {x, y}, "hyper": …}."""
    groups: Numbers = {g: {} for g in ("run", "start", *PARAM_GROUPS)}
    for i, name in enumerate(layout):
        group, _, key = name.rpartition(".")
        groups.setdefault(group or "run", {})[key] = numbers[i]
    return groups


@dataclass(frozen=True, eq=False)
class Plan:
    """A resolved configuration: the static parts and the flat vector of every number.

    `numbers[i]` is the number named `layout[i]`; `steps` is the step count as an int.
    """

    surface: Surface
    optimizer: OptimizerSpec
    schedule: ScheduleSpec
    layout: tuple[str, ...]
    numbers: np.ndarray
    steps: int

    def position(self, name: str) -> int:
        """The index of number `name` ("lr", "start.x", "hyper.beta", …) in `numbers`."""
        return _positions(self.layout)[name]

    def number(self, name: str, default: float | None = None) -> float:
        """The value of number `name`; `default` where the plan has none (KeyError if None)."""
        if default is not None and name not in _positions(self.layout):
            return default
        return float(self.numbers[self.position(name)])

    @property
    def start(self) -> tuple[float, float]:
        """w_0."""
        return self.number("start.x"), self.number("start.y")

    def surface_params(self) -> dict[str, float]:
        """The surface's parameters by name."""
        return {spec.name: self.number(f"surface.{spec.name}") for spec in self.surface.params}

    def param_groups(self) -> dict[str, tuple[ParamSpec, ...]]:
        """The ParamSpecs of each group of this plan's numbers (see `param_groups`)."""
        return param_groups(self.optimizer, self.schedule, self.surface.params)

    def spec(self, name: str) -> ParamSpec:
        """The ParamSpec of number `name` ("group.name"); ValueError where the plan has none."""
        spec = find_spec(self.param_groups(), name)
        if spec is None:
            raise ValueError(f"this configuration has no number {name!r}")
        return spec

    def bounds(self, name: str) -> tuple[float, float]:
        """The closed range number `name` may take: LR_RANGE, START_RANGE or its spec's."""
        if name == "lr":
            return LR_RANGE
        if name.startswith("start."):
            return START_RANGE
        spec = self.spec(name)
        return spec.low, spec.high


def finite_number(value: object, name: str, low: float, high: float) -> float:
    """`value` as a float; ValueError naming `name` unless it is a number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{name} = {number!r} is outside the allowed range [{low:g}, {high:g}]")
    return number


_resolve_warmup = functools.partial(resolve_params, WARMUP_PARAMS, owner="warmup")
_resolve_modifiers = functools.partial(resolve_params, MODIFIERS, owner="modifiers")


def _start(config: RunConfig, surface: Surface) -> tuple[float, float]:
    start = surface.starts[0] if config.start is None else tuple(config.start)
    if len(start) != 2:
        raise ValueError(f"start must be a point (x, y) with 2 coordinates, got {len(start)}")
    x, y = (
        finite_number(v, f"start {axis}", *START_RANGE) for v, axis in zip(start, "xy", strict=True)
    )
    return x, y


def plan(config: RunConfig) -> Plan:
    """Validate `config` and fill in defaults.

    Raises:
        ValueError: naming the field, for an unknown surface, optimizer or schedule, a step
            count outside [1, MAX_STEPS], a rate that is not positive and finite, a start that is
            not a finite point, or a parameter unknown or out of its range.
    """
    surface = get_surface(config.surface) if isinstance(config.surface, str) else config.surface
    optimizer = get_optimizer(config.optimizer)
    schedule = get_schedule(config.schedule)
    if isinstance(config.steps, bool) or not isinstance(config.steps, int | np.integer):
        raise ValueError(f"steps must be a whole number in [1, {MAX_STEPS}], got {config.steps!r}")
    steps = int(finite_number(config.steps, "steps", 1, MAX_STEPS))
    lr = optimizer.lr.default if config.lr is None else config.lr
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating) or not lr > 0:
        raise ValueError(f"learning rate must be a positive finite number, got {lr!r}")
    lr = finite_number(lr, "learning rate", *LR_RANGE)
    start = _start(config, surface)
    layout = layout_of(surface, optimizer, schedule)
    numbers = _defaults(surface, optimizer, schedule).copy()
    numbers[:4] = lr, steps, *start
    the_plan = Plan(surface, optimizer, schedule, layout, numbers, steps)
    given = (
        ("hyper", config.hyper, optimizer.resolve),
        ("schedule", config.schedule_params, schedule.resolve),
        ("warmup", config.warmup, _resolve_warmup),
        ("modifiers", config.modifiers, _resolve_modifiers),
        ("surface", config.surface_params, surface.resolve),
    )
    for group, values, resolve in given:
        if values:  # the defaults are in place already
            for name, value in resolve(values).items():
                numbers[the_plan.position(f"{group}.{name}")] = value
    if optimizer.extra_args:
        floor = surface.minimum_value(the_plan.surface_params())
        numbers[the_plan.position(FLOOR)] = 0.0 if floor is None else floor
    return the_plan
