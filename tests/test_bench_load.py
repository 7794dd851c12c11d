"""The load bench's parts (bench/load.py): its /proc readings against the standard library's,
its links, and one short session against a real `streamlit run` over Streamlit's protocol.
Nothing here is timed: the bench prints the times."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import load
from tests.programs import streamlit_server

ROOT = Path(__file__).resolve().parents[1]
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def test_cpu_seconds_reads_this_process_like_process_time() -> None:
    """utime + stime from /proc equal `time.process_time()` to a few clock ticks."""
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert load.cpu_seconds(os.getpid()) == pytest.approx(time.process_time(), abs=3 * TICK_S)


def test_rss_mb_grows_by_a_buffer_it_touches() -> None:
    """Writing 200 MB of fresh memory raises the resident size by about 200 MB."""
    before = load.rss_mb(os.getpid())
    buffer = b"\1" * 200_000_000  # every byte written: every page resident
    assert load.rss_mb(os.getpid()) - before == pytest.approx(200, abs=20)
    del buffer


def test_custom_links_are_distinct_formulas_and_data() -> None:
    links = [urllib.parse.parse_qs(load.custom_link(k)) for k in range(300)]
    assert len({str(sorted(link.items())) for link in links}) == 300
    assert [link["surface"] for link in links[:2]] == [["formula"], ["data"]]
    assert len(links[1]["data"][0].split(";")) == 12


def test_rates_are_never_reused_across_sessions_and_changes() -> None:
    rates = {load.rate(session, change) for session in range(30) for change in range(20)}
    assert len(rates) == 600


@pytest.mark.xdist_group("browser")  # starts a server: beside the other server tests
def test_a_session_commits_each_rate_to_the_link_over_the_websocket(tmp_path: Path) -> None:
    """One session opens the page and commits two rates: both finish, with no exception
    element, and each reaches the page's link (`run1_lr=`), which `light_load` checks."""
    with streamlit_server(ROOT, tmp_path / "server.log", os.environ) as (url, process):
        server = load.Server(url, process.pid)
        # In its own thread: a worker that ran Playwright's sync API has an event loop here.
        with ThreadPoolExecutor(1) as pool:
            load_run = load.light_load(server, sessions=1, seconds=2.0, period=1.0)
            row = pool.submit(asyncio.run, load_run).result()
    assert row["error_samples"] == []
    assert (row["changes"], row["planned"]) == (2, 2)
    assert row["server_cpu_s"] > 0
