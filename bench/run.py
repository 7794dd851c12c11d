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
from bench.budget import budget_rows, build_rows, compile_rows
from common.runtime import configure_jax
from optimizers import analysis
from optimizers.engine import RunConfig, Trajectory, run, run_batch
from optimizers.rules import OPTIMIZERS

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


def run_stable(optimizer: str) -> Trajectory:
    """`optimizer`'s 1000 Rosenbrock steps at its bench rate (STABLE_LR)."""
    return run(rosenbrock(optimizer, STABLE_LR[optimizer]))


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
            partial(run_stable, key),
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
        t = run_stable(key)
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
    rows: dict[str, dict[str, object]] = {}
    medians = {name: statistics.median(times) for name, times in warm.items()}
    for case in CASES:
        median, target = medians[case.name], case.target_ms
        first_target = None if target is None else target + COMPILE_MS
        rows[case.name] = {
            "name": case.name,
            "first_ms": first[case.name],
            "median_ms": median,
            "min_ms": min(warm[case.name]),
            "calls": len(warm[case.name]),
            "target_ms": target,
            "first_target_ms": first_target,
            "passed": target is None
            or (median <= target and first[case.name] <= target + COMPILE_MS),
        }
    for ratio in RATIOS:
        value = medians[ratio.peer] / medians[ratio.engine]
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
    configure_jax()  # float64 and whole-loop kernels, before the first JAX computation
    if sys.argv[1:2] and sys.argv[1] in load.MODES:
        load.main(sys.argv[1:])
        return
    if sys.argv[1:] == ["browser"]:
        browser.main()
        return
    jax.numpy.zeros(1).block_until_ready()  # start the backend outside any timing
    if sys.argv[1:] == ["budget"]:
        budget_rows() | compile_rows() | build_rows()
        return
    if sys.argv[1:] == ["app"]:
        print(table(app_rows()))
        print(f"load average {os.getloadavg()}")
        return
    rows = measure() | line_search_rows() | app_rows()
    check_agreement()
    print(table(rows))
    budget = budget_rows() | compile_rows() | build_rows()
    results = {"machine": machine(), "cases": list(rows.values()), "budget": list(budget.values())}
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
