"""Sharpness along a path: λ_max of the Hessian of the stepped objective at each w_k.

The engine steps on L(w) = f(w) + (λ₂/2)‖w‖², so ∇²L = ∇²f + λ₂I and
    λ_max(w) = (a + c)/2 + √(((a − c)/2)² + b²) + λ₂     for ∇²f(w) = [[a, b], [b, c]].
A rule with a stability limit on a quadratic (`optimizers.curvature`: η < c/λ_max, with c = 2
for GD, 2(1 + β) for heavy ball, 2(1 + β)/(1 + 2β) for Nesterov) is stable at step k while
λ_max(w_k) < c/η_k: the line 2/η_k for GD. Rules without such a limit get GD's line, 2/η_k, as
a reference, and no crossing.

The Hessians come SHARPNESS_POINTS at a time from one jitted, vectorised function per surface
(the surface's parameters are traced numbers): no new compilation for a new rate, start or
parameter. A path longer than SHARPNESS_POINTS is sampled at SHARPNESS_POINTS evenly spaced
steps; the crossing is then found exactly, step by step, after the last sample below the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.cache import compiled_cache
from common.runtime import require_x64
from optimizers.curvature import rule_threshold
from optimizers.engine import RunConfig, Trajectory, plan
from surfaces import Surface

SHARPNESS_POINTS = 2048  # Hessians per call: a fixed shape, so one compilation per surface

# The rule's largest stable λ_max at rate η: its critical rate with λ and η swapped (c/η).
_LIMIT_FORMULAS = {
    "gd": "2/η_k",
    "momentum": "2(1+β)/η_k",
    "nesterov": "2(1+β)/((1+2β)η_k)",
}


class Sharpness(NamedTuple):
    """λ_max(∇²L(w_k)) at `steps` (every step of a path up to SHARPNESS_POINTS long, else a
    sample), the rule's largest stable sharpness `limit[k]` = c/η_k at every move k (inf where
    η_k = 0), its formula, and `crossing`: for a diverged run of a rule with a limit, the step
    from which λ_max stayed above the limit up to the divergence (−1: none, or no limit),
    always one of `steps`."""

    steps: np.ndarray
    lambda_max: np.ndarray
    limit: np.ndarray
    formula: str
    crossing: int


@compiled_cache
def _hessians_fn(surface: Surface):
    return jax.jit(jax.vmap(jax.hessian(surface.fn), in_axes=(0, None)))


def largest_eigenvalues(hessians: np.ndarray) -> np.ndarray:
    """λ_max of each symmetric 2 × 2 matrix [[a, b], [b, c]]: (a + c)/2 + √(((a − c)/2)² + b²)."""
    a, b, c = hessians[..., 0, 0], hessians[..., 0, 1], hessians[..., 1, 1]
    return (a + c) / 2 + np.hypot((a - c) / 2, b)


def lambda_max_at(
    surface: Surface, points: np.ndarray, params: Mapping[str, float] | None = None
) -> np.ndarray:
    """λ_max(∇²f) at each row of `points` (m × 2), SHARPNESS_POINTS per compiled call (the last
    call padded by repeating its last point); NaN where the Hessian is not finite. ValueError
    where JAX is not in float64."""
    require_x64()
    values = {k: jnp.float64(v) for k, v in surface.resolve(params).items()}
    hessians = _hessians_fn(surface)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.empty(len(points))
    for begin in range(0, len(points), SHARPNESS_POINTS):
        chunk = points[begin : begin + SHARPNESS_POINTS]
        padded = np.vstack([chunk, np.repeat(chunk[-1:], SHARPNESS_POINTS - len(chunk), axis=0)])
        with np.errstate(invalid="ignore", over="ignore"):
            lam = largest_eigenvalues(np.asarray(hessians(padded, values)))[: len(chunk)]
        out[begin : begin + len(chunk)] = np.where(np.isfinite(lam), lam, np.nan)
    return out


def sampled_steps(count: int) -> np.ndarray:
    """Steps 0 … count − 1, or SHARPNESS_POINTS of them evenly spaced (first and last kept)."""
    if count <= SHARPNESS_POINTS:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, SHARPNESS_POINTS).round().astype(int))


def path_sharpness(trajectory: Trajectory, config: RunConfig) -> Sharpness:
    """`Sharpness` of a run: λ_max(∇²f(w_k)) + λ₂ along its kept positions, its rule's limit
    c/η_k, and where a diverged run crossed it for good (see `crossing`)."""
    the_plan = plan(config)
    params = the_plan.surface_params()
    l2, beta = the_plan.number("modifiers.l2"), the_plan.number("hyper.beta", 0.0)
    limited = config.optimizer in _LIMIT_FORMULAS
    rule = config.optimizer if limited else "gd"
    c = rule_threshold(rule, 1.0, beta)  # the rule's c, as c/λ_max at λ_max = 1
    assert c is not None
    rates = np.asarray(trajectory.lr, dtype=np.float64)
    with np.errstate(divide="ignore"):
        limit = np.where(rates > 0, c / rates, np.inf)

    def sharpness(steps: np.ndarray) -> np.ndarray:
        return lambda_max_at(the_plan.surface, trajectory.positions[steps], params) + l2

    steps = sampled_steps(len(trajectory.positions))
    lam = sharpness(steps)
    crossing = -1
    if limited and trajectory.status.outcome == "diverged":
        crossing, at_crossing = _crossing(steps, lam, limit, sharpness)
        if crossing >= 0 and crossing not in steps:  # the crossing joins the samples
            at = int(np.searchsorted(steps, crossing))
            steps, lam = np.insert(steps, at, crossing), np.insert(lam, at, at_crossing)
    return Sharpness(steps, lam, limit, _LIMIT_FORMULAS[rule], crossing)


def _crossing(
    steps: np.ndarray,
    lam: np.ndarray,
    limit: np.ndarray,
    sharpness: Callable[[np.ndarray], np.ndarray],
) -> tuple[int, float]:
    """The first step c of the stretch of moves k (those with an η_k) where λ_max(w_k) is above
    limit[k] that lasts to the last move (a non-finite λ_max counts as above), and λ_max there;
    (−1, NaN) where the last move is not above. Every step after the last sampled move that is
    below is computed, so c is exact."""
    moves = steps < len(limit)
    below = steps[moves][lam[moves] <= limit[steps[moves]]]
    tail = np.arange(int(below[-1]) + 1 if len(below) else 0, len(limit))
    lam_tail = sharpness(tail)
    falls = np.flatnonzero(lam_tail <= limit[tail])
    first = int(falls[-1]) + 1 if len(falls) else 0
    if first >= len(tail):
        return -1, float("nan")
    return int(tail[first]), float(lam_tail[first])
