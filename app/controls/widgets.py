"""One widget per parameter, its session value made safe before it is drawn.

Widget values are untrusted (URL, stale state): `ensure` coerces each one to its widget's type
and range before the widget is drawn, and widgets take their value from session state only
(never a `value=` argument), so a value can be written by a callback without a warning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import streamlit as st

from app.controls.classroom import classroom
from app.state import Kind, coerce, widget_kind
from surfaces import ParamSpec

MANTISSAS = ("1", "1.2", "1.5", "2", "2.5", "3", "4", "5", "6", "8")


def ensure(key: str, spec: ParamSpec, kind: Kind | None = None) -> Any:
    """Coerce session_state[key] to `spec` as widget `kind` (else `widget_kind(spec)`) holds
    it, seeding the default, before its widget is drawn."""
    state = st.session_state
    kind = kind or widget_kind(spec)
    value = coerce(state.get(key, spec.default), spec.default, spec.low, spec.high, kind)
    current = state.get(key)
    if key not in state or current != value or type(current) is not type(value):
        state[key] = value
    return value


def ensure_choice(key: str, options: Sequence[str], default: str) -> str:
    """Reset session_state[key] to `default` unless it is one of `options`."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    choice: str = st.session_state[key]
    return choice


def log_options(low: float, high: float, current: float) -> list[float]:
    """A 1–1.2–1.5–2–2.5–3–4–5–6–8 grid on [low, high], its ends, and `current` exactly
    (grid points within 0.2 % of `current` dropped so that every label is distinct)."""
    grid = {low, high}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in MANTISSAS:
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                grid.add(value)
    kept = {v for v in grid if abs(v - current) > 2e-3 * abs(current)}
    return sorted({*kept, current})


def slider_step(spec: ParamSpec) -> float:
    """A linear slider's step: about a thousandth of its range, a power of ten."""
    return 10.0 ** (math.floor(math.log10(spec.high - spec.low)) - 3)


def fmt(value: float) -> str:
    """A number as the controls show it: 4 significant digits."""
    return f"{value:.4g}"


def param_widget(
    spec: ParamSpec, key: str, kind: Kind | None = None, group: str | None = None
) -> float:
    """The widget for one ParamSpec (of `kind`, else `widget_kind(spec)`), keyed `key`, shown as
    classroom mode has `group`; returns its value as a float."""
    kind = kind or widget_kind(spec)
    value = ensure(key, spec, kind)
    mode = classroom().mode(group) if group else "show"
    if mode == "hide":
        return float(value)
    label, help_text, disabled = spec.label, spec.help, mode == "lock"
    if kind == "toggle":
        return float(st.toggle(label, key=key, help=help_text, disabled=disabled))
    if kind == "int":
        low, high = int(spec.low), int(spec.high)
        return float(
            st.number_input(label, low, high, step=1, key=key, help=help_text, disabled=disabled)
        )
    if kind == "log":
        options = log_options(spec.low, spec.high, value)
        return float(
            st.select_slider(
                label, options, format_func=fmt, key=key, help=help_text, disabled=disabled
            )
        )
    if kind == "slider":
        step = slider_step(spec)
        decimals = max(0, -math.floor(math.log10(step)))
        return float(
            st.slider(
                label,
                spec.low,
                spec.high,
                step=step,
                format=f"%.{decimals}f",
                key=key,
                help=help_text,
                disabled=disabled,
            )
        )
    return float(
        st.number_input(
            label,
            spec.low,
            spec.high,
            step=0.01,
            format="%g",
            key=key,
            help=help_text,
            disabled=disabled,
        )
    )
