"""Text as a class reads it in a real browser: every schedule formula fits the sidebar, formula
hints keep their * and _, and the metric panels' axis titles clear one another and the ticks.

Selectors (see test_browser.py for the rest):

    .st-key-run{i}_schedule_formula          run i's schedule formula (st.latex in a container)
    [data-testid=stSidebar] [data-testid=stAlert]      the formula's refusal
    .dl-metrics                              the live view's metrics graph div; its y-axis
                                             titles are .g-ytitle, .g-y2title, .g-y3title, its
                                             tick labels .ytick/.y2tick/.y3tick text
"""

from __future__ import annotations

import pytest

from optimizers.schedules import SCHEDULES
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_browser import METRICS, TIMEOUT_MS, open_app, unfold, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PER_LINK = 6  # runs per link: six schedules per page load
JS_FORMULA = """(key) => {
    const box = document.querySelector(`.st-key-${key}`);
    const katex = box.querySelector('.katex');
    return {tex: katex.querySelector('annotation').textContent, width: katex.scrollWidth,
            room: box.clientWidth};
}"""
JS_AXES = """(sel) => {
    const gd = document.querySelector(sel);
    const box = e => { const r = e.getBoundingClientRect();
                       return [r.left, r.top, r.right, r.bottom]; };
    const titles = ['y', 'y2', 'y3'].map(a => box(gd.querySelector(`.g-${a}title text`)));
    const ticks = ['y', 'y2', 'y3'].map(
        a => [...gd.querySelectorAll(`.${a}tick text`)].map(box));
    return {titles, ticks};
}"""


def overlap(a: list[float], b: list[float]) -> bool:
    """Whether two [left, top, right, bottom] boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("first", range(0, len(SCHEDULES), PER_LINK))
def test_every_schedule_formula_fits_the_default_sidebar(page, first: int) -> None:
    """At 1280 × 720 (the sidebar at its default width) each schedule's typeset formula is no
    wider than its box, so nothing is clipped or needs a scroll bar."""
    keys = list(SCHEDULES)[first : first + PER_LINK]
    page.set_viewport_size({"width": 1280, "height": 720})
    fields = "&".join(f"run{i}_schedule={key}" for i, key in enumerate(keys, start=1))
    open_app(page, f"/?steps=10&runs={len(keys)}&{fields}")
    for i, key in enumerate(keys, start=1):
        if i > 1:
            unfold(page, i)  # a link's runs after the first open folded
        shown = page.evaluate(JS_FORMULA, f"run{i}_schedule_formula")
        assert shown["tex"].strip() == SCHEDULES[key].latex
        assert shown["width"] <= shown["room"], (key, shown["width"], shown["room"])


def test_formula_hints_keep_their_stars_and_underscores(page) -> None:
    open_app(page, "/?surface=formula")
    entry = page.locator(".st-key-formula input")
    alert = page.locator("[data-testid=stSidebar] [data-testid=stAlert]")
    for typed, expected in (
        ("2x + y", "write products with * (2*x, not 2x; x*y, not x y)"),
        ("__import__('os') * x_1", "unknown name '__import__' at character 1"),
    ):
        entry.fill(typed)
        entry.press("Enter")
        page.wait_for_function(  # the refusal of this formula (not of the one before)
            "(typed) => document.querySelector('.st-key-formula input').value === typed"
            " && document.querySelector('[data-testid=stApp]')"
            ".getAttribute('data-test-script-state') === 'notRunning'",
            arg=typed,
            timeout=TIMEOUT_MS,
        )
        wait_idle(page)
        alert.filter(has_text=typed[:2]).wait_for(timeout=TIMEOUT_MS)
        assert expected in alert.inner_text(), alert.inner_text()


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_metric_axis_titles_clear_each_other_and_the_ticks(page, width: int, height: int):
    """A saddle (f* unknown: the longest loss title) with GD and heavy ball (their dashed
    stability lines on the η_k panel); the screenshot is left in tests/artifacts/browser/."""
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, "/?surface=saddle&runs=2&run2_optimizer=momentum")
    chart = page.locator(METRICS)
    chart.scroll_into_view_if_needed()
    axes = page.evaluate(JS_AXES, METRICS)
    titles, ticks = axes["titles"], axes["ticks"]
    assert all(t[3] - t[1] > 0 for t in titles)
    for i, title in enumerate(titles):
        assert not any(overlap(title, other) for other in titles[i + 1 :]), titles
        assert not any(overlap(title, tick) for row in ticks for tick in row), (title, ticks)
    for row in ticks:  # no tick label runs into its neighbour either
        assert not any(overlap(a, b) for i, a in enumerate(row) for b in row[i + 1 :]), row
    assert page.locator(f"{METRICS} text", has_text="(f* unknown)").count() == 1
    assert page.locator(f"{METRICS} text", has_text="2/λ_max").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chart.screenshot(path=ARTIFACTS / f"metrics-{width}x{height}.png")
