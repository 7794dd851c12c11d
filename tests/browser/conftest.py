"""Browser-test set-up: one real `streamlit run` server per session, a fresh browser context per
test, and no console error tolerated. Chromium itself (`chromium_path`, `browser`) comes from
tests/conftest.py, shared with the deployment tests.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.programs import streamlit_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"  # failure screenshots (git-ignored)
VIEWPORT = {"width": 1600, "height": 1000}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item, so that fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def app_url(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `streamlit run app/streamlit_app.py` on a free loopback port; yield its base URL."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with streamlit_server(ROOT, log, os.environ) as (url, _):
        yield url


def record_errors(page, errors: list[str]) -> None:
    """Append every console error and page error of `page` to `errors`."""
    page.on(
        "console",
        lambda message: (
            errors.append(f"console.{message.type}: {message.text} ({message.location})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))


@pytest.fixture
def page(browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh context and page on the app; fails the test on any console error or page error.
    A failed test leaves a screenshot in tests/artifacts/browser/."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, base_url=app_url)
    page = context.new_page()
    errors: list[str] = []
    record_errors(page, errors)
    page.console_errors = errors
    page.allowed_errors = []  # regular expressions a test may add for a known, harmless error
    try:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    finally:
        context.close()
    unexpected = [e for e in errors if not any(re.search(a, e) for a in page.allowed_errors)]
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests' screenshots go: tests/artifacts/browser/screenshots/ (git-ignored), or
    with UPDATE_SCREENSHOTS=1 docs/screenshots/, which the README shows (tests never change
    tracked files unless asked to)."""
    folder = (
        SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else ARTIFACTS / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
