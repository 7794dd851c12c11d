"""The race's live view (see `app.live.view`): components, payloads and the mounted view."""

from app.live.component import FAVICON, page_head
from app.live.payloads import (
    FAMILY_FIRST_STEPS,
    FAMILY_PATH_POINTS,
    family_blob,
    outcome_words,
)
from app.live.view import KEY, show

__all__ = [
    "FAMILY_FIRST_STEPS",
    "FAMILY_PATH_POINTS",
    "FAVICON",
    "KEY",
    "family_blob",
    "outcome_words",
    "page_head",
    "show",
]
