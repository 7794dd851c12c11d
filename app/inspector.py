"""The per-step inspector and the status tone: pure reads of a Trajectory, no maths."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from app.text import plain
from optimizers.engine import Trajectory

Tone = Literal["success", "warning", "error", "info"]

STATE_NAMES = {
    "velocity": "velocity v",
    "m_hat": "m̂ (mean gradient)",
    "v_hat": "v̂ (mean squared gradient)",
    "s_hat": "ŝ (gradient variance)",
    "v_hat_max": "v̂_max",
    "u": "u (max |g|)",
    "accumulator": "G (sum of g²)",
    "mean_square": "v (mean g²)",
    "mean_square_grad": "E[g²]",
    "mean_square_step": "E[Δw²]",
    "momentum": "momentum m",
    "curvature": "Hessian eigenvalues",
    "step_size": "step size it used",
    "evaluations": "evaluations of f (line search)",
    "adversarial_point": "adversarial point w̃",
    "averaged_point": "averaged point x (evaluated)",
    "z_base": "base sequence z",
    "d": "D (distance estimate)",
    "step_scale": "step scale it used",
    "max_distance": "largest distance from w₀",
    "sq_distance": "squared distance estimate",
    "bet_fraction": "bet fraction",
    "scale": "scale S",
}


class Row(NamedTuple):
    """One line of the inspector: a quantity and its value(s), x then y for vectors."""

    quantity: str
    values: tuple[float, ...]


def started(trajectory: Trajectory) -> bool:
    """Whether the run has a first point w_0 (f and ∇f finite at its start)."""
    return len(trajectory.positions) > 0


def clamp_step(trajectory: Trajectory, step: int) -> int:
    """`step` within the kept positions 0 … n (a diverged run keeps fewer)."""
    return max(0, min(int(step), len(trajectory.positions) - 1))


def _values(array: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.ravel(array))


def step_rows(trajectory: Trajectory, step: int) -> list[Row]:
    """What the run knows at step k (clamped): w_k, f, ∇L, and the step it takes from w_k."""
    t, k = trajectory, clamp_step(trajectory, step)
    rows = [
        Row("position w_k", _values(t.positions[k])),
        Row("loss f(w_k)", _values(t.loss[k])),
        Row("gradient ∇L(w_k)", _values(t.grad[k])),
        Row("gradient norm ‖∇L‖", _values(t.grad_norm[k])),
    ]
    if k < len(t.lr):
        rows += [
            Row("learning rate η_k", _values(t.lr[k])),
            Row("update Δw_k", _values(t.update[k])),
            *(
                Row(STATE_NAMES.get(n, n.replace("_", " ")), _values(v[k]))
                for n, v in t.state.items()
            ),
            Row("effective step −Δw/∇L", _values(t.effective_lr[k])),
        ]
    return rows


def table(rows: list[Row]) -> list[dict[str, str]]:
    """Rows as text columns quantity / x / y (a scalar fills x)."""
    out = []
    for row in rows:
        cells = [f"{v:.6g}" for v in row.values]
        out.append({"quantity": row.quantity, "x": cells[0], "y": ", ".join(cells[1:])})
    return out


def markdown_table(rows: list[Row]) -> str:
    """`table(rows)` as a Markdown table, every cell escaped. Streamlit's Markdown is loaded
    anyway; a data frame would fetch ~1.3 MB of grid code on a first visit and re-measure its
    canvas on every rerun."""
    lines = ["| quantity | x | y |", "| --- | ---: | ---: |"]  # numbers right-aligned
    for row in table(rows):
        lines.append("| " + " | ".join(plain(row[name]) for name in ("quantity", "x", "y")) + " |")
    return "\n".join(lines)


def tone(trajectory: Trajectory) -> Tone:
    """Colour of the status line, as `report.describe` words the whole run: diverged red (also
    after meeting the tolerance); met the tolerance and then thrown out amber; converged to a
    global minimum green, elsewhere amber; a rate frozen at ~0 before converging amber; still
    running (descending, hovering at its noise floor) blue."""
    status = trajectory.status
    if status.outcome == "diverged":
        return "error"
    if status.converged >= 0 and status.thrown_out >= 0:
        return "warning"
    if status.outcome == "converged":
        global_min = status.nearest is not None and status.nearest.kind == "global"
        return "success" if global_min else "warning"
    if status.frozen >= 0:
        return "warning"
    return "info"
