"""The scene's controls: surface and its parameters, steps, start point, view toggles, and the
step inspector's slider."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from app import compute, custom
from app.controls.classroom import classroom
from app.controls.widgets import ensure, ensure_choice, param_widget
from app.link.address import current_state
from app.link.table import SURFACE_SEEN, VIEW_TOGGLES
from app.state import (
    CUSTOM_SURFACES,
    DEFAULT_SURFACE,
    INSPECT_SPEC,
    START_LIMIT,
    STEPS_SPEC,
    SURFACE_CHOICES,
    start_specs,
    surface_key,
)
from optimizers.engine import MAX_STEPS
from surfaces import SURFACES, Surface
from surfaces.formula import without_float_noise

STEP_CHOICES = (10, 20, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000)


@dataclass(frozen=True)
class Scene:
    """Everything shared by the runs: the surface, its parameters, steps, start and views."""

    surface: Surface
    params: dict[str, float]
    steps: int
    start: tuple[float, float]
    show_3d: bool
    show_field: bool

    @property
    def ref(self) -> compute.SurfaceRef:
        """The surface as the caches refer to it (see `compute.ref`)."""
        return compute.ref(self.surface)


def _next_start(surface: Surface) -> None:
    """The surface's next preset start after the one shown (its first after any other point),
    without float noise (it goes in the link)."""
    here = (st.session_state.get("x0"), st.session_state.get("y0"))
    starts = [(without_float_noise(x), without_float_noise(y)) for x, y in surface.starts]
    index = starts.index(here) if here in starts else -1
    st.session_state["x0"], st.session_state["y0"] = starts[(index + 1) % len(starts)]


def _custom_surface(key: str, mode: str) -> Surface | None:
    """The formula or data surface with its controls (without them when classroom mode hides
    the surface controls); None for registry surfaces."""
    if key not in CUSTOM_SURFACES:
        return None
    if mode == "hide":
        page = current_state()
        try:
            return page.custom_surface()
        except ValueError:
            return None
    draw = custom.formula_controls if key == "formula" else custom.data_controls
    return draw(disabled=mode == "lock")


def _surface_name(key: str) -> str:
    return SURFACES[key].name if key in SURFACES else CUSTOM_SURFACES[key]


def _start_controls(key: str, surface: Surface) -> tuple[float, float]:
    """x₀ and y₀ (a new surface starts from its own first preset) and the preset button."""
    state, mode = st.session_state, classroom().mode("start")
    if state.get(SURFACE_SEEN) != key:
        first_visit = SURFACE_SEEN not in state
        for name, value in zip(("x0", "y0"), surface.starts[0], strict=True):
            if not first_visit or name not in state:
                state[name] = value
        state[SURFACE_SEEN] = key
    x_spec, y_spec = (  # the surface's own preset start by default
        replace(spec, default=min(max(default, spec.low), spec.high))
        for spec, default in zip(start_specs(key), surface.starts[0], strict=True)
    )
    x0, y0 = ensure("x0", x_spec, "number"), ensure("y0", y_spec, "number")
    if mode != "hide":
        locked = mode == "lock"
        st.markdown("**Start point**" + ("" if locked else " · or click the contour"))
        left, right = st.columns(2)
        for column, spec in ((left, x_spec), (right, y_spec)):
            column.number_input(
                spec.label,
                min_value=-START_LIMIT,
                max_value=START_LIMIT,
                step=0.1,
                format="%.4g",
                disabled=locked,
                key=spec.name,
            )
        st.button(
            "Next preset start" if len(surface.starts) > 1 else "Preset start",
            key="next_start",
            on_click=_next_start,
            args=(surface,),
            disabled=locked,
        )
    return float(x0), float(y0)


def scene_controls() -> Scene:
    """Surface, its parameters, steps, start point and view toggles."""
    room = classroom()
    key = ensure_choice("surface", SURFACE_CHOICES, DEFAULT_SURFACE)
    if room.mode("surface") != "hide":
        st.selectbox(
            "Loss surface",
            SURFACE_CHOICES,
            format_func=_surface_name,
            key="surface",
            disabled=room.mode("surface") == "lock",
        )
    surface = _custom_surface(key, room.mode("surface")) or SURFACES.get(key)
    if surface is None:  # no formula or table was ever accepted in this session
        surface = SURFACES[DEFAULT_SURFACE]
    params = {
        p.name: param_widget(p, surface_key(surface, p.name), group="surface")
        for p in surface.params
    }

    steps = ensure("steps", STEPS_SPEC, "int")
    if room.mode("steps") != "hide":
        options = sorted({*STEP_CHOICES, MAX_STEPS, steps})
        st.select_slider("Steps", options, key="steps", disabled=room.mode("steps") == "lock")

    start = _start_controls(key, surface)
    toggles = {row.key: bool(ensure(row.key, row.spec, "toggle")) for row in VIEW_TOGGLES}
    if room.mode("views") != "hide":
        for row in VIEW_TOGGLES:
            st.toggle(row.spec.label, key=row.key, disabled=room.mode("views") == "lock")
    return Scene(surface, params, steps, start, **toggles)


def inspected_step(steps: int) -> int:
    """The inspector's step (key "inspect_step"), coerced to 0 … steps; read before its slider
    is drawn so that the metrics figure above it can mark the same step."""
    step: int = ensure("inspect_step", replace(INSPECT_SPEC, high=steps), "int")
    return step


def inspect_step_slider(steps: int) -> int:
    """The inspector's step slider (locked as classroom mode has "inspector")."""
    inspected_step(steps)
    locked = classroom().mode("inspector") == "lock"
    return int(st.slider("Step", 0, max(steps, 1), key="inspect_step", disabled=locked))
