"""Driving the page through AppTest: opening it at a link, reading its address bar, and the
Plotly selection event a click sends (AppTest has no chart events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetState
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

    class Selected(Widget):
        def __init__(self) -> None:
            self.proto, self.root, self.key, self._value = element.proto, element.root, key, event
            self.type = "plotly_chart"

        @property
        def value(self) -> str:
            return event

        @property
        def _widget_state(self) -> WidgetState:
            state = WidgetState(id=element.proto.id)
            state.string_value = event
            return state

    def replace_in(node: Any) -> bool:
        children = getattr(node, "children", {})
        for index, child in children.items():
            if child is element:
                children[index] = Selected()
                return True
            if replace_in(child):
                return True
        return False

    assert replace_in(at._tree), f"no chart {key!r} in the page"
