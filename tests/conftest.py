"""Strict test set-up: float64 everywhere, warnings are errors (pyproject), shared fixtures.

Chromium comes from Debian (`apt-get install -y chromium`), driven by the pip `playwright` package
through `executable_path`; `playwright install` is never used (it downloads a browser). One
browser serves the whole session: the browser and the deployment tests run on one xdist worker.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import jax
import pytest
from streamlit.testing.v1 import AppTest

from common.runtime import configure_jax
from tests.programs import CHROMIUM_ARGS, missing

configure_jax()  # float64 and whole-loop kernels, before any test builds an array

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class CompileCounter:
    """Counts XLA backend compilations while active."""

    def __init__(self) -> None:
        self.count = 0
        self.active = False

    def __call__(self, event: str, *_args: object, **_kwargs: object) -> None:
        if self.active and event == COMPILE_EVENT:
            self.count += 1


_COUNTER = CompileCounter()
jax.monitoring.register_event_duration_secs_listener(_COUNTER)


@pytest.fixture
def compiles() -> Iterator[CompileCounter]:
    """A live count of XLA compilations during the test."""
    assert jax.config.jax_enable_x64, "float64 must be on"
    _COUNTER.count, _COUNTER.active = 0, True
    try:
        yield _COUNTER
    finally:
        _COUNTER.active = False


# The Streamlit page in AppTest, for the page's tests (built on demand: page_tools imports the app).


@pytest.fixture(name="page")
def page_as_it_opens() -> AppTest:
    """The page as it opens (`tests.page_tools.default_page`)."""
    from tests.page_tools import default_page

    return default_page()


@pytest.fixture(name="short")
def page_with_short_runs() -> AppTest:
    """The page with SHORT steps (`tests.page_tools.short_page`)."""
    from tests.page_tools import short_page

    return short_page()


# Programs the browser and deployment tests need.


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, or a skip (a failure under CI=true)."""
    path = shutil.which("chromium")
    if path is None:
        missing("chromium not installed: apt-get install -y chromium")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    """Debian's Chromium under pip Playwright (sync API), shared by the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright not installed: pip install -r requirements-dev.txt")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
