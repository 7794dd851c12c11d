"""Trajectories as CSV and JSON: pure functions, one row per step of every run.

Row k of a run holds w_k, f(w_k), ∇L(w_k) and ‖∇L(w_k)‖, and for k < n also the step taken from
w_k: the rate η_k, the update Δw_k, the effective per-coordinate rate and the optimizer state
entries (empty in CSV, null in JSON, on the last row). Floats are written with repr, so they
read back exactly.
"""

from __future__ import annotations

import csv
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


def _vector(name: str, values: np.ndarray) -> dict[str, float]:
    flat = np.ravel(values)
    if flat.size == 1:
        return {name: float(flat[0])}
    suffixes = "xy" if flat.size == 2 else range(flat.size)
    return {f"{name}_{s}": float(v) for s, v in zip(suffixes, flat, strict=True)}


def step_rows(trajectory: Trajectory) -> list[dict[str, Any]]:
    """One dict per kept position w_0 … w_n; step quantities are None on the last row."""
    t = trajectory
    rows = []
    moves = len(t.lr)
    empty = dict.fromkeys(STEP_COLUMNS[7:])
    for name in sorted(t.state):
        empty |= dict.fromkeys(_vector(name, np.zeros(t.state[name].shape[1:])))
    for k in range(len(t.positions)):
        x, y = (float(v) for v in t.positions[k])
        row: dict[str, Any] = {"step": k, "x": x, "y": y, "loss": float(t.loss[k])}
        row |= _vector("grad", t.grad[k]) | {"grad_norm": float(t.grad_norm[k])}
        if k < moves:
            row["lr"] = float(t.lr[k])
            row |= _vector("update", t.update[k]) | _vector("effective_lr", t.effective_lr[k])
            for name in sorted(t.state):
                row |= _vector(name, t.state[name][k])
        else:
            row |= empty
        rows.append(row)
    return rows


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
    """Every run's steps, one row each, config columns first; state columns as they occur."""
    tables = [(config_columns(r), step_rows(r.trajectory)) for r in runs]
    columns = list(CONFIG_COLUMNS) + list(STEP_COLUMNS)
    for _, rows in tables:
        for name in rows[0] if rows else ():
            if name not in columns:
                columns.append(name)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for config, rows in tables:
        for row in rows:
            writer.writerow(_cells(config | row))
    return out.getvalue()


def _cells(row: dict[str, Any]) -> dict[str, Any]:
    return {k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in row.items()}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def to_json(runs: Sequence[ExportRun]) -> str:
    """{"runs": [{label, config, status, description, steps: [row, ...]}, ...]}."""
    payload = []
    for r in runs:
        c, status = r.config, r.trajectory.status
        nearest = status.nearest
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
                "steps": step_rows(r.trajectory),
            }
        )
    return json.dumps({"runs": payload}, allow_nan=False)
