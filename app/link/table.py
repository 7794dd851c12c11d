"""The link's fields, one row each: the single answer to "what is in a link?".

A row's key is both the query field and the widget's session key; `run{i}_…` rows are the
fields of run i (RUN_FIELDS), the classroom's are CLASSROOM_FIELDS. The query lists them in
table order, defaults left out. Adding a field to the link is adding a row here (and its
attribute to the state in app/state.py, and its widget in app/controls/):

    v                       the link format's version (LINK_VERSION)
    lesson                  the lesson shown (app/lessons)
    surface                 a SURFACES key, or formula / data (CUSTOM_SURFACES)
    {surface}_{param}       the surface's own parameters, e.g. quadratic_kappa, rosenbrock_b
    formula, formula_x0 …   a typed formula and its plot box (surface=formula only)
    data, data_standardise  points "x1,y1;x2,y2;…" and standardised x (surface=data only)
    steps                   number of steps
    x0, y0                  start point
    show_3d, show_field     view toggles
    inspect_step            the step inspector's step
    view, analysis_{name}   the view and its settings (only the current view's)
    analysis_run, analysis_map_axis    the run analysed, the stability map's second number
    runs                    which runs (`runs_text`); then each run's fields:
      run{i}_optimizer, run{i}_lr (and run{i}_lr_log, its slider, in the session)
      run{i}_{hyper}        its optimizer's hyperparameters (run{i}_opt_{hyper} where a
                            modifier has the same name: weight_decay)
      run{i}_schedule, run{i}_sched_{param}, run{i}_warmup_steps, run{i}_warmup_start,
      run{i}_{modifier}     clip_value, clip_norm, l2, weight_decay, noise_std, noise_seed, …
    hide, lock, notes, present         classroom mode
"""

from __future__ import annotations

from dataclasses import replace

from app.link.fields import (
    Choice,
    Context,
    Field,
    Groups,
    Nested,
    Number,
    Params,
    Point,
    RunChoice,
    Runs,
    Text,
    Version,
)
from app.state import (
    BOX_SPECS,
    CUSTOM_SURFACES,
    DEFAULT_DATA,
    DEFAULT_OPTIMIZERS,
    DEFAULT_SURFACE,
    FORMULA_BOX_KEYS,
    INSPECT_SPEC,
    MAP_VIEW,
    STEPS_SPEC,
    SURFACE_CHOICES,
    TOGGLE_SPEC,
    Classroom,
    RunState,
    hyper_key,
    modifier_kind,
    run_key,
    schedule_key,
    start_specs,
    surface_key,
    surface_params,
)
from app.views import AXIS_KEY, RACE, RUN_KEY, SETTINGS, VIEW_SETTINGS, VIEWS, setting_key
from optimizers.analysis import SECOND_AXES
from optimizers.engine import MODIFIERS
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import ParamSpec
from surfaces.dataset import MAX_LINK_CHARS, check_design, decode_points
from surfaces.formula import DEFAULT_BOX, DEFAULT_FORMULA, MAX_LENGTH, check_box, parse

LINK_VERSION = 1
SURFACE_SEEN = "_surface_seen"  # session key: the surface the start point x0, y0 is for


def _check_box(point: tuple[float, ...]) -> object:
    """`check_box` on the four edges read (x₀, x₁, y₀, y₁)."""
    x0, x1, y0, y1 = point
    return check_box((x0, x1, y0, y1))


def _in_view(ctx: Context) -> bool:
    return bool(ctx["view"] != RACE)


# The view toggles: the scene draws one toggle per row (app/controls/scene.py).
VIEW_TOGGLES: tuple[Number, ...] = (
    Number(
        "show_3d",
        "views",
        "show_3d",
        spec=ParamSpec("show_3d", "3-D view", 0, 0, 1, "", integer=True),
    ),
    Number(
        "show_field",
        "views",
        "show_field",
        spec=ParamSpec("show_field", "Gradient field (−∇f arrows)", 0, 0, 1, "", integer=True),
    ),
)

RUN_FIELDS: tuple[Field, ...] = (
    Choice(
        "run{i}_optimizer",
        "optimizer",
        "optimizer",
        options=lambda ctx: OPTIMIZERS,
        default=lambda ctx: DEFAULT_OPTIMIZERS[ctx.run_id],
        what="optimizer",
    ),
    Number(
        "run{i}_lr",
        "lr",
        "lr",
        spec_of=lambda ctx: OPTIMIZERS[ctx["optimizer"]].lr,
        mirrors=("run{i}_lr_log",),
    ),
    Params(
        "run{i}_{hyper}",
        "hyper",
        "hyper",
        specs=lambda ctx: OPTIMIZERS[ctx["optimizer"]].hyper,
        key_of=lambda ctx, name: hyper_key(ctx.run_id, name),
    ),
    Choice(
        "run{i}_schedule",
        "schedule",
        "schedule",
        options=lambda ctx: SCHEDULES,
        default=lambda ctx: "constant",
        what="schedule",
    ),
    Params(
        "run{i}_sched_{param}",
        "schedule",
        "schedule_params",
        specs=lambda ctx: SCHEDULES[ctx["schedule"]].params,
        key_of=lambda ctx, name: schedule_key(ctx.run_id, name),
    ),
    Params(
        "run{i}_{warmup}",
        "warmup",
        "warmup",
        specs=lambda ctx: WARMUP_PARAMS,
        key_of=lambda ctx, name: run_key(ctx.run_id, name),
    ),
    Params(
        "run{i}_{modifier}",
        "modifiers",
        "modifiers",
        specs=lambda ctx: MODIFIERS,
        key_of=lambda ctx, name: run_key(ctx.run_id, name),
        kind=modifier_kind,
    ),
)

CLASSROOM_FIELDS: tuple[Field, ...] = (
    Groups("hide", "share", "hidden"),
    Groups("lock", "share", "locked", minus="hidden"),
    Number("notes", "share", "notes", spec=replace(TOGGLE_SPEC, default=1)),
    Number("present", "share", "present"),
)

FIELDS: tuple[Field, ...] = (
    Version("v", "link", None, version=LINK_VERSION),
    Choice(
        "lesson",
        "lessons",
        "lesson",
        session=False,
        options=lambda ctx: ctx["lessons"],
        what="lesson",
        optional=True,
    ),
    Choice(
        "surface",
        "surface",
        "surface",
        options=lambda ctx: SURFACE_CHOICES,
        default=lambda ctx: DEFAULT_SURFACE,
        what="surface",
    ),
    Params(
        "{surface}_{param}",
        "surface",
        "surface_params",
        specs=lambda ctx: surface_params(ctx["surface"]),
        key_of=lambda ctx, name: surface_key(ctx["surface"], name),
    ),
    Text(
        "formula",
        "surface",
        "formula",
        surface="formula",
        default=DEFAULT_FORMULA,
        limit=MAX_LENGTH,
        check=lambda text, ctx: parse(text),
        always=True,
    ),
    Point(
        "formula_box",
        "surface",
        "formula_box",
        surface="formula",
        keys=FORMULA_BOX_KEYS,
        specs=lambda ctx: BOX_SPECS,
        check=_check_box,
        fallback=DEFAULT_BOX,
    ),
    Text(
        "data",
        "surface",
        "data",
        surface="data",
        default=DEFAULT_DATA,
        limit=MAX_LINK_CHARS,
        check=lambda text, ctx: check_design(decode_points(text), ctx["data_standardise"]),
    ),
    Number("data_standardise", "surface", "data_standardise", surface="data"),
    Number("steps", "steps", "steps", spec=STEPS_SPEC),
    Point(
        "start",
        "start",
        "start",
        keys=("x0", "y0"),
        specs=lambda ctx: start_specs(ctx["surface"]),
        optional=True,
        always_for=CUSTOM_SURFACES,
        mark=SURFACE_SEEN,
    ),
    *VIEW_TOGGLES,
    Number("inspect_step", "inspector", "inspect_step", spec=INSPECT_SPEC, cap="steps"),
    Choice(
        "view",
        "analysis",
        "view",
        options=lambda ctx: [view.name for view in VIEWS],
        default=lambda ctx: RACE,
        what="view",
    ),
    Params(
        "analysis_{name}",
        "analysis",
        "analysis",
        specs=lambda ctx: SETTINGS,
        key_of=lambda ctx, name: setting_key(name),
        shown=lambda ctx, name: name in VIEW_SETTINGS.get(ctx["view"], ()),
    ),
    RunChoice(RUN_KEY, "analysis", "analysis_run", shown=_in_view),
    Choice(
        AXIS_KEY,
        "analysis",
        "map_axis",
        options=lambda ctx: SECOND_AXES,
        what="stability-map axis",
        shown=lambda ctx: ctx["view"] == MAP_VIEW,
    ),
    Runs("runs", "runs", "runs", rows=RUN_FIELDS, build=RunState),
    Nested("classroom", "share", "classroom", rows=CLASSROOM_FIELDS, build=Classroom),
)
