"""The learning-rate-free rules, the newer adaptive rules and Lookahead against independent
NumPy references.

Each reference is the paper's (or optax's documented) update written out with plain NumPy and
loops, sharing no code with optax: (state, g_k, w_k, t = k + 1, hyper, η) → (w_{k+1}, shown).
The engine's loop is replayed through `spec.build` with the hyperparameters and η traced, on the
surface of tests/reference_loops.py, for STEPS steps; the learning-rate-free rules at η = 1 (their
published step) and at another η, which scales their direction from outside.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from optimizers.engine import RunConfig, run
from optimizers.rules import OPTIMIZERS
from optimizers.specs import OPTIMIZER_GROUPS
from tests.reference_loops import (
    Tolerance,
    assert_each_number_matters,
    assert_same_run,
    ema,
    replay,
    run_engine,
)
from tests.test_optimizers import (
    test_show_state_is_named_2_vectors_of_fixed_structure as check_show_state,
)

STEPS = 12
TOL: Tolerance = {"rtol": 1e-10, "atol": 1e-12}
# The rules these references check, in registry order: adaptive, learning-rate-free, Lookahead.
KEYS = [
    *("yogi", "adan", "novograd", "ademamix", "adopt", "madgrad", "rmsprop_centred", "signum"),
    *("dadapt", "prodigy", "dog", "dowg", "cocob", "mechanic_sgd", "mechanic_adam"),
    *("schedule_free_sgd", "schedule_free_adamw", "lookahead"),
]
RULES = [OPTIMIZERS[key] for key in KEYS]

State = dict[str, np.ndarray]
Reference = Callable[[State, np.ndarray, np.ndarray, int, dict[str, float], float], tuple]


def descend(w, d, eta, shown):
    return w - eta * d, shown


def ref_yogi(s, g, w, t, h, eta):
    m, v = s.get("m", 1e-6), s.get("v", 1e-6)
    s["m"] = ema(m, g, h["b1"])
    s["v"] = v - (1 - h["b2"]) * np.sign(v - g**2) * g**2
    m_hat, v_hat = s["m"] / (1 - h["b1"] ** t), s["v"] / (1 - h["b2"] ** t)
    d = m_hat / (np.sqrt(v_hat) + h["eps"])
    return descend(w, d, eta, {"m_hat": m_hat, "v_hat": v_hat})


def ref_adan(s, g, w, t, h, eta):
    diff = g - s["g"] if t > 1 else np.zeros(2)
    s["g"] = g
    s["m"] = ema(s.get("m", 0.0), g, h["b1"])
    s["v"] = ema(s.get("v", 0.0), diff, h["b2"])
    s["n"] = ema(s.get("n", 0.0), (g + (1 - h["b2"]) * diff) ** 2, h["b3"])
    m_hat, v_hat, n_hat = (
        s[x] / (1 - h[b] ** t) for x, b in (("m", "b1"), ("v", "b2"), ("n", "b3"))
    )
    d = (m_hat + (1 - h["b2"]) * v_hat) / (np.sqrt(n_hat) + h["eps"])
    return descend(w, d, eta, {"m_hat": m_hat, "diff_hat": v_hat, "n_hat": n_hat})


def ref_novograd(s, g, w, t, h, eta):
    square = float(g @ g)
    s["nu"] = square if t == 1 else ema(s["nu"], square, h["b2"])
    scaled = g / (np.sqrt(s["nu"]) + h["eps"])
    s["m"] = scaled if t == 1 else h["b1"] * s["m"] + scaled
    return descend(w, s["m"], eta, {"momentum": s["m"], "nu": np.full(2, s["nu"])})


def ref_ademamix(s, g, w, t, h, eta):
    s["m"] = ema(s.get("m", 0.0), g, h["b1"])
    s["mu"] = ema(s.get("mu", 0.0), g, h["b3"])
    s["v"] = ema(s.get("v", 0.0), g**2, h["b2"])
    m_hat, v_hat = s["m"] / (1 - h["b1"] ** t), s["v"] / (1 - h["b2"] ** t)
    d = (m_hat + h["alpha"] * s["mu"]) / (np.sqrt(v_hat) + h["eps"])
    return descend(w, d, eta, {"m_hat": m_hat, "slow_momentum": s["mu"], "v_hat": v_hat})


def ref_adopt(s, g, w, t, h, eta):
    k = t - 1
    if k == 0:  # the first step only measures v
        s["m"], s["v"] = np.zeros(2), g**2
    else:
        clip = k**0.25
        normed = np.clip(g / np.maximum(np.sqrt(s["v"]), h["eps"]), -clip, clip)
        s["m"] = ema(s["m"], normed, h["b1"])
        s["v"] = ema(s["v"], g**2, h["b2"])
    return descend(w, s["m"], eta, {"momentum": s["m"], "mean_square": s["v"]})


def ref_madgrad(s, g, w, t, h, eta):
    s.setdefault("w0", w)
    lam = (h["gamma"] + h["eps"]) * float(np.sqrt(np.float32(t)))  # optax takes √(k+1) in float32
    s["S"] = s.get("S", 0.0) + lam * g
    s["V"] = s.get("V", 0.0) + lam * g**2
    z = s["w0"] - s["S"] / (np.cbrt(s["V"]) + h["eps"])
    return descend(w, (1 - h["beta"]) * (w - z), eta, {"z_dual": z})


def ref_rmsprop_centred(s, g, w, t, h, eta):
    s["m"] = ema(s.get("m", 0.0), g, h["rho"])
    s["v"] = ema(s.get("v", 0.0), g**2, h["rho"])
    d = g / np.sqrt(s["v"] - s["m"] ** 2 + h["eps"])
    return descend(w, d, eta, {"mean": s["m"], "mean_square": s["v"]})


def ref_signum(s, g, w, t, h, eta):
    s["m"] = ema(s.get("m", 0.0), g, h["beta"])
    return descend(w, np.sign(s["m"]), eta, {"momentum": s["m"]})


def ref_dadapt(s, g, w, t, h, eta):
    b1, b2, eps = h["b1"], h["b2"], h["eps"]
    D = s.setdefault("D", h["d0"])
    m, v, acc, r = (s.get(x, np.zeros(2) if x != "r" else 0.0) for x in ("m", "v", "s", "r"))
    lam = D * np.sqrt(1 - b2**t) / (1 - b1**t)
    root = np.sqrt(b2)
    r = root * r + (1 - root) * lam * float(g @ (acc / (np.sqrt(v) + eps)))
    acc = root * acc + (1 - root) * lam * g
    s["m"], s["v"], s["s"], s["r"] = ema(m, lam * g, b1), ema(v, g**2, b2), acc, r
    s["D"] = max(D, r / ((1 - root) * np.abs(acc).sum()))
    d = s["m"] / (np.sqrt(s["v"]) + eps)
    return descend(w, d, eta, {"d": np.full(2, s["D"])})


def ref_prodigy(s, g, w, t, h, eta):
    b1, b2, eps, D0 = h["b1"], h["b2"], h["eps"], h["d0"]
    b3 = np.sqrt(b2)
    w0, D = s.setdefault("w0", w), s.setdefault("D", D0)
    m, v, acc, r = (s.get(x, np.zeros(2) if x != "r" else 0.0) for x in ("m", "v", "s", "r"))
    lam = D * np.sqrt(1 - b2**t) / (1 - b1**t)
    s["m"], s["v"] = ema(m, D * g, b1), ema(v, (D * g) ** 2, b2)
    s["s"] = b3 * acc + lam * D / D0 * g
    s["r"] = b3 * r + D / D0 * lam * float(g @ (w0 - w))
    s["D"] = max(D, s["r"] / np.abs(s["s"]).sum())
    d = lam * s["m"] / (np.sqrt(s["v"]) + s["D"] * eps)
    return descend(w, d, eta, {"d": np.full(2, s["D"])})


def ref_dog(s, g, w, t, h, eta):
    w0 = s.setdefault("w0", w)
    r = max(s.get("r", h["r_eps"] * (1 + np.linalg.norm(w0))), np.linalg.norm(w - w0))
    s["r"], s["G"] = r, s.get("G", 0.0) + float(g @ g)
    rate = r / np.sqrt(s["G"] + h["eps"])
    return descend(
        w, rate * g, eta, {"step_scale": np.full(2, rate), "max_distance": np.full(2, r)}
    )


def ref_dowg(s, g, w, t, h, eta):
    w0 = s.setdefault("w0", w)
    r2 = max(s.get("r2", h["r0_sq"]), float((w - w0) @ (w - w0)))
    s["r2"], s["V"] = r2, s.get("V", 0.0) + r2 * float(g @ g)
    rate = r2 / (np.sqrt(s["V"]) + h["eps"])
    return descend(
        w, rate * g, eta, {"step_scale": np.full(2, rate), "sq_distance": np.full(2, r2)}
    )


def ref_cocob(s, g, w, t, h, eta):
    w0 = s.setdefault("w0", w)
    L = np.maximum(s.get("L", np.full(2, h["eps"])), np.abs(g))
    G = s.get("G", 0.0) + np.abs(g)
    R = np.maximum(s.get("R", 0.0) - g * (w - w0), 0.0)
    theta = s.get("theta", 0.0) - g
    s.update(L=L, G=G, R=R, theta=theta)
    bet = (L + R) / (L * np.maximum(G + L, h["alpha"] * L))
    return descend(w, w - (w0 + theta * bet), eta, {"bet_fraction": bet, "reward": R})


def mechanic(base: Callable) -> Reference:
    """Mechanic's scale S (Cutkosky et al. 2023, Algorithm 1 as optax writes it) around `base`."""
    betas, eps = 1 - 0.1 ** np.arange(1, 7), 1e-8

    def ref(s, g, w, t, h, eta):
        w0 = s.setdefault("w0", w)
        scales = s.get("s", np.full(6, h["s_init"]))
        M, V, R = (s.get(x, np.zeros(6)) for x in ("M", "V", "R"))
        u = base(s, g, t, h)
        S = scales.sum()
        tilted = g + h["weight_decay"] * S * np.linalg.norm(g) / (np.linalg.norm(w) + eps) * w
        delta = (w0 - w) / (S + eps)
        hk = float(tilted @ delta)
        R = betas * R + np.clip(hk, -M, M) * scales
        M = np.maximum(betas * M, abs(hk) + eps)
        V = betas**2 * V + hk**2
        scales = (h["s_init"] / 6 * M + np.maximum(R, 0)) / (np.sqrt(V) + eps)
        s.update(s=scales, M=M, V=V, R=R)
        target = w0 - scales.sum() * (delta + u)
        return descend(w, w - target, eta, {"scale": np.full(2, scales.sum())})

    return ref


def adam_direction(s, g, t, h, eps=1e-8):
    s["am"] = ema(s.get("am", 0.0), g, h["b1"])
    s["av"] = ema(s.get("av", 0.0), g**2, h["b2"])
    return s["am"] / (1 - h["b1"] ** t) / (np.sqrt(s["av"] / (1 - h["b2"] ** t)) + eps)


def schedule_free(base: Callable, beta_name: str) -> Reference:
    """Schedule-Free (Defazio et al. 2024): z steps at γ, x averages the z's (c = 1/t), the
    gradient is taken at y = (1 − β) z + β x. Exact at η = 1, where w_k = y_k."""

    def ref(s, g, w, t, h, eta):
        beta = h[beta_name]
        z, x = s.get("z", w), s.get("x", w)
        z = z - h["gamma"] * base(s, g, t, h)
        x = (1 - 1 / t) * x + z / t
        s.update(z=z, x=x)
        y = (1 - beta) * z + beta * x
        return descend(w, w - y, eta, {"averaged_point": x, "z_base": z})

    return ref


def sf_adam_direction(s, g, t, h):
    s["v"] = ema(s.get("v", 0.0), g**2, h["b2"])
    return g / (np.sqrt(s["v"] / (1 - h["b2"] ** t)) + h["eps"])


def ref_lookahead(s, g, w, t, h, eta):
    """Zhang et al. 2019, Algorithm 1: fast weights run Adam; every K steps the slow weights φ
    move α of the way to them and the fast weights restart at φ."""
    slow = s.setdefault("slow", w)
    fast = w - eta * adam_direction(s, g, t, h, h["eps"])
    if t % round(h["sync_period"]) == 0:
        slow = s["slow"] = slow + h["alpha"] * (fast - slow)
        fast = slow
    return fast, {"offset": (slow - fast) / eta}


ADAM = {"b1": 0.8, "b2": 0.95, "eps": 0.01}
MECHANIC = {"weight_decay": 0.05, "s_init": 1e-3}
REFERENCES: dict[str, tuple[Reference, dict[str, float], float]] = {
    "yogi": (ref_yogi, ADAM, 0.1),
    "adan": (ref_adan, {"b1": 0.7, "b2": 0.8, "b3": 0.9, "eps": 0.01}, 0.1),
    "novograd": (ref_novograd, {"b1": 0.8, "b2": 0.5, "eps": 0.01}, 0.05),
    "ademamix": (ref_ademamix, {**ADAM, "b3": 0.99, "alpha": 2.0}, 0.1),
    "adopt": (ref_adopt, {"b1": 0.8, "b2": 0.9, "eps": 0.5}, 0.1),
    "madgrad": (ref_madgrad, {"gamma": 0.2, "beta": 0.7, "eps": 0.01}, 1.0),
    "rmsprop_centred": (ref_rmsprop_centred, {"rho": 0.8, "eps": 0.01}, 0.05),
    "signum": (ref_signum, {"beta": 0.6}, 0.1),
    "dadapt": (ref_dadapt, {**ADAM, "d0": 0.01}, 1.0),
    "prodigy": (ref_prodigy, {**ADAM, "d0": 0.01}, 1.0),
    "dog": (ref_dog, {"r_eps": 0.01, "eps": 0.01}, 1.0),
    "dowg": (ref_dowg, {"r0_sq": 0.01, "eps": 0.01}, 1.0),
    "cocob": (ref_cocob, {"alpha": 10.0, "eps": 0.5}, 1.0),
    "mechanic_sgd": (mechanic(lambda s, g, t, h: g), MECHANIC, 1.0),
    "mechanic_adam": (mechanic(adam_direction), {"b1": 0.8, "b2": 0.95, **MECHANIC}, 1.0),
    "schedule_free_sgd": (
        schedule_free(lambda s, g, t, h: g, "beta"),
        {"gamma": 0.1, "beta": 0.7},
        1.0,
    ),
    "schedule_free_adamw": (
        schedule_free(sf_adam_direction, "b1"),
        {"gamma": 0.1, "b1": 0.7, "b2": 0.95, "eps": 0.01},
        1.0,
    ),
    "lookahead": (ref_lookahead, {**ADAM, "sync_period": 3.0, "alpha": 0.4}, 0.1),
}
# At another η the unit-rate rules' direction is scaled from outside (not Schedule-Free, MADGRAD,
# COCOB or Mechanic, whose step is towards a point they compute: only η = 1 reaches it).
SCALED = ["dadapt", "prodigy", "dog", "dowg"]


def reference_run(key: str, eta: float) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    reference, hyper, _ = REFERENCES[key]
    return replay(lambda s, g, w, t: reference(s, g, w, t, hyper, eta), STEPS)


def run_with(key: str, hyper: dict[str, float], eta: float):
    return run_engine(key, STEPS, hyper, eta)


def assert_matches_reference(key: str, eta: float) -> None:
    assert_same_run(run_with(key, REFERENCES[key][1], eta), reference_run(key, eta), TOL)


@pytest.mark.parametrize("key", KEYS)
def test_steps_and_state_match_the_reference(key: str) -> None:
    assert_matches_reference(key, REFERENCES[key][2])


@pytest.mark.parametrize("key", SCALED)
def test_eta_scales_the_direction_of_a_learning_rate_free_rule(key: str) -> None:
    assert_matches_reference(key, 0.3)


@pytest.mark.parametrize("key", KEYS)
def test_show_state_is_named_2_vectors_of_fixed_structure(key: str) -> None:
    """As for the other rules: the learning rate each one uses, its averages and points."""
    check_show_state(key)


@pytest.mark.parametrize("key", KEYS)
def test_hyperparameters_are_traced_and_each_one_matters(key: str) -> None:
    _, hyper, eta = REFERENCES[key]
    assert_each_number_matters(key, STEPS, hyper, eta, other_eta=0.5 * eta)


def test_every_new_rule_has_a_reference_a_group_and_a_paper() -> None:
    assert set(REFERENCES) == set(KEYS)
    assert len(KEYS) == 18  # 17 rules, Mechanic twice
    assert set(KEYS) <= set(OPTIMIZERS)
    for spec in RULES:
        assert spec.group in OPTIMIZER_GROUPS and spec.group != "classic"
        assert spec.reference and any(str(year) in spec.reference for year in range(2013, 2025))
    unit_rate = [s.key for s in RULES if s.lr.default == 1.0]
    assert unit_rate == [k for k, (_, _, eta) in REFERENCES.items() if eta == 1.0]
    assert all("η₀ = 1" in OPTIMIZERS[key].note for key in unit_rate)


@pytest.mark.parametrize("key", ["schedule_free_sgd", "schedule_free_adamw"])
def test_schedule_free_shows_the_averaged_point_it_evaluates(key: str) -> None:
    """Through the engine: x_k is the running mean of z_1 … z_k, and every w_k the engine drew
    is the gradient point (1 − β) z_k + β x_k between them."""
    t = run(RunConfig("rosenbrock", key, steps=300, hyper={"gamma": 1e-3}))
    z, x = t.state["z_base"], t.state["averaged_point"]
    np.testing.assert_allclose(x, np.cumsum(z, axis=0) / np.arange(1, len(z) + 1)[:, None], **TOL)
    beta = OPTIMIZERS[key].resolve({})["beta" if key == "schedule_free_sgd" else "b1"]
    np.testing.assert_allclose(t.positions[1:], (1 - beta) * z + beta * x, **TOL)


def test_the_learning_rate_they_use_is_shown_and_grows_from_its_first_guess() -> None:
    """D-Adaptation's and Prodigy's D and DoG's ratio start at their tiny first guess and grow by
    orders of magnitude (≥ 100×) on the quadratic; Mechanic's scale S too."""
    for key, name, first in [
        ("dadapt", "d", 1e-6),
        ("prodigy", "d", 1e-6),
        ("dog", "max_distance", 1e-6),
        ("mechanic_sgd", "scale", 6e-6),
    ]:
        t = run(RunConfig("quadratic", key, steps=200))
        shown = t.state[name][:, 0]
        assert shown[0] <= 10 * first, key
        assert shown.max() >= 100 * first, key


def test_numeric_changes_compile_nothing(compiles) -> None:
    for key in KEYS:
        spec = OPTIMIZERS[key]
        base = RunConfig("himmelblau", key, steps=100)
        run(base)  # the one compile this kernel needs
        compiles.count = 0
        for param in spec.hyper:
            other = param.default * 0.5 if param.default else 0.1
            if param.integer:
                other = param.default + 1
            run(RunConfig("himmelblau", key, steps=100, hyper={param.name: other}))
        run(RunConfig("himmelblau", key, steps=120, lr=spec.lr.default * 0.5))
        assert compiles.count == 0, key
