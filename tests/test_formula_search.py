"""The minimum search of typed formulas (surfaces/minimum_search.py `find_minima`): the known
minima of classic functions, exact stationarity, and a fixed amount of work for any formula."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from surfaces import minimum_search
from surfaces.formula import DEFAULT_BOX, MAX_LENGTH, compile_formula
from surfaces.minimum_search import find_minima

# The longest formulas the parser accepts, heavy on function calls: the worst cases of the search.
LONGEST = [
    "+".join(f"exp(sin({i}*x)*cos({i}*y))/({i}+x^2)" for i in range(1, 20)),
    "+".join(["sin(x*y)", "cos(x-y)", "exp(-x^2)", "log(1+y^2)", "tanh(x+y)"] * 12),
    "+".join(f"sin({i}*x)*cos(y-{i})" for i in range(1, 30)),
]
LONGEST = [text[:MAX_LENGTH].rsplit("+", 1)[0] for text in LONGEST]


@pytest.mark.parametrize(
    ("text", "box", "minima"),
    [
        # Himmelblau's four minima (closed form for (3, 2); the others to 6 decimals).
        (
            "(x^2+y-11)^2+(x+y^2-7)^2",
            (-5.0, 5.0, -5.0, 5.0),
            [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        ),
        ("(1-x)^2 + 100*(y-x^2)^2", (-2.0, 2.0, -1.0, 3.0), [(1.0, 1.0)]),
        ("x^4 - 2*x^2 + y^2", DEFAULT_BOX, [(-1.0, 0.0), (1.0, 0.0)]),
        ("(x - 1)^2 + 2*(y + 0.5)^2", DEFAULT_BOX, [(1.0, -0.5)]),
        ("(x-3e5)^2 + (y+2e5)^2", (-1e6, 1e6, -1e6, 1e6), [(3e5, -2e5)]),
        ("abs(x-0.75) + 2*abs(y+1.5)", DEFAULT_BOX, [(0.75, -1.5)]),  # a corner
        ("x^3 + y^2", DEFAULT_BOX, []),  # a saddle-like slope: none
        ("(x - y)^2", DEFAULT_BOX, []),  # a valley, not a point
    ],
)
def test_the_search_finds_the_known_minima(text: str, box, minima) -> None:
    found = find_minima(compile_formula(text).fn, box)
    got = sorted((p.x, p.y) for p in found)
    assert len(got) == len(minima)
    scale = max(box[1] - box[0], box[3] - box[2])
    for point, expected in zip(got, sorted(minima), strict=True):
        assert point == pytest.approx(expected, abs=1e-6 * scale)


@pytest.mark.parametrize("text", ["sin(x)*cos(y) + 0.1*(x^2 + y^2)", *LONGEST])
def test_smooth_minima_are_stationary_by_the_exact_gradient(text: str) -> None:
    """Finite differences steer the search; JAX's exact ∇f and ∇²f check where it ended."""
    fn = compile_formula(text).fn
    found = find_minima(fn, DEFAULT_BOX)
    assert found
    for p in found:
        w = jnp.array([p.x, p.y])
        gradient = np.asarray(jax.grad(fn)(w, {}))
        assert np.linalg.norm(gradient) <= 1e-7 * max(1.0, abs(p.value))
        assert np.linalg.eigvalsh(np.asarray(jax.hessian(fn)(w, {})))[0] > 0
        assert p.value == pytest.approx(float(fn(w, {})), abs=1e-12)


@pytest.mark.parametrize("text", LONGEST)
def test_any_formula_costs_the_same_capped_work(text: str, monkeypatch) -> None:
    """Count f's evaluations (points passed to the one compiled function) and compilations."""
    assert len(text) <= MAX_LENGTH
    compiled: list[int] = []
    evaluated: list[int] = []
    original = minimum_search._batched_values

    def counting(fn):
        values = original(fn)
        compiled.append(1)

        def call(points):
            evaluated.append(len(points))
            return values(points)

        return call

    monkeypatch.setattr(minimum_search, "_batched_values", counting)
    find_minima(compile_formula(text).fn, DEFAULT_BOX)
    assert len(compiled) == 1 and set(evaluated) == {minimum_search.BATCH}
    assert minimum_search.SEARCH_POINTS**2 < sum(evaluated) <= minimum_search.SEARCH_EVALUATIONS
