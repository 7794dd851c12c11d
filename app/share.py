"""The share panel: the current setup as a link, and a classroom link built with checkboxes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

from app import controls
from app.state import CONTROL_GROUPS, Classroom, PageState, to_query


def link_to(query: Mapping[str, str]) -> str:
    """The page's address with `query` (relative when the browser's address is unknown)."""
    return f"{st.context.url or ''}?{urlencode(query)}"


def _classroom_builder(current: Classroom) -> Classroom:
    """Checkboxes per control group (hide / lock) and one for the notes."""
    hide_column, lock_column = st.columns(2)
    hide_column.markdown("**Hide**")
    lock_column.markdown("**Lock** (shown, not editable)")
    hidden, locked = set(), set()
    for group, label in CONTROL_GROUPS.items():
        if hide_column.checkbox(label, group in current.hidden, key=f"class_hide_{group}"):
            hidden.add(group)
        if lock_column.checkbox(label, group in current.locked, key=f"class_lock_{group}"):
            locked.add(group)
    notes = st.checkbox("Show the explanatory notes", current.notes, key="class_notes")
    return Classroom(frozenset(hidden), frozenset(locked - hidden), notes)


def share_panel(page: PageState) -> None:
    """The link to this exact setup, and (on demand) a classroom version of it."""
    st.markdown("Whoever opens this link sees these runs, computed the same way:")
    st.code(link_to(to_query(page)), language=None, wrap_lines=True)
    if st.toggle("Make a classroom link", key="class_builder"):
        room = _classroom_builder(page.classroom)
        st.markdown("Students who open this link see only what you left unchecked:")
        st.code(link_to(to_query(replace(page, classroom=room))), language=None, wrap_lines=True)


def link_problems(problems: tuple[str, ...]) -> None:
    """The fields of the opened link that could not be used, and why; dismissible."""
    if not problems:
        return
    lines = "\n".join(f"- {problem}" for problem in problems)
    st.warning(
        f"This link has {len(problems)} setting(s) that could not be used as given; "
        f"the page uses defaults or the nearest allowed values instead:\n\n{lines}"
    )
    st.button("Dismiss", key="link_dismiss", on_click=_dismiss)


def _dismiss() -> None:
    info = st.session_state.get(controls.LINK, controls.LinkInfo())
    st.session_state[controls.LINK] = replace(info, problems=())
