"""The race's live view: contour, paths, metric curves, Play / Pause and a learning-rate scrub
per run, drawn by plotly.js in the browser (app/static/descent-live*.js).

What changes is shipped apart from what does not. Each payload (the surface layer, a run, a
run's learning-rate family, the metrics layout) goes to the page in its own small "blob"
component under an id that hashes its content; Streamlit does not resend an element the browser
already holds (its message cache, for elements ≥ `global.minCachedMessageSize`), so a committed
learning-rate change ships the changed run and a few kilobytes, not the surface again. The view
component's own data only names the ids it draws.

While a rate slider is dragged, the browser swaps the run for the member of its family
(`optimizers.family`: the same configuration at ~70 rates, one batched engine call) nearest the
slider; on release the member's rate is committed through `on_rate_change`, exactly as a typed
rate. A rule with a momentum (heavy ball's β, Adam's β₁) gets a second slider, over a family of
its β from 0 to its maximum, that works the same way. Clicks on the contour (`on_start_change`)
and the step slider (`on_step_change`) arrive the same way, as trigger values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import streamlit as st

from app import compute, figures, lessons
from app.controls import RunSetup, classroom, slider_step
from app.live.component import blob_component, view_component
from app.live.payloads import (
    Blob,
    blob,
    family_blob,
    family_refusal,
    outcome_words,
    run_layer,
    split_metrics,
    surface_blob,
)
from app.state import OPTIMIZERS, START_LIMIT, coerce, hyper_key, run_key
from optimizers import family
from optimizers.engine import RunConfig, Trajectory
from surfaces.formula import without_float_noise

KEY = "live"
STEP_SEQ = "_live_step_seq"  # session key: the latest step request the server has seen
FRAMES = figures.MAX_FRAMES


# The window of rates each run's slider spans, kept per run in the session until a committed
# rate comes near one of its ends.


def _anchor_key(run_id: int) -> str:
    return f"_live_anchor{run_id}"


def _rates(run_id: int, config: RunConfig, lr: float, critical: float | None) -> np.ndarray:
    spec = OPTIMIZERS[config.optimizer].lr
    anchor = st.session_state.get(_anchor_key(run_id))
    anchor = anchor if isinstance(anchor, float) and anchor > 0 else lr
    rates = family.window(anchor, spec.low, spec.high, critical)
    if not family.holds(rates, lr) and anchor != lr:
        anchor, rates = lr, family.window(lr, spec.low, spec.high, critical)
    st.session_state[_anchor_key(run_id)] = anchor
    return rates


class _Control(NamedTuple):
    control: dict[str, Any]
    families: list[Blob]


def _family_key(config: RunConfig, param: str) -> compute.ConfigKey:
    """The configuration a family over `param` varies: `config` without its own value of it."""
    if param == family.RATE:
        return compute.config_key(replace(config, lr=None))
    hyper = {name: value for name, value in config.hyper.items() if name != param}
    return compute.config_key(replace(config, hyper=hyper))


def _scrub(
    config: RunConfig,
    param: str,
    symbol: str,
    value: float,
    mode: str,
    window: Callable[[], np.ndarray],
    minimum: float | None,
    critical: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Blob | None]:
    """One scrub of a run (over `param`, shown as `symbol`) and its family, over the values
    `window()` gives; no family where classroom mode hides it or the budget refuses it."""
    scrub = {
        "param": param,
        "symbol": symbol,
        "value": value,
        "mode": mode,
        "critical": critical,
        "family": None,
        "index": 0,
        "exact": False,
        "note": None,
    }
    if mode == "hide":
        return scrub, None
    whose = "this run" if param == family.RATE else symbol
    made: Blob | None = None
    try:
        values = window()
        key, members = _family_key(config, param), tuple(float(v) for v in values)
        refusal = family_refusal(key, param, members)
        made = None if refusal is not None else family_blob(key, param, members, minimum)
    except ValueError as error:
        refusal = str(error)
    if made is None:
        scrub["note"] = f"No live scrub for {whose}: {refusal}"
        return scrub, None
    index = family.nearest(values, value, param)
    exact = math.isclose(float(values[index]), value, rel_tol=1e-9)
    scrub |= {"family": made.id, "index": index, "exact": exact}
    return scrub, made


def _control(
    setup: RunSetup, trajectory: Trajectory, color: str, minimum: float | None
) -> _Control:
    """A run's row beside the picture: its outcome, its rate scrub and, for a rule with a
    momentum (`family.momentum_spec`), a scrub of β too."""
    config = setup.config
    assert config is not None
    rule = OPTIMIZERS[config.optimizer]
    lr = float(config.lr if config.lr is not None else rule.lr.default)
    threshold = compute.threshold(config)
    critical = None
    if threshold is not None:
        short = threshold.label.split("=")[0].split("≈")[0].strip()
        critical = {"label": threshold.label, "short": short, "value": threshold.value}
    limit = threshold.value if threshold else None
    scrubs = [
        _scrub(
            config, family.RATE, rule.lr.label, lr, classroom().mode("lr"),
            lambda: _rates(setup.run_id, config, lr, limit), minimum, critical,
        )
    ]  # fmt: skip
    momentum = family.momentum_spec(rule.hyper)
    if momentum is not None:
        beta = float(config.hyper.get(momentum.name, momentum.default))
        scrubs.append(
            _scrub(
                config, momentum.name, momentum.label, beta, classroom().mode("hyper"),
                lambda: family.momentum_window(beta, momentum.high, slider_step(momentum)),
                minimum,
            )
        )  # fmt: skip
    words, tone = outcome_words(trajectory)
    control = {
        "run": setup.run_id,
        "label": setup.label,
        "color": color,
        "words": words,
        "tone": tone,
        "scrubs": [scrub for scrub, _ in scrubs],
    }
    return _Control(control, [made for _, made in scrubs if made is not None])


# Callbacks: each reads its trigger value once, in the rerun it causes.


def _trigger(name: str) -> dict[str, Any] | None:
    """The trigger's value when it is an object (anything else from the page is ignored)."""
    state: Any = st.session_state.get(KEY)
    value = state.get(name) if hasattr(state, "get") else None
    return value if isinstance(value, dict) else None


def _finite(value: Any) -> float | None:
    """`value` as a float when it is a finite JSON number (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def on_rate() -> None:
    """A released scrub: run `run`'s η₀ (or its momentum: `param`, see `family.momentum_spec`)
    becomes `value`, unless classroom mode locks or hides that control."""
    value = _trigger("rate")
    if value is None:
        return
    run, number, param = value.get("run"), _finite(value.get("value")), value.get("param", "lr")
    if type(run) is not int or run not in st.session_state.get("run_ids", [1]) or number is None:
        return
    rule = OPTIMIZERS.get(st.session_state.get(run_key(run, "optimizer"), ""), None)
    if rule is None:
        return
    momentum = family.momentum_spec(rule.hyper)
    keys: tuple[str, ...]
    if param == family.RATE:
        spec, group, keys = rule.lr, "lr", (run_key(run, "lr"), run_key(run, "lr_log"))
    elif momentum is not None and param == momentum.name:
        spec, group, keys = momentum, "hyper", (hyper_key(run, param),)
    else:
        return
    if classroom().mode(group) != "show" or not spec.low <= number <= spec.high:
        return
    for key in keys:
        st.session_state[key] = number


def on_start() -> None:
    """A click on the contour: every run starts there (unless the start is hidden or locked)."""
    value = _trigger("start")
    if classroom().mode("start") != "show" or value is None:
        return
    point = []
    for name in ("x", "y"):
        v = _finite(value.get(name))
        if v is None:
            return
        point.append(coerce(float(f"{v:.4g}"), 0.0, -START_LIMIT, START_LIMIT, "number"))
    st.session_state["x0"], st.session_state["y0"] = (without_float_noise(v) for v in point)


def on_step() -> None:
    """The live view's step slider, its keys or Pause: the inspector shows that step.

    The request's `seq` (increasing in the browser) is echoed back as `step_seq`, so the view
    tells a rerun that has seen its latest step from one that was already on its way."""
    value = _trigger("step")
    if value is None:
        return
    seq = _finite(value.get("seq"))
    if seq is not None:
        st.session_state[STEP_SEQ] = seq
    if classroom().mode("inspector") == "lock":
        return
    step = value.get("step")
    if type(step) is int and step >= 0:
        st.session_state["inspect_step"] = step


# The view.


def show(
    surface: compute.SurfaceRef,
    params: compute.Items,
    show_field: bool,
    ran: Sequence[tuple[RunSetup, Trajectory]],
    drawn: compute.RunsKey,
    step: int,
    lesson: dict[str, object] | None = None,
    present: bool = False,
) -> None:
    """Mount the live view of the drawn runs (`drawn[i]` is the configuration key, label and
    colour of the i-th run that ran, `ran[i]` its setup and trajectory), with the open lesson's
    text (`lessons.lesson_text`) beside the picture."""
    surface_part = surface_blob(surface, params, show_field)
    runs: list[Blob] = []
    controls: list[dict] = []
    families: list[Blob] = []
    the_surface = compute.surface_of(surface)
    minimum = the_surface.minimum_value(dict(params))
    metric_traces, metrics_layer = split_metrics(compute.metrics_spec(drawn, step), len(drawn))
    box = tuple(the_surface.box)
    points = figures.live_path_points(len(drawn))
    for index, ((key, label, color), (setup, trajectory)) in enumerate(
        zip(drawn, ran, strict=True)
    ):
        layer = run_layer(key, label, color, index, box, step or None, points)  # 0: no arrows
        runs.append(blob(layer | {"metrics": metric_traces[index]}))
        made = _control(setup, trajectory, color, minimum)
        controls.append(made.control)
        families.extend(made.families)
    metrics = blob(metrics_layer)
    for slot, part in (
        [("surface", surface_part), ("metrics", metrics)]
        + [(f"run{i}", b) for i, b in enumerate(runs)]
        + [(f"family{i}", b) for i, b in enumerate(families)]
    ):
        blob_component(data=part.wire, key=f"{KEY}-{slot}")
    view_component(
        data={
            "surface": surface_part.id,
            "metrics": metrics.id,
            "runs": [b.id for b in runs],
            "controls": controls,
            "start": classroom().mode("start") == "show",
            "step": step,
            "step_seq": st.session_state.get(STEP_SEQ, 0),
            "frames": FRAMES,
            "frame_ms": figures.FRAME_MS,
            "lesson": lesson,
            "present": present,
        },
        key=KEY,
        on_close_change=lessons.close_lesson,
        on_rate_change=on_rate,
        on_start_change=on_start,
        on_step_change=on_step,
    )
