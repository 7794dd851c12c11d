"""Fair sharing: between two chunks, a heavy computation gives way to other sessions' script
runs, for at most GIVE_WAY_SECONDS (app/compute.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app import compute
from optimizers.engine import SUMMARY_CHUNK, RunConfig, summarize


class FakeClock:
    """A clock that moves only when paused."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_gives_way_while_another_run_is_in_progress_then_goes_on() -> None:
    clock, answers = FakeClock(), iter([True, True, True, False])
    paused = compute.give_way(lambda: next(answers), clock, clock.pause)
    assert clock.pauses == [compute.GIVE_WAY_POLL_SECONDS] * 3
    assert paused == pytest.approx(3 * compute.GIVE_WAY_POLL_SECONDS)


def test_gives_way_for_at_most_its_limit() -> None:
    # A steady light load cannot stall a heavy computation: one pause per chunk is bounded.
    clock = FakeClock()
    paused = compute.give_way(lambda: True, clock, clock.pause)
    polls = math.ceil(compute.GIVE_WAY_SECONDS / compute.GIVE_WAY_POLL_SECONDS)
    assert len(clock.pauses) == pytest.approx(polls, abs=1)
    assert compute.GIVE_WAY_SECONDS <= paused < compute.GIVE_WAY_SECONDS + 2 * max(clock.pauses)


def test_no_pause_when_nobody_else_runs() -> None:
    clock = FakeClock()
    assert compute.give_way(lambda: False, clock, clock.pause) == 0.0
    assert clock.pauses == []


def test_outside_a_server_no_other_run_is_seen() -> None:
    # Tests, scripts and the bench run without Streamlit's runtime: nothing to give way to.
    assert compute._light_runs_elsewhere() is False


def test_a_summary_asks_between_its_chunks_and_its_result_is_unchanged() -> None:
    # `summarize` asks its `cancelled` (here: give way, then go on) once between two chunks.
    config = RunConfig("himmelblau", "gd", lr=0.01, steps=50)
    starts = np.column_stack([np.linspace(-4, 4, 3 * SUMMARY_CHUNK)] * 2)
    clock, asked = FakeClock(), []
    others = iter([True, False, False])  # another run in progress at the first boundary only

    def between_chunks() -> bool:
        asked.append(compute.give_way(lambda: next(others), clock, clock.pause))
        return False

    polite = summarize(config, {"start": starts}, between_chunks)
    plain = summarize(config, {"start": starts})
    assert asked == [pytest.approx(compute.GIVE_WAY_POLL_SECONDS), 0.0]
    for name, column in plain._asdict().items():
        np.testing.assert_array_equal(getattr(polite, name), column)
