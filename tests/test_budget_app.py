"""Requests over the work budget are refused on the page, with a suggestion, and never started
(AppTest: the backend computation they would call is counted)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import compute
from optimizers import analysis, cost
from optimizers.engine import CancelledError, RunConfig
from tests.apptest_tools import fresh


def page(**state: Any) -> AppTest:
    st.cache_data.clear()  # no earlier test's result stands in for a computation
    return fresh(**state)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each heavy backend computation was started."""
    counts: dict[str, int] = {}

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts[name] = counts.get(name, 0) + 1
            return function(*args, **kwargs)

        return call

    for name in ("lr_sweep", "stability_map", "basin_map", "range_test"):
        monkeypatch.setattr(analysis, name, counted(name, getattr(analysis, name)))
    monkeypatch.setattr(compute, "_run", counted("run", compute._run))
    return counts


def errors(at: AppTest) -> str:
    """The error boxes' text, Markdown escapes removed."""
    return "\n".join(e.value for e in at.error).replace("\\", "")


def test_a_map_at_its_caps_is_refused_with_the_steps_that_fit(calls: dict[str, int]) -> None:
    at = page(view="Stability map", steps=20_000, analysis_map_cells=200)
    config = RunConfig("rosenbrock", "gd", steps=20_000)
    expected = cost.grid_refusal(config, 200, 100, cost.map_seconds, "cells per side")
    assert expected is not None
    assert expected in errors(at)
    assert "This map would take about" in expected and "up to" in expected
    assert "stability_map" not in calls and not at.get("plotly_chart")


def test_a_map_within_budget_runs(calls: dict[str, int]) -> None:
    at = page(view="Stability map", steps=50, analysis_map_cells=100)
    assert not at.error and calls["stability_map"] == 1


@pytest.mark.parametrize(
    ("view", "function", "words"),
    [
        ("LR sweep", "lr_sweep", "This sweep would take about"),
        ("Stability map", "stability_map", "This map would take about"),
        ("Basins", "basin_map", "This basin map would take about"),
        ("LR range test", "range_test", "This range test would take about"),
    ],
)
def test_every_analysis_over_budget_is_refused_and_never_started(
    calls: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    view: str,
    function: str,
    words: str,
) -> None:
    monkeypatch.setattr(cost, "BUDGET_SECONDS", 1e-9)  # nothing fits
    at = page(view=view, steps=50)
    message = errors(at)
    assert words in message and "(the limit is 1e-09 s): fewer" in message
    assert function not in calls


def test_a_race_over_budget_is_refused_and_never_started(
    calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cost, "BUDGET_SECONDS", 1e-9)
    at = page(steps=50)
    assert "This race would take about" in errors(at) and "fewer steps or fewer runs." in errors(at)
    assert len(at.error) == 1, "said once, not once per run"
    assert "run" not in calls


def test_heavy_computations_take_turns_and_a_waiting_one_can_be_cancelled() -> None:
    running, most = [0], [0]
    lock = threading.Lock()

    def heavy() -> None:
        with compute.heavy_slot(lambda: False):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=heavy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == compute.HEAVY_AT_ONCE == 1
    with compute.heavy_slot(lambda: False):  # held: the next one waits, then gives up
        asked: list[float] = []

        def cancel() -> bool:
            asked.append(time.perf_counter())
            return len(asked) == 3

        with pytest.raises(CancelledError), compute.heavy_slot(cancel):
            pass
    assert len(asked) == 3
