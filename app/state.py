"""The page's whole setup as one value, and its shareable link.

`PageState` holds everything a link must reproduce: the surface and its parameters, steps, the
start point, view toggles, every run (rule, η₀, hyperparameters, schedule, warmup, modifiers,
noise seed) and the classroom settings. Three conversions, all pure:

    from_query(query)  → Decoded(state, problems)   a URL's query string, untrusted
    to_query(state)    → {name: text}               the link: defaults left out, version first
    to_session(state)  → {widget key: value}        what the widgets show
    from_session(values) → PageState                what the widgets hold

A link names parameters like the widget keys (`surface`, `quadratic_kappa`, `steps`, `x0`,
`run2_optimizer`, `run2_lr`, `run2_sched_gamma`, `view`, `analysis_sweep_rates`, …; see
app/controls.py and app/views.py), plus `v` (the link format's version), `runs` (which runs),
`hide`, `lock`, `notes` and `present` (classroom mode) and `lesson`.
A run keeps its number (and so its colour) through the link: `runs=3` is runs 1, 2 and 3, and
any other set is listed in order, `runs=2,3` or `runs=3,` (one run, numbered 3). Only the
current view's settings go in the link. A bad field never stops a link from opening: it falls
back to its default or is clamped into range, and `Decoded.problems` says which and why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

from app.views import AXIS_KEY, RACE, RUN_KEY, SETTINGS, VIEW_SETTINGS, VIEWS, setting_key
from optimizers.analysis import SECOND_AXES
from optimizers.engine import MAX_STEPS, MODIFIERS, RunConfig
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES, ParamSpec, Surface
from surfaces.dataset import (
    DEFAULT_POINTS,
    MAX_LINK_CHARS,
    check_design,
    data_surface,
    decode_points,
    encode_points,
)
from surfaces.formula import (
    DEFAULT_BOX,
    DEFAULT_FORMULA,
    MAX_LENGTH,
    check_box,
    formula_surface,
    parse,
)

LINK_VERSION = 1
MAX_RUNS = 6
DEFAULT_SURFACE = "quadratic"
DEFAULT_STEPS = 300
# A fresh run i starts with a different rule, so that adding runs races them at once.
DEFAULT_OPTIMIZERS = {1: "gd", 2: "momentum", 3: "adam", 4: "nesterov", 5: "rmsprop", 6: "adagrad"}
START_LIMIT = 1000.0
MAX_FIELDS = 200  # query fields read from one link; the rest are ignored (bounded work)
MAX_TEXT = 200  # characters in one value; longer values are ignored
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
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"0", "false", "off", "no"}


# Widget kinds and coercion (shared with the controls).


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
    """`value` as the widget's type inside [low, high]; the default where it is not a number."""
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
    return f"run{run_id}_{name}"


def hyper_key(run_id: int, name: str) -> str:
    return run_key(run_id, f"opt_{name}" if name in MODIFIER_NAMES else name)


def schedule_key(run_id: int, name: str) -> str:
    return run_key(run_id, f"sched_{name}")


def surface_key(surface: Surface | str, name: str) -> str:
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
    """The page's setup: what a link reproduces."""

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
    the_surface = SURFACES[surface]
    return PageState(
        surface=surface,
        surface_params=_defaults(the_surface.params),
        steps=DEFAULT_STEPS,
        start=tuple(float(v) for v in the_surface.starts[0]),  # type: ignore[arg-type]
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


# Writing a link.


def runs_text(run_ids: Sequence[int]) -> str:
    """The `runs` field: "" for run 1 alone, the count for runs 1 … n ("3"), else the numbers
    in order ("2,3"; a lone run other than 1 keeps a trailing comma: "3,")."""
    if list(run_ids) == list(range(1, len(run_ids) + 1)):
        return str(len(run_ids)) if len(run_ids) > 1 else ""
    return ",".join(map(str, run_ids)) + ("," if len(run_ids) == 1 else "")


def number_text(value: float) -> str:
    """The shortest text that reads back as exactly `value` ("300", "0.05", "1e-05")."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _changed(prefix_key: Any, values: Mapping[str, float], defaults: Mapping[str, float]):
    return [(prefix_key(name), number_text(v)) for name, v in values.items() if v != defaults[name]]


def _run_fields(run: RunState) -> dict[str, str]:
    """A run's fields in the link, under its own number: what differs from its fresh setup."""
    i, fresh = run.run_id, default_run(run.run_id, run.optimizer, run.schedule)
    fields: dict[str, str] = {}
    if run.optimizer != DEFAULT_OPTIMIZERS[i]:
        fields[run_key(i, "optimizer")] = run.optimizer
    if run.lr != fresh.lr:
        fields[run_key(i, "lr")] = number_text(run.lr)
    fields.update(_changed(lambda n: hyper_key(i, n), run.hyper, fresh.hyper))
    if run.schedule != "constant":
        fields[run_key(i, "schedule")] = run.schedule
    fields.update(
        _changed(lambda n: schedule_key(i, n), run.schedule_params, fresh.schedule_params)
    )
    fields.update(_changed(lambda n: run_key(i, n), run.warmup, fresh.warmup))
    fields.update(_changed(lambda n: run_key(i, n), run.modifiers, fresh.modifiers))
    return fields


def to_query(state: PageState) -> dict[str, str]:
    """The link's query fields: the version, then only what differs from the defaults."""
    specs = surface_params(state.surface)
    query = {"v": str(LINK_VERSION)}
    if state.lesson:
        query["lesson"] = state.lesson
    if state.surface != DEFAULT_SURFACE:
        query["surface"] = state.surface
    query.update(
        _changed(lambda n: surface_key(state.surface, n), state.surface_params, _defaults(specs))
    )
    if state.surface == "formula":
        query["formula"] = state.formula
        for spec, value in zip(BOX_SPECS, state.formula_box, strict=True):
            if value != spec.default:
                query[spec.name] = number_text(value)
    if state.surface == "data":
        if state.data != DEFAULT_DATA:
            query["data"] = state.data
        if state.data_standardise:
            query["data_standardise"] = "1"
    if state.steps != DEFAULT_STEPS:
        query["steps"] = str(state.steps)
    custom = state.surface in CUSTOM_SURFACES  # its preset start is not known here: always say
    for spec, value in zip(start_specs(state.surface), state.start or (), strict=False):
        if custom or value != spec.default:
            query[spec.name] = number_text(value)
    for name in ("show_3d", "show_field"):
        if getattr(state, name):
            query[name] = "1"
    if state.inspect_step:
        query["inspect_step"] = str(state.inspect_step)
    if state.view != RACE:  # the analysis settings go with their view, and only there
        query["view"] = state.view
        shown = {name: state.analysis[name] for name in VIEW_SETTINGS[state.view]}
        query.update(_changed(setting_key, shown, _defaults(SETTINGS)))
        if state.analysis_run != state.runs[0].run_id:
            query[RUN_KEY] = str(state.analysis_run)
        if state.view == MAP_VIEW and state.map_axis:
            query[AXIS_KEY] = state.map_axis
    if runs := runs_text([run.run_id for run in state.runs]):
        query["runs"] = runs
    for run in state.runs:
        query.update(_run_fields(run))
    room = state.classroom
    for name, groups in (("hide", room.hidden), ("lock", room.locked - room.hidden)):
        if groups:
            query[name] = ",".join(g for g in CONTROL_GROUPS if g in groups)
    if not room.notes:
        query["notes"] = "0"
    if room.present:
        query["present"] = "1"
    return query


# Reading a link.


class Problem(NamedTuple):
    """A query field that was not used as given: its name, its text and what happened."""

    field: str
    text: str
    reason: str

    @property
    def shown(self) -> str:
        """`field=text`, the name and the text each cut to 40 characters."""
        field, text = (v if len(v) <= 40 else v[:37] + "…" for v in (self.field, self.text))
        return f"{field}={text}"

    def __str__(self) -> str:
        return f"{self.shown}: {self.reason}"


class Decoded(NamedTuple):
    state: PageState
    problems: list[Problem]


class _Reader:
    """Reads fields out of a query, recording each problem; remembers which fields it used."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = fields
        self.used: set[str] = set()
        self.problems: list[Problem] = []

    def text(self, key: str, limit: int = MAX_TEXT) -> str | None:
        if key not in self.fields:
            return None
        self.used.add(key)
        text = self.fields[key]
        if len(text) > limit:
            self.problems.append(Problem(key, text, f"longer than {limit} characters; ignored"))
            return None
        return text

    def checked(self, key: str, limit: int, check: Callable[[str], object]) -> str | None:
        """The field's text if `check` accepts it (a ValueError is the reason it is refused)."""
        text = self.text(key, limit)
        if text is None:
            return None
        try:
            check(text)
        except ValueError as error:
            self.problems.append(Problem(key, text, f"{error}; using the example"))
            return None
        return text

    def number(self, key: str, spec: ParamSpec) -> float:
        """The field as a number inside the spec's range: default when absent or not a finite
        number, clamped when out of range, rounded for whole-number parameters."""
        default = float(spec.default)
        text = self.text(key)
        if text is None:
            return default
        stripped = text.strip().lower()
        if widget_kind(spec) == "toggle" and stripped in _TRUE | _FALSE:
            return 1.0 if stripped in _TRUE else 0.0
        if not _NUMBER.fullmatch(stripped):
            return self._fallback(key, text, "not a number", default)
        number = float(stripped)
        if not math.isfinite(number):
            return self._fallback(key, text, "too large", default)
        clamped = min(max(number, float(spec.low)), float(spec.high))
        if clamped != number:
            where = f"outside [{spec.low:g}, {spec.high:g}]"
            self.problems.append(Problem(key, text, f"{where}; clamped to {clamped:g}"))
        if spec.integer and clamped != round(clamped):
            clamped = float(round(clamped))
            self.problems.append(Problem(key, text, f"not a whole number; rounded to {clamped:g}"))
        return clamped

    def _fallback(self, key: str, text: str, why: str, default: float) -> float:
        self.problems.append(Problem(key, text, f"{why}; using the default {default:g}"))
        return default

    def choice(self, key: str, options: Collection[str], default: str, what: str) -> str:
        text = self.text(key)
        if text is None or text == default:
            return default
        if text in options:
            return text
        known, using = ", ".join(options), default or "the default"
        self.problems.append(Problem(key, text, f"unknown {what} (known: {known}); using {using}"))
        return default

    def groups(self, key: str) -> frozenset[str]:
        text = self.text(key)
        if not text:
            return frozenset()
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in CONTROL_GROUPS]
        if unknown:
            known = ", ".join(CONTROL_GROUPS)
            self.problems.append(
                Problem(
                    key, text, f"unknown control {', '.join(unknown)} (known: {known}); skipped"
                )
            )
        return frozenset(name for name in names if name in CONTROL_GROUPS)

    def params(self, key_of: Any, specs: Sequence[ParamSpec]) -> dict[str, float]:
        return {spec.name: self.number(key_of(spec.name), spec) for spec in specs}

    def run_ids(self) -> tuple[int, ...]:
        """The `runs` field (see `runs_text`): a count n is runs 1 … n, a list with commas
        names the runs; numbers outside 1 … MAX_RUNS and repeats are skipped."""
        text = self.text("runs")
        if text is None or "," not in text:
            return tuple(range(1, int(self.number("runs", RUNS_SPEC)) + 1))
        ids: list[int] = []
        skipped = []
        for token in filter(None, (token.strip() for token in text.split(","))):
            number = int(token) if token.isascii() and token.isdigit() else 0
            if 1 <= number <= MAX_RUNS and number not in ids:
                ids.append(number)
            else:
                skipped.append(token)
        if skipped:
            why = f"not a run number 1 … {MAX_RUNS}, or repeated: {', '.join(skipped)}; skipped"
            self.problems.append(Problem("runs", text, why))
        if not ids:
            self.problems.append(Problem("runs", text, "no run left; using run 1"))
        return tuple(ids) or (1,)

    def run_choice(self, key: str, ids: Sequence[int]) -> int:
        """The field as the number of one of the runs `ids` (the first when absent or not)."""
        text = self.text(key)
        if text is None:
            return ids[0]
        if text.strip() in {str(run_id) for run_id in ids}:
            return int(text)
        listed = ", ".join(map(str, ids))
        self.problems.append(
            Problem(key, text, f"not one of the runs ({listed}); using run {ids[0]}")
        )
        return ids[0]


def _single_values(
    query: Mapping[str, str | Sequence[str]],
) -> tuple[dict[str, str], list[Problem]]:
    """One text per field (the last of repeated ones), at most MAX_FIELDS fields; blank
    fields count as absent."""
    fields: dict[str, str] = {}
    problems: list[Problem] = []
    for key, raw in query.items():
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        texts = [text for text in texts if text]  # `?steps=` is the same as no `steps`
        if not texts:
            continue
        if len(fields) >= MAX_FIELDS:
            problems.append(Problem(key, texts[-1], f"more than {MAX_FIELDS} fields; ignored"))
            continue
        if len(texts) > 1:
            problems.append(Problem(key, texts[-1], f"given {len(texts)} times; using the last"))
        fields[str(key)] = texts[-1]
    return fields, problems


def _read_run(reader: _Reader, run_id: int) -> RunState:
    optimizer = reader.choice(
        run_key(run_id, "optimizer"), OPTIMIZERS, DEFAULT_OPTIMIZERS[run_id], "optimizer"
    )
    schedule = reader.choice(run_key(run_id, "schedule"), SCHEDULES, "constant", "schedule")
    rule = OPTIMIZERS[optimizer]
    return RunState(
        run_id=run_id,
        optimizer=optimizer,
        lr=reader.number(run_key(run_id, "lr"), rule.lr),
        hyper=reader.params(lambda n: hyper_key(run_id, n), rule.hyper),
        schedule=schedule,
        schedule_params=reader.params(
            lambda n: schedule_key(run_id, n), SCHEDULES[schedule].params
        ),
        warmup=reader.params(lambda n: run_key(run_id, n), WARMUP_PARAMS),
        modifiers=reader.params(lambda n: run_key(run_id, n), MODIFIERS),
    )


_RUN_FIELD = re.compile(r"run(\d{1,9})_(.+)")  # longer numbers: an unknown parameter


def _unused_reason(key: str, state: PageState) -> str:
    """Why a field the state does not use was ignored."""
    if match := _RUN_FIELD.fullmatch(key):
        run_id = int(match.group(1))
        run = next((run for run in state.runs if run.run_id == run_id), None)
        if run is None:
            listed = ", ".join(str(run.run_id) for run in state.runs)
            return f"there is no run {run_id} (this link has runs {listed}); ignored"
        return (
            f"not a setting of run {run_id} ({OPTIMIZERS[run.optimizer].name}, "
            f"{SCHEDULES[run.schedule].name} schedule); ignored"
        )
    shown = SURFACES[state.surface].name if state.surface in SURFACES else "your own surface"
    for surface in SURFACES.values():
        if any(key == surface_key(surface.key, p.name) for p in surface.params):
            return f"a parameter of {surface.name}, not of {shown}; ignored"
    if key in {"formula", *FORMULA_BOX_KEYS, "data", "data_standardise"}:
        kind = "formula" if key.startswith("formula") else "data"
        return f"used only with surface={kind}; ignored"
    return "unknown parameter; ignored"


def _read_custom(reader: _Reader, surface: str) -> dict[str, Any]:
    """The formula and its box, or the data and its standardise switch, checked as the app
    checks them (defaults where they fail)."""
    if surface == "formula":
        text = reader.checked("formula", MAX_LENGTH, parse)
        box = tuple(reader.number(spec.name, spec) for spec in BOX_SPECS)
        try:
            check_box(box)  # type: ignore[arg-type]
        except ValueError as error:
            edges = ", ".join(FORMULA_BOX_KEYS)
            reader.problems.append(Problem(edges, "…", f"{error}; using the default box"))
            box = DEFAULT_BOX
        return {"formula": text or DEFAULT_FORMULA, "formula_box": box}
    if surface == "data":
        standardise = bool(reader.number("data_standardise", TOGGLE_SPEC))
        text = reader.checked(
            "data", MAX_LINK_CHARS, lambda text: check_design(decode_points(text), standardise)
        )
        return {"data": text or DEFAULT_DATA, "data_standardise": standardise}
    return {}


def from_query(query: Mapping[str, str | Sequence[str]], lessons: Collection[str] = ()) -> Decoded:
    """The state a link asks for, and every field that could not be used as given."""
    fields, problems = _single_values(query)
    reader = _Reader(fields)
    version = reader.text("v")
    if version is not None and version.strip() != str(LINK_VERSION):
        problems.append(
            Problem("v", version, f"unknown link version; read as version {LINK_VERSION}")
        )
    lesson = reader.choice("lesson", lessons, "", "lesson") or None
    surface = reader.choice("surface", SURFACE_CHOICES, DEFAULT_SURFACE, "surface")
    params = reader.params(lambda n: surface_key(surface, n), surface_params(surface))
    custom = _read_custom(reader, surface)
    steps = int(reader.number("steps", STEPS_SPEC))
    start: tuple[float, ...] | None = None
    if surface in SURFACES or {"x0", "y0"} & fields.keys():
        start = tuple(reader.number(spec.name, spec) for spec in start_specs(surface))
    run_ids = reader.run_ids()
    state = PageState(
        **custom,
        surface=surface,
        surface_params=params,
        steps=steps,
        start=start,  # type: ignore[arg-type]
        runs=tuple(_read_run(reader, run_id) for run_id in run_ids),
        show_3d=bool(reader.number("show_3d", TOGGLE_SPEC)),
        show_field=bool(reader.number("show_field", TOGGLE_SPEC)),
        inspect_step=min(int(reader.number("inspect_step", INSPECT_SPEC)), steps),
        view=reader.choice("view", [view.name for view in VIEWS], RACE, "view"),
        analysis=reader.params(setting_key, SETTINGS),
        analysis_run=reader.run_choice(RUN_KEY, run_ids),
        map_axis=reader.choice(AXIS_KEY, SECOND_AXES, "", "stability-map axis"),
        classroom=Classroom(
            hidden=(hidden := reader.groups("hide")),
            locked=reader.groups("lock") - hidden,
            notes=bool(reader.number("notes", replace(TOGGLE_SPEC, default=1))),
            present=bool(reader.number("present", TOGGLE_SPEC)),
        ),
        lesson=lesson,
    )
    problems += reader.problems
    for key in fields.keys() - reader.used:
        problems.append(Problem(key, fields[key], _unused_reason(key, state)))
    return Decoded(state, problems)


# Widgets.


def to_session(state: PageState) -> dict[str, Any]:
    """Widget values (and the run list, by the runs' numbers) that show `state`."""
    values: dict[str, Any] = {
        "surface": state.surface,
        "steps": state.steps,
        "formula": state.formula,
        **dict(zip(FORMULA_BOX_KEYS, state.formula_box, strict=True)),
        "data": state.data,
        "data_standardise": state.data_standardise,
        "show_3d": state.show_3d,
        "show_field": state.show_field,
        "inspect_step": state.inspect_step,
        "view": state.view,
        "run_ids": [run.run_id for run in state.runs],
    }
    if state.start is not None:  # else the page starts from the surface's own preset
        values |= {"x0": state.start[0], "y0": state.start[1], "_surface_seen": state.surface}
    for spec in SETTINGS:
        values[setting_key(spec.name)] = widget_value(spec, state.analysis[spec.name])
    values[RUN_KEY] = state.analysis_run
    if state.map_axis:
        values[AXIS_KEY] = state.map_axis
    for spec in surface_params(state.surface):
        values[surface_key(state.surface, spec.name)] = widget_value(
            spec, state.surface_params[spec.name]
        )
    for run in state.runs:
        run_id, rule, schedule = run.run_id, OPTIMIZERS[run.optimizer], SCHEDULES[run.schedule]
        values[run_key(run_id, "optimizer")] = run.optimizer
        values[run_key(run_id, "lr")] = values[run_key(run_id, "lr_log")] = run.lr
        for spec in rule.hyper:
            values[hyper_key(run_id, spec.name)] = widget_value(spec, run.hyper[spec.name])
        values[run_key(run_id, "schedule")] = run.schedule
        for spec in schedule.params:
            values[schedule_key(run_id, spec.name)] = widget_value(
                spec, run.schedule_params[spec.name]
            )
        for spec in WARMUP_PARAMS:
            values[run_key(run_id, spec.name)] = widget_value(spec, run.warmup[spec.name])
        for spec in MODIFIERS:
            values[run_key(run_id, spec.name)] = widget_value(
                spec, run.modifiers[spec.name], modifier_kind(spec)
            )
    return values


def _session_number(values: Mapping[str, Any], key: str, spec: ParamSpec) -> float:
    return float(coerce(values.get(key, spec.default), spec.default, spec.low, spec.high, "number"))


def _session_params(
    values: Mapping[str, Any], key_of: Any, specs: Sequence[ParamSpec]
) -> dict[str, float]:
    return {spec.name: _session_number(values, key_of(spec.name), spec) for spec in specs}


def _session_choice(
    values: Mapping[str, Any], key: str, options: Collection[str], default: str
) -> str:
    value = values.get(key)
    return value if isinstance(value, str) and value in options else default


def _text(values: Mapping[str, Any], key: str, default: str) -> str:
    value = values.get(key)
    return value if isinstance(value, str) and value else default


def from_session(
    values: Mapping[str, Any], classroom: Classroom = Classroom(), lesson: str | None = None
) -> PageState:
    """The state the widgets hold (missing or bad values read as their defaults)."""
    surface = _session_choice(values, "surface", SURFACE_CHOICES, DEFAULT_SURFACE)
    ids = values.get("run_ids") or [1]
    runs = []
    for run_id in ids:
        optimizer = _session_choice(
            values, run_key(run_id, "optimizer"), OPTIMIZERS, DEFAULT_OPTIMIZERS[run_id]
        )
        schedule = _session_choice(values, run_key(run_id, "schedule"), SCHEDULES, "constant")
        rule = OPTIMIZERS[optimizer]
        runs.append(
            RunState(
                run_id=run_id,
                optimizer=optimizer,
                lr=_session_number(values, run_key(run_id, "lr"), rule.lr),
                hyper=_session_params(values, lambda n, i=run_id: hyper_key(i, n), rule.hyper),
                schedule=schedule,
                schedule_params=_session_params(
                    values, lambda n, i=run_id: schedule_key(i, n), SCHEDULES[schedule].params
                ),
                warmup=_session_params(values, lambda n, i=run_id: run_key(i, n), WARMUP_PARAMS),
                modifiers=_session_params(values, lambda n, i=run_id: run_key(i, n), MODIFIERS),
            )
        )
    steps = int(coerce(values.get("steps"), DEFAULT_STEPS, 1, MAX_STEPS, "int"))
    return PageState(
        surface=surface,
        surface_params=_session_params(
            values, lambda n: surface_key(surface, n), surface_params(surface)
        ),
        steps=steps,
        start=tuple(_session_number(values, s.name, s) for s in start_specs(surface)),  # type: ignore[arg-type]
        formula=_text(values, "formula", DEFAULT_FORMULA),
        formula_box=tuple(_session_number(values, s.name, s) for s in BOX_SPECS),  # type: ignore[arg-type]
        data=_text(values, "data", DEFAULT_DATA),
        data_standardise=bool(values.get("data_standardise", False)),
        runs=tuple(runs),
        show_3d=bool(values.get("show_3d", False)),
        show_field=bool(values.get("show_field", False)),
        inspect_step=int(coerce(values.get("inspect_step"), 0, 0, steps, "int")),
        view=_session_choice(values, "view", [view.name for view in VIEWS], RACE),
        analysis=_session_params(values, setting_key, SETTINGS),
        analysis_run=int(values[RUN_KEY]) if values.get(RUN_KEY) in ids else ids[0],
        map_axis=_session_choice(values, AXIS_KEY, SECOND_AXES, ""),
        classroom=classroom,
        lesson=lesson,
    )
