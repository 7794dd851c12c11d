"""The LR range test ("LR finder"): one run whose rate grows geometrically, and where to stop."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optimizers.analysis.inputs import log_rates
from optimizers.engine import Plan, RunConfig, plan
from optimizers.engine import run_with_rates as engine_run_with_rates
from optimizers.engine.kernels import box_geometry

MAX_RANGE_STEPS = 10_000
BLOWUP_FACTOR = 4.0  # the range test stops once L − floor exceeds this × (L₀ − floor)
VALLEY_FRACTIONS = (0.1, 0.9)  # the valley: from 10 % to 90 % of the smoothed loss's fall
SMOOTHING_FRACTION = 0.04  # the range test's centred moving average spans this share of N


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


def run_with_rates(config: RunConfig, rates: object) -> tuple[np.ndarray, np.ndarray]:
    """Positions w_0 … w_N and losses L(w_0) … L(w_{N−1}) of `config` with the rate η_k given
    for each of the N steps (its schedule and warmup are ignored: the rates are the schedule).

    Raises:
        ValueError: unless `rates` holds 1 to MAX_RANGE_STEPS positive finite numbers.
    """
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

    Args:
        config: the run; its rate, schedule and warmup are replaced by the growing rates.
        lr_min: η_0, > 0.
        lr_max: η_{N−1}, > lr_min.
        steps: N, a whole number in [10, MAX_RANGE_STEPS].

    Returns:
        A `RangeTest`: rates, losses, positions, the smoothed log-loss, the stop and the two
        suggestions (None where the loss never fell).

    Raises:
        ValueError: for an invalid configuration, rate range or step count.

    GD on the bowl ½‖w‖² blows up once η passes 2, and suggests rates below:

    >>> test = range_test(RunConfig("bowl", "gd"), 1e-3, 100.0, 100)
    >>> bool(test.lrs[test.stop] > 2.0), test.valley < 2.0
    (True, True)
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
    known = the_plan.surface.minimum_value(the_plan.surface_params())
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


def _blowup(the_plan: Plan, positions: np.ndarray, loss: np.ndarray) -> int:
    """The first step whose position or loss is not finite, which left the divergence radius,
    or whose loss exceeds the start's by BLOWUP_FACTOR (over the floor); len(loss) if none."""
    centre, radius = box_geometry(the_plan.surface)
    known = the_plan.surface.minimum_value(the_plan.surface_params())
    with np.errstate(all="ignore"):
        finite = np.isfinite(loss) & np.isfinite(positions).all(axis=1)
        if not finite.any():
            return 0
        floor = known if known is not None else float(loss[finite].min())
        bad = ~finite | (np.linalg.norm(positions - centre, axis=1) > radius)
        if finite[0]:
            bad |= loss - floor > BLOWUP_FACTOR * max(loss[0] - floor, 0.0)
    return int(np.argmax(bad)) if bad.any() else len(loss)
