"""The trajectory engine: one jitted `lax.scan` per (surface, optimizer, schedule, step bucket).

    config      RunConfig, Tolerances, MODIFIERS and the engine's limits
    plan        a configuration validated and resolved into a typed `Plan` of float64 numbers
    minibatch   which data points each step's gradient sees
    stepper     one step, w_k → w_{k+1} (the formula is there)
    kernels     the compiled scans, cached by kernel
    grading     a kernel's table → a `Trajectory` with its `Status`
    api         run, run_batch, summarize, run_with_rates

Every entry point needs JAX in float64: call `common.runtime.configure_jax()` first.
"""

from optimizers.engine.api import (
    CancelledError,
    mini_batched,
    run,
    run_batch,
    run_with_rates,
    stochastic,
    summarize,
)
from optimizers.engine.config import (
    DIVERGENCE_RADIUS,
    FROZEN_RATE,
    MAX_BATCH,
    MAX_STEPS,
    MODIFIERS,
    SUMMARY_CHUNK,
    THROWN_OUT,
    RunConfig,
    Tolerances,
    bucket,
)
from optimizers.engine.grading import box_exit, escape_path
from optimizers.engine.minibatch import batch_order, batch_weights, minibatch_gradient
from optimizers.engine.plan import FLOOR, Plan, find_spec, param_groups, plan
from optimizers.engine.results import Escape, Outcome, Status, Summary, Trajectory

__all__ = [
    "DIVERGENCE_RADIUS",
    "FLOOR",
    "FROZEN_RATE",
    "MAX_BATCH",
    "MAX_STEPS",
    "MODIFIERS",
    "SUMMARY_CHUNK",
    "THROWN_OUT",
    "CancelledError",
    "Escape",
    "Outcome",
    "Plan",
    "RunConfig",
    "Status",
    "Summary",
    "Tolerances",
    "Trajectory",
    "batch_order",
    "batch_weights",
    "box_exit",
    "bucket",
    "escape_path",
    "find_spec",
    "mini_batched",
    "minibatch_gradient",
    "param_groups",
    "plan",
    "run",
    "run_batch",
    "run_with_rates",
    "stochastic",
    "summarize",
]
