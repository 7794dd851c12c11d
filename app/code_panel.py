"""The "Code" popover: every run, or all of them, as a PyTorch, Keras 3 or optax script.

The text comes from `optimizers.codegen`; this module only lays out the picker, the code (with
Streamlit's copy button), the .py download and, for runs on data, the CSV beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from app.text import plain
from optimizers.codegen import CSV_NAME, FRAMEWORKS, data_csv, file_name, to_code, to_code_all
from optimizers.engine import RunConfig

ALL_RUNS = "All runs"
ALL_RUNS_FILE = "descent_lab_all_runs_{framework}.py"


def chosen_code(
    configs: Sequence[RunConfig], labels: Sequence[str], choice: str, framework: str
) -> tuple[str, str, str | None]:
    """(script, its file name, the data CSV or None) for the run labelled `choice`, or every
    run for ALL_RUNS. An unknown choice or framework is a ValueError."""
    if choice == ALL_RUNS:
        csvs = {data_csv(c) for c in configs} - {None}
        csv = csvs.pop() if len(csvs) == 1 else None  # the runs share one surface
        name = ALL_RUNS_FILE.format(framework=framework)
        return to_code_all(configs, framework), name, csv
    if choice not in labels:
        raise ValueError(f"no run is labelled {choice!r}")
    config = configs[list(labels).index(choice)]
    return to_code(config, framework), file_name(config, framework), data_csv(config)


def code_panel(configs: Sequence[RunConfig], labels: Sequence[str], locked: bool = False) -> None:
    """A popover with a framework picker, a run picker and the script for that choice."""
    # Keyed: a rerun (choosing a framework) keeps it open.
    with st.popover(
        "Code", icon=":material/code:", disabled=locked, width="stretch", key="code_box"
    ):
        framework = st.radio(
            "Framework",
            list(FRAMEWORKS),
            format_func=FRAMEWORKS.__getitem__,
            help="PyTorch, Keras 3 (on its JAX backend) or optax: each script reproduces the run.",
            horizontal=True,
            key="code_framework",
        )
        choice = labels[0]  # one run: nothing to choose
        if len(labels) > 1:
            choice = st.selectbox("Run", [*labels, ALL_RUNS], key="code_run")
        try:
            script, name, csv = chosen_code(configs, labels, choice, framework)
        except ValueError as error:
            st.error(f"Could not write the code: {plain(error)}")
            return
        st.caption(
            "Runs as it is and prints the final point; its docstring says where the framework's "
            "own rule or scheduler differs from the app's and what the script does about it."
        )
        st.code(script, language="python")
        script_column, data_column = st.columns(2)
        script_column.download_button(
            f"Download {name}",
            data=script,
            file_name=name,
            mime="text/x-python",
            key="code_download",
            on_click="ignore",
        )
        if csv is not None:
            data_column.download_button(
                f"Download {CSV_NAME} (the script reads it when the data is large)",
                data=csv,
                file_name=CSV_NAME,
                mime="text/csv",
                key="code_csv",
                on_click="ignore",
            )
