"""The store of compiled functions (common/cache.py `CompiledCache`): bounded by estimated
bytes across every cache, and by a count per function, least recently used first."""

from __future__ import annotations

import numpy as np

from common.cache import COMPILED_ENTRY_BYTES, DATA_POINT_BYTES, CompiledCache
from surfaces import get_surface
from surfaces.dataset import Points, data_surface


def test_a_hit_returns_the_same_object_and_a_miss_computes_once() -> None:
    calls: list[str] = []
    cache = CompiledCache(budget=10 * COMPILED_ENTRY_BYTES, per_function=10)

    @cache
    def compiled(name: str) -> object:
        calls.append(name)
        return object()

    first = compiled("a")
    assert compiled("a") is first and calls == ["a"]
    assert cache.bytes == COMPILED_ENTRY_BYTES


def test_the_byte_budget_spans_every_function_and_drops_the_least_recently_used() -> None:
    cache = CompiledCache(budget=3 * COMPILED_ENTRY_BYTES, per_function=100)
    made: list[tuple[str, int]] = []

    @cache
    def one(k: int) -> tuple[str, int]:
        made.append(("one", k))
        return ("one", k)

    @cache
    def two(k: int) -> tuple[str, int]:
        made.append(("two", k))
        return ("two", k)

    for call, k in ((one, 1), (two, 1), (one, 2)):
        call(k)
    one(1)  # used again: now two(1) is the oldest
    one(3)  # a fourth entry: over budget, two(1) goes
    assert cache.bytes == 3 * COMPILED_ENTRY_BYTES
    assert [key[1:] for key in cache.entries] == [(2,), (1,), (3,)]
    two(1)  # computed again, and one(2) goes
    assert made.count(("two", 1)) == 2 and made.count(("one", 2)) == 1
    assert len(cache.entries) == 3


def test_the_count_per_function_leaves_the_others_alone() -> None:
    cache = CompiledCache(budget=100 * COMPILED_ENTRY_BYTES, per_function=2)

    @cache
    def many(k: int) -> int:
        return k

    @cache
    def other(k: int) -> int:
        return -k

    other(0)
    for k in range(5):
        many(k)
    assert sorted(key[1] for key in cache.entries if key[0].endswith("many")) == [3, 4]
    assert any(key[0].endswith("other") for key in cache.entries)


def test_a_surface_with_data_costs_its_points_too() -> None:
    cache = CompiledCache(budget=100 * COMPILED_ENTRY_BYTES, per_function=10)

    @cache
    def compiled(surface) -> int:
        return 0

    x = np.linspace(-1, 1, 1000)
    compiled(get_surface("rosenbrock"))
    assert cache.bytes == COMPILED_ENTRY_BYTES
    compiled(data_surface(Points(tuple(x), tuple(2 * x))))
    assert cache.bytes == 2 * COMPILED_ENTRY_BYTES + DATA_POINT_BYTES * 1000
