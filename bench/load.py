"""Load on one `streamlit run` over loopback (127.0.0.1 only), through Streamlit's own protocol.

A session is a websocket on `/_stcore/stream` that speaks what the browser speaks: a `BackMsg`
`rerun_script` (query string + widget states) answered by `ForwardMsg`s up to `script_finished`.
Three modes of `python -m bench.run`, each bounded in time, each merging its rows into
bench/results.json (section "load"):

- `load`: N sessions open the page, then each commits a new rate to run 1's η₀ entry every
  `period` s for `seconds` s. Response time of a change = send → its `script_finished`;
  server CPU per change = (utime + stime of the server process over the phase) / changes.
- `heavy`: the same light load twice, alone and while a heavy link (a stability map near the
  work budget, a new rate each time so no cache answers) is opened again and again.
- `memory`: distinct custom links (formulas and data sets), each in a new session, one after
  another; the server's resident memory (RSS) after them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

from app.analysis import MAP_CHART
from app.state import DEFAULT_SURFACE, run_key
from optimizers import cost
from optimizers.engine import MAX_STEPS, RunConfig
from tests.programs import streamlit_server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results.json")
LOG = Path(tempfile.gettempdir()) / "descent-lab-bench-server.log"  # the server's output
LR_KEY = run_key(1, "lr")  # run 1's exact η₀ entry: its widget id ends with "-run1_lr"
BASE_LR = 1e-3  # a valid rate for every default optimizer; each change moves it slightly
RERUN_TIMEOUT_S = 60.0
P95_TARGET_S = 0.5  # issue 12: 30 sessions, a change every 3 s, 60 s
HEAVY_FACTOR = 2.0  # issue 16: light p95 under a heavy link ≤ 2 × its idle p95
HEAVY_CELLS = 100  # the stability map's cells per side (its default)
HEAVY_SHARE = 0.9  # of the most steps whose map the budget lets through
MEMORY_TARGET_MB = 900.0  # issue 16: RSS after 300 distinct custom links
MEMORY_SAMPLE_EVERY = 50  # links between RSS samples
FINISHED_EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN  # the script called st.rerun: keep reading
FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all threads (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process (second field of /proc/<pid>/statm, in pages), in MB."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class Reply:
    """What one rerun sent back: time to `script_finished`, exception elements, widget ids,
    the page's query string (the link) when it changed, the main script's hash."""

    seconds: float = 0.0
    exceptions: int = 0
    widget_ids: list[str] = field(default_factory=list)
    query: str | None = None
    page_hash: str = ""


async def rerun(
    ws: ClientConnection, query: str, states: Sequence[WidgetState] = (), page_hash: str = ""
) -> Reply:
    """Send one `rerun_script` and read up to its final `script_finished`. RuntimeError when
    the script did not finish successfully; TimeoutError after RERUN_TIMEOUT_S."""
    message = BackMsg()
    message.rerun_script.query_string = query
    message.rerun_script.page_script_hash = page_hash
    message.rerun_script.widget_states.widgets.extend(states)
    reply, started = Reply(), time.perf_counter()
    await ws.send(message.SerializeToString())
    async with asyncio.timeout(RERUN_TIMEOUT_S):
        while True:
            forward = ForwardMsg.FromString(await ws.recv())
            kind = forward.WhichOneof("type")
            if kind == "new_session":
                reply.page_hash = forward.new_session.main_script_hash
            elif kind == "page_info_changed":
                reply.query = forward.page_info_changed.query_string
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                name = element.WhichOneof("type") or ""
                reply.exceptions += name == "exception"
                if widget_id := getattr(getattr(element, name, None), "id", ""):
                    reply.widget_ids.append(widget_id)
            elif kind == "script_finished" and forward.script_finished != FINISHED_EARLY:
                reply.seconds = time.perf_counter() - started
                if forward.script_finished not in FINISHED_OK:
                    raise RuntimeError(f"script finished with status {forward.script_finished}")
                return reply


class Summary(TypedDict):
    """A phase's response times: changes answered, errors, and their quantiles in seconds."""

    changes: int
    errors: int
    p50_s: float
    p95_s: float
    max_s: float


class LoadRow(Summary):
    """A light-load phase: its Summary, what was planned, and the server's CPU time."""

    sessions: int
    planned: int
    period_s: float
    seconds: float
    pages_open_s: float
    server_cpu_s: float
    server_cpu_per_change_s: float
    server_cpu_share: float
    client_cpu_share: float
    heavy_links_s: list[float]
    streamlit_env: dict[str, str]
    error_samples: list[str]
    passed: NotRequired[bool]


@dataclass
class Tally:
    """Response times and errors of a phase, shared by its sessions."""

    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> Summary:
        times = self.latencies_s or [float("nan")]
        p50, p95 = np.percentile(times, [50, 95])
        return Summary(
            changes=len(self.latencies_s),
            errors=len(self.errors),
            p50_s=float(p50),
            p95_s=float(p95),
            max_s=max(times),
        )


@dataclass
class Visitor:
    """An open session: its socket, run 1's η₀ widget id and the page's hash."""

    ws: ClientConnection
    lr_id: str
    page_hash: str
    index: int


@dataclass(frozen=True)
class Server:
    """A running `streamlit run`: its base URL and process id."""

    url: str
    pid: int

    def stream(self) -> connect:
        """A new session's websocket (an async context manager)."""
        return connect(
            self.url.replace("http://", "ws://", 1) + "/_stcore/stream",
            subprotocols=[Subprotocol("streamlit")],
            max_size=None,
            ping_interval=None,
        )


async def open_page(
    stack: contextlib.AsyncExitStack, server: Server, index: int, tally: Tally
) -> Visitor | None:
    """Connect (kept open by `stack`) and load the default page with empty widget state;
    None (an error counted) when the page shows an exception or has no η₀ entry for run 1."""
    ws = await stack.enter_async_context(server.stream())
    page = await rerun(ws, "")
    lr_ids = [i for i in page.widget_ids if i.endswith(f"-{LR_KEY}")]
    if page.exceptions or not lr_ids:
        tally.errors.append(f"session {index}: page with {page.exceptions} exception(s), {lr_ids}")
        return None
    return Visitor(ws, lr_ids[0], page.page_hash, index)


def rate(session: int, change: int) -> float:
    """A rate no other session (< 1000) or change commits, so no cache answers for it:
    η = BASE_LR·(1 + session/1000 + (change + 1)/37)."""
    return BASE_LR * (1 + session / 1000 + (change + 1) / 37)


async def commit_changes(
    visitor: Visitor, start: float, period: float, changes: int, tally: Tally
) -> None:
    """Commit up to `changes` new rates, the k-th at `start + k·period` or as soon as the
    last one finished if later; none after `start + changes·period` (the phase's end). Each
    must finish with no exception element and reach the link."""
    loop = asyncio.get_running_loop()
    for change in range(changes):
        if loop.time() > start + changes * period:
            return
        await asyncio.sleep(max(0.0, start + change * period - loop.time()))
        lr = rate(visitor.index, change)
        state = WidgetState(id=visitor.lr_id, double_value=lr)
        try:
            reply = await rerun(visitor.ws, "", [state], visitor.page_hash)
        except (WebSocketException, TimeoutError, RuntimeError) as error:
            tally.errors.append(f"session {visitor.index}, change {change}: {error!r}")
            return
        tally.latencies_s.append(reply.seconds)
        linked = urllib.parse.parse_qs(reply.query or "").get(LR_KEY, ["nan"])[0]
        if reply.exceptions or not np.isclose(float(linked), lr, rtol=1e-5):
            tally.errors.append(
                f"session {visitor.index}, change {change}: {reply.exceptions} exception(s), "
                f"link {LR_KEY}={linked} for {lr:.9g}"
            )


def heavy_link(k: int) -> str:
    """The k-th heavy link: run 1 with momentum, a new rate, on the stability map view, with
    HEAVY_SHARE of the most steps whose HEAVY_CELLS² map the cost model lets through."""
    most = cost.largest_fitting(
        lambda steps: cost.map_seconds(
            RunConfig(DEFAULT_SURFACE, "momentum", steps=steps), HEAVY_CELLS
        ),
        1,
        MAX_STEPS,
    )
    steps = int(HEAVY_SHARE * (most or 1))
    return urllib.parse.urlencode(
        {"view": "Stability map", "run1_optimizer": "momentum", "steps": steps}
        | {LR_KEY: f"{rate(999, k):.9g}"}
    )


async def heavy_links(server: Server, done: asyncio.Event, tally: Tally) -> list[float]:
    """Open a new heavy link in a new session until `done`: each one's time. A page without
    the map (refused, or an exception) counts as an error."""
    times = []
    for k in range(10_000):
        if done.is_set():
            break
        try:
            async with server.stream() as ws:
                reply = await rerun(ws, heavy_link(k))
        except (WebSocketException, TimeoutError, RuntimeError) as error:
            tally.errors.append(f"heavy link {k}: {error!r}")
            continue
        times.append(reply.seconds)
        if reply.exceptions or not any(i.endswith(f"-{MAP_CHART}") for i in reply.widget_ids):
            tally.errors.append(f"heavy link {k}: no map ({reply.exceptions} exception(s))")
    return times


async def light_load(
    server: Server, sessions: int, seconds: float, period: float, heavy: bool = False
) -> LoadRow:
    """`sessions` sessions open the default page, then each commits a change every `period`
    s for `seconds` s, their first changes spread over one period; with `heavy`, a heavy link
    is opened again and again in new sessions meanwhile."""
    tally, loop = Tally(), asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        opened = time.perf_counter()
        visitors = await asyncio.gather(
            *(open_page(stack, server, i, tally) for i in range(sessions))
        )
        opened = time.perf_counter() - opened
        changes = max(1, int(seconds / period))
        start, cpu, client_cpu = loop.time() + 0.5, cpu_seconds(server.pid), time.process_time()
        done = asyncio.Event()
        heavy_task = asyncio.create_task(heavy_links(server, done, tally)) if heavy else None
        await asyncio.gather(
            *(
                commit_changes(v, start + period * v.index / sessions, period, changes, tally)
                for v in visitors
                if v is not None
            )
        )
        elapsed, cpu = loop.time() - start, cpu_seconds(server.pid) - cpu
        client_cpu = time.process_time() - client_cpu
        done.set()
        heavy_s = await heavy_task if heavy_task else []
    row = tally.summary()
    return LoadRow(
        **row,
        sessions=sessions,
        planned=sessions * changes,
        period_s=period,
        seconds=elapsed,
        pages_open_s=opened,
        server_cpu_s=cpu,
        server_cpu_per_change_s=cpu / max(row["changes"], 1),
        server_cpu_share=cpu / elapsed,
        client_cpu_share=client_cpu / elapsed,  # this load process, on the same cores
        heavy_links_s=heavy_s,
        streamlit_env={k: v for k, v in os.environ.items() if k.startswith("STREAMLIT_")},
        error_samples=tally.errors[:5],
    )


def custom_link(k: int) -> str:
    """The k-th distinct link's query string: formulas and data sets in turn, each new to the
    caches."""
    if k % 2:
        points = ";".join(f"{x},{2 * x + (k * x * x) % 7 / 10 + k / 1000:g}" for x in range(12))
        return urllib.parse.urlencode({"surface": "data", "data": points})
    formula = f"sin(x)*cos(y) + {k + 1}/1000*(x^2 + y^2)"
    return urllib.parse.urlencode({"surface": "formula", "formula": formula})


async def memory_load(server: Server, links: int, seconds: float) -> dict[str, object]:
    """Open `links` distinct custom links one after another, each in a new session (closed
    after its page finished); stop after `seconds`. RSS before, every MEMORY_SAMPLE_EVERY
    links, and after."""
    tally, samples = Tally(), {0: rss_mb(server.pid)}
    started, opened = time.perf_counter(), 0
    for k in range(links):
        if time.perf_counter() - started > seconds:
            break
        try:
            async with server.stream() as ws:
                reply = await rerun(ws, custom_link(k))
            tally.latencies_s.append(reply.seconds)
            if reply.exceptions:
                tally.errors.append(f"link {k}: {reply.exceptions} exception(s)")
        except (WebSocketException, TimeoutError, RuntimeError) as error:
            tally.errors.append(f"link {k}: {error!r}")
        opened += 1
        if opened % MEMORY_SAMPLE_EVERY == 0:
            samples[opened] = rss_mb(server.pid)
    after = rss_mb(server.pid)
    return tally.summary() | {
        "links": opened,
        "rss_before_mb": samples[0],
        "rss_after_mb": after,
        "rss_samples_mb": samples,
        "seconds": time.perf_counter() - started,
        "error_samples": tally.errors[:5],
        "target_mb": MEMORY_TARGET_MB,
        "passed": opened == links and not tally.errors and after <= MEMORY_TARGET_MB,
    }


def merge_results(rows: dict[str, dict[str, object]]) -> None:
    """Put `rows` into results.json's "load" section (by name), keeping everything else."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    section = {row["name"]: row for row in results.get("load", [])} | rows
    results["load"] = list(section.values())
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS} (load)")


def show(name: str, row: LoadRow) -> None:
    print(
        f"{name:52} changes {row['changes']:4}/{row['planned']}  errors {row['errors']}"
        f"  p50 {row['p50_s']:.3f} s  p95 {row['p95_s']:.3f} s  max {row['max_s']:.3f} s"
        f"  server cpu/change {row['server_cpu_per_change_s'] * 1e3:.0f} ms"
        f" ({row['server_cpu_share']:.0%} of a core; load client {row['client_cpu_share']:.0%})",
        flush=True,
    )


async def scenario(
    mode: str, server: Server, args: argparse.Namespace
) -> dict[str, dict[str, object]]:
    """The rows of one mode against the running server; names carry the STREAMLIT_* settings
    the server ran with."""
    settings = "".join(f", {k}={v}" for k, v in os.environ.items() if k.startswith("STREAMLIT_"))
    if mode == "load":
        rows = {}
        for sessions in args.sessions:
            row = await light_load(server, sessions, args.seconds, args.period)
            name = f"load, {sessions} sessions, a change every {args.period:g} s{settings}"
            row["passed"] = row["errors"] == 0 and row["p95_s"] <= P95_TARGET_S
            rows[name] = {"name": name, **row, "target_p95_s": P95_TARGET_S}
            show(name, row)
        return rows
    if mode == "heavy":
        sessions = args.sessions[0]
        idle = await light_load(server, sessions, args.seconds, args.period)
        show(f"{sessions} sessions, alone", idle)
        busy = await light_load(server, sessions, args.seconds, args.period, heavy=True)
        show(f"{sessions} sessions, a heavy link running", busy)
        ratio = busy["p95_s"] / idle["p95_s"]
        print(f"p95 ratio {ratio:.2f} (target ≤ {HEAVY_FACTOR:g}); heavy links (s) ", end="")
        print(", ".join(f"{s:.1f}" for s in busy["heavy_links_s"]))
        name = f"light p95, {sessions} sessions, while a heavy link runs{settings}"
        passed = busy["errors"] == 0 and ratio <= HEAVY_FACTOR
        return {name: {"name": name, "idle": idle, "busy": busy, "ratio": ratio, "passed": passed}}
    memory = await memory_load(server, args.links, args.seconds)
    name = f"server memory after {memory['links']} distinct custom links{settings}"
    print(
        f"{name}: RSS (MB) by links opened {memory['rss_samples_mb']}, after "
        f"{memory['rss_after_mb']:.0f} MB (target ≤ {MEMORY_TARGET_MB:g}); "
        f"{memory['errors']} errors; page p50 {memory['p50_s']:.2f} s, max {memory['max_s']:.2f} s"
    )
    return {name: {"name": name, **memory}}


MODES = ("load", "heavy", "memory")


def main(argv: Sequence[str]) -> None:
    """`load [--sessions 1,10,30] [--seconds 60] [--period 3]`, `heavy [--sessions 10]`,
    `memory [--links 300] [--seconds 600]`: start a server, run the mode, merge its rows."""
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--sessions", type=lambda s: [int(n) for n in s.split(",")], default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--period", type=float, default=3.0)
    parser.add_argument("--links", type=int, default=300)
    args = parser.parse_args(argv)
    args.sessions = args.sessions or ([10] if args.mode == "heavy" else [30])
    args.seconds = args.seconds or (600.0 if args.mode == "memory" else 60.0)
    with streamlit_server(ROOT, LOG, os.environ) as (url, process):
        rows = asyncio.run(scenario(args.mode, Server(url, process.pid), args))
    merge_results(rows)
