"""Untrusted text through Markdown: `plain` escapes every character Markdown, Streamlit's LaTeX
and its directives would act on, and `code` fences any text, backticks included."""

from __future__ import annotations

import pytest

from app.text import code, plain
from tests.lesson_tools import table_cells

HOSTILE = (
    r"|∇f| = 2*a_b `c` $d$ [e](https://evil.example/x) <img src=x> ~h\ ok",
    "# Session expired\n[Log in again](https://evil.example)",
    ":red[alert] **bold** __import__ 1. item - item + item ![i](https://evil.example/i.png)",
)


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_leaves_no_markdown_character_unescaped(text: str) -> None:
    escaped = plain(text)
    # Read back as a table cell (a backslash makes the next character literal), it is the text.
    assert table_cells(f"| {escaped.replace(chr(10), ' ')} |") == [text.replace("\n", " ")]
    unescaped = escaped.replace("\\\\", "")
    for char in "`*_[]()<>#|$~:!":
        assert all(unescaped[i - 1] == "\\" for i, c in enumerate(unescaped) if c == char and i)


@pytest.mark.parametrize(
    ("text", "fenced"),
    [
        ("x=1", "`x=1`"),
        ("a`b", "``a`b``"),
        ("``x`", "``` ``x` ```"),
        ("a\nb", "`a b`"),
        (" a ", "`  a  `"),
    ],
)
def test_code_fences_with_more_backticks_than_the_text_holds(text: str, fenced: str) -> None:
    assert code(text) == fenced
