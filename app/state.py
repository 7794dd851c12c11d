"""The page's whole setup as one value: what a link reproduces.

`PageState` holds the surface and its parameters, steps, the start point, view toggles, every
run (`RunState`: rule, η₀, hyperparameters, schedule, warmup, modifiers, noise seed) and the
classroom settings (`Classroom`). Its link and the widgets' values are read and written by the
field table in `app.link` (one row per field); this module holds the values, their defaults,
the widget keys (`run_key`, `hyper_key`, …) and the one coercion every widget value goes
through (`coerce`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.views import RACE, SETTINGS
from optimizers.engine import MAX_STEPS, MODIFIERS, RunConfig
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES, ParamSpec, Surface
from surfaces.dataset import DEFAULT_POINTS, data_surface, decode_points, encode_points
from surfaces.formula import DEFAULT_BOX, DEFAULT_FORMULA, formula_surface

MAX_RUNS = 6
DEFAULT_SURFACE = "quadratic"
DEFAULT_STEPS = 300
# A fresh run i starts with a different rule, so that adding runs races them at once.
DEFAULT_OPTIMIZERS = {1: "gd", 2: "momentum", 3: "adam", 4: "nesterov", 5: "rmsprop", 6: "adagrad"}
START_LIMIT = 1000.0
MODIFIER_NAMES = frozenset(spec.name for spec in MODIFIERS)
# Surfaces the user brings: a typed formula, or a table of points fitted by a line.
CUSTOM_SURFACES = {"formula": "Your formula f(x, y)", "data": "Your data: fit a line (w, b)"}
SURFACE_CHOICES = (*SURFACES, *CUSTOM_SURFACES)
FORMULA_BOX_KEYS = ("formula_x0", "formula_x1", "formula_y0", "formula_y1")
DEFAULT_DATA = encode_points(DEFAULT_POINTS) or ""

# What classroom mode can hide or lock, by the name used in the link (`hide=lr,steps`).
CONTROL_GROUPS: dict[str, str] = {
    "surface": "surface picker and its parameters",
    "steps": "number of steps",
    "start": "start point (entries and contour clicks)",
    "views": "3-D and gradient-field toggles",
    "runs": "add, duplicate and remove runs",
    "optimizer": "optimizer pickers",
    "lr": "learning-rate controls",
    "hyper": "optimizer hyperparameters",
    "schedule": "learning-rate schedules",
    "warmup": "warmup",
    "modifiers": "clipping, L2, weight decay, gradient noise",
    "analysis": "the view row (LR sweep, stability map, …)",
    "inspector": "step inspector",
    "export": "downloads",
    "code": "code for PyTorch, Keras and optax",
    "share": "share and classroom-link panel",
    "lessons": "lesson gallery",
}

Kind = Literal["toggle", "int", "log", "slider", "number"]

STEPS_SPEC = ParamSpec(
    "steps", "Steps", DEFAULT_STEPS, 1, MAX_STEPS, "Number of steps.", integer=True
)
RUNS_SPEC = ParamSpec("runs", "Runs", 1, 1, MAX_RUNS, "Number of runs.", integer=True)
TOGGLE_SPEC = ParamSpec("toggle", "On", 0, 0, 1, "0 off, 1 on.", integer=True)
MAP_VIEW = "Stability map"
INSPECT_SPEC = ParamSpec("inspect_step", "Step", 0, 0, MAX_STEPS, "Inspected step.", integer=True)


# Widget kinds and coercion (shared by the controls and the link).


def widget_kind(spec: ParamSpec) -> Kind:
    """The widget a parameter gets: a toggle for 0/1 switches, a log slider where `spec.log`."""
    if spec.integer:
        return "toggle" if (spec.low, spec.high) == (0, 1) else "int"
    if spec.log:
        return "log"
    return "slider" if spec.high - spec.low <= 1000 else "number"


def modifier_kind(spec: ParamSpec) -> Kind:
    """Modifiers are typed in (0 is off, and their useful values span decades)."""
    return "int" if spec.integer else "number"


def coerce(value: Any, default: float, low: float, high: float, kind: Kind) -> Any:
    """`value` as widget `kind` holds it, min(max(value, low), high) (a bool ≥ 0.5 for toggles,
    rounded for counts); the default where it is not a finite number. The one coercion: the
    widgets (`app.controls.ensure`), the link reader and the session reader all use it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float(default)
    if not math.isfinite(number):
        number = float(default)
    number = min(max(number, low), high)
    if kind == "toggle":
        return number >= 0.5
    if kind == "int":
        return round(number)
    return number


def widget_value(spec: ParamSpec, number: float, kind: Kind | None = None) -> Any:
    """A parameter's float as its widget holds it: bool for toggles, int for counts."""
    return coerce(number, spec.default, spec.low, spec.high, kind or widget_kind(spec))


# Keys.


def run_key(run_id: int, name: str) -> str:
    """Run `run_id`'s widget key for `name`: run{i}_{name}."""
    return f"run{run_id}_{name}"


def hyper_key(run_id: int, name: str) -> str:
    """An optimizer hyperparameter's key: run{i}_{name}, run{i}_opt_{name} where a modifier
    has the same name (weight_decay)."""
    return run_key(run_id, f"opt_{name}" if name in MODIFIER_NAMES else name)


def schedule_key(run_id: int, name: str) -> str:
    """A schedule parameter's key: run{i}_sched_{name}."""
    return run_key(run_id, f"sched_{name}")


def surface_key(surface: Surface | str, name: str) -> str:
    """A surface parameter's key: {surface}_{name}."""
    return f"{surface if isinstance(surface, str) else surface.key}_{name}"


def surface_params(surface: str) -> tuple[ParamSpec, ...]:
    """The surface's own parameters (none for custom surfaces)."""
    return SURFACES[surface].params if surface in SURFACES else ()


BOX_SPECS = tuple(
    ParamSpec(key, key, default, -START_LIMIT, START_LIMIT, "Plot box edge.")
    for key, default in zip(FORMULA_BOX_KEYS, DEFAULT_BOX, strict=True)
)


def start_specs(surface: str) -> tuple[ParamSpec, ParamSpec]:
    """x₀ and y₀: any point in ±START_LIMIT, the surface's first preset start by default
    (the origin for custom surfaces, whose preset depends on the formula or the data)."""
    x, y = SURFACES[surface].starts[0] if surface in SURFACES else (0.0, 0.0)
    return (
        ParamSpec("x0", "x₀", x, -START_LIMIT, START_LIMIT, "Start x."),
        ParamSpec("y0", "y₀", y, -START_LIMIT, START_LIMIT, "Start y."),
    )


# The state.


@dataclass(frozen=True)
class Classroom:
    """Classroom mode: control groups (CONTROL_GROUPS) hidden or shown locked, whether the
    explanatory notes show, and presenter mode (`present`: large type, the picture first)."""

    hidden: frozenset[str] = frozenset()
    locked: frozenset[str] = frozenset()
    notes: bool = True
    present: bool = False

    def mode(self, group: str) -> Literal["show", "lock", "hide"]:
        if group in self.hidden:
            return "hide"
        return "lock" if group in self.locked else "show"


@dataclass(frozen=True)
class RunState:
    """One run: its number (1 … MAX_RUNS, which also picks its colour) and every number its
    configuration needs, resolved (defaults filled in)."""

    run_id: int
    optimizer: str
    lr: float
    hyper: dict[str, float]
    schedule: str = "constant"
    schedule_params: dict[str, float] = field(default_factory=dict)
    warmup: dict[str, float] = field(default_factory=dict)
    modifiers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PageState:
    """The page's setup: what a link reproduces (each attribute filled by a row of the field
    table, app/link/table.py)."""

    surface: str  # a SURFACES key or a CUSTOM_SURFACES key
    surface_params: dict[str, float]
    steps: int
    start: tuple[float, float] | None  # None: the custom surface's own preset start
    runs: tuple[RunState, ...]
    show_3d: bool = False
    show_field: bool = False
    inspect_step: int = 0
    view: str = RACE
    analysis: dict[str, float] = field(default_factory=lambda: _defaults(SETTINGS))
    analysis_run: int = 1  # the number of the run the analysis views analyse
    map_axis: str = ""  # the stability map's second number: a SECOND_AXES key ("": its first)
    formula: str = DEFAULT_FORMULA
    formula_box: tuple[float, float, float, float] = DEFAULT_BOX
    data: str = DEFAULT_DATA  # the points as "x1,y1;x2,y2;…" (surfaces.dataset.encode_points)
    data_standardise: bool = False
    classroom: Classroom = Classroom()
    lesson: str | None = None

    def custom_surface(self) -> Surface | None:
        """The formula or data surface this state shows (None for a registry surface)."""
        if self.surface == "formula":
            return formula_surface(self.formula, self.formula_box)
        if self.surface == "data":
            return data_surface(decode_points(self.data), self.data_standardise)
        return None


def _defaults(specs: Sequence[ParamSpec]) -> dict[str, float]:
    """Each parameter's default, by name, as a float."""
    return {spec.name: float(spec.default) for spec in specs}


def default_run(run_id: int, optimizer: str | None = None, schedule: str = "constant") -> RunState:
    """Run `run_id`'s fresh setup (its default rule unless `optimizer` is given)."""
    rule = OPTIMIZERS[optimizer or DEFAULT_OPTIMIZERS[run_id]]
    return RunState(
        run_id=run_id,
        optimizer=rule.key,
        lr=float(rule.lr.default),
        hyper=_defaults(rule.hyper),
        schedule=schedule,
        schedule_params=_defaults(SCHEDULES[schedule].params),
        warmup=_defaults(WARMUP_PARAMS),
        modifiers=_defaults(MODIFIERS),
    )


def default_state(surface: str = DEFAULT_SURFACE) -> PageState:
    """The page a bare link opens (on `surface`): every default."""
    the_surface = SURFACES[surface]
    x, y = the_surface.starts[0]
    return PageState(
        surface=surface,
        surface_params=_defaults(the_surface.params),
        steps=DEFAULT_STEPS,
        start=(float(x), float(y)),
        runs=(default_run(1),),
    )


def configs(state: PageState) -> list[RunConfig]:
    """The engine configurations of the state's runs, in order."""
    custom = state.custom_surface()
    start = state.start or (custom.starts[0] if custom else None)
    return [
        RunConfig(
            surface=custom or state.surface,
            optimizer=run.optimizer,
            lr=run.lr,
            steps=state.steps,
            start=start,
            hyper=run.hyper,
            schedule=run.schedule,
            schedule_params=run.schedule_params,
            warmup=run.warmup,
            modifiers=run.modifiers,
            surface_params=state.surface_params,
        )
        for run in state.runs
    ]
