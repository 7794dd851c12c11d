"""The lessons on the page: a picker (`lesson_picker`), the table of every lesson as links
(`gallery_table`) and the open lesson's card (`lesson_card`, or `lesson_text` for the live view).
Lesson text reaches Markdown only through `app.text.plain`, so "|∇f|" stays inside its table cell.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import streamlit as st

from app.lessons.lesson import CONCEPTS, Lesson
from app.lessons.table import LESSONS
from app.link.address import LINK, apply_state, link_info
from app.text import plain


def _open(key: str) -> None:
    apply_state(LESSONS[key].state)


def close_lesson() -> None:
    """Close the open lesson (its card and the link's `lesson=`); the page's setup stays."""
    st.session_state[LINK] = replace(link_info(), lesson=None)


def _badges(lesson: Lesson) -> str:
    return " ".join(f":blue-badge[{plain(CONCEPTS[c])}]" for c in lesson.concepts)


@functools.cache
def gallery_table() -> str:
    """Every lesson as a row of one markdown table: its title (a link to the lesson), its
    concepts and its question. One element, built once: the page reruns on every slider move."""
    rows = [
        f"| [{plain(lesson.title)}](?{lesson.link}) | {_badges(lesson)} "
        f"| {plain(lesson.question)} |"
        for lesson in LESSONS.values()
    ]
    return "\n".join(["| Lesson | Concepts | Predict, then run |", "| --- | --- | --- |", *rows])


def lesson_picker() -> None:
    """A picker and an open button: the lesson replaces this page's setup. (The table of every
    lesson, whose titles are links to each lesson, is `gallery_table`.)"""
    st.markdown("**Start with a lesson:** each one sets up the page and asks a question.")
    key = st.selectbox(
        "Lesson", list(LESSONS), format_func=lambda k: LESSONS[k].title, key="lesson_pick"
    )
    st.button("Open lesson", key="lesson_open", on_click=_open, args=(key,), type="primary")


def lesson_text(key: str | None) -> dict[str, object] | None:
    """The open lesson as plain text, for the live view to show beside the picture."""
    if key is None or key not in LESSONS:
        return None
    lesson = LESSONS[key]
    return {
        "title": lesson.title,
        "concepts": [CONCEPTS[c] for c in lesson.concepts],
        "question": lesson.question,
        "look_for": lesson.look_for,
    }


def lesson_card(key: str | None) -> None:
    """The open lesson: its title, its question and, folded, what to look for."""
    if key is None or key not in LESSONS:
        return
    lesson = LESSONS[key]
    with st.container(border=True):
        text, close = st.columns([8, 1], vertical_alignment="top")
        text.markdown(f"**Lesson: {plain(lesson.title)}** · {_badges(lesson)}")
        text.markdown(f"**Predict, then run.** {plain(lesson.question)}")
        close.button("Close", key="lesson_close", on_click=close_lesson, width="stretch")
        with st.expander("What to look for"):
            st.markdown(plain(lesson.look_for))
