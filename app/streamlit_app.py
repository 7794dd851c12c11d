"""Descent Lab: pick a loss surface, race optimizers down it, watch them move.

Start from the repository root with `streamlit run app/streamlit_app.py` (or `make run`).
"""

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

# `streamlit run` puts app/ on sys.path, not the repository root (surfaces/, optimizers/).
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from common.runtime import configure_jax  # noqa: E402

configure_jax()  # float64 and XLA's CPU flags, before the first computation

import streamlit as st  # noqa: E402

from app import (  # noqa: E402
    analysis,
    code_panel,
    compute,
    controls,
    custom,
    export,
    figures,
    inspector,
    lessons,
    link_size,
    live,
    share,
)
from app.link import address  # noqa: E402
from app.text import plain  # noqa: E402
from app.views import RACE  # noqa: E402
from optimizers import cost  # noqa: E402
from optimizers.engine import Trajectory  # noqa: E402

link = address.load_link(lessons.LESSONS)  # the URL's setup, at a session's first run
room = link.classroom
st.set_page_config(
    page_title="Descent Lab",
    page_icon=str(live.FAVICON),
    layout="wide",
    initial_sidebar_state="collapsed" if room.present else "auto",
)
live.page_head(room.present)  # a compact header: the picture starts on the first screen
title_column, present_column, lesson_column, code_column, share_column = st.container(
    key="header"
).columns([2.1, 1.5, 1.45, 1.2, 1.2], vertical_alignment="center")
title_column.title("Descent Lab")
with present_column:
    controls.presenter_toggle()
if room.mode("lessons") != "hide":
    # Keyed popovers stay open through the reruns their widgets cause.
    with lesson_column.popover(
        "Lessons", icon=":material/school:", width="stretch", key="lessons_box"
    ):
        lessons.lesson_picker()
code_slot = code_column.empty()  # filled once the runs are known, below
if room.mode("share") != "hide":
    with share_column.popover("Share", icon=":material/link:", width="stretch", key="share_box"):
        share_slot = st.container()
view = analysis.view_selector()  # "Race", or a learning-rate analysis instead of the race
share.link_problems(link.problems)

with st.sidebar:
    scene = controls.scene_controls()
    st.divider()
    st.header("Runs")
    runs_box = st.container()  # the run panels: filled by the fragment below


@st.fragment
def runs_and_views(scene: controls.Scene, view: str) -> None:
    """What the runs' controls change, rerun alone when one of them changes (a fragment): the
    run panels, the link, the code and share panels, and the race or the analysis view. A
    change that reaches the rest of the page (a click that moves the start, a closed lesson)
    reruns the whole page (`address.outside_changed`). The header's slots (`code_slot`,
    `share_slot`) and the sidebar's `runs_box` are the page's, filled from here."""
    with runs_box:
        setups = controls.run_controls(scene)
    page = address.current_state()
    if address.outside_changed(page):
        st.rerun(scope="app")
    address.sync_link(page)  # the address bar always holds the link to what is on screen
    link_size.warn_if_dropped()  # a link Streamlit dropped as too large
    if room.mode("share") != "hide":
        with share_slot:
            share.share_panel(page)

    if view != RACE:
        lessons.lesson_card(link.lesson)
        analysis.analysis_panel(view, scene, setups)
        st.stop()

    # Run every valid configuration (cached); a bad one is reported and the others carry on.
    surface, params = scene.surface, compute.items(scene.params)
    runs: list[export.ExportRun] = []
    drawn: list[tuple[compute.ConfigKey, str, str]] = []  # what the figures show, hashable
    ran: list[tuple[controls.RunSetup, Trajectory]] = []  # the same runs' setups and trajectories
    problems: dict[int, str] = {}
    over_budget = cost.race_refusal([s.config for s in setups if s.config is not None])
    for setup in setups if not over_budget else ():  # too much work: refused once, below
        if setup.config is None:
            problems[setup.run_id] = setup.error or "invalid configuration"
            continue
        key = compute.config_key(setup.config)
        try:
            trajectory, sentence = compute.run(key)
        except ValueError as error:
            problems[setup.run_id] = str(error)
            continue
        runs.append(export.ExportRun(setup.label, setup.config, trajectory, sentence))
        drawn.append((key, setup.label, figures.PALETTE[(setup.run_id - 1) % len(figures.PALETTE)]))
        ran.append((setup, trajectory))
    step = controls.inspected_step(scene.steps)
    if "hide" not in (room.mode("code"), room.mode("export")):  # code is an export too
        with code_slot.container():  # always: a fragment writes only where the full run wrote
            if runs:
                locked = "lock" in (room.mode("code"), room.mode("export"))
                configs, labels = [run.config for run in runs], [run.label for run in runs]
                code_panel.code_panel(configs, labels, locked)

    try:
        lesson = lessons.lesson_text(link.lesson)
        live.show(
            scene.ref, params, scene.show_field, ran, tuple(drawn), step, lesson, room.present
        )
        surface_drawn = True
    except ValueError as error:
        st.error("Could not draw the surface: " + plain(error))
        surface_drawn = False
    clicks = " Click the contour to start every run from that point." * (
        room.mode("start") == "show"
    )
    st.caption(plain("▶ plays the race; drag a rate slider to watch the path follow." + clicks))
    if over_budget:
        st.error(over_budget)
    for setup in setups:
        if setup.run_id in problems:
            st.error(
                "**Run " + str(setup.run_id) + "** cannot run: " + plain(problems[setup.run_id])
            )
    for run in runs:
        getattr(st, inspector.tone(run.trajectory))(f"**{plain(run.label)}** — {run.description}")
    st.markdown("#### " + plain(surface.name))
    st.latex(surface.latex)
    controls.caption(
        plain(surface.reference),
        notes=[
            surface.note,
            "Pick a loss surface, race up to six optimizers down it, and see how the learning "
            "rate, the update rule and the schedule decide who gets to the bottom.",
        ],
    )
    if surface.recipe and surface.recipe[0] == "data" and (points := custom.current_points()):
        shown = step or None  # the step control's, else each run's last
        lines = [(d[1], d[2], run.trajectory) for run, d in zip(runs, drawn, strict=True)]
        fits = figures.fit_lines(lines, shown)
        panel = figures.data_panel_figure(points, fits, bool(surface.recipe[2]), shown)
        st.plotly_chart(panel, key="data_panel", theme=None, config={"displaylogo": False})

    if scene.show_3d and surface_drawn:
        st.subheader("Surface in 3-D")
        figure3d = compute.surface3d_figure(scene.ref, params, tuple(drawn))
        st.plotly_chart(figure3d, key="surface3d", theme=None, config={"displaylogo": False})

    if room.mode("inspector") != "hide":
        st.subheader("Step inspector")
        step = controls.inspect_step_slider(scene.steps)
        # Side by side for several runs; one run's table needs no column block
        columns: list[AbstractContextManager] = (
            list(st.columns(min(len(runs), 3))) if len(runs) > 1 else [nullcontext()]
        )
        for i, run in enumerate(runs):
            with columns[i % len(columns)]:
                if not inspector.started(run.trajectory):
                    why = plain(run.description)
                    st.markdown("**" + plain(run.label) + "** has no step to inspect: " + why)
                    continue
                shown = inspector.clamp_step(run.trajectory, step)
                ended = f" (the run ends at step {shown})" if shown < step else ""
                rows = inspector.markdown_table(inspector.step_rows(run.trajectory, shown))
                heading = "**" + plain(run.label) + f"** · step {shown}{ended}"  # numbers only
                st.markdown(heading + "\n\n" + rows)

    if room.mode("lessons") != "hide":
        st.markdown(
            "### Lessons\n\n" + lessons.gallery_table()
        )  # one element, the table built once

    if room.mode("export") == "hide":
        st.stop()
    st.subheader("Export")
    downloads = (  # label, contents (built only when clicked), file name, MIME type, key, usable
        ("Trajectories (CSV)", lambda: export.to_csv(runs), "descent-lab-trajectories.csv",
         "text/csv", "export_csv", bool(runs)),
        ("Trajectories (JSON)", lambda: export.to_json(runs), "descent-lab-trajectories.json",
         "application/json", "export_json", bool(runs)),
        ("Animated figure (HTML)",
         lambda: export.titled_html(
             figures.export_html(
                 compute.contour_figure(scene.ref, params, tuple(drawn), scene.show_field)
             ),
             *export.html_title(surface.name, runs),
         ),
         "descent-lab.html",
         "text/html", "export_html", surface_drawn),
    )  # fmt: skip
    row = st.container(horizontal=True)  # one block, not a column per button
    for label, data, file_name, mime, button_key, usable in downloads:
        row.download_button(
            label, data=data, file_name=file_name, mime=mime, key=button_key, on_click="ignore",
            disabled=not usable or room.mode("export") == "lock",
        )  # fmt: skip


address.mark_full_run()
runs_and_views(scene, view)
