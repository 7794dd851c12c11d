"""What a request costs before it runs: an estimate of its CPU seconds here, and a budget.

A request scans rows (configurations) × steps, and each row-step costs what its surface and rule
cost. The scan's padding counts: steps run to the bucket of the step count (a power of two
above it), and the rows of `summarize` in whole chunks of SUMMARY_CHUNK.

    seconds ≈ rows_scanned × steps_scanned × t_step
    t_step    = base + t_surface × (HESSIAN_FACTOR if the rule is Newton)
    t_surface = point × n × (batch if mini-batched)      a surface with n data points
              | node × nodes + call × calls              a typed formula
              | analytic                                 a built-in formula

with the constants of the kernel (KERNELS): "summary" (sweeps, maps, basins: rows vmapped in
chunks, only a summary kept) or "trajectory" (a race run or the range test: one row, every step
recorded). The constants were measured with `make bench` (bench/run.py prints the estimate
beside the measurement for every request type at the budget's limit) on the 2-core machine this
app is sized for.

A request whose program is not compiled yet also pays its compilation, once (0.15–2 s here):

    compile ≈ (base + data if the surface has data points + batched if mini-batched
               + node × nodes of a typed formula)
              × (COMPILE_HESSIAN if the rule is Newton)

with the constants of the program (COMPILES: the trajectory scan of a run, the summary scan of
`summarize`, the range test's scan of given rates), measured as the first call's CPU seconds
less the second's (0 when the engine's cache of compiled functions already holds the program).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, NamedTuple

from common.cache import compiled_cache
from optimizers.engine import RunConfig, bucket, mini_batched, plan
from optimizers.engine.api import summary_chunks
from optimizers.engine.kernels import rates_fn, summary_fn, trajectory_fn
from optimizers.engine.stepper import kernel_of
from surfaces.base import Surface
from surfaces.formula import Binary, Call, Negate, parse

Kernel = Literal["summary", "trajectory"]

# CPU seconds one request may take here; a host may set another with DESCENT_LAB_BUDGET_SECONDS.
BUDGET_SECONDS = float(os.environ.get("DESCENT_LAB_BUDGET_SECONDS", "2"))


class Constants(NamedTuple):
    """A kernel's measured costs, in nanoseconds per row-step (see the module's formula)."""

    base: float  # the step itself: the rule, the schedule, the watch or the record
    analytic: float  # f and ∇f of a built-in formula
    point: float  # per data point of the loss and its gradient
    batch: float  # × for a mini-batch step (the full loss and the batch's gradient)
    node: float  # per node of a typed formula (number, variable, operator)
    call: float  # per function call (sin, exp, …) of a typed formula


KERNELS: dict[Kernel, Constants] = {
    "summary": Constants(base=12.0, analytic=8.0, point=1.8, batch=1.25, node=4.0, call=70.0),
    "trajectory": Constants(base=250.0, analytic=4.0, point=1.6, batch=2.6, node=2.0, call=35.0),
}
HESSIAN_FACTOR = 1.2  # Newton's step also takes the Hessian (XLA shares most of the work)

Program = Literal["trajectory", "summary", "rates"]


class CompileConstants(NamedTuple):
    """A program's measured compilation, in CPU seconds (see the module's formula)."""

    base: float  # a built-in surface with any first-order rule
    data: float  # added by a surface of data points
    batched: float  # added by mini-batch sampling (the batch weights drawn per step)
    node: float  # per node of a typed formula


COMPILES: dict[Program, CompileConstants] = {
    "trajectory": CompileConstants(base=0.17, data=0.09, batched=0.5, node=0.0009),
    "summary": CompileConstants(base=0.45, data=0.25, batched=0.75, node=0.003),
    "rates": CompileConstants(base=0.22, data=0.14, batched=0.45, node=0.0008),
}
COMPILE_HESSIAN = 1.5  # Newton's program also holds the Hessian
COMPILE_ALLOWANCE = 3.0  # s of first-call compilation a request may add to its budget
# The engine's function that compiles each program (entries of `compiled_cache`, keyed by kernel).
_PROGRAM_FNS: dict[Program, Callable[..., object]] = {
    "trajectory": trajectory_fn,
    "summary": summary_fn,
    "rates": rates_fn,
}


class Estimate(NamedTuple):
    """A request's estimated CPU seconds here, and what the request is ("this map");
    `compile` is the part of `seconds` that a first call spends compiling (0 when warm)."""

    seconds: float
    what: str
    compile: float = 0.0


def formula_size(text: str) -> tuple[int, int]:
    """(nodes, calls) of a formula's tree: every number, variable, constant, operator and call;
    calls are the function applications among them."""
    nodes = calls = 0
    stack = [parse(text, limit=None)]  # a recipe's canonical text may exceed the typed limit
    while stack:
        node = stack.pop()
        nodes += 1
        if isinstance(node, Call):
            calls += 1
            stack.extend(node.args)
        elif isinstance(node, Binary):
            stack += [node.left, node.right]
        elif isinstance(node, Negate):
            stack.append(node.operand)
    return nodes, calls


def surface_ns(surface: Surface, kernel: Kernel, batched: bool = False) -> float:
    """t_surface: nanoseconds of `surface`'s loss and gradient per row-step of `kernel`."""
    constants = KERNELS[kernel]
    if surface.samples is not None:
        return constants.point * surface.samples.size * (constants.batch if batched else 1.0)
    if surface.recipe is not None and surface.recipe[0] == "formula":
        nodes, calls = formula_size(str(surface.recipe[1]))
        return constants.node * nodes + constants.call * calls
    return constants.analytic


def step_ns(config: RunConfig, kernel: Kernel) -> float:
    """t_step: nanoseconds of one row-step of `config` in `kernel`."""
    the_plan = plan(config)
    hessian = HESSIAN_FACTOR if the_plan.optimizer.needs_hessian else 1.0
    surface = surface_ns(the_plan.surface, kernel, mini_batched(config))
    return KERNELS[kernel].base + surface * hessian


def compiled(config: RunConfig, program: Program) -> bool:
    """Whether the engine's cache of compiled functions holds `program` for `config`'s kernel
    (its surface, rule, schedule, bucket of steps, noise and mini-batching)."""
    kernel = kernel_of(plan(config))
    return compiled_cache.holds(_PROGRAM_FNS[program], kernel)


def compile_seconds(config: RunConfig, program: Program) -> float:
    """CPU seconds a first call of `program` for `config` spends compiling; 0 when compiled."""
    if compiled(config, program):
        return 0.0
    constants, the_plan = COMPILES[program], plan(config)
    seconds = constants.base + (constants.batched if mini_batched(config) else 0.0)
    if the_plan.surface.samples is not None:
        seconds += constants.data
    if the_plan.surface.recipe is not None and the_plan.surface.recipe[0] == "formula":
        seconds += constants.node * formula_size(str(the_plan.surface.recipe[1]))[0]
    return seconds * (COMPILE_HESSIAN if the_plan.optimizer.needs_hessian else 1.0)


def summary_rows(count: int) -> int:
    """Rows `summarize` scans for `count` configurations (see `engine.api.summary_chunks`)."""
    chunks, size = summary_chunks(count)
    return chunks * size


def summary_seconds(config: RunConfig, count: int, what: str) -> Estimate:
    """`count` variants of `config` through `summarize` (sweep, map, basins)."""
    steps = bucket(plan(config).steps)
    compile = compile_seconds(config, "summary")
    work = summary_rows(count) * steps * step_ns(config, "summary") * 1e-9
    return Estimate(work + compile, what, compile)


def sweep_seconds(config: RunConfig, rates: int) -> Estimate:
    return summary_seconds(config, rates, "this sweep")


def map_seconds(config: RunConfig, cells: int) -> Estimate:
    return summary_seconds(config, cells * cells, "this map")


def basin_seconds(config: RunConfig, cells: int) -> Estimate:
    return summary_seconds(config, cells * cells, "this basin map")


def range_seconds(config: RunConfig, steps: int) -> Estimate:
    """The range test: one run of `steps` steps, every step recorded."""
    compile = compile_seconds(replace(config, steps=steps), "rates")
    work = steps * step_ns(config, "trajectory") * 1e-9
    return Estimate(work + compile, "this range test", compile)


def race_seconds(configs: Sequence[RunConfig]) -> Estimate:
    """Every run of a race, one after another (each its own scan of the bucketed steps), and
    the compilation of each kernel among them not compiled yet (once per kernel)."""
    work = sum(bucket(plan(c).steps) * step_ns(c, "trajectory") for c in configs) * 1e-9
    kernels = {kernel_of(plan(c)): c for c in configs}
    compile = sum(compile_seconds(c, "trajectory") for c in kernels.values())
    return Estimate(work + compile, "this race", compile)


def fits(estimate: Estimate) -> bool:
    """Whether `estimate` is within BUDGET_SECONDS of work, plus at most COMPILE_ALLOWANCE of
    compilation: that is paid once per program and then serves every request and visitor, so
    counting it against the budget would refuse a cold program for ever (Newton on mini-batched
    data compiles for ~2.2 s)."""
    work = estimate.seconds - estimate.compile
    return work <= BUDGET_SECONDS and estimate.compile <= COMPILE_ALLOWANCE


def largest_fitting(cost: Callable[[int], Estimate], low: int, high: int) -> int | None:
    """The largest whole v in [low, high] whose `cost(v)` fits the budget (cost grows with v);
    None when not even `low` fits."""
    if not fits(cost(low)):
        return None
    while low < high:  # invariant: cost(low) fits
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(cost(middle)) else (low, middle - 1)
    return low


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{math.ceil(value):,} s"


def refusal(estimate: Estimate, remedies: str) -> str | None:
    """None when `estimate` fits the budget; else the sentence that refuses it, "This map would
    take about 40 s here (the limit is 2 s): " followed by `remedies` ("fewer cells per side or
    fewer steps.")."""
    if fits(estimate):
        return None
    return (
        f"{estimate.what[0].upper()}{estimate.what[1:]} would take about "
        f"{_seconds(estimate.seconds)} here (the limit is {_seconds(BUDGET_SECONDS)}): {remedies}"
    )


def _remedies(config: RunConfig, *options: str) -> str:
    """ "fewer a, fewer b, or fewer data points.": `options`, then the surface's own remedy
    (fewer data points, a shorter formula) where it has one."""
    surface = plan(config).surface
    if surface.samples is not None:
        options += ("fewer data points",)
    elif surface.recipe is not None and surface.recipe[0] == "formula":
        options += ("a shorter formula",)
    if len(options) == 1:
        return f"{options[0]}."
    return f"{', '.join(options[:-1])} or {options[-1]}."


def _steps_that_fit(cost_of: Callable[[RunConfig], Estimate], config: RunConfig) -> int | None:
    """The most steps (up to the configuration's own) at which `cost_of` fits the budget."""
    return largest_fitting(lambda s: cost_of(replace(config, steps=s)), 1, plan(config).steps)


def grid_refusal(
    config: RunConfig,
    count: int,
    low: int,
    cost_of: Callable[[RunConfig, int], Estimate],
    noun: str,
) -> str | None:
    """None when `cost_of(config, count)` fits; else the refusal, with the largest count in
    [low, count] that fits at these steps, or (when not even `low` does) the most steps that
    fit at `low`. `noun` names the count ("rates", "cells per side")."""
    message = refusal(cost_of(config, count), _remedies(config, f"fewer {noun}", "fewer steps"))
    if message is None:
        return None
    steps = plan(config).steps
    best = largest_fitting(lambda n: cost_of(config, n), low, count)
    if best is not None:
        return f"{message} At {steps:,} steps, up to {best:,} {noun} fit."
    most = _steps_that_fit(lambda c: cost_of(c, low), config)
    if most is None:
        return f"{message} Even {low:,} {noun} at 1 step are over the limit."
    return f"{message} With {low:,} {noun}, up to {most:,} steps fit."


def race_refusal(configs: Sequence[RunConfig]) -> str | None:
    """None when the race fits; else the refusal with the most steps at which it fits."""
    if not configs:
        return None
    message = refusal(race_seconds(configs), _remedies(configs[0], "fewer steps", "fewer runs"))
    if message is None:
        return None
    most = largest_fitting(
        lambda s: race_seconds([replace(c, steps=s) for c in configs]),
        1,
        max(plan(c).steps for c in configs),
    )
    return message if most is None else f"{message} These runs fit at up to {most:,} steps."


def range_refusal(config: RunConfig, steps: int, low: int) -> str | None:
    """None when a range test of `steps` steps fits; else the refusal with the most steps (at
    least `low`) that fit."""
    message = refusal(range_seconds(config, steps), _remedies(config, "fewer steps"))
    if message is None:
        return None
    most = largest_fitting(lambda n: range_seconds(config, n), low, steps)
    return message if most is None else f"{message} Up to {most:,} steps fit."
