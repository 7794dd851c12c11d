"""A public link, opened by anyone: no injected content, no traceback, no broken plot.

The hostile corpus puts Markdown, LaTeX and HTML (links, images, headings, tags, math) with
backticks into keys as well as values of every kind of field. The page renders every
warning, error and Markdown element; after removing code spans and backslash escapes (what
CommonMark shows literally), no text taken from the link may still read as a link, an image,
an HTML tag, LaTeX math or a heading.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import custom
from app.link import from_query
from app.share import SHOWN_PROBLEMS
from surfaces.dataset import data_surface, decode_points, least_squares, loses_digits
from surfaces.formula import MAX_LENGTH, canonical, parse
from tests.apptest_tools import address, open_link, warnings

ROOT = Path(__file__).resolve().parents[1]
MARK = "evil"  # every payload carries it, so that what renders can be traced to the link
PAYLOADS = (
    f"a`[click {MARK}](https://{MARK}.example/x)`b",
    f"`![{MARK}](https://{MARK}.example/i.png)",
    f"``\n# Session expired {MARK}\n[Log in again](https://{MARK}.example)",
    f"<img src=https://{MARK}.example/p.png><a href='https://{MARK}.example'>{MARK}</a>",
    f"$\\href{{https://{MARK}.example}}{{{MARK}}}$ $$x_{MARK}$$",
    f"**{MARK}** _{MARK}_ :red[{MARK}] ~~{MARK}~~ | {MARK} |",
    f"\\`[{MARK}](https://{MARK}.example)\\`",
    f"{'`' * 5}[{MARK}](https://{MARK}.example){'`' * 3}",
)
FIELDS = ("surface", "steps", "run1_lr", "run1_optimizer", "view", "lesson", "hide", "runs")


def hostile_links() -> list[dict[str, str]]:
    """Every payload as a value of each kind of field, as a key, and as a formula or data."""
    links = [dict.fromkeys(FIELDS, payload) for payload in PAYLOADS[:4]]
    links += [dict.fromkeys(FIELDS, payload) for payload in PAYLOADS[4:]]
    links.append({payload: payload for payload in PAYLOADS})
    links.append({"surface": "formula", "formula": PAYLOADS[0], PAYLOADS[2]: "1"})
    links.append({"surface": "data", "data": PAYLOADS[3], "x0": PAYLOADS[1]})
    return links


def _literal(markdown: str) -> str:
    """What CommonMark shows literally removed: code spans (a run of n backticks to the next
    run of exactly n) and backslash-escaped punctuation."""
    text = re.sub(r"(?<!`)(`+)(?!`)(.*?)(?<!`)\1(?!`)", " ", markdown, flags=re.DOTALL)
    return re.sub(r"\\[!-/:-@\[-`{-~]", " ", text)


def injected(markdown: str) -> list[str]:
    """Structures in `markdown` that would render from link text: a link or image, an HTML
    tag, LaTeX math, a directive, emphasis or a heading holding the marker."""
    text = _literal(markdown)
    found = re.findall(r"!?\[[^\]]*\]\([^)]*\)|<[a-zA-Z/!][^>]*>.*|\$[^$]+\$|:\w+\[[^\]]*\]", text)
    found += [line for line in text.splitlines() if re.match(r"\s{0,3}#{1,6}\s", line)]
    found += re.findall(r"\*\*[^*]+\*\*|(?<!\w)_[^_]+_(?!\w)|~~[^~]+~~", text)
    return [hit for hit in found if MARK in hit.lower()]


def rendered_markdown(at: AppTest) -> list[str]:
    """Every element of the page that Streamlit renders as Markdown."""
    kinds = ("markdown", "caption", "warning", "error", "info", "success", "title", "subheader")
    return [element.value for kind in kinds for element in at.get(kind)]


def test_the_checker_finds_what_renders_and_passes_what_is_escaped() -> None:
    assert injected(f"[{MARK}](https://x)") and injected(f"# {MARK}") and injected(f"<b>{MARK}")
    assert injected(f"`a` [{MARK}](u) `b`") and injected(f"$x_{MARK}$")
    assert not injected(f"`[{MARK}](u)`") and not injected(f"\\[{MARK}\\]\\(u\\)")
    assert not injected(f"`` a`[{MARK}](u)`b ``") and not injected(f"\\# {MARK}")


@pytest.mark.parametrize("query", hostile_links(), ids=lambda q: f"{len(q)}fields")
def test_no_link_image_heading_or_markup_comes_from_link_text(query: dict[str, str]) -> None:
    at = open_link(query)
    texts = rendered_markdown(at)
    assert MARK in warnings(at).lower()  # the hostile text is shown, as text
    for text in texts:
        assert not injected(text), text
    for element in at.get("latex"):
        assert MARK not in element.value.lower()


# No traceback reaches a visitor.


def test_error_details_are_hidden_from_visitors() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_visitors_get_the_viewers_toolbar() -> None:
    """No Deploy, Rerun or Clear cache for students, on localhost too (a browser checks the
    button: tests/browser/test_toolbar_browser.py)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "viewer"


STARTS = [
    ({"formula": "x*0/0"}, "f is undefined at the start (2.4, 1.8)"),
    ({"formula": "x^1e9"}, "f is not finite at the start (2.4, 1.8) (it overflows)"),
    ({"formula": "exp(exp(exp(x)))"}, "f is not finite at the start (2.4, 1.8) (it overflows)"),
    (
        {"formula": "sqrt(x^2+y^2)", "x0": "0", "y0": "0"},
        "it cannot start at (0, 0), where f is finite but its gradient is not",
    ),
]


@pytest.mark.parametrize(("query", "said"), STARTS, ids=[q["formula"] for q, _ in STARTS])
def test_a_run_not_finite_at_its_start_is_explained_not_a_crash(
    query: dict[str, str], said: str
) -> None:
    at = open_link({"surface": "formula", **query})
    (status,) = [e.value for e in at.get("error")]
    assert said in status.replace("\\", "") and "pick another start" in status
    assert "the loss is not finite" not in status
    inspector = " ".join(e.value for e in at.get("markdown")).replace("\\", "")
    assert "has no step to inspect" in inspector


def test_a_run_number_of_5000_digits_is_an_unknown_field() -> None:
    key = "run" + "9" * 5000 + "_lr"
    decoded = from_query({key: "1"})
    (problem,) = decoded.problems
    assert problem.field == key and problem.reason == "unknown parameter; ignored"
    at = open_link({key: "1"})
    assert "unknown parameter" in warnings(at)


# Data that would break the plot is refused, naming the data.

BAD_DATA = [
    ("1,0;1.000000000001,1", "the x values 1 … 1.000000000001 are too close together"),
    ("0,0;1e-300,1", "the x values 0 … 1e-300 are too close together"),
    (
        ";".join(f"{900000000 + i},{i}" for i in range(10)),
        "the x values run from 900000000 to 900000009: far from 0 for their spread",
    ),
]


@pytest.mark.parametrize(("data", "said"), BAD_DATA, ids=["near-singular", "tiny", "far"])
def test_badly_conditioned_data_is_refused_with_a_message_naming_it(data: str, said: str) -> None:
    at = open_link({"surface": "data", "data": data})
    shown = warnings(at).replace("\\", "")
    assert said in shown and "using the example" in shown
    (chart,) = [c for c in at.get("plotly_chart") if "data_panel" in c.proto.id]
    assert "using the example" in shown and chart  # the page draws the example data instead


def test_far_data_fits_once_standardised_and_matches_numpy_lstsq() -> None:
    points = decode_points(";".join(f"{900000000 + i},{3 * i + 1}" for i in range(10)))
    surface = data_surface(points, standardise=True)
    x, y = points.arrays()
    z = (x - x.mean()) / x.std()
    (w, b), *_ = np.linalg.lstsq(np.column_stack([z, np.ones_like(z)]), y, rcond=None)
    (best,) = surface.critical_points()
    assert (best.x, best.y) == pytest.approx((w, b), rel=1e-12)
    assert np.isfinite(surface.box).all()


def test_centred_least_squares_equals_the_normal_equations_on_plain_data() -> None:
    x, y = np.array([0.5, 1.0, 2.0, 3.5]), np.array([1.0, 2.5, 2.0, 4.0])
    A = np.column_stack([x, np.ones_like(x)])
    w, b = np.linalg.solve(A.T @ A, A.T @ y)
    assert least_squares(x, y) == pytest.approx((w, b, np.mean((A @ [w, b] - y) ** 2)))


# A formula's length limit applies to the typed text.


def test_a_typed_formula_within_the_limit_opens_and_its_link_keeps_it() -> None:
    text = "x^2 + y^2" + "+1e9-1e9" * 60
    assert len(text) <= MAX_LENGTH < len(canonical(parse(text)))
    at = open_link({"surface": "formula", "formula": text, "x0": "1", "y0": "1"})
    errors = " ".join(e.value for e in at.get("error"))
    assert not at.get("warning") and "Could not draw" not in errors and "cannot run" not in errors
    assert address(at)["formula"] == text  # the share link reopens on it, not the example
    again = open_link(address(at))
    assert address(again)["formula"] == text and not again.get("warning")


# Oversized links.


def test_hundreds_of_junk_fields_give_a_short_warning() -> None:
    at = open_link({f"junk{i}": "1" for i in range(600)})
    (warning,) = at.get("warning")
    assert "This link has 600 setting(s)" in warning.value
    listed = [line for line in warning.value.splitlines() if line.startswith("- ")]
    assert len(listed) == SHOWN_PROBLEMS + 1
    assert listed[-1] == f"- … and {600 - SHOWN_PROBLEMS} more"


# Uploads keep every digit; only the link rounds.


class _Upload(NamedTuple):
    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def test_an_upload_keeps_every_digit_and_only_the_link_rounds(monkeypatch) -> None:
    state: dict[str, object] = {}
    monkeypatch.setattr(custom.st, "session_state", state)
    text = "x,y\n0.1234567,1\n0.1234568,2\n900000001.25,3\n"
    state["data_csv"] = _Upload("points.csv", text.encode())
    custom._on_upload()
    assert "_data_upload_error" not in state
    points = custom._base_points()
    assert points.x == (0.1234567, 0.1234568, 900000001.25)  # as in the file
    assert state["data"] == "0.123457,1;0.123457,2;9e+08,3"  # the link's text
    assert loses_digits(points) and not loses_digits(decode_points("0.5,1;2,3"))
