"""How figure data travels to plotly.js: typed-array specs (base64, built directly) and
`SpecFigure`, a go.Figure over ready plain dicts; `array_of` reads any of them back as numpy."""

from __future__ import annotations

import base64
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from app.figures.style import WHITE_TEMPLATE


def typed(values: object, dtype: type = np.float64) -> dict | list:
    """A plotly.js typed-array spec (base64, with its shape when 2-D): what plotly.py emits for
    numpy arrays anyway, but built directly, since validating the arrays costs seconds."""
    with np.errstate(over="ignore"):  # beyond float32's range: ±inf, shown as such
        values = np.ascontiguousarray(values, dtype=dtype)
    if not values.size:
        return []
    spec = {"dtype": np.dtype(dtype).str[1:], "bdata": base64.b64encode(values.tobytes()).decode()}
    if values.ndim > 1:
        spec["shape"] = ",".join(str(n) for n in values.shape)
    return spec


class FigureSpec(NamedTuple):
    """A figure as plotly.js reads it: plain-dict traces and layout (no template)."""

    data: list[dict]
    layout: dict


class SpecFigure(go.Figure):
    """A go.Figure over ready plain-dict traces, layout and frames (arrays as typed-array specs),
    built without plotly.py's validation and handed to Streamlit by `to_dict` without its deep
    copy and base64 pass: for a 120-frame contour those take ~200 ms per rerun, this ~5 ms.
    The frames are validated only when read through `frames` (the tests do, the app does not).
    """

    def __init__(self, data: list[dict], layout: dict, frames: list[dict] | None = None) -> None:
        super().__init__(
            {"data": data, "layout": {"template": WHITE_TEMPLATE, **layout}}, _validate=False
        )
        self._frame_specs = frames or []

    @property
    def frames(self) -> tuple[go.Frame, ...]:
        return tuple(go.Frame(frame) for frame in self._frame_specs)

    def to_dict(self) -> dict:
        """The figure as plotly.js reads it (shared, not copied: read it, do not change it)."""
        spec = {"data": self._data, "layout": self._layout}
        if self._frame_specs:
            spec["frames"] = self._frame_specs
        return spec


def array_of(value: object) -> np.ndarray:
    """Figure data as float64 numpy, whether a typed-array spec, a list or an array."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return data.reshape([int(n) for n in str(shape).split(",")] if shape else -1).astype(float)
    return np.asarray(value if value is not None else [], dtype=np.float64)
