"""Driving the page through AppTest: opening it at a link, reading its address bar, and the
Plotly selection event a click sends (AppTest has no chart events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")


def open_link(query: dict[str, Any]) -> AppTest:
    """A new session opened at `query` (a link's fields), after its first run."""
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.query_params = dict(query)
    at.run()
    assert not at.exception, at.exception
    return at


def unfold(at: AppTest, *run_ids: int) -> AppTest:
    """Unfold the runs' panels, as clicking their titles would (a folded panel draws no widget:
    app/controls/runs.py)."""
    for run_id in run_ids:
        at.session_state[f"run{run_id}_open"] = True
    at.run()
    assert not at.exception, at.exception
    return at


def fresh(**state: Any) -> AppTest:
    """A new session; `state` seeds widget values before the first run (as a URL would)."""
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def warnings(at: AppTest) -> str:
    """The text of every warning on the page (the link's unusable fields, among others)."""
    return "\n".join(element.value for element in at.get("warning"))


def address(at: AppTest) -> dict[str, str]:
    """The address bar's query after the last run, one value per field."""
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


def select_point(at: AppTest, key: str, point: dict[str, Any]) -> None:
    """Make the chart whose id holds `key` report `point` as selected on the next run, which
    runs the chart's on_select callback before the script, as a click in the browser does."""
    (element,) = [c for c in at.get("plotly_chart") if key in c.proto.id]
    event = json.dumps(
        {"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}}
    )
    state = WidgetState(id=element.proto.id)
    state.string_value = event
    _report(at, element, state, "plotly_chart")


def _report(at: AppTest, element: Any, state: WidgetState, kind: str) -> None:
    """Put a widget in `element`'s place that reports `state` on the next run."""

    class Reporting(Widget):
        def __init__(self) -> None:
            self.proto, self.root, self.key, self._value = element.proto, element.root, None, None
            self.type = kind

        @property
        def value(self) -> Any:
            return None

        @property
        def _widget_state(self) -> WidgetState:
            return state

    def replace_in(node: Any) -> bool:
        children = getattr(node, "children", {})
        for index, child in children.items():
            if child is element:
                children[index] = Reporting()
                return True
            if replace_in(child):
                return True
        return False

    assert replace_in(at._tree), f"no {kind} element in the page"


def live(at: AppTest) -> dict[str, Any]:
    """The live view as app/static/descent-live.js assembles it from its blobs: "plane" and
    "metrics" ({"data", "layout"}, drawn by plotly.js), "view" (the view's own data) and
    "families" (the scrubs' families, by id)."""
    blobs: dict[str, Any] = {}
    view: dict[str, Any] | None = None
    for element in at.get("bidi_component"):
        if element.proto.component_name == "descent_live_blob":
            blob_id, text = element.proto.bytes.split(b"\n", 1)  # see app/live/payloads.Blob
            blobs[blob_id.decode()] = json.loads(text)
        elif element.proto.component_name == "descent_live":
            view = json.loads(element.proto.json)
    if view is None:
        raise AssertionError("the live view is not on the page")
    surface, runs = blobs[view["surface"]], [blobs[i] for i in view["runs"]]
    before = surface["before_runs"]
    plane = [*surface["traces"][:before], *(t for r in runs for t in r["plane"])]
    plane += [*surface["traces"][before:], *(t for r in runs for t in r["exit"])]
    layout = surface["layout"] | {"annotations": [a for r in runs for a in r["annotations"]]}
    layer = blobs[view["metrics"]]
    metrics = [*(t for r in runs for t in r["metrics"]), *layer["traces"]]
    ids = [scrub["family"] for control in view["controls"] for scrub in control["scrubs"]]
    families = {family_id: blobs[family_id] for family_id in ids if family_id}
    return {
        "plane": {"data": plane, "layout": layout},
        "metrics": {"data": metrics, "layout": layer["layout"]},
        "view": view,
        "families": families,
    }


def trigger(at: AppTest, name: str, value: Any) -> AppTest:
    """What the browser sends when the live view fires trigger `name` (a released rate slider,
    a click on the contour, the step slider); the view's callback runs before the script."""
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "descent_live"]
    state = WidgetState(id=f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{element.proto.id}__events")
    state.json_trigger_value = json.dumps([{"event": name, "value": value}])
    _report(at, element, state, "bidi_component")
    return at.run()
