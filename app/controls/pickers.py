"""A run's pickers over a registry (optimizers, schedules): the select box, then the chosen
row's formula, its reference and its note."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from app.controls.classroom import caption, classroom, is_folded
from common.registry import Registry
from optimizers.rules import OPTIMIZERS
from optimizers.specs import OPTIMIZER_GROUPS, OptimizerSpec, ScheduleSpec


def optimizer_label(key: str) -> str:
    """The picker label "Group · name", the group named by its sentence up to the colon."""
    rule = OPTIMIZERS[key]
    return f"{OPTIMIZER_GROUPS[rule.group].split(':')[0]} · {rule.name}"


def grouped_optimizers() -> list[str]:
    """The optimizer keys as the picker lists them: group after group in OPTIMIZER_GROUPS
    order, each group in registry order."""
    return [key for group in OPTIMIZER_GROUPS for key, o in OPTIMIZERS.items() if o.group == group]


Picked = TypeVar("Picked", OptimizerSpec, ScheduleSpec)


def picker(
    label: str,
    registry: Registry[Picked],
    key: str,
    on_change: Callable[[int], None],
    run_id: int,
    group: str,
) -> Picked:
    """A select box over a registry's rows (as classroom mode has `group`), then the chosen
    row's formula, its picker group (optimizers, listed by group) and its reference where it
    has one, and its note."""
    mode = classroom().mode(group)
    grouped = registry is OPTIMIZERS
    if mode != "hide":
        st.selectbox(
            label,
            grouped_optimizers() if grouped else list(registry),
            format_func=optimizer_label if grouped else lambda k: registry[k].name,
            key=key,
            on_change=on_change,
            args=(run_id,),
            disabled=mode == "lock",
            help="\n\n".join(OPTIMIZER_GROUPS.values()) if grouped else None,
        )
    row = registry[st.session_state[key]]
    if is_folded():
        return row
    with st.container(key=f"{key}_formula"):  # sized to the sidebar (see the schedule formulas)
        st.latex(row.latex)
    facts = [OPTIMIZER_GROUPS[row.group]] if isinstance(row, OptimizerSpec) else []
    facts += [row.reference] if row.reference else []
    caption(" · ".join(facts), notes=[row.note])
    return row
