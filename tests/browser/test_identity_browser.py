"""Run numbers and colours in a real browser: after "Remove" on run 1, the address bar's link
gives a fresh browser runs 2 and 3 in the colours the sender sees (AppTest cannot show this: it
does not write the URL back), and the share panel's link is the page's address with "/?".

Selectors: see test_browser.py; `.st-key-run1_remove button` is run 1's Remove button.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_browser import GRAPH, TIMEOUT_MS, open_app, wait_idle
from tests.browser.test_links_browser import query_of, second_page  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Each run path's legend label and line colour, as Streamlit sent them (gd.data), in order.
JS_RUN_COLOURS = """(sel) => document.querySelector(sel).data
    .filter(t => (t.legendgroup || '').startsWith('run-') && t.mode === 'lines')
    .map(t => [t.name, t.line.color])"""
RUN_PANELS = "[data-testid=stSidebar] [data-testid=stExpander] summary"


def run_colours(page) -> list[list[str]]:
    return page.evaluate(JS_RUN_COLOURS, GRAPH)


def run_panels(page) -> list[str]:
    """The sidebar's run panel titles, "Run 2 · Momentum (heavy ball)" … (the last line of
    each summary; the expander's icon name comes first)."""
    return [text.strip().splitlines()[-1] for text in page.locator(RUN_PANELS).all_inner_texts()]


def test_a_removed_run_leaves_the_others_numbers_and_colours_in_the_link(
    page,
    second_page,  # noqa: F811 (the fixture imported above)
) -> None:
    open_app(page, "/?runs=3&steps=50")
    before = run_colours(page)
    assert [label.split(":")[0] for label, _ in before] == ["1", "2", "3"]
    assert len({colour for _, colour in before}) == 3

    page.locator(".st-key-run1_remove button").click()
    page.wait_for_function(
        "(sel) => document.querySelector(sel).data.filter("
        "t => (t.legendgroup || '').startsWith('run-') && t.mode === 'lines').length === 2",
        arg=GRAPH,
        timeout=TIMEOUT_MS,
    )
    wait_idle(page)
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('runs') === '2,3'", timeout=TIMEOUT_MS
    )
    sender = run_colours(page)
    assert sender == before[1:]  # runs 2 and 3 kept their numbers and colours
    assert query_of(page)["runs"] == ["2,3"]

    open_app(second_page, page.url)
    assert run_colours(second_page) == sender
    assert run_panels(second_page) == run_panels(page)
    assert [title.split(" · ")[0] for title in run_panels(second_page)] == ["Run 2", "Run 3"]


def test_the_share_panel_shows_the_address_with_a_slash_before_the_query(page) -> None:
    open_app(page, "/?surface=himmelblau&hide=steps,lr")
    page.get_by_role("button", name="Share").click()
    link = page.locator("[data-testid=stPopoverBody] code").first.inner_text(timeout=TIMEOUT_MS)
    base = urlsplit(page.url)
    assert link.startswith(f"{base.scheme}://{base.netloc}/?v=1&"), link
    assert "hide=steps,lr" in link  # commas left literal
    assert parse_qs(urlsplit(link).query) == {
        "v": ["1"],
        "surface": ["himmelblau"],
        "hide": ["steps,lr"],
    }
