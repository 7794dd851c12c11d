"""Classroom mode in the sidebar: the control groups a link hides or locks, the notes it may
hide, and presenter mode."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from app.link.address import LINK, link_info
from app.state import Classroom

PRESENT_KEY = "present"


def classroom() -> Classroom:
    """The classroom settings the page shows (the link's, or none)."""
    return link_info().classroom


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


def note(text: str) -> None:
    """An explanatory caption, unless classroom mode hides the notes."""
    if classroom().notes:
        st.caption(text)
