"""ReduceLROnPlateau against PyTorch's logic, and the rate the engine records for every schedule.

The plateau's reference is PyTorch's class written out in plain Python; the engine's rates are
compared step by step with each schedule's own fn(k, η₀, p), and with that reference fed the
run's own losses for ReduceLROnPlateau.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optimizers.engine import RunConfig, run_batch
from optimizers.schedules import SCHEDULES, PlateauState, plateau_init, plateau_update
from tests.test_schedules import CASES, LR0, TOL, Params, traced

jax.config.update("jax_enable_x64", True)


class ReferencePlateau:
    """torch.optim.lr_scheduler.ReduceLROnPlateau (mode='min', threshold_mode='rel') on a factor.

    `is_better` uses best·(1 ∓ τ) by the sign of best, which equals best − τ|best| and stays
    right for negative losses (PyTorch's best·(1 − τ) does not).
    """

    def __init__(self, factor, patience, threshold, cooldown, min_scale):
        self.factor, self.patience, self.threshold = factor, patience, threshold
        self.cooldown, self.min_scale = cooldown, min_scale
        self.scale, self.best = 1.0, math.inf
        self.num_bad_epochs = self.cooldown_counter = 0

    def is_better(self, loss: float) -> bool:
        bar = 1 - self.threshold if self.best >= 0 else 1 + self.threshold
        return loss < self.best * bar

    def step(self, loss: float) -> tuple[float, int, int]:
        if self.is_better(loss):
            self.best, self.num_bad_epochs = loss, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self.scale = max(self.scale * self.factor, self.min_scale)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        return self.scale, self.num_bad_epochs, self.cooldown_counter


LOSSES = [
    *(10.0, 8.0, 7.95, 7.95, 7.99),  # improvements, then near misses within the 1 % threshold
    *(7.9,) * 16,  # an improvement during cooldown, then a plateau: cut after cut to the floor
    *(3.0, 2.0, -1.0, -1.005, -1.02, -1.02, -1.03),  # negative losses: |best| sets the bar
    *(-2.0,) * 6,
]
PLATEAU_CASES = [
    {"factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 2, "min_scale": 0.2},
    {"factor": 0.7, "patience": 0, "threshold": 0.005, "cooldown": 0, "min_scale": 0.0},
    {"factor": 0.1, "patience": 4, "threshold": 1e-8, "cooldown": 5, "min_scale": 0.05},
]


@jax.jit
def plateau_run(losses: jax.Array, lr0: jax.Array, p: dict[str, jax.Array]):
    """The engine's order: observe f(w_k), update the state, then η_k = fn(k, η₀, p) · s_k."""
    fn = SCHEDULES["plateau"].fn

    def step(state: PlateauState, k_loss: tuple[jax.Array, jax.Array]):
        k, loss = k_loss
        state = plateau_update(state, loss, p)
        return state, (fn(k, lr0, p) * state.scale, state)

    return jax.lax.scan(step, plateau_init(), (jnp.arange(len(LOSSES)), losses))[1]


@pytest.mark.parametrize("params", PLATEAU_CASES)
def test_plateau_matches_pytorch_logic_under_scan(params: Params):
    p = SCHEDULES["plateau"].resolve(params)
    reference = ReferencePlateau(**p)
    scales, bad, cooldown = np.array([reference.step(loss) for loss in LOSSES]).T
    assert len(set(scales)) >= 3  # the sequence does trigger reductions
    rates, states = plateau_run(jnp.asarray(LOSSES), jnp.asarray(LR0), traced(p))
    np.testing.assert_allclose(rates, LR0 * scales, **TOL)
    np.testing.assert_array_equal(states.scale, scales)
    np.testing.assert_array_equal(states.bad_steps, bad)
    np.testing.assert_array_equal(states.cooldown_left, cooldown)
    np.testing.assert_array_equal(states.best, np.minimum.accumulate(states.best))


def test_plateau_trace_by_hand():
    """The first case step by step, independently of the reference class."""
    p = traced(SCHEDULES["plateau"].resolve(PLATEAU_CASES[0]))
    scales = np.asarray(plateau_run(jnp.asarray(LOSSES), jnp.asarray(1.0), p)[0])
    # cuts after 3 misses (k=4), then cooldown 2 + 3 misses (k=9, k=14), then the 0.2 floor
    np.testing.assert_array_equal(scales[:15], [1.0] * 4 + [0.5] * 5 + [0.25] * 5 + [0.2])
    assert np.all(scales[15:] == 0.2)


def test_plateau_handles_the_first_and_negative_losses():
    p = traced(SCHEDULES["plateau"].resolve({"threshold": 0.01, "patience": 0}))
    update = jax.jit(plateau_update)
    state = update(plateau_init(), jnp.asarray(-1.0), p)
    assert float(state.best) == -1.0
    assert float(state.bad_steps) == 0.0
    state = update(state, jnp.asarray(-1.005), p)  # −1.005 > −1 − 0.01·|−1|
    assert float(state.best) == -1.0
    assert float(state.scale) == 0.5


def test_plateau_state_is_float64_scalars():
    for field in plateau_init():
        assert field.shape == ()
        assert field.dtype == jnp.float64


# A setting per schedule under which its rate moves within the run (the plateau cuts often).
ENGINE_PARAMS: dict[str, Params] = {
    **{key: params for key, params, _ in reversed(CASES)},  # each schedule's first case
    "plateau": {"factor": 0.5, "patience": 1, "threshold": 0.5, "cooldown": 2},
}


ENGINE_LR = 0.1  # slow enough on the bowl for the plateau's 50 % bar to stall


def test_the_engine_records_each_schedules_own_rate():
    """t.lr[k], the η_k the engine stepped with, is fn(k, η₀, p) at every step; for
    ReduceLROnPlateau it is η₀ s_k, with s_k from the reference fed the run's loss f(w_k)."""
    configs = [
        RunConfig(
            "bowl", "gd", lr=ENGINE_LR, steps=60, schedule=key, schedule_params=ENGINE_PARAMS[key]
        )
        for key in SCHEDULES
    ]
    for config, t in zip(configs, run_batch(configs), strict=True):
        spec = SCHEDULES[config.schedule]
        p = spec.resolve(config.schedule_params)
        assert len(t.lr) == config.steps, spec.key
        if spec.driven_by_loss:
            reference = ReferencePlateau(**p)
            want = np.array([ENGINE_LR * reference.step(float(loss))[0] for loss in t.loss[:-1]])
        else:
            want = np.asarray(spec.fn(jnp.arange(config.steps, dtype=float), ENGINE_LR, traced(p)))
        if spec.key != "constant":
            assert len(set(want)) >= 3, spec.key  # the rate does move: a constant would fail
        np.testing.assert_allclose(t.lr, want, rtol=1e-12, atol=0, err_msg=spec.key)
