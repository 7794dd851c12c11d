"""The loop every rule's test replays twice: once in plain NumPy, once through `spec.build`.

Both walk f(x, y) = (x − 1)² + 3(y + 0.5)⁴ + xy from W0. `replay` runs a NumPy reference,
w_{k+1}, shown_k = step(state, g_k, w_k, t = k + 1), sharing no code with optax; `engine_loop`
runs the engine's own step, d_k, state = update(g_k, state, w_k[, extra]); w_{k+1} = w_k − η d_k,
jitted with the hyperparameters, η and the floor f* as traced arguments. The extra arguments are
the engine's: hessian=H_k for `needs_hessian`, and value, grad, value_fn, rate=η, floor=f* for
`extra_args`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypedDict

import jax
import jax.numpy as jnp
import numpy as np

from optimizers.rules import OPTIMIZERS

W0 = np.array([1.23, -0.71])


class Tolerance(TypedDict):
    """Keyword arguments of `np.testing.assert_allclose`."""

    rtol: float
    atol: float


State = dict[str, Any]
Shown = dict[str, np.ndarray]
# (state, g_k, w_k, t = k + 1) -> (w_{k+1}, shown state); mutates `state`.
ReferenceStep = Callable[[State, np.ndarray, np.ndarray, int], tuple[np.ndarray, dict]]


def f(w):
    x, y = w
    return (x - 1) ** 2 + 3 * (y + 0.5) ** 4 + x * y


def grad_f(w: np.ndarray) -> np.ndarray:
    x, y = w
    return np.array([2 * (x - 1) + y, 12 * (y + 0.5) ** 3 + x])


def hess_f(w: np.ndarray) -> np.ndarray:
    return np.array([[2.0, 1.0], [1.0, 36 * (w[1] + 0.5) ** 2]])


def ema(old, new, beta):
    return beta * old + (1 - beta) * new


def replay(step: ReferenceStep, steps: int) -> tuple[np.ndarray, list[Shown]]:
    """The NumPy reference's path w_1 … w_steps from W0 and its shown state after each step."""
    w, path, shown = W0.copy(), [], []
    state: State = {}
    for t in range(1, steps + 1):
        w, view = step(state, grad_f(w), w, t)
        path.append(w)
        shown.append({name: np.broadcast_to(value, (2,)) for name, value in view.items()})
    return np.array(path), shown


@functools.cache
def engine_loop(key: str, steps: int) -> Callable:
    """The engine's loop for `key`: (hyper, η, f*) -> (path, shown states), jitted once."""
    spec = OPTIMIZERS[key]

    def loop(hyper, eta, floor):
        tx = spec.build(hyper)

        def step(carry, _):
            w, state = carry
            value, g = jax.value_and_grad(f)(w)
            extra = {"hessian": jax.hessian(f)(w)} if spec.needs_hessian else {}
            if spec.extra_args:
                extra |= {"value": value, "grad": g, "value_fn": f, "rate": eta, "floor": floor}
            d, state = tx.update(g, state, w, **extra)
            w = w - eta * d
            return (w, state), (w, spec.show_state(state))

        w0 = jnp.asarray(W0)
        return jax.lax.scan(step, (w0, tx.init(w0)), length=steps)[1]

    return jax.jit(loop)


def as_args(values: dict[str, float]) -> dict[str, jax.Array]:
    return {name: jnp.asarray(value, jnp.float64) for name, value in values.items()}


def run_engine(key: str, steps: int, hyper: dict[str, float], eta: float, floor: float = 0.0):
    """`engine_loop(key, steps)` on plain numbers."""
    scalar = functools.partial(jnp.asarray, dtype=jnp.float64)
    return engine_loop(key, steps)(as_args(hyper), scalar(eta), scalar(floor))


def assert_same_run(got, expected: tuple[np.ndarray, list[Shown]], tol: Tolerance) -> None:
    """The engine's (path, shown) equals the reference's, entry by entry, within `tol`."""
    path, shown = got
    expected_path, expected_shown = expected
    np.testing.assert_allclose(path, expected_path, **tol)
    assert set(shown) == set(expected_shown[0])
    for name, values in shown.items():
        np.testing.assert_allclose(values, [s[name] for s in expected_shown], **tol, err_msg=name)


def assert_each_number_matters(
    key: str,
    steps: int,
    hyper: dict[str, float],
    eta: float,
    other_eta: float,
    floor: float = 0.0,
    other_floors: tuple[float, ...] = (),
) -> None:
    """`hyper` (every value off its default, inside its range) names exactly the rule's
    hyperparameters; the run moves when η becomes `other_eta`, when f* becomes each of
    `other_floors`, and when any one hyperparameter goes back to its default; and all those runs
    share one compiled program (every number is traced)."""
    spec = OPTIMIZERS[key]
    assert sorted(hyper) == sorted(p.name for p in spec.hyper)
    assert spec.resolve(hyper) == hyper  # inside every range
    base = run_engine(key, steps, hyper, eta, floor)
    variants = [run_engine(key, steps, hyper, other_eta, floor)]
    variants += [run_engine(key, steps, hyper, eta, other) for other in other_floors]
    for param in spec.hyper:
        assert hyper[param.name] != param.default
        variants.append(run_engine(key, steps, {**hyper, param.name: param.default}, eta, floor))
    for variant in variants:
        leaves = zip(jax.tree.leaves(base), jax.tree.leaves(variant), strict=True)
        assert any(not np.allclose(a, b, rtol=0, atol=1e-12) for a, b in leaves)
    assert compiled_count(engine_loop(key, steps)) == 1


def compiled_count(fn: Callable) -> int:
    """How many programs `jax.jit` compiled for `fn` (jax's private counter, no public one)."""
    return fn._cache_size()  # type: ignore[attr-defined]


def same_structure(a: object, b: object) -> bool:
    """Whether two pytrees have one structure (PyTreeDef's text spells it out in full)."""
    return str(jax.tree.structure(a)) == str(jax.tree.structure(b))
