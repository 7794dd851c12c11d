"""The cost model against the machine: each request type at the largest setting the budget lets
through (its count at the cap, the steps that fit), on three kinds of surface; the compile model
against first calls of programs never compiled before; and the CPU time to build the worst custom
formulas. `python -m bench.run budget` prints all three."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np

from optimizers import analysis, cost, engine
from optimizers.engine import MAX_STEPS, RunConfig, run_batch, summarize
from surfaces import Surface, get_surface
from surfaces.dataset import Points, data_surface
from surfaces.formula import MAX_LENGTH, formula_surface

ESTIMATE_TOLERANCE = 2.0  # the estimate within this factor of the measured CPU time


def budget_surfaces() -> dict[str, tuple[Surface, dict[str, float]]]:
    """A built-in surface, 500 data points with a mini-batch of 7, a 500-character formula."""
    x = np.random.default_rng(0).normal(size=500)
    points = Points(tuple(x), tuple(2 * x + 1 + 0.3 * np.sin(7 * x)))
    terms = "+".join(f"sin({i}*x)*cos(y-{i})" for i in range(1, 30))[:480].rsplit("+", 1)[0]
    return {
        "rosenbrock": (get_surface("rosenbrock"), {}),
        "data 500, batch 7": (data_surface(points), {"batch_size": 7.0}),
        f"formula {len(terms)} chars": (formula_surface(terms), {}),
    }


def _at_budget(
    count_cap: int, estimate: Callable[[int, int], cost.Estimate], per_side: bool = False
) -> tuple[int, int]:
    """(count, steps): the cap's count with the most steps that fit the budget (and the engine's
    MAX_WORK; count² variants when `per_side`), else 1 step with the most count that fits."""
    most = min(MAX_STEPS, analysis.MAX_WORK // (count_cap**2 if per_side else count_cap))
    steps = cost.largest_fitting(lambda s: estimate(count_cap, s), 1, most)
    if steps is not None:
        return count_cap, steps
    count = cost.largest_fitting(lambda n: estimate(n, 1), 2, count_cap)
    return (count or 2), 1


Request = tuple[str, cost.Estimate, Callable[[], object]]


def _surface_requests(label: str, surface: Surface, mods: dict[str, float]) -> list[Request]:
    """Map, sweep (Newton), basins, range test and a six-run race on one surface."""

    def config(steps: int, optimizer: str = "gd", lr: float = 1e-3) -> RunConfig:
        return RunConfig(surface, optimizer, lr=lr, steps=steps, modifiers=mods)

    requests: list[Request] = []
    cells, steps = _at_budget(200, lambda n, s: cost.map_seconds(config(s), n), True)
    values = np.geomspace(1e-3, 1e3, cells)
    requests.append(
        (
            f"map {cells}² × {steps} steps, {label}",
            cost.map_seconds(config(steps), cells),
            partial(analysis.stability_map, config(steps), values * 1e-3, "clip_norm", values),
        )
    )
    rates, steps = _at_budget(4000, lambda n, s: cost.sweep_seconds(config(s, "newton"), n))
    requests.append(
        (
            f"sweep {rates} × {steps} steps (Newton), {label}",
            cost.sweep_seconds(config(steps, "newton"), rates),
            partial(analysis.lr_sweep, config(steps, "newton"), np.geomspace(1e-3, 1.0, rates)),
        )
    )
    cells, steps = _at_budget(300, lambda n, s: cost.basin_seconds(config(s), n), True)
    requests.append(
        (
            f"basins {cells}² × {steps} steps, {label}",
            cost.basin_seconds(config(steps), cells),
            partial(analysis.basin_map, config(steps), cells),
        )
    )
    steps = cost.largest_fitting(lambda n: cost.range_seconds(config(1), n), 10, 5000) or 10
    requests.append(
        (
            f"range test {steps} steps, {label}",
            cost.range_seconds(config(1), steps),
            partial(analysis.range_test, config(1), 1e-6, 1.0, steps),
        )
    )
    most = cost.largest_fitting(lambda s: cost.race_seconds([config(s)] * 6), 1, MAX_STEPS)
    race = [config(most or 1, lr=1e-3 * (k + 1)) for k in range(6)]
    requests.append(
        (f"race 6 × {most} steps, {label}", cost.race_seconds(race), partial(run_batch, race))
    )
    return requests


def budget_requests() -> list[Request]:
    """Every request type on every surface of `budget_surfaces`."""
    return [
        request
        for label, (surface, mods) in budget_surfaces().items()
        for request in _surface_requests(label, surface, mods)
    ]


def cold_surfaces(tag: int) -> dict[str, Surface]:
    """A typed formula and a data set that no other caller builds (`tag` makes them new), so the
    programs that run on them are not compiled yet."""
    x = np.random.default_rng(tag).normal(size=300)
    terms = "+".join(f"sin({i}*x)*cos(y-{i})" for i in range(1, 12))
    return {
        "formula": formula_surface(f"{terms} + {tag}/977*(x^2 + y^2)"),
        "data": data_surface(Points(tuple(x), tuple(2 * x + 1 + 0.3 * np.sin(7 * x)))),
    }


# (program, surface of `cold_surfaces`, rule, mini-batch size): one first call each.
COMPILE_CASES: list[tuple[cost.Program, str, str, float | None]] = [
    ("trajectory", "formula", "adam", None),
    ("trajectory", "data", "newton", 7.0),
    ("summary", "formula", "gd", None),
    ("summary", "data", "momentum", 7.0),
    ("rates", "formula", "newton", None),
    ("rates", "data", "adam", None),
]


def compile_request(
    program: cost.Program, surface: Surface, optimizer: str, batch: float | None
) -> tuple[RunConfig, Callable[[], cost.Estimate], Callable[[], object]]:
    """The configuration whose kernel `program` compiles, the cost model's estimate of the
    request, and the request (300 steps, or 100 rates)."""
    modifiers = {} if batch is None else {"batch_size": batch}
    config = RunConfig(surface, optimizer, lr=1e-3, steps=300, modifiers=modifiers)
    rates = np.geomspace(1e-4, 1e-2, 100)
    requests: dict[str, tuple[Callable[[], cost.Estimate], Callable[[], object]]] = {
        "trajectory": (partial(cost.race_seconds, [config]), partial(engine.run, config)),
        "summary": (
            partial(cost.sweep_seconds, config, len(rates)),
            partial(summarize, config, {"lr": rates}),
        ),
        "rates": (
            partial(cost.range_seconds, config, len(rates)),
            partial(engine.run_with_rates, config, rates),
        ),
    }
    estimate, call = requests[program]
    scanned = replace(config, steps=len(rates)) if program == "rates" else config
    return scanned, estimate, call


def _cpu(call: Callable[[], object]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def compile_rows() -> dict[str, dict[str, object]]:
    """The estimated compilation of each of COMPILE_CASES against the measured one: the first
    call's CPU seconds less the second's (the same work, compiled)."""
    rows = {}
    for program, surface, optimizer, batch in COMPILE_CASES:
        the_surface = cold_surfaces(time.time_ns() % 1_000_000)[surface]
        _, estimate, call = compile_request(program, the_surface, optimizer, batch)
        estimated = estimate().compile
        measured = _cpu(call) - _cpu(call)
        ratio = estimated / measured
        batched = f", batch {batch:g}" if batch else ""
        name = f"compile {program}, {surface}, {optimizer}{batched}"
        rows[name] = {
            "name": name,
            "estimate_s": estimated,
            "cpu_s": measured,
            "ratio": ratio,
            "passed": 1 / ESTIMATE_TOLERANCE <= ratio <= ESTIMATE_TOLERANCE,
        }
        print(
            f"{name:58} estimate {estimated:6.2f} s  cpu {measured:6.2f} s  ×{ratio:4.2f}"
            f"  {'pass' if rows[name]['passed'] else 'FAIL'}",
            flush=True,
        )
    return rows


BUILD_TARGET_S = 1.0  # a custom formula surface, minimum search included, from scratch
WORST_FORMULAS = [  # the longest accepted formulas, heavy on function calls
    "+".join(f"exp(sin({i}*x)*cos({i}*y))/({i}+x^2)" for i in range(1, 20)),
    "+".join(["sin(x*y)", "cos(x-y)", "exp(-x^2)", "log(1+y^2)", "tanh(x+y)"] * 12),
    "+".join(f"sin({i}*x)*cos(y-{i})" for i in range(1, 30)),
]


def build_rows() -> dict[str, dict[str, object]]:
    """CPU seconds to build each of WORST_FORMULAS (cut to the length limit) as a surface, its
    minimum search included; each call builds anew (a box never used before)."""
    rows = {}
    for k, text in enumerate(WORST_FORMULAS):
        text = text[:MAX_LENGTH].rsplit("+", 1)[0]
        box = (-3.0, 3.0 + k / 1000, -3.0, 3.0 + time.time() % 1 / 1000)
        cpu = time.process_time()
        formula_surface(text, box)
        cpu = time.process_time() - cpu
        name = f"formula surface build, {len(text)} chars"
        rows[name] = {"name": name, "cpu_s": cpu, "target_s": BUILD_TARGET_S}
        rows[name]["passed"] = cpu <= BUILD_TARGET_S
        print(f"{name:58} cpu {cpu:6.2f} s  target ≤ {BUILD_TARGET_S:g} s", flush=True)
    return rows


def budget_rows() -> dict[str, dict[str, object]]:
    """Estimated against measured CPU seconds (process time, all threads) of each request,
    warm (its kernel compiled by a first call, timed apart as `first_s`)."""
    rows = {}
    for name, estimate, call in budget_requests():
        first = time.process_time()
        call()
        first = time.process_time() - first
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        ratio = estimate.seconds / cpu
        rows[name] = {
            "name": name,
            "estimate_s": estimate.seconds,
            "cpu_s": cpu,
            "wall_s": wall,
            "first_s": first,
            "ratio": ratio,
            "passed": 1 / ESTIMATE_TOLERANCE <= ratio <= ESTIMATE_TOLERANCE
            and cpu <= ESTIMATE_TOLERANCE * cost.BUDGET_SECONDS,
        }
        print(
            f"{name:58} estimate {estimate.seconds:6.2f} s  cpu {cpu:6.2f} s  wall {wall:6.2f} s"
            f"  first {first:6.2f} s  ×{ratio:4.2f}  {'pass' if rows[name]['passed'] else 'FAIL'}",
            flush=True,
        )
    return rows
