"""Parameter specifications shared by every registry (surfaces, optimizers, schedules).

A `ParamSpec` is one row of a control: the UI builds its widget from it, the URL codec clamps to
it, and the tests draw values from its range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ParamSpec:
    """A numeric parameter: its default, the closed range [low, high] and how to show it.

    `log` asks for a log-scale slider; `integer` marks counts (steps, patience, seeds), which are
    still passed to jitted code as float64 so that changing them never recompiles.
    """

    name: str
    label: str
    default: float
    low: float
    high: float
    help: str
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(
                f"{self.name}: default {self.default} outside [{self.low}, {self.high}]"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log-scale parameter needs low > 0")

    def validate(self, value: object, owner: str = "") -> float:
        """Return `value` as a float inside [low, high], or raise ValueError naming the range."""
        where = f"{owner} parameter '{self.name}'" if owner else f"parameter '{self.name}'"
        allowed = f"allowed range [{self.low:g}, {self.high:g}]"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where} must be a number in the {allowed}, got {value!r}")
        number = float(value)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise ValueError(f"{where} = {number!r} is outside the {allowed}")
        if self.integer and number != round(number):
            raise ValueError(f"{where} must be a whole number in the {allowed}, got {number!r}")
        return number


def resolve_params(
    specs: tuple[ParamSpec, ...], values: Mapping[str, float] | None, owner: str
) -> dict[str, float]:
    """Defaults overlaid with validated `values`; an unknown name is a ValueError listing all."""
    values = dict(values or {})
    known = {spec.name for spec in specs}
    unknown = sorted(set(values) - known)
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ValueError(f"{owner} has no parameter {unknown[0]!r}; its parameters are: {names}")
    return {
        spec.name: spec.validate(values[spec.name], owner) if spec.name in values else spec.default
        for spec in specs
    }
