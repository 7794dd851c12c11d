"""Your own formula and your own data in the page (AppTest): the drawn paths are the engine's on
the parsed surface, a refused formula keeps the last good one, and both travel in the link."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

from app import figures
from app.link import from_query
from app.state import configs
from app.text import code
from optimizers.engine import run
from surfaces import SURFACES
from surfaces.dataset import decode_points, least_squares
from tests.apptest_tools import address, live, open_link, warnings


def run_path(at: AppTest, index: int = 0) -> np.ndarray:
    trace = live(at)["plane"]["data"][figures.FIRST_RUN_TRACE + figures.TRACES_PER_RUN * index]
    return np.column_stack([figures.array_of(trace["x"]), figures.array_of(trace["y"])])


def expected_path(query: dict[str, str], index: int = 0) -> np.ndarray:
    config = configs(from_query(query).state)[index]
    surface = SURFACES[config.surface] if isinstance(config.surface, str) else config.surface
    return figures.clipped(run(config).positions, surface.box).astype(np.float32)  # as sent


def as_read(markdown: str) -> str:
    """What Markdown shows for `markdown`, whose Markdown characters must all be escaped:
    CommonMark's backslash escapes undone."""
    assert not re.search(r"(?<!\\)[*_`$\[\]<>]", markdown.replace("\\\\", "")), markdown
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def test_a_formula_link_draws_the_engine_path_on_the_parsed_surface() -> None:
    query = {"v": "1", "surface": "formula", "formula": "x^2 + 10*y^2", "x0": "2", "y0": "1"}
    at = open_link(query)
    assert at.text_input(key="formula").value == "x^2 + 10*y^2"
    assert any("10" in e.value and "y" in e.value for e in at.get("latex"))
    np.testing.assert_array_equal(run_path(at), expected_path(query))
    assert address(at) == query


def test_a_refused_formula_points_at_the_token_and_keeps_the_last_good_one() -> None:
    query = {"surface": "formula", "formula": "x^2 + y^2", "x0": "1", "y0": "1"}
    at = open_link(query)
    before = run_path(at)
    at.text_input(key="formula").input("x^2 + __import__('os')").run()
    errors = " ".join(as_read(e.value) for e in at.get("error"))
    assert "__import__" in errors and "character 7" in errors
    np.testing.assert_array_equal(run_path(at), before)
    assert address(at)["formula"] == "x^2 + y^2"  # the link keeps the accepted formula
    assert not at.exception


def test_a_bad_formula_in_a_link_is_reported_and_replaced() -> None:
    at = open_link({"surface": "formula", "formula": "lambda: 1"})
    warning = warnings(at)
    assert "`formula=lambda: 1`" in warning
    assert live(at)["view"]["runs"]


def test_a_data_link_fits_its_points_and_shows_the_data_panel() -> None:
    query = {"v": "1", "surface": "data", "data": "1,2;2,3.9;3,6.1;4,8", "x0": "0", "y0": "0"}
    at = open_link(query)
    np.testing.assert_array_equal(run_path(at), expected_path(query))
    (panel,) = [
        json.loads(c.proto.spec) for c in at.get("plotly_chart") if "data_panel" in c.proto.id
    ]
    points = decode_points(query["data"])
    np.testing.assert_array_equal(figures.array_of(panel["data"][0]["x"]), points.x)
    w, b, _ = least_squares(*points.arrays())
    best = panel["data"][1]  # the least-squares line, dotted
    xs, ys = figures.array_of(best["x"]), figures.array_of(best["y"])
    np.testing.assert_allclose(ys, w * xs + b, rtol=1e-9)
    assert address(at) == query


def test_mini_batches_are_offered_only_for_data_surfaces() -> None:
    plain = {e.key for e in open_link({}).get("number_input")}
    assert "run1_batch_size" not in plain
    query: dict[str, Any] = {"surface": "linreg", "run1_batch_size": "5", "run1_batch_seed": "3"}
    at = open_link(query)
    assert at.number_input(key="run1_batch_size").value == 5
    np.testing.assert_array_equal(run_path(at), expected_path(query))


def test_a_locked_surface_shows_the_formula_but_does_not_take_edits() -> None:
    at = open_link({"surface": "formula", "formula": "x^2 + y^2", "lock": "surface"})
    assert at.text_input(key="formula").disabled
    assert at.number_input(key="formula_x0").disabled
    hidden = open_link({"surface": "formula", "formula": "x^2 + y^2", "hide": "surface"})
    assert not hidden.get("text_input")
    np.testing.assert_array_equal(run_path(hidden), run_path(at))


def test_formula_errors_and_hints_keep_their_stars_and_underscores() -> None:
    """Markdown would read 2*x … x*y as emphasis and __import__ as bold: both are escaped."""
    at = open_link({"surface": "formula", "formula": "x^2 + y^2"})
    at.text_input(key="formula").input("2x + y").run()
    (error,) = at.get("error")
    assert "(2*x, not 2x; x*y, not x y)" in as_read(error.value)
    assert f"Still showing the last accepted formula: {code('x^2 + y^2')}" in [
        c.value for c in at.caption
    ]
    at.text_input(key="formula").input("__import__('os') * x_1").run()
    (error,) = at.get("error")
    assert as_read(error.value).startswith("Formula not used: unknown name '__import__'")
