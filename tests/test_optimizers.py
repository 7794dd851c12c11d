"""Every update rule against an independent NumPy reference, plus the registry's invariants.

The engine's loop is replayed (tests/reference_loops.py): d_k, state = update(g_k, state, w_k[,
hessian=H_k]); w_{k+1} = w_k − η d_k, on f(x, y) = (x − 1)² + 3(y + 0.5)⁴ + xy from W0, with
non-default hyperparameters. Each reference is the formula written out in NumPy, sharing no code
with optax.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optimizers.rules import OPTIMIZERS, get_optimizer
from tests.reference_loops import (
    W0,
    Tolerance,
    as_args,
    assert_each_number_matters,
    assert_same_run,
    ema,
    grad_f,
    hess_f,
    replay,
    run_engine,
    same_structure,
)

jax.config.update("jax_enable_x64", True)

ETA = 0.1
STEPS = 6  # RAdam's rectified branch starts at step 5 with β₂ = 0.9, τ = 4.5
TOL: Tolerance = {"rtol": 1e-12, "atol": 1e-12}

State = dict[str, np.ndarray]
Shown = dict[str, np.ndarray]
Reference = Callable[[State, np.ndarray, np.ndarray, np.ndarray, int, dict[str, float]], tuple]


# Each reference: (state, g_k, w_k, H_k, t = k + 1, hyper) -> (d_k, shown state); mutates `state`.


def ref_gd(s, g, w, H, t, h):
    return g, {}


def ref_momentum(s, g, w, H, t, h):
    s["v"] = h["beta"] * s.get("v", 0.0) + g
    return s["v"], {"velocity": s["v"]}


def ref_nesterov(s, g, w, H, t, h):
    s["v"] = h["beta"] * s.get("v", 0.0) + g
    return g + h["beta"] * s["v"], {"velocity": s["v"]}


def ref_adagrad(s, g, w, H, t, h):
    s["G"] = s.get("G", h["initial_accumulator"]) + g**2
    return g / np.sqrt(s["G"] + h["eps"]), {"accumulator": s["G"]}


def ref_rmsprop(s, g, w, H, t, h):
    s["v"] = ema(s.get("v", 0.0), g**2, h["rho"])
    return g / np.sqrt(s["v"] + h["eps"]), {"mean_square": s["v"]}


def adam_moments(s, g, h, t):
    s["m"] = ema(s.get("m", 0.0), g, h["b1"])
    s["v"] = ema(s.get("v", 0.0), g**2, h["b2"])
    return s["m"] / (1 - h["b1"] ** t), s["v"] / (1 - h["b2"] ** t)


def ref_adam(s, g, w, H, t, h):
    m_hat, v_hat = adam_moments(s, g, h, t)
    return m_hat / (np.sqrt(v_hat) + h["eps"]), {"m_hat": m_hat, "v_hat": v_hat}


def ref_adamw(s, g, w, H, t, h):
    d, shown = ref_adam(s, g, w, H, t, h)
    return d + h["weight_decay"] * w, shown


def ref_nadam(s, g, w, H, t, h):
    m_hat, v_hat = adam_moments(s, g, h, t)
    b1 = h["b1"]
    m_bar = b1 * s["m"] / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
    return m_bar / (np.sqrt(v_hat) + h["eps"]), {"m_hat": m_hat, "v_hat": v_hat}


def ref_amsgrad(s, g, w, H, t, h):
    m_hat, v_hat = adam_moments(s, g, h, t)
    s["v_max"] = np.maximum(s.get("v_max", 0.0), v_hat)
    d = m_hat / (np.sqrt(s["v_max"]) + h["eps"])
    return d, {"m_hat": m_hat, "v_hat": v_hat, "v_hat_max": s["v_max"]}


def ref_adamax(s, g, w, H, t, h):
    s["m"] = ema(s.get("m", 0.0), g, h["b1"])
    s["u"] = np.maximum(h["b2"] * s.get("u", 0.0), np.abs(g) + h["eps"])
    m_hat = s["m"] / (1 - h["b1"] ** t)
    return m_hat / s["u"], {"m_hat": m_hat, "u": s["u"]}


def ref_radam(s, g, w, H, t, h):
    m_hat, v_hat = adam_moments(s, g, h, t)
    b2 = h["b2"]
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    d = m_hat
    if rho >= h["threshold"]:
        r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        d = r * m_hat / (np.sqrt(v_hat) + h["eps"])
    return d, {"m_hat": m_hat, "v_hat": v_hat}


def ref_adabelief(s, g, w, H, t, h):
    s["m"] = ema(s.get("m", 0.0), g, h["b1"])
    s["s"] = ema(s.get("s", 0.0), (g - s["m"]) ** 2, h["b2"]) + h["eps"]
    m_hat, s_hat = s["m"] / (1 - h["b1"] ** t), s["s"] / (1 - h["b2"] ** t)
    return m_hat / (np.sqrt(s_hat) + h["eps"]), {"m_hat": m_hat, "s_hat": s_hat}


def ref_adadelta(s, g, w, H, t, h):
    s["v"] = ema(s.get("v", 0.0), g**2, h["rho"])
    d = np.sqrt(s.get("u", 0.0) + h["eps"]) / np.sqrt(s["v"] + h["eps"]) * g
    s["u"] = ema(s.get("u", 0.0), d**2, h["rho"])
    return d, {"mean_square_grad": s["v"], "mean_square_step": s["u"]}


def ref_signsgd(s, g, w, H, t, h):
    return np.sign(g), {}


def ref_lion(s, g, w, H, t, h):
    m = s.get("m", 0.0)
    s["m"] = ema(m, g, h["b2"])
    return np.sign(h["b1"] * m + (1 - h["b1"]) * g), {"momentum": s["m"]}


def ref_newton(s, g, w, H, t, h):
    d = np.linalg.solve(H + h["damping"] * np.eye(2), g)
    return d, {"curvature": np.linalg.eigvalsh(H)}


ADAM = {"b1": 0.8, "b2": 0.95, "eps": 0.01}
REFERENCES: dict[str, tuple[Reference, dict[str, float]]] = {
    "gd": (ref_gd, {}),
    "momentum": (ref_momentum, {"beta": 0.7}),
    "nesterov": (ref_nesterov, {"beta": 0.6}),
    "adagrad": (ref_adagrad, {"initial_accumulator": 0.5, "eps": 0.01}),
    "rmsprop": (ref_rmsprop, {"rho": 0.8, "eps": 0.01}),
    "adam": (ref_adam, ADAM),
    "newton": (ref_newton, {"damping": 0.3}),
    "adamw": (ref_adamw, {**ADAM, "weight_decay": 0.5}),
    "nadam": (ref_nadam, ADAM),
    "amsgrad": (ref_amsgrad, ADAM),
    "adamax": (ref_adamax, {**ADAM, "b2": 0.7}),
    "radam": (ref_radam, {**ADAM, "b2": 0.9, "threshold": 4.5}),
    "adabelief": (ref_adabelief, ADAM),
    "adadelta": (ref_adadelta, {"rho": 0.7, "eps": 0.01}),
    "signsgd": (ref_signsgd, {}),
    "lion": (ref_lion, {"b1": 0.6, "b2": 0.8}),
}


def reference_run(key: str) -> tuple[np.ndarray, list[Shown]]:
    reference, hyper = REFERENCES[key]

    def step(s: State, g: np.ndarray, w: np.ndarray, t: int) -> tuple[np.ndarray, Shown]:
        d, view = reference(s, g, w, hess_f(w), t, hyper)
        return w - ETA * d, view

    return replay(step, STEPS)


def run_with(key: str, hyper: dict[str, float], eta: float = ETA):
    return run_engine(key, STEPS, hyper, eta)


@pytest.mark.parametrize("key", REFERENCES)
def test_steps_and_state_match_the_reference(key: str) -> None:
    assert_same_run(run_with(key, REFERENCES[key][1]), reference_run(key), TOL)


@pytest.mark.parametrize("key", REFERENCES)
def test_hyperparameters_are_traced_and_each_one_matters(key: str) -> None:
    assert_each_number_matters(key, STEPS, REFERENCES[key][1], ETA, other_eta=2 * ETA)


@pytest.mark.parametrize("key", REFERENCES)
def test_show_state_is_named_2_vectors_of_fixed_structure(key: str) -> None:
    spec = OPTIMIZERS[key]
    hyper = as_args({p.name: p.default for p in spec.hyper})
    tx, w = spec.build(hyper), jnp.asarray(W0)
    state = tx.init(w)
    before = spec.show_state(state)
    extra = {"hessian": jnp.asarray(hess_f(W0))} if spec.needs_hessian else {}
    after = spec.show_state(tx.update(jnp.asarray(grad_f(W0)), state, w, **extra)[1])
    assert same_structure(before, after)
    for name, value in {**before, **after}.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
        assert value.shape == (2,)
        assert value.dtype == jnp.float64
    assert all(np.all(np.isfinite(value)) for value in before.values())


def test_every_optimizer_has_a_reference() -> None:
    """The newer adaptive, learning-rate-free and Lookahead rules and the step-size rules (extra
    arguments) are checked against their references in tests/test_rules_free.py and
    test_rules_step_size.py."""
    from tests import test_rules_free, test_rules_step_size

    elsewhere = {*test_rules_free.KEYS, *test_rules_step_size.STEP_SIZE_KEYS}
    assert not set(REFERENCES) & elsewhere
    assert set(REFERENCES) | elsewhere == set(OPTIMIZERS)


def test_registry_holds_the_required_rules_in_teaching_order() -> None:
    required = {
        *("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw"),
        *("amsgrad", "nadam", "adamax", "radam", "adabelief", "lion", "signsgd", "newton"),
    }
    assert required <= set(OPTIMIZERS)
    assert list(OPTIMIZERS)[:3] == ["gd", "momentum", "nesterov"]
    assert all(spec.key == key for key, spec in OPTIMIZERS.items())
    assert len({spec.name for spec in OPTIMIZERS.values()}) == len(OPTIMIZERS)
    assert [key for key, spec in OPTIMIZERS.items() if spec.needs_hessian] == ["newton"]


def test_every_optimizer_names_its_paper_and_year() -> None:
    """Shown under the formula in the UI: who introduced the rule, and when."""
    for key, spec in OPTIMIZERS.items():
        assert re.search(r"\b(1[6-9]|20)\d\d\b", spec.reference), key


@pytest.mark.parametrize("key", OPTIMIZERS)
def test_parameters_latex_and_note_are_well_formed(key: str) -> None:
    spec = OPTIMIZERS[key]
    params = (spec.lr, *spec.hyper)
    for p in params:
        assert p.low <= p.default <= p.high
        assert re.fullmatch(r"[a-z][a-z0-9_]*", p.name)
        assert p.help
    assert spec.lr.name == "lr"
    assert spec.lr.log
    assert len({p.name for p in params}) == len(params)
    assert r"\eta_k" in spec.latex
    assert spec.latex.count("{") == spec.latex.count("}")
    assert spec.note
    assert "\n" not in spec.note


@pytest.mark.parametrize(
    "A",
    [[[3.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, -3.0]], [[-2.0, 0.5], [0.5, -1.0]]],
    ids=["minimum", "saddle", "maximum"],
)
def test_newton_jumps_to_the_stationary_point_of_a_quadratic(A: list[list[float]]) -> None:
    H, b, w0 = np.array(A), np.array([1.0, -2.0]), np.array([4.0, -3.0])
    tx = OPTIMIZERS["newton"].build(as_args({"damping": 0.0}))
    d, _ = jax.jit(tx.update)(A @ w0 - b, tx.init(w0), w0, hessian=H)
    np.testing.assert_allclose(w0 - 1.0 * d, np.linalg.solve(H, b), **TOL)


def test_newton_on_a_singular_hessian_is_non_finite_unless_damped() -> None:
    H, g, w = jnp.array([[1.0, 0.0], [0.0, 0.0]]), jnp.array([1.0, 1.0]), jnp.zeros(2)
    spec = OPTIMIZERS["newton"]

    def direction(damping: float) -> jax.Array:
        tx = spec.build(as_args({"damping": damping}))
        return tx.update(g, tx.init(w), w, hessian=H)[0]

    assert not np.all(np.isfinite(direction(0.0)))
    np.testing.assert_allclose(direction(0.5), [1 / 1.5, 1 / 0.5], **TOL)


def test_get_optimizer() -> None:
    assert get_optimizer("adam") is OPTIMIZERS["adam"]
    with pytest.raises(ValueError, match="'nope'") as error:
        get_optimizer("nope")
    assert all(key in str(error.value) for key in OPTIMIZERS)
