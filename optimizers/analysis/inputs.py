"""What the analyses share: the caps on a request, rate arrays, one number set in a config."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from optimizers.engine import RunConfig

Cancel = Callable[[], bool]  # asked between chunks whether to stop (see `summarize`)
MAX_CONFIGURATIONS = 250_000  # variants in one request
MAX_WORK = 400_000_000  # variants × steps in one request
MIN_SWEEP_RATES = 2


def check_work(count: int, steps: int) -> None:
    """ValueError where `count` variants of `steps` steps exceed MAX_CONFIGURATIONS or
    MAX_WORK variant-steps."""
    if count > MAX_CONFIGURATIONS:
        raise ValueError(
            f"{count} variants in one request; at most {MAX_CONFIGURATIONS} are allowed"
        )
    if count * steps > MAX_WORK:
        raise ValueError(
            f"{count} variants × {steps} steps = {count * steps:,} steps exceeds the cap of "
            f"{MAX_WORK:,}: use fewer steps or a coarser grid"
        )


def checked_rates(lrs: object, name: str = "lrs") -> np.ndarray:
    """`lrs` as a float64 array; ValueError unless 1-D, at least MIN_SWEEP_RATES long,
    positive, finite and strictly increasing."""
    rates = np.asarray(lrs, dtype=np.float64)
    if rates.ndim != 1 or len(rates) < MIN_SWEEP_RATES:
        raise ValueError(f"{name} must be a 1-D array of at least {MIN_SWEEP_RATES} rates")
    if not (np.isfinite(rates).all() and (rates > 0).all()):
        raise ValueError(f"{name} must be positive finite learning rates")
    if not (np.diff(rates) > 0).all():
        raise ValueError(f"{name} must be strictly increasing")
    return rates


def log_rates(low: float, high: float, count: int) -> np.ndarray:
    """`count` rates evenly spaced in log η from `low` to `high` (both included).

    Raises:
        ValueError: unless 0 < low < high (finite) and count is a whole number ≥ 2.

    >>> log_rates(0.01, 1.0, 3).tolist()
    [0.01, 0.1, 1.0]
    """
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(f"the rate range needs 0 < low < high, got [{low:g}, {high:g}]")
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 2:
        raise ValueError(f"the number of rates must be a whole number ≥ 2, got {count!r}")
    return np.geomspace(low, high, int(count))


# The field of RunConfig that holds each group of numbers.
_FIELDS = {
    "hyper": "hyper",
    "schedule": "schedule_params",
    "warmup": "warmup",
    "modifiers": "modifiers",
    "surface": "surface_params",
}


def with_number(config: RunConfig, grid_key: str, value: float) -> RunConfig:
    """`config` with one number set, named as `summarize` names it ("lr", "hyper.beta", …).

    Raises:
        ValueError: for a name that is not "lr" or "group.name" of a parameter group.

    >>> with_number(RunConfig("bowl", "momentum"), "hyper.beta", 0.5).hyper
    {'beta': 0.5}
    """
    if grid_key == "lr":
        return replace(config, lr=float(value))
    group, _, name = grid_key.partition(".")
    if group not in _FIELDS or not name:
        raise ValueError(f"cannot set {grid_key!r}; use 'lr' or one of {', '.join(_FIELDS)}.*")
    field = _FIELDS[group]
    # One mapping field replaced: typed Any, since the field is chosen by name.
    changes: dict[str, Any] = {field: {**getattr(config, field), name: float(value)}}
    return replace(config, **changes)
