"""The live view's learning-rate families and payloads, against the engine and closed forms; its
callbacks through AppTest (the browser side: tests/browser/test_live_browser.py)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from app import compute, figures, live
from optimizers import family
from optimizers.engine import RunConfig, run
from surfaces import SURFACES
from tests.apptest_tools import address, fresh, open_link, trigger
from tests.apptest_tools import live as live_view


def decode(spec: object) -> np.ndarray:
    return figures.array_of(spec)


# The window of rates.


def test_the_window_is_the_closed_form_log_spacing_rounded_to_three_digits() -> None:
    rates = family.window(0.01, 1e-5, 10.0)
    k = family.FAMILY_SIZE
    exponents = -2 + family.WINDOW_DECADES * (2 * np.arange(k) / (k - 1) - 1)
    expected = sorted({family.significant(10.0**e) for e in exponents})
    np.testing.assert_array_equal(rates, expected)
    assert 0.01 in rates  # an odd count: the anchor itself is a member
    assert all(float(f"{r:.3g}") == r for r in rates)  # short in a link


def test_the_window_moves_inside_the_allowed_range_and_adds_rates_around_the_critical_one() -> None:
    rates = family.window(5.0, 1e-5, 10.0)
    assert rates[-1] == 10.0 and rates[0] == pytest.approx(10.0 / 10 ** (2 * 1.5), rel=1e-2)
    critical = 0.2
    rates = family.window(0.05, 1e-5, 10.0, critical)
    for offset in family.CRITICAL_OFFSETS:
        assert family.significant(critical * (1 + offset)) in rates
    assert 0.19 in rates and 0.21 in rates  # either side of 2/λ_max, reachable by dragging
    assert np.all(np.diff(rates) > 0)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_a_window_needs_a_positive_finite_anchor(bad: float) -> None:
    with pytest.raises(ValueError, match="no learning-rate window"):
        family.window(bad, 1e-5, 10.0)


def test_holds_and_nearest() -> None:
    rates = family.window(0.01, 1e-5, 10.0)
    assert family.holds(rates, 0.01) and not family.holds(rates, rates[1])
    assert rates[family.nearest(rates, 0.0101)] == 0.01
    assert family.nearest(rates, 1e9) == len(rates) - 1


def test_every_member_is_the_engines_own_run_at_its_rate(compiles) -> None:
    config = RunConfig(surface="rosenbrock", optimizer="momentum", steps=120)
    rates = family.window(1e-3, 1e-5, 10.0, size=9)
    found = family.run_family(config, rates)
    assert found.param == "lr"
    for rate, member in zip(found.values, found.members, strict=True):
        expected = run(replace(config, lr=float(rate)))
        np.testing.assert_array_equal(member.positions, expected.positions)
        assert member.status == expected.status
    compiles.count = 0
    family.run_family(replace(config, hyper={"beta": 0.5}), rates * 1.5)
    assert compiles.count == 0, "a family at other numbers compiles nothing"


def test_the_momentum_window_is_even_in_log_one_minus_beta_and_holds_the_current_value() -> None:
    values = family.momentum_window(0.937, 0.999, 1e-4)
    n = family.MOMENTUM_PER_DECADE
    gaps = [family.significant(10.0 ** (-j / n), 2) for j in range(3 * n + 1)]
    expected = {round(1 - g, 6) for g in gaps} | {0.937}
    np.testing.assert_allclose(values, sorted(expected), rtol=0, atol=1e-12)
    assert len(values) >= 64 and values[0] == 0.0 and values[-1] == 0.999
    assert {0.9, 0.99, 0.999, 0.937} <= set(values.tolist())
    assert np.all(np.diff(values) > 0)
    steps = values / 1e-4
    np.testing.assert_allclose(steps, steps.round(), atol=1e-6)  # on the widget's grid
    assert values[family.nearest(values, 0.9371, "beta")] == 0.937
    finer = family.momentum_window(0.9, 0.9999, 1e-4)  # 4 decades: 0.9999 too
    assert {0.9, 0.99, 0.999, 0.9999} <= set(finer.tolist())


@pytest.mark.parametrize(
    ("current", "high"), [(-0.1, 0.999), (1.0, 0.999), (0.5, 1.0), (math.nan, 0.9)]
)
def test_a_momentum_window_needs_a_value_in_its_range(current: float, high: float) -> None:
    with pytest.raises(ValueError, match="no momentum window"):
        family.momentum_window(current, high, 1e-4)


def test_the_rules_with_a_momentum_scrub_their_beta_or_beta_one() -> None:
    from app.state import OPTIMIZERS

    scrubbed = {
        key: spec.name
        for key, rule in OPTIMIZERS.items()
        if (spec := family.momentum_spec(rule.hyper)) is not None
    }
    assert scrubbed["momentum"] == scrubbed["nesterov"] == "beta"
    assert scrubbed["adam"] == "b1" and "gd" not in scrubbed and "rmsprop" not in scrubbed
    assert "hd_gd" not in scrubbed, "its β is a hyper-learning rate, not a decay"
    for key, name in scrubbed.items():
        spec = next(s for s in OPTIMIZERS[key].hyper if s.name == name)
        values = family.momentum_window(spec.default, spec.high, 1e-4)
        assert values[0] == 0 and values[-1] == spec.high and spec.default in values, key


def test_every_member_of_a_momentum_family_is_the_engines_own_run_at_its_beta(compiles) -> None:
    config = RunConfig(surface="rosenbrock", optimizer="momentum", lr=1e-3, steps=120)
    betas = np.array([0.0, 0.5, 0.9, 0.99])
    found = family.run_family(config, betas, "beta")
    assert found.param == "beta"
    for beta, member in zip(found.values, found.members, strict=True):
        expected = run(replace(config, hyper={"beta": float(beta)}))
        np.testing.assert_array_equal(member.positions, expected.positions)
    # β = 0 keeps no velocity: heavy ball is plain gradient descent, step for step.
    plain = run(replace(config, optimizer="gd"))
    np.testing.assert_allclose(found.members[0].positions, plain.positions, rtol=1e-12)
    # The whole scrub's two families run the rule's one program: once its rates' family has
    # run, its family of β (another size, other numbers) compiles nothing.
    family.run_family(config, family.window(1e-3, 1e-5, 10.0))
    compiles.count = 0
    family.run_family(config, family.momentum_window(0.9, 0.999, 1e-4), "beta")
    assert compiles.count == 0


# The payload the browser scrubs through.


def test_the_family_payload_samples_each_member_and_says_its_outcome() -> None:
    config = RunConfig(surface="quadratic", optimizer="gd", steps=300)
    rates = family.window(0.01, 1e-5, 10.0, 0.2)
    key = compute.config_key(replace(config, lr=None))
    minimum = SURFACES["quadratic"].minimum_value({})
    wire = live.family_blob.__wrapped__(key, "lr", tuple(rates), minimum).wire
    payload = json.loads(wire.split(b"\n", 1)[1])  # after the id and a newline
    assert payload["param"] == "lr" and payload["values"] == list(rates)
    xy = decode(payload["xy"]).reshape(len(rates), live.FAMILY_PATH_POINTS, 2)
    steps = decode(payload["metric_steps"]).astype(int)
    assert steps[: live.FAMILY_FIRST_STEPS].tolist() == list(range(live.FAMILY_FIRST_STEPS))
    outcome, event = decode(payload["outcome"]), decode(payload["event"])
    final = decode(payload["final"])
    gaps = decode(payload["metrics"]["loss"]).reshape(len(rates), -1)
    codes = {0: "converged", 1: "diverged", 2: "max_steps"}
    for k in (0, len(rates) // 2, len(rates) - 1):
        member = run(replace(config, lr=float(rates[k])))
        assert codes[int(outcome[k])] == member.status.outcome
        assert event[k] == member.status.step
        assert final[k] == np.float32(member.loss[-1])
        np.testing.assert_array_equal(xy[k, 0], member.positions[0].astype(np.float32))
        kept = steps < len(member.loss)
        expected = np.maximum(member.loss[steps[kept]] - minimum, figures.LOSS_FLOOR)
        np.testing.assert_allclose(gaps[k, kept], expected.astype(np.float32), rtol=1e-6)
    # GD on this quadratic diverges exactly above 2/λ_max = 0.2 (λ_max = κ = 10).
    assert codes[int(outcome[list(rates).index(0.19)])] != "diverged"
    assert codes[int(outcome[list(rates).index(0.21)])] == "diverged"


def test_outcome_words() -> None:
    config = RunConfig(surface="quadratic", optimizer="gd", steps=300)
    assert live.outcome_words(run(replace(config, lr=0.21)))[1] == "bad"
    converging = run(replace(config, lr=0.15))
    words, tone = live.outcome_words(converging)
    step, final = converging.status.step, converging.loss[-1]
    assert (words, tone) == (f"converges at step {step} · f = {final:.3g}", "good")
    slow = run(replace(config, lr=1e-5))
    assert live.outcome_words(slow) == (
        f"still moving after 300 steps · f = {slow.loss[-1]:.3g}",
        "open",
    )


# The page: the view's data and its triggers.


def test_the_view_names_the_blobs_it_draws_and_the_rate_of_each_run() -> None:
    at = fresh(steps=60)
    view = live_view(at)
    (control,) = view["view"]["controls"]
    (scrub,) = control["scrubs"]  # gradient descent: no momentum to scrub
    rates = view["families"][scrub["family"]]["values"]
    assert control["run"] == 1 and scrub["mode"] == "show" and scrub["exact"]
    assert scrub["param"] == "lr" and scrub["symbol"] == "η₀"
    assert rates[scrub["index"]] == at.session_state["run1_lr"]
    assert scrub["critical"]["value"] == pytest.approx(0.2)  # 2/κ on the default quadratic


def test_a_released_rate_slider_commits_the_members_rate_to_the_link_and_status() -> None:
    at = fresh(steps=60)
    view = live_view(at)
    (scrub,) = view["view"]["controls"][0]["scrubs"]
    rate = view["families"][scrub["family"]]["values"][scrub["index"] + 5]
    trigger(at, "rate", {"run": 1, "param": "lr", "value": rate})
    assert at.session_state["run1_lr"] == rate and address(at)["run1_lr"] == f"{rate:g}"
    (after,) = live_view(at)["view"]["controls"][0]["scrubs"]
    assert after["family"] == scrub["family"], "the window holds: the family is not resent"
    assert after["exact"] and after["index"] == scrub["index"] + 5


@pytest.mark.parametrize(
    "value",
    [
        {"run": 2, "value": 0.05},  # no such run
        {"run": 1, "value": 1e9},  # outside the rule's range
        {"run": 1, "value": "0.05"},
        {"run": True, "value": 0.05},
        {"run": 1, "value": math.nan},
        "0.05",
    ],
)
def test_a_bad_rate_trigger_changes_nothing(value: object) -> None:
    at = fresh(steps=60)
    before = at.session_state["run1_lr"]
    trigger(at, "rate", value)
    assert not at.exception and at.session_state["run1_lr"] == before


def test_a_locked_or_hidden_rate_cannot_be_scrubbed() -> None:
    at = open_link({"steps": "60", "lock": "lr"})
    (scrub,) = live_view(at)["view"]["controls"][0]["scrubs"]
    assert scrub["mode"] == "lock"
    trigger(at, "rate", {"run": 1, "value": 0.05})
    assert at.session_state["run1_lr"] != 0.05
    hidden = open_link({"steps": "60", "hide": "lr"})
    (scrub,) = live_view(hidden)["view"]["controls"][0]["scrubs"]
    assert scrub["mode"] == "hide" and scrub["family"] is None


@pytest.mark.parametrize(
    ("optimizer", "name", "symbol"), [("momentum", "beta", "β"), ("adam", "b1", "β₁")]
)
def test_a_rule_with_a_momentum_gets_a_second_scrub_that_commits_like_its_widget(
    optimizer: str, name: str, symbol: str
) -> None:
    at = open_link({"steps": "60", "run1_optimizer": optimizer})
    view = live_view(at)
    rate, beta = view["view"]["controls"][0]["scrubs"]
    assert (rate["param"], beta["param"], beta["symbol"]) == ("lr", name, symbol)
    values = view["families"][beta["family"]]["values"]
    assert beta["exact"] and values[beta["index"]] == at.session_state[f"run1_{name}"] == 0.9
    assert beta["mode"] == "show" and beta["critical"] is None
    chosen = values[beta["index"] + 7]
    trigger(at, "rate", {"run": 1, "param": name, "value": chosen})
    assert (
        at.session_state[f"run1_{name}"] == chosen and address(at)[f"run1_{name}"] == f"{chosen:g}"
    )
    assert f"{symbol}={chosen:g}" in live_view(at)["view"]["controls"][0]["label"]
    after_rate, after_beta = live_view(at)["view"]["controls"][0]["scrubs"]
    assert after_beta["family"] == beta["family"], "the β family does not depend on β"
    assert after_rate["family"] != rate["family"], "the rates' family is that of the new β"
    assert after_beta["index"] == beta["index"] + 7 and after_beta["exact"]


@pytest.mark.parametrize(
    "value",
    [
        {"run": 1, "param": "b2", "value": 0.5},  # not the scrubbed hyperparameter
        {"run": 1, "param": "beta", "value": 1.5},  # outside its range
        {"run": 1, "param": "beta", "value": -0.1},
        {"run": 1, "param": ["beta"], "value": 0.5},
        {"run": 1, "param": "b1", "value": 0.5},  # heavy ball has no β₁
    ],
)
def test_a_bad_momentum_trigger_changes_nothing(value: object) -> None:
    at = open_link({"steps": "60", "run1_optimizer": "momentum"})
    trigger(at, "rate", value)
    assert not at.exception and at.session_state["run1_beta"] == 0.9


def test_a_locked_or_hidden_momentum_cannot_be_scrubbed() -> None:
    at = open_link({"steps": "60", "run1_optimizer": "momentum", "lock": "hyper"})
    _, beta = live_view(at)["view"]["controls"][0]["scrubs"]
    assert beta["mode"] == "lock" and beta["family"] is not None
    trigger(at, "rate", {"run": 1, "param": "beta", "value": 0.5})
    assert at.session_state["run1_beta"] == 0.9
    hidden = open_link({"steps": "60", "run1_optimizer": "momentum", "hide": "hyper"})
    rate, beta = live_view(hidden)["view"]["controls"][0]["scrubs"]
    assert rate["family"] is not None and beta["mode"] == "hide" and beta["family"] is None


def test_a_scrub_without_a_family_says_why_in_its_row() -> None:
    from app.live.view import _scrub

    def window() -> np.ndarray:
        return family.momentum_window(2.0, 0.999, 1e-4)  # β = 2: no window

    config = RunConfig(surface="quadratic", optimizer="momentum", steps=60)
    scrub, made = _scrub(config, "beta", "β", 2.0, "show", window, None)
    assert made is None and scrub["family"] is None
    assert scrub["note"] == "No live scrub for β: no momentum window around 2.0 in [0, 0.999]"


def test_a_click_moves_the_start_unless_it_is_locked_and_bad_clicks_are_ignored() -> None:
    at = fresh(steps=60)
    trigger(at, "start", {"x": 1.23456, "y": -0.5})
    assert (at.session_state["x0"], at.session_state["y0"]) == (1.235, -0.5)
    for bad in ({"x": "1", "y": 0}, {"x": math.inf, "y": 0}, {"x": 1}, [1, 2]):
        trigger(at, "start", bad)
        assert (at.session_state["x0"], at.session_state["y0"]) == (1.235, -0.5)
    locked = open_link({"steps": "60", "lock": "start"})
    before = (locked.session_state["x0"], locked.session_state["y0"])
    trigger(locked, "start", {"x": 0.5, "y": 0.5})
    assert (locked.session_state["x0"], locked.session_state["y0"]) == before
    assert live_view(locked)["view"]["start"] is False


def test_the_step_slider_sets_the_inspected_step() -> None:
    at = fresh(steps=60)
    trigger(at, "step", {"step": 17})
    assert at.session_state["inspect_step"] == 17
    trigger(at, "step", {"step": -3})
    assert at.session_state["inspect_step"] == 17


def test_the_view_echoes_the_latest_step_request_it_has_seen() -> None:
    at = fresh(steps=60)
    assert live_view(at)["view"]["step_seq"] == 0
    trigger(at, "step", {"step": 9, "seq": 1_790_000_000_123})
    assert live_view(at)["view"]["step_seq"] == 1_790_000_000_123
    for bad in ("2", math.nan, None):
        trigger(at, "step", {"step": 4, "seq": bad})
        assert live_view(at)["view"]["step_seq"] == 1_790_000_000_123
    locked = open_link({"steps": "60", "lock": "inspector"})
    trigger(locked, "step", {"step": 5, "seq": 7})  # seen, though the step is refused
    assert live_view(locked)["view"]["step_seq"] == 7 and locked.session_state["inspect_step"] == 0


# Presenter mode and the open lesson.


def test_presenter_mode_is_a_link_field_and_a_toggle() -> None:
    at = open_link({"steps": "60", "present": "1"})
    assert live_view(at)["view"]["present"] is True and address(at)["present"] == "1"
    at.toggle(key="present").set_value(False).run()
    assert live_view(at)["view"]["present"] is False and "present" not in address(at)
    at.toggle(key="present").set_value(True).run()
    assert address(at)["present"] == "1"
    assert not fresh(steps=60).session_state["present"]


def test_an_open_lesson_is_shown_beside_the_picture_and_closes_by_its_trigger() -> None:
    from app.lessons import CONCEPTS, LESSONS

    lesson = LESSONS["warmup"]
    at = open_link({"lesson": "warmup", "steps": "60"})
    shown = live_view(at)["view"]["lesson"]
    assert shown == {
        "title": lesson.title,
        "concepts": [CONCEPTS[c] for c in lesson.concepts],
        "question": lesson.question,
        "look_for": lesson.look_for,
    }
    trigger(at, "close", True)
    assert live_view(at)["view"]["lesson"] is None and "lesson" not in address(at)


def test_the_plane_shares_its_points_among_many_runs() -> None:
    assert [figures.live_path_points(n) for n in (1, 3, 4, 6)] == [800, 800, 600, 400]
    trajectory = run(RunConfig(surface="rosenbrock", optimizer="gd", lr=1e-3, steps=2000))
    view = figures.RunView("1: GD", figures.PALETTE[0], trajectory, "")
    drawn = {}
    for points in (800, 400):
        layer = figures.live_run(view, 0, SURFACES["rosenbrock"].box, path_points=points)
        drawn[points] = len(decode(layer.plane[0]["x"]))
        assert points / 2 < drawn[points] <= points, drawn  # steps and arc length share them
    assert drawn[400] < drawn[800]


def test_sams_adversarial_points_are_drawn_with_its_run() -> None:
    config = RunConfig(surface="rosenbrock", optimizer="sam", lr=1e-4, steps=40)
    trajectory = run(config)
    assert "adversarial_point" in trajectory.state
    view = figures.RunView("1: SAM", figures.PALETTE[0], trajectory, "")
    layer = figures.live_run(view, 0, SURFACES["rosenbrock"].box)
    (points,) = [t for t in layer.exit if t["name"] == "1: SAM: adversarial point"]
    drawn = np.column_stack([decode(points["x"]), decode(points["y"])])
    expected = trajectory.state["adversarial_point"].astype(np.float32)
    np.testing.assert_array_equal(drawn, expected)  # 40 steps: every one, all inside the box


def test_the_inspected_step_draws_the_update_and_the_directions_that_push_it() -> None:
    at = open_link({"steps": "60", "run1_optimizer": "momentum"})
    trigger(at, "step", {"step": 7})
    expected = run(RunConfig(surface="quadratic", optimizer="momentum", steps=60))
    arrows = {t["name"]: t for t in live_view(at)["plane"]["data"] if "at step 7" in t["name"]}
    label = live_view(at)["view"]["controls"][0]["label"]
    update = arrows[f"{label}: update Δw_k at step 7"]
    start, end = expected.positions[7], expected.positions[8]  # w_8 = w_7 + Δw_7
    np.testing.assert_allclose(update["x"], [start[0], end[0]], rtol=1e-12)
    np.testing.assert_allclose(update["y"], [start[1], end[1]], rtol=1e-12)
    length = np.linalg.norm(end - start)
    for name, vector in (("−∇f (direction)", expected.grad[7]), ("−v (velocity)", None)):
        arrow = arrows[f"{label}: {name} at step 7"]
        push = np.array([arrow["x"][1] - arrow["x"][0], arrow["y"][1] - arrow["y"][0]])
        assert np.linalg.norm(push) == pytest.approx(length, rel=1e-9)
        if vector is not None:
            np.testing.assert_allclose(push, -vector / np.linalg.norm(vector) * length)


@pytest.mark.parametrize(
    ("optimizer", "state", "scale_by_rate"),
    [("armijo", "step_size", False), ("prodigy", "d", True), ("dog", "step_scale", False)],
)
def test_the_rate_a_self_setting_rule_used_is_drawn_on_the_rate_row(
    optimizer: str, state: str, scale_by_rate: bool
) -> None:
    config = RunConfig(surface="quadratic", optimizer=optimizer, steps=50)
    trajectory = run(config)
    view = figures.RunView("1: rule", figures.PALETTE[0], trajectory, "")
    figure = figures.metrics_figure([view]).to_dict()
    (used,) = [t for t in figure["data"] if t["name"] == f"1: rule: {figures.USED_RATES[state]}"]
    assert used["yaxis"] == "y2" and used["line"]["dash"] == "dot"
    expected = trajectory.state[state][:, 0] * (trajectory.lr if scale_by_rate else 1)
    np.testing.assert_array_equal(decode(used["y"]), expected)
    low, high = figure["layout"]["yaxis2"]["range"]
    assert low <= np.log10(expected[expected > 0]).min() and np.log10(expected).max() <= high
