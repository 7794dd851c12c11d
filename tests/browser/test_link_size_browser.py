"""Links too large for Streamlit (it drops their query before the script runs) open on the
defaults with a warning that says why; a normal link shows none."""

from __future__ import annotations

import math

import pytest

from app.link_size import MAX_FIELDS
from tests.browser.test_browser import TIMEOUT_MS, open_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WARNING = "[data-testid=stAlert]"
TOO_LONG = "This link is too long to read"


def test_oversized_link_says_it_was_dropped(page) -> None:
    fields = MAX_FIELDS + 200
    query = "&".join(f"junk{i}=1" for i in range(fields))
    open_app(page, f"/?{query}")
    alert = page.locator(WARNING, has_text=TOO_LONG)
    alert.wait_for(timeout=TIMEOUT_MS)
    kib = math.ceil(len(query) / 1024)  # ASCII: one byte a character
    assert alert.inner_text().strip() == (
        f"This link is too long to read ({fields:,} fields / {kib:,} KiB; the limit is "
        "1,000 fields and 512 KiB): the page opened on its defaults."
    )


def test_normal_link_shows_no_size_warning(page) -> None:
    open_app(page, "/?steps=120&junk=1")
    assert page.locator(WARNING).count() > 0  # the unknown field is reported: the page read it
    assert page.locator(WARNING, has_text=TOO_LONG).count() == 0
