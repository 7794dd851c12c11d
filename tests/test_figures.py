"""The contour figure against the trajectories and grids it draws: paths, clipping, frames,
payload size, markers, the start-picker, animation controls, colour ticks, the −∇f field;
the 3-D figure and the HTML export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app import figures
from app.figures import (
    FIRST_RUN_TRACE,
    MAX_FRAMES,
    PICKER_NAME,
    PICKER_POINTS,
    TRACES_PER_RUN,
    array_of,
    contour_figure,
    export_html,
    surface3d_figure,
)
from optimizers.engine import RunConfig, box_exit, run
from surfaces import get_surface
from surfaces.grid import gradient_field, log_levels, surface_grid
from tests.figure_tools import GRID_N, STEPS, fake, named, plot, view, xy

pytest_plugins = ("tests.figure_fixtures",)


def test_paths_and_markers_are_the_trajectories(rosenbrock, two_runs) -> None:
    fig = plot(rosenbrock, two_runs)
    assert fig.data[0].name == "surface" and fig.data[0].type == "contour"
    for index, runview in enumerate(two_runs):
        path = fig.data[FIRST_RUN_TRACE + TRACES_PER_RUN * index]
        head = fig.data[FIRST_RUN_TRACE + TRACES_PER_RUN * index + 1]
        np.testing.assert_array_equal(xy(path), runview.trajectory.positions)
        np.testing.assert_array_equal(xy(head), runview.trajectory.positions[-1:])
        assert path.name == runview.label and path.showlegend is not False
        assert path.line.color == head.marker.color == runview.color
        assert head.showlegend is False and path.legendgroup == head.legendgroup
        assert "status &lt; " in head.hovertemplate  # escaped for Plotly's HTML-ish labels


def test_diverged_path_is_clipped_and_marked_at_the_edge(bowl, diverged) -> None:
    surface, _ = bowl
    fig = plot(bowl, [view(diverged)])
    assert tuple(fig.layout.xaxis.range) == surface.box[:2]
    assert tuple(fig.layout.yaxis.range) == surface.box[2:]
    drawn = xy(fig.data[FIRST_RUN_TRACE])
    lo, hi = figures.grown(surface.box)
    inside = ((diverged.positions >= lo) & (diverged.positions <= hi)).all(axis=1)
    first_out = int(np.argmin(inside))
    assert first_out > 0 and not inside[first_out:].any()
    np.testing.assert_array_equal(drawn[:first_out], diverged.positions[:first_out])
    edge = drawn[first_out]
    assert np.isclose(edge, lo).any() or np.isclose(edge, hi).any()
    assert ((edge >= lo - 1e-12) & (edge <= hi + 1e-12)).all()
    assert len(drawn) == first_out + 1  # nothing after the exit: later jumps stay off the view
    assert np.isnan(xy(fig.data[FIRST_RUN_TRACE + 1])).all()  # current position: off the view
    (note,) = fig.layout.annotations
    assert note.text == f"left at step {first_out}"
    exits = named(fig, "left the box")
    crossing = xy(exits)[0]
    assert tuple(crossing) == (note.x, note.y) and "status &lt; 0" in exits.hovertext[0]
    assert np.isclose(np.abs(crossing), 3.0).any() and (np.abs(crossing) <= 3.0 + 1e-12).all()
    before, after = diverged.positions[first_out - 1], diverged.positions[first_out]
    t = (crossing - before) / (after - before)
    assert t[0] == pytest.approx(t[1]) and 0 < t[0] < 1  # on the step that left


def test_a_run_that_leaves_and_returns_is_drawn_in_pieces_and_not_marked() -> None:
    box = (-1.0, 1.0, -1.0, 1.0)
    points = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0], [0.5, 0.5], [0.0, 0.5]])
    drawn = figures.clipped(points, box)
    expected = [[0, 0], [0.5, 0], [1.1, 0], [np.nan, np.nan], [1.1, 0.38], [0.5, 0.5], [0, 0.5]]
    np.testing.assert_allclose(drawn, expected)
    assert box_exit(points, box) is None
    far_jump = np.array([[0.0, 0.0], [0.5, 0.0], [-50.0, 0.0], [50.0, 0.1]])
    assert len(figures.clipped(far_jump, box)) == 3  # the chord between two far points is dropped
    step, crossing = box_exit(far_jump, box)
    assert step == 2 and tuple(crossing) == (-1.0, 0.0)


def test_view_box_fixes_the_axes_and_the_clipping(rosenbrock, two_runs) -> None:
    box = (-1.5, 0.0, 0.0, 2.5)
    fig = plot(rosenbrock, two_runs, view_box=box)
    assert tuple(fig.layout.xaxis.range) == box[:2] and tuple(fig.layout.yaxis.range) == box[2:]
    lo, hi = figures.grown(box)
    for index in range(len(two_runs)):
        drawn = xy(fig.data[FIRST_RUN_TRACE + TRACES_PER_RUN * index])
        finite = drawn[np.isfinite(drawn).all(axis=1)]
        assert ((finite >= lo - 1e-12) & (finite <= hi + 1e-12)).all()


def test_frames_are_capped_sampled_and_touch_only_the_runs(rosenbrock) -> None:
    runs = [view(fake(5000), 0), view(fake(3000), 1)]
    run_traces = list(range(FIRST_RUN_TRACE, FIRST_RUN_TRACE + TRACES_PER_RUN * 2))
    for frames in (MAX_FRAMES, 30):
        fig = plot(rosenbrock, runs, frames=frames)
        steps = [int(frame.name) for frame in fig.frames]
        assert len(steps) <= frames and steps[0] == 0 and steps[-1] == 5000
        assert steps == sorted(set(steps))
        assert all(list(frame.traces) == run_traces for frame in fig.frames)
        last = fig.frames[-1].data
        for index in range(2):
            np.testing.assert_array_equal(
                xy(last[TRACES_PER_RUN * index]), xy(fig.data[run_traces[0] + 2 * index])
            )
        middle = fig.frames[len(steps) // 2]
        step = int(middle.name)
        path = xy(middle.data[0])
        assert len(path) <= figures.FRAME_PATH_POINTS + 1
        np.testing.assert_allclose(path[-1], runs[0].trajectory.positions[step], rtol=1e-6)
        np.testing.assert_allclose(xy(middle.data[1])[0], path[-1], rtol=1e-6)
        np.testing.assert_allclose(path[0], runs[0].trajectory.positions[0], rtol=1e-6)
        shorter = xy(middle.data[2])  # the 3000-step run stops at its own last step
        if step >= 3000:
            np.testing.assert_allclose(shorter[-1], runs[1].trajectory.positions[-1], rtol=1e-6)


def test_short_runs_animate_every_step(rosenbrock, two_runs) -> None:
    fig = plot(rosenbrock, two_runs)
    assert [frame.name for frame in fig.frames] == [str(k) for k in range(STEPS + 1)]
    for k in (0, 7, STEPS):
        path = xy(fig.frames[k].data[0])
        np.testing.assert_allclose(path, two_runs[0].trajectory.positions[: k + 1], rtol=1e-6)


def payload(surface_and_grid, steps: int, runs: int = 6) -> int:
    return len(plot(surface_and_grid, [view(fake(steps), i) for i in range(runs)]).to_json())


def test_payload_grows_sub_quadratically_and_stays_small(rosenbrock) -> None:
    small, large, largest = (payload(rosenbrock, n) for n in (1000, 8000, 20_000))
    assert large < 1.5 * small  # 8× the steps: capped sampling, not 64× the bytes
    assert largest < 5e6


def test_critical_points_are_marked(rosenbrock) -> None:
    surface = get_surface("himmelblau")
    points = surface.critical_points()
    fig = contour_figure(surface_grid(surface, n=GRID_N), surface, points, [])
    for kind, name in (("global", "global minimum"), ("saddle", "saddle point")):
        expected = [(p.x, p.y) for p in points if p.kind == kind]
        np.testing.assert_array_equal(xy(named(fig, name)), expected)
        assert all(text.startswith(name) for text in named(fig, name).hovertext)
    assert named(fig, "global minimum").marker.symbol == "star"
    assert named(fig, "saddle point").marker.symbol == "x-thin"
    assert not fig.frames and "local minimum" not in {t.name for t in fig.data}
    camel = get_surface("camel")
    fig = contour_figure(surface_grid(camel, n=GRID_N), camel, camel.critical_points(), [])
    assert named(fig, "local minimum").marker.color != named(fig, "global minimum").marker.color


def test_start_picker_covers_the_box_invisibly(rosenbrock, two_runs) -> None:
    surface, grid = rosenbrock
    fig = plot(rosenbrock, two_runs)
    picker = fig.data[-1]
    assert picker.name == PICKER_NAME and picker.showlegend is False and picker.mode == "markers"
    assert picker.marker.opacity == 0 and picker.selected.marker.opacity == 0
    points = xy(picker)
    assert len(points) == PICKER_POINTS**2
    x0, x1, y0, y1 = surface.box
    assert points[:, 0].min() == x0 and points[:, 0].max() == x1
    assert points[:, 1].min() == y0 and points[:, 1].max() == y1
    xs, ys = np.linspace(x0, x1, PICKER_POINTS), np.linspace(y0, y1, PICKER_POINTS)
    k = 5 * PICKER_POINTS + 7
    assert tuple(points[k]) == (xs[7], ys[5])  # point k is (xs[k % n], ys[k // n])
    f = array_of(picker.customdata)
    nearest = grid.z[np.abs(grid.y - ys[5]).argmin(), np.abs(grid.x - xs[7]).argmin()]
    assert f[k] == pytest.approx(nearest, rel=1e-6)


def test_playback_skips_redraws_but_every_resting_frame_redraws(rosenbrock, two_runs) -> None:
    fig = plot(rosenbrock, two_runs)
    (slider,) = fig.layout.sliders
    assert [list(step.args[0]) for step in slider.steps] == [[frame.name] for frame in fig.frames]
    assert all(step.args[1]["frame"]["redraw"] is True for step in slider.steps)
    assert slider.active == len(fig.frames) - 1  # the full paths show first
    assert slider.currentvalue.xanchor == "right"  # the "step N" label clear of the buttons
    (menu,) = fig.layout.updatemenus
    plays = [b for b in menu.buttons if b.label.startswith("▶")]
    assert len(plays) == 3
    durations = set()
    for button in plays:
        frames, options = button.args[1]["frame"], button.args[1]
        assert button.args[0] is None and not options.get("fromcurrent")  # always from step 0
        assert len(frames) == len(fig.frames)  # one option per frame played
        assert [f["redraw"] for f in frames] == [False] * (len(frames) - 1) + [True]
        assert len({f["duration"] for f in frames}) == 1
        durations.add(frames[0]["duration"])
    assert len(durations) == 3
    (pause,) = [b for b in menu.buttons if not b.label.startswith("▶")]
    assert list(pause.args[0]) == [{}]  # a frame object: stops the queue and redraws
    assert pause.args[1]["frame"]["redraw"] is True and pause.args[1]["mode"] == "immediate"


def test_layout_keeps_zoom_and_equal_scale(rosenbrock, two_runs) -> None:
    fig = plot(rosenbrock, two_runs)
    assert fig.layout.uirevision and fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.xaxis.autorange is False and fig.layout.template.layout.paper_bgcolor


def test_log_colourbar_ticks_are_real_values() -> None:
    surface = get_surface("goldstein_price")
    grid = surface_grid(surface, n=GRID_N)
    fig = contour_figure(grid, surface, surface.critical_points(), [])
    levels = log_levels(grid.z, surface.minimum_value())
    assert levels.use_log
    contour = fig.data[0]
    np.testing.assert_allclose(array_of(contour.z), levels.color, rtol=1e-6)
    assert list(contour.colorbar.tickvals) == [p for p, _ in levels.ticks]
    assert list(contour.colorbar.ticktext) == [label for _, label in levels.ticks]
    assert contour.colorbar.ticktext[0] == "3"  # f* of Goldstein–Price, at the bottom
    assert contour.zmin == contour.colorbar.tickvals[0] and contour.zmax == levels.color.max()
    real = [levels.f_min + 10**p - levels.epsilon for p in contour.colorbar.tickvals]
    np.testing.assert_allclose([float(t) for t in contour.colorbar.ticktext], real, rtol=5e-3)
    bowl = get_surface("bowl")
    bowl_grid = surface_grid(bowl, n=GRID_N)
    plain = contour_figure(bowl_grid, bowl, bowl.critical_points(), []).data[0]
    np.testing.assert_allclose(array_of(plain.z), bowl_grid.z, rtol=1e-6)
    assert plain.colorbar.tickvals is None


def test_gradient_field_overlay(bowl) -> None:
    surface, _ = bowl
    field = gradient_field(surface, n=11)
    shown = plot(bowl, [], field=field).data[figures.FIELD_TRACE]
    assert shown.name == figures.FIELD_NAME and shown.visible is True
    arrows = xy(shown).reshape(-1, 7, 2)  # tail, tip, gap, barb, tip, barb, gap
    assert np.isnan(arrows[:, [2, 6]]).all()
    tails, tips = arrows[:, 0], arrows[:, 1]
    shaft = tips - tails
    cross = shaft[:, 0] * tails[:, 1] - shaft[:, 1] * tails[:, 0]
    np.testing.assert_allclose(cross, 0, atol=1e-6)  # along −∇f = −w
    assert ((tips - tails) * tails).sum(axis=1).max() < 0  # pointing downhill, home
    hidden = plot(bowl, []).data[figures.FIELD_TRACE]
    assert hidden.visible is False and len(array_of(hidden.x)) == 0


def test_surface3d_draws_paths_on_the_surface(bowl, diverged) -> None:
    _, grid = bowl
    kept = run(RunConfig("bowl", "gd", 0.3, STEPS))
    fig = surface3d_figure(grid, [view(kept, 0), view(diverged, 1)])
    assert fig.data[0].type == "surface"
    lift = figures.LIFT_3D * (grid.z.max() - grid.z.min())
    path = fig.data[1]
    np.testing.assert_array_equal(array_of(path.x), kept.positions[:, 0])
    np.testing.assert_allclose(array_of(path.z), kept.loss + lift)
    lo, hi = figures.grown(figures.box_of(grid))
    inside = ((diverged.positions >= lo) & (diverged.positions <= hi)).all(axis=1)
    assert inside[0] and not inside.all()
    np.testing.assert_array_equal(np.isfinite(array_of(fig.data[2].x)), inside)


def test_export_html_is_standalone_and_keeps_the_frames(rosenbrock, two_runs) -> None:
    page = export_html(plot(rosenbrock, two_runs))
    assert "<html>" in page[:100] and "Plotly.newPlot" in page and "addFrames" in page
    assert len(page) > 3e6  # plotly.js inlined: plays offline
    assert "Plotly.animate" not in page.split("addFrames")[1]  # no autoplay
    frames = json.loads(plot(rosenbrock, two_runs).to_json())["frames"]
    assert frames[-1]["name"] in page
