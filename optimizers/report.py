"""A run's outcome in plain words, for the status line under the plot: one sentence about the
whole run (it met the tolerance, then was thrown out; it left the view, then went non-finite),
with the numbers that back it and, where the maths says, the cause."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from optimizers.curvature import THRESHOLD_FORMULAS, critical_rate, hessian_eigenvalues
from optimizers.engine import (
    FROZEN_RATE,
    RunConfig,
    Status,
    Trajectory,
    box_exit,
    escape_path,
    plan,
    stochastic,
)
from optimizers.engine.kernels import box_geometry
from optimizers.sharpness import path_sharpness

PLATEAU_GRADIENT = 1e-3  # a gradient norm this small, far from any known point, is a plateau
NEAR = 0.01  # "near" a known point: within this fraction of the plot box's diagonal
MIN_TAIL = 20  # the loss's tail (the last half of the run) needs this many values to be judged


def _f(value: float) -> str:
    return f"{value:.4g}"


def _at(point: np.ndarray | tuple[float, float]) -> str:
    return f"({_f(point[0])}, {_f(point[1])})"


def _steps(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''}"


class Tail(NamedTuple):
    """The loss over the last half of the run, steps `first` … n: mean ± std, and whether it is
    still falling measurably: it falls at every step, or the first half's mean exceeds the
    second half's by over one std."""

    first: int
    mean: float
    std: float
    falling: bool


def loss_tail(loss: np.ndarray) -> Tail | None:
    """`Tail` of the losses (None when fewer than MIN_TAIL steps make the last half)."""
    first = len(loss) // 2
    tail = loss[first:]
    if len(tail) < MIN_TAIL:
        return None
    half = len(tail) // 2
    drop = float(tail[:half].mean() - tail[half:].mean())
    steadily = bool((np.diff(tail) <= 0).all()) and tail[-1] < tail[0]
    return Tail(first, float(tail.mean()), float(tail.std()), steadily or drop > float(tail.std()))


def onset(loss: np.ndarray, begin: int, end: int) -> int:
    """Where a blow-up began: the step of the lowest loss among steps begin … end − 1."""
    end = max(min(end, len(loss)), begin + 1)
    return begin + int(np.argmin(loss[begin:end]))


def describe(trajectory: Trajectory, config: RunConfig) -> str:
    """One sentence: how the whole run went and, where the maths says, why."""
    the_plan = plan(config)
    status, surface = trajectory.status, the_plan.surface
    x0, x1, y0, y1 = surface.box
    near = status.nearest is not None and status.distance <= NEAR * math.hypot(x1 - x0, y1 - y0)
    kind = status.nearest.kind if near and status.nearest else None
    last = trajectory.positions[-1] if len(trajectory.positions) else np.full(2, np.nan)
    loss = trajectory.loss[-1] if len(trajectory.loss) else math.nan
    steps = _steps(status.step)
    regularised = any(config.modifiers.get(name, 0) > 0 for name in ("l2", "weight_decay"))

    if status.converged >= 0 and (status.thrown_out >= 0 or status.outcome == "diverged"):
        return _thrown_out(trajectory, config)
    if status.outcome == "diverged":
        return f"Diverged: {_diverged(trajectory, config, 0)}"
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
    if status.frozen >= 0:
        k = status.frozen
        when = "is ~0 from the start" if k == 0 else f"decayed to ~0 at step {k}"
        return (
            f"Frozen: the learning rate {when} (η_k ≤ "
            f"{FROZEN_RATE:g}·max η from there on; η = {trajectory.lr[-1]:.2g} at the end), "
            f"f stuck at {_f(loss)} at {_at(last)}."
        )
    tail = loss_tail(trajectory.loss)
    if tail is not None and not tail.falling and stochastic(config):
        return (
            f"Hovering at the noise floor {after}: f ≈ {_f(tail.mean)} ± {_f(tail.std)} "
            f"(mean ± std over steps {tail.first}–{status.step}), no longer falling."
        )
    if kind == "global":
        return (
            f"Near the global minimum {after} but not yet within tolerance "
            f"({_tolerance(trajectory, config)}; f = {_f(loss)})."
        )
    if kind == "local":
        return f"Stuck near a local minimum (f = {_f(loss)}) {after}."
    if kind == "saddle":
        return f"Near a saddle point {_at(last)} {after}: the gradient there is almost zero."
    if trajectory.grad_norm[-1] <= PLATEAU_GRADIENT:
        return (
            f"Stalled on a plateau {after}: the gradient norm is only "
            f"{trajectory.grad_norm[-1]:.1e} at {_at(last)}."
        )
    if tail is not None and not tail.falling:
        return (
            f"Not settling {after}: f ≈ {_f(tail.mean)} ± {_f(tail.std)} (mean ± std over "
            f"steps {tail.first}–{status.step}) and no longer falling."
        )
    return f"Still descending {after} (f = {_f(loss)} at {_at(last)})."


def _tolerance(trajectory: Trajectory, config: RunConfig) -> str:
    """The converged test ‖∇L‖ ≤ tol.grad and ‖Δw‖ ≤ tol.step, with the last step's values."""
    grad = float(trajectory.grad_norm[-1])
    step = float(np.linalg.norm(trajectory.update[-1])) if len(trajectory.update) else 0.0
    tol = config.tol
    return (
        f"‖∇f‖ = {grad:.2g} {'≤' if grad <= tol.grad else '>'} {tol.grad:g}, "
        f"‖Δw‖ = {step:.2g} {'≤' if step <= tol.step else '>'} {tol.step:g}"
    )


def _thrown_out(trajectory: Trajectory, config: RunConfig) -> str:
    """Met the tolerance at step c, then was thrown out: why, and how the run went on."""
    status, t, tol = trajectory.status, trajectory, config.tol
    c = status.converged
    thrown = status.thrown_out if status.thrown_out >= 0 else status.step
    text = (
        f"Met the tolerance (‖∇f‖ ≤ {tol.grad:g}, ‖Δw‖ ≤ {tol.step:g}) at step {c} with "
        f"f = {_f(t.loss[c])} at {_at(t.positions[c])}, then was thrown out at step {thrown}"
    )
    if status.outcome == "diverged":
        return f"{text} and diverged: {_diverged(trajectory, config, c)}"
    begin = onset(t.loss, c, thrown)
    peak = thrown + int(np.argmax(t.loss[thrown:]))
    cause = _cause(trajectory, config, begin).removesuffix(".")
    text += f": {cause}; f rose to {_f(t.loss[peak])} at step {peak}"
    box = plan(config).surface.box
    gone = box_exit(t.positions, box)
    if gone is not None:
        step, point = gone
        return f"{text}; it left the view at step {step} at {_at(point)} and did not come back."
    lo, hi = np.array([box[0], box[2]]), np.array([box[1], box[3]])
    outside = np.flatnonzero(~((t.positions >= lo) & (t.positions <= hi)).all(axis=1))
    if len(outside):
        text += f" (outside the view from step {outside[0]} to {outside[-1]})"
    settled = (t.grad_norm[:-1] <= tol.grad) & (np.linalg.norm(t.update, axis=1) <= tol.step)
    again = np.flatnonzero(settled[thrown:])
    if len(again):
        k = thrown + int(again[0])
        return f"{text}; it met the tolerance again at step {k} (f = {_f(t.loss[k])})."
    n = len(t.positions) - 1
    return f"{text}; after {n} steps it is at {_at(t.positions[-1])} with f = {_f(t.loss[-1])}."


def _diverged(trajectory: Trajectory, config: RunConfig, begin: int) -> str:
    """When and where the run left the view and escaped (as the contour marks it), then why."""
    status, surface = trajectory.status, plan(config).surface
    if not len(trajectory.positions):
        return _no_start(status)
    path = escape_path(trajectory)
    gone = box_exit(path, surface.box)
    events = []
    if gone is not None:
        events.append(f"it left the view at step {gone[0]} at {_at(gone[1])}")
    at = f" at {_at(status.escape_point)}" if status.escape_point is not None else ""
    point = status.escape_point
    if status.escape == "bound":
        radius = box_geometry(surface)[1]
        events.append(
            f"passed the divergence bound ({_f(radius)} from the box centre) at step "
            f"{status.step}{at}"
        )
    elif status.escape == "undefined" and point is not None:  # both escapes are at a finite w
        events.append(f"at step {status.step} reached {_at(point)}, where f is undefined")
    elif status.escape == "slope" and point is not None:
        events.append(f"at step {status.step} reached {_at(point)}, {_NO_SLOPE}")
    else:
        events.append(f"its loss became non-finite (overflow) at step {status.step}{at}")
    end = gone[0] if gone is not None else len(trajectory.positions)
    cause = _cause(trajectory, config, onset(trajectory.loss, begin, end), gone)
    return f"{' and '.join(events)}. Cause: {cause}"


_NO_SLOPE = "where f is finite but its gradient is not (a kink or a cusp)"


def _no_start(status: Status) -> str:
    """Why a run has not even a first point: f or ∇f is not finite at its start."""
    if status.escape_point is None:
        return "the loss is not finite at the start."
    where = _at(status.escape_point)
    if status.escape == "slope":
        return f"it cannot start at {where}, {_NO_SLOPE}: pick another start."
    if status.escape == "undefined":
        return f"f is undefined at the start {where}: pick another start."
    return f"f is not finite at the start {where} (it overflows): pick another start."


def _cause(
    trajectory: Trajectory,
    config: RunConfig,
    k: int,
    gone: tuple[int, np.ndarray] | None = None,
) -> str:
    """Why a run blew up from step k (the lowest loss before it did), first that applies:
    a point outside f's domain; on a quadratic, η above the rule's exact limit; one step from
    inside the view longer than the box's diagonal (a single huge gradient); the sharpness
    λ_max(∇²L(w_c)) above the rule's limit for η_c from the crossing c on to the end (GD: 2/η_c,
    see `optimizers.sharpness`; adaptive rules at step k: their largest effective rate −Δw/∇f
    above 2/λ_max); else the steps just grew."""
    the_plan = plan(config)
    status, surface, t = trajectory.status, the_plan.surface, trajectory
    if status.escape == "undefined":
        return "the step landed outside the function's domain (f is not a real number there)."
    if status.escape == "slope":
        return "the step landed where f has no gradient, so the rule cannot take the next step."
    w = (float(t.positions[k][0]), float(t.positions[k][1]))
    rate = float(t.lr[k]) if k < len(t.lr) else the_plan.number("lr")
    limit = critical_rate(surface, config.optimizer, w, config.hyper, config.surface_params)
    sharp = path_sharpness(t, config) if limit is not None else None
    c = sharp.crossing if sharp is not None else -1
    if limit is not None and limit.exact and c > 0:
        return (
            f"from step {c} the learning rate η_k = {_f(t.lr[c])} is above "
            f"{THRESHOLD_FORMULAS[config.optimizer]} = {_f(limit.value)} (✕ on the sharpness "
            "row), so every step overshoots further."
        )
    if limit is not None and limit.exact and rate > limit.value:
        return (
            f"the learning rate {_f(rate)} is above {THRESHOLD_FORMULAS[config.optimizer]} = "
            f"{_f(limit.value)}, so every step overshoots further."
        )
    path = escape_path(t)
    x0, x1, y0, y1 = surface.box
    jump = float(np.linalg.norm(path[k + 1] - path[k])) if k + 1 < len(path) else 0.0
    single = gone is None or gone[0] == k + 1
    if single and jump > math.hypot(x1 - x0, y1 - y0):
        return (
            f"a single huge gradient, ‖∇f‖ = {_f(t.grad_norm[k])} at step {k}, {_at(w)}, threw "
            f"it {_f(jump)} in one step."
        )
    if sharp is not None and c >= 0:
        lambda_c = float(sharp.lambda_max[np.searchsorted(sharp.steps, c)])
        rate_c = float(t.lr[c])
        return (
            f"from step {c} at {_at(t.positions[c])} the local sharpness λ_max = {_f(lambda_c)} "
            f"of the Hessian put η_k = {_f(rate_c)} above {THRESHOLD_FORMULAS[config.optimizer]}"
            f" = {_f(sharp.limit[c] * rate_c / lambda_c)}, and λ_max stayed above "
            f"{sharp.formula} to the end (✕ on the sharpness row), so each step overshot further."
        )
    if limit is None and k < len(t.effective_lr):
        lambda_max = float(hessian_eigenvalues(surface, w, config.surface_params)[-1])
        effective = float(np.max(t.effective_lr[k]))
        if lambda_max > 0 and effective > 2 / lambda_max:
            return (
                f"from step {k} at {_at(w)} the effective rate −Δw/∇f = {_f(effective)} was "
                f"above 2/λ_max = {_f(2 / lambda_max)} (λ_max = {_f(lambda_max)}, the local "
                "sharpness of the Hessian), so each step overshot further."
            )
    return "the steps overshot and grew until the loss blew up."
