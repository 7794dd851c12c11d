""" "Your data" readable for real data: the plane drops equal scales when w and b live on
unlike scales (hours against scores would be a sliver tens of pixels wide), the data panel
shows each run's fit at its last step by default, and new data (or standardising x) move the
start point to the new surface's preset start."""

from __future__ import annotations

import numpy as np
import pytest

from app import figures
from app.figures import RunView
from optimizers.engine import RunConfig, run
from surfaces import get_surface
from surfaces.dataset import Points, data_surface, encode_points
from surfaces.grid import surface_grid
from tests.apptest_tools import open_link

HOURS = np.array([1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0])
SCORES = np.array([52.0, 55.0, 61.0, 58.0, 66.0, 70.0, 69.0, 75.0, 79.0, 83.0, 88.0, 95.0])
HOURS_VS_SCORES = Points(tuple(HOURS), tuple(SCORES))
PLOT_HEIGHT = 620 - 44 - 80  # plane_layout's height less its top and bottom margins, px


def plane(surface) -> dict:
    """The contour figure's layout, as the app builds it for `surface` with no runs."""
    grid = surface_grid(surface, {}, 40)
    return figures.contour_figure(grid, surface, surface.critical_points(), []).to_dict()["layout"]


def equal_scale_width(box: tuple[float, float, float, float]) -> float:
    """The plot's width in px at one scale for both axes and the plane's full height."""
    return PLOT_HEIGHT * (box[1] - box[0]) / (box[3] - box[2])


@pytest.mark.parametrize(
    "points",
    [HOURS_VS_SCORES, Points(tuple(np.linspace(10, 130, 13)), tuple(np.linspace(8, 68, 13)))],
    ids=["hours vs scores", "x from 10 to 130"],
)
def test_data_on_unlike_scales_is_drawn_at_unequal_scales(points: Points) -> None:
    surface = data_surface(points)
    assert equal_scale_width(surface.box) < 100  # the sliver one scale would leave
    layout = plane(surface)
    assert "scaleanchor" not in layout["yaxis"]
    assert layout["xaxis"]["range"] == list(surface.box[:2])
    assert layout["yaxis"]["range"] == list(surface.box[2:])


def test_round_data_surfaces_and_registry_surfaces_keep_equal_scales() -> None:
    """Standardised x: the level sets are nearly round, the box nearly square (aspect ≤ 3);
    registry surfaces (the linreg ravine included) always keep one scale."""
    standardised = data_surface(HOURS_VS_SCORES, standardise=True)
    width, height = np.diff(standardised.box)[[0, 2]]
    assert max(width / height, height / width) <= figures.MAX_ASPECT
    for surface in (standardised, get_surface("linreg"), get_surface("rosenbrock")):
        assert plane(surface)["yaxis"]["scaleanchor"] == "x", surface.key


def test_the_data_panel_shows_each_runs_last_fit_by_default() -> None:
    """fit_lines: (w, b) at each run's last kept step (a diverged run keeps fewer), at a given
    step clamped to it; a run without a first point has no line."""
    surface = data_surface(HOURS_VS_SCORES, standardise=True)
    configs = [RunConfig(surface, "gd", 0.1, 80), RunConfig(surface, "gd", 1.5, 80)]
    done, diverged = (run(config) for config in configs)
    assert len(diverged.positions) < 81 == len(done.positions)
    runs = [("good", "#000", done), ("bad", "#111", diverged)]
    lines = figures.fit_lines(runs)
    assert [(f.w, f.b) for f in lines] == [tuple(done.positions[-1]), tuple(diverged.positions[-1])]
    early = figures.fit_lines(runs, step=500)
    assert [(f.w, f.b) for f in early] == [(f.w, f.b) for f in lines]
    third = [(f.w, f.b) for f in figures.fit_lines(runs, step=3)]
    assert third == [tuple(done.positions[3]), tuple(diverged.positions[3])]
    assert figures.fit_lines([("none", "#222", done._replace(positions=np.zeros((0, 2))))]) == []
    panel = figures.data_panel_figure(HOURS_VS_SCORES, lines, standardise=True)
    assert panel.layout.title.text == "Data and fitted lines at each run's last step"
    x, _ = HOURS_VS_SCORES.arrays()
    w, b = done.positions[-1]
    expected = w * (np.array([x.min(), x.max()]) - x.mean()) / x.std() + b
    np.testing.assert_allclose(panel.data[2].y, expected, rtol=1e-12)


def start_point(at) -> tuple[float, float]:
    return at.number_input(key="x0").value, at.number_input(key="y0").value


def test_new_data_move_the_start_to_the_new_surfaces_preset() -> None:
    """A link's start is kept; standardising x, then new data, each move it to the preset
    start of the surface now fitted (in the corner region of its box)."""
    query = {"surface": "data", "data": encode_points(HOURS_VS_SCORES), "x0": "0", "y0": "5"}
    at = open_link(query)
    assert start_point(at) == (0.0, 5.0)
    at.toggle(key="data_standardise").set_value(True).run()
    assert start_point(at) == data_surface(HOURS_VS_SCORES, standardise=True).starts[0]
    other = Points(tuple(np.linspace(10, 130, 13)), tuple(np.linspace(8, 68, 13)))
    at.session_state["data"] = encode_points(other)
    at.toggle(key="data_standardise").set_value(False).run()
    assert not at.exception
    surface = data_surface(other)
    assert start_point(at) == surface.starts[0]
    x0, x1, y0, y1 = surface.box
    assert x0 < start_point(at)[0] < x1 and y0 < start_point(at)[1] < y1


def test_run_views_of_data_surfaces_draw_on_the_unequal_plane() -> None:
    """A run on hours-vs-scores: its path lies inside the stretched plane's box."""
    surface = data_surface(HOURS_VS_SCORES)
    trajectory = run(RunConfig(surface, "gd", 0.01, 50))
    grid = surface_grid(surface, {}, 40)
    figure = figures.contour_figure(
        grid, surface, surface.critical_points(), [RunView("gd", "#000", trajectory, "")]
    )
    path = figures.array_of(figure.to_dict()["data"][figures.FIRST_RUN_TRACE]["x"])
    assert surface.box[0] <= path.min() and path.max() <= surface.box[1]
