"""The lecture-hall screen, measured from element boxes in Chromium: the contour, Play and each
run's learning-rate slider on the first screen at projector and laptop sizes (sidebar open and
folded, 150 % zoom), the picture first on a phone, presenter mode's type and keys."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import record_errors
from tests.programs import JS_IDLE

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TIMEOUT_MS = 60_000
DRAWN = "() => !!document.querySelector('.dl-live[data-revision] .dl-plane .main-svg')"
LESSON = "/?v=1&lesson=warmup&run1_optimizer=rmsprop&run1_lr=0.3"


@contextmanager
def opened(
    browser, app_url: str, link: str, width: int, height: int, zoom: float = 1.0, scheme="light"
):
    """A page of `width` × `height` window pixels at browser zoom `zoom` (CSS pixels are
    window pixels / zoom) in the system colour `scheme`, drawn and idle; fails on any page or
    console error."""
    viewport = {"width": round(width / zoom), "height": round(height / zoom)}
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=zoom,
        base_url=app_url,
        accept_downloads=True,
        color_scheme=scheme,
    )
    page = context.new_page()
    errors: list[str] = []
    record_errors(page, errors)
    try:
        page.goto(link)
        page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
        page.wait_for_function(JS_IDLE, timeout=TIMEOUT_MS)
        yield page
    finally:
        context.close()
    assert not errors, errors


def box(page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not drawn"
    return found


def folded(page) -> bool:
    return page.locator("[data-testid=stSidebar]").get_attribute("data-collapsed") == "true"


def fold_sidebar(page) -> None:
    page.mouse.move(100, 100)  # over the sidebar: its fold button shows on hover
    page.locator("[data-testid=stSidebarCollapseButton] button").click(force=True)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]').dataset.collapsed === 'true'",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(500)  # the plane follows its box (ResizeObserver → relayout)


def in_first_screen(page, selector: str) -> dict[str, float]:
    found = box(page, selector)
    viewport = page.viewport_size
    assert found["y"] >= 0 and found["y"] + found["height"] <= viewport["height"], (
        selector,
        found,
        viewport,
    )
    assert found["x"] >= 0 and found["x"] + found["width"] <= viewport["width"], (selector, found)
    return found


@pytest.mark.parametrize(
    ("width", "height", "folded", "least"),
    [
        (1280, 720, False, 480),
        (1280, 720, True, 560),
        (1440, 900, False, 480),
        (1440, 900, True, 560),
    ],
)
def test_picture_play_and_rates_on_the_first_screen(
    browser, app_url: str, screenshots: Path, width: int, height: int, folded: bool, least: int
) -> None:
    with opened(browser, app_url, LESSON + "&runs=2", width, height) as page:
        if folded:
            fold_sidebar(page)
        plane = in_first_screen(page, ".dl-plane")
        assert plane["width"] >= least, plane
        in_first_screen(page, ".dl-play")
        in_first_screen(page, ".dl-step")
        for run in (1, 2):
            in_first_screen(page, f"input.dl-rate[data-run='{run}']")
        in_first_screen(page, ".dl-question")  # the lesson's question on the same screen
        name = f"layout-{width}x{height}{'-folded' if folded else ''}.png"
        page.screenshot(path=screenshots / name)


def test_at_150_percent_zoom_nothing_scrolls_sideways(browser, app_url: str) -> None:
    with opened(browser, app_url, "/?v=1&runs=3", 1280, 720, zoom=1.5) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        plane = box(page, ".dl-plane")
        assert plane["width"] >= 300, plane


def test_a_phone_sees_the_picture_first(browser, app_url: str, screenshots: Path) -> None:
    with opened(browser, app_url, "/?v=1&runs=2", 390, 844) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        plane = in_first_screen(page, ".dl-plane")
        assert plane["width"] >= 340, plane
        status = box(page, "[data-testid=stMain] [data-testid=stAlert]")
        assert status["y"] > plane["y"] + plane["height"], "the statuses come under the picture"
        assert folded(page), "the controls are folded away"
        page.screenshot(path=screenshots / "phone.png")


def rate_of(page) -> str:
    return parse_qs(urlparse(page.url).query).get("run1_lr", [""])[0]


def test_presenter_mode_type_and_keys(browser, app_url: str, screenshots: Path) -> None:
    with opened(browser, app_url, LESSON + "&present=1", 1280, 720) as page:
        assert folded(page)
        chart_font = page.evaluate(
            "() => document.querySelector('.dl-plane')._fullLayout.font.size"
        )
        assert chart_font >= 18
        status_px = page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector("
            "'[data-testid=stMain] [data-testid=stAlert] p')).fontSize)"
        )
        assert status_px >= 20
        page.screenshot(path=screenshots / "presenter.png")

        step = page.locator("input.dl-step")
        last = step.get_attribute("max")
        assert step.input_value() == last
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no widget
        page.keyboard.press("R")  # restart: Play from step 0
        page.wait_for_function(
            "(last) => document.querySelector('input.dl-step').value !== last", arg=last
        )
        page.keyboard.press(" ")  # pause
        page.wait_for_function(JS_IDLE, timeout=TIMEOUT_MS)
        paused = int(step.input_value())
        assert paused < int(last)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(p) => Number(document.querySelector('input.dl-step').value) > p", arg=paused
        )
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "(p) => Number(document.querySelector('input.dl-step').value) === p", arg=paused
        )

        before = rate_of(page)
        page.keyboard.press("ArrowUp")  # run 1's rate one step up its slider, committed
        page.wait_for_function(
            "(before) => new URLSearchParams(location.search).get('run1_lr') !== before",
            arg=before,
            timeout=TIMEOUT_MS,
        )
        shown = page.locator(".dl-rate-row[data-run='1'] .dl-rate-value").inner_text()
        assert shown == f"η₀ = {rate_of(page)}"
        assert float(rate_of(page)) > float(before or 0.3)


def luminance(css: str) -> float:
    """Relative brightness 0 … 1 of a CSS "rgb(r, g, b)" or "#rrggbb" colour."""
    if css.startswith("#"):
        r, g, b = (int(css[i : i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_reaches_the_live_view(browser, app_url: str, scheme: str) -> None:
    with opened(browser, app_url, "/?v=1&lesson=warmup", 1280, 720, scheme=scheme) as page:
        page_background = page.evaluate(
            "() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
        )
        chart_text = page.evaluate(
            "() => document.querySelector('.dl-plane')._fullLayout.font.color"
        )
        lesson_text = page.evaluate(
            "() => getComputedStyle(document.querySelector('.dl-question')).color"
        )
        dark = scheme == "dark"
        assert (luminance(page_background) < 0.3) == dark, page_background
        for text in (chart_text, lesson_text):  # readable on that background
            assert abs(luminance(text) - luminance(page_background)) > 0.6, (text, scheme)
