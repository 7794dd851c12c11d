"""The record every loss surface is described by."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax

from common.params import ParamSpec, resolve_params

PointKind = Literal["global", "local", "saddle"]


class CriticalPoint(NamedTuple):
    """A known stationary point: global minimum, local minimum or saddle."""

    x: float
    y: float
    value: float
    kind: PointKind


LossFn = Callable[[jax.Array, Mapping[str, jax.Array]], jax.Array]
PointsFn = Callable[[Mapping[str, float]], tuple[CriticalPoint, ...]]
DataFn = Callable[[Mapping[str, jax.Array]], tuple[jax.Array, jax.Array]]
SampleLossFn = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


class Samples(NamedTuple):
    """The data behind a loss that is a mean over samples, f(w) = (1/n) Σᵢ ℓ(w; xᵢ, yᵢ).

    `data(params)` gives the arrays x and y, each of shape (size,); `loss(w, x, y)` gives the
    per-sample losses ℓ(w; xᵢ, yᵢ) as an array of the same shape. The engine draws mini-batches
    from them; `Surface.fn` must equal the mean of `loss` over all of `data`.
    """

    data: DataFn
    loss: SampleLossFn
    size: int


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2-D loss surface f(w; θ) with everything needed to plot it and grade a run on it.

    `fn(w, params)` is a pure jnp function of a 2-vector `w`; `params` maps each name in `params`
    specs to a (possibly traced) float64 scalar, so changing a surface parameter never recompiles.
    `critical` lists the known stationary points, or computes them from the parameter values
    when they depend on them (the regression surfaces).

    `samples` is set on surfaces whose loss is a mean over data points (mini-batch SGD draws
    from it); `recipe` is set on surfaces built at run time (a typed formula, pasted data): a
    hashable tuple from which the same surface can be rebuilt, for caches and links.

    `reference` names the paper or book that introduced or popularised the function, with its
    year (shown under the formula); empty for surfaces built at run time.
    """

    key: str
    name: str
    latex: str
    fn: LossFn
    box: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    starts: tuple[tuple[float, float], ...]
    critical: tuple[CriticalPoint, ...] | PointsFn
    note: str
    tags: frozenset[str] = frozenset()
    params: tuple[ParamSpec, ...] = ()
    samples: Samples | None = None
    recipe: tuple[object, ...] | None = None
    reference: str = ""

    @property
    def data_points(self) -> int:
        """How many data points the loss averages over (0 for a plain function)."""
        return self.samples.size if self.samples else 0

    def resolve(self, values: Mapping[str, float] | None = None) -> dict[str, float]:
        """Parameter values with defaults filled in; ValueError for unknown or out-of-range ones."""
        return resolve_params(self.params, values, f"surface '{self.key}'")

    def critical_points(
        self, values: Mapping[str, float] | None = None
    ) -> tuple[CriticalPoint, ...]:
        """Known stationary points for these parameter values."""
        if callable(self.critical):
            return self.critical(self.resolve(values))
        return self.critical

    def minimum_value(self, values: Mapping[str, float] | None = None) -> float | None:
        """The global minimum value f*, or None where it is not known (custom surfaces)."""
        values_at_global = [p.value for p in self.critical_points(values) if p.kind == "global"]
        return min(values_at_global) if values_at_global else None
