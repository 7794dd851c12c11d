"""A family of runs that differ only in the learning rate, or only in the momentum β (Adam's β₁):
what a live scrub shows.

The family's rates are log-spaced over a window around an anchor rate,

    η_j = round₃(η_anchor · 10^(d · (2j/(K−1) − 1))),  j = 0 … K−1,

(rounded to three significant digits, so that a rate picked from the family is a short link
value), plus a few rates just around the rule's critical rate when the window holds one, where
"converges" turns into "diverges". A momentum family spans its whole range [0, β_max], evenly in
log(1 − β), so that 0.99 is as far from 0.999 as 0.9 is from 0.99 (`momentum_window`). The whole
family runs as one batched engine call (`run_batch`: one compiled program).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from common.params import ParamSpec
from optimizers.engine import RunConfig, Trajectory, run_batch

FAMILY_SIZE = 65  # log-spaced members (odd: the anchor itself is one)
WINDOW_DECADES = 1.5  # the window spans the anchor ×/÷ 10^WINDOW_DECADES
CRITICAL_OFFSETS = (-0.1, -0.05, -0.02, 0.02, 0.05, 0.1)  # extra members at η_c · (1 + offset)
EDGE_MEMBERS = 2  # a committed rate this close to an edge moves the window
MOMENTUM_NAMES = ("beta", "b1")  # the hyperparameters scrubbed too: momentum β, Adam's β₁
# Momentum members per decade of 1 − β: 67 over [0, 0.999], more than 64, so that the batch is
# padded as a rates' family's is (engine.api._padded) and runs its compiled program.
MOMENTUM_PER_DECADE = 22
RATE = "lr"  # the parameter of a learning-rate family


def significant(value: float, digits: int = 3) -> float:
    """`value` rounded to `digits` significant digits (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def window(
    anchor: float,
    low: float,
    high: float,
    critical: float | None = None,
    size: int = FAMILY_SIZE,
    decades: float = WINDOW_DECADES,
) -> np.ndarray:
    """The family's rates, ascending and distinct: `size` log-spaced rates over
    anchor · 10^[−decades, decades], shifted to lie in [low, high] (the rule's allowed range),
    plus rates at η_c · (1 + CRITICAL_OFFSETS) where the critical rate η_c lies inside.

    Raises:
        ValueError: when the anchor or the range is not a positive finite number.
    """
    if not all(math.isfinite(v) and v > 0 for v in (anchor, low, high)) or low >= high:
        raise ValueError(f"no learning-rate window around {anchor!r} in [{low!r}, {high!r}]")
    span = min(decades, math.log10(high / low) / 2)
    centre = min(max(math.log10(anchor), math.log10(low) + span), math.log10(high) - span)
    rates = list(10.0 ** np.linspace(centre - span, centre + span, size))
    if critical is not None and rates[0] < critical < rates[-1]:
        rates += [critical * (1 + offset) for offset in CRITICAL_OFFSETS]
    rounded = {significant(float(r)) for r in rates}
    return np.array(sorted(r for r in rounded if low <= r <= high))


def holds(rates: np.ndarray, rate: float) -> bool:
    """Whether a committed `rate` is well inside the window (not within EDGE_MEMBERS of an end),
    so that the family can stay as it is."""
    return len(rates) > 2 * EDGE_MEMBERS and (
        rates[EDGE_MEMBERS] <= rate <= rates[-1 - EDGE_MEMBERS]
    )


def momentum_spec(hyper: Sequence[ParamSpec]) -> ParamSpec | None:
    """The rule's momentum among its hyperparameters `hyper`, if it has one: a decay named in
    MOMENTUM_NAMES, on [0, high] with high < 1 (hypergradient descent's β, a rate, is not)."""
    return next(
        (s for s in hyper if s.name in MOMENTUM_NAMES and s.low == 0 < s.high < 1 and not s.log),
        None,
    )


def momentum_window(current: float, high: float, resolution: float) -> np.ndarray:
    """A momentum family's values, ascending and distinct: β from 0 to `high` < 1, evenly spaced
    in log(1 − β), MOMENTUM_PER_DECADE to a decade of 1 − β, with 1 − β rounded to two
    significant digits and β to a multiple of `resolution` (its widget's step),

        1 − β_j = round₂(10^(−j/n)),  j = 0 … n·log₁₀(1/(1 − high)),

    plus `current` itself (the committed value is a member). β = 0.9, 0.99, 0.999 are members.

    Raises:
        ValueError: unless 0 ≤ current ≤ high < 1 and resolution > 0.
    """
    if not (math.isfinite(current) and 0 <= current <= high < 1 and resolution > 0):
        raise ValueError(f"no momentum window around {current!r} in [0, {high!r}]")
    decades = math.log10(1 / (1 - high))
    steps = math.ceil(MOMENTUM_PER_DECADE * decades - 1e-9)  # 1 − high = 10⁻³ is 3 decades
    gaps = 10.0 ** -np.linspace(0.0, decades, steps + 1)
    values = {
        round(round((1 - significant(float(g), 2)) / resolution) * resolution, 12) for g in gaps
    }
    return np.array(sorted(v for v in values | {current} if v <= high))


def position(param: str, values: np.ndarray | float) -> np.ndarray:
    """Where `values` sit along their scrub: log η for a rate, −log(1 − β) for a momentum."""
    array = np.asarray(values, dtype=np.float64)
    return np.log(np.maximum(array, 1e-300)) if param == RATE else -np.log1p(-array)


def nearest(values: np.ndarray, value: float, param: str = RATE) -> int:
    """The index of the member nearest `value` along the scrub (see `position`)."""
    return int(np.abs(position(param, values) - position(param, value)).argmin())


def member(config: RunConfig, param: str, value: float) -> RunConfig:
    """`config` with its rate (`param` "lr") or hyperparameter `param` set to `value`."""
    if param == RATE:
        return replace(config, lr=value)
    return replace(config, hyper={**config.hyper, param: value})


class Family(NamedTuple):
    """The runs of one configuration at each of `values` of `param` (the same order)."""

    param: str
    values: np.ndarray
    members: list[Trajectory]


def run_family(config: RunConfig, values: np.ndarray, param: str = RATE) -> Family:
    """Every member of the family of `config` over `param` (its own value of `param` is ignored),
    as one batched call."""
    configs = [member(config, param, float(value)) for value in values]
    return Family(param, values, run_batch(configs))
