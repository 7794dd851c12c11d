"""A family of runs that differ only in the learning rate: what a learning-rate scrub shows.

The family's rates are log-spaced over a window around an anchor rate,

    η_j = round₃(η_anchor · 10^(d · (2j/(K−1) − 1))),  j = 0 … K−1,

(rounded to three significant digits, so that a rate picked from the family is a short link
value), plus a few rates just around the rule's critical rate when the window holds one, where
"converges" turns into "diverges". The whole family runs as one batched engine call
(`run_batch`: one compiled program).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from optimizers.engine import RunConfig, Trajectory, run_batch

FAMILY_SIZE = 65  # log-spaced members (odd: the anchor itself is one)
WINDOW_DECADES = 1.5  # the window spans the anchor ×/÷ 10^WINDOW_DECADES
CRITICAL_OFFSETS = (-0.1, -0.05, -0.02, 0.02, 0.05, 0.1)  # extra members at η_c · (1 + offset)
EDGE_MEMBERS = 2  # a committed rate this close to an edge moves the window


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


def nearest(rates: np.ndarray, rate: float) -> int:
    """The index of the member whose rate is nearest `rate` on a log scale."""
    return int(np.abs(np.log(rates) - math.log(max(rate, 1e-300))).argmin())


class Family(NamedTuple):
    """The runs of one configuration at each of `rates` (the same order)."""

    rates: np.ndarray
    members: list[Trajectory]


def run_family(config: RunConfig, rates: np.ndarray) -> Family:
    """Every member of the family of `config` (its own rate is ignored), as one batched call."""
    return Family(rates, run_batch([replace(config, lr=float(rate)) for rate in rates]))
