"""What the lesson tests share: each lesson's runs through the engine (cached), the quadratic's
Hessian in NumPy, a few measures of a loss curve, and how a GFM table row reads."""

from __future__ import annotations

import functools
import math

import numpy as np

from app.lessons import LESSONS
from app.state import configs
from optimizers.engine import Trajectory, run


@functools.cache
def trajectories(key: str) -> tuple[Trajectory, ...]:
    return tuple(run(config) for config in configs(LESSONS[key].state))


def lesson_runs(key: str) -> list[tuple[float, Trajectory]]:
    """(η₀, trajectory) of each run of the lesson."""
    state = LESSONS[key].state
    return [(r.lr, t) for r, t in zip(state.runs, trajectories(key), strict=True)]


def quadratic_hessian(kappa: float, angle: float) -> np.ndarray:
    """∇² of ½(u² + κv²), u = (cos θ, sin θ)·w, v = (−sin θ, cos θ)·w."""
    theta = math.radians(angle)
    u = np.array([math.cos(theta), math.sin(theta)])
    v = np.array([-math.sin(theta), math.cos(theta)])
    return np.outer(u, u) + kappa * np.outer(v, v)


def lesson_hessian(key: str) -> np.ndarray:
    params = LESSONS[key].state.surface_params
    return quadratic_hessian(params["kappa"], params["angle"])


def gd_limit(H: np.ndarray) -> float:
    return 2.0 / np.linalg.eigvalsh(H)[-1]


def steep_direction(H: np.ndarray) -> np.ndarray:
    return np.linalg.eigh(H)[1][:, -1]


def tail_mean(trajectory: Trajectory, steps: int = 50) -> float:
    return float(trajectory.loss[-steps:].mean())


def block_means(trajectory: Trajectory, width: int = 50) -> np.ndarray:
    """The mean loss over steps [0, width), [width, 2·width), …"""
    loss = trajectory.loss[: len(trajectory.loss) // width * width]
    return loss.reshape(-1, width).mean(axis=1)


def sign_changes(values: np.ndarray) -> int:
    return int(np.count_nonzero(np.sign(values[1:]) != np.sign(values[:-1])))


def start(key: str) -> np.ndarray:
    return np.array(LESSONS[key].state.start)


def in_text(key: str, *phrases: str) -> None:
    """The checked numbers are the ones the lesson says."""
    lesson = LESSONS[key]
    text = f"{lesson.question} {lesson.look_for}"
    for phrase in phrases:
        assert phrase in text, phrase


def stays_converged(trajectory: Trajectory) -> bool:
    """After the step it converged at, the loss never climbs back by more than 10⁻⁶ of its fall
    (a run thrown out of the minimum later fails this)."""
    after = trajectory.loss[trajectory.status.step :]
    fall = trajectory.loss[0] - trajectory.loss.min()
    return bool(after.max() - trajectory.loss.min() <= 1e-6 * fall)


def table_cells(row: str) -> list[str]:
    """A GFM table row's cells, unescaped: a backslash makes the next character literal, an
    unescaped `|` ends a cell; the row starts and ends with `|`."""
    cells, cell, chars = [], "", iter(row.strip())
    for char in chars:
        if char == "\\":
            cell += next(chars)
        elif char == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    assert cell == "" and cells[0] == "", row
    return cells[1:]
