"""The text of the scripts that `optimizers.codegen` writes: a row for every rule, schedule,
modifier and surface in each framework, the differences each script states, ruff-clean output,
one golden script per framework, and the data set beside a script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from optimizers.codegen import CSV_NAME, FRAMEWORKS, data_csv, file_name, to_code, to_code_all
from optimizers.codegen.class_tables import KERAS_OPTIMIZERS, TORCH_OPTIMIZERS
from optimizers.codegen.coverage import MODIFIER_CODE, SCHEDULE_CODE
from optimizers.codegen.optax_rules import OPTAX_OPTIMIZERS
from optimizers.codegen.surface_code import SURFACES as SURFACE_CODE
from optimizers.engine import MODIFIERS, RunConfig
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES
from surfaces.formula import formula_surface
from tests.codegen_cases import BATCHED, BIG_DATA, CASES, NOISY, words

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    "table",
    [TORCH_OPTIMIZERS, KERAS_OPTIMIZERS, OPTAX_OPTIMIZERS],
    ids=FRAMEWORKS,
)
def test_every_optimizer_has_a_row_in_each_framework(table: dict) -> None:
    assert set(table) == set(OPTIMIZERS)


def test_every_schedule_and_modifier_has_a_row_for_each_framework() -> None:
    assert set(SCHEDULE_CODE) == set(SCHEDULES)
    assert set(MODIFIER_CODE) == {spec.name for spec in MODIFIERS}
    for table in (SCHEDULE_CODE, MODIFIER_CODE):
        assert all(set(row) == set(FRAMEWORKS) for row in table.values())


def test_every_built_in_surface_has_a_row() -> None:
    assert set(SURFACES) <= set(SURFACE_CODE)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mini_batches_are_said_to_be_drawn_differently(framework: str) -> None:
    statement = "Mini-batches: the batches are drawn by this script's own generator"
    assert statement in words(to_code(BATCHED, framework))


@pytest.mark.parametrize(
    ("config", "framework", "statement"),
    [
        (RunConfig(optimizer="rmsprop"), "pytorch", "torch's RMSprop adds ε outside √v"),
        (RunConfig(optimizer="adagrad"), "pytorch", "torch's Adagrad adds ε outside the square"),
        (RunConfig(optimizer="nadam"), "pytorch", "torch's NAdam adds a momentum-decay schedule"),
        (
            RunConfig(optimizer="amsgrad"),
            "pytorch",
            "torch's amsgrad=True keeps the maximum of raw v",
        ),
        (
            RunConfig(optimizer="adam"),
            "keras",
            "Keras's Adam adds its ε before the bias correction",
        ),
        (
            RunConfig(schedule="one_cycle"),
            "pytorch",
            "torch's OneCycleLR reaches its final rate one step earlier",
        ),
        (RunConfig(schedule="plateau"), "pytorch", "eps=0 so that no cut is skipped"),
        (
            RunConfig(modifiers={"clip_norm": 1.0}),
            "pytorch",
            "clip_grad_norm_ would divide by ‖g‖ + 1e-6",
        ),
        (RunConfig(schedule="plateau"), "optax", "patience here is the app's + 1"),
    ],
)
def test_known_framework_differences_are_stated(
    config: RunConfig, framework: str, statement: str
) -> None:
    assert statement in words(to_code(config, framework))


def test_scripts_pass_ruff(tmp_path: Path) -> None:
    """Every case's script, the all-runs script and the data one lint clean under the project's
    rules (unused imports, names, simplifications) and are formatted as ruff formats them."""
    paths = []
    configs = [*CASES.values(), NOISY, BATCHED, BIG_DATA]
    for framework in FRAMEWORKS:
        for i, config in enumerate(configs):
            path = tmp_path / f"case_{i}_{framework}.py"
            path.write_text(to_code(config, framework))
            paths.append(path)
        path = tmp_path / f"all_{framework}.py"
        path.write_text(to_code_all(configs[:4], framework))
        paths.append(path)
    ruff = [sys.executable, "-m", "ruff"]
    settings = ["--config", str(ROOT / "pyproject.toml")]
    lint = subprocess.run(
        [*ruff, "check", *settings, *map(str, paths)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout[-4000:]


GOLDEN_RUN = RunConfig(
    surface="rosenbrock",
    optimizer="adam",
    lr=0.02,
    steps=300,
    schedule="cosine",
    schedule_params={"decay_steps": 300, "min_factor": 0.05},
    warmup={"warmup_steps": 20},
    modifiers={"clip_norm": 5.0},
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_golden_script(framework: str) -> None:
    """One representative run per framework, kept as a file a person has read."""
    golden = GOLDEN / f"{framework}.py"
    assert to_code(GOLDEN_RUN, framework) == golden.read_text()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_formula_within_the_typed_limit_is_written_whatever_its_canonical_length(
    framework: str,
) -> None:
    """The 500-character limit is on the typed text; the canonical text the surface keeps
    (spaced out, 1e9 written in full) may be longer and must still be written as code."""
    typed = "+".join(["x*y*1e9"] * 60)[:499].rstrip("+*e1")
    surface = formula_surface(typed, (-3.0, 3.0, -3.0, 3.0), (1.0, 1.5))
    assert surface.recipe is not None
    assert len(typed) < 500 < len(str(surface.recipe[1]))
    script = to_code(RunConfig(surface=surface, optimizer="gd", lr=1e-12, steps=5), framework)
    assert script.count("1000000000") >= 50


def test_data_csv_and_file_name() -> None:
    csv = data_csv(CASES["data"])
    assert csv == "x,y\n0,1.2\n1,2.9\n2,5.1\n3.5,8.2\n4,8.8\n"
    assert data_csv(RunConfig()) is None
    assert file_name(RunConfig(optimizer="adam"), "keras") == "descent_lab_adam_rosenbrock_keras.py"
    big = to_code(BIG_DATA, "pytorch")
    assert f'np.loadtxt("{CSV_NAME}"' in big and "import numpy as np" in big


def test_unknown_framework_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="framework must be one of"):
        to_code(RunConfig(), "tensorflow")
