"""Every schedule against an independent plain-Python reference, warmup, and the table's rows.

The references are written from the papers and from PyTorch's definitions (Smith's cycle
counter, cos² forms, restarts found by walking period by period), sharing no code with the
schedules. Everything under test runs jitted with η₀ and every parameter as traced arguments.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.params import ParamSpec
from optimizers.schedules import (
    SCHEDULES,
    WARMUP_PARAMS,
    WARMUP_REFERENCE,
    get_schedule,
    with_warmup,
)
from tests.reference_loops import Tolerance, compiled_count

jax.config.update("jax_enable_x64", True)

LR0 = 0.3
TOL: Tolerance = {"rtol": 1e-11, "atol": 0.0}
Params = dict[str, float]
Reference = Callable[[int, float, Params], float]


def ref_constant(k, lr0, p):
    return lr0


def ref_step(k, lr0, p):
    return lr0 * p["gamma"] ** (k // round(p["step_size"]))


def ref_multistep(k, lr0, p):
    rate = lr0
    for milestone in sorted(p[f"milestone{i}"] for i in (1, 2, 3)):
        if k >= milestone:
            rate *= p["gamma"]
    return rate


def ref_exponential(k, lr0, p):
    return lr0 * math.exp(k / p["decay_steps"] * math.log(p["gamma"]))


def ref_inverse_time(k, lr0, p):
    return lr0 / (1 + p["decay_rate"] * k / p["decay_steps"])


def ref_polynomial(k, lr0, p):
    end, T = p["end_factor"] * lr0, p["decay_steps"]
    return end if k >= T else end + (lr0 - end) * (1 - k / T) ** p["power"]


def cos_squared(high, low, t, length):
    """high at t = 0 down to low at t = length, as low + (high − low) cos²(πt / 2·length)."""
    return low + (high - low) * math.cos(math.pi * min(t, length) / (2 * length)) ** 2


def ref_cosine(k, lr0, p):
    return cos_squared(lr0, p["min_factor"] * lr0, k, p["decay_steps"])


def ref_sgdr(k, lr0, p):
    start, period = 0.0, p["period"]
    while k >= start + period:
        start, period = start + period, period * p["period_mult"]
    return cos_squared(lr0, p["min_factor"] * lr0, k - start, period)


def smith(k, lr0, p, scale):
    """Smith (2017), Algorithm 1: cycle = ⌊1 + k/2s⌋, x = |k/s − 2·cycle + 1|."""
    cycle = math.floor(1 + k / (2 * p["step_size"]))
    x = abs(k / p["step_size"] - 2 * cycle + 1)
    return lr0 + (p["max_factor"] * lr0 - lr0) * max(0.0, 1 - x) * scale(cycle, k)


def ref_triangular(k, lr0, p):
    return smith(k, lr0, p, lambda cycle, k: 1.0)


def ref_triangular2(k, lr0, p):
    return smith(k, lr0, p, lambda cycle, k: 1 / 2 ** (cycle - 1))


def ref_exp_range(k, lr0, p):
    return smith(k, lr0, p, lambda cycle, k: p["gamma"] ** k)


def ref_one_cycle(k, lr0, p):
    rise, total = p["pct"] * p["total_steps"], p["total_steps"]
    start = lr0 / p["div"]
    if k < rise:
        return start + (lr0 - start) * math.sin(math.pi * k / (2 * rise)) ** 2
    return cos_squared(lr0, start / p["final_div"], k - rise, total - rise)


def ref_plateau(k, lr0, p):
    return lr0


REFERENCES: dict[str, Reference] = {
    "constant": ref_constant,
    "step": ref_step,
    "multistep": ref_multistep,
    "exponential": ref_exponential,
    "inverse_time": ref_inverse_time,
    "polynomial": ref_polynomial,
    "cosine": ref_cosine,
    "sgdr": ref_sgdr,
    "triangular": ref_triangular,
    "triangular2": ref_triangular2,
    "exp_range": ref_exp_range,
    "one_cycle": ref_one_cycle,
    "plateau": ref_plateau,
}

# (key, non-default parameters, steps around every boundary of that setting)
CASES: list[tuple[str, Params, list[int]]] = [
    ("constant", {}, [0, 1, 7, 100, 5000]),
    ("step", {"gamma": 0.3, "step_size": 7}, [0, 6, 7, 13, 14, 15, 100]),
    # milestones out of order: each counts on its own, as if sorted
    (
        "multistep",
        {"gamma": 0.4, "milestone1": 30, "milestone2": 10, "milestone3": 45},
        [0, 9, 10, 29, 30, 44, 45, 500],
    ),
    ("exponential", {"gamma": 0.7, "decay_steps": 3}, [0, 1, 2, 3, 6, 10, 100]),
    ("inverse_time", {"decay_rate": 2.5, "decay_steps": 8}, [0, 1, 8, 16, 1000]),
    (
        "polynomial",
        {"decay_steps": 40, "power": 2.5, "end_factor": 0.1},
        [0, 1, 20, 39, 40, 41, 1000],
    ),
    ("cosine", {"decay_steps": 30, "min_factor": 0.2}, [0, 1, 15, 29, 30, 31, 400]),
    ("sgdr", {"period": 12, "min_factor": 0.3}, [0, 6, 11, 12, 23, 24, 25, 1200]),
    (
        "sgdr",
        {"period": 7, "period_mult": 2, "min_factor": 0.1},
        [0, 6, 7, 20, 21, 48, 49, 104, 105, 7160, 7161],
    ),
    # log₃(243) rounds to 4.999…: the restart at 1210 needs the correction step
    (
        "sgdr",
        {"period": 10, "period_mult": 3, "min_factor": 0.1},
        [0, 5, 9, 10, 39, 40, 129, 130, 399, 400, 1209, 1210, 1211],
    ),
    ("triangular", {"step_size": 6, "max_factor": 4}, [0, 3, 5, 6, 7, 11, 12, 13, 18, 100]),
    ("triangular2", {"step_size": 6, "max_factor": 4}, [0, 5, 6, 12, 18, 29, 30, 31, 54]),
    (
        "exp_range",
        {"step_size": 6, "max_factor": 3, "gamma": 0.95},
        [0, 5, 6, 11, 12, 18, 30, 31],
    ),
    (
        "one_cycle",
        {"total_steps": 50, "pct": 0.2, "div": 10, "final_div": 100},
        [0, 5, 9, 10, 11, 30, 49, 50, 51, 1000],
    ),
    (
        "one_cycle",
        {"total_steps": 30, "pct": 0.25, "div": 4, "final_div": 3},
        [0, 7, 8, 29, 30, 31],
    ),
    ("plateau", {"factor": 0.3, "patience": 3}, [0, 1, 10, 1000, 5000]),
]
CASE_IDS = [f"{key}-{i}" for i, (key, *_) in enumerate(CASES)]


STEPS = 16  # every list of steps is padded to this length: one compile per schedule and shape


def padded(steps: list[int]) -> list[int]:
    return [*steps, *steps[-1:] * (STEPS - len(steps))]


def traced(p: Params) -> dict[str, jax.Array]:
    return {name: jnp.asarray(value, dtype=float) for name, value in p.items()}


def expected(key: str, steps: list[int], p: Params) -> list[float]:
    return [REFERENCES[key](k, LR0, p) for k in steps]


@functools.cache
def over_steps(key: str) -> Callable:
    """spec.fn jitted and vmapped over k, with η₀ and the parameters traced."""
    return jax.jit(jax.vmap(SCHEDULES[key].fn, in_axes=(0, None, None)))


@functools.cache
def on_array(key: str) -> Callable:
    """spec.fn jitted on a whole array of steps at once."""
    return jax.jit(SCHEDULES[key].fn)


@functools.cache
def warmed(key: str) -> Callable:
    """The warmed schedule jitted and vmapped over k, with W and α traced too."""
    fn = SCHEDULES[key].fn

    def rate(k, lr0, p, warmup_steps, start_factor):
        return with_warmup(lambda j: fn(j, lr0, p), k, warmup_steps, start_factor)

    return jax.jit(jax.vmap(rate, in_axes=(0, None, None, None, None)))


def test_every_schedule_has_a_reference_and_a_case():
    assert set(REFERENCES) == set(SCHEDULES)
    assert {key for key, *_ in CASES} == set(SCHEDULES)


@pytest.mark.parametrize(("key", "params", "steps"), CASES, ids=CASE_IDS)
def test_schedule_matches_reference(key: str, params: Params, steps: list[int]):
    spec, steps = SCHEDULES[key], padded(steps)
    p = spec.resolve(params)
    want = expected(key, steps, p)
    lr0 = jnp.asarray(LR0)
    np.testing.assert_allclose(over_steps(key)(jnp.asarray(steps), lr0, traced(p)), want, **TOL)
    as_array = on_array(key)(jnp.asarray(steps, dtype=float), lr0, traced(p))
    np.testing.assert_allclose(as_array, want, **TOL)


def draw_value(data: st.DataObject, spec: ParamSpec) -> float:
    if spec.integer:
        return float(data.draw(st.integers(int(spec.low), int(spec.high)), label=spec.name))
    return data.draw(st.floats(spec.low, spec.high), label=spec.name)


@pytest.mark.parametrize("key", SCHEDULES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_schedule_matches_reference_anywhere_in_range(key: str, data: st.DataObject):
    spec = SCHEDULES[key]
    p = {param.name: draw_value(data, param) for param in spec.params}
    lr0 = data.draw(st.floats(1e-5, 10.0), label="lr0")
    steps = data.draw(st.lists(st.integers(0, 3000), min_size=STEPS, max_size=STEPS), label="steps")
    got = np.asarray(over_steps(key)(jnp.asarray(steps), jnp.asarray(lr0), traced(p)))
    assert np.all(np.isfinite(got))
    assert np.all(got >= 0)
    want = [REFERENCES[key](k, lr0, p) for k in steps]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10 * lr0)


@contextlib.contextmanager
def count_compiles() -> Iterator[list[float]]:
    compiles: list[float] = []

    def listen(event: str, duration_secs: float, **kwargs: str | int) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration_secs)

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield compiles
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


@pytest.mark.parametrize("key", SCHEDULES)
def test_new_rate_parameters_or_warmup_never_recompile(key: str):
    spec = SCHEDULES[key]

    @jax.jit
    def rate(k, lr0, p, warmup_steps, start_factor):
        return with_warmup(lambda j: spec.fn(j, lr0, p), k, warmup_steps, start_factor)

    calls = [
        (3.0, LR0, spec.resolve(), 0.0, 0.0),
        (17.0, 2.0, {param.name: param.high for param in spec.params}, 5.0, 0.5),
        (4.0, 1e-4, {param.name: param.low for param in spec.params}, 9.0, 1.0),
    ]
    with count_compiles() as compiles:
        values = [rate(*args) for args in calls]
    assert len(compiles) == 1
    assert compiled_count(rate) == 1
    assert np.all(np.isfinite(values))


WARMUP = 8
START = 0.25


@pytest.mark.parametrize(("key", "params", "steps"), CASES, ids=CASE_IDS)
def test_warmup_ramps_to_the_first_rate_then_shifts_the_schedule(
    key: str, params: Params, steps: list[int]
):
    p = SCHEDULES[key].resolve(params)
    peak = REFERENCES[key](0, LR0, p)
    ramp = [peak * (START + (1 - START) * k / WARMUP) for k in range(WARMUP)]
    ks = [*range(WARMUP), *(WARMUP + k for k in padded(steps))]
    rate = functools.partial(warmed(key), jnp.asarray(ks), jnp.asarray(LR0), traced(p))
    shifted = expected(key, padded(steps), p)
    np.testing.assert_allclose(rate(jnp.asarray(float(WARMUP)), START), [*ramp, *shifted], **TOL)
    np.testing.assert_allclose(rate(jnp.asarray(0.0), START), expected(key, ks, p), **TOL)


def test_zero_warmup_passes_the_step_through_untouched():
    ks = jnp.asarray([0.0, 0.5, 1.0, 7.0, 1e4])
    identity = jax.jit(lambda ks, w, a: with_warmup(lambda j: j, ks, w, a))
    np.testing.assert_array_equal(identity(ks, 0.0, 0.5), ks)


def test_registry_shape():
    assert len(SCHEDULES) >= 13
    assert all(key == spec.key for key, spec in SCHEDULES.items())
    assert len({spec.name for spec in SCHEDULES.values()}) == len(SCHEDULES)
    assert [key for key, spec in SCHEDULES.items() if spec.driven_by_loss] == ["plateau"]
    for spec in SCHEDULES.values():
        assert spec.latex.strip()
        assert spec.note.strip()
        assert "\n" not in spec.note


@pytest.mark.parametrize("param", [p for spec in SCHEDULES.values() for p in spec.params])
def test_params_are_float_ranges_holding_their_defaults(param: ParamSpec):
    assert param.low <= param.default <= param.high
    assert all(isinstance(v, float) for v in (param.default, param.low, param.high))
    assert param.help.strip()
    if param.integer:
        assert param.default == round(param.default)


YEAR = re.compile(r"\b(1[89]|20)\d\d\b")


def test_every_schedule_but_constant_names_its_source_and_year():
    """Shown under the formula like an optimizer's reference: the paper, book or library."""
    assert SCHEDULES["constant"].reference == ""
    for key, spec in SCHEDULES.items():
        if key != "constant":
            assert YEAR.search(spec.reference), key
    assert YEAR.search(WARMUP_REFERENCE)


def test_param_names_unique_and_clear_of_warmup():
    warmup = {param.name for param in WARMUP_PARAMS}
    assert warmup == {"warmup_steps", "warmup_start"}
    for spec in SCHEDULES.values():
        names = [param.name for param in spec.params]
        assert len(set(names)) == len(names)
        assert not warmup & set(names)
    steps = WARMUP_PARAMS[0]
    assert steps.default == 0.0
    assert steps.integer


def test_get_schedule():
    assert get_schedule("cosine") is SCHEDULES["cosine"]
    with pytest.raises(ValueError, match="'nope'") as error:
        get_schedule("nope")
    assert all(key in str(error.value) for key in SCHEDULES)


@pytest.mark.parametrize("mult", [1.0, 2.0, 3.0])
def test_sgdr_restarts_where_its_formula_says(mult: float):
    """The sidebar's SGDR formula: cycle i starts at S_i = T_0 + … + T_{i−1} with
    T_i = T_0 T_mult^i, and η_k is η₀ exactly at those steps (h_k = 1 only at u_k = 0)."""
    p = {"period": 10.0, "period_mult": mult, "min_factor": 0.1}
    periods = [p["period"] * mult**i for i in range(4)]
    starts = np.cumsum([0.0, *periods[:-1]])
    k = jnp.arange(int(starts[-1]) + 5, dtype=float)
    traced = {name: jnp.float64(value) for name, value in p.items()}
    rates = np.asarray(SCHEDULES["sgdr"].fn(k, jnp.float64(LR0), traced))
    assert np.flatnonzero(np.isclose(rates, LR0, rtol=1e-12, atol=0)).tolist() == starts.tolist()
