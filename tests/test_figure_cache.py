"""The figure caches (app/compute.py) are bounded by bytes: each entry's estimate covers the
largest figure the app can ask for (MAX_RUNS runs of MAX_STEPS steps each, the gradient field
on), and each cache's max_entries keeps count × estimate within FIGURE_CACHE_BYTES."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from app import compute
from app.figures import SpecFigure
from app.state import MAX_RUNS
from optimizers.engine import MAX_STEPS, RunConfig

SURFACE = "rosenbrock"
RULES = ("gd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")
CACHES: dict[str, Callable] = {
    "surface_layer": compute.surface_layer,
    "contour_figure": compute.contour_figure,
    "metrics_spec": compute.metrics_spec,
    "surface3d_figure": compute.surface3d_figure,
}


@pytest.fixture(scope="module")
def largest() -> dict[str, int]:
    """Bytes of each cached value at the caps: its JSON (arrays as base64 specs)."""
    assert len(RULES) == MAX_RUNS
    configs = [RunConfig(SURFACE, rule, 1e-4, MAX_STEPS) for rule in RULES]
    runs = tuple((compute.config_key(c), f"run {i}", "#1f77b4") for i, c in enumerate(configs))
    for key, _, _ in runs:  # a small rate: every run keeps all its steps (none diverges)
        assert len(compute.run(key)[0].loss) == MAX_STEPS + 1
    surface, params = compute.ref(SURFACE), compute.items({})
    layer = compute.surface_layer(surface, params)
    return {
        "surface_layer": len(json.dumps(layer._asdict(), default=lambda a: a.tolist())),
        "contour_figure": len(compute.contour_figure(surface, params, runs, True).to_json()),
        "metrics_spec": len(SpecFigure(*compute.metrics_spec(runs, MAX_STEPS)).to_json()),
        "surface3d_figure": len(compute.surface3d_figure(surface, params, runs).to_json()),
    }


@pytest.mark.parametrize("name", list(CACHES))
def test_an_entry_estimate_covers_the_largest_figure(name: str, largest: dict[str, int]) -> None:
    assert 0 < largest[name] <= compute.FIGURE_ENTRY_BYTES[name]


@pytest.mark.parametrize("name", list(CACHES))
def test_each_cache_holds_at_most_its_byte_budget(name: str) -> None:
    entries = CACHES[name]._info.max_entries
    assert entries == compute.FIGURE_CACHE_BYTES // compute.FIGURE_ENTRY_BYTES[name] >= 1
    assert entries * compute.FIGURE_ENTRY_BYTES[name] <= compute.FIGURE_CACHE_BYTES


def test_a_configuration_key_is_hashed_by_a_digest_of_all_its_fields() -> None:
    """The caches hash a ConfigKey by its digest (compute.KEY_HASH): equal configurations share
    one, and a change in any field, down to the last bit of a float, gives another."""
    config = RunConfig(SURFACE, "adam", 1e-3, 300, modifiers={"clip_norm": 5.0})
    digest = compute.KEY_HASH[compute.ConfigKey]
    key = compute.config_key(config)
    assert key == compute.config_key(config) and isinstance(key, tuple)
    assert digest(key) == digest(compute.config_key(config))
    changed = [
        replace(config, lr=float(np.nextafter(1e-3, 1.0))),
        replace(config, optimizer="adamw"),
        replace(config, modifiers={"clip_norm": 5.0, "l2": 0.1}),
        replace(config, start=(0.0, 0.0)),
        replace(config, surface="quadratic"),
    ]
    digests = {digest(compute.config_key(c)) for c in changed}
    assert len(digests) == len(changed) and digest(key) not in digests
    assert compute.config_key(compute.config_from_key(key)) == key  # the key round-trips
