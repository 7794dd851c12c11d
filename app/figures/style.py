"""The figures' shared look: colours, marker styles, the plotly_white template, and `RunView`,
one run as it is drawn (label, colour, trajectory, status line)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.io as pio

from optimizers.engine import Trajectory
from surfaces.base import PointKind

# Okabe–Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
SURFACE_COLORSCALE = [[0.0, "#ffffff"], [0.35, "#e3e3e3"], [1.0, "#6b6b6b"]]
TOP_LEGEND = {"orientation": "h", "x": 0, "y": 1.0, "xanchor": "left", "yanchor": "bottom"}
WHITE_TEMPLATE = pio.templates["plotly_white"].to_plotly_json()
Box = tuple[float, float, float, float]  # x0, x1, y0, y1

KIND_STYLE: dict[PointKind, tuple[str, dict]] = {
    "global": (
        "global minimum",
        {"symbol": "star", "size": 17, "color": "#FFD23F", "line": {"color": "black", "width": 1}},
    ),
    "local": (
        "local minimum",
        {"symbol": "star", "size": 13, "color": "white", "line": {"color": "black", "width": 1}},
    ),
    "saddle": (
        "saddle point",
        {"symbol": "x-thin", "size": 11, "color": "black", "line": {"color": "black", "width": 2}},
    ),
}


@dataclass(frozen=True)
class RunView:
    """One run as drawn: its legend label (e.g. "Adam η=0.05 · cosine"), colour, data and the
    one-line status shown on hover."""

    label: str
    color: str
    trajectory: Trajectory
    status_text: str


def escape(text: str) -> str:
    """Plain text for Plotly's HTML-like labels (so "η < 2/κ" is not read as a tag)."""
    return html.escape(text, quote=False)


def path_width(index: int) -> float:
    """Run `index`'s path width: later runs thinner, so that a path drawn over an earlier one
    leaves it showing on both sides (a halo) where they overlap."""
    return 3.8 - 0.45 * min(index, 5)
