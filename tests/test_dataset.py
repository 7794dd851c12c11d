"""Your own data: CSV edge cases, the link encoding and the MSE surface's exact minimum."""

from __future__ import annotations

import csv
import io

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surfaces.dataset import (
    LINK_DIGITS,
    MAX_INPUT_BYTES,
    MAX_LINK_CHARS,
    MAX_ROWS,
    MIN_SPREAD,
    Points,
    data_surface,
    decode_points,
    encode_points,
    fitted_line,
    least_squares,
    parse_points,
)

SMALL = Points((1.0, 2.0, 3.0, 4.0), (2.5, 2.9, 4.1, 4.4))
PRECISE = Points((0.1234567, 0.1234568, 900000001.25, -3.5), (1.0, 2.0, 3.0, 4.0))


# Reading tables.


@pytest.mark.parametrize(
    "text",
    [
        "1,2.5\n2,2.9\n3,4.1\n4,4.4",
        "x,y\n1,2.5\n2,2.9\n3,4.1\n4,4.4",
        "x;y\r\n1;2.5\r\n2;2.9\r\n3;4.1\r\n4;4.4\r\n",
        "x\ty\n1\t2.5\n2\t2.9\n3\t4.1\n4\t4.4",
        "  1 2.5\n2   2.9\n\n3 4.1\n4 4.4\n\n",
        "# measured on Monday\nx, y\n1, 2.5\n2, +2.9\n3, 41e-1\n4, 4.4",
        "\ufeffx,y\n1,2.5\n2,2.9\n3,4.1\n4,4.4",
    ],
    ids=["no header", "header", "semicolons CRLF", "tabs", "spaces", "comment", "BOM"],
)
def test_tables_with_or_without_header_read_the_same(text: str) -> None:
    assert parse_points(text) == SMALL
    assert parse_points(text.encode("utf-8")) == SMALL


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "no data"),
        (b"", "no data"),
        ("   \n\n  \n", "no data"),
        ("# only a comment", "no data"),
        ("x,y\n", "no data rows"),
        ("x,y\n3,4", "only one point"),
        ("3,4", "only one point"),
        ("1,2\n1,3\n1,4", "two different x values"),
        ("x,y\n1,2\n2,abc\n3,4", r"row 3, column 2 is 'abc', not a number"),
        ("1,2\nfoo,3", r"row 2, column 1 is 'foo', not a number"),
        ("1,2\n2,", "row 2, column 2 is empty"),
        ("1,2\n2,NaN\n3,4", r"row 2, column 2: 'NaN' is not a finite number"),
        ("1,2\n2,3\n-inf,4", r"row 3, column 1: '-inf' is not a finite number"),
        ("1,2\n2,3,4", "row 2 has 3 columns; expected 2"),
        ("1\n2", "row 1 has 1 column; expected 2"),
        ("1,2\n2,1e300", "larger than 1e\\+09"),
        ("1,2\n0x10,3", r"'0x10', not a number"),
        ("1,2\n1_000,3", r"'1_000', not a number"),
        (b"\xff\xfe1,2\n3,4", "not UTF-8"),
        (b"x" * (MAX_INPUT_BYTES + 1), "limit is 2,000,000 bytes"),
        ("x,y\n" + "1,2\n" * 5, "two different x values"),
    ],
)
def test_bad_tables_get_a_clear_message(source: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_points(source)


def test_a_hundred_thousand_rows_are_refused_not_truncated() -> None:
    rows = "\n".join(f"{i},{2 * i + 1}" for i in range(100_000))
    assert len(rows) < MAX_INPUT_BYTES  # refused for its rows, not its size
    with pytest.raises(ValueError, match=r"too many rows: 100,000 points; the limit is 10,000"):
        parse_points("x,y\n" + rows)
    with pytest.raises(ValueError, match="too many rows"):
        parse_points(rows.encode())


def test_the_row_cap_itself_is_accepted() -> None:
    rows = "\n".join(f"{i},{0.5 * i}" for i in range(MAX_ROWS))
    data = parse_points(rows)
    assert len(data.x) == MAX_ROWS and data.y[-1] == 0.5 * (MAX_ROWS - 1)


def test_a_long_cell_is_shortened_in_the_message() -> None:
    with pytest.raises(ValueError, match="row 2, column 2") as caught:
        parse_points("1,2\n2," + "z" * 5000)
    assert len(str(caught.value)) < 120


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789.,;-+eE \t\nxyabn#\u00a0\ufeff")), max_size=80)
)
def test_any_text_gives_points_or_a_value_error(text: str) -> None:
    try:
        data = parse_points(text)
    except ValueError as error:
        message = str(error)
    else:
        message = ""
    if message:
        return
    assert len(data.x) == len(data.y) >= 2 and len(set(data.x)) >= 2
    assert np.isfinite(data.arrays()).all()


# Links.


def test_link_encoding_is_compact_text() -> None:
    data = Points((1.0, 2.5, -0.000123456789), (3.0, 1e-7, 123456789.0))
    assert encode_points(data) == "1,3;2.5,1e-07;-0.000123457,1.23457e+08"


def _fittable(xs: list[float]) -> bool:
    """Whether a line can be fitted through points at `xs` (check_points' spread rule)."""
    x = np.array(xs)
    return bool(x.std() > MIN_SPREAD * np.abs(x).max())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
            st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
        ),
        min_size=2,
        max_size=60,
    ).filter(lambda pairs: _fittable([float(f"{x:.{LINK_DIGITS}g}") for x, _ in pairs]))
)
def test_link_round_trip(pairs: list[tuple[float, float]]) -> None:
    data = Points(tuple(x for x, _ in pairs), tuple(y for _, y in pairs))
    text = encode_points(data)
    assert text is not None
    decoded = decode_points(text)
    rounded = [float(f"{v:.{LINK_DIGITS}g}") for v in (*data.x, *data.y)]
    assert [*decoded.x, *decoded.y] == rounded
    assert encode_points(decoded) == text  # a decoded link encodes to itself
    np.testing.assert_allclose(decoded.arrays(), data.arrays(), rtol=1e-5, atol=1e-300)


def test_large_data_does_not_fit_in_a_link() -> None:
    rows = 1 + MAX_LINK_CHARS // 8
    data = Points(tuple(float(i) for i in range(rows)), tuple(1.5 * i for i in range(rows)))
    assert encode_points(data) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no data points"),
        ("1,2;3", r"point 2 of the link's data is '3', not 'x,y'"),
        ("1,2;3,x", "point 2 of the link's data, '3,x', is not two numbers"),
        ("1,2;3,nan", "not a finite number"),
        ("1,2", "only one point"),
        ("1,2;" * 1000, "longer than 2000"),
        ("1,2;1,3", "two different x values"),
    ],
)
def test_bad_link_data_is_a_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_points(text)


# The surface.


def random_points(seed: int, n: int = 30) -> Points:
    rng = np.random.default_rng(seed)
    x = rng.uniform(1.0, 5.0, n)
    y = -0.8 * x + 3.0 + rng.normal(0.0, 0.4, n)
    return Points(tuple(x), tuple(y))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("standardise", [False, True])
def test_the_minimum_is_the_least_squares_fit(seed: int, standardise: bool) -> None:
    data = random_points(seed)
    surface = data_surface(data, standardise)
    x, y = data.arrays()
    if standardise:
        x = (x - x.mean()) / x.std()
    A = np.column_stack([x, np.ones_like(x)])
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    (point,) = surface.critical_points()
    assert point.kind == "global"
    np.testing.assert_allclose((point.x, point.y), (w, b), rtol=1e-10, atol=1e-12)
    assert point.value == pytest.approx(np.mean((A @ (w, b) - y) ** 2), rel=1e-10)
    grad = jax.grad(surface.fn)(jnp.array([point.x, point.y]), {})
    assert np.linalg.norm(grad) < 1e-10
    x0, x1, y0, y1 = surface.box
    assert x0 < point.x < x1 and y0 < point.y < y1
    assert all(x0 <= sx <= x1 and y0 <= sy <= y1 for sx, sy in surface.starts)
    (sx, sy), _ = surface.starts  # 10 % across and 90 % up, short enough for a link
    assert sx == pytest.approx(x0 + 0.1 * (x1 - x0), abs=1e-3 * (x1 - x0))
    assert sy == pytest.approx(y0 + 0.9 * (y1 - y0), abs=1e-3 * (y1 - y0))
    assert len(repr(sx)) <= 8 and len(repr(sy)) <= 8


def test_the_loss_is_the_mean_squared_error() -> None:
    data = random_points(4)
    surface = data_surface(data)
    x, y = data.arrays()
    rng = np.random.default_rng(0)
    for w, b in rng.normal(0, 3, (10, 2)):
        expected = np.mean((w * x + b - y) ** 2)
        assert float(surface.fn(jnp.array([w, b]), {})) == pytest.approx(expected, rel=1e-13)
        samples = surface.samples
        assert samples is not None and samples.size == len(x)
        per_point = samples.loss(jnp.array([w, b]), *samples.data({}))
        assert float(jnp.mean(per_point)) == pytest.approx(expected, rel=1e-13)


def test_standardising_makes_the_bowl_round() -> None:
    surface = data_surface(random_points(5), standardise=True)
    hessian = np.asarray(jax.hessian(surface.fn)(jnp.zeros(2), {}))
    np.testing.assert_allclose(hessian, 2 * np.eye(2), atol=1e-12)


def test_surfaces_are_memoised_and_rebuildable() -> None:
    data = random_points(6)
    first = data_surface(data, True)
    assert data_surface(Points(*data), True) is first
    assert data_surface(data, False) is not first
    assert first.recipe == ("data", data, True)
    assert first.key == "data" and first.latex.startswith("f(w, b)")
    with pytest.raises(ValueError, match="only one point"):
        data_surface(Points((1.0,), (2.0,)))


def test_least_squares_of_points_on_a_line_is_exact() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert least_squares(x, 2 * x - 1) == pytest.approx((2.0, -1.0, 0.0), abs=1e-12)


def test_fitted_line_is_drawn_in_the_datas_units() -> None:
    data = random_points(7)
    xs, ys = fitted_line(data, 2.0, 1.0)
    x, _ = data.arrays()
    np.testing.assert_allclose(xs, [x.min(), x.max()])
    np.testing.assert_allclose(ys, 2.0 * xs + 1.0)
    surface = data_surface(data, standardise=True)
    (best,) = surface.critical_points()
    xs, ys = fitted_line(data, best.x, best.y, standardise=True)
    w, b, _ = least_squares(*data.arrays())  # the same line in raw units
    np.testing.assert_allclose(ys, w * xs + b, rtol=1e-10)


# The app's pure helpers (app/custom.py).


def test_table_rows_become_points() -> None:
    import pandas as pd

    from app.custom import points_from_frame

    frame = pd.DataFrame({"x": [1.0, None, 2.0, 3.0], "y": [2.0, None, 2.5, 4.0]})
    assert points_from_frame(frame) == Points((1.0, 2.0, 3.0), (2.0, 2.5, 4.0))
    with pytest.raises(ValueError, match="row 2 has no y value"):
        points_from_frame(pd.DataFrame({"x": [1.0, 2.0], "y": [2.0, None]}))
    with pytest.raises(ValueError, match="only one point"):
        points_from_frame(pd.DataFrame({"x": [1.0, None], "y": [2.0, None]}))


def test_data_panel_shows_points_and_each_runs_line() -> None:
    from app.figures import FitLine, data_panel_figure

    data = random_points(8, n=12)
    fits = [FitLine("run 1", "#0072B2", -0.5, 2.0), FitLine("run 2", "#E69F00", 0.0, 1.0)]
    figure = data_panel_figure(data, fits, standardise=False, step=7)
    names = [trace.name for trace in figure.data]
    assert names == ["data", "least squares", "run 1", "run 2"]
    assert len(figure.data[0].x) == 12
    x, _ = data.arrays()
    np.testing.assert_allclose(figure.data[2].y, -0.5 * np.array([x.min(), x.max()]) + 2.0)
    assert "step 7" in figure.layout.title.text


def test_recipes_rebuild_the_same_surface() -> None:
    from app.custom import surface_from_recipe
    from surfaces.formula import formula_surface

    data = data_surface(random_points(9), True)
    assert data.recipe is not None and surface_from_recipe(data.recipe) is data
    shaped = formula_surface("x^2 + y^4", (-2.0, 2.0, -1.0, 1.0), (1.0, 0.5))
    assert shaped.recipe is not None and surface_from_recipe(shaped.recipe) is shaped
    with pytest.raises(ValueError, match="not a custom surface recipe"):
        surface_from_recipe(("quadratic",))


# Files as spreadsheets and pandas write them (written here by the csv module and pandas).


def _written(rows: list[list[object]], dialect: str = "excel", **options: object) -> str:
    out = io.StringIO()
    csv.writer(out, dialect=dialect, **options).writerows(rows)
    return out.getvalue()


def _comma(value: float) -> str:
    return repr(value).replace(".", ",")


CSV_FILES = {
    "pandas to_csv (index column)": pd.DataFrame({"x": PRECISE.x, "y": PRECISE.y}).to_csv(),
    "pandas to_csv without index": pd.DataFrame({"x": PRECISE.x, "y": PRECISE.y}).to_csv(
        index=False
    ),
    "excel, CRLF": _written([["x", "y"], *zip(PRECISE.x, PRECISE.y, strict=True)]),
    "excel, all quoted": _written(
        [["x", "y"], *zip(PRECISE.x, PRECISE.y, strict=True)], quoting=csv.QUOTE_ALL
    ),
    "excel, trailing comma": _written(
        [["x", "y", ""], *([x, y, ""] for x, y in zip(PRECISE.x, PRECISE.y, strict=True))]
    ),
    "excel, index column from 1": _written(
        [[i, x, y] for i, (x, y) in enumerate(zip(PRECISE.x, PRECISE.y, strict=True), 1)]
    ),
    "excel-tab": _written([["x", "y"], *zip(PRECISE.x, PRECISE.y, strict=True)], "excel-tab"),
    "semicolons, decimal commas, BOM": "\ufeff"
    + _written(
        [["x", "y"], *([_comma(x), _comma(y)] for x, y in zip(PRECISE.x, PRECISE.y, strict=True))],
        delimiter=";",
    ),
    "semicolons, quoted decimal commas": _written(
        [["x", "y"], *([_comma(x), _comma(y)] for x, y in zip(PRECISE.x, PRECISE.y, strict=True))],
        delimiter=";",
        quoting=csv.QUOTE_ALL,
    ),
}


@pytest.mark.parametrize("name", CSV_FILES)
def test_csv_files_from_spreadsheets_and_pandas_read_exactly(name: str) -> None:
    text = CSV_FILES[name]
    assert parse_points(text) == PRECISE
    assert parse_points(text.encode("utf-8")) == PRECISE


def test_uploads_keep_full_precision_and_close_values_stay_distinct() -> None:
    points = parse_points("x,y\n0.1234567,1\n0.1234568,2\n")
    assert points.x == (0.1234567, 0.1234568)
    assert encode_points(points) == "0.123457,1;0.123457,2"  # what a link could carry


def test_csv_errors_still_name_the_row_and_column() -> None:
    with pytest.raises(ValueError, match=r"row 3, column 2 is 'abc', not a number"):
        parse_points(_written([["x", "y"], [1, 2], [2, "abc"]]))
    with pytest.raises(ValueError, match="row 2 has 3 columns; expected 2"):
        parse_points(_written([[1, 2], [2, 3, 4], [3, 4]]))
    with pytest.raises(ValueError, match="row 2, column 2 is empty"):
        parse_points("1,2,\n2,,\n")
