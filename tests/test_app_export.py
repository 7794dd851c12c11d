"""The page's exports: CSV, JSON and HTML hold every step of every run exactly."""

from __future__ import annotations

import csv
import io
import json
import time

import numpy as np
from streamlit.testing.v1 import AppTest

from app import export
from optimizers import report
from optimizers.engine import RunConfig, run

# Exports.


def export_runs() -> list[export.ExportRun]:
    configs = [
        RunConfig("quadratic", "adam", lr=0.05, steps=40, start=(-2.5, 2.0)),
        RunConfig("quadratic", "gd", lr=0.5, steps=40, start=(-2.5, 2.0), modifiers={"l2": 0.1}),
    ]
    return [
        export.ExportRun(f"run {i}", c, t := run(c), report.describe(t, c))
        for i, c in enumerate(configs, start=1)
    ]


def test_csv_export_holds_every_step_of_every_run_exactly() -> None:
    runs = export_runs()
    rows = list(csv.DictReader(io.StringIO(export.to_csv(runs))))
    assert len(rows) == sum(len(r.trajectory.positions) for r in runs)
    for r in runs:
        t = r.trajectory
        mine = [row for row in rows if row["run"] == r.label]
        assert [int(row["step"]) for row in mine] == list(range(len(t.positions)))
        assert {row["optimizer"] for row in mine} == {r.config.optimizer}
        assert {row["outcome"] for row in mine} == {t.status.outcome}
        assert {float(row["lr0"]) for row in mine} == {r.config.lr}
        np.testing.assert_array_equal([[float(m["x"]), float(m["y"])] for m in mine], t.positions)
        np.testing.assert_array_equal([float(m["loss"]) for m in mine], t.loss)
        np.testing.assert_array_equal([float(m["grad_norm"]) for m in mine], t.grad_norm)
        moves = mine[: len(t.lr)]
        np.testing.assert_array_equal([float(m["lr"]) for m in moves], t.lr)
        np.testing.assert_array_equal(
            [[float(m["update_x"]), float(m["update_y"])] for m in moves], t.update
        )
        for name, values in t.state.items():
            drawn = [[float(m[f"{name}_x"]), float(m[f"{name}_y"])] for m in moves]
            np.testing.assert_array_equal(drawn, values)
        assert mine[-1]["lr"] == "" and mine[-1]["update_x"] == ""
    assert json.loads(rows[-1]["modifiers"]) == {"l2": 0.1}
    assert {row["m_hat_x"] for row in rows if row["optimizer"] == "gd"} == {""}


def test_json_export_holds_every_step_of_every_run_exactly() -> None:
    runs = export_runs()
    payload = json.loads(export.to_json(runs))
    assert [r["label"] for r in payload["runs"]] == ["run 1", "run 2"]
    for r, out in zip(runs, payload["runs"], strict=True):
        t = r.trajectory
        assert (
            out["config"]["optimizer"] == r.config.optimizer and out["config"]["lr"] == r.config.lr
        )
        assert out["status"]["outcome"] == t.status.outcome and out["description"] == r.description
        points, steps = out["points"], out["steps"]
        np.testing.assert_array_equal(np.column_stack([points["x"], points["y"]]), t.positions)
        np.testing.assert_array_equal(points["loss"], t.loss)
        np.testing.assert_array_equal(np.column_stack([points["grad_x"], points["grad_y"]]), t.grad)
        np.testing.assert_array_equal(steps["lr"], t.lr)
        np.testing.assert_array_equal(
            np.column_stack([steps["update_x"], steps["update_y"]]), t.update
        )
        for name, values in t.state.items():
            np.testing.assert_array_equal(
                np.column_stack([steps[f"{name}_x"], steps[f"{name}_y"]]), values
            )
    assert payload["runs"][1]["status"]["outcome"] == "diverged"


def test_the_largest_export_reads_back_exactly() -> None:
    """6 runs × 20,000 steps (the page's largest) through both writers; times printed."""
    configs = [
        RunConfig("rosenbrock", name, lr=lr, steps=20_000)
        for name, lr in (("gd", 1e-4), ("momentum", 1e-4), ("adam", 1e-3), ("rmsprop", 1e-3),
                         ("nesterov", 1e-4), ("adagrad", 0.05))
    ]  # fmt: skip
    runs = [export.ExportRun(f"run {i}", c, run(c)) for i, c in enumerate(configs, start=1)]
    started = time.perf_counter()
    text = export.to_csv(runs)
    csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    payload = json.loads(export.to_json(runs))
    json_seconds = time.perf_counter() - started
    print(f"export of 6 x 20,000 steps: CSV {csv_seconds:.2f} s, JSON {json_seconds:.2f} s")
    rows = list(csv.reader(io.StringIO(text)))
    header, rows = rows[0], rows[1:]
    assert len(rows) == sum(len(r.trajectory.positions) for r in runs)
    x, m_hat = header.index("x"), header.index("m_hat_x")
    start = 0
    for r, out in zip(runs, payload["runs"], strict=True):
        t = r.trajectory
        mine = rows[start : start + len(t.positions)]
        start += len(t.positions)
        np.testing.assert_array_equal([[float(m[x]), float(m[x + 1])] for m in mine], t.positions)
        np.testing.assert_array_equal(out["points"]["loss"], t.loss)
        if "m_hat" in t.state:
            drawn = [float(m[m_hat]) for m in mine[: len(t.lr)]]
            np.testing.assert_array_equal(drawn, t.state["m_hat"][:, 0])
        else:
            assert {m[m_hat] for m in mine} == {""}


def test_the_html_export_is_titled_with_the_setup_and_the_outcomes() -> None:
    runs = export_runs()
    title, outcomes = export.html_title("Quadratic bowl <b>", runs)
    assert title == "Descent Lab: Quadratic bowl <b>, run 1; run 2"
    assert outcomes == [f"{r.label}: {r.description}" for r in runs]
    page = export.titled_html("<html><head></head><body><div></div></body></html>", title, outcomes)
    assert "<title>Descent Lab: Quadratic bowl &lt;b&gt;, run 1; run 2</title>" in page
    assert page.count("<li>") == 2 and "<b>" not in page


def test_page_offers_the_three_exports(page: AppTest) -> None:
    buttons = {b.key: b for b in page.get("download_button") if b.key.startswith("export_")}
    assert set(buttons) == {"export_csv", "export_json", "export_html"}
    assert not any(b.disabled for b in buttons.values())
    assert buttons["export_html"].label == "Animated figure (HTML)"
