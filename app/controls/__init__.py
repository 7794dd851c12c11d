"""Sidebar controls, one module per area; every widget's key is a field of the link
(app/link/table.py lists them) or a button:

    widgets.py    one widget per ParamSpec, its session value coerced first (`ensure`)
    scene.py      surface, its parameters, steps, start point, view toggles, the inspector
    runs.py       a panel per run, and adding, duplicating and removing runs
    pickers.py    the optimizer and schedule pickers with their formula and reference
    classroom.py  what a classroom link hides or locks, the notes, presenter mode
"""

from app.controls.classroom import caption, classroom, presenter_toggle
from app.controls.runs import RunSetup, run_controls, run_label
from app.controls.scene import Scene, inspect_step_slider, inspected_step, scene_controls
from app.controls.widgets import ensure_choice, fmt, log_options, param_widget, slider_step

__all__ = [
    "RunSetup",
    "Scene",
    "caption",
    "classroom",
    "ensure_choice",
    "fmt",
    "inspect_step_slider",
    "inspected_step",
    "log_options",
    "param_widget",
    "presenter_toggle",
    "run_controls",
    "run_label",
    "scene_controls",
    "slider_step",
]
