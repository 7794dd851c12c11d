"""The stability map: rates × a second number of the configuration, each cell's outcome."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from common.registry import Registry
from optimizers.analysis.inputs import Cancel, check_work, checked_rates, with_number
from optimizers.analysis.thresholds import threshold
from optimizers.curvature import rule_threshold
from optimizers.engine import RunConfig, plan, summarize

# Stability-map outcomes.
CONVERGED, RUNNING, ESCAPED = 0, 1, 2

Scale = Literal["linear", "log", "log1m"]


class StabilityMap(NamedTuple):
    """`stability_map`: cell [i, j] is the run at second value `values[i]` and rate `lrs[j]`.

    `outcome` is CONVERGED, RUNNING (not settled after the steps) or ESCAPED (diverged);
    `steps` the step it converged or diverged at (NaN while running). `threshold[i]` is the
    rule's critical rate at values[i] (see `threshold`; NaN for rules without one).
    """

    lrs: np.ndarray
    axis: str
    values: np.ndarray
    outcome: np.ndarray
    steps: np.ndarray
    final_loss: np.ndarray
    threshold: np.ndarray


@dataclass(frozen=True)
class SecondAxis:
    """A stability-map axis: the configuration number `grid_key` (as `summarize` names it)
    over [low, high] (clipped to the parameter's own range, and to the step count for step
    counts), spaced linearly, logarithmically, or evenly in log(1 − v) ("log1m": decay rates
    that matter most near 1)."""

    key: str
    label: str
    grid_key: str
    low: float
    high: float
    scale: Scale
    help: str
    integer: bool = False

    def bounds(self, config: RunConfig) -> tuple[float, float]:
        """[low, high] clipped to the parameter's range in this configuration."""
        the_plan = plan(config)
        spec = the_plan.spec(self.grid_key)
        low, high = max(self.low, spec.low), min(self.high, spec.high)
        if self.integer:
            high = min(high, float(the_plan.steps))
        return low, high

    def values(self, config: RunConfig, count: int) -> np.ndarray:
        """`count` values over `bounds(config)`, ascending (whole numbers for counts)."""
        low, high = self.bounds(config)
        if self.scale == "log":
            values = np.geomspace(low, high, count)
        elif self.scale == "log1m":
            values = 1.0 - np.geomspace(1.0 - low, 1.0 - high, count)
        else:
            values = np.linspace(low, high, count)
        return np.round(values) if self.integer else values


SECOND_AXES: Registry[SecondAxis] = Registry(
    "stability-map axis",
    SecondAxis("beta", "momentum β", "hyper.beta", 0.0, 0.99, "linear", "Velocity kept per step."),
    SecondAxis("b1", "β₁ (first moment)", "hyper.b1", 0.0, 0.99, "linear", "Decay of m."),
    SecondAxis("b2", "β₂ (second moment)", "hyper.b2", 0.5, 0.9999, "log1m", "Decay of v."),
    SecondAxis("rho", "ρ (mean square)", "hyper.rho", 0.5, 0.9999, "log1m", "Decay of v."),
    SecondAxis(
        "gamma", "decay factor γ", "schedule.gamma", 0.01, 1.0, "linear", "Schedule's factor."
    ),
    SecondAxis(
        "decay_rate", "decay rate d", "schedule.decay_rate", 0.01, 100.0, "log", "1/k decay."
    ),
    SecondAxis(
        "warmup_steps",
        "warmup length W",
        "warmup.warmup_steps",
        0.0,
        10_000.0,
        "linear",
        "Steps of linear warmup.",
        integer=True,
    ),
    SecondAxis(
        "clip_norm", "clip norm C", "modifiers.clip_norm", 1e-3, 1e3, "log", "Gradient clip."
    ),
    SecondAxis(
        "weight_decay",
        "weight decay λ_w",
        "modifiers.weight_decay",
        1e-4,
        10.0,
        "log",
        "Decoupled decay.",
    ),
    SecondAxis(
        "kappa", "condition number κ", "surface.kappa", 1.0, 1000.0, "log", "Quadratic's κ."
    ),
)


def second_axes(config: RunConfig) -> list[SecondAxis]:
    """The rows of SECOND_AXES that this configuration has a number for."""
    layout = plan(config).layout
    return [axis for axis in SECOND_AXES.values() if axis.grid_key in layout]


def stability_map(
    config: RunConfig,
    lrs: object,
    second_name: str,
    second_values: object,
    cancelled: Cancel | None = None,
) -> StabilityMap:
    """Run every (η, v) of rates `lrs` × values `second_values` of axis `second_name`; each
    cell: converged (and when), still running, or diverged (and when).

    Args:
        config: the base run.
        lrs: strictly increasing positive rates, at least two.
        second_name: a key of SECOND_AXES that the configuration has (see `second_axes`).
        second_values: the values of that number, a 1-D array of finite numbers.
        cancelled: asked between chunks whether to stop (see `summarize`).

    Returns:
        A `StabilityMap` of outcomes, event steps and final losses, with the rule's critical
        rate at each value of the second axis.

    Raises:
        ValueError: for an invalid configuration, rates, axis or values, or over the caps.
        CancelledError: when `cancelled()` said so.

    Heavy ball on the bowl ½‖w‖² is stable for η < 2(1 + β) (1: still running at β = 0.9):

    >>> config = RunConfig("bowl", "momentum", steps=40)
    >>> smap = stability_map(config, [1.0, 3.5], "beta", [0.0, 0.9])
    >>> smap.outcome.tolist(), smap.threshold.round(9).tolist()
    ([[0, 2], [1, 1]], [2.0, 3.8])
    """
    rates = checked_rates(lrs)
    axis = SECOND_AXES.lookup(second_name)
    the_plan = plan(config)
    if axis.grid_key not in the_plan.layout:
        names = ", ".join(a.key for a in second_axes(config)) or "none"
        raise ValueError(
            f"{axis.label} is not a number of this configuration; its axes are: {names}"
        )
    values = np.asarray(second_values, dtype=np.float64)
    if values.ndim != 1 or len(values) < 1 or not np.isfinite(values).all():
        raise ValueError("second_values must be a 1-D array of finite numbers")
    check_work(len(rates) * len(values), the_plan.steps)
    grid_lr, grid_value = np.meshgrid(rates, values)
    grid = {"lr": grid_lr.ravel(), axis.grid_key: grid_value.ravel()}
    summary = summarize(config, grid, cancelled)
    shape = grid_lr.shape
    converged = summary.converged_step.reshape(shape)
    diverged = summary.diverged_step.reshape(shape)
    outcome = np.where(diverged >= 0, ESCAPED, np.where(converged >= 0, CONVERGED, RUNNING))
    steps = np.where(diverged >= 0, diverged, np.where(converged >= 0, converged, np.nan))
    return StabilityMap(
        rates,
        axis.key,
        values,
        outcome.astype(np.int8),
        steps.astype(np.float64),
        summary.final_loss.reshape(shape),
        _thresholds(config, axis, values),
    )


def _thresholds(config: RunConfig, axis: SecondAxis, values: np.ndarray) -> np.ndarray:
    """The critical rate at each value of the map's second axis (NaN where the rule has none).
    λ_max depends on the surface's parameters only, so it is recomputed only along those."""
    base = threshold(config)
    if base is None:
        return np.full(len(values), math.nan)
    if axis.grid_key.startswith("surface."):
        rows = [threshold(with_number(config, axis.grid_key, v)) for v in values]
        return np.array([math.nan if row is None else row.value for row in rows])
    if axis.grid_key == "hyper.beta":
        rates = [rule_threshold(config.optimizer, base.lambda_max, v) for v in values]
        return np.array(rates, dtype=np.float64)
    return np.full(len(values), base.value)
