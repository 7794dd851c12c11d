"""Mounts `figures.ANIMATION_GUARD` on the page: a Streamlit custom component (inline, no
iframe) whose only work is that script."""

from __future__ import annotations

import streamlit as st

from app.figures import ANIMATION_GUARD

_COMPONENT = st.components.v2.component(
    "descent_lab_animation_guard", js=f"export default function() {{ {ANIMATION_GUARD} }}"
)


def install() -> None:
    """Mount the guard (idempotent: the script installs its listeners once per page)."""
    _COMPONENT(key="animation_guard")
