"""What a student's browser tab and toolbar show: the title "Descent Lab", its icon, and the
viewer's menu without Streamlit's developer options (no Deploy button, even on localhost,
where `client.toolbarMode = "auto"` would show it).

Selectors: `[data-testid=stMainMenu]` is the toolbar's ⋮ menu, `[data-testid=stAppDeployButton]`
the Deploy button; the tab's icon is the page's `link[rel~=icon]`.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.browser.test_browser import LOAD_TIMEOUT_MS, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FAVICON = Path(__file__).resolve().parents[2] / "app" / "static" / "favicon.svg"


def open_page(page) -> None:
    """Open the page and wait until its script has run (set_page_config included)."""
    page.goto("/")
    page.wait_for_selector("[data-testid=stMainMenu]", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function("() => document.title === 'Descent Lab'", timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


def test_students_see_the_title_and_no_deploy_button(page) -> None:
    open_page(page)
    assert page.title() == "Descent Lab"
    assert page.locator("[data-testid=stMainMenu]").is_visible()  # the toolbar is there …
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0  # … without Deploy


def test_the_tab_icon_is_descent_labs(page) -> None:
    """The icon is app/static/favicon.svg (sent as a data URI), not the ⛰️ emoji."""
    open_page(page)
    href = page.locator("link[rel~=icon]").first.get_attribute("href") or ""
    prefix = "data:image/svg+xml;base64,"
    assert href.startswith(prefix)
    icon = base64.b64decode(href.removeprefix(prefix)).decode()
    assert icon.strip() == FAVICON.read_text().strip()
