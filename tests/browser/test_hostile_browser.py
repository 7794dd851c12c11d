"""Injection links in a real browser: what the page renders from link text stays text.

Each link carries Markdown, HTML and LaTeX with backticks in keys and values (the marker
"evil" in every payload). The page must show the marker (as text, in the link warning) and
hold no <a>, <img> or <h1>–<h6> whose text, href or src comes from the link.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser.test_browser import open_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MARK = "evil"
LINKS = [
    {f"a`[click here {MARK}](https://{MARK}.example/x)`b": "1"},
    {"steps": f"``\n# Session expired {MARK}\n[Log in again](https://{MARK}.example)"},
    {
        "surface": f"`![{MARK}](https://{MARK}.example/i.png)",
        f"<img src=https://{MARK}.example/p.png>": f"<a href='https://{MARK}.example'>{MARK}</a>",
    },
    {
        "surface": "formula",
        "formula": f"x`[{MARK}](https://{MARK}.example)` $\\href{{u}}{{{MARK}}}$",
    },
]
JS_INJECTED = """(mark) => {
    const hits = [];
    for (const e of document.querySelectorAll('a, img, h1, h2, h3, h4, h5, h6')) {
        const text = [e.textContent, e.getAttribute('href'), e.getAttribute('src')].join(' ');
        if (text.toLowerCase().includes(mark)) hits.push(e.outerHTML.slice(0, 200));
    }
    return hits;
}"""


@pytest.mark.parametrize("query", LINKS, ids=[f"link{i}" for i in range(len(LINKS))])
def test_injection_links_render_no_link_image_or_heading(page, query: dict[str, str]) -> None:
    open_app(page, f"/?{urlencode(query)}")
    alert = page.locator("[data-testid=stAlert]").first
    alert.wait_for()
    assert MARK in page.inner_text("[data-testid=stMain]").lower()  # shown, as text
    assert page.evaluate(JS_INJECTED, MARK) == []
