"""A lesson's shape: what to predict, the set-up as a link's query, and what to look for; and
`CONCEPTS`, what the lessons teach (every concept has at least one lesson)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from app.link import Decoded, from_query, to_query
from app.state import PageState

CONCEPTS: dict[str, str] = {
    "step_size": "Step size",
    "overshooting": "Overshooting",
    "divergence": "Divergence",
    "too_slow": "Too slow",
    "local_minima": "Local minima",
    "adaptive": "Adaptive rates",
    "momentum": "Momentum",
    "grid_search": "Grid search",
    "step_decay": "Step decay",
    "exponential_decay": "Exponential decay",
    "polynomial_decay": "Polynomial decay",
    "warmup": "Warmup",
    "cyclical": "Cyclical rates",
    "plateau": "ReduceLROnPlateau",
    "range_test": "LR range test",
    "clipping": "Exploding gradients & clipping",
    "vanishing": "Vanishing gradients",
    "l2": "L2 regularisation",
    "linreg": "Linear regression's (w, b) surface",
    "sharpness": "Sharpness & the edge of stability",
    "self_set": "Step sizes that set themselves",
    "schedule_free": "Schedule-free averaging",
}


@dataclass(frozen=True)
class Lesson:
    """A lesson: what to predict, the set-up as a link's query, and what to look for."""

    key: str
    title: str
    concepts: tuple[str, ...]
    question: str
    look_for: str
    query: str  # the link's fields without `v` and `lesson`, e.g. "surface=bowl&run1_lr=1"

    def fields(self) -> dict[str, str]:
        """The query as {field: text}, with this lesson's key as `lesson`."""
        return {**dict(parse_qsl(self.query, strict_parsing=True)), "lesson": self.key}

    def decoded(self) -> Decoded:
        """The page state the lesson asks for, and any field that could not be used."""
        return from_query(self.fields(), (self.key,))

    @property
    def state(self) -> PageState:
        return self.decoded().state

    @property
    def link(self) -> str:
        """The canonical query string (`v=1&lesson=<key>&…`), as the page writes it."""
        return query_string(to_query(self.state))


def query_string(query: Mapping[str, str]) -> str:
    """A link's query string from its fields, as the page writes it (commas left readable)."""
    return urlencode(query, safe=",")
