"""The cost model and budget (optimizers/cost.py) and the chunked, cancellable `summarize`."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bench.budget import COMPILE_CASES, cold_surfaces, compile_request
from optimizers import cost, engine
from optimizers.engine import SUMMARY_CHUNK, CancelledError, RunConfig, summarize
from optimizers.engine import api as engine_api
from surfaces.dataset import Points, data_surface
from surfaces.formula import formula_surface


def test_formula_size_counts_nodes_and_calls() -> None:
    # sin(x)*cos(y) + 0.1*(x^2 + y^2): sin x cos y * | 0.1 x 2 ^ y 2 ^ + * | +
    assert cost.formula_size("sin(x)*cos(y) + 0.1*(x^2 + y^2)") == (15, 2)
    assert cost.formula_size("-max(x, y, 1)") == (5, 1)


@pytest.mark.parametrize(
    ("count", "rows"), [(1, 1), (3, 4), (1000, 1024), (1025, 2048), (22_500, 22_528)]
)
def test_summary_rows_count_the_padding(count: int, rows: int) -> None:
    # What `summarize` scans: its own chunking, padded rows included.
    assert cost.summary_rows(count) == rows
    chunks = engine_api.chunked(np.zeros((count, 1)))
    assert chunks.shape[0] * chunks.shape[1] == rows


def test_per_step_cost_grows_with_points_batches_formula_and_newton() -> None:
    rng = np.random.default_rng(0)

    def data(n: int) -> RunConfig:
        x = rng.normal(size=n)
        return RunConfig(data_surface(Points(tuple(x), tuple(2 * x + 1))), "gd", lr=0.01)

    small, large = cost.step_ns(data(100), "summary"), cost.step_ns(data(1000), "summary")
    assert large - cost.KERNELS["summary"].base == pytest.approx(
        10 * (small - cost.KERNELS["summary"].base)
    )
    full = data(1000)
    batched = RunConfig(full.surface, "gd", lr=0.01, modifiers={"batch_size": 7})
    assert cost.step_ns(batched, "summary") > cost.step_ns(full, "summary")
    newton = RunConfig(full.surface, "newton")
    assert cost.step_ns(newton, "summary") > cost.step_ns(full, "summary")
    short = RunConfig(formula_surface("x^2 + y^2"), "gd")
    long = RunConfig(formula_surface("+".join(["sin(x)*cos(y)"] * 20)), "gd")
    assert cost.step_ns(long, "trajectory") > 10 * (
        cost.step_ns(short, "trajectory") - cost.KERNELS["trajectory"].base
    )


def test_largest_fitting_matches_a_plain_search() -> None:
    def cost_of(n: int) -> cost.Estimate:
        return cost.Estimate(0.013 * n * n, "this test")

    plain = max(n for n in range(5, 400) if 0.013 * n * n <= cost.BUDGET_SECONDS)
    assert cost.largest_fitting(cost_of, 5, 399) == plain
    assert cost.largest_fitting(cost_of, 50, 399) is None


def test_an_over_budget_map_is_refused_with_a_setting_that_fits() -> None:
    config = RunConfig("rosenbrock", "gd", steps=20_000)
    assert not cost.fits(cost.map_seconds(config, 200))
    message = cost.grid_refusal(config, 200, 100, cost.map_seconds, "cells per side")
    assert message is not None and message.startswith("This map would take about")
    assert "fewer cells per side or fewer steps." in message
    # Not even 100 cells fit at 20,000 steps: the suggestion is the most steps at 100 cells.
    suggested = int(message.rsplit("up to ", 1)[1].split(" steps")[0].replace(",", ""))
    fits = cost.fits(cost.map_seconds(RunConfig("rosenbrock", "gd", steps=suggested), 100))
    too_many = cost.map_seconds(RunConfig("rosenbrock", "gd", steps=suggested + 1), 100)
    assert fits and not cost.fits(too_many)
    assert (
        cost.grid_refusal(RunConfig("rosenbrock", "gd", steps=300), 100, 100, cost.map_seconds, "x")
        is None
    )


def test_an_over_budget_race_names_the_steps_that_fit() -> None:
    x = np.linspace(-1, 1, 10_000)
    surface = data_surface(Points(tuple(x), tuple(3 * x)))
    configs = [RunConfig(surface, "gd", lr=0.1, steps=20_000)] * 6
    message = cost.race_refusal(configs)
    assert message is not None and "fewer data points" in message
    most = int(message.rsplit("up to ", 1)[1].split(" steps")[0].replace(",", ""))
    assert cost.fits(cost.race_seconds([RunConfig(surface, "gd", lr=0.1, steps=most)] * 6))
    assert not cost.fits(cost.race_seconds([RunConfig(surface, "gd", lr=0.1, steps=most + 1)] * 6))


# A cold request's compilation.


@pytest.mark.parametrize(("program", "surface", "optimizer", "batch"), COMPILE_CASES)
def test_a_cold_request_counts_its_compilation_once(
    program: cost.Program, surface: str, optimizer: str, batch: float | None
) -> None:
    # How close the estimate comes to the measured compilation is timed by `make bench`
    # (bench/budget.py's compile rows); here, that a first call is charged and a second is not.
    the_surface = cold_surfaces(int(time.time_ns() % 1_000_000))[surface]
    scanned, estimate, call = compile_request(program, the_surface, optimizer, batch)
    assert not cost.compiled(scanned, program)
    cold = estimate()
    assert cold.compile == pytest.approx(cost.compile_seconds(scanned, program))
    assert 0.15 <= cold.compile <= cost.COMPILE_ALLOWANCE
    call()
    assert cost.compiled(scanned, program)
    warm = estimate()
    assert warm.compile == 0.0
    assert warm.seconds == pytest.approx(cold.seconds - cold.compile)


def test_a_race_compiles_each_new_kernel_once() -> None:
    surfaces = cold_surfaces(int(time.time_ns() % 1_000_000) + 1)
    shared = [RunConfig(surfaces["formula"], "adam", lr=lr, steps=300) for lr in (1e-3, 1e-2)]
    other = RunConfig(surfaces["formula"], "gd", lr=1e-3, steps=300)
    one = cost.compile_seconds(shared[0], "trajectory")
    assert cost.race_seconds(shared).compile == pytest.approx(one)  # two rates, one kernel
    both = one + cost.compile_seconds(other, "trajectory")
    assert cost.race_seconds([*shared, other]).compile == pytest.approx(both)
    engine.run(shared[1])
    assert cost.race_seconds([*shared, other]).compile == pytest.approx(both - one)


# Chunked cancellation in the engine.


@pytest.fixture
def chunk_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the chunks the summary kernel runs (one call each)."""
    calls: list[int] = []
    original = engine_api.summary_fn

    def counting(kernel, varying):
        fn = original(kernel, varying)

        def call(shared, chunks, tol):
            calls.append(len(chunks))
            return fn(shared, chunks, tol)

        return call

    monkeypatch.setattr(engine_api, "summary_fn", counting)
    return calls


def test_a_cancelled_summary_stops_after_the_chunk_it_was_in(chunk_calls: list[int]) -> None:
    config = RunConfig("himmelblau", "gd", lr=0.01, steps=50)
    starts = np.column_stack([np.linspace(-4, 4, 3 * SUMMARY_CHUNK)] * 2)
    asked: list[int] = []

    def cancel_at_once() -> bool:
        asked.append(len(chunk_calls))
        return True

    with pytest.raises(CancelledError):
        summarize(config, {"start": starts}, cancel_at_once)
    assert chunk_calls == [1] and asked == [1]  # one chunk ran; asked once, before the second


def test_an_uncancelled_summary_runs_every_chunk_and_matches_one_call(
    chunk_calls: list[int],
) -> None:
    config = RunConfig("himmelblau", "gd", lr=0.01, steps=50)
    starts = np.column_stack([np.linspace(-4, 4, 2 * SUMMARY_CHUNK + 5), np.linspace(3, -3, 2053)])
    whole = summarize(config, {"start": starts}, lambda: False)
    assert chunk_calls == [1, 1, 1]
    parts = [summarize(config, {"start": starts[i : i + 700]}) for i in range(0, len(starts), 700)]
    for name, column in whole._asdict().items():
        np.testing.assert_array_equal(column, np.concatenate([getattr(p, name) for p in parts]))


def test_a_first_calls_compilation_is_allowed_on_top_of_the_budget_once() -> None:
    budget, allowance = cost.BUDGET_SECONDS, cost.COMPILE_ALLOWANCE
    assert cost.fits(cost.Estimate(budget + 2.2, "a cold Newton map", 2.2))  # work = budget
    assert not cost.fits(cost.Estimate(budget + 2.3, "too much work", 2.2))
    assert not cost.fits(cost.Estimate(1.0 + allowance + 0.1, "a huge compile", allowance + 0.1))
    assert cost.fits(cost.Estimate(budget, "warm", 0.0))
