"""What a run returns: its `Trajectory` and `Status`, and the `Summary` of many runs at once."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from surfaces import CriticalPoint

Outcome = Literal["converged", "diverged", "max_steps"]
Escape = Literal["bound", "overflow", "undefined", "slope"]


class Status(NamedTuple):
    """How a run ended: `step` is where it converged or diverged, else the step count.

    `nearest` is the known stationary point closest to the last kept position, if the surface
    lists any, at Euclidean `distance`. The events of the whole run (−1 where none):
    `converged` the first step within `Tolerances`, also when the run left it later;
    `thrown_out` the first step after it farther than THROWN_OUT box diagonals from w_converged;
    `frozen` the step from which η_k ≤ FROZEN_RATE · max η to the end.
    A diverged run's `escape` says how step `step` escaped: "bound" (w_k passed the divergence
    radius, finite), "overflow" (w_k, f or ∇f became ±inf), "undefined" (f(w_k) is NaN or −inf
    at a finite w_k: outside the function's domain) or "slope" (f(w_k) finite but ∇f(w_k) not:
    a kink or cusp, √(x² + y²) at 0); `escape_point` is w_k where it is finite.
    """

    outcome: Outcome
    step: int
    nearest: CriticalPoint | None
    distance: float
    converged: int = -1
    thrown_out: int = -1
    frozen: int = -1
    escape: Escape | None = None
    escape_point: tuple[float, float] | None = None


class Trajectory(NamedTuple):
    """A run as numpy arrays. With n kept steps: positions, loss, grad, grad_norm have n + 1 rows
    (w_0 … w_n); lr, update, effective_lr and each `state` entry have n rows (step k moves w_k to
    w_{k+1}). `effective_lr` is −Δw_k / ∇L(w_k) per coordinate (0 where the gradient is 0).
    A diverged run ends at its last finite position; no array carries NaN or inf.
    """

    positions: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    update: np.ndarray
    effective_lr: np.ndarray
    state: dict[str, np.ndarray]
    status: Status


class Summary(NamedTuple):
    """Per-configuration results of `summarize`, one entry per row of the batch.

    `converged_step` and `diverged_step` are −1 where that did not happen; `final_loss` is the
    loss at the last finite position; `final_position` is that position.
    """

    final_loss: np.ndarray
    best_loss: np.ndarray
    converged_step: np.ndarray
    diverged_step: np.ndarray
    final_position: np.ndarray
