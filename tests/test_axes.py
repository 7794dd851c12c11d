"""Plots a class can read: no log axis spans more than ~14 decades (a converging run's loss,
a decayed rate or a sweep's final loss leaves through a floor marked "below 1e-12" / "→ 0"
instead of stretching the axis to 1e-270), and every lesson's critical rate (2/λ_max, or the
rule's threshold) is drawn wherever a rate is shown: the η_k panel, the LR sweep and the range
test. Each lesson's figures are built by the functions the app calls, at the view settings'
defaults; the thresholds are checked against a central-difference Hessian in NumPy."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np
import pytest

from app import compute, figures
from app.analysis import cache as analysis_view
from app.figures import FLOOR_DECADES, MAX_DECADES, RunView, array_of, metrics_figure
from app.figures import analysis as analysis_figures
from app.lessons import LESSONS
from app.state import configs
from app.views import SETTINGS
from optimizers import analysis
from optimizers.engine import RunConfig, Status, Trajectory
from surfaces import get_surface

DEFAULTS = {spec.name: spec.default for spec in SETTINGS}
PAD = 0.03  # the share of an axis's span added above its top
LONGEST = MAX_DECADES * (1 + PAD)  # ~14 decades, with the room above the top curve


@functools.cache
def race_runs(key: str) -> compute.RunsKey:
    """The lesson's runs as the page draws them: (configuration key, label, colour)."""
    return tuple(
        (compute.config_key(config), f"run {index}", figures.PALETTE[index])
        for index, config in enumerate(configs(LESSONS[key].state))
    )


@functools.cache
def lesson_figures(key: str) -> dict[str, dict]:
    """The lesson's metrics figure and, for its first run (the analysis views' default), the
    LR sweep's and the range test's rate plots, at the settings' defaults, as plain dicts."""
    runs = race_runs(key)
    first = runs[0][0]
    lr = configs(LESSONS[key].state)[0].lr
    sweep = analysis_view.cached_sweep(
        first, DEFAULTS["lr_low"], DEFAULTS["lr_high"], int(DEFAULTS["sweep_rates"])
    )
    test = analysis_view.cached_range_test(
        first, DEFAULTS["range_low"], DEFAULTS["range_high"], int(DEFAULTS["range_steps"])
    )
    return {
        "metrics": compute.metrics_spec(runs, 0)._asdict(),
        "sweep": analysis_figures.sweep_figure(sweep, lr).to_dict(),
        "range": analysis_figures.range_curve_figure(test, compute.critical(first)).to_dict(),
    }


def log_axes(figure: dict) -> Iterator[tuple[str, dict, np.ndarray]]:
    """Each log y axis's name, settings and the positive finite values drawn on it."""
    for name, axis in figure["layout"].items():
        if name.startswith("yaxis") and axis.get("type") == "log":
            ref = "y" + name.removeprefix("yaxis")
            drawn = [
                array_of(trace["y"]).astype(np.float64)
                for trace in figure["data"]
                if trace.get("yaxis", "y") == ref and trace.get("y") is not None
            ]
            values = np.concatenate(drawn) if drawn else np.array([])
            yield name, axis, values[np.isfinite(values) & (values > 0)]


def decades_shown(axis: dict, values: np.ndarray) -> float:
    """The decades the axis spans: its range where set, else (autorange) its values'."""
    if "range" in axis:
        return axis["range"][1] - axis["range"][0]
    return math.log10(values.max() / values.min()) if len(values) else 0.0


@pytest.mark.parametrize("key", list(LESSONS))
def test_no_log_axis_spans_more_than_fourteen_decades_in_any_lesson(key: str) -> None:
    for figure_name, figure in lesson_figures(key).items():
        for name, axis, values in log_axes(figure):
            assert decades_shown(axis, values) <= LONGEST, (figure_name, name)


def test_the_lessons_need_the_floor() -> None:
    """Without it, several lessons' axes would span far more than 14 decades (cliff's ‖g‖:
    over 100): the test above would fail on the autorange of their values."""
    raw = {
        key: max(
            math.log10(values.max() / values.min())
            for figure in lesson_figures(key).values()
            for _, _, values in log_axes(figure)
            if len(values)
        )
        for key in ("cliff", "exponential_decay", "overshoot")
    }
    assert all(span > LONGEST for span in raw.values()), raw


# The floor, against closed forms.


def trajectory(loss: np.ndarray, lr: np.ndarray, grad_norm: np.ndarray) -> Trajectory:
    steps = len(lr)
    positions = np.zeros((steps + 1, 2))
    return Trajectory(
        positions=positions,
        loss=loss,
        grad=np.stack([grad_norm, 0 * grad_norm], axis=1),
        grad_norm=grad_norm,
        lr=lr,
        update=np.zeros((steps, 2)),
        effective_lr=np.zeros((steps, 2)),
        state={},
        status=Status("max_steps", steps, None, float("inf")),
    )


def test_a_converging_run_and_a_decayed_rate_leave_through_a_marked_floor() -> None:
    """f − f* from 1 to 1e-16, ‖g‖ from 2 to 1e-270, η_k = 0.1 · 0.5^k down to 1e-302: each
    axis ends FLOOR_DECADES below its start (a whole decade), there labelled "below …" or
    "→ 0", with whole-decade ticks every other decade above."""
    steps = 1000
    k = np.arange(steps + 1)
    run = trajectory(
        loss=np.maximum(10.0 ** (-k / 10), 0.0),
        lr=0.1 * 0.5 ** np.arange(steps),
        grad_norm=2.0 * 10.0 ** (-k * 0.27),
    )
    layout = metrics_figure([RunView("r", "#000", run, "")], minimum=0.0).layout
    for axis, start, label in (
        (layout.yaxis, 1.0, "below 1e-12"),
        (layout.yaxis2, 0.1, "→ 0"),
        (layout.yaxis3, 2.0, "below 1e-12"),
    ):
        floor = math.floor(math.log10(start)) - FLOOR_DECADES
        top = math.log10(start)
        assert axis.range == pytest.approx([floor, top + PAD * (top - floor)])
        assert axis.tickvals[0] == pytest.approx(10.0**floor) and axis.ticktext[0] == label
        assert np.diff(np.log10(axis.tickvals)) == pytest.approx(2.0)  # 12 decades / 6 labels


def test_a_diverging_run_beside_a_converging_one_keeps_fourteen_decades() -> None:
    """Headroom of 3 decades above the start and 12 below would be 15: the floor rises to
    14 below the top, ⌈(0 + 3) − 14⌉ = −11."""
    k = np.arange(201)
    converging = trajectory(10.0 ** (-k / 5), np.full(200, 0.1), np.ones(201))
    diverging = trajectory(10.0 ** (k / 10), np.full(200, 0.1), np.ones(201))
    views = [RunView("a", "#000", converging, ""), RunView("b", "#111", diverging, "")]
    low, high = metrics_figure(views, minimum=0.0).layout.yaxis.range
    assert low == -11 and high == pytest.approx(3 + PAD * 14)


def test_the_sweeps_loss_axes_end_at_a_floor() -> None:
    """Final losses from 1 down to 1e-300 across the rates: the axis ends 12 decades below."""
    rates = np.geomspace(1e-3, 1.0, 50)
    sweep = analysis.Sweep(
        lrs=rates,
        final_loss=np.geomspace(1.0, 1e-300, 50),
        best_loss=np.geomspace(1.0, 1e-300, 50),
        converged_step=np.full(50, 10),
        diverged_step=np.full(50, -1),
        threshold=None,
        boundary=None,
    )
    layout = analysis_figures.sweep_figure(sweep).layout
    for axis in (layout.yaxis, layout.yaxis2):
        assert axis.type == "log" and axis.range == pytest.approx([-12, 12 * PAD])
        assert axis.ticktext[0] == "below 1e-12"


# The critical rate where a rate is shown.


def reference_threshold(config: RunConfig) -> float | None:
    """2/λ_max for gradient descent from a central-difference Hessian of f + (λ₂/2)‖w‖² at
    the start (NumPy, step 1e-4 of the box); None for other rules."""
    if config.optimizer != "gd":
        return None
    surface = get_surface(config.surface)
    params = {spec.name: spec.default for spec in surface.params} | dict(config.surface_params)
    start = np.asarray(config.start if config.start is not None else surface.starts[0], float)
    h = 1e-4 * (surface.box[1] - surface.box[0])

    def f(w: np.ndarray) -> float:
        return float(surface.fn(w, {k: np.float64(v) for k, v in params.items()}))

    unit = np.eye(2) * h
    hessian = np.array(
        [
            [
                (f(start + a + b) - f(start + a - b) - f(start - a + b) + f(start - a - b))
                / (4 * h * h)
                for b in unit
            ]
            for a in unit
        ]
    )
    l2 = config.modifiers.get("l2", 0.0)
    return 2.0 / (np.linalg.eigvalsh(hessian)[-1] + l2)


# The L2 lesson's line includes the penalty λ₂: 2/(λ_max + λ₂) = 0.0790, not 2/λ_max = 0.0823.
@pytest.mark.parametrize("key", list(LESSONS))
def test_every_lessons_critical_rate_is_drawn_where_a_rate_is_shown(key: str) -> None:
    built = lesson_figures(key)
    lines = [t for t in built["metrics"]["data"] if t.get("yaxis") == "y2" and "text" in t]
    runs = configs(LESSONS[key].state)
    drawn = 0
    for index, config in enumerate(runs):
        critical = analysis.threshold(config)
        if critical is None:
            continue
        expected = reference_threshold(config)
        if expected is not None:
            assert critical.value == pytest.approx(expected, rel=1e-4)
        (line,) = [t for t in lines if t["line"]["color"] == figures.PALETTE[index]]
        assert list(line["y"]) == pytest.approx([critical.value] * 2, rel=1e-9)
        axis = built["metrics"]["layout"]["yaxis2"]
        if "range" in axis:  # inside the η_k panel, not cut off
            low, high = axis["range"]
            shown = math.log10(critical.value) if axis["type"] == "log" else critical.value
            assert low < shown < high
        drawn += 1
        if index == 0:  # the analysis views analyse the first run
            for name in ("sweep", "range"):
                assert_rate_marked(built[name], critical.value, name)
    assert drawn == sum(analysis.threshold(c) is not None for c in runs)


def assert_rate_marked(figure: dict, rate: float, name: str) -> None:
    """A dashed vertical line at `rate` named in the legend, or where it lies beyond the rates
    plotted, a legend entry naming it and the side it lies on."""
    entries = [t["name"] for t in figure["data"] if t.get("name") and f"{rate:.4g}" in t["name"]]
    assert entries, name
    vertical = [s for s in figure["layout"].get("shapes", []) if s.get("x0") == s.get("x1")]
    at_rate = [s for s in vertical if s["x0"] == pytest.approx(rate) and s["line"]["dash"]]
    if not at_rate:
        assert "the rates shown" in entries[0], name
