"""The image's commands, without a Docker engine: the build context (.dockerignore applied) is
copied to a temporary folder, a fresh virtual environment runs the Dockerfile's `python` RUN steps
(the pinned install, the bytecode, the JAX cache warm-up) with the image's ENV, and its CMD
starts the app on a free loopback port. Then: the health endpoint, the first page, the
HEALTHCHECK command, and a first visitor in Chromium served from the warmed cache.

Everything is read from the Dockerfile, so these tests follow it. Slow (a full install and an app
start: about a minute here), hence in the heavy tests' xdist group.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import VIEWPORT
from tests.deploy.support import (
    ROOT,
    Image,
    copy_context,
    ignore_patterns,
    image_env,
    in_venv,
    option,
    python_runs,
    read_image,
    wait_loaded,
    with_options,
)
from tests.programs import (
    fetch,
    free_port,
    start,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.xdist_group("browser")

INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True)
class Container:
    """The emulated container: its files, environment, server and JAX cache."""

    image: Image
    app: Path
    venv: Path
    env: dict[str, str]
    url: str
    port: int
    cache: Path
    log: Path
    seconds: dict[str, float]


def cache_state(cache: Path) -> dict[str, int]:
    """Each cache file and its modification time (a rewritten entry changes it)."""
    return {p.name: p.stat().st_mtime_ns for p in cache.iterdir() if p.is_file()}


@pytest.fixture(scope="session")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """Build (the python steps) and start the image's command; stop it afterwards."""
    image = read_image()
    base = tmp_path_factory.mktemp("container")
    app, venv = base / "app", base / "venv"
    copy_context(ROOT, app, ignore_patterns())
    env = image_env(image, app)
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    seconds: dict[str, float] = {}

    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    steps = python_runs(image)
    assert steps, "the Dockerfile has no python RUN step"
    for argv in steps:
        command = in_venv(argv, venv)
        done = subprocess.run(
            command, cwd=app, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
        assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
        seconds[" ".join(argv)] = time.monotonic() - started
        started = time.monotonic()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = with_options(
        in_venv(image.cmd, venv), {"server.port": str(port), "server.address": "127.0.0.1"}
    )
    log = base / "server.log"
    process = start(command, log, cwd=app, env=env)
    try:
        seconds["healthy after start"] = wait_healthy(url, process, log)
        cache = Path(env["JAX_COMPILATION_CACHE_DIR"])
        yield Container(image, app, venv, env, url, port, cache, log, seconds)
    finally:
        stop(process)


def test_health_and_first_page(container: Container) -> None:
    status, _, body = fetch(f"{container.url}/_stcore/health")
    assert (status, body) == (200, "ok")
    status, headers, page = fetch(f"{container.url}/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "<title>Streamlit</title>" in page and '<div id="root">' in page
    assert (container.app / ".jax_cache").is_dir(), "ENV moved the cache into the copy"
    print("timings:", json.dumps(container.seconds, indent=1))


def test_healthcheck_command(container: Container) -> None:
    """The HEALTHCHECK command passes against the server and fails where none answers."""
    port = option(container.image.cmd, "server.port")
    probe = in_venv(container.image.healthcheck, container.venv)

    def run_probe(target: int) -> int:
        argv = [a.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{target}/") for a in probe]
        return subprocess.run(argv, capture_output=True, timeout=30).returncode

    assert run_probe(container.port) == 0
    assert run_probe(free_port()) != 0


@pytest.mark.browser
def test_first_visitor_is_served_from_the_warm_cache(container: Container, browser) -> None:
    """The warm-up cached every program the default page compiles: a first visit renders the
    page and JAX writes no cache entry (a miss would compile and write one)."""
    before = cache_state(container.cache)
    assert before, "the warm-up left the cache empty"
    context = browser.new_context(viewport=VIEWPORT, base_url=container.url)
    try:
        page = context.new_page()
        page.goto("/")
        wait_loaded(page)
    finally:
        context.close()
    after = cache_state(container.cache)
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert not changed, f"the first visit compiled and cached: {changed}"
