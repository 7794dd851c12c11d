"""Links in a real browser: the address bar holds the setup, a fresh browser opening it gets the
same runs, a classroom link hides and locks what it says, and a typed formula travels by link.

Selectors: see test_browser.py; `.st-key-formula input` is the formula box.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_browser import GRAPH, STATUS, TIMEOUT_MS, open_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Every run's path as drawn: [[x…], [y…]] per run, in legend order.
JS_PATHS = """(sel) => document.querySelector(sel)._fullData
    .filter(t => (t.legendgroup || '').startsWith('run-') && t.mode === 'lines')
    .map(t => [Array.from(t.x), Array.from(t.y)])"""


def paths(page) -> list[list[list[float]]]:
    return page.evaluate(JS_PATHS, GRAPH)


def statuses(page) -> list[str]:
    return page.locator(STATUS).all_inner_texts()


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


@pytest.fixture
def second_page(browser, app_url: str) -> Iterator[object]:
    """A page in another, fresh browser context: no cookies, no session, only the link."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=app_url)
    try:
        yield context.new_page()
    finally:
        context.close()


def enter(page, key: str, text: str, shown_in_link: str) -> None:
    """Type `text` into the entry with widget key `key`, press Enter, and wait until the paths
    have changed, the rerun is over and the address bar holds `shown_in_link`."""
    before = paths(page)
    entry = page.locator(f".st-key-{key} input")
    entry.fill(text)
    entry.press("Enter")
    page.wait_for_function(
        f"([sel, before]) => JSON.stringify(({JS_PATHS})(sel)) !== JSON.stringify(before)",
        arg=[GRAPH, before],
        timeout=TIMEOUT_MS,
    )
    wait_idle(page)
    page.wait_for_function(
        "(text) => location.search.includes(text)", arg=shown_in_link, timeout=TIMEOUT_MS
    )


def test_a_shared_link_gives_a_fresh_browser_the_same_runs(page, second_page) -> None:
    open_app(page, "/?surface=rosenbrock&runs=2&run2_optimizer=adam&run2_lr=0.02&steps=200")
    enter(page, "run1_lr", "0.0015", shown_in_link="run1_lr=0.0015")
    query = query_of(page)
    assert query["surface"] == ["rosenbrock"] and query["run2_optimizer"] == ["adam"]

    open_app(second_page, page.url)
    assert paths(second_page) == paths(page)
    assert [p[0][-1] for p in paths(second_page)] == [p[0][-1] for p in paths(page)]
    assert statuses(second_page) == statuses(page)
    assert second_page.locator(".st-key-run1_lr input").input_value() == "0.0015"


def test_a_classroom_link_hides_and_locks_what_it_says(page) -> None:
    open_app(page, "/?hide=steps,optimizer,modifiers&lock=lr&notes=0")
    assert page.locator(".st-key-steps").count() == 0
    assert page.locator(".st-key-run1_optimizer").count() == 0
    assert page.locator(".st-key-run1_clip_norm").count() == 0
    assert page.locator(".st-key-run1_lr input").is_disabled()
    assert page.locator(".st-key-surface input").is_enabled()
    assert not page.get_by_text("race up to six optimizers").count()
    assert paths(page), "the race is still drawn"


def test_a_typed_formula_runs_and_is_shared_by_link(page, second_page) -> None:
    open_app(page, "/?surface=formula")
    enter(page, "formula", "x^2 + 10*y^2", shown_in_link="formula=")
    assert query_of(page)["formula"] == ["x^2 + 10*y^2"]
    typed = paths(page)
    assert typed and len(typed[0][0]) > 1

    open_app(second_page, page.url)
    assert second_page.locator(".st-key-formula input").input_value() == "x^2 + 10*y^2"
    assert paths(second_page) == typed
    assert statuses(second_page) == statuses(page)
