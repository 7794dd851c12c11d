"""The Plotly figures against the trajectories and grids they draw: paths, clipping, frames,
payload size, markers, the start-picker, animation controls, colour ticks, metrics, 3-D, export."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import numpy as np
import pytest

from app import figures
from app.figures import (
    FIRST_RUN_TRACE,
    MAX_FRAMES,
    PALETTE,
    PICKER_NAME,
    PICKER_POINTS,
    TRACES_PER_RUN,
    RunView,
    array_of,
    contour_figure,
    export_html,
    metrics_figure,
    surface3d_figure,
)
from optimizers.engine import RunConfig, Status, Trajectory, run
from surfaces import get_surface
from surfaces.grid import gradient_field, log_levels, surface_grid

STEPS = 40
GRID_N = 41


def view(trajectory: Trajectory, index: int = 0, label: str | None = None) -> RunView:
    return RunView(label or f"run {index}", PALETTE[index], trajectory, f"status < {index}")


def fake(steps: int, *, spike: bool = False) -> Trajectory:
    """A spiral into (1, 1) of `steps` steps, built without the engine (big step counts, fast)."""
    t = np.arange(steps + 1, dtype=np.float64)
    radius = 0.9 * np.exp(-t / max(steps / 4, 1))
    positions = np.stack([1 + radius * np.cos(t / 7), 1 + radius * np.sin(t / 7)], axis=1)
    loss = radius**2 + 1e-3
    if spike:
        loss[steps // 3] = 1e3
    grad = np.stack([radius, radius], axis=1)
    return Trajectory(
        positions=positions,
        loss=loss,
        grad=grad,
        grad_norm=np.linalg.norm(grad, axis=1),
        lr=np.full(steps, 0.01),
        update=np.diff(positions, axis=0),
        effective_lr=np.full((steps, 2), 0.01),
        state={},
        status=Status("max_steps", steps, None, float("inf")),
    )


def xy(trace) -> np.ndarray:
    return np.stack([array_of(trace.x), array_of(trace.y)], axis=1)


def named(fig, name: str):
    return next(trace for trace in fig.data if trace.name == name)


@pytest.fixture(scope="module")
def rosenbrock():
    surface = get_surface("rosenbrock")
    return surface, surface_grid(surface, n=GRID_N)


@pytest.fixture(scope="module")
def bowl():
    surface = get_surface("bowl")
    return surface, surface_grid(surface, n=GRID_N)


@pytest.fixture(scope="module")
def two_runs() -> list[RunView]:
    configs = [
        RunConfig("rosenbrock", "gd", 1e-3, STEPS),
        RunConfig("rosenbrock", "adam", 0.05, STEPS // 2),
    ]
    return [view(run(c), i, f"{c.optimizer} η={c.lr}") for i, c in enumerate(configs)]


@pytest.fixture(scope="module")
def diverged() -> Trajectory:
    """Gradient descent on the bowl at η = 2.5: w_k = (−1.5)^k w_0 leaves the box at k = 3."""
    trajectory = run(RunConfig("bowl", "gd", 2.5, STEPS))
    assert trajectory.status.outcome == "diverged"
    return trajectory


def plot(surface_and_grid, runs, **options):
    surface, grid = surface_and_grid
    return contour_figure(grid, surface, surface.critical_points(), runs, **options)


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
    lo, hi = figures._grown(surface.box)
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
    drawn = figures._clipped(points, box)
    expected = [[0, 0], [0.5, 0], [1.1, 0], [np.nan, np.nan], [1.1, 0.38], [0.5, 0.5], [0, 0.5]]
    np.testing.assert_allclose(drawn, expected)
    assert figures._exit(points, box) is None
    far_jump = np.array([[0.0, 0.0], [0.5, 0.0], [-50.0, 0.0], [50.0, 0.1]])
    assert len(figures._clipped(far_jump, box)) == 3  # the chord between two far points is dropped
    step, crossing = figures._exit(far_jump, box)
    assert step == 2 and tuple(crossing) == (-1.0, 0.0)


def test_view_box_fixes_the_axes_and_the_clipping(rosenbrock, two_runs) -> None:
    box = (-1.5, 0.0, 0.0, 2.5)
    fig = plot(rosenbrock, two_runs, view_box=box)
    assert tuple(fig.layout.xaxis.range) == box[:2] and tuple(fig.layout.yaxis.range) == box[2:]
    lo, hi = figures._grown(box)
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


def png_pixels(uri: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Width, height, palette (k, 3) and palette indices (height, width) of a data-URI PNG."""
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix) :])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        tag, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(
            tag + body
        )
        chunks[tag] = chunks.get(tag, b"") + body
        at += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 3)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    rows = raw.reshape(height, width + 1)
    assert (rows[:, 0] == 0).all()  # no row filters
    palette = np.frombuffer(chunks[b"PLTE"], dtype=np.uint8).reshape(-1, 3)
    return width, height, palette, rows[:, 1:]


def test_surface_underlay_matches_the_contour(rosenbrock, two_runs) -> None:
    surface, grid = rosenbrock
    fig = plot(rosenbrock, two_runs)
    (image,) = fig.layout.images
    x0, x1, y0, y1 = surface.box
    assert (image.xref, image.yref, image.sizing, image.layer) == ("x", "y", "stretch", "below")
    assert (image.xanchor, image.yanchor) == ("left", "top")
    assert (image.x, image.y, image.sizex, image.sizey) == pytest.approx((x0, y1, x1 - x0, y1 - y0))
    width, height, palette, index = png_pixels(image.source)
    ratio = (y1 - y0) / (x1 - x0)
    expected = (
        (figures.IMAGE_PIXELS, round(figures.IMAGE_PIXELS * ratio))
        if ratio <= 1
        else (round(figures.IMAGE_PIXELS / ratio), figures.IMAGE_PIXELS)
    )
    assert (width, height) == expected and index.shape == (height, width)
    assert len(palette) == 2 * figures.CONTOUR_LEVELS  # band colours, then their line shades
    assert index.max() < len(palette)
    # The contour's explicit levels are the image's band edges, both on the contour's colours.
    contour = fig.data[figures.SURFACE_TRACE]
    levels = contour.contours
    assert contour.autocontour is False and levels.coloring == "fill"
    assert levels.start == pytest.approx(contour.zmin + levels.size)
    assert levels.end == pytest.approx(contour.zmax - levels.size)
    assert (contour.zmax - contour.zmin) / levels.size == pytest.approx(figures.CONTOUR_LEVELS)
    bands = np.asarray(index) % figures.CONTOUR_LEVELS
    assert bands.min() == 0 and bands.max() == figures.CONTOUR_LEVELS - 1
    # Image rows run top down: the pixel at the grid's highest value is in a top band.
    colour = array_of(contour.z).reshape(grid.z.shape)
    i, j = np.unravel_index(colour.argmax(), colour.shape)
    row = min(height - 1, int((1 - (i + 0.5) / len(grid.y)) * height))
    column = min(width - 1, int((j + 0.5) / len(grid.x) * width))
    assert bands[row, column] >= figures.CONTOUR_LEVELS - 2
    ends = {tuple(palette[0]), tuple(palette[figures.CONTOUR_LEVELS - 1])}
    assert ends == {(255, 255, 255), (0x6B, 0x6B, 0x6B)}  # the colour scale's two ends


def test_banding_follows_plotly_fill_levels() -> None:
    from app import raster

    values = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 9.0, np.nan])
    # Levels 1, 2, 3 (start 1, size 1): below 1 → 0, [1, 2) → 1, [2, 3) → 2, ≥ 3 → 3.
    assert raster.bands(values, 1.0, 1.0, 4).tolist() == [0, 0, 0, 1, 1, 2, 3, 0]
    colours = raster.colours_at(figures.SURFACE_COLORSCALE, np.array([0.0, 0.35, 1.0]))
    assert colours.round().tolist() == [[255] * 3, [0xE3] * 3, [0x6B] * 3]
    x, y = np.linspace(0, 1, 5), np.linspace(0, 2, 3)
    on_grid = raster.resampled(x, y, np.add.outer(y, x), 10, 6)
    assert on_grid.shape == (6, 10)
    assert on_grid[0, 0] == pytest.approx(0.05 + 2 / 12)  # the first pixel's centre


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


def test_surface3d_draws_paths_on_the_surface(bowl, diverged) -> None:
    _, grid = bowl
    kept = run(RunConfig("bowl", "gd", 0.3, STEPS))
    fig = surface3d_figure(grid, [view(kept, 0), view(diverged, 1)])
    assert fig.data[0].type == "surface"
    lift = figures.LIFT_3D * (grid.z.max() - grid.z.min())
    path = fig.data[1]
    np.testing.assert_array_equal(array_of(path.x), kept.positions[:, 0])
    np.testing.assert_allclose(array_of(path.z), kept.loss + lift)
    lo, hi = figures._grown(figures._box_of(grid))
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
