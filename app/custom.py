"""Sidebar controls for the two custom surfaces: your own formula, your own data.

Widget keys (stable and URL-friendly):

    formula                          the typed formula (text)
    formula_x0, formula_x1,          its plot box
    formula_y0, formula_y1
    data_points                      the table of (x, y) points (st.data_editor)
    data_csv                         a CSV upload (st.file_uploader); it replaces the table
    data_standardise                 standardise x (toggle)
    data (state only)                the table's base points as link text "x1,y1;x2,y2;…"

Everything typed is untrusted (it may come from a shared link): the formula goes through the
whitelist parser of `surfaces.formula`, the points through `surfaces.dataset`. A refused input
is shown with its message next to the widget while the last good surface stays in use, so a
typo never loses the plot or the runs. `surface_from_recipe(surface.recipe)` rebuilds either
surface from hashable values (for st.cache_data keys).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.state import FORMULA_BOX_KEYS, START_LIMIT, coerce
from app.text import code, plain
from surfaces.base import Surface
from surfaces.dataset import (
    DEFAULT_POINTS,
    LINK_DIGITS,
    MAX_ROWS,
    Points,
    check_points,
    data_surface,
    decode_points,
    encode_points,
    loses_digits,
    parse_points,
)
from surfaces.formula import (
    DEFAULT_BOX,
    DEFAULT_FORMULA,
    FormulaError,
    formula_surface,
)

_GOOD_FORMULA, _GOOD_BOX = "_formula_good", "_formula_box_good"
_CURRENT_POINTS, _UPLOADED = "_data_current", "_data_uploaded"
_UPLOAD_ERROR, _LINK_ERROR = "_data_upload_error", "_data_link_error"
_FITTED = "_data_fitted"  # the recipe of the data surface last fitted, to see new data


# Rebuilding (no widgets).


def surface_from_recipe(recipe: tuple[Any, ...]) -> Surface:
    """The custom surface a `Surface.recipe` describes (the same object while it is cached):
    ("formula", text, box, start) or ("data", points, standardise); ValueError otherwise."""
    kind = recipe[0] if recipe else None
    if kind == "formula" and len(recipe) == 4:
        return formula_surface(recipe[1], recipe[2], recipe[3], limit=None)  # canonical text
    if kind == "data" and len(recipe) == 3:
        return data_surface(Points(*recipe[1]), bool(recipe[2]))
    raise ValueError(f"not a custom surface recipe: {recipe!r}")


@st.cache_data(show_spinner=False, max_entries=32)
def cached_points(source: bytes) -> Points:
    """The points of an uploaded file, parsed once per content."""
    return parse_points(source)


# The formula.


def _seed_formula_state() -> None:
    """Defaults for missing values and repairs for values of the wrong type (URL, old state)."""
    state = st.session_state
    if not isinstance(state.get("formula"), str):
        state["formula"] = DEFAULT_FORMULA
    for key, default in zip(FORMULA_BOX_KEYS, DEFAULT_BOX, strict=True):
        value = coerce(state.get(key, default), default, -START_LIMIT, START_LIMIT, "number")
        if state.get(key) != value or type(state.get(key)) is not float:
            state[key] = value


def formula_controls(disabled: bool = False) -> Surface | None:
    """The formula box, its rendering (or the refusal pointing at the bad token) and the plot
    box (shown but not editable when `disabled`); returns the surface of the last formula and
    box that were accepted (None only if none ever was)."""
    _seed_formula_state()
    state = st.session_state
    text = st.text_input(
        "f(x, y) =",
        key="formula",
        disabled=disabled,
        help=(
            "Numbers, x, y, pi, e, + - * / ^ (or **), parentheses and sin cos tan asin acos "
            "atan sinh cosh tanh exp log log10 sqrt abs sigmoid softplus relu min max. "
            "Write products with *: 2*x, x*y."
        ),
    )
    st.caption("Plot box")
    left, right = st.columns(2)

    def entry(column: DeltaGenerator, label: str, key: str) -> float:
        return column.number_input(
            label,
            min_value=-START_LIMIT,
            max_value=START_LIMIT,
            step=0.5,
            format="%g",
            key=key,
            disabled=disabled,
        )

    x0, x1 = entry(left, "x from", "formula_x0"), entry(right, "x to", "formula_x1")
    y0, y1 = entry(left, "y from", "formula_y0"), entry(right, "y to", "formula_y1")
    box = (float(x0), float(x1), float(y0), float(y1))
    try:
        surface = formula_surface(text or "", box)  # memoised: compiled once per text and box
    except FormulaError as error:
        st.error(f"Formula not used: {plain(error)}")
        _pointer(text or "", error.position)
        return _last_good_formula()
    except ValueError as error:
        st.error(f"Plot box not used: {plain(error)}")
        return _last_good_formula()
    state[_GOOD_FORMULA], state[_GOOD_BOX] = text, box  # as typed: the limit applies to it
    st.latex(surface.latex)
    return surface


def _pointer(text: str, position: int) -> None:
    """The formula with a caret under the offending character (only for a short formula)."""
    if len(text) <= 120 and "\n" not in text and "`" not in text:
        st.code(f"{text}\n{' ' * (position - 1)}^", language=None)


def _last_good_formula() -> Surface | None:
    state = st.session_state
    text, box = state.get(_GOOD_FORMULA), state.get(_GOOD_BOX)
    if text is None or box is None:
        return None
    st.caption(f"Still showing the last accepted formula: {code(text)}")
    return formula_surface(text, box)


def accepted_formula() -> tuple[str, tuple[float, float, float, float]] | None:
    """The formula (as typed) and box now plotted, or None if none was accepted yet."""
    state = st.session_state
    text, box = state.get(_GOOD_FORMULA), state.get(_GOOD_BOX)
    return None if text is None or box is None else (text, box)


# The data.


def _frame(points: Points) -> pd.DataFrame:
    return pd.DataFrame({"x": np.array(points.x, float), "y": np.array(points.y, float)})


def points_from_frame(frame: pd.DataFrame) -> Points:
    """The points of an edited table: empty rows are skipped, a half-filled row or a
    non-finite value is a ValueError naming its row (1-based, as shown)."""
    xs: list[float] = []
    ys: list[float] = []
    for row, (x, y) in enumerate(zip(frame["x"], frame["y"], strict=True), start=1):
        missing = [pd.isna(x), pd.isna(y)]
        if all(missing):
            continue
        if any(missing):
            raise ValueError(f"row {row} has no {'x' if missing[0] else 'y'} value")
        try:
            xv, yv = float(x), float(y)
        except (TypeError, ValueError):
            raise ValueError(f"row {row}: x and y must be numbers") from None
        if not (math.isfinite(xv) and math.isfinite(yv)):
            raise ValueError(f"row {row}: x and y must be finite numbers")
        xs.append(xv)
        ys.append(yv)
    return check_points(Points(tuple(xs), tuple(ys)))


def _base_points() -> Points:
    """The table's starting points: an upload (at full precision), else the link text in
    state["data"] (the default data set where it is missing or invalid)."""
    state = st.session_state
    uploaded = state.get(_UPLOADED)
    if isinstance(uploaded, Points):
        return uploaded
    text = state.get("data")
    if isinstance(text, str) and text:
        try:
            return decode_points(text)
        except ValueError as error:
            state[_LINK_ERROR] = f"The link's data was not used: {error}"
    state["data"] = encode_points(DEFAULT_POINTS)
    return DEFAULT_POINTS


def _on_upload() -> None:
    """A new file replaces the table (the editor's pending edits are dropped)."""
    state = st.session_state
    upload = state.get("data_csv")
    state.pop(_UPLOAD_ERROR, None)
    if upload is None:
        return
    try:
        points = cached_points(upload.getvalue())
    except ValueError as error:
        state[_UPLOAD_ERROR] = f"{upload.name} was not used: {error}"
        return
    state["data"] = encode_points(points) or ""  # rounded: only what a link carries
    state[_UPLOADED] = points  # the table keeps every digit of the file
    state.pop("data_points", None)


def data_controls(disabled: bool = False) -> Surface | None:
    """The points table (type, paste or edit; rows can be added and deleted), a CSV upload
    and the standardise toggle (shown but not editable when `disabled`); returns the MSE
    surface of the table's points, or of the last valid table while the current one is
    refused (None only if none ever was valid)."""
    state = st.session_state
    st.file_uploader(
        f"Upload a CSV of x, y (at most {MAX_ROWS:,} rows)",
        type=["csv", "txt", "tsv"],
        key="data_csv",
        disabled=disabled,
        on_change=_on_upload,
    )
    base = _base_points()
    if state.get(_UPLOAD_ERROR):
        st.error(plain(state[_UPLOAD_ERROR]))
    if state.get(_LINK_ERROR):
        st.error(plain(state.pop(_LINK_ERROR)))
    edited = st.data_editor(
        _frame(base),
        key="data_points",
        disabled=disabled,
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "x": st.column_config.NumberColumn("x", format="%g", required=True),
            "y": st.column_config.NumberColumn("y", format="%g", required=True),
        },
    )
    if not isinstance(state.get("data_standardise"), bool):
        state["data_standardise"] = False
    standardise = st.toggle(
        "standardise x",
        key="data_standardise",
        disabled=disabled,
        help="Rescale x to mean 0 and standard deviation 1: the loss bowl becomes round.",
    )
    try:
        points = points_from_frame(edited)
        surface = data_surface(points, bool(standardise))
    except ValueError as error:
        st.error(f"Table not used: {plain(error)}")
        current = state.get(_CURRENT_POINTS)
        if not isinstance(current, Points):
            return None
        try:
            surface = data_surface(current, bool(standardise))
        except ValueError:
            return None
        st.caption("Still fitting the last valid table.")
        points = current
    state[_CURRENT_POINTS] = points
    _start_at_new_data(surface)
    link = encode_points(points)
    if link is None:
        st.caption(f"{len(points.x):,} points: too many to travel in a shared link.")
    elif loses_digits(points):
        st.caption(
            f"The fit uses every digit of your data; the share link carries it rounded to "
            f"{LINK_DIGITS} significant digits."
        )
    return surface


def _start_at_new_data(surface: Surface) -> None:
    """New data (or x standardised or not) move the start point to the new surface's preset
    start, in the corner region of its box (see `surfaces.dataset`): the old (w, b) means
    nothing for them and may lie far outside the new box. The first fit of a session keeps the
    start its link gave."""
    state = st.session_state
    if state.get(_FITTED) not in (None, surface.recipe):
        state["x0"], state["y0"] = surface.starts[0]
    state[_FITTED] = surface.recipe


def data_link_value() -> str | None:
    """The URL parameter "data" for the points now fitted ("x1,y1;x2,y2;…", 6 significant
    digits), or None when they are too many for a link (or none is valid yet)."""
    points = st.session_state.get(_CURRENT_POINTS)
    return encode_points(points) if isinstance(points, Points) else None


def current_points() -> Points | None:
    """The points the data surface now fits (for the data panel)."""
    points = st.session_state.get(_CURRENT_POINTS)
    return points if isinstance(points, Points) else None
