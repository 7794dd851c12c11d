"""The compiled programs: jitted `lax.scan`s of the engine's step, one per `Kernel`.

    trajectory_fn   every step recorded (a table per run): `run`, `run_batch`
    summary_fn      only a `Watch` kept per row, rows vmapped in chunks: `summarize`
    rates_fn        η_k given per step: `run_with_rates` (the LR range test)

Each is cached in `common.cache.compiled_cache` by its kernel (surface, optimizer, schedule,
step bucket, noise, mini-batching); every number is traced, so a new number compiles nothing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.cache import compiled_cache
from optimizers.engine.config import DIVERGENCE_RADIUS
from optimizers.engine.plan import layout_of, unpack
from optimizers.engine.stepper import (
    Kernel,
    Seen,
    State,
    initial_state,
    run_order,
    step_noise,
    stepper,
)
from optimizers.specs import OptimizerSpec
from surfaces import Surface


def box_geometry(surface: Surface) -> tuple[np.ndarray, float]:
    """The box centre and the divergence radius around it (DIVERGENCE_RADIUS half-diagonals)."""
    x0, x1, y0, y1 = surface.box
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    return centre, DIVERGENCE_RADIUS * math.hypot(x1 - x0, y1 - y0) / 2


class Watch(NamedTuple):
    """What is kept of a run's steps k ≤ n as they go by, to grade it without its record.

    `diverged` is the first step that escaped (left the finite numbers or the divergence radius)
    and `finite` whether that step's values are finite; `converged` is the first step before it
    that settled (the test of `Tolerances`); −1 for none.
    `best`, `last_loss` and `last_w` cover the steps before the escape.
    """

    diverged: jax.Array
    converged: jax.Array
    finite: jax.Array
    best: jax.Array
    last_loss: jax.Array
    last_w: jax.Array


def _watch(w0: jax.Array) -> Watch:
    never = jnp.asarray(-1, dtype=jnp.int64)
    return Watch(never, never, jnp.asarray(True), jnp.asarray(jnp.inf), jnp.asarray(jnp.inf), w0)


def _watched(
    watch: Watch, seen: Seen, k: jax.Array, n: jax.Array, surface: Surface, tol: jax.Array
) -> Watch:
    centre, radius = box_geometry(surface)
    w, loss, grad = seen.w, seen.loss, seen.grad
    finite = jnp.isfinite(loss) & jnp.all(jnp.isfinite(grad)) & jnp.all(jnp.isfinite(w))
    escaped = ~finite | (jnp.linalg.norm(w - centre) > radius)
    settled = (jnp.linalg.norm(grad) <= tol[0]) & (jnp.linalg.norm(seen.update) <= tol[1])
    watching = (k <= n) & (watch.diverged < 0)
    escapes, ok = watching & escaped, watching & ~escaped
    return Watch(
        diverged=jnp.where(escapes, k, watch.diverged),
        converged=jnp.where(ok & settled & (watch.converged < 0), k, watch.converged),
        finite=jnp.where(escapes, finite, watch.finite),
        best=jnp.where(ok, jnp.minimum(watch.best, loss), watch.best),
        last_loss=jnp.where(ok, loss, watch.last_loss),
        last_w=jnp.where(ok, w, watch.last_w),
    )


@functools.cache
def state_names(optimizer: OptimizerSpec) -> tuple[str, ...]:
    """The keys of `show_state`, sorted as pytrees order them."""
    hyper = {spec.name: jnp.float64(spec.default) for spec in optimizer.hyper}
    shown = jax.eval_shape(lambda: optimizer.show_state(optimizer.build(hyper).init(jnp.zeros(2))))
    return tuple(sorted(shown))


class Columns(NamedTuple):
    """Where each record lies in a row of the trajectory kernel's table (one row per step)."""

    positions: slice = slice(0, 2)
    loss: int = 2
    grad: slice = slice(3, 5)
    grad_norm: int = 5
    lr: int = 6
    update: slice = slice(7, 9)
    effective_lr: slice = slice(9, 11)
    diverged: int = 11  # these three hold the `Watch` so far: read at row n, they grade the run
    converged: int = 12
    finite: int = 13
    state: int = 14  # then two columns per entry of `show_state`, in `state_names` order


COLUMNS = Columns()


@compiled_cache
def trajectory_fn(kernel: Kernel) -> Callable[[np.ndarray, int, np.ndarray], jax.Array]:
    """The jitted scan over the kernel's length: a table for each of the first `count` rows of
    numbers (zeros for the padding). Rows run one after another, not vmapped, so that a row's
    numbers are the same bits whatever batch it comes in."""
    layout = layout_of(kernel.surface, kernel.optimizer, kernel.schedule)
    names = state_names(kernel.optimizer)

    def simulate(numbers: jax.Array, tol: jax.Array) -> jax.Array:
        p = unpack(layout, numbers)
        noise = step_noise(kernel, p)
        order = run_order(kernel, p)

        def body(
            carry: tuple[jax.Array, State, Watch], noise_k: jax.Array | None
        ) -> tuple[tuple[jax.Array, State, Watch], jax.Array]:
            k, state, watch = carry
            # The numbers enter every step past a barrier. Hoisted out of the loop, each value
            # derived from them would be an op of its own, which XLA:CPU dispatches separately
            # at a few µs each: together, as much time as a thousand steps.
            numbers_k, tol_k, _ = jax.lax.optimization_barrier((numbers, tol, k))
            p_k = unpack(layout, numbers_k)
            state, seen, opt_state = stepper(kernel, p_k, order)(state, k, noise_k)
            watch = _watched(watch, seen, k, p_k["run"]["steps"], kernel.surface, tol_k)
            shown = kernel.optimizer.show_state(opt_state)
            effective = jnp.where(seen.grad != 0, -seen.update / seen.grad, 0.0)
            row = [seen.w, seen.loss, seen.grad, jnp.linalg.norm(seen.grad), seen.lr, seen.update]
            row += [effective, watch.diverged, watch.converged, watch.finite]
            row += [shown[name] for name in names]
            # One packed row per step: the scan writes each of its outputs separately.
            packed = jnp.concatenate([jnp.ravel(x).astype(float) for x in row])
            return (k + 1, state, watch), packed

        state = initial_state(kernel, p)
        carry = (jnp.asarray(0, dtype=jnp.int64), state, _watch(state.w))
        return jax.lax.scan(body, carry, noise, length=kernel.length)[1]

    def simulate_rows(rows: jax.Array, count: jax.Array, tol: jax.Array) -> jax.Array:
        if len(rows) == 1:  # the usual `run`: no loop over rows
            return simulate(rows[0], tol)[None]
        shape = (kernel.length, COLUMNS.state + 2 * len(names))

        def table(i: jax.Array, numbers: jax.Array) -> jax.Array:
            return jax.lax.cond(i < count, lambda: simulate(numbers, tol), lambda: jnp.zeros(shape))

        return jax.lax.map(lambda args: table(*args), (jnp.arange(len(rows)), rows))

    return jax.jit(simulate_rows)


@compiled_cache
def summary_fn(
    kernel: Kernel, varying: tuple[int, ...]
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], Watch]:
    """A jitted scan that keeps a `Watch` per row only, over chunks of rows of `varying` numbers.

    The other numbers are shared by every row and stay scalars, so what depends on them alone
    (Adam's βᵗ, a schedule's shape) is computed once per step, not once per row. A row runs on
    after its escape, unwatched, rather than freezing its state.
    """
    layout = layout_of(kernel.surface, kernel.optimizer, kernel.schedule)

    def simulate(shared: jax.Array, values: jax.Array, tol: jax.Array) -> Watch:
        numbers = list(shared)
        for j, i in enumerate(varying):
            numbers[i] = values[j]
        p = unpack(layout, numbers)
        step, n = stepper(kernel, p, run_order(kernel, p)), p["run"]["steps"]

        def body(
            carry: tuple[State, Watch], inputs: tuple[jax.Array, jax.Array | None]
        ) -> tuple[tuple[State, Watch], None]:
            (state, watch), (k, noise_k) = carry, inputs
            state, seen, _ = step(state, k, noise_k)
            return (state, _watched(watch, seen, k, n, kernel.surface, tol)), None

        state = initial_state(kernel, p)
        inputs = (jnp.arange(kernel.length), step_noise(kernel, p))
        return jax.lax.scan(body, (state, _watch(state.w)), inputs)[0][1]

    batched = jax.vmap(simulate, in_axes=(None, 0, None))

    def chunked(shared: jax.Array, chunks: jax.Array, tol: jax.Array) -> Watch:
        watches = jax.lax.map(lambda values: batched(shared, values, tol), chunks)
        return jax.tree.map(lambda a: a.reshape(-1, *a.shape[2:]), watches)

    return jax.jit(chunked)


@compiled_cache
def rates_fn(kernel: Kernel) -> Callable[[np.ndarray, np.ndarray], tuple[jax.Array, jax.Array]]:
    """The jitted scan of the engine's step with η_k given per step: (w_0 … w_N, L_0 … L_{N−1})."""
    layout = layout_of(kernel.surface, kernel.optimizer, kernel.schedule)

    def simulate(numbers: jax.Array, rates: jax.Array) -> tuple[jax.Array, jax.Array]:
        p = unpack(layout, numbers)
        noise = step_noise(kernel, p)
        step = stepper(kernel, p, run_order(kernel, p))

        def body(
            carry: tuple[jax.Array, State], inputs: tuple[jax.Array, jax.Array | None]
        ) -> tuple[tuple[jax.Array, State], tuple[jax.Array, jax.Array]]:
            k, state = carry
            rate, noise_k = inputs
            state, seen, _ = step(state, k, noise_k, rate)
            return (k + 1, state), (seen.w, seen.loss)

        inputs = (rates, None if noise is None else noise[: rates.shape[0]])
        carry = (jnp.asarray(0, dtype=jnp.int64), initial_state(kernel, p))
        (_, last), (ws, losses) = jax.lax.scan(body, carry, inputs)
        return jnp.concatenate([ws, last.w[None]]), losses

    return jax.jit(simulate)
