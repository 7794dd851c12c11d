"""What the live view draws, as JSON payloads: the surface layer, each run, each run's
families (over its learning rate, and over its momentum where it has one) and the metrics
layout, each under an id that hashes its content.

Payloads are float32 typed arrays (ample for drawing), with a step axis sent as x0 + k·dx; a
family holds every member's path sampled to FAMILY_PATH_POINTS and its curves on one shared grid
of steps, with each member's outcome, so the browser can say it in words while a scrub is dragged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any, NamedTuple

import numpy as np
import streamlit as st

from app import compute, figures
from optimizers import cost, family
from optimizers.engine import Trajectory

FAMILY_PATH_POINTS = 150  # per member's path: half by step, half by distance travelled
FAMILY_METRIC_POINTS = 100  # per member's metric curve, on one step grid shared by the family
FAMILY_FIRST_STEPS = 20  # the first steps are all on that grid: oscillations start there
OUTCOME_CODES = {"converged": 0, "diverged": 1, "max_steps": 2}
MAX_DECADES = 14  # a family's log axis spans at most this many decades
METRIC_NAMES = {"learning rate": "lr", "gradient norm": "gnorm"}  # by row title; row 1 is loss


class Blob(NamedTuple):
    """A payload as the page gets it: the id the view asks for it by (a hash of its JSON) and
    `wire`, the id, a newline and the JSON (UTF-8). Bytes travel as they are, where a dict would
    be serialized twice and walked once more on every rerun, and parsed again in the page."""

    id: str
    wire: bytes


def blob(payload: dict[str, Any]) -> Blob:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    digest = hashlib.blake2b(text.encode(), digest_size=10).hexdigest()
    return Blob(digest, f"{digest}\n{text}".encode())


def _float32(spec: Any) -> Any:
    """A float64 typed-array spec as float32 (half the bytes; ample for drawing)."""
    if isinstance(spec, dict) and spec.get("dtype") == "f8":
        values = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.float64)
        lean = figures.typed(np.clip(values, -3e38, 3e38), np.float32)
        if isinstance(lean, dict) and "shape" in spec:
            lean["shape"] = spec["shape"]
        return lean
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


def split_metrics(spec: figures.FigureSpec, count: int) -> tuple[list[list[dict]], dict]:
    """The metrics figure's traces per run (tagged with their run and metric) and the rest."""
    layout = spec.layout  # no template: the plane's is used
    per_run: list[list[dict]] = [[] for _ in range(count)]
    shared: list[dict] = []
    for trace in spec.data:
        group = str(trace.get("legendgroup", ""))
        index = int(group[4:]) if group.startswith("run-") and group[4:].isdigit() else -1
        if 0 <= index < count and trace.get("mode") == "lines" and "name" in trace:
            main = trace.get("line", {}).get("dash") is None  # not a limit or a rate used
            meta = {"run": index, "metric": _metric_name(layout, trace) if main else None}
            per_run[index].append(_lean(trace) | {"meta": meta})
        else:
            shared.append(_lean(trace))
    return per_run, {"traces": shared, "layout": layout}


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=compute.KEY_HASH)
def run_layer(
    key: compute.ConfigKey,
    label: str,
    color: str,
    index: int,
    box: tuple,
    step: int | None,
    points: int = figures.LIVE_PATH_POINTS,
) -> dict:
    """Run `index` of the live plane, its path sampled to `points` (see `figures.live_run`)."""
    trajectory, sentence = compute.run(key)
    view = figures.RunView(label, color, trajectory, sentence)
    layer = figures.live_run(view, index, box, step, points)
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


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=compute.KEY_HASH)
def family_blob(
    key: compute.ConfigKey, param: str, values: tuple[float, ...], minimum: float | None
) -> Blob:
    """The family of `key` over `param` ("lr" or a hyperparameter) at `values`, sampled for
    drawing (see the module docstring)."""
    config = compute.config_from_key(key)
    members = family.run_family(config, np.array(values), param).members
    box = compute.key_surface(key).box
    lo, hi = figures.grown(box)
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
        picks = figures.path_indices(arc, last, FAMILY_PATH_POINTS)
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
        "param": param,
        "values": [float(v) for v in values],
        "points": FAMILY_PATH_POINTS,
        "xy": figures.typed(np.stack(paths), np.float32),
        "last": figures.typed(np.minimum(lasts, FAMILY_PATH_POINTS - 1), np.int32),
        "outcome": figures.typed([OUTCOME_CODES[s.outcome] for s in statuses], np.uint8),
        "event": figures.typed([s.step for s in statuses], np.int32),
        "final": figures.typed([_final_loss(m) for m in members], np.float32),
        "metric_steps": figures.typed(grid, np.int32),
        "metrics": {
            name: figures.typed(np.clip(values, -3e38, 3e38), np.float32)
            for name, values in (("loss", loss), ("lr", lr), ("gnorm", gnorm))
        },
        "ranges": {
            "loss": _log_range(loss, loss[:, 0]),
            "lr": _log_range(lr, lr.max(axis=1) / 10**figures.HEADROOM_DECADES),
            "gnorm": _log_range(gnorm, gnorm[:, 0]),
        },
    }
    return blob(payload)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=compute.KEY_HASH)
def family_refusal(key: compute.ConfigKey, param: str, values: tuple[float, ...]) -> str | None:
    """Why the family of `key` over `param` at `values` would be over the budget (None: it fits)."""
    config = compute.config_from_key(key)
    return cost.race_refusal([family.member(config, param, value) for value in values])


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
