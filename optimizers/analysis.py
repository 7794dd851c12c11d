"""Learning-rate analysis: hundreds of runs at once, on top of `summarize`.

    lr_sweep          K log-spaced rates η₁ < … < η_K: final loss, best loss, steps to converge
    stability_map     rates × a second hyperparameter (a row of `SECOND_AXES`): outcome per cell
    range_test        the "LR finder": one run with η_k = η_min (η_max/η_min)^(k/(N−1))
    basin_map         a grid of starts: which known minimum each one reaches
    curvature_report  Hessian eigenvalues and condition numbers at the start and nearest minimum

Every function validates its input and raises ValueError with a message naming the problem.
Work per request is capped: at most MAX_CONFIGURATIONS variants and MAX_WORK variant-steps, a
hard limit (about 8 s here on the cheapest surface); the pages hold every request to a budget
of CPU time first (`optimizers.cost`), estimated from what each step costs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np

from optimizers.curvature import (
    THRESHOLD_FORMULAS,
    gd_threshold,
    hessian_eigenvalues,
    momentum_threshold,
    nesterov_threshold,
)
from optimizers.engine import (
    DIVERGENCE_RADIUS,
    MODIFIERS,
    RunConfig,
    Summary,
    plan,
    summarize,
)
from optimizers.engine import run_with_rates as engine_run_with_rates
from optimizers.report import NEAR
from optimizers.schedules import WARMUP_PARAMS
from surfaces import CriticalPoint, ParamSpec, Surface
from surfaces.params import Registry

Cancel = Callable[[], bool]  # asked between chunks whether to stop (see `summarize`)
MAX_CONFIGURATIONS = 250_000  # variants in one request
MAX_WORK = 400_000_000  # variants × steps in one request
MIN_SWEEP_RATES = 2
MAX_RANGE_STEPS = 10_000
BLOWUP_FACTOR = 4.0  # the range test stops once L − floor exceeds this × (L₀ − floor)
VALLEY_FRACTIONS = (0.1, 0.9)  # the valley: from 10 % to 90 % of the smoothed loss's fall
SMOOTHING_FRACTION = 0.04  # the range test's centred moving average spans this share of N

# Basin labels (a start that reaches known minimum i is labelled i ≥ 0).
DIVERGED = -1
UNFINISHED = -2  # neither diverged nor near a known minimum nor settled
ELSEWHERE = -3  # settled, but not at a known minimum (a saddle or an unlisted point)

# Stability-map outcomes.
CONVERGED, RUNNING, ESCAPED = 0, 1, 2


class Threshold(NamedTuple):
    """The critical learning rate of a rule from the Hessian's largest eigenvalue λ_max.

    `exact` holds where the iteration is linear (a positive-definite quadratic, constant rate,
    no warmup, clipping, noise or weight decay); elsewhere it is the local estimate at `point`.
    λ_max includes the L2 penalty λ₂ (the objective is f + (λ₂/2)‖w‖²).
    """

    value: float
    exact: bool
    lambda_max: float
    formula: str
    point: tuple[float, float]


class Sweep(NamedTuple):
    """`lr_sweep`: one entry per rate (ascending). Steps are −1 where that did not happen.

    `boundary` is the smallest rate that diverged (None if none did).
    """

    lrs: np.ndarray
    final_loss: np.ndarray
    best_loss: np.ndarray
    converged_step: np.ndarray
    diverged_step: np.ndarray
    threshold: Threshold | None
    boundary: float | None


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


class RangeTest(NamedTuple):
    """`range_test`: η_k and L(w_k) for k < N, positions w_0 … w_N, the smoothed log-loss.

    `stop` is the first step where the loss blew up (see `range_test`), or N. The suggestions
    are None where the loss never fell before the blow-up.
    """

    lrs: np.ndarray
    loss: np.ndarray
    positions: np.ndarray
    smoothed: np.ndarray
    stop: int
    steepest: float | None
    steepest_index: int | None
    valley: float | None
    valley_index: int | None
    valley_span: tuple[int, int] | None


class BasinMap(NamedTuple):
    """`basin_map`: label[i, j] for the start (xs[j], ys[i]): the index in `minima` of the known
    minimum reached, or DIVERGED, UNFINISHED, ELSEWHERE."""

    xs: np.ndarray
    ys: np.ndarray
    label: np.ndarray
    minima: tuple[CriticalPoint, ...]
    final_position: np.ndarray


class PointCurvature(NamedTuple):
    """The Hessian at one point: eigenvalues λ₁ ≤ λ₂, condition number κ = |λ|_max / |λ|_min
    (∞ where an eigenvalue is 0), and the GD threshold 2/λ_max (∞ where λ_max ≤ 0)."""

    point: tuple[float, float]
    eigenvalues: np.ndarray
    condition: float
    positive_definite: bool
    gd_rate: float


class CurvatureReport(NamedTuple):
    """Curvature at the start and at the known minimum nearest to it (None: none listed)."""

    start: PointCurvature
    minimum: PointCurvature | None
    nearest: CriticalPoint | None


# The second hyperparameter of the stability map.

Scale = Literal["linear", "log", "log1m"]


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
        spec = _spec_of(the_plan, self.grid_key)
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


def _spec_of(the_plan, grid_key: str) -> ParamSpec:
    group, _, name = grid_key.partition(".")
    specs = {
        "hyper": the_plan.optimizer.hyper,
        "schedule": the_plan.schedule.params,
        "warmup": WARMUP_PARAMS,
        "modifiers": MODIFIERS,
        "surface": the_plan.surface.params,
    }.get(group, ())
    for spec in specs:
        if spec.name == name:
            return spec
    raise ValueError(f"this configuration has no number {grid_key!r}")


# Checks.


def _check_work(count: int, steps: int) -> None:
    if count > MAX_CONFIGURATIONS:
        raise ValueError(
            f"{count} variants in one request; at most {MAX_CONFIGURATIONS} are allowed"
        )
    if count * steps > MAX_WORK:
        raise ValueError(
            f"{count} variants × {steps} steps = {count * steps:,} steps exceeds the cap of "
            f"{MAX_WORK:,}: use fewer steps or a coarser grid"
        )


def _rates(lrs: object, name: str = "lrs") -> np.ndarray:
    rates = np.asarray(lrs, dtype=np.float64)
    if rates.ndim != 1 or len(rates) < MIN_SWEEP_RATES:
        raise ValueError(f"{name} must be a 1-D array of at least {MIN_SWEEP_RATES} rates")
    if not (np.isfinite(rates).all() and (rates > 0).all()):
        raise ValueError(f"{name} must be positive finite learning rates")
    if not (np.diff(rates) > 0).all():
        raise ValueError(f"{name} must be strictly increasing")
    return rates


def log_rates(low: float, high: float, count: int) -> np.ndarray:
    """`count` rates evenly spaced in log η from `low` to `high` (both included)."""
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(f"the rate range needs 0 < low < high, got [{low:g}, {high:g}]")
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 2:
        raise ValueError(f"the number of rates must be a whole number ≥ 2, got {count!r}")
    return np.geomspace(low, high, int(count))


# Thresholds.


def rule_threshold(optimizer: str, lambda_max: float, beta: float = 0.0) -> float | None:
    """2/λ_max (GD), 2(1+β)/λ_max (heavy ball), 2(1+β)/((1+2β)λ_max) (Nesterov); None for
    rules without such a limit."""
    rules = {
        "gd": lambda: gd_threshold(lambda_max),
        "momentum": lambda: momentum_threshold(lambda_max, beta),
        "nesterov": lambda: nesterov_threshold(lambda_max, beta),
    }
    return rules[optimizer]() if optimizer in rules else None


def threshold(config: RunConfig) -> Threshold | None:
    """The rule's critical rate from the Hessian of f + (λ₂/2)‖w‖² at the start; None for rules
    without one (adaptive, sign-based, Newton)."""
    the_plan = plan(config)
    if config.optimizer not in THRESHOLD_FORMULAS:
        return None
    numbers = dict(zip(the_plan.layout, the_plan.numbers.tolist(), strict=True))
    start = (numbers["start.x"], numbers["start.y"])
    params = {spec.name: numbers[f"surface.{spec.name}"] for spec in the_plan.surface.params}
    eigenvalues = hessian_eigenvalues(the_plan.surface, start, params) + numbers["modifiers.l2"]
    lambda_max = float(eigenvalues[-1])
    value = rule_threshold(config.optimizer, lambda_max, numbers.get("hyper.beta", 0.0))
    assert value is not None
    linear = (
        "quadratic" in the_plan.surface.tags
        and eigenvalues[0] > 0
        and the_plan.schedule.key == "constant"
        and all(
            numbers[name] == 0
            for name in (
                "warmup.warmup_steps",
                "modifiers.clip_value",
                "modifiers.clip_norm",
                "modifiers.noise_std",
                "modifiers.weight_decay",
            )
        )
    )
    return Threshold(value, bool(linear), lambda_max, THRESHOLD_FORMULAS[config.optimizer], start)


# Sweeps and maps.


def lr_sweep(config: RunConfig, lrs: object, cancelled: Cancel | None = None) -> Sweep:
    """Run `config` at every rate in `lrs` (strictly increasing) at once (`cancelled`: see
    `summarize`)."""
    rates = _rates(lrs)
    _check_work(len(rates), plan(config).steps)
    summary = summarize(config, {"lr": rates}, cancelled)
    diverged = summary.diverged_step >= 0
    boundary = float(rates[diverged][0]) if diverged.any() else None
    return Sweep(
        rates,
        summary.final_loss,
        summary.best_loss,
        summary.converged_step,
        summary.diverged_step,
        threshold(config),
        boundary,
    )


def stability_map(
    config: RunConfig,
    lrs: object,
    second_name: str,
    second_values: object,
    cancelled: Cancel | None = None,
) -> StabilityMap:
    """Run every (η, v) of rates `lrs` × values `second_values` of axis `second_name` (a key of
    SECOND_AXES); each cell: converged (and when), still running, or diverged (and when).
    `cancelled`: see `summarize`."""
    rates = _rates(lrs)
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
    _check_work(len(rates) * len(values), the_plan.steps)
    grid_lr, grid_value = np.meshgrid(rates, values)
    grid = {"lr": grid_lr.ravel(), axis.grid_key: grid_value.ravel()}
    summary = summarize(config, grid, cancelled)
    shape = grid_lr.shape
    converged = summary.converged_step.reshape(shape)
    diverged = summary.diverged_step.reshape(shape)
    outcome = np.where(diverged >= 0, ESCAPED, np.where(converged >= 0, CONVERGED, RUNNING))
    steps = np.where(diverged >= 0, diverged, np.where(converged >= 0, converged, np.nan))
    critical = _thresholds(config, axis, values)
    return StabilityMap(
        rates,
        axis.key,
        values,
        outcome.astype(np.int8),
        steps.astype(np.float64),
        summary.final_loss.reshape(shape),
        critical,
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


_FIELDS = {
    "hyper": "hyper",
    "schedule": "schedule_params",
    "warmup": "warmup",
    "modifiers": "modifiers",
    "surface": "surface_params",
}


def with_number(config: RunConfig, grid_key: str, value: float) -> RunConfig:
    """`config` with one number set, named as `summarize` names it ("lr", "hyper.beta", …)."""
    if grid_key == "lr":
        return replace(config, lr=float(value))
    group, _, name = grid_key.partition(".")
    if group not in _FIELDS or not name:
        raise ValueError(f"cannot set {grid_key!r}; use 'lr' or one of {', '.join(_FIELDS)}.*")
    field = _FIELDS[group]
    return replace(config, **{field: {**getattr(config, field), name: float(value)}})


def basin_map(
    config: RunConfig, resolution: int, capture: float = NEAR, cancelled: Cancel | None = None
) -> BasinMap:
    """Start `config` from every node of a resolution × resolution grid over the surface's box.

    A start is labelled with the known minimum (global or local) its final position lies within
    `capture` × the box diagonal of; else DIVERGED, ELSEWHERE (converged anywhere else) or
    UNFINISHED. `cancelled`: see `summarize`.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ValueError(f"resolution must be a whole number ≥ 2, got {resolution!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be ≥ 2, got {resolution}")
    if not (math.isfinite(capture) and capture > 0):
        raise ValueError(f"capture must be a positive fraction of the diagonal, got {capture!r}")
    the_plan = plan(config)
    _check_work(resolution * resolution, the_plan.steps)
    x0, x1, y0, y1 = the_plan.surface.box
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(xs, ys)
    summary = summarize(config, {"start": np.column_stack([X.ravel(), Y.ravel()])}, cancelled)
    params = _surface_params(the_plan)
    minima = tuple(
        p for p in the_plan.surface.critical_points(params) if p.kind in ("global", "local")
    )
    label = _labels(summary, minima, capture * math.hypot(x1 - x0, y1 - y0))
    shape = (resolution, resolution)
    return BasinMap(xs, ys, label.reshape(shape), minima, summary.final_position.reshape(*shape, 2))


def _labels(summary: Summary, minima: tuple[CriticalPoint, ...], radius: float) -> np.ndarray:
    label = np.where(summary.converged_step >= 0, ELSEWHERE, UNFINISHED)
    if minima:
        centres = np.array([(p.x, p.y) for p in minima])
        distance = np.linalg.norm(summary.final_position[:, None, :] - centres[None], axis=2)
        nearest = distance.argmin(axis=1)
        label = np.where(distance.min(axis=1) <= radius, nearest, label)
    return np.where(summary.diverged_step >= 0, DIVERGED, label).astype(np.int64)


def _surface_params(the_plan) -> dict[str, float]:
    numbers = dict(zip(the_plan.layout, the_plan.numbers.tolist(), strict=True))
    return {spec.name: numbers[f"surface.{spec.name}"] for spec in the_plan.surface.params}


# Curvature.


def point_curvature(
    surface: Surface, params: Mapping[str, float] | None, point: tuple[float, float]
) -> PointCurvature:
    """Eigenvalues of ∇²f at `point`, κ = |λ|_max/|λ|_min and 2/λ_max."""
    eigenvalues = hessian_eigenvalues(surface, point, params)
    if not np.isfinite(eigenvalues).all():
        raise ValueError(f"the Hessian at {point} is not finite")
    magnitudes = np.abs(eigenvalues)
    condition = float(magnitudes.max() / magnitudes.min()) if magnitudes.min() > 0 else math.inf
    return PointCurvature(
        (float(point[0]), float(point[1])),
        eigenvalues,
        condition,
        bool(eigenvalues[0] > 0),
        gd_threshold(float(eigenvalues[-1])),
    )


def curvature_report(
    surface: Surface, params: Mapping[str, float] | None, start: tuple[float, float]
) -> CurvatureReport:
    """Curvature at `start` and at the known minimum (global or local) nearest to it."""
    if len(start) != 2 or not all(math.isfinite(float(v)) for v in start):
        raise ValueError(f"start must be a finite point (x, y), got {start!r}")
    minima = [p for p in surface.critical_points(params) if p.kind in ("global", "local")]
    nearest = min(minima, key=lambda p: math.hypot(p.x - start[0], p.y - start[1]), default=None)
    at_minimum = point_curvature(surface, params, (nearest.x, nearest.y)) if nearest else None
    return CurvatureReport(point_curvature(surface, params, start), at_minimum, nearest)


# The LR range test.


def run_with_rates(config: RunConfig, rates: object) -> tuple[np.ndarray, np.ndarray]:
    """Positions w_0 … w_N and losses L(w_0) … L(w_{N−1}) of `config` with the rate η_k given
    for each of the N steps (its schedule and warmup are ignored: the rates are the schedule)."""
    etas = np.asarray(rates, dtype=np.float64)
    if etas.ndim != 1 or not 1 <= len(etas) <= MAX_RANGE_STEPS:
        raise ValueError(f"rates must be a 1-D array of 1 to {MAX_RANGE_STEPS} values")
    if not (np.isfinite(etas).all() and (etas > 0).all()):
        raise ValueError("rates must be positive finite numbers")
    with np.errstate(all="ignore"):
        return engine_run_with_rates(config, etas)


def _centred_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average (edges use the values available): no lag, unlike an EMA."""
    half = window // 2
    padded = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    lo, hi = np.maximum(index - half, 0), np.minimum(index + half + 1, len(values))
    return (padded[hi] - padded[lo]) / (hi - lo)


def range_test(config: RunConfig, lr_min: float, lr_max: float, steps: int) -> RangeTest:
    """The LR range test: one run of `steps` steps whose rate grows geometrically,
    η_k = η_min (η_max/η_min)^(k/(N−1)), recording L_k = L(w_k). Deterministic.

    The test stops at the first step where w_k leaves the finite numbers or the divergence
    radius, or L_k − f_floor > BLOWUP_FACTOR (L_0 − f_floor) (f_floor: the known minimum value,
    else the lowest loss seen). Both rules read s_k, the log-loss log10(L_k − f_floor + ε)
    smoothed by a centred moving average over SMOOTHING_FRACTION of N, up to its lowest point:

    - steepest: the rate where s falls fastest against log η (most negative ds/dlog η): where
      the loss gains most from a larger rate; bold, it often sits close to the cliff.
    - valley: the valley is the stretch from where s has made 10 % of its fall (from s_0 to its
      lowest point) to where it has made 90 %; the suggestion is its middle on the log-rate
      axis: well inside the band where the loss falls, away from both crawl and cliff.
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise ValueError(f"steps must be a whole number in [10, {MAX_RANGE_STEPS}]")
    if not 10 <= steps <= MAX_RANGE_STEPS:
        raise ValueError(f"steps = {steps} is outside [10, {MAX_RANGE_STEPS}]")
    lrs = log_rates(lr_min, lr_max, int(steps))
    positions, loss = run_with_rates(config, lrs)
    the_plan = plan(config)
    stop = _blowup(the_plan, positions[:-1], loss)
    kept = loss[:stop]
    known = the_plan.surface.minimum_value(_surface_params(the_plan))
    floor = min(known, float(kept.min())) if (known is not None and len(kept)) else None
    if floor is None:
        floor = float(kept.min()) if len(kept) else 0.0
    smoothed = np.full(len(loss), np.nan)
    empty = RangeTest(lrs, loss, positions, smoothed, stop, None, None, None, None, None)
    if stop < 3:
        return empty
    epsilon = 1e-12 * max(1.0, abs(kept[0] - floor))
    window = max(3, int(SMOOTHING_FRACTION * steps) | 1)
    s = _centred_mean(np.log10(kept - floor + epsilon), window)
    smoothed[:stop] = s
    bottom = int(np.argmin(s))
    fall = s[0] - s[bottom]
    if bottom < 2 or not fall > 0:
        return empty._replace(smoothed=smoothed)
    slope = np.gradient(s[: bottom + 1], np.log(lrs[: bottom + 1]))
    steepest = int(np.argmin(slope))
    first = int(np.argmax(s <= s[0] - VALLEY_FRACTIONS[0] * fall))
    last = int(np.argmax(s <= s[0] - VALLEY_FRACTIONS[1] * fall))
    middle = (first + last) // 2
    return RangeTest(
        lrs,
        loss,
        positions,
        smoothed,
        stop,
        float(lrs[steepest]),
        steepest,
        float(lrs[middle]),
        middle,
        (first, last),
    )


def _blowup(the_plan, positions: np.ndarray, loss: np.ndarray) -> int:
    """The first step whose position or loss is not finite, which left the divergence radius,
    or whose loss exceeds the start's by BLOWUP_FACTOR (over the floor); len(loss) if none."""
    x0, x1, y0, y1 = the_plan.surface.box
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    radius = DIVERGENCE_RADIUS * math.hypot(x1 - x0, y1 - y0) / 2
    known = the_plan.surface.minimum_value(_surface_params(the_plan))
    with np.errstate(all="ignore"):
        finite = np.isfinite(loss) & np.isfinite(positions).all(axis=1)
        if not finite.any():
            return 0
        floor = known if known is not None else float(loss[finite].min())
        bad = ~finite | (np.linalg.norm(positions - centre, axis=1) > radius)
        if finite[0]:
            bad |= loss - floor > BLOWUP_FACTOR * max(loss[0] - floor, 0.0)
    return int(np.argmax(bad)) if bad.any() else len(loss)
