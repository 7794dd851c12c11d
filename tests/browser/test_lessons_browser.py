"""The lesson gallery as Chromium draws it: every question stays whole in its table cell, also
those with Markdown's own characters (the `|` of |∇f| used to end the cell).

Selectors: see test_browser.py; the gallery is the Markdown table whose header reads
"Predict, then run".
"""

from __future__ import annotations

import pytest

from app.lessons import LESSONS
from tests.browser.test_browser import TIMEOUT_MS, open_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

GALLERY = "[data-testid=stMarkdownContainer] table:has(th:text-is('Predict, then run'))"


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_vanishing_gradients_row_shows_its_whole_question(page) -> None:
    lesson = LESSONS["vanishing"]
    assert "|" in lesson.question  # the character that used to split the cell
    open_app(page)
    gallery = page.locator(GALLERY)
    gallery.wait_for(timeout=TIMEOUT_MS)
    assert gallery.locator("tbody tr").count() == len(LESSONS)
    title = page.get_by_role("link", name=lesson.title, exact=True)
    row = gallery.locator("tbody tr").filter(has=title)
    cells = row.locator("td").all_inner_texts()
    assert len(cells) == 3, cells
    assert words(cells[0]) == lesson.title
    assert words(cells[2]) == words(lesson.question)
