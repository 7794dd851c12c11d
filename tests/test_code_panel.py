"""The "Code" popover on the page: the script for the current run, its download, all runs,
the data CSV beside a run on data, and the classroom switch that hides it."""

from __future__ import annotations

from typing import ClassVar

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from app import code_panel
from optimizers.codegen import CSV_NAME, data_csv, file_name, to_code, to_code_all
from optimizers.engine import RunConfig
from tests.apptest_tools import open_link


class RecordingStorage(MemoryMediaFileStorage):
    """The media storage AppTest gives each run, remembered so a test can read a download."""

    made: ClassVar[list[MemoryMediaFileStorage]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        RecordingStorage.made.append(self)


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    RecordingStorage.made = []
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    return RecordingStorage.made


def downloaded(at: AppTest, made: list[MemoryMediaFileStorage], key: str) -> tuple[str, str]:
    """(file name, text) of the download button `key` after the last run."""
    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith(f"-{key}")]
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    stored = made[-1].get_file(file_id)
    return stored.filename, stored.content.decode()


def shown_script(at: AppTest) -> str:
    """The text of the popover's code block (the one script on the page), with the final
    newline that the code element drops."""
    (script,) = [c.value for c in at.code if c.value.startswith('"""') and "Descent Lab" in c.value]
    return script + "\n"


def test_the_popover_shows_the_current_runs_code_and_downloads_it(
    storage: list[MemoryMediaFileStorage],
) -> None:
    at = open_link({"surface": "booth", "steps": "120", "run1_optimizer": "adam"})
    assert at.radio(key="code_framework").value == "pytorch"
    config = RunConfig(surface="booth", optimizer="adam", steps=120)  # the link's run, defaults
    shown = shown_script(at)
    assert shown == to_code(config, "pytorch")
    assert "torch.optim.Adam([w], lr=0.05" in shown
    name, text = downloaded(at, storage, "code_download")
    assert name == file_name(config, "pytorch") == "descent_lab_adam_booth_pytorch.py"
    assert text == shown
    at.radio(key="code_framework").set_value("keras").run()
    name, text = downloaded(at, storage, "code_download")
    assert name == "descent_lab_adam_booth_keras.py"
    assert text == shown_script(at) == to_code(config, "keras")
    assert not [b for b in at.get("download_button") if b.proto.id.endswith("-code_csv")]


def test_all_runs_and_the_data_csv(storage: list[MemoryMediaFileStorage]) -> None:
    at = open_link({"surface": "linreg", "runs": "2", "run2_optimizer": "momentum"})
    at.selectbox(key="code_run").set_value(code_panel.ALL_RUNS).run()
    assert not at.exception
    name, text = downloaded(at, storage, "code_download")
    assert name == "descent_lab_all_runs_pytorch.py"
    assert text == shown_script(at) and text.count("def run_") == 2
    csv_name, csv = downloaded(at, storage, "code_csv")
    assert csv_name == CSV_NAME
    assert csv == data_csv(RunConfig(surface="linreg"))


def test_chosen_code_matches_the_api() -> None:
    configs = [RunConfig(optimizer="adam"), RunConfig(optimizer="lion", surface="booth")]
    labels = ["Run 1", "Run 2"]
    script, name, csv = code_panel.chosen_code(configs, labels, "Run 2", "optax")
    assert (script, name, csv) == (
        to_code(configs[1], "optax"),
        file_name(configs[1], "optax"),
        None,
    )
    script, _, _ = code_panel.chosen_code(configs, labels, code_panel.ALL_RUNS, "keras")
    assert script == to_code_all(configs, "keras")
    with pytest.raises(ValueError, match="no run is labelled"):
        code_panel.chosen_code(configs, labels, "Run 9", "optax")


@pytest.mark.parametrize("hidden", ["code", "export"])
def test_classroom_can_hide_the_code(hidden: str) -> None:
    at = open_link({"hide": hidden})
    assert not [c for c in at.code if c.value.startswith('"""') and "Descent Lab" in c.value]
    assert not [b for b in at.get("download_button") if b.proto.id.endswith("-code_download")]


def test_classroom_can_lock_the_code() -> None:
    at = open_link({"lock": "code"})
    (popover,) = [p.proto.popover for p in at.get("popover") if p.proto.popover.label == "Code"]
    assert popover.disabled
