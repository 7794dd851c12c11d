"""Classroom mode in the sidebar: the control groups a link hides or locks, the notes it may
hide, and presenter mode; and folded run panels, which draw nothing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

import streamlit as st

from app.link.address import LINK, link_info
from app.state import CONTROL_GROUPS, Classroom

PRESENT_KEY = "present"
_FOLDED = ContextVar("folded", default=False)
_NOTHING_SHOWN = Classroom(hidden=frozenset(CONTROL_GROUPS), notes=False)


def classroom() -> Classroom:
    """The classroom settings the page shows (the link's, or none; every group hidden inside
    `folded()`)."""
    return _NOTHING_SHOWN if _FOLDED.get() else link_info().classroom


@contextmanager
def folded() -> Iterator[None]:
    """Within it the controls read their values as hidden ones do, and draw nothing: a folded
    run panel computes its run exactly as an open one, without a widget on the page."""
    token = _FOLDED.set(True)
    try:
        yield
    finally:
        _FOLDED.reset(token)


def is_folded() -> bool:
    return _FOLDED.get()


def _toggle_presenter() -> None:
    info = link_info()
    present = bool(st.session_state.get(PRESENT_KEY))
    st.session_state[LINK] = replace(info, classroom=replace(info.classroom, present=present))


def presenter_toggle() -> None:
    """Presenter mode (link field `present=1`): large type, the sidebar folded, the picture
    first; the keyboard drives the live view (space, ←/→, ↑/↓, R)."""
    st.session_state[PRESENT_KEY] = classroom().present
    st.toggle(
        "Present",
        key=PRESENT_KEY,
        on_change=_toggle_presenter,
        help="Large type for a projector, the sidebar folded. Keys: space plays or pauses, "
        "← → step, ↑ ↓ change the learning rate of the run last touched, R restarts.",
    )


def caption(*facts: str, notes: Sequence[str] = ()) -> None:
    """One caption (one element: each costs the browser on every rerun): the `facts`, then the
    explanatory `notes` unless classroom mode hides the notes; empty parts are left out."""
    parts = [part for part in (*facts, *(notes if classroom().notes else ())) if part]
    if parts:
        st.caption("\n\n".join(parts))
