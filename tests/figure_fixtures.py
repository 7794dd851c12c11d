"""Fixtures of the figure tests: Rosenbrock and the bowl with their grids, two engine runs and
a diverged one. A test module loads them with `pytest_plugins = ("tests.figure_fixtures",)`."""

from __future__ import annotations

import pytest

from app.figures import RunView
from optimizers.engine import RunConfig, Trajectory, run
from surfaces import get_surface
from surfaces.grid import surface_grid
from tests.figure_tools import GRID_N, STEPS, view


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
