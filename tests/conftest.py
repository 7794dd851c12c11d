"""Strict test set-up: float64 everywhere, warnings are errors (pyproject), shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import jax
import pytest

import surfaces  # noqa: F401  (enables float64 before any test builds an array)

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class CompileCounter:
    """Counts XLA backend compilations while active."""

    def __init__(self) -> None:
        self.count = 0
        self.active = False

    def __call__(self, event: str, *_args: object, **_kwargs: object) -> None:
        if self.active and event == COMPILE_EVENT:
            self.count += 1


_COUNTER = CompileCounter()
jax.monitoring.register_event_duration_secs_listener(_COUNTER)


@pytest.fixture
def compiles() -> Iterator[CompileCounter]:
    """A live count of XLA compilations during the test."""
    assert jax.config.jax_enable_x64, "float64 must be on"
    _COUNTER.count, _COUNTER.active = 0, True
    try:
        yield _COUNTER
    finally:
        _COUNTER.active = False
