"""The share panel: the current setup as a link, and a classroom link built with checkboxes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import streamlit as st

from app.lessons import query_string
from app.link import Problem, to_query
from app.link.address import LINK, link_info
from app.state import CONTROL_GROUPS, Classroom, PageState
from app.text import code, plain

SHOWN_PROBLEMS = 10  # problems listed one by one; the rest are counted


def link_to(query: Mapping[str, str]) -> str:
    """The page's address with `query`: "http://host:8501/?v=1&…", a "/" before the "?" and
    commas left literal (`hide=steps,lr`); "/?v=1&…" when the browser's address is unknown."""
    return f"{(st.context.url or '').rstrip('/')}/?{query_string(query)}"


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
    _classroom_link(page)


@st.fragment
def _classroom_link(page: PageState) -> None:
    """The classroom-link builder reruns alone (a fragment): its checkboxes change a link to
    copy, not the page, its own link or any other view."""
    if st.toggle("Make a classroom link", key="class_builder"):
        room = _classroom_builder(page.classroom)
        st.markdown("Students who open this link see only what you left unchecked:")
        st.code(link_to(to_query(replace(page, classroom=room))), language=None, wrap_lines=True)


def link_problems(problems: tuple[Problem, ...]) -> None:
    """The fields of the opened link that could not be used, and why; dismissible."""
    if not problems:
        return
    # Link text is untrusted: the field as a code span, the reason as plain text.
    lines = "\n".join(f"- {code(p.shown)}: {plain(p.reason)}" for p in problems[:SHOWN_PROBLEMS])
    if len(problems) > SHOWN_PROBLEMS:
        lines += f"\n- … and {len(problems) - SHOWN_PROBLEMS} more"
    st.warning(
        f"This link has {len(problems)} setting(s) that could not be used as given; "
        f"the page uses defaults or the nearest allowed values instead:\n\n{lines}"
    )
    st.button("Dismiss", key="link_dismiss", on_click=_dismiss)


def _dismiss() -> None:
    st.session_state[LINK] = replace(link_info(), problems=())
