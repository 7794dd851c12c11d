"""One step of the engine, traceable: from w_k to w_{k+1}.

Each step k, from w_k:
    L_k = f(w_k) + (λ₂/2)‖w_k‖²                 the objective (L2 regularisation λ₂)
    g_k = ∇L_k + σ ξ_k,  ξ_k ~ N(0, I) seeded    optional gradient noise
          (on a surface with data, ∇L_k may be that of a seeded mini-batch B_k instead:
           ∇[(1/|B_k|) Σ_{i∈B_k} ℓ(w_k; x_i, y_i) + (λ₂/2)‖w_k‖²], B_k drawn without replacement)
    g_k ← clip(g_k, ±c),  g_k ← g_k · min(1, C/‖g_k‖)   optional clipping by value / global norm
    d_k = optimizer direction from g_k            (optax transformation at unit rate; a rule with
          extra arguments also gets L_k, ∇L_k and L of the stepped objective, η_k and f*)
    w_{k+1} = w_k − η_k (d_k + λ_w w_k)          scheduled η_k, decoupled weight decay λ_w
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers.engine.config import bucket
from optimizers.engine.minibatch import (
    batch_loss,
    batch_order,
    draw_batch_weights,
    draws_mini_batches,
)
from optimizers.engine.plan import Numbers, Plan
from optimizers.schedules import PlateauState, plateau_init, plateau_update, with_warmup
from optimizers.specs import OptimizerSpec, ScheduleSpec
from surfaces import Surface


class Kernel(NamedTuple):
    """What a compiled function is specialised on; everything else is a traced number."""

    surface: Surface
    optimizer: OptimizerSpec
    schedule: ScheduleSpec
    length: int  # scan length, a bucket of the step count
    noisy: bool  # gradient noise on (σ > 0): its draws cost more than the rest of a step
    batched: bool  # mini-batches on (0 < batch size < data size): weights drawn per step


def kernel_of(the_plan: Plan) -> Kernel:
    """The compiled function's key for `the_plan`."""
    return Kernel(
        the_plan.surface,
        the_plan.optimizer,
        the_plan.schedule,
        bucket(the_plan.steps),
        the_plan.number("modifiers.noise_std") > 0,
        draws_mini_batches(the_plan.surface, the_plan.number("modifiers.batch_size")),
    )


class State(NamedTuple):
    """What a step carries to the next: w_k, the optimizer's state, the plateau state (or None)."""

    w: jax.Array
    opt_state: optax.OptState
    plateau: PlateauState | None


class Seen(NamedTuple):
    """What step k reports: w_k, L_k, the tested gradient ∇L_k + λ_w w_k, η_k and the update."""

    w: jax.Array
    loss: jax.Array
    grad: jax.Array
    lr: jax.Array
    update: jax.Array


Step = Callable[..., tuple[State, Seen, optax.OptState]]


def initial_state(kernel: Kernel, p: Numbers) -> State:
    """The state at w_0: the optimizer's initial state, the plateau's where it is scheduled."""
    w0 = jnp.stack([p["start"]["x"], p["start"]["y"]])
    plateau = plateau_init() if kernel.schedule.driven_by_loss else None
    return State(w0, kernel.optimizer.build(p["hyper"]).init(w0), plateau)


def stepper(kernel: Kernel, p: Numbers, order: jax.Array | None = None) -> Step:
    """`step(state, k, noise_k, rate)`: moves w_k to w_{k+1}; returns the new state, what it saw,
    and the optimizer's state after the step. `order` is the run's `batch_order` when batched.
    A given `rate` is η_k itself (the schedule, warmup and plateau cuts are then not used).
    A rule with `extra_args` gets value=L(w_k), grad=∇L(w_k) and value_fn=L of the objective
    stepped (the mini-batch's where batched; no noise, no clipping), rate=η_k and floor=f*."""
    surface, optimizer, schedule = kernel.surface, kernel.optimizer, kernel.schedule
    mods, warm = p["modifiers"], p["warmup"]
    tx = optimizer.build(p["hyper"])

    def objective(w: jax.Array) -> jax.Array:
        return surface.fn(w, p["surface"]) + 0.5 * mods["l2"] * (w @ w)

    value_and_grad = jax.value_and_grad(objective)
    samples = surface.samples if kernel.batched else None

    def batch_objective(w: jax.Array, weights: jax.Array) -> jax.Array:
        assert samples is not None
        return batch_loss(samples, w, weights, p["surface"]) + 0.5 * mods["l2"] * (w @ w)

    # A zero threshold is off: +∞ clips nothing, so the step needs no branch.
    clip_value = jnp.where(mods["clip_value"] > 0, mods["clip_value"], jnp.inf)
    clip_norm = jnp.where(mods["clip_norm"] > 0, mods["clip_norm"], jnp.inf)

    def scheduled(j: jax.Array) -> jax.Array:
        return schedule.fn(j, p["run"]["lr"], p["schedule"])

    def step(
        state: State, k: jax.Array, noise: jax.Array | None = None, rate: jax.Array | None = None
    ) -> tuple[State, Seen, optax.OptState]:
        w, opt_state, plateau = state
        loss, grad = value_and_grad(w)  # the full loss: what the run is graded and drawn by
        stepped: Callable[[jax.Array], jax.Array] = objective
        if samples is not None:
            assert order is not None
            size = samples.size
            weights = draw_batch_weights(order, size, mods["batch_size"], mods["batch_seed"], k)
            stepped = functools.partial(batch_objective, weights=weights)
        value, exact = (loss, grad) if samples is None else jax.value_and_grad(stepped)(w)
        g = exact if noise is None else exact + noise
        g = jnp.clip(g, -clip_value, clip_value)
        g = g * jnp.minimum(1.0, clip_norm / jnp.linalg.norm(g))
        lr = with_warmup(scheduled, k, warm["warmup_steps"], warm["warmup_start"])
        if rate is not None:
            lr = rate
        elif plateau is not None:  # a schedule driven by the loss
            plateau = plateau_update(plateau, loss, p["schedule"])
            lr = lr * plateau.scale
        extra = {"hessian": jax.hessian(stepped)(w)} if optimizer.needs_hessian else {}
        if optimizer.extra_args:  # the stepped objective, noise-free, and the run's own numbers
            extra |= {"value": value, "grad": exact, "value_fn": stepped}
            extra |= {"rate": lr, "floor": p["run"]["floor"]}
        direction, opt_state = tx.update(g, opt_state, w, **extra)
        update = -lr * (direction + mods["weight_decay"] * w)
        seen = Seen(w, loss, grad + mods["weight_decay"] * w, lr, update)
        return State(w + update, opt_state, plateau), seen, opt_state

    return step


def step_noise(kernel: Kernel, p: Numbers) -> jax.Array | None:
    """The seeded gradient noise of every step (scan inputs), or None when σ = 0 throughout."""
    if not kernel.noisy:
        return None
    mods = p["modifiers"]
    key = jax.random.key(mods["noise_seed"].astype(jnp.uint32))
    return mods["noise_std"] * jax.random.normal(key, (kernel.length, 2))


def run_order(kernel: Kernel, p: Numbers) -> jax.Array | None:
    """The run's data permutation for its mini-batches, or None when it takes full batches."""
    if not kernel.batched:
        return None
    assert kernel.surface.samples is not None
    return batch_order(kernel.surface.samples.size, p["modifiers"]["batch_seed"])
