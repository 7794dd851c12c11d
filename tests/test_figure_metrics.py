"""The metrics figure against the runs it draws: rows, capped and floored log axes, their ticks,
the loss gap to f* (known or not), threshold lines and decimation."""

from __future__ import annotations

import numpy as np
import pytest

from app import figures
from app.figures import array_of, metrics_figure
from optimizers.engine import RunConfig, run
from surfaces import get_surface
from tests.figure_tools import STEPS, fake, view

pytest_plugins = ("tests.figure_fixtures",)


def test_metrics_rows_hold_loss_rate_and_gradient_norm(two_runs) -> None:
    fig = metrics_figure(two_runs, step=12, minimum=0.0)  # Rosenbrock: f* = 0, the gap is f
    n = len(two_runs)
    for row, field in enumerate(("loss", "lr", "grad_norm")):
        for index, runview in enumerate(two_runs):
            trace = fig.data[row * n + index]
            values = getattr(runview.trajectory, field)
            np.testing.assert_array_equal(array_of(trace.y), values)
            if row == 0:  # the hover's loss f
                np.testing.assert_array_equal(array_of(trace.customdata), values)
            np.testing.assert_array_equal(array_of(trace.x), np.arange(len(values)))
            assert trace.line.color == runview.color and (trace.showlegend is not False) == (
                row == 0
            )
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis3.type == "log"
    lines = fig.layout.shapes
    assert len(lines) == 3 and all(s.x0 == s.x1 == 12 and s.line.dash == "dot" for s in lines)


def test_a_diverging_run_leaves_the_metric_axes_through_the_top(two_runs, diverged) -> None:
    fig = metrics_figure([*two_runs, view(diverged, 2)], minimum=0.0)
    start = max(r.trajectory.loss[0] for r in [*two_runs, view(diverged)])
    low, top = fig.layout.yaxis.range
    assert np.log10(start) + 3 < top < np.log10(start) + 3.5 < np.log10(diverged.loss.max())
    assert low < np.log10(min(r.trajectory.loss.min() for r in two_runs))
    assert metrics_figure(two_runs, minimum=0.0).layout.yaxis.range is None  # autorange


def test_log_metric_axes_label_whole_decades_only() -> None:
    fig = metrics_figure([view(fake(200)), view(fake(200, spike=True), 1)], minimum=0.0)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1  # 1e-3 … 1e3
    flat = metrics_figure([view(fake(200))])  # η_k constant: Plotly's own ticks, not one decade
    assert flat.layout.yaxis2.type == "log" and flat.layout.yaxis2.dtick is None
    assert flat.layout.yaxis2.tickvals is None
    huge = fake(200)._replace(loss=np.geomspace(1e45, 1e-15, 201))  # 60 decades: 12 shown …
    axis = metrics_figure([view(huge)], minimum=0.0).layout.yaxis  # … every 12 / 6th labelled
    assert np.diff(np.log10(axis.tickvals)) == pytest.approx([12 / figures.LOG_TICKS] * 6)


def test_a_short_log_axis_labels_one_two_five_with_their_values() -> None:
    """η_k from 0.01 to 0.3 (1.5 decades less a little): ticks 0.01, 0.02, 0.05, 0.1, 0.2."""
    trajectory = fake(200)._replace(lr=np.geomspace(0.01, 0.3, 200))
    axis = metrics_figure([view(trajectory)]).layout.yaxis2
    assert axis.type == "log" and axis.dtick is None
    assert list(axis.tickvals) == pytest.approx([0.01, 0.02, 0.05, 0.1, 0.2])
    assert list(axis.ticktext) == ["0.01", "0.02", "0.05", "0.1", "0.2"]


def test_the_loss_panel_plots_the_gap_to_the_minimum_on_a_log_axis() -> None:
    """Styblinski–Tang goes below 0: f − f* (f* = −78.33…) stays positive on a log axis."""
    surface = get_surface("styblinski_tang")
    f_star = surface.minimum_value()
    trajectory = run(RunConfig("styblinski_tang", "gd", 0.01, STEPS))
    assert (trajectory.loss < 0).any() and f_star < trajectory.loss.min()
    fig = metrics_figure([view(trajectory)], minimum=f_star)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text == "loss above the minimum<br>f − f*"
    np.testing.assert_allclose(array_of(fig.data[0].y), trajectory.loss + 78.33233140754282)
    np.testing.assert_array_equal(array_of(fig.data[0].customdata), trajectory.loss)
    assert not fig.layout.shapes


def test_the_minimum_reached_to_rounding_stays_on_the_log_axis() -> None:
    """f* = 3 (Goldstein–Price): f − f* of 0 or −4e-14 (rounding) is drawn at 1e-16 × 3."""
    trajectory = fake(4)._replace(loss=np.array([30.0, 3.5, 3.0, 3.0 - 4e-14, 3.0 + 1e-9]))
    y = array_of(metrics_figure([view(trajectory)], minimum=3.0).data[0].y)
    np.testing.assert_allclose(y, [27.0, 0.5, 3e-16, 3e-16, 1e-9], rtol=1e-6)


def test_an_unknown_minimum_is_replaced_by_the_lowest_loss_seen_less_an_offset() -> None:
    """f* unknown: f − (f_low − δ), δ = 1e-6 × (highest start − f_low), said in the title."""
    first = fake(20)._replace(loss=np.linspace(5.0, -2.0, 21))
    second = fake(20)._replace(loss=np.linspace(9.0, 1.0, 21))
    fig = metrics_figure([view(first), view(second, 1)])
    delta = 1e-6 * (9.0 - -2.0)
    np.testing.assert_allclose(array_of(fig.data[0].y), np.linspace(5.0, -2.0, 21) + 2 + delta)
    np.testing.assert_allclose(array_of(fig.data[1].y), np.linspace(9.0, 1.0, 21) + 2 + delta)
    assert fig.layout.yaxis.type == "log"
    assert (
        fig.layout.yaxis.title.text == "loss above the lowest seen<br>less δ = 1.1e-05 (f* unknown)"
    )


def test_thresholds_are_dashed_lines_on_the_rate_panel(two_runs) -> None:
    """One dashed line per run with a threshold, after every curve, across the panel, its
    label away from the run's rates, the log range padded 15 % beyond line and rates."""
    limit = figures.Threshold("2/λ_max = 0.2", 0.2)
    fig = metrics_figure(two_runs, minimum=0.0, thresholds=[limit, None])
    assert len(fig.data) == 3 * len(two_runs) + 1
    line = fig.data[-1]
    assert (line.xaxis, line.yaxis, line.line.dash) == ("x2", "y2", "dash")
    assert list(line.y) == [0.2, 0.2] and list(line.x) == [0, len(two_runs[0].trajectory.lr) - 1]
    assert line.text[-1] == "2/λ_max = 0.2" and line.line.color == two_runs[0].color
    assert line.textposition == "top left"  # away from η_k = 1e-3 below the line
    span = np.log10(0.2) - np.log10(1e-3)  # GD's 1e-3 to the line at 0.2 (Adam is at 0.05)
    np.testing.assert_allclose(
        fig.layout.yaxis2.range, [np.log10(1e-3) - 0.15 * span, np.log10(0.2) + 0.15 * span]
    )
    high = metrics_figure(two_runs, minimum=0.0, thresholds=[figures.Threshold("c", 1e-4)])
    assert high.data[-1].textposition == "bottom left"  # η_k above it: the label goes below
    assert high.layout.yaxis2.type == "log"
    skipped = [figures.Threshold("none", float("inf")), figures.Threshold("zero", 0.0)]
    assert len(metrics_figure(two_runs, thresholds=skipped).data) == 3 * len(two_runs)


def test_long_metric_curves_are_decimated_keeping_spikes() -> None:
    trajectory = fake(20_000, spike=True)
    loss = metrics_figure([view(trajectory)], minimum=0.0).data[0]
    assert len(array_of(loss.y)) <= figures.METRIC_POINTS + 1
    assert array_of(loss.y).max() == 1e3 and array_of(loss.x)[-1] == 20_000
