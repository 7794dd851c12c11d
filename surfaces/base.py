"""The record every loss surface is described by."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeVar

import jax

from surfaces.params import ParamSpec, resolve_params

PointKind = Literal["global", "local", "saddle"]


class CriticalPoint(NamedTuple):
    """A known stationary point: global minimum, local minimum or saddle."""

    x: float
    y: float
    value: float
    kind: PointKind


LossFn = Callable[[jax.Array, Mapping[str, jax.Array]], jax.Array]
# Entries per cache of compiled functions keyed by a surface (engine, grid, curvature): bounded,
# since every formula or data set a link brings is a new surface.
COMPILED_FUNCTIONS = 256
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


# Compiled functions, bounded by memory.

COMPILED_BYTES = 320 * 2**20  # what every cache of compiled functions may hold together
# One compiled function with what it keeps alive (its XLA executable, the traced closures),
# measured as the server's growth per new custom surface (bench/run.py `memory`); a surface
# with data also embeds its data points (16 bytes each) in every program.
COMPILED_ENTRY_BYTES = 3_000_000
DATA_POINT_BYTES = 16

Compiled = TypeVar("Compiled")


def _entry_bytes(args: tuple[Hashable, ...]) -> int:
    """The estimated bytes of a compiled function made for `args` (a Surface, or a record with
    a `surface` field, among them)."""
    surfaces = [a if isinstance(a, Surface) else getattr(a, "surface", None) for a in args]
    points = sum(s.samples.size for s in surfaces if isinstance(s, Surface) and s.samples)
    return COMPILED_ENTRY_BYTES + DATA_POINT_BYTES * points


class CompiledCache:
    """One least-recently-used store for every cache of compiled functions: once the entries'
    estimated bytes pass `budget`, or one function holds `per_function` entries, the least
    recently used go (their programs are freed with them). Thread-safe; a miss computes
    outside the lock (two sessions may build the same entry; one is kept)."""

    def __init__(self, budget: int, per_function: int) -> None:
        self.budget, self.per_function = budget, per_function
        self.entries: OrderedDict[tuple[Hashable, ...], tuple[object, int]] = OrderedDict()
        self.bytes = 0
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, function: Callable[..., Compiled]) -> Callable[..., Compiled]:
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def cached(*args: Hashable) -> Compiled:
            key = (name, *args)
            with self.lock:
                if key in self.entries:
                    self.entries.move_to_end(key)
                    return self.entries[key][0]  # type: ignore[return-value]
            value = function(*args)
            with self.lock:
                if key not in self.entries:
                    size = _entry_bytes(args)
                    self.entries[key] = (value, size)
                    self.bytes += size
                    self.counts[name] = self.counts.get(name, 0) + 1
                    self._evict(name)
            return value

        return cached

    def holds(self, function: Callable[..., object], *args: Hashable) -> bool:
        """Whether an entry of `function` (as decorated by this cache) whose arguments begin
        with `args` is held: its program has been built."""
        key = (f"{function.__module__}.{function.__qualname__}", *args)
        with self.lock:
            return any(k[: len(key)] == key for k in self.entries)

    def _evict(self, name: str) -> None:
        """Drop least recently used entries: all functions' while over the byte budget (the
        newest stays), then `name`'s own while over its count."""
        while self.bytes > self.budget and len(self.entries) > 1:
            self._drop(next(iter(self.entries)))
        while self.counts[name] > self.per_function:
            self._drop(next(k for k in self.entries if k[0] == name))

    def _drop(self, key: tuple[Hashable, ...]) -> None:
        _, size = self.entries.pop(key)
        self.bytes -= size
        self.counts[key[0]] -= 1  # type: ignore[index]


compiled_cache = CompiledCache(COMPILED_BYTES, COMPILED_FUNCTIONS)
