"""Trajectories as CSV and JSON: pure functions, one row per step of every run.

Row k of a run holds w_k, f(w_k), ∇L(w_k) and ‖∇L(w_k)‖, and for k < n also the step taken from
w_k: the rate η_k, the update Δw_k, the effective per-coordinate rate and the optimizer state
entries (empty in CSV on the last row; JSON is columnar, so its step columns are one shorter).
Floats are written with repr, so they read back exactly. Both are built from numpy columns:
6 runs × 20,000 steps take about a second each.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.engine import RunConfig, Trajectory

CONFIG_COLUMNS = (
    "run",
    "surface",
    "optimizer",
    "lr0",
    "schedule",
    "steps",
    "start_x",
    "start_y",
    "hyper",
    "schedule_params",
    "warmup",
    "modifiers",
    "surface_params",
    "outcome",
)
STEP_COLUMNS = (
    "step",
    "x",
    "y",
    "loss",
    "grad_x",
    "grad_y",
    "grad_norm",
    "lr",
    "update_x",
    "update_y",
    "effective_lr_x",
    "effective_lr_y",
)


@dataclass(frozen=True)
class ExportRun:
    """A run as exported: its legend label, configuration, trajectory and status sentence."""

    label: str
    config: RunConfig
    trajectory: Trajectory
    description: str = ""


def _named(name: str, values: np.ndarray) -> dict[str, np.ndarray]:
    """A per-step quantity as columns: `name` for a scalar, name_x / name_y for a 2-vector,
    name_0 … otherwise."""
    table = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    if table.shape[1] == 1:
        return {name: table[:, 0]}
    suffixes = "xy" if table.shape[1] == 2 else range(table.shape[1])
    return {f"{name}_{s}": table[:, i] for i, s in enumerate(suffixes)}


def step_columns(trajectory: Trajectory) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(position columns, step columns): x, y, loss, grad_x, grad_y, grad_norm with n + 1 values
    (w_0 … w_n); lr, update, effective_lr and the optimizer state (sorted by name) with n values
    (step k moves w_k to w_{k+1})."""
    t = trajectory
    points = {"x": t.positions[:, 0], "y": t.positions[:, 1], "loss": t.loss}
    points |= _named("grad", t.grad) | {"grad_norm": t.grad_norm}
    steps = {"lr": t.lr} | _named("update", t.update) | _named("effective_lr", t.effective_lr)
    for name in sorted(t.state):
        steps |= _named(name, t.state[name])
    return points, steps


def _compact(mapping: Any) -> str:
    return json.dumps({str(k): float(v) for k, v in dict(mapping).items()}, sort_keys=True)


def config_columns(run: ExportRun) -> dict[str, Any]:
    """The configuration of `run` as flat CSV columns (mappings as compact JSON)."""
    c = run.config
    start = c.start if c.start is not None else (None, None)
    return {
        "run": run.label,
        "surface": c.surface if isinstance(c.surface, str) else c.surface.key,
        "optimizer": c.optimizer,
        "lr0": c.lr,
        "schedule": c.schedule,
        "steps": c.steps,
        "start_x": start[0],
        "start_y": start[1],
        "hyper": _compact(c.hyper),
        "schedule_params": _compact(c.schedule_params),
        "warmup": _compact(c.warmup),
        "modifiers": _compact(c.modifiers),
        "surface_params": _compact(c.surface_params),
        "outcome": run.trajectory.status.outcome,
    }


def to_csv(runs: Sequence[ExportRun]) -> str:
    """Every run's steps, one row each, config columns first; state columns as they occur.
    Each float is its repr (it reads back exactly); a step column is empty on a run's last row
    and a column the run does not have is empty throughout."""
    tables = [(config_columns(r), *step_columns(r.trajectory)) for r in runs]
    columns = list(CONFIG_COLUMNS) + list(STEP_COLUMNS)
    for _, points, steps in tables:
        columns += [name for name in (*points, *steps) if name not in columns]
    numeric = columns[len(CONFIG_COLUMNS) + 1 :]  # after "step"
    lines = [",".join(columns)]
    for config, points, steps in tables:
        lines += _csv_rows(_csv_prefix(config), points, steps, numeric)
    return "\n".join(lines) + "\n"


def _csv_prefix(config: dict[str, Any]) -> str:
    """The run's configuration cells, CSV-quoted, as one line's start."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([_cell(config[name]) for name in CONFIG_COLUMNS])
    return out.getvalue()


def _csv_rows(
    prefix: str, points: dict[str, np.ndarray], steps: dict[str, np.ndarray], numeric: list[str]
) -> list[str]:
    """One line per kept position: `prefix`, the step number and the numeric columns."""
    rows = len(next(iter(points.values())))
    table = np.full((rows, len(numeric)), np.nan)
    for i, name in enumerate(numeric):
        if name in points:
            table[:, i] = points[name]
        elif name in steps:
            table[: len(steps[name]), i] = steps[name]
    # json writes each float as its repr, in C: split back into cells (NaN: no value).
    cells = json.dumps(table.ravel().tolist())[1:-1].replace("NaN", "").split(", ")
    width = len(numeric)
    return [f"{prefix},{k},{','.join(cells[k * width : (k + 1) * width])}" for k in range(rows)]


def _cell(value: Any) -> Any:
    return "" if value is None else repr(value) if isinstance(value, float) else value


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def to_json(runs: Sequence[ExportRun]) -> str:
    """{"runs": [{label, config, status, description, points: {column: [...]}, steps:
    {column: [...]}}, ...]}: columnar, `points` with n + 1 values per column (w_0 … w_n) and
    `steps` with n (see `step_columns`)."""
    payload = []
    for r in runs:
        c, status = r.config, r.trajectory.status
        nearest = status.nearest
        points, steps = step_columns(r.trajectory)
        payload.append(
            {
                "label": r.label,
                "config": {
                    "surface": c.surface if isinstance(c.surface, str) else c.surface.key,
                    "surface_params": dict(c.surface_params),
                    "optimizer": c.optimizer,
                    "lr": c.lr,
                    "steps": c.steps,
                    "start": list(c.start) if c.start is not None else None,
                    "hyper": dict(c.hyper),
                    "schedule": c.schedule,
                    "schedule_params": dict(c.schedule_params),
                    "warmup": dict(c.warmup),
                    "modifiers": dict(c.modifiers),
                },
                "status": {
                    "outcome": status.outcome,
                    "step": status.step,
                    "nearest": nearest._asdict() if nearest is not None else None,
                    "distance": _finite(status.distance),
                },
                "description": r.description,
                "points": {name: values.tolist() for name, values in points.items()},
                "steps": {name: values.tolist() for name, values in steps.items()},
            }
        )
    return json.dumps({"runs": payload}, allow_nan=False)


def html_title(surface_name: str, runs: Sequence[ExportRun]) -> tuple[str, list[str]]:
    """The HTML export's title (the surface and the runs' labels) and one outcome line per
    run ("label: its status sentence")."""
    title = f"Descent Lab: {surface_name}, " + "; ".join(r.label for r in runs)
    return title, [f"{r.label}: {r.description}" for r in runs]


def titled_html(page: str, title: str, outcomes: Sequence[str]) -> str:
    """`page` (a standalone HTML figure) with `title` as its <title> and, above the figure, as
    a heading with the outcome lines; every text HTML-escaped."""
    head = f"<title>{html.escape(title)}</title>"
    lines = "".join(f"<li>{html.escape(line)}</li>" for line in outcomes)
    top = f"<h1 style='font:600 20px sans-serif'>{html.escape(title)}</h1><ul>{lines}</ul>"
    return page.replace("<head>", f"<head>{head}", 1).replace("<body>", f"<body>{top}", 1)
