"""The engine's entry points: `run`, `run_batch`, `summarize`, `run_with_rates`.

Each validates its configurations (`plan`), groups them by compiled function (`Kernel`) and
calls the cached program once per group. Every entry point needs JAX in float64
(`common.runtime.configure_jax`) and raises ValueError otherwise, rather than silently run in
float32.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import jax
import numpy as np

from common.runtime import require_x64
from optimizers.engine.config import SUMMARY_CHUNK, RunConfig, Tolerances
from optimizers.engine.grading import graded
from optimizers.engine.kernels import rates_fn, summary_fn, trajectory_fn
from optimizers.engine.minibatch import draws_mini_batches
from optimizers.engine.plan import FLOOR, plan
from optimizers.engine.results import Summary, Trajectory
from optimizers.engine.stepper import Kernel, kernel_of


class CancelledError(Exception):
    """A computation stopped between two chunks because its caller no longer wants it."""


def mini_batched(config: RunConfig) -> bool:
    """Whether the run's gradients come from true mini-batches (0 < batch size < data size)."""
    return kernel_of(plan(config)).batched


def stochastic(config: RunConfig) -> bool:
    """Whether the run's gradients are random draws: noise σ > 0 or true mini-batches."""
    kernel = kernel_of(plan(config))
    return kernel.noisy or kernel.batched


def _padded(rows: np.ndarray) -> np.ndarray:
    """Rows padded (repeating the last) to a power of two, so batch sizes rarely recompile;
    the trajectory kernel skips the padding."""
    size = 1 << (len(rows) - 1).bit_length()
    if size == len(rows):
        return rows
    return np.vstack([rows, np.repeat(rows[-1:], size - len(rows), axis=0)])


@functools.cache
def _tolerances(tol: Tolerances) -> np.ndarray:
    return np.array([tol.grad, tol.step], dtype=np.float64)


def run_batch(configs: Sequence[RunConfig]) -> list[Trajectory]:
    """Run several configurations; those that share surface, optimizer and schedule share a call.

    Args:
        configs: the runs, in any mix of surfaces, rules, schedules and step counts.

    Returns:
        One `Trajectory` per configuration, in their order; the same as `run` of each.

    Raises:
        ValueError: for an invalid configuration (see `plan`), or JAX not in float64.

    >>> runs = run_batch([RunConfig("bowl", "gd", lr=lr, steps=20) for lr in (0.5, 2.5)])
    >>> [t.status.outcome for t in runs]
    ['max_steps', 'diverged']
    """
    require_x64()
    plans = [plan(c) for c in configs]
    done: dict[int, Trajectory] = {}
    groups: dict[Kernel, list[int]] = {}
    for i, p in enumerate(plans):
        groups.setdefault(kernel_of(p), []).append(i)
    for kernel, members in groups.items():
        rows = _padded(np.array([plans[i].numbers for i in members]))
        fn = trajectory_fn(kernel)
        # Tolerances are traced numbers too; members with different ones take a call each.
        for tol in dict.fromkeys(configs[i].tol for i in members):
            tables = np.asarray(fn(rows, len(members), _tolerances(tol)))
            for row, i in enumerate(members):
                if configs[i].tol == tol:
                    done[i] = graded(plans[i], tables[row])
    return [done[i] for i in range(len(plans))]


def run(config: RunConfig) -> Trajectory:
    """Run one configuration: positions, losses, gradients, rates, updates, state, status.

    Args:
        config: the run; unset numbers take their specs' defaults.

    Returns:
        The `Trajectory` w_0 … w_n, cut at a divergence, with its `Status`.

    Raises:
        ValueError: naming the field, for an invalid configuration (see `plan`), or where JAX
            is not in float64.

    Gradient descent on the bowl ½‖w‖² at η = 0.5 halves w each step:

    >>> t = run(RunConfig("bowl", "gd", lr=0.5, steps=20, start=(1.0, -2.0)))
    >>> t.positions[1].tolist(), t.status.outcome, len(t.lr)
    ([0.5, -1.0], 'max_steps', 20)
    """
    require_x64()
    the_plan = plan(config)  # what `run_batch([config])[0]` does, without its grouping
    rows = the_plan.numbers[None]
    tables = trajectory_fn(kernel_of(the_plan))(rows, 1, _tolerances(config.tol))
    return graded(the_plan, np.asarray(tables)[0])


def run_with_rates(config: RunConfig, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`config` run by the engine's own step (mini-batches, noise, clipping, decay) for
    N = len(rates) steps with η_k = rates[k] (the schedule and warmup are not used).

    Returns:
        Positions w_0 … w_N and losses L(w_0) … L(w_{N−1}); noise and batches as in a run of
        N steps. Nothing is cut: non-finite values stay.

    Raises:
        ValueError: for an invalid configuration, or JAX not in float64.
    """
    require_x64()
    the_plan = plan(replace(config, steps=len(rates)))
    rates = np.asarray(rates, dtype=np.float64)
    positions, losses = rates_fn(kernel_of(the_plan))(the_plan.numbers, rates)
    return np.asarray(positions), np.asarray(losses)


def _columns(grid: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The grid as one column of values per number ("start" split into start.x, start.y)."""
    columns: dict[str, np.ndarray] = {}
    for name, given in grid.items():
        values = np.asarray(given, dtype=np.float64)
        if name == "start":
            if values.ndim != 2 or values.shape[1] != 2:
                raise ValueError(f"grid 'start' must have shape (K, 2), got {values.shape}")
            columns["start.x"], columns["start.y"] = values[:, 0], values[:, 1]
        else:
            columns[name] = values
    return columns


def summarize(
    config: RunConfig,
    grid: Mapping[str, np.ndarray],
    cancelled: Callable[[], bool] | None = None,
) -> Summary:
    """Run K variants of `config` at once, keeping only final/best loss and event steps.

    Args:
        config: the base run; the grid replaces some of its numbers per variant.
        grid: numbers of the configuration → arrays of K values: "lr", "start" (K × 2), or
            "group.name" for a parameter, e.g. "hyper.beta", "schedule.gamma",
            "surface.kappa", "modifiers.clip_norm", "warmup.warmup_steps".
        cancelled: asked before each chunk of SUMMARY_CHUNK rows after the first whether the
            caller has given up; True (or an exception it raises) stops the work there.

    Returns:
        A `Summary` with one entry per variant, as `run` would grade each.

    Raises:
        ValueError: for an invalid configuration, a number that cannot vary or values outside
            its range, grid entries of different lengths, or JAX not in float64.
        CancelledError: when `cancelled()` said so; nothing of the work is returned.

    >>> summary = summarize(RunConfig("bowl", "gd", steps=20), {"lr": np.array([0.5, 2.5])})
    >>> summary.diverged_step.tolist()
    [-1, 13]
    """
    require_x64()
    base = plan(config)
    columns = _columns(grid)
    sizes = {len(v) for v in columns.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError("every grid entry must hold the same positive number of values")
    for name, values in columns.items():
        if name not in base.layout or name in ("steps", FLOOR):
            variable = ", ".join(n for n in base.layout if n not in ("steps", FLOOR))
            raise ValueError(f"cannot vary {name!r}; it can be one of: {variable}")
        low, high = base.bounds(name)
        if not (np.isfinite(values).all() and (values >= low).all() and (values <= high).all()):
            raise ValueError(f"grid values for {name!r} must lie in [{low:g}, {high:g}]")
    varying = tuple(base.position(name) for name in columns)
    noise_std = columns.get("modifiers.noise_std", base.number("modifiers.noise_std"))
    batch_size = columns.get("modifiers.batch_size", base.number("modifiers.batch_size"))
    kernel = kernel_of(base)._replace(
        noisy=bool(np.any(np.asarray(noise_std) > 0)),
        batched=draws_mini_batches(base.surface, batch_size),
    )
    values = np.stack(list(columns.values()), axis=1)
    chunks = chunked(values)
    fn, tol = summary_fn(kernel, varying), _tolerances(config.tol)
    parts = []
    for i in range(len(chunks)):
        if i and cancelled is not None and cancelled():
            raise CancelledError(f"stopped after {i} of {len(chunks)} chunks")
        parts.append(jax.tree.map(np.asarray, fn(base.numbers, chunks[i : i + 1], tol)))
    w = jax.tree.map(lambda *a: np.concatenate(a)[: len(values)], *parts)
    return Summary(w.last_loss, w.best, w.converged, w.diverged, w.last_w)


def summary_chunks(count: int) -> tuple[int, int]:
    """(chunks, rows per chunk) that `summarize` scans for `count` rows: whole chunks of
    SUMMARY_CHUNK rows, or one chunk of a power of two when fewer (so that row counts rarely
    recompile). The kernel runs one chunk after another, so that a chunk's running state stays
    in cache."""
    size = min(SUMMARY_CHUNK, 1 << (count - 1).bit_length())
    return -(-count // size), size


def chunked(rows: np.ndarray) -> np.ndarray:
    """Rows padded (repeating the last) to the `summary_chunks` of their count, chunk by chunk."""
    count, size = summary_chunks(len(rows))
    padded = np.vstack([rows, np.repeat(rows[-1:], count * size - len(rows), axis=0)])
    return padded.reshape(count, size, rows.shape[1])
