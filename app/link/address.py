"""The link in the browser and in the session: the URL's setup at a session's first run
(`load_link`), the address bar kept in step with the widgets (`sync_link`), a whole setup put
in the widgets at once (`apply_state`: a lesson, a pasted link) and the setup on screen
(`current_state`)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace

import streamlit as st

from app import custom
from app.link.codec import from_query, from_session, to_query, to_session
from app.link.reader import Problem
from app.state import MAP_VIEW, Classroom, PageState, configs
from optimizers.analysis import second_axes

LINK = "_link"  # session key: what the URL asked for at the session's first run
_RUN_KEY = re.compile(r"run\d+_")


@dataclass(frozen=True)
class LinkInfo:
    """The classroom settings and lesson the page shows, and the link's unusable fields."""

    classroom: Classroom = field(default_factory=Classroom)
    lesson: str | None = None
    problems: tuple[Problem, ...] = ()


def link_info() -> LinkInfo:
    """What the session's link set (the defaults before `load_link`)."""
    info: LinkInfo = st.session_state.get(LINK, LinkInfo())
    return info


def load_link(lessons: Collection[str]) -> LinkInfo:
    """At a session's first run, set every widget from the URL's query (bad fields fall back to
    defaults and are listed in `problems`); later runs keep what the widgets hold."""
    if LINK not in st.session_state:
        query = {key: st.query_params.get_all(key) for key in st.query_params}
        decoded = from_query(query, lessons)
        page = decoded.state
        if query:  # a bare address leaves the widgets to their defaults (or a test's seeds)
            st.session_state.update(to_session(page))
        problems = tuple(decoded.problems)
        st.session_state[LINK] = LinkInfo(page.classroom, page.lesson, problems)
    return link_info()


def apply_state(page: PageState) -> None:
    """Show `page` (a lesson, a pasted link) in place of the current setup: for callbacks,
    which run before any widget is drawn."""
    for key in [k for k in st.session_state if isinstance(k, str) and _RUN_KEY.match(k)]:
        del st.session_state[key]
    st.session_state.update(to_session(page))
    st.session_state[LINK] = LinkInfo(page.classroom, page.lesson)


def current_state() -> PageState:
    """The setup on screen; a custom surface as last accepted (not a half-typed formula), and
    the stability map's axis as "" (its default) where it is the analysed run's first."""
    info = link_info()
    page = from_session(st.session_state, info.classroom, info.lesson)
    if page.surface == "formula" and (accepted := custom.accepted_formula()):
        page = replace(page, formula=accepted[0], formula_box=accepted[1])
    if page.surface == "data" and (data := custom.data_link_value()):
        page = replace(page, data=data)
    if page.view == MAP_VIEW and page.map_axis:
        analysed = [run.run_id for run in page.runs].index(page.analysis_run)
        try:
            axes = second_axes(configs(page)[analysed])
        except ValueError:
            axes = []
        if axes and axes[0].key == page.map_axis:
            page = replace(page, map_axis="")
    return page


FULL_RUN = "_full_run"  # session key: set by a whole-page run, taken by its fragment
OUTSIDE = "_outside_state"  # session key: the setup outside the fragment, as last drawn


def mark_full_run() -> None:
    """Tell `outside_changed` that the whole page runs, not only its fragment."""
    st.session_state[FULL_RUN] = True


def outside_changed(page: PageState) -> bool:
    """Whether what lies outside the page's fragment (the surface, the start, the view, the
    lesson, …: `page` without the runs, the inspected step and the analysis settings, which
    the fragment draws) changed since the whole page last ran: a widget or a callback of the
    fragment (a click on the contour, a closed lesson) then needs the whole page rerun."""
    outside = replace(page, runs=(), inspect_step=0, analysis={}, analysis_run=1, map_axis="")
    if st.session_state.pop(FULL_RUN, False):
        st.session_state[OUTSIDE] = outside
        return False
    return outside != st.session_state.get(OUTSIDE)


def sync_link(page: PageState) -> dict[str, str]:
    """Write `page` into the browser's URL (only when it changed); returns the query."""
    query = to_query(page)
    shown = {key: st.query_params.get_all(key) for key in st.query_params}
    if shown != {key: [value] for key, value in query.items()}:
        st.query_params.from_dict(query)
    return query
