"""The engine's speed against its targets and against plain NumPy; writes bench/results.json.

Every case is called once cold (the call that compiles its kernel; JAX's backend is started
before any timing), then warm: `reps` calls in each of `ROUNDS` rounds that visit every case in
turn, so that a slow spell of the machine spreads over all cases. A case passes when the median
warm call meets its target and the cold call meets the target plus `COMPILE_MS`. Ratios divide
warm medians.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path

import jax
import numpy as np
from streamlit.testing.v1 import AppTest

from bench import browser, load
from optimizers import analysis, cost
from optimizers.engine import MAX_STEPS, RunConfig, run, run_batch
from optimizers.rules import OPTIMIZERS
from surfaces import Surface, get_surface
from surfaces.dataset import Points, data_surface
from surfaces.formula import MAX_LENGTH, formula_surface

RESULTS = Path(__file__).with_name("results.json")
APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
APP_TARGET_MS = 150.0  # a warm rerun after a learning-rate change (the app issue)
ROUNDS = 5
COMPILE_MS = 1000.0  # what a first call may add to the warm target: one kernel's compile
STEPS = 1000
START = (-1.5, 2.0)  # Rosenbrock's first start
B1, B2, EPS = 0.9, 0.999, 1e-8  # Adam's defaults
ADAM_LR = 0.05
SWEEP_LRS = np.geomspace(1e-4, 1.0, 1000)
# A rate at which each optimizer takes its 1000 Rosenbrock steps without diverging.
STABLE_LR = {key: spec.lr.default for key, spec in OPTIMIZERS.items()}
STABLE_LR |= {"gd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "radam": 1e-2}
STABLE_LR |= {"hd_gd": 1e-3, "sam": 1e-3}
# Warm targets of the rules that evaluate f more than once a step (line searches).
LINE_SEARCH_MS = {"armijo": 0.5, "lbfgs": 1.0}


def rosenbrock(optimizer: str = "adam", lr: float = ADAM_LR) -> RunConfig:
    return RunConfig("rosenbrock", optimizer, lr=lr, steps=STEPS, start=START)


def numpy_adam(lr: float = ADAM_LR) -> np.ndarray:
    """Adam on Rosenbrock as a plain NumPy loop, one step at a time, keeping the path."""
    w, m, v, path = np.array(START), np.zeros(2), np.zeros(2), []
    for t in range(1, STEPS + 1):
        x, y = w
        r = y - x * x
        path.append((w, (1 - x) ** 2 + 100 * r * r))
        g = np.array([-2 * (1 - x) - 400 * x * r, 200 * r])
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        w = w - lr * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)
    return w


def numpy_sweep(lrs: np.ndarray = SWEEP_LRS) -> np.ndarray:
    """The same Adam for every rate at once, vectorised over rates; keeps the best loss."""
    w = np.tile(START, (len(lrs), 1))
    m, v, best = np.zeros_like(w), np.zeros_like(w), np.full(len(lrs), np.inf)
    with np.errstate(all="ignore"):  # the largest rates overflow
        for t in range(1, STEPS + 1):
            x, y = w[:, 0], w[:, 1]
            r = y - x * x
            best = np.fmin(best, (1 - x) ** 2 + 100 * r * r)
            g = np.stack([-2 * (1 - x) - 400 * x * r, 200 * r], axis=1)
            m = B1 * m + (1 - B1) * g
            v = B2 * v + (1 - B2) * g * g
            w = w - lrs[:, None] * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)
    return best


def stability_map() -> analysis.StabilityMap:
    config = RunConfig("quadratic", "momentum", steps=500)
    lrs, betas = np.geomspace(1e-3, 1.0, 100), np.linspace(0.0, 0.99, 100)
    return analysis.stability_map(config, lrs, "beta", betas)


def basin_map() -> analysis.BasinMap:
    return analysis.basin_map(RunConfig("himmelblau", "gd", steps=500), 150)


def range_test() -> analysis.RangeTest:
    return analysis.range_test(rosenbrock(), 1e-6, 10.0, STEPS)


BATCH = [
    rosenbrock("gd", 1e-3),
    rosenbrock("momentum", 1e-3),
    rosenbrock("nesterov", 1e-3),
    rosenbrock("adam", 0.05),
    rosenbrock("adam", 0.02),
    rosenbrock("rmsprop", 1e-2),
]


@dataclass(frozen=True)
class Case:
    """A call, the warm median it must stay under (None: reported only), calls per round."""

    name: str
    call: Callable[[], object]
    target_ms: float | None
    reps: int


@dataclass(frozen=True)
class Ratio:
    """How many times faster the `engine` case is than the `peer` case."""

    name: str
    peer: str
    engine: str
    target: float


RUN_ADAM = "run adam, 1000 steps"
SWEEP = "lr_sweep, 1000 rates × 1000 steps (Adam)"
NUMPY_LOOP = "NumPy loop, Adam 1000 steps"
NUMPY_SWEEP = "NumPy vectorised, 1000 rates × 1000 steps"
CASES = [
    *(
        Case(
            f"run {key}, 1000 steps",
            lambda key=key: run(rosenbrock(key, STABLE_LR[key])),
            LINE_SEARCH_MS.get(key, 0.2),
            10,
        )
        for key in OPTIMIZERS
    ),
    Case("run_batch, 6 configurations × 1000 steps", lambda: run_batch(BATCH), 1.2, 6),
    Case(SWEEP, lambda: analysis.lr_sweep(rosenbrock(), SWEEP_LRS), 50.0, 2),
    Case("stability map, 100 × 100 × 500 steps", stability_map, 1000.0, 1),
    Case("basin map, 150 × 150 starts × 500 steps", basin_map, 1000.0, 1),
    Case("LR range test, 1000 steps (Adam)", range_test, 20.0, 5),
    Case(NUMPY_LOOP, numpy_adam, None, 2),
    Case(NUMPY_SWEEP, numpy_sweep, None, 1),
]
RATIOS = [
    Ratio("engine / NumPy loop, Adam run", NUMPY_LOOP, RUN_ADAM, 30),
    Ratio("engine / NumPy vectorised, rate sweep", NUMPY_SWEEP, SWEEP, 1),
]


def line_search_rows() -> dict[str, dict[str, object]]:
    """The mean evaluations of f per step of each line search over the run's moves up to its
    convergence (Rosenbrock, 1000 steps at its bench rate); reported only."""
    rows = {}
    for key in LINE_SEARCH_MS:
        t = run(rosenbrock(key, STABLE_LR[key]))
        moves = t.status.step if t.status.outcome == "converged" else len(t.lr)
        name = f"{key}: evaluations of f per step ({moves} steps)"
        per_step = float(t.state["evaluations"][:moves, 0].mean())
        rows[name] = {"name": name, "evaluations": per_step, "passed": True}
    return rows


def milliseconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1e3


def measure() -> dict[str, dict[str, object]]:
    first = {case.name: milliseconds(case.call) for case in CASES}
    warm: dict[str, list[float]] = {case.name: [] for case in CASES}
    for _ in range(ROUNDS):
        for case in CASES:
            warm[case.name] += [milliseconds(case.call) for _ in range(case.reps)]
    rows = {}
    for case in CASES:
        median, target = statistics.median(warm[case.name]), case.target_ms
        first_target = None if target is None else target + COMPILE_MS
        rows[case.name] = {
            "name": case.name,
            "first_ms": first[case.name],
            "median_ms": median,
            "min_ms": min(warm[case.name]),
            "calls": len(warm[case.name]),
            "target_ms": target,
            "first_target_ms": first_target,
            "passed": target is None or (median <= target and first[case.name] <= first_target),
        }
    for ratio in RATIOS:
        value = rows[ratio.peer]["median_ms"] / rows[ratio.engine]["median_ms"]
        rows[ratio.name] = {
            "name": ratio.name,
            "ratio": value,
            "target_ratio": ratio.target,
            "passed": value >= ratio.target,
        }
    return rows


def app_rows() -> dict[str, dict[str, object]]:
    """Server-side reruns of the page after a change of run 1's η₀ (AppTest, no browser).

    A session runs the page cold, then sets 20 rates it has not seen (not cached) and sets them
    again in the same order (cached where the caches still hold them); a second session with
    three runs sets 20 other unseen rates. "first" is the session's cold page run.
    """

    def session(runs: int) -> tuple[AppTest, float]:
        at = AppTest.from_file(APP, default_timeout=30)
        first = milliseconds(at.run)
        for _ in range(runs - 1):
            at.button(key="add_run").click()
            at.run()
        return at, first

    def rerun_ms(at: AppTest, lrs: np.ndarray) -> list[float]:
        times = []
        for lr in lrs:
            at.number_input(key="run1_lr").set_value(float(lr))
            times.append(milliseconds(at.run))
            assert not at.exception, at.exception
        return times

    def row(name: str, first: float, times: list[float], target: float | None):
        median = statistics.median(times)
        return name, {
            "name": name,
            "first_ms": first,
            "median_ms": median,
            "min_ms": min(times),
            "calls": len(times),
            "target_ms": target,
            "first_target_ms": None,
            "passed": target is None or median <= target,
        }

    lrs = np.geomspace(1e-3, 0.1, 20)  # none is the default rate
    at, first = session(1)
    new = rerun_ms(at, lrs)
    cached = rerun_ms(at, lrs)
    at, first3 = session(3)
    three = rerun_ms(at, lrs * 1.1)  # unseen by the first session too
    return dict(
        [
            row("app rerun, lr change (new value)", first, new, APP_TARGET_MS),
            row("app rerun, lr change (cached value)", first, cached, None),
            row("app rerun, 3 runs, lr change (new value)", first3, three, None),
        ]
    )


# The cost model against the machine: each request type at the largest setting the budget
# lets through (its count at the cap, the steps that fit), on three kinds of surface.

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


def check_agreement() -> None:
    """The engine and the NumPy loop compute the same Adam run."""
    np.testing.assert_allclose(run(rosenbrock()).positions[-1], numpy_adam(), rtol=0, atol=1e-9)


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        **{package: version(package) for package in ("jax", "jaxlib", "optax", "numpy")},
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "load_average": os.getloadavg(),
    }


def table(rows: dict[str, dict[str, object]]) -> str:
    lines = [f"{'case':46} {'first':>8} {'warm median':>12} {'min':>9} {'target':>11}  result"]
    for row in rows.values():
        if "ratio" in row:
            cells = ("", f"{row['ratio']:.1f}×", "", f"≥ {row['target_ratio']:g}×")
        elif "evaluations" in row:
            cells = ("", f"{row['evaluations']:.2f}", "", "")
        else:
            target = "" if row["target_ms"] is None else f"≤ {row['target_ms']:g} ms"
            times = (row["first_ms"], row["median_ms"], row["min_ms"])
            cells = (f"{times[0]:.0f} ms", f"{times[1]:.3f} ms", f"{times[2]:.3f} ms", target)
        verdict = "pass" if row["passed"] else "FAIL"
        lines.append(
            f"{row['name']:46} {cells[0]:>8} {cells[1]:>12} {cells[2]:>9} {cells[3]:>11}  {verdict}"
        )
    return "\n".join(lines)


def main() -> None:
    """`python -m bench.run app` runs only the app's cases, `… budget` only the cost model's
    estimates against measurements (these two leave results.json alone); `… load`, `… heavy`
    and `… memory` drive a `streamlit run` server (bench/load.py) and merge their rows."""
    if sys.argv[1:2] and sys.argv[1] in load.MODES:
        load.main(sys.argv[1:])
        return
    if sys.argv[1:] == ["browser"]:
        browser.main()
        return
    jax.numpy.zeros(1).block_until_ready()  # start the backend outside any timing
    if sys.argv[1:] == ["budget"]:
        budget_rows() | build_rows()
        return
    if sys.argv[1:] == ["app"]:
        print(table(app_rows()))
        print(f"load average {os.getloadavg()}")
        return
    rows = measure() | line_search_rows() | app_rows()
    check_agreement()
    print(table(rows))
    budget = budget_rows() | build_rows()
    results = {"machine": machine(), "cases": list(rows.values()), "budget": list(budget.values())}
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
