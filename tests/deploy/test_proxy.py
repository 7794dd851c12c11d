"""Two app replicas behind nginx (deploy/nginx.conf), all on loopback: the proxy pins a browser
to one replica with its route cookie, upgrades the WebSocket (the page connects), and when the
replica a session is on stops, a reload lands on the other one with its setup restored from the
URL.

The replicas run the Dockerfile's CMD (address and port rewritten) from the repository root,
each with its own JAX cache under the test's folder; nginx runs in the foreground with its pid,
logs and temporary files in the test's folder. Which replica served a request is read from
nginx's access log (`upstream=`, `route=`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from deploy.render_nginx import render
from tests.browser.conftest import VIEWPORT
from tests.deploy.support import (
    ROOT,
    image_env,
    read_image,
    wait_loaded,
    with_options,
)
from tests.programs import (
    free_port,
    health,
    start,
    stop,
    wait_healthy,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ARTIFACTS = ROOT / "tests" / "artifacts" / "deploy"  # failure screenshots (git-ignored)
ROUTE_COOKIE = "descentlab_route"
SETUP = "/?surface=himmelblau"
HEADING = "Himmelblau"  # surfaces/registry.py: the name the page prints as a heading
LOG_LINE = re.compile(
    r'"(?P<request>[^"]*)" (?P<status>\d+) \d+ upstream=(?P<upstream>.*) route=(?P<route>\S*)$'
)


@dataclass
class Replica:
    address: str
    process: subprocess.Popen
    log: Path


@dataclass
class Proxy:
    url: str
    replicas: dict[str, Replica]
    access_log: Path


@dataclass(frozen=True)
class Entry:
    request: str
    status: int
    upstreams: list[str]  # every replica tried, in order
    route: str


def entries(access_log: Path) -> list[Entry]:
    """nginx's access log, parsed."""
    result = []
    for line in access_log.read_text().splitlines():
        match = LOG_LINE.search(line)
        assert match is not None, f"unexpected access log line: {line}"
        upstreams = [u.strip() for u in re.split(r"[,:]\s(?=\d)", match["upstream"]) if u.strip()]
        result.append(Entry(match["request"], int(match["status"]), upstreams, match["route"]))
    return result


def nginx_globals() -> str:
    """`-g` directives: in the foreground; as root, workers under root too (the test folder is
    private to its owner, and workers spill large responses into temp/ there)."""
    directives = "daemon off;"
    if os.geteuid() == 0:
        directives += f" user {pwd.getpwuid(0).pw_name};"
    return directives


def unique_ports(count: int) -> list[int]:
    """Different free loopback ports."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@pytest.fixture
def proxy(nginx_path: str, tmp_path: Path) -> Iterator[Proxy]:
    """Two replicas and nginx in front of them; everything stopped afterwards."""
    image = read_image()
    processes: list[subprocess.Popen] = []
    ports = unique_ports(3)  # two replicas and the proxy
    try:
        replicas: dict[str, Replica] = {}
        for index, port in enumerate(ports[:2], start=1):
            address = f"127.0.0.1:{port}"
            argv = with_options(
                image.cmd, {"server.port": str(port), "server.address": "127.0.0.1"}
            )
            assert argv[:3] == ["python", "-m", "app.serve"]
            command = [sys.executable, *argv[1:]]
            env = image_env(image, tmp_path / f"replica{index}")
            log = tmp_path / f"replica{index}.log"
            process = start(command, log, cwd=ROOT, env=env)
            processes.append(process)
            replicas[address] = Replica(address, process, log)
        for replica in replicas.values():
            wait_healthy(f"http://{replica.address}", replica.process, replica.log)
        with nginx_in_front(nginx_path, tmp_path / "nginx", ports[2], replicas) as proxy:
            yield proxy
    finally:
        for process in reversed(processes):
            stop(process)


@contextlib.contextmanager
def nginx_in_front(
    nginx_path: str, prefix: Path, port: int, replicas: dict[str, Replica]
) -> Iterator[Proxy]:
    """deploy/nginx.conf rendered for the replicas, nginx in the foreground on 127.0.0.1:`port`
    with its configuration, logs and temporary files under `prefix`; stopped afterwards."""
    (prefix / "logs").mkdir(parents=True)
    (prefix / "temp").mkdir()
    listen = f"127.0.0.1:{port}"
    conf = prefix / "nginx.conf"
    conf.write_text(render(listen, list(replicas)))
    error_log = prefix / "logs" / "error.log"
    base = [nginx_path, "-p", f"{prefix}/", "-c", str(conf), "-e", str(error_log)]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    nginx = start([*base, "-g", nginx_globals()], prefix / "stdout.log", prefix, os.environ)
    try:
        url = f"http://{listen}"
        deadline = time.monotonic() + 30
        while health(url) != "ok":
            assert nginx.poll() is None, f"nginx exited:\n{error_log.read_text()}"
            assert time.monotonic() < deadline, f"nginx did not answer:\n{error_log.read_text()}"
            time.sleep(0.1)
        yield Proxy(url, replicas, prefix / "logs" / "access.log")
    finally:
        stop(nginx)


def route_cookies(url: str, cookie: str | None = None) -> list[str]:
    """GET through the proxy, optionally with a route cookie; the route cookies it sets."""
    request = urllib.request.Request(url)
    if cookie is not None:
        request.add_header("Cookie", f"{ROUTE_COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        response.read()
        cookies = response.headers.get_all("Set-Cookie") or []
    return [c for c in cookies if c.startswith(f"{ROUTE_COOKIE}=")]


def test_route_cookie_pins_each_browser_to_a_replica(proxy: Proxy) -> None:
    (first,) = route_cookies(f"{proxy.url}/")
    cookie = re.fullmatch(rf"{ROUTE_COOKIE}=(\w+); Path=/; HttpOnly; SameSite=Lax", first)
    assert cookie is not None, first
    route = cookie.group(1)
    for path in ("/", "/_stcore/health", "/_stcore/host-config", "/"):
        assert not route_cookies(f"{proxy.url}{path}", route), "set only once"
    served = {e.upstreams[-1] for e in entries(proxy.access_log) if e.route == route}
    assert len(served) == 1 and served <= set(proxy.replicas), served

    # Sixteen browsers spread over both replicas (all on one: odds about 1 in 30 000).
    for student in range(16):
        assert not route_cookies(f"{proxy.url}/_stcore/health", f"student{student}")
    spread = {e.upstreams[-1] for e in entries(proxy.access_log) if e.route.startswith("student")}
    assert spread == set(proxy.replicas)


# Records whether the page ever leaves the CONNECTED state (however briefly).
JS_WATCH_CONNECTION = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    window.__lost = false;
    new MutationObserver(() => {
        if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') window.__lost = true;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-connection-state']});
}"""


def test_reload_after_losing_the_replica_restores_the_setup(proxy: Proxy, browser) -> None:
    check_failover(proxy, browser)


def check_failover(proxy: Proxy, browser) -> None:
    """A page opened through the proxy connects and draws; when the replica that served it stops,
    the page notices, and a reload lands on the other replica with its setup from the URL."""
    context = browser.new_context(viewport=VIEWPORT, base_url=proxy.url)
    errors: list[str] = []
    loads: list[int] = []  # len(errors) when each document was committed
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.on(
            "framenavigated",
            lambda frame: loads.append(len(errors)) if frame == page.main_frame else None,
        )
        page.goto(SETUP)
        wait_loaded(page)
        assert page.get_by_role("heading", name=HEADING, exact=True).count() == 1
        assert not errors, errors

        route = next(c["value"] for c in context.cookies() if c["name"] == ROUTE_COOKIE)
        served = {e.upstreams[-1] for e in entries(proxy.access_log) if e.route == route}
        assert len(served) == 1, f"one browser, one replica: {served}"
        (home,) = served
        (other,) = set(proxy.replicas) - {home}

        page.evaluate(JS_WATCH_CONNECTION)
        stop(proxy.replicas[home].process)
        page.wait_for_function("() => window.__lost === true", timeout=30_000)
        page.reload()  # the old page's lost-WebSocket errors are expected; the new page's are not
        wait_loaded(page)
        assert parse_qs(urlsplit(page.url).query).get("surface") == ["himmelblau"], page.url
        assert page.get_by_role("heading", name=HEADING, exact=True).count() == 1
        assert not errors[loads[-1] :], errors[loads[-1] :]
        pages = [e for e in entries(proxy.access_log) if re.match(r"GET /\?\S*surface=", e.request)]
        # The first visit and the reload (the app may have rewritten the URL in between).
        reloads = [e for e in pages if "surface=himmelblau" in e.request]
        assert len(pages) == len(reloads) == 2 and reloads[-1].upstreams[-1] == other, pages
        assert reloads[-1].status == 200
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "proxy-failover.png", full_page=True)
        for replica in proxy.replicas.values():
            print(f"--- {replica.address}:\n{replica.log.read_text()[-4000:]}")
        raise
    finally:
        context.close()
