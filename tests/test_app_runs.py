"""The page's runs through AppTest: divergence and its explanation, adding, duplicating and
removing runs, the start-point click, the step inspector, untrusted values, and the text the
rate panel shows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import controls, figures, inspector, state
from app.text import plain
from optimizers.engine import RunConfig, run
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES, WARMUP_PARAMS
from surfaces import SURFACES
from surfaces.dataset import least_squares
from surfaces.registry import regression_data
from tests.apptest_tools import fresh, trigger, unfold
from tests.page_tools import (
    SHORT,
    add_run,
    check_run,
    contour,
    decode,
    default_config,
    metrics,
    settle,
    trace_xy,
)

# Divergence, runs, the start-point click.


def test_too_large_a_learning_rate_diverges_with_an_explained_status(short: AppTest) -> None:
    page = short
    page.number_input(key="run1_lr").set_value(0.5)
    settle(page)
    assert page.select_slider(key="run1_lr_log").value == 0.5  # the slider follows the entry
    config = default_config(lr=0.5)
    expected = check_run(page, 0, 1, config)
    assert expected.status.outcome == "diverged"
    (status,) = page.error
    assert "Diverged: it left the view at step" in status.value
    assert "is above 2/λ_max = 0.2" in status.value
    assert any(f"η₀ is above {plain('2/λ_max = 0.2')}" in c.value for c in page.caption)
    path = trace_xy(contour(page)["data"][figures.FIRST_RUN_TRACE])
    lo, hi = figures.grown(SURFACES["quadratic"].box)
    finite = path[np.isfinite(path).all(axis=1)]
    assert ((finite >= lo - 1e-9) & (finite <= hi + 1e-9)).all()  # the view stays on the box
    assert "left the box" in [trace["name"] for trace in contour(page)["data"]]


def test_below_the_critical_rate_the_hint_says_stable(page: AppTest) -> None:
    assert any(c.value == f"Stable below {plain('2/λ_max = 0.2')}." for c in page.caption)


def test_add_duplicate_and_remove_runs(short: AppTest) -> None:
    page = short
    add_run(page)
    add_run(page)
    assert page.session_state["run_ids"] == [1, 2, 3]
    assert page.selectbox(key="run2_optimizer").value == state.DEFAULT_OPTIMIZERS[2]
    assert page.selectbox(key="run3_optimizer").value == state.DEFAULT_OPTIMIZERS[3]
    before = len(contour(page)["data"])
    page.number_input(key="run3_lr").set_value(0.02)
    page.number_input(key="run1_lr").set_value(0.03)
    settle(page)
    page.button(key="run1_duplicate").click()
    settle(page)
    assert page.session_state["run_ids"] == [1, 2, 3, 4]
    assert page.number_input(key="run4_lr").value == 0.03
    assert len(contour(page)["data"]) == before + figures.TRACES_PER_RUN
    paths = [contour(page)["data"][figures.FIRST_RUN_TRACE + 2 * i] for i in range(4)]
    np.testing.assert_array_equal(trace_xy(paths[0]), trace_xy(paths[3]))

    page.button(key="run2_remove").click()
    settle(page)
    assert page.session_state["run_ids"] == [1, 3, 4]
    assert page.number_input(key="run3_lr").value == 0.02  # the others keep their widgets
    assert page.selectbox(key="run3_optimizer").value == state.DEFAULT_OPTIMIZERS[3]
    assert not [w for w in page.get("number_input") if w.key and w.key.startswith("run2_")]
    assert len(contour(page)["data"]) == before
    check_run(page, 1, 3, default_config(optimizer="adam", lr=0.02))


def test_six_runs_at_most_and_one_at_least() -> None:
    page = fresh(steps=10, run_ids=[1, 2, 3, 4, 5])
    add_run(page)
    assert page.session_state["run_ids"] == [1, 2, 3, 4, 5, 6]
    assert page.button(key="add_run").disabled and page.button(key="run1_duplicate").disabled
    assert len(contour(page)["data"]) == figures.FIRST_RUN_TRACE + 6 * figures.TRACES_PER_RUN + 1
    for run_id in (1, 3, 4, 2, 5):
        unfold(page, run_id)
        page.button(key=f"run{run_id}_remove").click()
        settle(page)
    assert page.session_state["run_ids"] == [6]
    assert page.button(key="run6_remove").disabled
    check_run(page, 0, 1, default_config(optimizer=state.DEFAULT_OPTIMIZERS[6], steps=10))


def test_a_folded_run_keeps_its_values_and_runs_as_when_unfolded(short: AppTest) -> None:
    page = short
    add_run(page, "adam")  # a run added by a click opens unfolded
    page.number_input(key="run2_lr").set_value(0.02)
    page.toggle(key="run2_more").set_value(True)
    settle(page)
    page.number_input(key="run2_clip_norm").set_value(5.0)
    settle(page)
    config = default_config(optimizer="adam", lr=0.02, modifiers={"clip_norm": 5.0})
    unfolded = check_run(page, 1, 2, config)
    page.session_state["run2_open"] = False  # its title clicked: folded
    settle(page)
    settle(page)  # and a rerun more: the values outlive runs that draw no widget for them
    assert "run2_lr" not in [w.key for w in page.number_input], "a folded panel draws nothing"
    np.testing.assert_array_equal(check_run(page, 1, 2, config).positions, unfolded.positions)
    unfold(page, 2)
    assert page.number_input(key="run2_lr").value == 0.02
    assert page.number_input(key="run2_clip_norm").value == 5.0
    assert page.selectbox(key="run2_optimizer").value == "adam"


def drawn(at: AppTest) -> set[str]:
    """The names of run 1's number widgets on the page."""
    widgets = [*at.number_input, *at.slider, *at.select_slider]
    return {str(w.key).removeprefix("run1_") for w in widgets}


def test_warmup_and_modifiers_fold_behind_a_toggle_and_keep_their_values(short: AppTest) -> None:
    page = short
    extras = {s.name for s in controls.runs.EXTRAS}
    assert extras == {s.name for s in WARMUP_PARAMS} | {
        "clip_value", "clip_norm", "l2", "weight_decay", "noise_std", "noise_seed"
    }  # fmt: skip
    assert not page.toggle(key="run1_more").value, "folded at first: nothing is switched on"
    assert not extras & drawn(page)
    page.toggle(key="run1_more").set_value(True)
    settle(page)
    assert extras <= drawn(page)
    page.number_input(key="run1_clip_norm").set_value(5.0)
    page.number_input(key="run1_warmup_steps").set_value(20)
    settle(page)
    config = default_config(modifiers={"clip_norm": 5.0}, warmup={"warmup_steps": 20.0})
    shown = check_run(page, 0, 1, config)
    page.toggle(key="run1_more").set_value(False)
    settle(page)
    settle(page)  # a rerun more: the values outlive runs that draw no widget for them
    assert not extras & drawn(page)
    np.testing.assert_array_equal(check_run(page, 0, 1, config).positions, shown.positions)
    assert plain("On: warmup 20, clip C=5.") in [c.value for c in page.caption]
    page.toggle(key="run1_more").set_value(True)
    settle(page)
    assert page.number_input(key="run1_clip_norm").value == 5.0
    assert page.number_input(key="run1_warmup_steps").value == 20


def test_a_modifier_set_before_the_panel_is_drawn_unfolds_the_toggle() -> None:
    at = fresh(run1_l2=0.1)  # as a link or a lesson sets it
    assert at.toggle(key="run1_more").value
    assert at.number_input(key="run1_l2").value == 0.1


def test_same_optimizer_at_two_learning_rates(short: AppTest) -> None:
    page = short
    add_run(page, "gd")
    page.select_slider(key="run2_lr_log").set_value(0.05)
    settle(page)
    slow = check_run(page, 0, 2, default_config(lr=0.01))
    fast = check_run(page, 1, 2, default_config(lr=0.05))
    assert not np.array_equal(slow.positions, fast.positions)
    labels = [contour(page)["data"][figures.FIRST_RUN_TRACE + 2 * i]["name"] for i in range(2)]
    assert labels == ["1: Gradient descent, η₀=0.01", "2: Gradient descent, η₀=0.05"]


# The start point from a click on the contour.


def click(at: AppTest, x: float, y: float) -> None:
    """What the browser sends when the contour is clicked at data coordinates (x, y)."""
    trigger(at, "start", {"x": x, "y": y})


def test_a_click_on_the_contour_moves_every_run_to_start_there(short: AppTest) -> None:
    page = short
    add_run(page)
    click(page, 1.5, -1.0)
    settle(page)
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == (1.5, -1.0)
    check_run(page, 0, 2, default_config(start=(1.5, -1.0)))
    check_run(page, 1, 2, default_config(optimizer="momentum", start=(1.5, -1.0)))
    # The start can still be typed afterwards: the old selection is not applied again.
    page.number_input(key="x0").set_value(-1.0)
    settle(page)
    check_run(page, 0, 2, default_config(start=(-1.0, -1.0)))


# The step inspector.


def test_inspector_shows_each_run_at_the_chosen_step(short: AppTest) -> None:
    page = short
    add_run(page, "adam")
    page.number_input(key="run1_lr").set_value(0.5)  # run 1 diverges within a few steps
    page.slider(key="inspect_step").set_value(20)
    settle(page)
    diverged = run(default_config(lr=0.5))
    adam = run(default_config(optimizer="adam"))
    assert diverged.status.outcome == "diverged" and len(diverged.positions) <= 20
    texts = [m.value for m in page.markdown]
    last = len(diverged.positions) - 1
    ended = f"· step {last} (the run ends at step {last})\n\n"
    diverged_table = inspector.markdown_table(inspector.step_rows(diverged, last))
    assert any(ended + diverged_table in text for text in texts)
    adam_table = inspector.markdown_table(inspector.step_rows(adam, 20))
    assert any("· step 20\n\n" + adam_table in text for text in texts)
    assert "| m̂ \\(mean gradient\\) |" in adam_table
    assert "| v̂ \\(mean squared gradient\\) |" in adam_table
    shapes = metrics(page)["layout"]["shapes"]
    assert {shape["x0"] for shape in shapes} == {20}  # one dotted line per subplot


def test_step_rows_read_the_trajectory() -> None:
    trajectory = run(RunConfig("quadratic", "momentum", lr=0.05, steps=30))
    rows = {row.quantity: row.values for row in inspector.step_rows(trajectory, 7)}
    assert rows["position w_k"] == tuple(trajectory.positions[7])
    assert rows["loss f(w_k)"] == (trajectory.loss[7],)
    assert rows["gradient ∇L(w_k)"] == tuple(trajectory.grad[7])
    assert rows["learning rate η_k"] == (trajectory.lr[7],)
    assert rows["update Δw_k"] == tuple(trajectory.update[7])
    assert rows["velocity v"] == tuple(trajectory.state["velocity"][7])
    assert rows["effective step −Δw/∇L"] == tuple(trajectory.effective_lr[7])
    final = {row.quantity for row in inspector.step_rows(trajectory, 10_000)}
    assert "position w_k" in final and "learning rate η_k" not in final  # w_n takes no step
    assert inspector.clamp_step(trajectory, -3) == 0
    assert inspector.tone(trajectory) == "info"
    assert inspector.tone(run(RunConfig("quadratic", "gd", lr=0.5, steps=30))) == "error"
    assert inspector.tone(run(RunConfig("bowl", "gd", lr=1.0, steps=30))) == "success"


# Bad input.


def test_untrusted_values_are_repaired_not_raised() -> None:
    page = fresh(
        surface="nope",
        steps=0,
        x0="abc",
        y0=math.nan,
        run_ids="junk",
        run1_optimizer="nope",
        run1_lr=-3.0,
        run1_schedule=42,
        show_3d="maybe",
        inspect_step=-5,
    )
    assert page.selectbox(key="surface").value == state.DEFAULT_SURFACE
    assert page.select_slider(key="steps").value == 1
    start = SURFACES[state.DEFAULT_SURFACE].starts[0]
    assert (page.number_input(key="x0").value, page.number_input(key="y0").value) == start
    assert page.session_state["run_ids"] == [1]
    assert page.selectbox(key="run1_optimizer").value == "gd"
    assert page.number_input(key="run1_lr").value == OPTIMIZERS["gd"].lr.low
    assert page.selectbox(key="run1_schedule").value == "constant"
    assert page.slider(key="inspect_step").value == 0
    check_run(page, 0, 1, default_config(lr=OPTIMIZERS["gd"].lr.low, steps=1))


def test_a_backend_error_is_reported_and_the_other_runs_carry_on(
    short: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = short
    add_run(page)
    real = controls.runs.plan

    def picky(config: RunConfig) -> Any:
        if config.optimizer == "momentum":
            raise ValueError("momentum is off today")
        return real(config)

    monkeypatch.setattr(controls.runs, "plan", picky)
    settle(page)
    (error,) = page.error
    assert error.value == "**Run 2** cannot run: momentum is off today"
    check_run(page, 0, 1, default_config())
    assert page.selectbox(key="run2_optimizer").value == "momentum"  # its controls stay


# Text the page shows: labels, the rate's limits, the stability lines (issue 11).


def test_an_exact_rate_out_of_range_is_clamped_and_said(short: AppTest) -> None:
    """η₀ = 100 where the limit is 10: the run uses 10, a warning names the range and both
    rates, the rest of the setup stays; a rate in range clears the warning."""
    short.selectbox(key="run1_schedule").set_value("step")
    settle(short)
    short.number_input(key="run1_lr").set_value(100.0)
    settle(short)
    spec = OPTIMIZERS["gd"].lr
    assert (spec.low, spec.high) == (1e-5, 10.0)
    assert short.number_input(key="run1_lr").value == 10.0
    assert [w.value for w in short.warning] == [
        "η₀ = 100 is outside the allowed range 1e-05 to 10 for this optimizer: "
        "η₀ = 10 is used instead."
    ]
    assert short.selectbox(key="run1_schedule").value == "step"  # nothing else was lost
    step_params = {s.name: s.default for s in SCHEDULES["step"].params}
    n_runs = len(short.session_state["run_ids"])
    check_run(
        short, 0, n_runs, default_config(lr=10.0, schedule="step", schedule_params=step_params)
    )
    settle(short)  # the warning stays while the clamped rate does
    assert len(short.warning) == 1
    short.number_input(key="run1_lr").set_value(-3.0)
    settle(short)
    assert short.number_input(key="run1_lr").value == 1e-5
    assert "η₀ = -3 is outside" in short.warning[0].value
    short.number_input(key="run1_lr").set_value(0.05)
    settle(short)
    assert not short.warning and short.number_input(key="run1_lr").value == 0.05


def test_run_labels_keep_names_as_registered() -> None:
    """Only a leading capital that starts a plain word is lower-cased inside a label:
    acronyms (SGDR) and mixed-case names (RMSprop, AdaGrad) stay as registered."""
    for key, schedule in SCHEDULES.items():
        if key == "constant":
            continue
        label = controls.run_label(1, RunConfig("quadratic", "gd", 0.1, 10, schedule=key))
        shown = label.removeprefix("1: Gradient descent, η₀=0.1, ")
        assert shown[0] == schedule.name[0].lower() and shown[1:] == schedule.name[1:], label
    sgdr = controls.run_label(2, RunConfig("quadratic", "rmsprop", 0.01, 10, schedule="sgdr"))
    assert sgdr == "2: RMSprop, η₀=0.01, cosine with warm restarts (SGDR)"
    for key, optimizer in OPTIMIZERS.items():
        label = controls.run_label(3, RunConfig("quadratic", key, 0.1, 10))
        assert label == f"3: {optimizer.name}, η₀=0.1"


def test_the_rate_panel_draws_each_runs_critical_rate() -> None:
    """κ = 25 at 30°: H = Rᵀ diag(1, κ) R, so GD's line is at 2/λ_max and heavy ball's at
    2(1 + β)/λ_max, λ_max from numpy's eigenvalues; Adam has no such line."""
    at = fresh(
        steps=SHORT,
        quadratic_kappa=25.0,
        quadratic_angle=30.0,
        run_ids=[1, 2, 3],
        run1_optimizer="gd",
        run2_optimizer="momentum",
        run3_optimizer="adam",
    )
    theta = math.radians(30.0)
    rotation = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
    hessian = rotation.T @ np.diag([1.0, 25.0]) @ rotation
    lambda_max = np.linalg.eigvalsh(hessian)[-1]
    beta = OPTIMIZERS["momentum"].resolve({})["beta"]
    figure = metrics(at)
    dashed = [t for t in figure["data"] if t.get("line", {}).get("dash") == "dash"]
    lines = [t for t in dashed if t["yaxis"] == "y2"]  # the η_k row's limits
    assert [(t["name"], t["line"]["dash"], t["yaxis"]) for t in lines] == [
        (f"2/λ_max = {2 / lambda_max:.3g}", "dash", "y2"),
        (f"2(1+β)/λ_max = {2 * (1 + beta) / lambda_max:.3g}", "dash", "y2"),
    ]
    np.testing.assert_allclose(lines[0]["y"], [2 / lambda_max] * 2, rtol=1e-9)
    np.testing.assert_allclose(lines[1]["y"], [2 * (1 + beta) / lambda_max] * 2, rtol=1e-9)
    assert figure["layout"]["yaxis"]["title"]["text"] == "loss above the minimum<br>f − f*"


def test_the_loss_panel_measures_from_the_surfaces_minimum_at_its_parameters() -> None:
    """Linear regression on data seed 7: f* from the normal equations (numpy) for that data;
    the panel's run 1 curve is the engine's f − f* (floored at 1e-16 · max(1, |f*|))."""
    at = fresh(steps=SHORT, surface="linreg", linreg_seed=7)
    x, y = regression_data("linreg", {"seed": 7.0})
    f_star = least_squares(x, y)[2]
    config = default_config(surface="linreg", surface_params={"seed": 7.0, "standardise": 0.0})
    loss = run(config).loss
    shown = decode(metrics(at)["data"][0]["y"])
    np.testing.assert_allclose(shown, np.maximum(loss - f_star, 1e-16 * max(1.0, abs(f_star))))
    assert shown.min() > 0


def test_the_inspector_table_escapes_its_cells() -> None:
    rows = [inspector.Row("u (max |g|)", (1.5, -2.0, 0.25))]
    assert inspector.markdown_table(rows).splitlines() == [
        "| quantity | x | y |",
        "| --- | ---: | ---: |",
        r"| u \(max \|g\|\) | 1\.5 | \-2, 0\.25 |",
    ]
