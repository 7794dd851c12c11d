"""The race's live view: contour, paths, metric curves, Play / Pause and a learning-rate scrub
per run, drawn by plotly.js in the browser (app/static/descent-live.js).

What changes is shipped apart from what does not. Each payload (the surface layer, a run, a
run's learning-rate family, the metrics layout) goes to the page in its own small "blob"
component under an id that hashes its content; Streamlit does not resend an element the browser
already holds (its message cache, for elements ≥ `global.minCachedMessageSize`), so a committed
learning-rate change ships the changed run and a few kilobytes, not the surface again. The view
component's own data only names the ids it draws.

While a rate slider is dragged, the browser swaps the run for the member of its family
(`optimizers.family`: the same configuration at ~70 rates, one vmapped engine call) nearest the
slider; on release the member's rate is committed through `on_rate_change`, exactly as a typed
rate. Clicks on the contour (`on_start_change`) and the step slider (`on_step_change`) arrive
the same way, as trigger values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import plotly
import streamlit as st

from app import compute, figures, lessons
from app.assets import STATIC, ensure_plotly_asset
from app.controls import RunSetup, classroom
from app.state import OPTIMIZERS, START_LIMIT, coerce, run_key
from optimizers import cost, family
from optimizers.engine import RunConfig, Trajectory
from surfaces.formula import without_float_noise

KEY = "live"
LIVE_JS = STATIC / "descent-live.js"
FAVICON = STATIC / "favicon.svg"
FAMILY_PATH_POINTS = 150  # per member's path: half by step, half by distance travelled
FAMILY_METRIC_POINTS = 100  # per member's metric curve, on one step grid shared by the family
FAMILY_FIRST_STEPS = 20  # the first steps are all on that grid: oscillations start there
FRAMES = figures.MAX_FRAMES
OUTCOME_CODES = {"converged": 0, "diverged": 1, "max_steps": 2}
MAX_DECADES = 14  # a family's log axis spans at most this many decades
METRIC_NAMES = {"learning rate": "lr", "gradient norm": "gnorm"}  # by row title; row 1 is loss


def _version() -> str:
    digest = hashlib.blake2b(LIVE_JS.read_bytes(), digest_size=6)
    digest.update((STATIC / "descent-live.css").read_bytes())
    digest.update(plotly.__version__.encode())
    return digest.hexdigest()


_VIEW_JS = """
const VERSION = "VERSION_HASH";
function load(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src + "?v=" + VERSION;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(script);
  });
}
export default function (component) {
  if (!window.__descentLiveLoading) {
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "./app/static/descent-live.css?v=" + VERSION;
    document.head.appendChild(style);
  }
  window.__descentLiveLoading = window.__descentLiveLoading ||
    (window.Plotly ? Promise.resolve() : load("./app/static/plotly.min.js"))
      .then(() => window.DescentLive || load("./app/static/descent-live.js"));
  window.__descentLiveLoading.then(() => window.DescentLive.render(component));
}
""".replace("VERSION_HASH", _version())

_BLOB_JS = """
export default function ({ parentElement, data }) {
  const store = window.__descentLiveStore || (window.__descentLiveStore = { blobs: new Map() });
  const box = parentElement.closest && parentElement.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
  store.blobs.set(data.id, data.payload);
  window.dispatchEvent(new CustomEvent("descent-live-blob"));
}
"""

_PAGE_CSS = (STATIC / "page.css").read_text()
_PRESENT_CSS = (STATIC / "present.css").read_text()


def page_css(present: bool) -> str:
    """The page's own style: a compact header, and presenter mode's large type."""
    return f"<style>{_PAGE_CSS}{_PRESENT_CSS if present else ''}</style>"


# The style and script are static files (cached by the browser), not sent with every rerun.
_view = st.components.v2.component("descent_live", js=_VIEW_JS, isolate_styles=False)
_blob = st.components.v2.component("descent_live_blob", js=_BLOB_JS, isolate_styles=False)


class Blob(NamedTuple):
    """A payload and the id the view asks for it by (a hash of its JSON)."""

    id: str
    payload: dict[str, Any]


def blob(payload: dict[str, Any]) -> Blob:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return Blob(hashlib.blake2b(text.encode(), digest_size=10).hexdigest(), payload)


def _float32(spec: Any) -> Any:
    """A float64 typed-array spec as float32 (half the bytes; ample for drawing)."""
    if isinstance(spec, dict) and spec.get("dtype") == "f8":
        values = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.float64)
        return figures._typed(np.clip(values, -3e38, 3e38), np.float32) | (
            {"shape": spec["shape"]} if "shape" in spec else {}
        )
    return spec


def _lean(trace: dict) -> dict:
    """A trace with float32 data, and x as x0 + k·dx where x is the steps 0 … n − 1."""
    lean = {k: _float32(v) if k in ("x", "y", "customdata") else v for k, v in trace.items()}
    x = lean.get("x")
    if isinstance(x, dict) and x.get("dtype") in ("i4", "f4"):
        steps = figures.array_of(x)
        if np.array_equal(steps, np.arange(len(steps))):
            del lean["x"]
            lean |= {"x0": 0, "dx": 1}
    return lean


# Payloads.


@st.cache_resource(show_spinner=False, max_entries=32)
def surface_blob(surface: compute.SurfaceRef, params: compute.Items, show_field: bool) -> Blob:
    the_surface = compute.surface_of(surface)
    field = compute.gradient_field(surface, params) if show_field else None
    view = figures.live_surface(
        compute.surface_grid(surface, params),
        the_surface,
        the_surface.critical_points(dict(params)),
        compute.surface_layer(surface, params),
        field=field,
    )
    equal = "scaleanchor" in view.layout.get("yaxis", {})
    return blob(
        {
            "traces": view.traces,
            "before_runs": view.before_runs,
            "layout": view.layout,
            "hover": view.hover,
            "box": list(the_surface.box),
            "equal_axes": equal,
        }
    )


def _metric_name(layout: dict, trace: dict) -> str | None:
    axis = layout.get("yaxis" + trace.get("yaxis", "y")[1:], {})
    title = str(axis.get("title", {}).get("text", ""))
    if trace.get("yaxis", "y") == "y":
        return "loss"
    return next((name for prefix, name in METRIC_NAMES.items() if title.startswith(prefix)), None)


def _split_metrics(figure: Any, count: int) -> tuple[list[list[dict]], dict]:
    """The metrics figure's traces per run (tagged with their run and metric) and the rest."""
    spec = figure.to_dict()
    layout = {k: v for k, v in spec["layout"].items() if k != "template"}  # the plane's is used
    per_run: list[list[dict]] = [[] for _ in range(count)]
    shared: list[dict] = []
    for trace in spec["data"]:
        group = str(trace.get("legendgroup", ""))
        index = int(group[4:]) if group.startswith("run-") and group[4:].isdigit() else -1
        if 0 <= index < count and trace.get("mode") == "lines" and "name" in trace:
            main = trace.get("line", {}).get("dash") is None  # not a limit or a rate used
            meta = {"run": index, "metric": _metric_name(layout, trace) if main else None}
            per_run[index].append(_lean(trace) | {"meta": meta})
        else:
            shared.append(_lean(trace))
    return per_run, {"traces": shared, "layout": layout}


@st.cache_resource(show_spinner=False, max_entries=64)
def _run_layer(
    key: compute.ConfigKey, label: str, color: str, index: int, box: tuple, step: int | None
) -> dict:
    trajectory, sentence = compute.run(key)
    view = figures.RunView(label, color, trajectory, sentence)
    layer = figures.live_run(view, index, box, step)
    return {
        "plane": [_lean(t) for t in layer.plane],
        "exit": layer.exit,
        "annotations": layer.annotations,
        "anim": layer.anim,
        "last_step": layer.last_step,
    }


def _sampled_steps(steps: int) -> np.ndarray:
    first = np.arange(min(FAMILY_FIRST_STEPS, steps + 1))
    rest = np.linspace(0, steps, FAMILY_METRIC_POINTS - len(first)).round().astype(int)
    return np.union1d(first, rest)


def _loss_gap(loss: np.ndarray, minimum: float | None, low: float) -> np.ndarray:
    reference = minimum if minimum is not None else low - 1e-6 * max(abs(low), 1.0)
    return np.maximum(loss - reference, figures.LOSS_FLOOR * max(1.0, abs(reference)))


def _log_range(values: np.ndarray, starts: np.ndarray) -> list[float] | None:
    """log10 range of a family's curves: down to the lowest, up to HEADROOM_DECADES above the
    highest start (a diverging member leaves through the top, as on the committed axes)."""
    finite = values[np.isfinite(values) & (values > 0)]
    tops = starts[np.isfinite(starts) & (starts > 0)]
    if not finite.size or not tops.size:
        return None
    top = min(math.log10(tops.max()) + figures.HEADROOM_DECADES, math.log10(finite.max()) + 0.2)
    return [max(math.log10(finite.min()) - 0.2, top - MAX_DECADES), top]


@st.cache_data(show_spinner=False, max_entries=32)
def family_blob(
    key: compute.ConfigKey, rates: tuple[float, ...], minimum: float | None
) -> tuple[str, dict]:
    """The family of `key` at `rates`, sampled for drawing (see the module docstring)."""
    config = compute.config_from_key(key)
    members = family.run_family(config, np.array(rates)).members
    box = config.surface.box
    lo, hi = figures._grown(box)
    span = np.array([hi[0] - lo[0], hi[1] - lo[1]])
    paths, lasts = [], []
    for member in members:
        positions = np.asarray(member.positions, dtype=np.float64).reshape(-1, 2)
        last = len(positions) - 1
        lasts.append(max(last, 0))
        if last < 0:
            paths.append(np.full((FAMILY_PATH_POINTS, 2), np.nan))
            continue
        moves = np.linalg.norm(np.diff(np.clip(positions, lo, hi), axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(moves)])
        picks = figures._path_indices(arc, last, FAMILY_PATH_POINTS)
        picks = np.concatenate([picks, np.full(FAMILY_PATH_POINTS - len(picks), picks[-1])])
        paths.append(np.clip(positions[picks], lo - 2 * span, hi + 2 * span))
    grid = _sampled_steps(config.steps)
    low = min(float(np.min(m.loss)) for m in members if len(m.loss))

    def sampled(values: np.ndarray) -> np.ndarray:
        out = np.full(len(grid), np.nan)
        kept = grid < len(values)
        out[kept] = values[grid[kept]]
        return out

    loss = np.stack([sampled(_loss_gap(np.asarray(m.loss), minimum, low)) for m in members])
    lr = np.stack([sampled(np.asarray(m.lr)) for m in members])
    gnorm = np.stack([sampled(np.asarray(m.grad_norm)) for m in members])
    statuses = [m.status for m in members]
    payload = {
        "rates": [float(r) for r in rates],
        "points": FAMILY_PATH_POINTS,
        "xy": figures._typed(np.stack(paths), np.float32),
        "last": figures._typed(np.minimum(lasts, FAMILY_PATH_POINTS - 1), np.int32),
        "outcome": figures._typed([OUTCOME_CODES[s.outcome] for s in statuses], np.uint8),
        "event": figures._typed([s.step for s in statuses], np.int32),
        "final": figures._typed([_final_loss(m) for m in members], np.float32),
        "metric_steps": figures._typed(grid, np.int32),
        "metrics": {
            name: figures._typed(np.clip(values, -3e38, 3e38), np.float32)
            for name, values in (("loss", loss), ("lr", lr), ("gnorm", gnorm))
        },
        "ranges": {
            "loss": _log_range(loss, loss[:, 0]),
            "lr": _log_range(lr, lr.max(axis=1) / 10**figures.HEADROOM_DECADES),
            "gnorm": _log_range(gnorm, gnorm[:, 0]),
        },
    }
    made = blob(payload)
    return made.id, made.payload


@st.cache_data(show_spinner=False, max_entries=256)
def family_refusal(key: compute.ConfigKey, rates: tuple[float, ...]) -> str | None:
    """Why the family of `key` at `rates` would be over the budget (None: it fits)."""
    config = compute.config_from_key(key)
    return cost.race_refusal([replace(config, lr=rate) for rate in rates])


def _final_loss(trajectory: Trajectory) -> float:
    """f at the last kept step, within float32's range (NaN: no step kept)."""
    return float(np.clip(trajectory.loss[-1], -3e38, 3e38)) if len(trajectory.loss) else math.nan


def outcome_words(trajectory: Trajectory) -> tuple[str, str]:
    """A run's outcome in a few words, as a scrubbed member says it (app/static/descent-live.js
    `Family.words`), and its tone: "converges at step 41 · f = 3.1e-12", "good"."""
    status, final = trajectory.status, _final_loss(trajectory)
    ending = f" · f = {final:.3g}" if math.isfinite(final) else ""
    if status.outcome == "max_steps":
        return f"still moving after {status.step} steps{ending}", "open"
    verb = "converges" if status.outcome == "converged" else "diverges"
    return f"{verb} at step {status.step}{ending}", "good" if verb == "converges" else "bad"


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
    family: Blob | None


def _control(setup: RunSetup, trajectory: Trajectory, color: str, minimum: float | None):
    config = setup.config
    assert config is not None
    lr = float(config.lr if config.lr is not None else OPTIMIZERS[config.optimizer].lr.default)
    threshold = compute.threshold(config)
    critical = None
    if threshold is not None:
        short = threshold.label.split("=")[0].split("≈")[0].strip()
        critical = {"label": threshold.label, "short": short, "value": threshold.value}
    words, tone = outcome_words(trajectory)
    control = {
        "run": setup.run_id,
        "label": setup.label,
        "color": color,
        "mode": classroom().mode("lr"),
        "rate": lr,
        "critical": critical,
        "words": words,
        "tone": tone,
        "family": None,
        "index": 0,
        "exact": False,
        "note": None,
    }
    if control["mode"] == "hide":
        return _Control(control, None)
    rates = _rates(setup.run_id, config, lr, threshold.value if threshold else None)
    key = compute.config_key(replace(config, lr=None))
    refusal = family_refusal(key, tuple(float(r) for r in rates))
    if refusal is not None:
        control["note"] = f"No live scrub for this run: {refusal}"
        return _Control(control, None)
    try:
        made = Blob(*family_blob(key, tuple(float(r) for r in rates), minimum))
    except ValueError as error:
        control["note"] = f"No live scrub for this run: {error}"
        return _Control(control, None)
    index = family.nearest(rates, lr)
    exact = math.isclose(float(rates[index]), lr, rel_tol=1e-9)
    control |= {"family": made.id, "index": index, "exact": exact}
    return _Control(control, made)


# Callbacks: each reads its trigger value once, in the rerun it causes.


def _trigger(name: str) -> Any:
    state = st.session_state.get(KEY)
    return state.get(name) if isinstance(state, dict) or hasattr(state, "get") else None


def on_rate() -> None:
    """A released rate slider: run `run`'s η₀ becomes `value` (unless locked or hidden)."""
    value = _trigger("rate")
    if classroom().mode("lr") != "show" or not isinstance(value, dict):
        return
    run, rate = value.get("run"), value.get("value")
    ids = st.session_state.get("run_ids", [1])
    number = isinstance(rate, int | float) and not isinstance(rate, bool)
    if type(run) is not int or run not in ids or not number or not math.isfinite(rate):
        return
    spec = OPTIMIZERS.get(st.session_state.get(run_key(run, "optimizer"), ""), None)
    if spec is None or not spec.lr.low <= rate <= spec.lr.high:
        return
    st.session_state[run_key(run, "lr")] = float(rate)
    st.session_state[run_key(run, "lr_log")] = float(rate)


def on_start() -> None:
    """A click on the contour: every run starts there (unless the start is hidden or locked)."""
    value = _trigger("start")
    if classroom().mode("start") != "show" or not isinstance(value, dict):
        return
    point = []
    for name in ("x", "y"):
        v = value.get(name)
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            return
        point.append(coerce(float(f"{v:.4g}"), 0.0, -START_LIMIT, START_LIMIT, "number"))
    st.session_state["x0"], st.session_state["y0"] = (without_float_noise(v) for v in point)


def on_step() -> None:
    """The live view's step slider or Pause: the inspector shows that step."""
    value = _trigger("step")
    if classroom().mode("inspector") == "lock" or not isinstance(value, dict):
        return
    step = value.get("step")
    if type(step) is int and step >= 0:
        st.session_state["inspect_step"] = step


# The view.


def show(
    surface: compute.SurfaceRef,
    params: compute.Items,
    show_field: bool,
    setups: Sequence[RunSetup],
    drawn: compute.RunsKey,
    step: int,
    lesson: dict[str, object] | None = None,
    present: bool = False,
) -> None:
    """Mount the live view of the drawn runs (`drawn[i]` is the configuration, label and colour
    of the i-th run of `setups` that has a configuration and ran), with the open lesson's text
    (`lessons.lesson_text`) beside the picture."""
    ensure_plotly_asset()
    surface_part = surface_blob(surface, params, show_field)
    by_key = {compute.config_key(s.config): s for s in setups if s.config is not None}
    runs: list[Blob] = []
    controls: list[dict] = []
    families: list[Blob] = []
    the_surface = compute.surface_of(surface)
    minimum = the_surface.minimum_value(dict(params))
    metric_traces, metrics_layer = _split_metrics(compute.metrics_figure(drawn, step), len(drawn))
    box = tuple(the_surface.box)
    for index, (key, label, color) in enumerate(drawn):
        layer = _run_layer(key, label, color, index, box, step or None)  # 0: no arrows
        runs.append(blob(layer | {"metrics": metric_traces[index]}))
        made = _control(by_key[key], compute.run(key)[0], color, minimum)
        controls.append(made.control)
        if made.family is not None:
            families.append(made.family)
    metrics = blob(metrics_layer)
    for slot, part in (
        [("surface", surface_part), ("metrics", metrics)]
        + [(f"run{i}", b) for i, b in enumerate(runs)]
        + [(f"family{i}", b) for i, b in enumerate(families)]
    ):
        _blob(data={"id": part.id, "payload": part.payload}, key=f"{KEY}-{slot}")
    _view(
        data={
            "surface": surface_part.id,
            "metrics": metrics.id,
            "runs": [b.id for b in runs],
            "controls": controls,
            "start": classroom().mode("start") == "show",
            "step": step,
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
