"""Y axes of the metric panels: log or linear, ranges capped so a diverging run leaves through
the top (and a vanishing one through a floor at the bottom), and readable log ticks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

HEADROOM_DECADES = 3.0  # a log metric axis ends this many decades above the highest start …
HEADROOM_SPANS = 2.0  # … a linear one this many (start − lowest) spans above it
LOG_TICKS = 6  # at most about this many decade labels on a metric log axis …
LOG_TICK_MIN_DECADES = 1.5  # … once it spans this many decades (else Plotly's own ticks)
FLOOR_DECADES = 12  # a log metric axis ends this many decades below the highest start …
MAX_DECADES = 14  # … and spans at most this many: lower values leave through the bottom edge


def padded_range(series: Sequence[np.ndarray]) -> list[float] | None:
    """A log y range (in decades) over the positive values, padded by 15 % of its span (at
    least 0.15 decade) each side: room for a line's label at either end."""
    positive = [s[s > 0] for s in series]
    positive = [p for p in positive if len(p)]
    if not positive:
        return None
    low = math.log10(min(p.min() for p in positive))
    high = math.log10(max(p.max() for p in positive))
    pad = 0.15 * max(high - low, 1.0)
    return [low - pad, high + pad]


def axis_type(series: Sequence[np.ndarray]) -> str:
    """Log when every value is positive, else linear (a log axis would drop the rest)."""
    return "log" if all((s > 0).all() for s in series if len(s)) else "linear"


def _floor(start: float, top: float) -> int:
    """The bottom of a log axis, a whole decade: FLOOR_DECADES below `start`, but at most
    MAX_DECADES below `top` (both in decades)."""
    return max(math.floor(start - FLOOR_DECADES), math.ceil(top - MAX_DECADES))


def floored_log_axis(values: np.ndarray) -> dict:
    """A log axis's range (in decades) and ticks over the positive values, ending at their
    `_floor` below the highest with that bottom tick marked "below …" (see `log_ticks`);
    nothing (autorange) where no value lies below the floor: 1e-270 does not stretch the axis."""
    positive = values[values > 0]
    if not len(positive):
        return {}
    low, high = math.log10(positive.min()), math.log10(positive.max())
    floor = _floor(high, high)
    if low >= floor:
        return {}
    y_range = [floor, high + 0.03 * (high - floor)]
    return {"range": y_range, **log_ticks([positive], y_range)}


def capped_range(series: Sequence[np.ndarray], log: bool) -> list[float] | None:
    """A y range whose top is HEADROOM above the highest starting value, so that a diverging run
    leaves through the top instead of squashing every other curve; on a log axis, whose bottom
    is the `_floor` below that start where a run goes lower (it leaves through the bottom, see
    `log_ticks`); None (autorange) when no value goes that high or low. Log ranges are in
    decades, as Plotly takes them."""
    curves = [s[s > 0] if log else s for s in series]
    curves = [c for c in curves if len(c)]
    if not curves:
        return None
    low, high = min(c.min() for c in curves), max(c.max() for c in curves)
    start = max(c[0] for c in curves)
    if log:
        low, high, start = math.log10(low), math.log10(high), math.log10(start)
        top = start + HEADROOM_DECADES
    else:
        top = start + HEADROOM_SPANS * ((start - low) or abs(start) or 1.0)
    capped = high > top
    top = top if capped else high
    floor = _floor(start, top) if log else low
    if not capped and low >= floor:
        return None
    if low < floor:  # the bottom edge is the floor itself
        return [floor, top + 0.03 * (top - floor)]
    pad = 0.03 * (top - low)
    return [low - pad, top + pad]


def _decade_text(decade: int) -> str:
    """10^k as Plotly's power format writes it: 1, 10, else 10 with a superscript."""
    return {0: "1", 1: "10"}.get(decade, f"10<sup>{decade}</sup>".replace("-", "−"))


def log_ticks(
    series: Sequence[np.ndarray], y_range: list[float] | None, below: str | None = None
) -> dict:
    """A metric log axis's tick settings. Over LOG_TICK_MIN_DECADES or more: whole decades only
    (every k-th, for about LOG_TICKS labels), as Plotly's automatic 2 and 5 labels crowd the
    short subplots. Over less, where decades alone would leave ≤ 1 tick: 1, 2 and 5 times the
    decades, labelled with their values (Plotly would label every digit 2 … 9, overlapping).
    Nothing (Plotly's own ticks) where fewer than two such ticks fall inside the values.
    Where values lie below the range's bottom (a floor, see `_floor`), every k-th decade up
    from it, the bottom one labelled `below` (default "below 1e-12", its value)."""
    positive = [s[s > 0] for s in series]
    positive = [p for p in positive if len(p)]
    if not positive:
        return {}
    low = min(p.min() for p in positive)
    high = max(p.max() for p in positive)
    if y_range is not None and low < 10.0 ** y_range[0]:  # floored: decades up from the floor
        floor, top = round(y_range[0]), math.floor(y_range[1])
        decades = list(range(floor, top + 1, max(1, round((top - floor) / LOG_TICKS))))
        text = [below or f"below 1e{floor}", *map(_decade_text, decades[1:])]
        return {"tickmode": "array", "tickvals": [10.0**d for d in decades], "ticktext": text}
    if y_range is not None:  # the axis's range, in decades, where it is set
        low, high = 10.0 ** y_range[0], 10.0 ** y_range[1]
    span = math.log10(high / low)
    if span >= LOG_TICK_MIN_DECADES:
        return {"dtick": max(1, round(span / LOG_TICKS))}
    powers = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ticks = [m * 10.0**k for k in powers for m in (1, 2, 5) if low <= m * 10.0**k <= high]
    if len(ticks) < 2:
        return {}
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}
