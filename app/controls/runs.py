"""The runs' controls: one panel per run (optimizer, η₀, hyperparameters, schedule, and behind a
toggle warmup and the modifiers), and the callbacks that add, duplicate and remove runs."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

import streamlit as st

from app import compute
from app.controls.classroom import classroom, folded
from app.controls.pickers import picker
from app.controls.scene import Scene
from app.controls.widgets import ensure, ensure_choice, fmt, log_options, param_widget
from app.state import DEFAULT_OPTIMIZERS, MAX_RUNS, hyper_key, modifier_kind, run_key, schedule_key
from app.text import plain
from optimizers.curvature import THRESHOLD_FORMULAS
from optimizers.engine import MODIFIERS, RunConfig, plan
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import ParamSpec

BUTTONS = ("duplicate", "remove")
# run{i}_open: whether its panel is unfolded (the first run's is, at first); run{i}_panel: the
# expander's own state, whose identity changes with its title (the rule's name)
OPEN, PANEL = "open", "panel"
MORE = "more"  # run{i}_more: whether the panel shows warmup and the modifiers but the batch ones
BATCH_MODIFIERS = frozenset({"batch_size", "batch_seed"})  # only for surfaces with data
EXTRAS = (*WARMUP_PARAMS, *(s for s in MODIFIERS if s.name not in BATCH_MODIFIERS))


@dataclass(frozen=True)
class RunSetup:
    """One run's controls read back: a validated configuration, or the error that stops it."""

    run_id: int
    label: str
    config: RunConfig | None
    error: str | None = None


# Callbacks (they run before the script, so they may write any widget's state).


def run_ids() -> list[int]:
    """The runs shown, as stable integer ids in 1 … MAX_RUNS (repaired if the state is bad)."""
    ids = st.session_state.get("run_ids")
    valid = isinstance(ids, list) and all(type(i) is int and 1 <= i <= MAX_RUNS for i in ids)
    if not isinstance(ids, list) or not valid or not ids or len(set(ids)) != len(ids):
        ids = [1]
        st.session_state["run_ids"] = ids
    return list(ids)


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
        st.session_state[run_key(new, OPEN)] = True
        st.session_state["run_ids"] = [*ids, new]


def duplicate_run(source: int) -> None:
    ids = run_ids()
    if len(ids) < MAX_RUNS and source in ids:
        new = _free_id(ids)
        _drop(run_key(new, ""))
        prefix = run_key(source, "")
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
            name = key.removeprefix(prefix)
            if name not in (*BUTTONS, PANEL):
                st.session_state[run_key(new, name)] = st.session_state[key]
        st.session_state[run_key(new, OPEN)] = True
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


# The panel.


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
    return ", ".join(parts + _extras_on({**config.warmup, **config.modifiers}))


_SHORT = {  # how the legend and the folded toggle name warmup and the modifiers switched on
    "warmup_steps": "warmup {}",
    "clip_value": "clip c={}",
    "clip_norm": "clip C={}",
    "l2": "L2 {}",
    "weight_decay": "wd {}",
    "noise_std": "noise σ={}",
}


def _extras_on(values: Mapping[str, float]) -> list[str]:
    """The short names of those of `values` switched on (> 0): "warmup 50", "clip C=5"."""
    return [_SHORT[name].format(fmt(v)) for name, v in values.items() if name in _SHORT and v > 0]


def _clamped_rate(run_id: int, spec: ParamSpec) -> tuple[float, str | None]:
    """Run `run_id`'s η₀ brought into [spec.low, spec.high], and while that clamped value is
    the rate, the sentence saying which typed rate it replaced and the allowed range."""
    key, note_key = run_key(run_id, "lr"), run_key(run_id, "lr_refused")
    typed = st.session_state.get(key)
    lr: float = ensure(key, spec, "number")
    number = isinstance(typed, int | float) and not isinstance(typed, bool)
    if number and isinstance(typed, int | float) and math.isfinite(typed) and typed != lr:
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
    # Markdown: the computed text escaped (plain); only fixed words and the colour directive not.
    if not math.isfinite(rate.value):
        lambda_max = fmt(rate.lambda_max)
        st.caption(plain(f"λ_max = {lambda_max} ≤ 0 at the start: no curvature limit on η."))
        return
    where = "" if rate.exact else " (curvature at the start)"
    limit = f"{THRESHOLD_FORMULAS[optimizer]} = {fmt(rate.value)}{where}"
    if lr > rate.value:
        st.caption(":red[" + plain(f"η₀ is above {limit}") + ": expect divergence.]")
    else:
        st.caption(plain(f"Stable below {limit}") + ".")


def _modifier_widgets(run_id: int, specs: Sequence[ParamSpec], title: str) -> dict[str, float]:
    """The modifiers `specs` in two columns under `title` (0 is off)."""
    shown_group = classroom().mode("modifiers") != "hide"
    if shown_group:
        st.markdown("**" + plain(title) + "** · 0 is off")
    columns = st.columns(2) if shown_group else [nullcontext()] * 2
    modifiers = {}
    for i, spec in enumerate(specs):
        with columns[i % 2]:
            modifiers[spec.name] = param_widget(
                spec, run_key(run_id, spec.name), modifier_kind(spec), group="modifiers"
            )
    return modifiers


def _run_buttons(run_id: int, n_runs: int) -> None:
    mode = classroom().mode("runs")
    if mode == "hide":
        return
    row = st.container(horizontal=True)  # one block, not a column per button
    row.button(
        "Duplicate",
        key=run_key(run_id, "duplicate"),
        on_click=duplicate_run,
        args=(run_id,),
        disabled=mode == "lock" or n_runs >= MAX_RUNS,
    )
    row.button(
        "Remove",
        key=run_key(run_id, "remove"),
        on_click=remove_run,
        args=(run_id,),
        disabled=mode == "lock" or n_runs <= 1,
    )


def _run_panel(run_id: int, scene: Scene, n_runs: int) -> RunSetup:
    optimizer = picker(
        "Optimizer", OPTIMIZERS, run_key(run_id, "optimizer"), _reset_optimizer, run_id, "optimizer"
    )
    lr = _lr_controls(run_id, optimizer.lr)
    hint = nullcontext() if classroom().mode("lr") == "hide" else st.container()  # no hint then
    hyper = {
        s.name: param_widget(s, hyper_key(run_id, s.name), group="hyper") for s in optimizer.hyper
    }
    with hint:
        _critical_hint(scene, optimizer.key, lr, hyper)

    sched_key = run_key(run_id, "schedule")
    ensure_choice(sched_key, list(SCHEDULES), "constant")
    schedule = picker(
        "Learning-rate schedule", SCHEDULES, sched_key, _reset_schedule, run_id, "schedule"
    )
    schedule_params = {
        s.name: param_widget(s, schedule_key(run_id, s.name), group="schedule")
        for s in schedule.params
    }
    batches = [s for s in MODIFIERS if s.name in BATCH_MODIFIERS and scene.surface.samples]
    modifiers = _modifier_widgets(run_id, batches, "Mini-batches") if batches else {}
    with _extras(run_id):
        if classroom().mode("warmup") != "hide":
            st.markdown("**Warmup**")
        warmup = {
            s.name: param_widget(s, run_key(run_id, s.name), group="warmup") for s in WARMUP_PARAMS
        }
        general = [s for s in MODIFIERS if s.name not in BATCH_MODIFIERS]
        modifiers |= _modifier_widgets(run_id, general, "Modifiers")
    _run_buttons(run_id, n_runs)

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


def _keep_values(run_id: int, names: Sequence[str] | None = None) -> None:
    """Keep a folded run's values (or only those of `names`): Streamlit forgets the state of a
    widget a run does not draw."""
    prefix = run_key(run_id, "")
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        name = key.removeprefix(prefix)
        if name not in (*BUTTONS, OPEN, PANEL) and (names is None or name in names):
            st.session_state[key] = st.session_state[key]


@contextmanager
def _extras(run_id: int) -> Iterator[None]:
    """Warmup and the modifiers (not the batch ones) behind a toggle, off at first unless one of
    them is set (by a link or a lesson). Off, they draw nothing (each widget costs the browser
    on every rerun) and a caption names those switched on."""
    if classroom().mode("warmup") == "hide" and classroom().mode("modifiers") == "hide":
        yield  # a classroom link or a folded panel: nothing to show
        return
    key = run_key(run_id, MORE)
    keys = {spec.name: run_key(run_id, spec.name) for spec in EXTRAS}
    if not isinstance(st.session_state.get(key), bool):
        st.session_state[key] = any(
            st.session_state.get(keys[spec.name], spec.default) != spec.default for spec in EXTRAS
        )
    if st.toggle(
        "Warmup, clipping, L2, noise",
        key=key,
        help="Learning-rate warmup; clipping by value or by norm, L2 and decoupled weight decay, "
        "gradient noise.",
    ):
        yield
        return
    with folded():
        yield  # the values read (and repaired) as hidden ones are
    _keep_values(run_id, list(keys))
    read = {name: st.session_state.get(k) for name, k in keys.items()}
    if on := _extras_on({n: float(v) for n, v in read.items() if isinstance(v, int | float)}):
        st.caption(plain("On: " + ", ".join(on) + "."))


def _remember_fold(run_id: int) -> None:
    st.session_state[run_key(run_id, OPEN)] = bool(st.session_state[run_key(run_id, PANEL)])


def run_controls(scene: Scene) -> list[RunSetup]:
    """One expander per run, then the add button. A folded run's panel draws nothing (its
    widgets would cost the browser on every rerun): its run is read from the session, as its
    widgets would give it, and its values are kept for when it unfolds."""
    ids = run_ids()
    setups = []
    for run_id in ids:
        opt_key = run_key(run_id, "optimizer")
        ensure_choice(opt_key, list(OPTIMIZERS), DEFAULT_OPTIMIZERS[run_id])
        opened = st.session_state.get(run_key(run_id, OPEN))
        panel = st.expander(
            f"Run {run_id} · {OPTIMIZERS[st.session_state[opt_key]].name}",
            expanded=opened if isinstance(opened, bool) else run_id == ids[0],
            key=run_key(run_id, PANEL),
            on_change=_remember_fold,
            args=(run_id,),
        )
        unfolded: AbstractContextManager = panel if panel.open else folded()
        with unfolded:
            setups.append(_run_panel(run_id, scene, len(ids)))
        if not panel.open:
            _keep_values(run_id)
    if classroom().mode("runs") != "hide":
        locked = classroom().mode("runs") == "lock"
        st.button(
            "Add run", key="add_run", on_click=add_run, disabled=locked or len(ids) >= MAX_RUNS
        )
    return setups
