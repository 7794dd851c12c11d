"""The image itself, built and run with podman (deploy/image.py): the project's Dockerfile,
unchanged, on a Debian stand-in for its base where no registry is reachable.

One container, published on a free loopback port: it answers `/_stcore/health`, runs as the
Dockerfile's USER, its HEALTHCHECK passes, and a first visitor in Chromium gets the chart with no
console error and no compilation: JAX's log (JAX_LOG_COMPILES, JAX_EXPLAIN_CACHE_MISSES) shows a
persistent-cache hit for every program the build warmed and no miss, and the cache folder is
unchanged. Two containers behind deploy/nginx.conf: a browser survives losing its replica.

The build takes 75–82 s with the base present (the pinned install dominates; unchanged
requirements reuse podman's layer, and then it takes seconds), making the stand-in base
70–105 s more. The figures
(image size, build time, health and first chart after `podman run`, memory after a visit) go to
tests/artifacts/deploy/image.json. Without podman, runc, slirp4netns or mmdebstrap the image
tests skip, except under CI=true (where .ci/run installs them): there they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy import image as podman_image
from tests.browser.conftest import VIEWPORT
from tests.deploy.support import ROOT, read_image, wait_loaded
from tests.deploy.test_proxy import Replica, check_failover, nginx_in_front, unique_ports
from tests.programs import missing, start, stop, wait_healthy

pytestmark = pytest.mark.xdist_group("browser")

TAG = "localhost/descent-lab:test"
PROGRAMS = ("podman", "runc", "slirp4netns", "mmdebstrap")  # .ci/run installs them
FIGURES = ROOT / "tests" / "artifacts" / "deploy" / "image.json"
MEMORY_BUDGET_BYTES = 1024**3  # docs/deploy.md: a replica's memory request (1 GiB)
# JAX's logger: jax._src.compiler.log_persistent_cache_hit / _miss.
CACHE_HIT = re.compile(r"Persistent compilation cache hit for '[^']+' with key '([^']+)'")
CACHE_MISS = "PERSISTENT COMPILATION CACHE MISS"
EXPLAIN_COMPILES = {"JAX_LOG_COMPILES": "1", "JAX_EXPLAIN_CACHE_MISSES": "1"}
UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}  # podman's sizes are decimal


@dataclass(frozen=True)
class Built:
    tag: str
    env: dict[str, str]  # podman's environment (CONTAINERS_CONF)
    base: str  # how the base was had: present, imported or bootstrapped
    build_s: float
    size_bytes: int


@pytest.fixture(scope="session")
def built() -> Built:
    """The stand-in base (cached) and the image, built from the working tree once per session
    (xdist may interleave other modules of the group, which would rebuild a module fixture)."""
    for program in PROGRAMS:
        if shutil.which(program) is None:
            missing(f"{program} not installed: apt-get install -y {' '.join(PROGRAMS)}")
    cache = podman_image.cache_dir()
    env = podman_image.podman_env(cache)
    base = podman_image.ensure_base(podman_image.base_image(), cache, env)
    seconds = podman_image.build(TAG, env)
    return Built(TAG, env, base, seconds, podman_image.image_size(TAG, env))


@contextlib.contextmanager
def container(
    built: Built, name: str, port: int, log: Path, variables: Mapping[str, str] | None = None
) -> Iterator[Replica]:
    """A container of the image in the foreground, its port on 127.0.0.1:`port`, healthy;
    stopped (and removed) afterwards."""
    argv = podman_image.run_argv(built.tag, name, port, variables)
    process = start(argv, log, cwd=ROOT, env=built.env)
    try:
        replica = Replica(f"127.0.0.1:{port}", process, log)
        wait_healthy(f"http://{replica.address}", process, log)
        yield replica
    finally:
        stop(process)
        podman_image.podman("rm", "--force", "--time", "2", name, env=built.env, check=False)


def podman_out(built: Built, *args: str) -> str:
    """podman's standard output, stripped; AssertionError with its error if it fails."""
    result = podman_image.podman(*args, env=built.env, check=False)
    assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def cache_files(built: Built, name: str, folder: str) -> set[str]:
    """The names in the container's compilation cache folder."""
    return set(podman_out(built, "exec", name, "ls", "-1", folder).split())


def memory_bytes(built: Built, name: str) -> float:
    """The container's memory use, as `podman stats` reports it."""
    usage = podman_out(built, "stats", "--no-stream", "--format", "{{.MemUsage}}", name)
    match = re.match(r"([\d.]+)([kMG]?B)\s*/", usage)
    assert match is not None, usage
    return float(match[1]) * UNITS[match[2]]


def test_the_stand_in_base_is_named_as_the_dockerfiles_from(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG PY=3.11\nARG OS=bookworm\nFROM python:${PY}-slim-$OS\nRUN true\n")
    assert podman_image.base_image(dockerfile) == "python:3.11-slim-bookworm"
    assert podman_image.stand_in_release("python:3.11-slim-bookworm") == "bookworm"
    assert podman_image.stand_in_release("docker.io/library/python:3.11-bookworm") == "bookworm"
    for base in ("python:3.12-slim-bookworm", "python:3.11-slim-trixie", "debian:bookworm"):
        with pytest.raises(ValueError, match="no stand-in"):
            podman_image.stand_in_release(base)
    dockerfile.write_text("FROM python:3.11-slim-bookworm AS build\nFROM scratch\n")
    with pytest.raises(ValueError, match="one FROM"):
        podman_image.base_image(dockerfile)


@pytest.mark.browser
def test_container_serves_a_first_visitor_from_the_warmed_cache(
    built: Built, browser, tmp_path: Path
) -> None:
    dockerfile = read_image()
    cache_dir = dockerfile.env["JAX_COMPILATION_CACHE_DIR"]
    name = f"descent-lab-test-{os.getpid()}"
    log = tmp_path / "container.log"
    (port,) = unique_ports(1)
    started = time.monotonic()
    with container(built, name, port, log, EXPLAIN_COMPILES) as replica:
        healthy_s = time.monotonic() - started
        user = podman_out(built, "exec", name, "id", "-un")
        assert user == dockerfile.user != "root"
        assert podman_out(built, "exec", name, "id", "-u") != "0"
        kept = podman_out(
            built, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", built.tag
        )
        assert json.loads(kept)["Test"] == ["CMD", *dockerfile.healthcheck]
        podman_out(built, "healthcheck", "run", name)  # exit status 0: the check passed
        assert (
            podman_out(built, "inspect", "--format", "{{.State.Health.Status}}", name) == "healthy"
        )

        warmed = cache_files(built, name, cache_dir)
        assert warmed, "the build left no compiled programs in the cache"
        context = browser.new_context(viewport=VIEWPORT, base_url=f"http://{replica.address}")
        errors: list[str] = []
        try:
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.goto("/")
            wait_loaded(page)
            first_chart_s = time.monotonic() - started
        finally:
            context.close()
        assert not errors, errors
        memory = memory_bytes(built, name)
        assert cache_files(built, name, cache_dir) == warmed, "the first visit compiled"
    output = log.read_text()
    assert CACHE_MISS not in output, output[-4000:]
    hits = set(CACHE_HIT.findall(output))
    assert hits == {entry.removesuffix("-cache") for entry in warmed}, (hits, warmed)
    assert memory < MEMORY_BUDGET_BYTES

    figures = {
        "base": built.base,
        "build_s": round(built.build_s, 1),
        "image_bytes": built.size_bytes,
        "healthy_after_run_s": round(healthy_s, 1),
        "first_chart_after_run_s": round(first_chart_s, 1),
        "memory_after_first_visit_bytes": round(memory),
        "cache_programs": len(warmed),
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"image figures: {figures}")


@pytest.mark.browser
def test_two_containers_behind_nginx_survive_losing_one(
    built: Built, browser, nginx_path: str, tmp_path: Path
) -> None:
    *replica_ports, proxy_port = unique_ports(3)
    with contextlib.ExitStack() as stack:
        replicas = {}
        for index, port in enumerate(replica_ports, start=1):
            name = f"descent-lab-test-{os.getpid()}-{index}"
            log = tmp_path / f"replica{index}.log"
            replica = stack.enter_context(container(built, name, port, log))
            replicas[replica.address] = replica
        proxy = stack.enter_context(
            nginx_in_front(nginx_path, tmp_path / "nginx", proxy_port, replicas)
        )
        check_failover(proxy, browser)
