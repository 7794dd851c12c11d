"""The programs the browser and deployment tests drive: how Chromium is launched, what a test
does when a program is missing, and starting, probing and stopping `streamlit run` servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

HEALTH_TIMEOUT_S = 60.0
STREAMLIT_RUN = ("-m", "streamlit", "run", "app/streamlit_app.py")
SERVE = ("-m", "app.serve")  # the same, with the compilation cache and a background warm-up
STOP_TIMEOUT_S = 10.0

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright `wait_for_function` body: the Streamlit script has finished its run and nothing on
# the page is still drawn stale (greyed out while a rerun is pending).
JS_IDLE = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid=stMain] [data-stale=true]');
}"""


def missing(message: str) -> None:
    """Skip, except under CI=true, where `.ci/run` installs what the tests need: fail there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (.ci/run should have installed it; under CI=true it is required)")
    pytest.skip(message)


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], str]:
    """GET a URL: status, headers (lower-case names) and body text."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status, headers, response.read().decode("utf-8", "replace")


def health(url: str) -> str:
    """The body of `/_stcore/health`, or "" when nothing answers."""
    try:
        return fetch(f"{url}/_stcore/health", timeout=2)[2]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def start(argv: Sequence[str], log: Path, cwd: Path, env: Mapping[str, str]) -> subprocess.Popen:
    """Start a server in its own process group, its output in `log`."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL if it is still there after a while."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def streamlit_server(
    root: Path, log: Path, env: Mapping[str, str], launcher: Sequence[str] = STREAMLIT_RUN
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app/streamlit_app.py` (or `launcher`, e.g. SERVE: what `make run` starts)
    headless on a free loopback port: its base URL and process, once healthy; stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, *launcher),
        *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
        *("--server.address", "127.0.0.1", "--server.port", str(port)),
        *("--server.fileWatcherType", "none", "--server.runOnSave", "false"),
    ]
    process = start(command, log, cwd=root, env=env)
    try:
        wait_healthy(url, process, log)
        yield url, process
    finally:
        stop(process)


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> float:
    """Poll `/_stcore/health` until it says ok; return the seconds it took. AssertionError with
    the server's output if it exits or stays silent."""
    started = time.monotonic()
    while health(url) != "ok":
        if process.poll() is not None:
            raise AssertionError(f"server exited ({process.returncode}):\n{log.read_text()}")
        if time.monotonic() - started > HEALTH_TIMEOUT_S:
            raise AssertionError(
                f"no healthy answer in {HEALTH_TIMEOUT_S:.0f} s:\n{log.read_text()}"
            )
        time.sleep(0.1)
    return time.monotonic() - started
