"""Reading the Streamlit page in AppTest: its charts, statuses and widgets, a run's expected
configuration, and the page as it opens (`default_page`, `short_page` with SHORT steps)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

from app import controls, figures, state
from optimizers import report
from optimizers.engine import RunConfig, run
from optimizers.rules import OPTIMIZERS
from surfaces import SURFACES
from tests.apptest_tools import fresh, live

# Reading the page.


def settle(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def decode(data: Any) -> np.ndarray:
    """A Plotly array: a list, or a typed array {"dtype", "bdata"} (plotly.py 6+)."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = data.get("shape")
        if shape:
            dims = [int(d) for d in str(shape).split(",")]
            array = array.reshape(dims)
        return array.astype(np.float64)
    return np.asarray(data, dtype=np.float64)


def chart(at: AppTest, key: str) -> dict[str, Any]:
    """The figure JSON of the plotly chart with this widget key (or element key)."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if key in element.proto.id or element.proto.id.endswith(key):
            return spec
    raise AssertionError(f"no chart {key!r}")


def charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def latex(at: AppTest) -> list[str]:
    """The formulas shown, without the $$ … $$ that st.latex wraps them in."""
    return [e.value.removeprefix("$$\n").removesuffix("\n$$") for e in at.get("latex")]


def statuses(at: AppTest) -> list[str]:
    return [e.value for kind in ("success", "warning", "error", "info") for e in at.get(kind)]


def trace_xy(trace: dict[str, Any]) -> np.ndarray:
    return np.column_stack([decode(trace["x"]), decode(trace["y"])])


def contour(at: AppTest) -> dict[str, Any]:
    return live(at)["plane"]


def metrics(at: AppTest) -> dict[str, Any]:
    return live(at)["metrics"]


def metric_trace(at: AppTest, index: int, metric: str) -> dict[str, Any]:
    """Run `index`'s curve of `metric` ("loss", "lr", "gnorm") on the metrics plot."""
    (trace,) = [t for t in metrics(at)["data"] if t.get("meta") == {"run": index, "metric": metric}]
    return trace


def add_run(at: AppTest, optimizer: str | None = None) -> None:
    """Press "add run" and let the page settle; with `optimizer`, switch the new run to it."""
    at.button(key="add_run").click()
    settle(at)
    if optimizer is not None:
        at.selectbox(key=f"run{at.session_state['run_ids'][-1]}_optimizer").set_value(optimizer)
        settle(at)


def set_param(at: AppTest, spec: Any, key: str, value: float, kind: str | None = None) -> None:
    """Move the widget `controls.param_widget` drew for `spec` to `value`."""
    kind = kind or state.widget_kind(spec)
    if kind == "toggle":
        at.toggle(key=key).set_value(bool(value))
    elif kind == "int":
        at.number_input(key=key).set_value(int(value))
    elif kind == "log":
        at.select_slider(key=key).set_value(value)
    elif kind == "slider":
        at.slider(key=key).set_value(float(value))
    else:
        at.number_input(key=key).set_value(float(value))


def other_value(spec: Any) -> float:
    """A value for `spec` other than its default that its widget can take."""
    kind = state.widget_kind(spec)
    if kind == "toggle":
        return 1.0 - spec.default
    if kind == "int":
        return spec.default + 1 if spec.default + 1 <= spec.high else spec.default - 1
    if kind == "log":
        options = controls.log_options(spec.low, spec.high, spec.default)
        i = options.index(spec.default)
        return options[i - 1] if i > 0 else options[i + 1]
    step = 10.0 ** (math.floor(math.log10(spec.high - spec.low)) - 3)
    move = (spec.high - spec.low) / 20
    value = spec.default + move if spec.default + move <= spec.high else spec.default - move
    return round(round(value / step) * step, 12)


def lower_lr(spec: Any) -> float:
    """The log slider's option just below the optimizer's default rate."""
    options = controls.log_options(spec.low, spec.high, spec.default)
    return options[options.index(spec.default) - 1]


def check_run(at: AppTest, index: int, n_runs: int, config: RunConfig) -> Any:
    """Run `index` of `n_runs` as drawn equals the engine's run of `config` (in float32, as
    sent): the contour path (clipped to the box as the figure clips), the metrics η_k trace,
    and the status sentence."""
    expected = run(config)
    surface = SURFACES[config.surface] if isinstance(config.surface, str) else config.surface
    path = contour(at)["data"][figures.FIRST_RUN_TRACE + figures.TRACES_PER_RUN * index]
    clipped = figures.clipped(expected.positions, surface.box)
    np.testing.assert_array_equal(trace_xy(path), clipped.astype(np.float32))
    assert len(live(at)["view"]["runs"]) == n_runs
    lr_trace = metric_trace(at, index, "lr")
    np.testing.assert_array_equal(decode(lr_trace["y"]), expected.lr.astype(np.float32))
    steps = (
        decode(lr_trace["x"]) if "x" in lr_trace else lr_trace["x0"] + np.arange(len(expected.lr))
    )
    np.testing.assert_array_equal(steps, np.arange(len(expected.lr)))  # x0 + k·dx where all
    sentence = report.describe(expected, config)
    assert any(text.endswith(f"— {sentence}") for text in statuses(at)), statuses(at)
    return expected


def default_config(**changes: Any) -> RunConfig:
    """The first run of the `short` page on its default surface, with `changes`."""
    surface = SURFACES[changes.get("surface", state.DEFAULT_SURFACE)]
    base = {
        "surface": surface.key,
        "optimizer": "gd",
        "lr": OPTIMIZERS[changes.get("optimizer", "gd")].lr.default,
        "steps": SHORT,
        "start": surface.starts[0],
    }
    return RunConfig(**(base | changes))


SHORT = 50  # steps in most tests: one compiled scan length (64) shared by all of them


def default_page() -> AppTest:
    """The page as it opens."""
    return fresh()


def short_page() -> AppTest:
    """The page with SHORT steps: cheaper figures, and every test compiles the same scan length."""
    at = fresh(steps=SHORT)
    assert at.select_slider(key="steps").value == SHORT
    return at
