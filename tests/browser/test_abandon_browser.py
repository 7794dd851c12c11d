"""Abandoned work stops: a tab closed in the middle of a long basin map leaves the server idle
within 2 s, instead of computing the map to its end (Chromium against its own `streamlit run`,
with the work budget raised so that so long a map is let through)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizers import cost
from optimizers.engine import RunConfig
from tests.programs import streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[2]
STEPS, CELLS = 4_000, 300  # 88 chunks of about 0.1 s
IDLE_WITHIN_S = 2.0
IDLE_SHARE = 0.1  # of one core, over a WINDOW_S window
WINDOW_S = 0.25


@pytest.fixture(scope="module")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A server of its own (a budget of 10 minutes): its base URL and process id."""
    log = tmp_path_factory.mktemp("abandon") / "server.log"
    env = {**os.environ, "DESCENT_LAB_BUDGET_SECONDS": "600"}
    with streamlit_server(ROOT, log, env) as (url, process):
        yield url, process.pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy(pid: int, window: float = WINDOW_S) -> float:
    """The share of one core the process used over the next `window` seconds."""
    before, start_time = cpu_seconds(pid), time.perf_counter()
    time.sleep(window)
    return (cpu_seconds(pid) - before) / (time.perf_counter() - start_time)


def test_closing_the_tab_mid_map_stops_the_work(browser, server) -> None:
    url, pid = server
    estimate = cost.basin_seconds(RunConfig("rosenbrock", "gd", steps=STEPS), CELLS)
    assert estimate.seconds > 3 * IDLE_WITHIN_S  # left alone, it would run far longer
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/?view=Basins&analysis_basin_cells={CELLS}&steps={STEPS}")
    page.get_by_text("Finding basins").wait_for(timeout=60_000)
    deadline = time.perf_counter() + 30
    while busy(pid) < 0.5:  # the map is being computed
        assert time.perf_counter() < deadline, "the server never got busy with the map"
    context.close()
    closed = time.perf_counter()
    while busy(pid) > IDLE_SHARE:
        assert time.perf_counter() - closed <= IDLE_WITHIN_S, "the server kept computing"
    assert time.perf_counter() - closed <= IDLE_WITHIN_S + WINDOW_S
