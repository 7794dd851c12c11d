"""The rules that set their own step (issue 14) against independent NumPy references.

The engine's loop is replayed (tests/reference_loops.py) with the extra arguments these
rules take: d_k, state = update(g_k, state, w_k, value=f(w_k), grad=g_k, value_fn=f, rate=η,
floor=F*); w_{k+1} = w_k − η d_k. Each reference is the rule written out in NumPy, sharing no
code with optax. L-BFGS is checked by its defining properties instead (the two-loop recursion
over the pairs the run made, and the Wolfe conditions on the accepted step).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optimizers.codegen import FRAMEWORKS, NOT_EXPORTED, to_code, to_code_all
from optimizers.engine import RunConfig, run, summarize
from optimizers.rules import OPTIMIZERS
from optimizers.rules.step_size import MAX_BACKTRACKS
from optimizers.specs import OPTIMIZER_GROUPS
from surfaces import SURFACES
from tests.reference_loops import (
    W0,
    as_args,
    assert_each_number_matters,
    assert_same_run,
    ema,
    f,
    grad_f,
    replay,
    run_engine,
    same_structure,
)
from tests.test_optimizers import ADAM, STEPS, TOL, adam_moments

FLOOR = -1.5  # the floor f* handed to the rules (any number: it is an input here)
MACHINE_EPS = np.finfo(float).eps

State = dict[str, object]
# (state, g_k, w_k, η, hyper) -> (d_k, shown state); mutates `state`.
Reference = Callable[[State, np.ndarray, np.ndarray, float, dict[str, float]], tuple]


def ref_polyak(s, g, w, eta, h):
    squared = g @ g
    gap = f(w) - (FLOOR + h["offset"])
    gamma = 0.0 if squared <= MACHINE_EPS else min(gap / squared, h["max_step"])
    return gamma * g, {"step_size": eta * gamma}


def ref_armijo(s, g, w, eta, h):
    """Backtracking from t⁰ = min(γ t_{k−1}, 1): up to 1 + MAX_BACKTRACKS trials of L."""
    t = min(h["grow"] * s.get("t", 1.0), 1.0)
    slope = -eta * (g @ g)  # ⟨−η g, ∇L⟩
    for trial in range(MAX_BACKTRACKS + 1):
        if trial:
            t *= h["shrink"]
        if f(w - t * eta * g) - f(w) - t * h["c"] * slope <= 0:
            break
    s["t"] = t
    return t * g, {"step_size": eta * t, "evaluations": trial + 1.0}


def ref_hd_gd(s, g, w, eta, h):
    s["alpha"] = s.get("alpha", 1.0) + h["beta"] * (g @ s.get("previous", np.zeros(2)))
    s["previous"] = g
    return s["alpha"] * g, {"step_size": eta * s["alpha"]}


def ref_hd_adam(s, g, w, eta, h):
    s["t"] = t = s.get("t", 0) + 1
    m_hat, v_hat = adam_moments(s, g, h, t)
    u = m_hat / (np.sqrt(v_hat) + h["eps"])
    s["alpha"] = s.get("alpha", 1.0) + h["beta"] * (g @ s.get("previous", np.zeros(2)))
    s["previous"] = u
    return s["alpha"] * u, {"m_hat": m_hat, "v_hat": v_hat, "step_size": eta * s["alpha"]}


def ref_momo(s, g, w, eta, h):
    beta = h["beta"] if s else 0.0  # the first step starts the averages at its own values
    s["f"] = ema(s.get("f", 0.0), f(w), beta)
    s["d"] = ema(s.get("d", np.zeros(2)), g, beta)
    s["gamma"] = ema(s.get("gamma", 0.0), g @ w, beta)
    d, squared = s["d"], s["d"] @ s["d"]
    model = max(s["f"] - FLOOR - h["offset"] - s["gamma"] + d @ w, 0.0) / squared
    tau = min(eta, 0.0 if squared <= MACHINE_EPS else model)
    return tau / eta * d, {"momentum": d, "step_size": tau}


def ref_sam(s, g, w, eta, h):
    adversary = w + h["radius"] * g / np.linalg.norm(g)
    return grad_f(adversary), {"adversarial_point": adversary, "step_size": eta}


HD = {"beta": 0.02}
REFERENCES: dict[str, tuple[Reference, dict[str, float], float]] = {  # reference, hyper, η
    "polyak": (ref_polyak, {"offset": 0.3, "max_step": 0.5}, 0.7),
    "armijo": (ref_armijo, {"c": 0.3, "shrink": 0.6, "grow": 2.0}, 3.0),
    "hd_gd": (ref_hd_gd, HD, 0.1),
    "hd_adam": (ref_hd_adam, {**ADAM, **HD}, 0.1),
    "momo": (ref_momo, {"beta": 0.7, "offset": 0.2}, 0.5),
    "sam": (ref_sam, {"radius": 0.3}, 0.1),
}
KEYS = list(REFERENCES)


def reference_run(key: str) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    reference, hyper, eta = REFERENCES[key]

    def step(s: State, g: np.ndarray, w: np.ndarray, t: int) -> tuple[np.ndarray, dict]:
        d, view = reference(s, g, w, eta, hyper)
        return w - eta * d, view

    return replay(step, STEPS)


def run_with(key: str, hyper: dict[str, float], eta: float | None = None, floor: float = FLOOR):
    eta = REFERENCES[key][2] if eta is None else eta
    return run_engine(key, STEPS, hyper, eta, floor)


@pytest.mark.parametrize("key", KEYS)
def test_steps_and_state_match_the_reference(key: str) -> None:
    assert_same_run(run_with(key, REFERENCES[key][1]), reference_run(key), TOL)


def test_armijo_reference_backtracks_and_grows_back() -> None:
    """The case above exercises the line search: some steps backtrack, some take t = 1 again."""
    evaluations = [s["evaluations"][0] for s in reference_run("armijo")[1]]
    assert max(evaluations) >= 3 and min(evaluations) == 1


@pytest.mark.parametrize("key", [*KEYS, "lbfgs"])
def test_hyperparameters_and_floor_are_traced_and_each_one_matters(key: str) -> None:
    _, hyper, eta = REFERENCES.get(key, (None, {}, 1.0))
    other_floors = (FLOOR - 0.5,) if key in ("polyak", "momo") else ()
    assert_each_number_matters(key, STEPS, hyper, eta, eta / 2, FLOOR, other_floors)


def _two_loop(g: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """H g by Nocedal & Wright's Algorithm 7.4; H₀ = (sᵀy / yᵀy) I from the newest pair, and
    min(1, 1/‖g‖) I before the first pair."""
    q, alphas = g.copy(), []
    for s, y in reversed(pairs):
        rho = 1 / (y @ s)
        alphas.append(rho * (s @ q))
        q = q - alphas[-1] * y
    if pairs:
        s, y = pairs[-1]
        q = q * (s @ y) / (y @ y)
    else:
        q = q * min(1.0, 1 / np.linalg.norm(g))
    for (s, y), alpha in zip(pairs, reversed(alphas), strict=True):
        rho = 1 / (y @ s)
        q = q + (alpha - rho * (y @ q)) * s
    return q


@pytest.mark.parametrize("surface", ["rosenbrock", "booth", "himmelblau"])
def test_lbfgs_steps_along_the_two_loop_direction_and_meet_wolfe(surface: str) -> None:
    t = run(RunConfig(surface, "lbfgs", lr=1.0, steps=12))
    fn, params = SURFACES[surface].fn, SURFACES[surface].resolve()
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    moving = np.flatnonzero(t.grad_norm[:-1] > 1e-6)  # booth, a 2-D quadratic: 2 steps
    assert len(moving) >= 2 and np.all(np.diff(moving) == 1)
    for k in moving[:8]:
        w, g = t.positions[k], t.grad[k]
        if k:
            pairs = [*pairs, (w - t.positions[k - 1], g - t.grad[k - 1])][-10:]
        p, step = _two_loop(g, pairs), t.state["step_size"][k, 0]
        np.testing.assert_allclose(t.update[k], -step * p, rtol=1e-8, atol=1e-12)
        slope = -(p @ g)  # φ'(0) along −p
        assert slope < 0
        new = w - step * p
        value_new, grad_new = float(fn(new, as_args(params))), t.grad[k + 1]
        assert value_new <= t.loss[k] + 1e-4 * step * slope + 1e-6 * abs(t.loss[k]) + 1e-12
        assert abs(-(p @ grad_new)) <= 0.9 * abs(slope) + 1e-12
        assert 1 <= t.state["evaluations"][k, 0] <= 20


def test_show_state_is_2_vectors_of_fixed_structure() -> None:
    for key, spec in OPTIMIZERS.items():
        if not spec.extra_args:
            continue
        hyper = {p.name: jnp.asarray(p.default) for p in spec.hyper}
        tx, w = spec.build(hyper), jnp.asarray(W0)
        state = tx.init(w)
        value, g = jax.value_and_grad(f)(w)
        extra = {"value": value, "grad": g, "value_fn": f, "rate": 0.1, "floor": FLOOR}
        before, after = spec.show_state(state), spec.show_state(tx.update(g, state, w, **extra)[1])
        assert same_structure(before, after), key
        assert "step_size" in after, key
        assert all(v.shape == (2,) and v.dtype == jnp.float64 for v in after.values()), key


# What the engine records.


def test_polyak_takes_the_floor_from_the_surface_minimum() -> None:
    """Step 0: η (L(w₀) − f* − δ)/‖∇L(w₀)‖², with f* the surface's known global minimum."""
    for surface, offset in (("camel", 0.0), ("goldstein_price", 0.0), ("styblinski_tang", 5.0)):
        t = run(RunConfig(surface, "polyak", lr=0.5, steps=3, hyper={"offset": offset}))
        f_star = SURFACES[surface].minimum_value()
        g = t.grad[0]
        expected = 0.5 * (t.loss[0] - f_star - offset) / (g @ g)
        assert t.state["step_size"][0, 0] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(t.update[0], -expected * g, rtol=1e-12)


def test_polyak_floor_is_zero_where_no_minimum_is_known() -> None:
    t = run(RunConfig("saddle", "polyak", lr=1.0, steps=2, start=(1.0, 0.5)))
    g = t.grad[0]
    assert t.state["step_size"][0, 0] == pytest.approx(t.loss[0] / (g @ g), rel=1e-12)


def test_armijo_steps_always_decrease_the_loss_enough() -> None:
    c = 1e-3
    t = run(RunConfig("rosenbrock", "armijo", lr=50.0, steps=200, hyper={"c": c}))
    g2 = np.sum(t.grad[:-1] ** 2, axis=1)
    step = t.state["step_size"][:, 0]
    assert np.all(t.loss[1:] <= t.loss[:-1] - c * step * g2 + 1e-12)
    np.testing.assert_allclose(t.effective_lr, t.state["step_size"], rtol=1e-12)
    # Trials: t = t⁰ βʲ, so evaluations − 1 = log(t / t⁰) / log β, t⁰ = min(1.5 t_{k−1}, 1).
    ratio = step / 50.0
    first = np.minimum(1.5 * np.concatenate([[1.0], ratio[:-1]]), 1.0)
    backtracks = np.round(np.log(ratio / first) / np.log(0.5))
    np.testing.assert_array_equal(t.state["evaluations"][:, 0], backtracks + 1)


def test_sam_shows_its_adversarial_point() -> None:
    t = run(RunConfig("himmelblau", "sam", lr=0.01, steps=20, hyper={"radius": 0.4}))
    g = t.grad[:-1]
    expected = t.positions[:-1] + 0.4 * g / np.linalg.norm(g, axis=1, keepdims=True)
    np.testing.assert_allclose(t.state["adversarial_point"], expected, rtol=1e-12)


def test_hypergradient_rate_rises_while_gradients_agree() -> None:
    """On the bowl every gradient points the same way at a small rate: α_k only grows."""
    t = run(RunConfig("bowl", "hd_gd", lr=1e-3, steps=50, hyper={"beta": 1e-3}))
    step = t.state["step_size"][:, 0]
    assert step[0] == pytest.approx(1e-3) and np.all(np.diff(step) > 0)
    np.testing.assert_allclose(t.effective_lr, t.state["step_size"], rtol=1e-12)


STEP_SIZE_KEYS = ("polyak", "armijo", "lbfgs", "hd_gd", "hd_adam", "momo", "sam")


def test_numeric_changes_compile_nothing(compiles) -> None:
    for key in STEP_SIZE_KEYS:
        spec = OPTIMIZERS[key]
        base = RunConfig("linreg", key, lr=spec.lr.default / 2, steps=100)
        run(base)  # warm-up: the one compile this kernel needs
        compiles.count = 0
        changes: list[dict[str, Any]] = [{"lr": spec.lr.default / 3}]
        changes += [{"surface_params": {"seed": 3.0}}]
        changes += [{"hyper": {p.name: (p.low + p.default) / 2}} for p in spec.hyper]
        finals = {tuple(run(dataclasses.replace(base, **c)).positions[-1]) for c in changes}
        assert compiles.count == 0, key
        assert len(finals) == len(changes), key


def test_summary_cannot_vary_the_floor() -> None:
    with pytest.raises(ValueError, match=r"cannot vary 'run\.floor'"):
        summarize(RunConfig("bowl", "polyak"), {"run.floor": np.zeros(3)})


def test_rows_carry_groups_references_and_extra_arguments() -> None:
    for key in STEP_SIZE_KEYS:
        spec = OPTIMIZERS[key]
        assert spec.extra_args and spec.group in OPTIMIZER_GROUPS
        assert spec.reference and spec.reference[-4:].isdigit(), key
    assert all(spec.group in OPTIMIZER_GROUPS for spec in OPTIMIZERS.values())
    assert all(spec.reference for spec in OPTIMIZERS.values())
    assert not any(OPTIMIZERS[key].extra_args for key in ("gd", "adam", "newton"))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_rules_not_written_out_yet_are_refused_with_the_reason(framework: str) -> None:
    assert set(NOT_EXPORTED) == {"polyak", "armijo", "lbfgs", "momo", "sam"}
    for key, why in NOT_EXPORTED.items():
        with pytest.raises(ValueError, match=re.escape(why)):
            to_code(RunConfig("bowl", key, steps=5), framework)
        with pytest.raises(ValueError, match=re.escape(OPTIMIZERS[key].name)):
            to_code_all([RunConfig("bowl", "gd", steps=5), RunConfig("bowl", key)], framework)
