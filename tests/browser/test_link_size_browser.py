"""Links too large for Streamlit (it drops their query before the script runs) open on the
defaults with a warning that says why; a normal link shows none."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Error as PlaywrightError

from app.link_size import MAX_BYTES, MAX_FIELDS
from tests.browser.test_browser import LOAD_TIMEOUT_MS, TIMEOUT_MS, open_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WARNING = "[data-testid=stAlert]"
TOO_LONG = "This link is too long to read"
# The HTTP server under `streamlit run` (uvicorn, h11) refuses a request line of ~128 KiB or
# more (measured: 127,846 query characters served, 140,000 refused), long before Streamlit's
# own 512 KiB limit: a link that long never reaches the page.
SERVED_QUERY = 100 * 2**10


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


def test_a_link_over_512_kib_is_refused_before_the_app_runs(page) -> None:
    # Nothing of the app can answer it: the server replies 400 to the request itself, so the
    # browser shows no page (and the app's size warning cannot be shown; see the next test).
    page.allowed_errors.append(r"status of 400")
    query = "formula=" + "x" * (MAX_BYTES + 1024)
    statuses: list[int] = []
    page.on("response", lambda response: statuses.append(response.status))
    with pytest.raises(PlaywrightError, match="ERR_HTTP_RESPONSE_CODE_FAILURE"):
        page.goto(f"/?{query}")
    assert statuses == [400]
    assert page.locator("[data-testid=stApp]").count() == 0


def test_the_longest_link_the_server_takes_opens_on_defaults_with_a_warning(page) -> None:
    # One field of 100 KiB: Streamlit passes it (under 512 KiB), the link reader refuses the
    # value, and the page opens on the example formula's defaults and says which field.
    page.goto(f"/?surface=formula&formula={'x' * SERVED_QUERY}")
    alert = page.locator(WARNING, has_text="longer than 500 characters; ignored")
    alert.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert "formula=" + "x" * 37 in alert.inner_text()
    assert len(alert.inner_text()) < 1_000  # the value is cut, not echoed
    assert page.locator(WARNING, has_text=TOO_LONG).count() == 0
    # The surface field was read (a typed formula), the formula is the example's.
    page.get_by_role("heading", name="Your function").wait_for(timeout=TIMEOUT_MS)
