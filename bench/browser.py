"""What a person in a browser waits for: headless Chromium (Playwright) against `streamlit run`.

`python -m bench.run browser` measures, on a fresh server (the persistent compilation cache kept):
the cold start (first visitor → first chart), a committed learning-rate change (typed + Enter →
the path redrawn and the page idle, the WebSocket bytes it took, and the browser's main-thread
time it took, steadier than the wall clock on a noisy machine; the targets are judged on the
harness's clock, which adds its round trips and polling, and the page's own clock is printed
beside it) for 1 run × 300 steps and for
6 runs × 2,000 steps, the first page's bytes, the live scrub's path updates per second while
a rate slider is dragged (1 and 6 runs), and the XLA compilations over a 50-change session.
Rows go to bench/results.json's "browser" section. Never a timed test: machines are noisy.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

from playwright.sync_api import Page, ViewportSize, sync_playwright

from tests.programs import CHROMIUM_ARGS, JS_IDLE, SERVE, streamlit_server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results.json")
LOG = Path(tempfile.gettempdir()) / "descent-lab-bench-browser.log"
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
TIMEOUT_MS = 120_000
SIX_RUNS = (
    "/?v=1&steps=2000&runs=6&run2_optimizer=momentum&run3_optimizer=adam&run4_optimizer=rmsprop"
    "&run5_optimizer=nesterov&run6_optimizer=adagrad"
)
CHANGES = 20  # committed changes per case
SESSION_CHANGES = 50  # the compilation count's scripted session
DRAG_SECONDS = 2.0
TARGETS: dict[str, float] = {  # issue 12
    "commit_1x300_p50_ms": 200,
    "commit_1x300_p95_ms": 350,
    "commit_6x2000_p50_ms": 400,
    "commit_1x300_kb": 40,
    "commit_6x2000_kb": 400,
    "first_page_kb": 600,
    "scrub_updates_per_s": 30,
    "cold_start_s": 4.0,
    "compilations": 0,
}
JS_REVISION = "() => (document.querySelector('.dl-live') || {dataset: {}}).dataset.revision || ''"
# The page's own clock for a committed change, free of the harness's round trips and polling:
# the Enter key's timestamp, and the moment the page last turned idle (JS_IDLE) after it.
JS_WATCH = f"""() => {{
    const idle = {JS_IDLE};
    const watch = window.__commitWatch = {{pressed: null, idleAt: null}};
    document.addEventListener("keydown", (event) => {{
        if (event.key === "Enter") Object.assign(watch, {{pressed: event.timeStamp, idleAt: null}});
    }}, true);
    const watched = ["data-test-script-state", "data-stale"];
    new MutationObserver(() => {{ if (idle()) watch.idleAt = performance.now(); }}).observe(
        document.querySelector("[data-testid=stApp]"),
        {{attributes: true, subtree: true, attributeFilter: watched}},
    );
}}"""
JS_PAGE_MS = """() => {
    const watch = window.__commitWatch, store = window.__descentLiveStore;
    return Math.max(store.drawnAt, watch.idleAt) - watch.pressed;
}"""


class Counter:
    """WebSocket bytes received by a page since `reset`."""

    def __init__(self, page: Page) -> None:
        self.bytes = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload: object) -> None:
        self.bytes += len(payload) if isinstance(payload, bytes | str) else 0

    def reset(self) -> int:
        taken, self.bytes = self.bytes, 0
        return taken


class MainThread:
    """The page's main-thread busy time (Chromium's TaskDuration, over DevTools) since `reset`."""

    def __init__(self, page: Page) -> None:
        self.session = page.context.new_cdp_session(page)
        self.session.send("Performance.enable")
        self.start = self._task_seconds()

    def _task_seconds(self) -> float:
        metrics = self.session.send("Performance.getMetrics")["metrics"]
        return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))

    def reset(self) -> float:
        """Busy seconds since the last reset."""
        now = self._task_seconds()
        taken, self.start = now - self.start, now
        return taken


def wait_drawn(page: Page, before: str) -> None:
    page.wait_for_function(
        f"(before) => ({JS_REVISION})() !== before", arg=before, timeout=TIMEOUT_MS
    )
    page.wait_for_function(JS_IDLE, timeout=TIMEOUT_MS)


def open_page(page: Page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    wait_drawn(page, "")
    return time.perf_counter() - started


DRAW_MS: list[float] = []  # per committed change: data arrived → drawn, in the browser
PAGE_MS: list[float] = []  # per committed change: Enter → drawn and idle, by the page's clock


def commits(page: Page, counter: Counter, count: int) -> tuple[list[float], list[int]]:
    """Seconds and bytes of `count` typed rate changes of run 1 (each one redrawn and idle)."""
    entry = page.locator(".st-key-run1_lr input")
    seconds, sizes = [], []
    DRAW_MS.clear()
    PAGE_MS.clear()
    if not page.evaluate("() => !!window.__commitWatch"):
        page.evaluate(JS_WATCH)
    for k in range(count):
        rate = f"{0.001 * (1 + (k % 10) / 10) * (1 + k // 10):.6g}"
        before = page.evaluate(JS_REVISION)
        entry.fill(rate)
        counter.reset()
        started = time.perf_counter()
        entry.press("Enter")
        wait_drawn(page, before)
        seconds.append(time.perf_counter() - started)
        sizes.append(counter.reset())
        store = "window.__descentLiveStore"
        DRAW_MS.append(page.evaluate(f"{store}.drawnAt - {store}.receivedAt"))
        PAGE_MS.append(page.evaluate(JS_PAGE_MS))
    return seconds, sizes


def scrub_rate(page: Page) -> float:
    """Path updates per second while run 1's rate slider is dragged for DRAG_SECONDS."""
    box = None
    for _ in range(20):  # the sliders are rebuilt when a committed change redraws them
        page.wait_for_selector("input.dl-rate", state="visible", timeout=TIMEOUT_MS)
        box = page.locator("input.dl-rate").first.bounding_box()
        if box is not None:
            break
        page.wait_for_timeout(100)
    assert box is not None, "no rate slider"
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    before = page.evaluate("window.__descentLiveStore.pathUpdates")
    started = time.perf_counter()
    moves = 0
    while (elapsed := time.perf_counter() - started) < DRAG_SECONDS:
        fraction = 0.5 - 0.45 * math.cos(elapsed * 3.0)
        page.mouse.move(box["x"] + 4 + fraction * (box["width"] - 8), y)
        moves += 1
    elapsed = time.perf_counter() - started
    updates = page.evaluate("window.__descentLiveStore.pathUpdates") - before
    page.mouse.up()
    page.wait_for_function(JS_IDLE, timeout=TIMEOUT_MS)
    return updates / elapsed


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def server(env: dict[str, str]) -> Iterator[str]:
    with streamlit_server(ROOT, LOG, env, SERVE) as (url, _):
        yield url


def compilations() -> int:
    return len(re.findall(r"Compiling ", LOG.read_text(errors="replace")))


def measure() -> dict[str, float]:
    env = dict(os.environ) | {"JAX_LOG_COMPILES": "1"}
    rows: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        with server(env) as url:
            page = browser.new_page(viewport=VIEWPORT)
            counter = Counter(page)
            rows["cold_start_s"] = open_page(page, url + "/")
            rows["first_page_kb"] = counter.reset() / 1024
            busy = MainThread(page)
            seconds, sizes = commits(page, counter, CHANGES)
            rows["commit_1x300_busy_ms"] = busy.reset() / CHANGES * 1e3
            rows["commit_1x300_p50_ms"] = statistics.median(seconds) * 1e3
            rows["commit_1x300_p95_ms"] = quantile(seconds, 0.95) * 1e3
            rows["commit_1x300_kb"] = statistics.median(sizes) / 1024
            rows["commit_1x300_draw_p50_ms"] = statistics.median(DRAW_MS)
            rows["commit_1x300_page_clock_p50_ms"] = statistics.median(PAGE_MS)
            rows["scrub_1_run_updates_per_s"] = scrub_rate(page)
            warm = compilations()
            commits(page, counter, SESSION_CHANGES - 5)
            for _ in range(5):
                scrub_rate(page)
            rows["compilations"] = compilations() - warm

            six = browser.new_page(viewport=VIEWPORT)
            six_counter = Counter(six)
            rows["six_runs_first_chart_s"] = open_page(six, url + SIX_RUNS)
            rows["six_runs_first_page_kb"] = six_counter.reset() / 1024
            six_busy = MainThread(six)
            seconds, sizes = commits(six, six_counter, CHANGES // 2)
            rows["commit_6x2000_busy_ms"] = six_busy.reset() / (CHANGES // 2) * 1e3
            rows["commit_6x2000_p50_ms"] = statistics.median(seconds) * 1e3
            rows["commit_6x2000_kb"] = statistics.median(sizes) / 1024
            rows["commit_6x2000_draw_p50_ms"] = statistics.median(DRAW_MS)
            rows["commit_6x2000_page_clock_p50_ms"] = statistics.median(PAGE_MS)
            rows["scrub_6_runs_updates_per_s"] = scrub_rate(six)
        browser.close()
    rows["scrub_updates_per_s"] = min(
        rows["scrub_1_run_updates_per_s"], rows["scrub_6_runs_updates_per_s"]
    )
    return rows


class Verdict(TypedDict):
    """A measured value against its target (None: reported only); `passed` None without one."""

    name: str
    value: float
    target: float | None
    passed: bool | None


def verdicts(rows: dict[str, float]) -> dict[str, Verdict]:
    out = {}
    for name, value in rows.items():
        target = TARGETS.get(name)
        passed = None
        if target is not None:
            at_least = name.startswith("scrub")
            passed = value >= target if at_least else value <= target
        out[name] = Verdict(name=name, value=value, target=target, passed=passed)
    return out


def main() -> None:
    rows = verdicts(measure())
    print(f"{'browser case':34} {'value':>10} {'target':>10}  result")
    for row in rows.values():
        target = "" if row["target"] is None else f"{row['target']:g}"
        verdict = {True: "pass", False: "FAIL", None: ""}[row["passed"]]
        print(f"{row['name']:34} {row['value']:>10.3f} {target:>10}  {verdict}")
    print(f"load average {os.getloadavg()}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["browser"] = list(rows.values())
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS} (browser)")
