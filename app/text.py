"""Untrusted text (typed formulas, link fields, file names, data, error messages quoting them)
shown through Streamlit's Markdown (st.markdown, st.caption, st.error, st.warning …) exactly as
written: `2*x` keeps its star, `__import__` its underscores, `$a$` stays out of LaTeX."""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that Markdown,
# GitHub tables and strikethrough, Streamlit's LaTeX ($) and its :directives[…] act upon.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain(text: object) -> str:
    """`text` as literal Markdown: every special character backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", str(text))


def code(text: object) -> str:
    """`text` as an inline code span, fenced by more backticks than it contains in a row, and
    padded by a space where it starts or ends with a backtick or a space (CommonMark strips one
    space from each end of a span that has both)."""
    text = str(text).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
