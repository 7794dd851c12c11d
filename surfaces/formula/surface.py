"""The `Surface` of a typed formula: its box, start and the minima found in the box."""

from __future__ import annotations

import functools
import math

from surfaces.base import Surface
from surfaces.formula.compiler import Formula, compile_formula
from surfaces.formula.syntax import MAX_LENGTH
from surfaces.minimum_search import find_minima

MAX_COORDINATE = 1e6  # the engine's limit on start points, also used for the plot box
DEFAULT_BOX = (-3.0, 3.0, -3.0, 3.0)
DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"  # the formula a new page starts with

Box = tuple[float, float, float, float]


def check_box(box: Box) -> Box:
    """`box` as floats with x_min < x_max, y_min < y_max, all within ±1e6; ValueError else."""
    try:
        x0, x1, y0, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(
            f"the plot box must be four numbers (x_min, x_max, y_min, y_max), got {box!r}"
        ) from None
    for value in (x0, x1, y0, y1):
        if not (math.isfinite(value) and abs(value) <= MAX_COORDINATE):
            raise ValueError(f"plot box limits must be finite numbers within ±{MAX_COORDINATE:g}")
    if not x0 < x1:
        raise ValueError(f"the plot box needs x_min < x_max, got {x0:g} ≥ {x1:g}")
    if not y0 < y1:
        raise ValueError(f"the plot box needs y_min < y_max, got {y0:g} ≥ {y1:g}")
    return x0, x1, y0, y1


def without_float_noise(value: float) -> float:
    """`value` to 12 significant digits: the decimal a computation meant, without the binary
    rounding noise (−3 + 0.9 · 6 gives 2.4000000000000004; this gives 2.4)."""
    return float(f"{value:.12g}")


def default_start(box: Box) -> tuple[float, float]:
    """A start away from the centre and off its axes: 90 % across the box and 80 % up, so that
    a run on a symmetric bowl shows both coordinates moving (short decimals: it goes in links)."""
    x0, x1, y0, y1 = box
    return without_float_noise(x0 + 0.9 * (x1 - x0)), without_float_noise(y0 + 0.8 * (y1 - y0))


def formula_surface(
    text: str,
    box: Box = DEFAULT_BOX,
    start: tuple[float, float] | None = None,
    limit: int | None = MAX_LENGTH,
) -> Surface:
    """The `Surface` of a typed formula: key "formula", its LaTeX, jnp function, the box, one
    start (default: `default_start(box)`) and the minima `find_minima` finds in the box.

    The same canonical formula, box and start give the same Surface object (memoised), so the
    engine's and the grid's compiled functions are reused. FormulaError / ValueError on bad
    input. `recipe` is ("formula", canonical text, box, start); `limit` as in `parse` (None to
    rebuild a surface from its recipe).
    """
    formula = compile_formula(text, limit)
    box = check_box(box)
    if start is None:
        start = default_start(box)
    try:
        sx, sy = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be a point (x, y), got {start!r}") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in (sx, sy)):
        raise ValueError(f"start coordinates must be finite numbers within ±{MAX_COORDINATE:g}")
    return _formula_surface(formula.text, box, (sx, sy))


@functools.lru_cache(maxsize=64)
def _formula_surface(text: str, box: Box, start: tuple[float, float]) -> Surface:
    formula = _compiled(text)
    return Surface(
        key="formula",
        name="Your function",
        latex=formula.latex,
        fn=formula.fn,
        box=box,
        starts=(start,),
        critical=find_minima(formula.fn, box),
        note=(
            "Your own formula, with exact JAX gradients. Minima are searched numerically in the "
            "plot box; 'global' means the lowest point of the box."
        ),
        recipe=("formula", text, box, start),
    )


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> Formula:
    """The formula of a canonical text (typed text within MAX_LENGTH may expand beyond it:
    spaces around + and −, 1e9 written out)."""
    return compile_formula(text, limit=None)
