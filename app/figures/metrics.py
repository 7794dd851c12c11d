"""The metrics figure: loss above the minimum, the applied rate η_k (with stability thresholds
and the rates self-setting rules used), the gradient norm and the sharpness λ_max, one row each
against the step, one colour per run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from app.figures.geometry import decimated
from app.figures.log_axes import axis_type, capped_range, log_ticks, padded_range
from app.figures.style import TOP_LEGEND, RunView, escape
from app.figures.transport import FigureSpec, SpecFigure, array_of, typed
from optimizers.sharpness import Sharpness

METRIC_POINTS = 2000  # per metric curve, by min-max decimation
METRIC_GAP = 0.05  # the gap between two metric rows, as a share of the figure
METRIC_ROW_PX = 180  # the metrics figure's height per row
SHARPNESS_TITLE = "sharpness λ_max<br>of ∇²L at w_k"
LOSS_FLOOR = 1e-16  # f − f* at or below this × max(1, |f*|) is the minimum to machine precision
LOSS_OFFSET = 1e-6  # f* unknown: the reference is the lowest loss less this × the loss's drop


class Threshold(NamedTuple):
    """A learning rate to compare η_k with, drawn dashed on the η_k panel: a rule's stability
    limit, e.g. Threshold("2/λ_max = 0.2", 0.2)."""

    label: str
    value: float


class MetricRow(NamedTuple):
    """One row of the metrics figure: its title, one curve per run, the curves' steps (None:
    0, 1, …), values its axis must also show (thresholds, rates used) and the hover text."""

    title: str
    series: Sequence[np.ndarray]
    steps: Sequence[np.ndarray] | None
    shown: Sequence[np.ndarray]
    hover: str


class LossGap(NamedTuple):
    """The loss panel's curves f − reference on a log axis, and its title."""

    series: list[np.ndarray]
    title: str


def _loss_gap(losses: Sequence[np.ndarray], minimum: float | None) -> LossGap:
    """f − f* where the minimum f* is known; else f − (f_low − δ), with f_low the lowest loss
    seen and δ = LOSS_OFFSET × (highest start − f_low), so the lowest point sits at δ. Gaps at
    or below LOSS_FLOOR × max(1, |reference|) (the minimum reached, rounding, exact zeros) are
    drawn at that floor: every point stays on the log axis."""
    if minimum is not None:
        reference, title = minimum, "loss above the minimum<br>f − f*"
    else:
        finite = [s[np.isfinite(s)] for s in losses]
        finite = [f for f in finite if len(f)]
        low = min((f.min() for f in finite), default=0.0)
        drop = max((f[0] for f in finite), default=low) - low
        delta = LOSS_OFFSET * (drop if drop > 0 else max(1.0, abs(low)))
        reference = low - delta
        title = f"loss above the lowest seen<br>less δ = {delta:.2g} (f* unknown)"
    floor = LOSS_FLOOR * max(1.0, abs(reference))
    return LossGap([np.maximum(s - reference, floor) for s in losses], title)


def _threshold_trace(threshold: Threshold, color: str, rates: np.ndarray, last_step: int) -> dict:
    """A dashed horizontal line at the threshold across the η_k panel (steps 0 … last_step),
    labelled at its right end on the side away from the run's rates `rates` (clear of its
    curve): inside the panel, whose range leaves room beyond the line (see
    `log_axes.padded_range`)."""
    below = bool(np.nanmax(rates, initial=-np.inf) <= threshold.value)
    return {
        "type": "scatter",
        "x": [0, last_step],
        "y": [threshold.value, threshold.value],
        "xaxis": "x2",
        "yaxis": "y2",
        "mode": "lines+text",
        "text": ["", escape(threshold.label)],
        "textposition": "top left" if below else "bottom left",
        "cliponaxis": False,
        "textfont": {"color": color, "size": 11},
        "name": threshold.label,
        "showlegend": False,
        "line": {"color": color, "width": 1.2, "dash": "dash"},
        "hovertemplate": f"{escape(threshold.label)}<extra></extra>",
    }


class _SharpnessCurves(NamedTuple):
    """The sharpness row per run: finite λ_max values, their steps, finite limit values."""

    values: list[np.ndarray]
    steps: list[np.ndarray]
    limits: list[np.ndarray]


def _sharpness_curves(sharpness: Sequence[Sharpness | None], count: int) -> _SharpnessCurves:
    """The finite part of each of `count` runs' sharpness (empty where it has none)."""
    none = Sharpness(np.empty(0, int), np.empty(0), np.empty(0), "", -1)
    given = [*sharpness, *[None] * count][:count]
    sharps = [none if sharp is None else sharp for sharp in given]
    finite = [np.isfinite(sharp.lambda_max) for sharp in sharps]
    return _SharpnessCurves(
        [sharp.lambda_max[kept] for sharp, kept in zip(sharps, finite, strict=True)],
        [sharp.steps[kept] for sharp, kept in zip(sharps, finite, strict=True)],
        [sharp.limit[np.isfinite(sharp.limit)] for sharp in sharps],
    )


def _steps_of_changes(values: np.ndarray) -> np.ndarray:
    """Indices of the finite values that draw a step curve: both ends of every run of equal
    values (2 for a constant), min-max decimated to METRIC_POINTS where more."""
    finite = np.flatnonzero(np.isfinite(values))
    if not len(finite):
        return finite
    ends = np.flatnonzero(np.diff(values[finite]) != 0)
    kept = finite[np.unique(np.concatenate([[0], ends, ends + 1, [len(finite) - 1]]))]
    return kept if len(kept) <= METRIC_POINTS else kept[decimated(values[kept], METRIC_POINTS)]


def _sharpness_marks(
    runs: Sequence[RunView], sharpness: Sequence[Sharpness | None], suffix: str
) -> list[dict]:
    """Each run's limit c/η_k dashed in its colour on the sharpness row, and ✕ at its crossing
    (at λ_max there, or on the line where λ_max is not finite; the hover names the step)."""
    traces: list[dict] = []
    for index, (run, sharp) in enumerate(zip(runs, sharpness, strict=False)):
        if sharp is None:
            continue
        label, formula = escape(run.label), escape(sharp.formula)
        kept = _steps_of_changes(sharp.limit)
        common: dict[str, object] = {
            "type": "scatter",
            "xaxis": f"x{suffix}",
            "yaxis": f"y{suffix}",
        }
        traces.append(
            common
            | {
                "x": typed(kept, np.int32),
                "y": typed(sharp.limit[kept]),
                "mode": "lines",
                "name": f"{run.label}: {sharp.formula}",
                "legendgroup": f"run-{index}",
                "showlegend": False,
                "line": {"color": run.color, "width": 1.2, "dash": "dash"},
                "hovertemplate": f"{label}<br>step %{{x}}: {formula} = %{{y:.4g}}<extra></extra>",
            }
        )
        if sharp.crossing >= 0:
            value = float(sharp.lambda_max[np.searchsorted(sharp.steps, sharp.crossing)])
            traces.append(
                common
                | {
                    "x": [sharp.crossing],
                    "y": [value if math.isfinite(value) else float(sharp.limit[sharp.crossing])],
                    "mode": "markers",
                    "name": f"{run.label}: crossing",
                    "legendgroup": f"run-{index}",
                    "showlegend": False,
                    "marker": {"symbol": "x", "size": 11, "color": run.color},
                    "hovertemplate": (
                        f"{label}<br>from step %{{x}} λ_max = %{{y:.4g}} stayed above "
                        f"{formula} up to the divergence<extra></extra>"
                    ),
                }
            )
    return traces


USED_RATES = {  # a self-setting rule's state entry → how to read the step it used from it
    "step_size": "the step size it used",
    "step_scale": "the step scale it used",
    "d": "D·η_k, the rate it used",
}


def _used_rate_traces(runs: Sequence[RunView]) -> list[dict]:
    """On the η_k row, dotted, the rate a rule that sets its own step actually used (the
    accepted line-search step, Polyak's step, DoG's scale, D-Adaptation's and Prodigy's D·η_k),
    next to the scheduled η_k it was given."""
    traces: list[dict] = []
    for index, run in enumerate(runs):
        for name, words in USED_RATES.items():
            if name not in run.trajectory.state:
                continue
            values = np.asarray(run.trajectory.state[name], dtype=np.float64)[:, 0]
            if name == "d":
                values = values * np.asarray(run.trajectory.lr, dtype=np.float64)
            kept = decimated(values, METRIC_POINTS)
            traces.append(
                {
                    "type": "scatter",
                    "x": typed(kept, np.int32),
                    "y": typed(values[kept]),
                    "xaxis": "x2",
                    "yaxis": "y2",
                    "mode": "lines",
                    "name": f"{run.label}: {words}",
                    "legendgroup": f"run-{index}",
                    "showlegend": False,
                    "line": {"color": run.color, "width": 1.6, "dash": "dot"},
                    "hovertemplate": f"{escape(run.label)}<br>step %{{x}}: {words} = %{{y:.4g}}"
                    "<extra></extra>",
                }
            )
    return traces


def metrics_figure(runs: Sequence[RunView], step: int | None = None, **options: Any) -> go.Figure:
    """`metrics_spec(runs, step, **options)` as a go.Figure."""
    return SpecFigure(*metrics_spec(runs, step, **options))


def metrics_spec(
    runs: Sequence[RunView],
    step: int | None = None,
    *,
    minimum: float | None = None,
    thresholds: Sequence[Threshold | None] = (),
    sharpness: Sequence[Sharpness | None] = (),
) -> FigureSpec:
    """Loss above the minimum, applied learning rate η_k, gradient norm and, where `sharpness`
    is given, the sharpness λ_max against the step, one colour per run.

    The loss panel shows f − f* on a log axis (`minimum` is the surface's f*; see `_loss_gap`
    where it is unknown), its hover the loss f itself. η_k uses a log axis when all its values
    are positive, else a linear one; `thresholds[r]` (None: none) draws run r's stability limit
    on η as a dashed line. The gradient norm is always on a log axis; exact zeros drop out.
    `sharpness[r]` (None: no curve) adds the row "sharpness": λ_max(∇²L(w_k)) at its sampled
    steps, with its rule's limit (2/η_k for GD) dashed in the run's colour and, where the run
    diverged, ✕ at its crossing (see `optimizers.sharpness`); a row with every value positive
    is on a log axis, else a linear one.
    A diverging run leaves through the top of the axes (see `log_axes.capped_range`). Curves longer
    than METRIC_POINTS are min-max decimated.
    Plotly cannot drive one animation across two figures, so this figure is not animated: a
    dotted vertical line marks `step`, which the caller keeps in sync with the contour slider.
    """
    losses = [np.asarray(run.trajectory.loss, dtype=np.float64) for run in runs]
    gap = _loss_gap(losses, minimum)
    rates = [np.asarray(run.trajectory.lr, dtype=np.float64) for run in runs]
    limits = [
        t if t is not None and math.isfinite(t.value) and t.value > 0 else None for t in thresholds
    ]
    marks = [np.array([t.value]) for t in limits if t is not None]
    used = _used_rate_traces(runs)
    marks += [array_of(trace["y"]) for trace in used]  # the rates the rules used show too
    norms = [r.trajectory.grad_norm for r in runs]
    rows = [
        MetricRow(gap.title, gap.series, None, [], "f = %{customdata:.6g}"),
        MetricRow("learning rate η_k", rates, None, marks, "η_k = %{y:.4g}"),
        MetricRow("gradient norm ‖g‖", norms, None, [], "‖g‖ = %{y:.4g}"),
    ]
    sharp = _sharpness_curves(sharpness, len(runs)) if sharpness else None
    if sharp is not None:
        rows.append(
            MetricRow(SHARPNESS_TITLE, sharp.values, sharp.steps, sharp.limits, "λ_max = %{y:.4g}")
        )
    height = (1.0 - (len(rows) - 1) * METRIC_GAP) / len(rows)
    data: list[dict] = []
    layout: dict = {
        "height": METRIC_ROW_PX * len(rows) + 20,
        "margin": {"l": 10, "r": 10, "t": 36, "b": 10},
        "legend": TOP_LEGEND,
        "hovermode": "x unified",
        "uirevision": "metrics",
        "shapes": [],
    }
    for row, (title, series, steps, shown, hover) in enumerate(rows, start=1):
        suffix = "" if row == 1 else str(row)
        series = [np.asarray(values, dtype=np.float64) for values in series]
        linear = row in (2, 4) and axis_type([*series, *shown]) == "linear"
        kind = "linear" if linear else "log"
        for index, (run, values) in enumerate(zip(runs, series, strict=True)):
            kept = decimated(values, METRIC_POINTS)
            trace = {
                "type": "scatter",
                "x": typed(kept if steps is None else steps[index][kept], np.int32),
                "y": typed(values[kept]),
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "mode": "lines",
                "name": run.label,
                "legendgroup": f"run-{index}",
                "showlegend": row == 1,
                "line": {"color": run.color, "width": 1.8},
                "hovertemplate": f"{escape(run.label)}<br>step %{{x}}: {hover}<extra></extra>",
            }
            if row == 1:  # the loss itself, for the hover
                trace["customdata"] = typed(losses[index][kept])
            data.append(trace)
        y_range = capped_range([*series, *shown], kind == "log")
        if y_range is None and shown and kind == "log":  # the thresholds clear of the edges
            y_range = padded_range([*series, *shown])
        top = 1.0 - (row - 1) * (height + METRIC_GAP)  # rows stacked from the top
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "domain": [max(top - height, 0.0), top],
            "type": kind,
            "title": {"text": title, "font": {"size": 12}},
            "exponentformat": "power",
        }
        if y_range is not None:
            layout[f"yaxis{suffix}"]["range"] = y_range
        if kind == "log":
            below = "→ 0" if row == 2 else None  # a rate decayed below the floor
            layout[f"yaxis{suffix}"] |= log_ticks([*series, *shown], y_range, below)
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [0.0, 1.0]}
        if row < len(rows):  # one step axis, labelled on the bottom row
            layout[f"xaxis{suffix}"] |= {"matches": f"x{len(rows)}", "showticklabels": False}
        else:
            layout[f"xaxis{suffix}"]["title"] = {"text": "step"}
        if step is not None:
            layout["shapes"].append(
                {
                    "type": "line",
                    "xref": f"x{suffix}",
                    "yref": f"y{suffix} domain",
                    "x0": step,
                    "x1": step,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#555", "width": 1, "dash": "dot"},
                }
            )
    # After every curve, so that trace row × runs + run stays run's curve in that row; a
    # caller without thresholds leaves them out (zip stops at the shorter).
    last_step = max((len(rate) - 1 for rate in rates), default=1)
    for run, rate, limit in zip(runs, rates, limits, strict=False):
        if limit is not None:
            data.append(_threshold_trace(limit, run.color, rate, max(last_step, 1)))
    data.extend(used)
    if sharp is not None:
        data.extend(_sharpness_marks(runs, sharpness, suffix=str(len(rows))))
    return FigureSpec(data, layout)
