"""Sidebar controls: widget keys, session-state hygiene, run management, the start-point click.

Every widget has an explicit, stable, URL-friendly key (see `key_list` and the README):

    surface                 surface picker (registry key)
    {surface}_{param}       the surface's own parameters, e.g. quadratic_kappa, rosenbrock_b
    steps                   number of steps
    x0, y0                  start point; next_start cycles the surface's preset starts
    show_3d, show_field     view toggles
    run_ids (state only)    the runs shown, as stable integer ids; add_run adds one
    run{i}_optimizer        run i's update rule
    run{i}_lr               its base learning rate η₀ (exact entry, the source of truth)
    run{i}_lr_log           the same η₀ on a log-scale slider (kept in sync both ways)
    run{i}_{hyper}          its optimizer's hyperparameters, e.g. run1_beta, run1_b1
                            (run{i}_opt_{hyper} where a modifier has the same name: weight_decay)
    run{i}_schedule         its learning-rate schedule
    run{i}_sched_{param}    the schedule's parameters, e.g. run1_sched_gamma
    run{i}_warmup_steps, run{i}_warmup_start     linear warmup
    run{i}_{modifier}       clip_value, clip_norm, l2, weight_decay, noise_std, noise_seed
    run{i}_duplicate, run{i}_remove              buttons

Widget values are untrusted (URL, stale state): `ensure` coerces each one to its widget's type
and range before the widget is drawn, and widgets take their value from session state only
(never a `value=` argument), so a value can be written by a callback without a warning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st

from app import compute, custom
from app.state import (
    CUSTOM_SURFACES,
    DEFAULT_OPTIMIZERS,
    DEFAULT_STEPS,
    DEFAULT_SURFACE,
    MAP_VIEW,
    MAX_RUNS,
    START_LIMIT,
    SURFACE_CHOICES,
    Classroom,
    Kind,
    PageState,
    Problem,
    coerce,
    configs,
    from_query,
    from_session,
    hyper_key,
    modifier_kind,
    run_key,
    schedule_key,
    surface_key,
    to_query,
    to_session,
    widget_kind,
)
from optimizers.analysis import second_axes
from optimizers.curvature import THRESHOLD_FORMULAS
from optimizers.engine import MAX_STEPS, MODIFIERS, RunConfig, plan
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from optimizers.specs import OPTIMIZER_GROUPS
from surfaces import SURFACES, ParamSpec, Surface
from surfaces.formula import without_float_noise
from surfaces.params import Registry

__all__ = [  # re-exported from app.state for the pages and tests
    "DEFAULT_OPTIMIZERS",
    "DEFAULT_STEPS",
    "DEFAULT_SURFACE",
    "MAX_RUNS",
    "coerce",
    "hyper_key",
    "modifier_kind",
    "run_key",
    "schedule_key",
    "surface_key",
    "widget_kind",
]

STEP_CHOICES = (10, 20, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000)
MANTISSAS = ("1", "1.2", "1.5", "2", "2.5", "3", "4", "5", "6", "8")
BUTTONS = ("duplicate", "remove")
BATCH_MODIFIERS = frozenset({"batch_size", "batch_seed"})  # only for surfaces with data


@dataclass(frozen=True)
class Scene:
    """Everything shared by the runs: the surface, its parameters, steps, start and views."""

    surface: Surface
    params: dict[str, float]
    steps: int
    start: tuple[float, float]
    show_3d: bool
    show_field: bool

    @property
    def ref(self) -> compute.SurfaceRef:
        """The surface as the caches refer to it (see `compute.ref`)."""
        return compute.ref(self.surface)


@dataclass(frozen=True)
class RunSetup:
    """One run's controls read back: a validated configuration, or the error that stops it."""

    run_id: int
    label: str
    config: RunConfig | None
    error: str | None = None


# Keys.


def key_list(run_ids: Sequence[int], surface: Surface) -> list[str]:
    """Every value key the page can show for these runs and surface (buttons excluded)."""
    keys = ["surface", *(surface_key(surface, p.name) for p in surface.params)]
    keys += ["steps", "x0", "y0", "show_3d", "show_field", "inspect_step"]
    hyper = {hyper_key(0, s.name)[5:] for o in OPTIMIZERS.values() for s in o.hyper}
    sched = {schedule_key(0, s.name)[5:] for o in SCHEDULES.values() for s in o.params}
    for i in run_ids:
        names = ["optimizer", "lr", "lr_log", *sorted(hyper), "schedule", *sorted(sched)]
        names += [s.name for s in (*WARMUP_PARAMS, *MODIFIERS)]
        keys += [run_key(i, n) for n in names]
    return keys


# Untrusted values.


def ensure(key: str, default: float, low: float, high: float, kind: Kind) -> Any:
    """Coerce session_state[key] (seeding the default) before its widget is drawn."""
    state = st.session_state
    value = coerce(state.get(key, default), default, low, high, kind)
    current = state.get(key)
    if key not in state or current != value or type(current) is not type(value):
        state[key] = value
    return value


def ensure_choice(key: str, options: Sequence[str], default: str) -> str:
    """Reset session_state[key] to `default` unless it is one of `options`."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return st.session_state[key]


def log_options(low: float, high: float, current: float) -> list[float]:
    """A 1–1.2–1.5–2–2.5–3–4–5–6–8 grid on [low, high], its ends, and `current` exactly
    (grid points within 0.2 % of `current` dropped so that every label is distinct)."""
    grid = {low, high}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in MANTISSAS:
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                grid.add(value)
    kept = {v for v in grid if abs(v - current) > 2e-3 * abs(current)}
    return sorted({*kept, current})


def fmt(value: float) -> str:
    return f"{value:.4g}"


def param_widget(
    spec: ParamSpec, key: str, kind: Kind | None = None, group: str | None = None
) -> float:
    """The widget for one ParamSpec (of `kind`, else `widget_kind(spec)`), keyed `key`, shown as
    classroom mode has `group`; returns its value as a float."""
    kind = kind or widget_kind(spec)
    value = ensure(key, spec.default, spec.low, spec.high, kind)
    mode = classroom().mode(group) if group else "show"
    if mode == "hide":
        return float(value)
    label, common = spec.label, {"key": key, "help": spec.help, "disabled": mode == "lock"}
    if kind == "toggle":
        return float(st.toggle(label, **common))
    if kind == "int":
        return float(st.number_input(label, int(spec.low), int(spec.high), step=1, **common))
    if kind == "log":
        options = log_options(spec.low, spec.high, value)
        return float(st.select_slider(label, options, format_func=fmt, **common))
    if kind == "slider":
        step = 10.0 ** (math.floor(math.log10(spec.high - spec.low)) - 3)
        decimals = max(0, -math.floor(math.log10(step)))
        return float(
            st.slider(label, spec.low, spec.high, step=step, format=f"%.{decimals}f", **common)
        )
    return float(st.number_input(label, spec.low, spec.high, step=0.01, format="%g", **common))


# The link and classroom mode.

LINK = "_link"  # session key: what the URL asked for at the session's first run
_RUN_KEY = re.compile(r"run\d+_")


@dataclass(frozen=True)
class LinkInfo:
    """The classroom settings and lesson the page shows, and the link's unusable fields."""

    classroom: Classroom = field(default_factory=Classroom)
    lesson: str | None = None
    problems: tuple[Problem, ...] = ()


def load_link(lessons: Collection[str]) -> LinkInfo:
    """At a session's first run, set every widget from the URL's query (bad fields fall back to
    defaults and are listed in `problems`); later runs keep what the widgets hold."""
    if LINK not in st.session_state:
        query = {key: st.query_params.get_all(key) for key in st.query_params}
        decoded = from_query(query, lessons)
        page = decoded.state
        if query:  # a bare address leaves the widgets to their defaults (or a test's seeds)
            st.session_state.update(to_session(page))
        problems = tuple(decoded.problems)
        st.session_state[LINK] = LinkInfo(page.classroom, page.lesson, problems)
    return st.session_state[LINK]


PRESENT_KEY = "present"


def classroom() -> Classroom:
    return st.session_state.get(LINK, LinkInfo()).classroom


def _toggle_presenter() -> None:
    info = st.session_state.get(LINK, LinkInfo())
    present = bool(st.session_state.get(PRESENT_KEY))
    st.session_state[LINK] = replace(info, classroom=replace(info.classroom, present=present))


def presenter_toggle() -> None:
    """Presenter mode (link field `present=1`): large type, the sidebar folded, the picture
    first; the keyboard drives the live view (space, ←/→, ↑/↓, R)."""
    st.session_state[PRESENT_KEY] = classroom().present
    st.toggle(
        "Present",
        key=PRESENT_KEY,
        on_change=_toggle_presenter,
        help="Large type for a projector, the sidebar folded. Keys: space plays or pauses, "
        "← → step, ↑ ↓ change the learning rate of the run last touched, R restarts.",
    )


def notes_shown() -> bool:
    return classroom().notes


def note(text: str) -> None:
    """An explanatory caption, unless classroom mode hides the notes."""
    if notes_shown():
        st.caption(text)


def apply_state(page: PageState) -> None:
    """Show `page` (a lesson, a pasted link) in place of the current setup: for callbacks,
    which run before any widget is drawn."""
    for key in [k for k in st.session_state if isinstance(k, str) and _RUN_KEY.match(k)]:
        del st.session_state[key]
    st.session_state.update(to_session(page))
    st.session_state[LINK] = LinkInfo(page.classroom, page.lesson)


def current_state() -> PageState:
    """The setup on screen; a custom surface as last accepted (not a half-typed formula), and
    the stability map's axis as "" (its default) where it is the analysed run's first."""
    info = st.session_state.get(LINK, LinkInfo())
    page = from_session(st.session_state, info.classroom, info.lesson)
    if page.surface == "formula" and (accepted := custom.accepted_formula()):
        page = replace(page, formula=accepted[0], formula_box=accepted[1])
    if page.surface == "data" and (data := custom.data_link_value()):
        page = replace(page, data=data)
    if page.view == MAP_VIEW and page.map_axis:
        analysed = [run.run_id for run in page.runs].index(page.analysis_run)
        try:
            axes = second_axes(configs(page)[analysed])
        except ValueError:
            axes = []
        if axes and axes[0].key == page.map_axis:
            page = replace(page, map_axis="")
    return page


def sync_link(page: PageState) -> dict[str, str]:
    """Write `page` into the browser's URL (only when it changed); returns the query."""
    query = to_query(page)
    shown = {key: st.query_params.get_all(key) for key in st.query_params}
    if shown != {key: [value] for key, value in query.items()}:
        st.query_params.from_dict(query)
    return query


# Callbacks (they run before the script, so they may write any widget's state).


def _drop(prefix: str, keep: Sequence[str] = ()) -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        if not any(key == prefix + name for name in keep):
            del st.session_state[key]


def _free_id(ids: Sequence[int]) -> int:
    return min(set(range(1, MAX_RUNS + 1)) - set(ids))


def add_run() -> None:
    ids = run_ids()
    if len(ids) < MAX_RUNS:
        new = _free_id(ids)
        _drop(run_key(new, ""))
        st.session_state["run_ids"] = [*ids, new]


def duplicate_run(source: int) -> None:
    ids = run_ids()
    if len(ids) < MAX_RUNS and source in ids:
        new = _free_id(ids)
        _drop(run_key(new, ""))
        prefix = run_key(source, "")
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
            name = key.removeprefix(prefix)
            if name not in BUTTONS:
                st.session_state[run_key(new, name)] = st.session_state[key]
        st.session_state["run_ids"] = [*ids, new]


def remove_run(run_id: int) -> None:
    ids = run_ids()
    if len(ids) > 1 and run_id in ids:
        _drop(run_key(run_id, ""), keep=BUTTONS)
        st.session_state["run_ids"] = [i for i in ids if i != run_id]


def _reset_optimizer(run_id: int) -> None:
    """A new rule starts from its own default rate and hyperparameters."""
    names = {"lr", "lr_log"} | {
        hyper_key(run_id, s.name).removeprefix(run_key(run_id, ""))
        for o in OPTIMIZERS.values()
        for s in o.hyper
    }
    for name in names:
        st.session_state.pop(run_key(run_id, name), None)


def _reset_schedule(run_id: int) -> None:
    _drop(schedule_key(run_id, ""))


def _sync_lr_from_slider(run_id: int) -> None:
    st.session_state[run_key(run_id, "lr")] = st.session_state[run_key(run_id, "lr_log")]


def _next_start(surface: Surface) -> None:
    """The surface's next preset start after the one shown (its first after any other point),
    without float noise (it goes in the link)."""
    here = (st.session_state.get("x0"), st.session_state.get("y0"))
    starts = [(without_float_noise(x), without_float_noise(y)) for x, y in surface.starts]
    index = starts.index(here) if here in starts else -1
    st.session_state["x0"], st.session_state["y0"] = starts[(index + 1) % len(starts)]


# Controls.


def run_ids() -> list[int]:
    """The runs shown, as stable integer ids in 1 … MAX_RUNS (repaired if the state is bad)."""
    ids = st.session_state.get("run_ids")
    valid = isinstance(ids, list) and all(type(i) is int and 1 <= i <= MAX_RUNS for i in ids)
    if not valid or not ids or len(set(ids)) != len(ids):
        ids = [1]
        st.session_state["run_ids"] = ids
    return list(ids)


def scene_controls() -> Scene:
    """Surface, its parameters, steps, start point and view toggles."""
    state, room = st.session_state, classroom()
    key = ensure_choice("surface", SURFACE_CHOICES, DEFAULT_SURFACE)
    if room.mode("surface") != "hide":
        st.selectbox(
            "Loss surface",
            SURFACE_CHOICES,
            format_func=lambda k: SURFACES[k].name if k in SURFACES else CUSTOM_SURFACES[k],
            key="surface",
            disabled=room.mode("surface") == "lock",
        )
    surface = _custom_surface(key, room.mode("surface")) or SURFACES.get(key)
    if surface is None:  # no formula or table was ever accepted in this session
        surface = SURFACES[DEFAULT_SURFACE]
    params = {
        p.name: param_widget(p, surface_key(surface, p.name), group="surface")
        for p in surface.params
    }

    steps = ensure("steps", DEFAULT_STEPS, 1, MAX_STEPS, "int")
    if room.mode("steps") != "hide":
        options = sorted({*STEP_CHOICES, MAX_STEPS, steps})
        st.select_slider("Steps", options, key="steps", disabled=room.mode("steps") == "lock")

    if state.get("_surface_seen") != key:  # a new surface starts from its own preset
        first_visit = "_surface_seen" not in state
        for name, value in zip(("x0", "y0"), surface.starts[0], strict=True):
            if not first_visit or name not in state:
                state[name] = value
        state["_surface_seen"] = key
    x0, y0 = (
        ensure(name, default, -START_LIMIT, START_LIMIT, "number")
        for name, default in zip(("x0", "y0"), surface.starts[0], strict=True)
    )
    if room.mode("start") != "hide":
        locked = room.mode("start") == "lock"
        st.markdown("**Start point**" + ("" if locked else " · or click the contour"))
        left, right = st.columns(2)
        common = {"min_value": -START_LIMIT, "max_value": START_LIMIT, "step": 0.1}
        common |= {"format": "%.4g", "disabled": locked}
        left.number_input("x₀", key="x0", **common)
        right.number_input("y₀", key="y0", **common)
        st.button(
            "Next preset start" if len(surface.starts) > 1 else "Preset start",
            key="next_start",
            on_click=_next_start,
            args=(surface,),
            disabled=locked,
        )
    show_3d = ensure("show_3d", 0, 0, 1, "toggle")
    show_field = ensure("show_field", 0, 0, 1, "toggle")
    if room.mode("views") != "hide":
        locked = room.mode("views") == "lock"
        st.toggle("3-D view", key="show_3d", disabled=locked)
        st.toggle("Gradient field (−∇f arrows)", key="show_field", disabled=locked)
    return Scene(surface, params, steps, (float(x0), float(y0)), show_3d, show_field)


def _custom_surface(key: str, mode: str) -> Surface | None:
    """The formula or data surface with its controls (without them when classroom mode hides
    the surface controls); None for registry surfaces."""
    if key not in CUSTOM_SURFACES:
        return None
    if mode == "hide":
        page = current_state()
        try:
            return page.custom_surface()
        except ValueError:
            return None
    draw = custom.formula_controls if key == "formula" else custom.data_controls
    return draw(disabled=mode == "lock")


def _in_sentence(name: str) -> str:
    """A registered name inside a label: its first letter lower-cased unless it starts an
    acronym or a mixed-case name ("Cosine with warm restarts (SGDR)" → "cosine with warm
    restarts (SGDR)"; "RMSprop", "AdaGrad" stay as registered)."""
    first = name.split(" ", 1)[0]
    return name if first[1:] != first[1:].lower() else name[:1].lower() + name[1:]


def run_label(run_id: int, config: RunConfig) -> str:
    """The legend entry: run id, rule, rate, hyperparameters off their defaults and whatever
    else is switched on."""
    rule = OPTIMIZERS[config.optimizer]
    parts = [f"{run_id}: {rule.name}", f"η₀={fmt(config.lr or 0.0)}"]
    hyper = {s.label: config.hyper.get(s.name, s.default) for s in rule.hyper}
    parts += [f"{s.label}={fmt(hyper[s.label])}" for s in rule.hyper if hyper[s.label] != s.default]
    if config.schedule != "constant":
        parts.append(_in_sentence(SCHEDULES[config.schedule].name))
    if config.warmup.get("warmup_steps", 0) > 0:
        parts.append(f"warmup {int(config.warmup['warmup_steps'])}")
    short = {
        "clip_value": "clip c={}",
        "clip_norm": "clip C={}",
        "l2": "L2 {}",
        "weight_decay": "wd {}",
        "noise_std": "noise σ={}",
    }
    on = {n: v for n, v in config.modifiers.items() if n in short and v}
    parts += [short[n].format(fmt(v)) for n, v in on.items()]
    return ", ".join(parts)


def _clamped_rate(run_id: int, spec: ParamSpec) -> tuple[float, str | None]:
    """Run `run_id`'s η₀ brought into [spec.low, spec.high], and while that clamped value is
    the rate, the sentence saying which typed rate it replaced and the allowed range."""
    key, note_key = run_key(run_id, "lr"), run_key(run_id, "lr_refused")
    typed = st.session_state.get(key)
    lr = ensure(key, spec.default, spec.low, spec.high, "number")
    number = isinstance(typed, int | float) and not isinstance(typed, bool)
    if number and math.isfinite(typed) and typed != lr:
        st.session_state[note_key] = (float(typed), lr)
    refused = st.session_state.get(note_key)
    if not (isinstance(refused, tuple) and len(refused) == 2 and refused[1] == lr):
        st.session_state.pop(note_key, None)
        return lr, None
    return lr, (
        f"η₀ = {fmt(refused[0])} is outside the allowed range {fmt(spec.low)} to "
        f"{fmt(spec.high)} for this optimizer: η₀ = {fmt(lr)} is used instead."
    )


def _lr_controls(run_id: int, spec: ParamSpec) -> float:
    """η₀ on a log-scale slider plus an exact entry; the entry's key holds the truth. The entry
    takes any number, so that a rate out of range is clamped with a warning, not ignored."""
    key, log_key = run_key(run_id, "lr"), run_key(run_id, "lr_log")
    lr, refused = _clamped_rate(run_id, spec)
    st.session_state[log_key] = lr  # the slider shows the exact rate (it is among the options)
    mode = classroom().mode("lr")
    if mode == "hide":
        return lr
    st.select_slider(
        "Learning rate η₀ (log scale)",
        log_options(spec.low, spec.high, lr),
        format_func=fmt,
        key=log_key,
        help=spec.help,
        on_change=_sync_lr_from_slider,
        args=(run_id,),
        disabled=mode == "lock",
    )
    step = 10.0 ** math.floor(math.log10(lr))
    st.number_input(
        "η₀ exact",
        step=step,
        format="%.6g",
        key=key,
        help=f"{spec.help} From {fmt(spec.low)} to {fmt(spec.high)}.",
        disabled=mode == "lock",
    )
    if refused:
        st.warning(refused)
    return lr


def _critical_hint(scene: Scene, optimizer: str, lr: float, hyper: dict[str, float]) -> None:
    if optimizer not in THRESHOLD_FORMULAS or classroom().mode("lr") == "hide":
        return
    try:
        rate = compute.critical_rate(
            scene.ref,
            optimizer,
            scene.start,
            tuple(sorted(hyper.items())),
            tuple(sorted(scene.params.items())),
        )
    except ValueError:
        return
    if rate is None:
        return
    if not math.isfinite(rate.value):
        st.caption(f"λ_max = {fmt(rate.lambda_max)} ≤ 0 at the start: no curvature limit on η.")
        return
    where = "" if rate.exact else " (curvature at the start)"
    text = f"{THRESHOLD_FORMULAS[optimizer]} = {fmt(rate.value)}{where}"
    if lr > rate.value:
        st.caption(f":red[η₀ is above {text}: expect divergence.]")
    else:
        st.caption(f"Stable below {text}.")


def optimizer_label(key: str) -> str:
    """The picker label "Group · name", the group named by its sentence up to the colon."""
    rule = OPTIMIZERS[key]
    return f"{OPTIMIZER_GROUPS[rule.group].split(':')[0]} · {rule.name}"


def grouped_optimizers() -> list[str]:
    """The optimizer keys as the picker lists them: group after group in OPTIMIZER_GROUPS
    order, each group in registry order."""
    return [key for group in OPTIMIZER_GROUPS for key, o in OPTIMIZERS.items() if o.group == group]


def _picker(
    label: str,
    registry: Registry,
    key: str,
    on_change: Callable[[int], None],
    run_id: int,
    group: str,
) -> Any:
    """A select box over a registry's rows (as classroom mode has `group`), then the chosen
    row's formula, its reference and note; optimizers are listed by picker group."""
    mode = classroom().mode(group)
    grouped = registry is OPTIMIZERS
    if mode != "hide":
        st.selectbox(
            label,
            grouped_optimizers() if grouped else list(registry),
            format_func=optimizer_label if grouped else lambda k: registry[k].name,
            key=key,
            on_change=on_change,
            args=(run_id,),
            disabled=mode == "lock",
            help="\n\n".join(OPTIMIZER_GROUPS.values()) if grouped else None,
        )
    row = registry[st.session_state[key]]
    with st.container(key=f"{key}_formula"):  # sized to the sidebar (see the schedule formulas)
        st.latex(row.latex)
    if grouped:
        st.caption(f"{OPTIMIZER_GROUPS[row.group]} · {row.reference}")
    note(row.note)
    return row


def _run_panel(run_id: int, scene: Scene, n_runs: int) -> RunSetup:
    room = classroom()
    optimizer = _picker(
        "Optimizer", OPTIMIZERS, run_key(run_id, "optimizer"), _reset_optimizer, run_id, "optimizer"
    )
    lr = _lr_controls(run_id, optimizer.lr)
    hint = st.container()
    hyper = {
        s.name: param_widget(s, hyper_key(run_id, s.name), group="hyper") for s in optimizer.hyper
    }
    with hint:
        _critical_hint(scene, optimizer.key, lr, hyper)

    sched_key = run_key(run_id, "schedule")
    ensure_choice(sched_key, list(SCHEDULES), "constant")
    schedule = _picker(
        "Learning-rate schedule", SCHEDULES, sched_key, _reset_schedule, run_id, "schedule"
    )
    schedule_params = {
        s.name: param_widget(s, schedule_key(run_id, s.name), group="schedule")
        for s in schedule.params
    }

    if room.mode("warmup") != "hide":
        st.markdown("**Warmup**")
    warmup = {
        s.name: param_widget(s, run_key(run_id, s.name), group="warmup") for s in WARMUP_PARAMS
    }
    if room.mode("modifiers") != "hide":
        st.markdown("**Modifiers** · 0 is off")
    modifiers = {}
    columns = st.columns(2) if room.mode("modifiers") != "hide" else [st.container()] * 2
    shown = [s for s in MODIFIERS if scene.surface.samples or s.name not in BATCH_MODIFIERS]
    for i, spec in enumerate(shown):
        with columns[i % 2]:
            modifiers[spec.name] = param_widget(
                spec, run_key(run_id, spec.name), modifier_kind(spec), group="modifiers"
            )

    if room.mode("runs") != "hide":
        locked = room.mode("runs") == "lock"
        left, right = st.columns(2)
        left.button(
            "Duplicate",
            key=run_key(run_id, "duplicate"),
            on_click=duplicate_run,
            args=(run_id,),
            disabled=locked or n_runs >= MAX_RUNS,
        )
        right.button(
            "Remove",
            key=run_key(run_id, "remove"),
            on_click=remove_run,
            args=(run_id,),
            disabled=locked or n_runs <= 1,
        )

    config = RunConfig(
        surface=scene.surface if scene.surface.recipe else scene.surface.key,
        optimizer=optimizer.key,
        lr=lr,
        steps=scene.steps,
        start=scene.start,
        hyper=hyper,
        schedule=schedule.key,
        schedule_params=schedule_params,
        warmup=warmup,
        modifiers=modifiers,
        surface_params=scene.params,
    )
    label = run_label(run_id, config)
    try:
        plan(config)
    except ValueError as error:
        return RunSetup(run_id, label, None, str(error))
    return RunSetup(run_id, label, config)


def run_controls(scene: Scene) -> list[RunSetup]:
    """One expander per run, then the add button."""
    ids = run_ids()
    setups = []
    for run_id in ids:
        opt_key = run_key(run_id, "optimizer")
        ensure_choice(opt_key, list(OPTIMIZERS), DEFAULT_OPTIMIZERS[run_id])
        with st.expander(f"Run {run_id} · {OPTIMIZERS[st.session_state[opt_key]].name}", True):
            setups.append(_run_panel(run_id, scene, len(ids)))
    if classroom().mode("runs") != "hide":
        locked = classroom().mode("runs") == "lock"
        st.button(
            "Add run", key="add_run", on_click=add_run, disabled=locked or len(ids) >= MAX_RUNS
        )
    return setups


def inspected_step(steps: int) -> int:
    """The inspector's step (key "inspect_step"), coerced to 0 … steps; read before its slider
    is drawn so that the metrics figure above it can mark the same step."""
    return ensure("inspect_step", 0, 0, steps, "int")


def inspect_step_slider(steps: int) -> int:
    ensure("inspect_step", 0, 0, steps, "int")
    locked = classroom().mode("inspector") == "lock"
    return int(st.slider("Step", 0, max(steps, 1), key="inspect_step", disabled=locked))
