"""Regression surfaces from your own (x, y) points: pasted text, an uploaded CSV or a link.

`parse_points` reads a table of two numeric columns and explains every refusal with a
`ValueError` naming the row and column; `data_surface` turns the points into the mean squared
error of a line,

    f(w, b) = (1/n) Σᵢ (w xᵢ + b − yᵢ)²,

whose exact minimum comes from the normal equations; `encode_points` / `decode_points` carry a
small data set in a shareable link as "x1,y1;x2,y2;…".

Input rules (documented caps):
- text or UTF-8 bytes (a byte-order mark is fine), at most MAX_INPUT_BYTES;
- one point per line, read with the standard library's csv reader: cells separated by a
  semicolon (then a comma inside a number is a decimal comma, as Excel writes in many
  locales), a tab, a comma or runs of spaces; quoted cells, CRLF line ends and a byte-order mark
  are fine; blank lines and lines starting with # are skipped;
- an empty last column (a trailing separator) and a leading index column (pandas' `to_csv`)
  are dropped;
- a first line with a non-numeric cell is a header and is skipped (its names are not used);
- exactly two columns, x then y; cells are plain decimal numbers (1, -2.5, .5, 3e-4), finite
  (NaN and inf are refused), of magnitude at most MAX_VALUE;
- at least 2 points with at least 2 different x values (a line through the points must be
  determined); at most MAX_ROWS points: a larger table is refused, not truncated, so that the
  surface never silently differs from the data.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from surfaces.base import CriticalPoint, Samples, Surface

MAX_ROWS = 10_000
MAX_INPUT_BYTES = 2_000_000
MAX_VALUE = 1e9
MAX_CELL_CHARS = 40
LINK_DIGITS = 6  # significant digits of each number in a link
MAX_LINK_CHARS = 2_000  # the longest "x1,y1;x2,y2;…" a link carries
MIN_SPREAD = 1e-9  # sd(x) / max |x| below this: x values equal but for their last digits
MAX_CONDITION = 1e12  # cond of the loss's Hessian beyond which a data set is refused

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_DELIMITERS = (";", "\t", ",")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")


class Points(NamedTuple):
    """A data set: x and y as tuples of floats of equal length (hashable, so cacheable)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.x, dtype=np.float64), np.array(self.y, dtype=np.float64)


def _quote(cell: str) -> str:
    return repr(cell if len(cell) <= 20 else cell[:19] + "…")


def _cell_value(cell: str, row: int, column: int) -> float | None:
    """The number in a cell, None if it is not one (a header's cell); ValueError for NaN/inf."""
    where = f"row {row}, column {column}"
    if _NOT_FINITE.fullmatch(cell):
        raise ValueError(f"{where}: {_quote(cell)} is not a finite number; remove that point")
    if len(cell) > MAX_CELL_CHARS or not _NUMBER.fullmatch(cell):
        return None
    value = float(cell)
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise ValueError(f"{where}: {_quote(cell)} is larger than {MAX_VALUE:g} in magnitude")
    return value


def _text(source: str | bytes) -> str:
    if isinstance(source, bytes | bytearray):
        if len(source) > MAX_INPUT_BYTES:
            raise ValueError(
                f"the file is {len(source):,} bytes; the limit is {MAX_INPUT_BYTES:,} bytes "
                f"(at most {MAX_ROWS:,} points)"
            )
        try:
            return bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the file is not UTF-8 text; save it as CSV (UTF-8)") from None
    if not isinstance(source, str):
        raise ValueError(f"points must be text or bytes, got {type(source).__name__}")
    if len(source) > MAX_INPUT_BYTES:
        raise ValueError(
            f"the text is {len(source):,} characters; the limit is "
            f"{MAX_INPUT_BYTES:,} (at most {MAX_ROWS:,} points)"
        )
    return source.removeprefix("\ufeff")


def _delimiter(lines: list[str]) -> str | None:
    """The cell separator: ";" wherever a line holds one (then "," is a decimal comma), else a
    tab, else ","; None (runs of spaces) when no line holds any of them."""
    return next((d for d in _DELIMITERS if any(d in line for line in lines)), None)


def _cells(line: str, delimiter: str | None) -> list[str]:
    """One line's cells, read by the standard library's csv reader (quotes removed, spaces
    around cells stripped); decimal commas ("2,5") read as points where ";" or a tab separates."""
    if delimiter is None:
        return line.split()
    cells = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
    if delimiter != ",":
        cells = [
            cell.replace(",", ".") if _DECIMAL_COMMA.fullmatch(cell) else cell for cell in cells
        ]
    return cells


def _without_extra_columns(rows: list[list[str]], header: bool) -> list[list[str]]:
    """Rows without what spreadsheets and pandas add around x and y: an empty last column
    (every line ends with a separator) and a first index column (three columns on every line,
    the header's first cell blank or "index"/"Unnamed: 0", or data numbered 0, 1, 2 … or 1, 2 …)."""
    if all(len(row) > 1 and row[-1] == "" for row in rows):
        rows = [row[:-1] for row in rows]
    if not rows or any(len(row) != 3 for row in rows):
        return rows
    data = rows[1:] if header else rows
    first = [row[0] for row in data]
    numbered = all(cell.isascii() and cell.isdigit() for cell in first) and (
        [int(cell) for cell in first] in (list(range(len(first))), list(range(1, len(first) + 1)))
    )
    named = header and rows[0][0].strip().lower() in {"", "index", "unnamed: 0"}
    return [row[1:] for row in rows] if numbered or named else rows


def parse_points(source: str | bytes) -> Points:
    """The (x, y) points of a pasted table or CSV file, read by the module's input rules.

    Args:
        source: the table as text, or as UTF-8 bytes (an uploaded file).

    Returns:
        The points as `Points(x, y)`, two tuples of floats in the order of the rows.

    Raises:
        ValueError: for the first problem, naming its row and column (a cell that is not a
            number, a wrong count of columns, too many rows or too few distinct x values).

    >>> parse_points("x,y\\n1,2\\n3,4.5")
    Points(x=(1.0, 3.0), y=(2.0, 4.5))
    >>> parse_points("1,2\\n3,z")
    Traceback (most recent call last):
    ValueError: row 2, column 2 is 'z', not a number
    """
    lines = [
        (number, line.strip())
        for number, line in enumerate(_text(source).splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise ValueError("no data: paste or upload two columns of numbers, x and y")
    delimiter = _delimiter([line for _, line in lines])
    try:
        table = [_cells(line, delimiter) for _, line in lines]
    except csv.Error as error:
        raise ValueError(f"the table cannot be read as CSV: {error}") from None
    header = _is_header(table[0])
    table = _without_extra_columns(table, header)
    data_rows = len(lines) - 1 if header else len(lines)
    if data_rows > MAX_ROWS:
        raise ValueError(f"too many rows: {data_rows:,} points; the limit is {MAX_ROWS:,}")
    xs: list[float] = []
    ys: list[float] = []
    for index, ((row, _), cells) in enumerate(zip(lines, table, strict=True)):
        if len(cells) != 2:
            raise ValueError(
                f"row {row} has {len(cells)} column{'s' if len(cells) != 1 else ''}; "
                "expected 2: x and y"
            )
        if index == 0 and header:
            continue
        values = [_cell_value(cell, row, column) for column, cell in enumerate(cells, start=1)]
        for column, (cell, value) in enumerate(zip(cells, values, strict=True), start=1):
            if value is None:
                shown = "empty" if not cell else f"{_quote(cell)}, not a number"
                raise ValueError(f"row {row}, column {column} is {shown}")
        xs.append(values[0])  # type: ignore[arg-type]
        ys.append(values[1])  # type: ignore[arg-type]
    return check_points(Points(tuple(xs), tuple(ys)))


def _is_header(cells: list[str]) -> bool:
    """A first line is a header when none of its cells is a number."""
    try:
        return all(
            _cell_value(cell, 1, column) is None for column, cell in enumerate(cells, start=1)
        )
    except ValueError:
        return False


def check_points(points: Points) -> Points:
    """`points` if a line can be fitted to them (2 to MAX_ROWS points, finite, at least two
    different x values); ValueError saying what is missing otherwise."""
    n = len(points.x)
    if n != len(points.y):
        raise ValueError(f"x has {n} values but y has {len(points.y)}")
    if n == 0:
        raise ValueError("no data rows: paste or upload two columns of numbers, x and y")
    if n == 1:
        raise ValueError("only one point: a regression line needs at least 2 points")
    if n > MAX_ROWS:
        raise ValueError(f"too many rows: {n:,} points; the limit is {MAX_ROWS:,}")
    x, y = points.arrays()
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("every x and y must be a finite number")
    if np.abs(x).max() > MAX_VALUE or np.abs(y).max() > MAX_VALUE:
        raise ValueError(f"values must be at most {MAX_VALUE:g} in magnitude")
    if x.min() == x.max():
        raise ValueError(
            f"every point has x = {x[0]:.10g}: a line needs at least two different x values"
        )
    if not x.std() > MIN_SPREAD * np.abs(x).max():
        raise ValueError(
            f"the x values {x.min():.15g} … {x.max():.15g} are too close together to fit a "
            f"line (their standard deviation must exceed {MIN_SPREAD:g} × their largest size)"
        )
    return points


# Links.


def _short(value: float) -> str:
    text = f"{value:.{LINK_DIGITS}g}"
    return "0" if text == "-0" else text


# The table a new page starts with: a noisy line y ≈ 0.95 x + 1.3.
DEFAULT_POINTS = Points(
    (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0),
    (1.9, 2.1, 3.2, 3.0, 4.1, 4.4, 4.3, 5.6, 5.5, 6.4, 6.2, 7.3),
)


def encode_points(points: Points) -> str | None:
    """ "x1,y1;x2,y2;…" with LINK_DIGITS significant digits, or None when longer than
    MAX_LINK_CHARS (the data is then too large to travel in a link)."""
    text = ";".join(f"{_short(x)},{_short(y)}" for x, y in zip(points.x, points.y, strict=True))
    return text if len(text) <= MAX_LINK_CHARS else None


def loses_digits(points: Points) -> bool:
    """Whether `encode_points` rounds any value (LINK_DIGITS significant digits)."""
    return any(float(_short(v)) != v for v in (*points.x, *points.y))


def decode_points(text: str) -> Points:
    """The points of an `encode_points` text; ValueError (naming the point) when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the link holds no data points")
    if len(text) > MAX_LINK_CHARS:
        raise ValueError(f"the link's data is longer than {MAX_LINK_CHARS} characters")
    xs: list[float] = []
    ys: list[float] = []
    for row, pair in enumerate(text.split(";"), start=1):
        cells = pair.split(",")
        if len(cells) != 2:
            raise ValueError(f"point {row} of the link's data is {_quote(pair)}, not 'x,y'")
        values = [_cell_value(cell.strip(), row, column) for column, cell in enumerate(cells, 1)]
        if None in values:
            raise ValueError(f"point {row} of the link's data, {_quote(pair)}, is not two numbers")
        xs.append(values[0])  # type: ignore[arg-type]
        ys.append(values[1])  # type: ignore[arg-type]
    return check_points(Points(tuple(xs), tuple(ys)))


# The surface.


def squared_error(w: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """Per-point losses (w₀ xᵢ + w₁ − yᵢ)² of the line y = w₀ x + w₁."""
    return (w[0] * x + w[1] - y) ** 2


def standardised(points: Points) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(x', y, mean, std) with x' = (x − mean)/std, the scaling the surface uses when asked."""
    x, y = points.arrays()
    mean, std = float(x.mean()), float(x.std())
    return (x - mean) / std, y, mean, std


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(w*, b*, f*): the minimiser of (1/n) Σ (w xᵢ + b − yᵢ)² on centred data,
    w* = Σ (xᵢ − x̄)(yᵢ − ȳ) / Σ (xᵢ − x̄)², b* = ȳ − w* x̄, and the minimum value
    f* = (1/n) Σ (w* (xᵢ − x̄) − (yᵢ − ȳ))² (no normal-equation matrix to lose digits in)."""
    dx, dy = x - x.mean(), y - y.mean()
    w = float(np.dot(dx, dy) / np.dot(dx, dx))
    b = float(y.mean() - w * x.mean())
    return w, b, float(np.mean((w * dx - dy) ** 2))


def condition_number(x: np.ndarray) -> float:
    """cond(Q) of the loss's Hessian 2Q, Q = [mean x², x̄; x̄, 1]: with T = mean x² + 1 and
    det Q = var x, λ_max = (T + √(T² − 4 var x))/2, λ_min = var x / λ_max, so
    cond = λ_max² / var x (inf when var x is 0 or underflows)."""
    mean, var = float(x.mean()), float(np.mean((x - x.mean()) ** 2))
    trace = var + mean * mean + 1.0
    big = (trace + math.sqrt(max(trace * trace - 4.0 * var, 0.0))) / 2.0
    return big * big / var if var > 0 else math.inf


def check_design(points: Points, standardise: bool = False) -> None:
    """ValueError naming the data when the line's loss surface is too badly conditioned to
    draw or to race on (cond > MAX_CONDITION): x far from 0 compared with its spread."""
    x, _ = points.arrays()
    if standardise:
        return  # x' has mean 0 and variance 1: cond = 1 (check_points bounds the spread)
    cond = condition_number(x)
    if cond > MAX_CONDITION:
        raise ValueError(
            f"the x values run from {x.min():.10g} to {x.max():.10g}: far from 0 for their "
            f"spread, the loss surface is a valley {math.sqrt(cond):.2g} times longer than wide "
            'and cannot be drawn; turn on "standardise x" or subtract a constant from x'
        )


def _box(x: np.ndarray, y: np.ndarray, w: float, b: float) -> tuple[float, float, float, float]:
    """A box around the minimum holding the level set f ≤ f* + 4 var(y) (an ellipse: f − f* =
    dᵀ Q d with Q = [mean x², x̄; x̄, 1], half-extents 2 sd(y) √(Q⁻¹)ᵢᵢ, where
    Q⁻¹ = [1, −x̄; −x̄, mean x²] / var x) and the origin (w, b) = (0, 0) where runs usually start."""
    spread = float(y.std()) or max(float(np.abs(y).max()), 1.0)
    mean, var = float(x.mean()), float(np.mean((x - x.mean()) ** 2))
    half = 2 * spread * np.sqrt(np.array([1.0, var + mean * mean]) / var)
    lows = np.minimum([w - half[0], b - half[1]], [-0.1 * half[0], -0.1 * half[1]])
    highs = np.maximum([w + half[0], b + half[1]], [0.1 * half[0], 0.1 * half[1]])
    return float(lows[0]), float(highs[0]), float(lows[1]), float(highs[1])


def data_surface(points: Points, standardise: bool = False) -> Surface:
    """The mean-squared-error surface of a line fitted to `points`, over (w, b); x rescaled to
    mean 0 and standard deviation 1 when `standardise`. Memoised: the same points give the same
    Surface object. Its `samples` let the engine draw mini-batches; its `recipe` is
    ("data", points, standardise)."""
    x, y = (tuple(float(v) for v in column) for column in points)
    checked = check_points(Points(x, y))
    check_design(checked, bool(standardise))
    return _data_surface(checked, bool(standardise))


def _start_coordinate(value: float, span: float) -> float:
    """`value` rounded to about a thousandth of `span`: a start that reads short in a link
    (−0.594 rather than −0.5940941173798137) and sits where the box's 10 % / 90 % mark is."""
    return round(value, 3 - math.floor(math.log10(span)))


@functools.lru_cache(maxsize=32)
def _data_surface(points: Points, standardise: bool) -> Surface:
    if standardise:
        x, y, _, _ = standardised(points)
    else:
        x, y = points.arrays()
    n = len(x)
    w_star, b_star, f_star = least_squares(x, y)
    box = _box(x, y, w_star, b_star)
    x0, x1, y0, y1 = box
    x_data, y_data = jnp.asarray(x), jnp.asarray(y)

    def data(params: Mapping[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return x_data, y_data

    def fn(w: jax.Array, params: Mapping[str, jax.Array]) -> jax.Array:
        return jnp.mean(squared_error(w, x_data, y_data))

    scaled = r", \quad x_i \leftarrow \frac{x_i - \bar x}{s_x}" if standardise else ""
    return Surface(
        key="data",
        name="Your data (MSE)",
        latex=(
            rf"f(w, b) = \frac{{1}}{{{n}}}\sum_{{i=1}}^{{{n}}}\left(w\,x_i + b - y_i\right)^2"
            + scaled
        ),
        fn=fn,
        box=box,
        starts=(
            (
                _start_coordinate(x0 + 0.1 * (x1 - x0), x1 - x0),
                _start_coordinate(y0 + 0.9 * (y1 - y0), y1 - y0),
            ),
            (0.0, 0.0),
        ),
        critical=(CriticalPoint(w_star, b_star, f_star, "global"),),
        note=(
            f"A line y = w·x + b fitted to your {n} points by least squares; the minimum is "
            "the exact solution of the normal equations."
        ),
        tags=frozenset({"regression", "quadratic", "convex"}),
        samples=Samples(data, squared_error, n),
        recipe=("data", points, standardise),
    )


def fitted_line(
    points: Points, w: float, b: float, standardise: bool = False, count: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """`count` points (x, ŷ) of the line the parameters (w, b) describe, across the data's x
    range, in the data's own x units: ŷ = w x + b, or w (x − mean)/std + b if standardised."""
    x, _ = points.arrays()
    xs = np.linspace(x.min(), x.max(), count)
    if standardise:
        mean, std = float(x.mean()), float(x.std())
        return xs, w * (xs - mean) / std + b
    return xs, w * xs + b
