"""One bounded store for every cache of compiled functions (engine, grid, curvature, cost).

Every formula or data set a link brings is a new surface, so the compiled functions keyed by a
surface must be bounded: by their estimated bytes across all caches and by a count per function.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Protocol, TypeVar, cast, runtime_checkable

# Entries per cache of compiled functions keyed by a surface (engine, grid, curvature): bounded,
# since every formula or data set a link brings is a new surface.
COMPILED_FUNCTIONS = 256
COMPILED_BYTES = 320 * 2**20  # what every cache of compiled functions may hold together
# One compiled function with what it keeps alive (its XLA executable, the traced closures),
# measured as the server's growth per new custom surface (bench/run.py `memory`); a surface
# with data also embeds its data points (16 bytes each) in every program.
COMPILED_ENTRY_BYTES = 3_000_000
DATA_POINT_BYTES = 16

Compiled = TypeVar("Compiled")
Key = tuple[str, *tuple[Hashable, ...]]  # the function's qualified name, then its arguments


@runtime_checkable
class HoldsData(Protocol):
    """An argument whose compiled programs embed data points (a surface with samples)."""

    @property
    def data_points(self) -> int: ...


def entry_bytes(args: tuple[Hashable, ...]) -> int:
    """The estimated bytes of a compiled function made for `args`: COMPILED_ENTRY_BYTES plus
    DATA_POINT_BYTES per data point of each argument (or its `surface` field) holding data."""
    holders = [a if isinstance(a, HoldsData) else getattr(a, "surface", None) for a in args]
    points = sum(h.data_points for h in holders if isinstance(h, HoldsData))
    return COMPILED_ENTRY_BYTES + DATA_POINT_BYTES * points


class CompiledCache:
    """One least-recently-used store for every cache of compiled functions: once the entries'
    estimated bytes pass `budget`, or one function holds `per_function` entries, the least
    recently used go (their programs are freed with them). Thread-safe; a miss computes
    outside the lock (two sessions may build the same entry; one is kept)."""

    def __init__(self, budget: int, per_function: int) -> None:
        self.budget, self.per_function = budget, per_function
        self.entries: OrderedDict[Key, tuple[object, int]] = OrderedDict()
        self.bytes = 0
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, function: Callable[..., Compiled]) -> Callable[..., Compiled]:
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def cached(*args: Hashable) -> Compiled:
            key: Key = (name, *args)
            with self.lock:
                if key in self.entries:
                    self.entries.move_to_end(key)
                    return cast(Compiled, self.entries[key][0])
            value = function(*args)
            with self.lock:
                if key not in self.entries:
                    size = entry_bytes(args)
                    self.entries[key] = (value, size)
                    self.bytes += size
                    self.counts[name] = self.counts.get(name, 0) + 1
                    self._evict(name)
            return value

        return cached

    def holds(self, function: Callable[..., object], *args: Hashable) -> bool:
        """Whether an entry of `function` (as decorated by this cache) whose arguments begin
        with `args` is held: its program has been built."""
        key: Key = (f"{function.__module__}.{function.__qualname__}", *args)
        with self.lock:
            return any(k[: len(key)] == key for k in self.entries)

    def _evict(self, name: str) -> None:
        """Drop least recently used entries: all functions' while over the byte budget (the
        newest stays), then `name`'s own while over its count."""
        while self.bytes > self.budget and len(self.entries) > 1:
            self._drop(next(iter(self.entries)))
        while self.counts[name] > self.per_function:
            self._drop(next(k for k in self.entries if k[0] == name))

    def _drop(self, key: Key) -> None:
        _, size = self.entries.pop(key)
        self.bytes -= size
        self.counts[key[0]] -= 1


compiled_cache = CompiledCache(COMPILED_BYTES, COMPILED_FUNCTIONS)
