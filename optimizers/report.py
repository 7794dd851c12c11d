"""A run's outcome in plain words, for the status line under the plot."""

from __future__ import annotations

import math

import numpy as np

from optimizers.curvature import THRESHOLD_FORMULAS, critical_rate
from optimizers.engine import RunConfig, Trajectory, plan

PLATEAU_GRADIENT = 1e-3  # a gradient norm this small, far from any known point, is a plateau
NEAR = 0.01  # "near" a known point: within this fraction of the plot box's diagonal


def _f(value: float) -> str:
    return f"{value:.4g}"


def _at(point: np.ndarray) -> str:
    return f"({_f(point[0])}, {_f(point[1])})"


def describe(trajectory: Trajectory, config: RunConfig) -> str:
    """One sentence: how the run ended and, where the maths says, why."""
    the_plan = plan(config)
    status, surface = trajectory.status, the_plan.surface
    x0, x1, y0, y1 = surface.box
    near = status.nearest is not None and status.distance <= NEAR * math.hypot(x1 - x0, y1 - y0)
    kind = status.nearest.kind if near and status.nearest else None
    last = trajectory.positions[-1] if len(trajectory.positions) else np.full(2, np.nan)
    loss = trajectory.loss[-1] if len(trajectory.loss) else math.nan
    steps = f"{status.step} step{'s' if status.step != 1 else ''}"
    regularised = any(config.modifiers.get(name, 0) > 0 for name in ("l2", "weight_decay"))

    if status.outcome == "diverged":
        return f"Diverged at step {status.step}: {_why_diverged(trajectory, config)}"
    if status.outcome == "converged":
        if regularised:
            return f"Converged to the regularised loss's minimum at {_at(last)} in {steps}."
        if kind == "global":
            return f"Converged to the global minimum in {steps}."
        if kind == "local":
            return f"Stopped in a local minimum (f = {_f(loss)}) after {steps}."
        if kind == "saddle":
            return (
                f"Stopped at a saddle point {_at(last)} after {steps}: the gradient is zero there."
            )
        return f"Converged to a stationary point {_at(last)} (f = {_f(loss)}) in {steps}."
    after = f"after {status.step} steps"
    if kind == "global":
        return f"Near the global minimum {after} but not yet within tolerance (f = {_f(loss)})."
    if kind == "local":
        return f"Stuck near a local minimum (f = {_f(loss)}) {after}."
    if kind == "saddle":
        return f"Near a saddle point {_at(last)} {after}: the gradient there is almost zero."
    if trajectory.grad_norm[-1] <= PLATEAU_GRADIENT:
        return (
            f"Stalled on a plateau {after}: the gradient norm is only "
            f"{trajectory.grad_norm[-1]:.1e} at {_at(last)}."
        )
    return f"Still descending {after} (f = {_f(loss)} at {_at(last)})."


def _why_diverged(trajectory: Trajectory, config: RunConfig) -> str:
    the_plan = plan(config)
    lr = float(the_plan.numbers[the_plan.layout.index("lr")])
    start = tuple(trajectory.positions[0]) if len(trajectory.positions) else None
    critical = (
        critical_rate(
            the_plan.surface, config.optimizer, start, config.hyper, config.surface_params
        )
        if start is not None
        else None
    )
    where = (
        f"it left the plot box near {_at(trajectory.positions[-1])}"
        if len(trajectory.positions)
        else "the loss is not finite at the start"
    )
    if critical is not None and lr > critical.value and math.isfinite(critical.value):
        here = "" if critical.exact else " at the start"
        return (
            f"the learning rate {_f(lr)} is above {THRESHOLD_FORMULAS[config.optimizer]} = "
            f"{_f(critical.value)}{here}, so every step overshoots further; {where}."
        )
    return f"the steps overshot and grew until the loss blew up; {where}."
