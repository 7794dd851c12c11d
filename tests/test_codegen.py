"""The PyTorch, Keras 3 and optax scripts that `optimizers.codegen` writes reproduce the engine.

Every script is executed: one subprocess per framework runs all of its scripts in turn (imports
and warm-up paid once), and each final point is compared with `engine.run_batch` to 1e-8.
Where a script states that it differs (torch's noise, every framework's mini-batches), the test
checks the statement and then swaps in the app's random draws, after which it must match too.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optimizers import codegen
from optimizers.codegen import FRAMEWORKS, data_csv, file_name, to_code, to_code_all
from optimizers.engine import MODIFIERS, RunConfig, batch_weights, bucket, run_batch
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES
from surfaces.dataset import Points, data_surface
from surfaces.formula import formula_surface

pytestmark = pytest.mark.xdist_group("codegen")

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
TOLERANCE = 1e-8
POINT = re.compile(r"final point: \(([^,]+), ([^)]+)\) loss: (\S+)")

# Schedule parameters that make every schedule change the rate within a short run.
SHORT_SCHEDULES: dict[str, dict[str, float]] = {
    "constant": {},
    "step": {"step_size": 20, "gamma": 0.5},
    "multistep": {"milestone1": 40, "milestone2": 15, "milestone3": 40, "gamma": 0.6},
    "exponential": {"gamma": 0.5, "decay_steps": 30},
    "inverse_time": {"decay_rate": 2.0, "decay_steps": 20},
    "polynomial": {"decay_steps": 50, "power": 2.0, "end_factor": 0.1},
    "cosine": {"decay_steps": 40, "min_factor": 0.1},
    "sgdr": {"period": 10, "period_mult": 2, "min_factor": 0.05},
    "triangular": {"step_size": 10, "max_factor": 3.0},
    "triangular2": {"step_size": 10, "max_factor": 3.0},
    "exp_range": {"step_size": 10, "max_factor": 3.0, "gamma": 0.97},
    "one_cycle": {"total_steps": 50, "pct": 0.3, "div": 10.0, "final_div": 100.0},
    "plateau": {"patience": 2, "factor": 0.5, "cooldown": 1, "threshold": 0.01},
}
# Three surfaces per optimizer, at rates that converge there without diverging.
OPTIMIZER_SURFACES = (("quadratic", 1.0), ("booth", 0.5), ("rosenbrock", 0.05))


EXPORTED = [key for key in OPTIMIZERS if key not in codegen.NOT_EXPORTED]


def _lr(optimizer: str, scale: float) -> float:
    return OPTIMIZERS.lookup(optimizer).lr.default * scale


# Modifiers each rule meets in turn (with a schedule in turn), so that every pair is varied.
MODIFIER_SETS: tuple[dict[str, float], ...] = (
    {},
    {"clip_norm": 3.0},
    {"clip_value": 2.0},
    {"l2": 0.3},
    {"weight_decay": 0.2},
    {"clip_value": 2.0, "clip_norm": 2.5, "weight_decay": 0.05},
)


def _cases() -> dict[str, RunConfig]:
    """Every rule on three surfaces, each case with the next schedule (no warmup) and the next
    modifier set; every schedule again with warmup; every other surface; data and formulas."""
    cases: dict[str, RunConfig] = {}
    schedules = list(SCHEDULES)
    turn = 0
    for key in EXPORTED:
        for surface, scale in OPTIMIZER_SURFACES:
            schedule, mods = schedules[turn % len(schedules)], MODIFIER_SETS[turn % 6]
            turn += 1
            cases[f"{key}-{surface}-{schedule}"] = RunConfig(
                surface=surface,
                optimizer=key,
                lr=0.3 * scale if key == "newton" else _lr(key, scale),
                steps=50,
                schedule=schedule,
                schedule_params=SHORT_SCHEDULES[schedule],
                modifiers=mods,
            )
    for key in SCHEDULES:
        cases[f"{key}-adam-warmup"] = RunConfig(
            surface="booth",
            optimizer="adam",
            lr=0.2,
            steps=60,
            schedule=key,
            schedule_params=SHORT_SCHEDULES[key],
            warmup={"warmup_steps": 8, "warmup_start": 0.1},
        )
    cases["cosine-past-T"] = RunConfig(
        surface="quadratic",
        optimizer="momentum",
        lr=0.1,
        steps=80,
        schedule="cosine",
        schedule_params={"decay_steps": 30, "min_factor": 0.2},
    )
    cases["one_cycle-fraction"] = RunConfig(
        surface="quadratic",
        optimizer="gd",
        lr=0.1,
        steps=60,
        schedule="one_cycle",
        schedule_params={"total_steps": 45, "pct": 0.3},
    )
    cases["adamw-decay"] = RunConfig(
        surface="rosenbrock",
        optimizer="adamw",
        lr=0.02,
        steps=40,
        modifiers={"weight_decay": 0.1, "clip_norm": 10.0},
    )
    for surface in SURFACES.values():
        if surface.key not in dict(OPTIMIZER_SURFACES):
            cases[f"surface-{surface.key}"] = RunConfig(
                surface=surface.key, optimizer="adam", lr=0.01, steps=20
            )
    points = Points((0.0, 1.0, 2.0, 3.5, 4.0), (1.2, 2.9, 5.1, 8.2, 8.8))
    cases["data"] = RunConfig(surface=data_surface(points), optimizer="adam", lr=0.1, steps=40)
    cases["data-standardised"] = RunConfig(
        surface=data_surface(points, standardise=True), optimizer="rmsprop", lr=0.05, steps=40
    )
    cases["logreg-l2"] = RunConfig(
        surface="logreg", optimizer="momentum", lr=0.5, steps=40, modifiers={"l2": 0.1}
    )
    formula = "sin(x)*cos(y) + 0.1*(x^2 + y^2) + softplus(x - y)/4 + max(abs(x), atan(y), 0.5)^2"
    cases["formula"] = RunConfig(
        surface=formula_surface(formula, (-3.0, 3.0, -3.0, 3.0), (1.0, 1.5)),
        optimizer="nesterov",
        lr=0.05,
        steps=40,
    )
    cases["formula-logs"] = RunConfig(
        surface=formula_surface(
            "log(1 + x^2) + sqrt(1 + y^2) - exp(-x^2) * e^(y/pi)",
            (-3.0, 3.0, -3.0, 3.0),
            (2.0, -1.0),
        ),
        optimizer="adam",
        lr=0.1,
        steps=40,
    )
    return cases


CASES = _cases()
NOISY = RunConfig(
    surface="booth",
    optimizer="adam",
    lr=0.2,
    steps=40,
    modifiers={"noise_std": 0.5, "noise_seed": 7, "clip_norm": 4.0},
)
BATCHED = RunConfig(
    surface="linreg",
    optimizer="momentum",
    lr=0.05,
    steps=40,
    modifiers={"batch_size": 8, "batch_seed": 3, "l2": 0.01},
)
BIG_DATA = RunConfig(
    surface=data_surface(
        Points(
            tuple(i / 20 for i in range(150)),
            tuple(2 * i / 20 - 1 + (i % 7) / 10 for i in range(150)),
        )
    ),
    optimizer="adam",
    lr=0.1,
    steps=30,
)

RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, sys, traceback
    outputs = []
    for code in json.load(open(sys.argv[1])):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, "<generated>", "exec"), {"__name__": "__main__"})
            outputs.append(out.getvalue())
        except Exception:
            outputs.append("ERROR " + traceback.format_exc())
    json.dump(outputs, open(sys.argv[2], "w"))
    """
)


def _start(scripts: dict[str, list[str]], folder: Path) -> dict[str, subprocess.Popen]:
    """Start one subprocess per framework that runs all of its scripts; they run meanwhile."""
    (folder / "runner.py").write_text(RUNNER)
    env = {**os.environ, "PYTHONPATH": "", "KERAS_BACKEND": "jax"}
    processes = {}
    for framework, codes in scripts.items():
        (folder / f"{framework}.json").write_text(json.dumps(codes))
        processes[framework] = subprocess.Popen(
            [sys.executable, "-P", "runner.py", f"{framework}.json", f"{framework}.out"],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return processes


def _collect(processes: dict[str, subprocess.Popen], folder: Path) -> dict[str, list[str]]:
    outputs = {}
    for framework, process in processes.items():
        log, _ = process.communicate(timeout=600)
        assert process.returncode == 0, log
        outputs[framework] = json.loads((folder / f"{framework}.out").read_text())
    return outputs


def _app_noise(config: RunConfig) -> np.ndarray:
    """σ ξ_k, ξ ~ N(0, I): the engine's draw of one table for its whole scan."""
    mods = config.modifiers
    key = jax.random.key(jnp.uint32(mods["noise_seed"]))
    return np.asarray(mods["noise_std"] * jax.random.normal(key, (bucket(config.steps), 2)))


def _app_batches(config: RunConfig) -> list[list[int]]:
    """The indices of each step's mini-batch, as the engine draws them."""
    size = len(codegen._data(codegen.resolve(config))[0])
    mods = config.modifiers
    return [
        np.flatnonzero(batch_weights(size, mods["batch_size"], mods["batch_seed"], k)).tolist()
        for k in range(config.steps)
    ]


def _replace_line(code: str, start: str, new: str) -> str:
    """`code` with its one line that begins (after indentation) with `start` replaced."""
    lines = code.split("\n")
    hits = [i for i, line in enumerate(lines) if line.lstrip().startswith(start)]
    assert len(hits) == 1, f"expected one line starting {start!r}"
    i = hits[0]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i] = indent + new
    return "\n".join(lines)


ARRAY = {"pytorch": "torch.tensor", "keras": "jax.numpy.asarray", "optax": "jnp.asarray"}


def _with_app_noise(code: str, framework: str, config: RunConfig) -> str:
    table = _app_noise(config).tolist()
    return _replace_line(code, "noise = ", f"noise = {ARRAY[framework]}({table!r})")


def _with_app_batches(code: str, framework: str, config: RunConfig) -> str:
    table = _app_batches(config)
    new = f"batch = {ARRAY[framework]}({table!r})[step]"
    code = code.replace("for _ in range(", "for step in range(")
    return _replace_line(code, "batch = ", new)


NAMES = [*CASES, "noisy", "batched", "big-data"]
RACE = ("step-adam-warmup", "data", "cosine-past-T")  # the all-runs script's runs
CONFIGS = [*CASES.values(), NOISY, BATCHED, BIG_DATA]


class Results(NamedTuple):
    printed: dict[str, dict[str, str]]  # name → framework → what the script printed
    engine: dict[str, np.ndarray]  # name → the engine's final point


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Every case's script run in every framework, and the engine's runs, computed meanwhile."""
    folder = tmp_path_factory.mktemp("codegen")
    (folder / codegen.CSV_NAME).write_text(data_csv(BIG_DATA))
    scripts: dict[str, list[str]] = {}
    for framework in FRAMEWORKS:
        codes = [to_code(config, framework) for config in CONFIGS]
        if framework == "pytorch":
            i = NAMES.index("noisy")
            codes[i] = _with_app_noise(codes[i], framework, NOISY)
        i = NAMES.index("batched")
        codes[i] = _with_app_batches(codes[i], framework, BATCHED)
        codes.append(to_code(NOISY, framework))  # as written: with its own draws
        codes.append(to_code_all([CASES[name] for name in RACE], framework))
        scripts[framework] = codes
    processes = _start(scripts, folder)
    trajectories = run_batch(CONFIGS)
    for name, trajectory in zip(NAMES, trajectories, strict=True):
        assert trajectory.status.outcome != "diverged", name  # so the end point is w_n
    engine = {name: t.positions[-1] for name, t in zip(NAMES, trajectories, strict=True)}
    outputs = _collect(processes, folder)
    printed = {
        name: {framework: outputs[framework][i] for framework in FRAMEWORKS}
        for i, name in enumerate([*NAMES, "noisy-own-draws", "race"])
    }
    return Results(printed, engine)


def _words(text: str) -> str:
    """The text with every run of whitespace (a docstring's line breaks) as one space."""
    return " ".join(text.split())


def _final(output: str) -> tuple[float, float, float]:
    match = POINT.search(output)
    assert match, output[-2000:]
    return tuple(float(v) for v in match.groups())  # type: ignore[return-value]


def _assert_same_point(output: str, expected: np.ndarray) -> None:
    x, y, loss = _final(output)
    assert math.isfinite(loss)
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(np.array([x, y]) - expected).max() <= TOLERANCE * scale, (x, y, expected)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", NAMES)
def test_the_script_ends_where_the_engine_ends(results: Results, name: str, framework: str) -> None:
    _assert_same_point(results.printed[name][framework], results.engine[name])


def test_every_registered_rule_schedule_and_surface_is_executed() -> None:
    optimizers = {c.optimizer for c in CASES.values()}
    schedules = {c.schedule for c in CASES.values()}
    surfaces = {c.surface for c in CASES.values() if isinstance(c.surface, str)}
    assert optimizers == set(EXPORTED)  # the others: tests/test_rules_step_size.py
    assert schedules == set(SCHEDULES) == set(SHORT_SCHEDULES)
    assert surfaces == set(SURFACES)
    warmed = {c.schedule for c in CASES.values() if c.warmup}
    cold = {c.schedule for c in CASES.values() if not c.warmup}
    assert warmed == cold == schedules
    modified = {name for c in CASES.values() for name in c.modifiers}
    assert modified >= {"clip_value", "clip_norm", "l2", "weight_decay"}  # noise, batch: below


@pytest.mark.parametrize(
    "table",
    [codegen.TORCH_OPTIMIZERS, codegen.KERAS_OPTIMIZERS, codegen.OPTAX_OPTIMIZERS],
    ids=FRAMEWORKS,
)
def test_every_optimizer_has_a_row_in_each_framework(table: dict) -> None:
    assert set(table) == set(OPTIMIZERS)


def test_every_schedule_and_modifier_has_a_row_for_each_framework() -> None:
    assert set(codegen.SCHEDULE_CODE) == set(SCHEDULES)
    assert set(codegen.MODIFIER_CODE) == {spec.name for spec in MODIFIERS}
    for table in (codegen.SCHEDULE_CODE, codegen.MODIFIER_CODE):
        assert all(set(row) == set(FRAMEWORKS) for row in table.values())


def test_every_built_in_surface_has_a_row() -> None:
    assert set(SURFACES) <= set(codegen.SURFACES)


def test_torch_states_its_noise_differs_and_runs_with_its_own_draws(results: Results) -> None:
    """The torch script draws its own noise: it says so, and only the draw makes it differ
    (with the app's draw swapped in, `noisy` matched above); keras and optax draw the app's."""
    assert "torch's random numbers are not JAX's" in _words(to_code(NOISY, "pytorch"))
    for framework in ("keras", "optax"):
        assert "random numbers are not" not in to_code(NOISY, framework)
        _assert_same_point(results.printed["noisy-own-draws"][framework], results.engine["noisy"])
    x, y, _ = _final(results.printed["noisy-own-draws"]["pytorch"])
    assert np.abs(np.array([x, y]) - results.engine["noisy"]).max() > TOLERANCE


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mini_batches_are_said_to_be_drawn_differently(framework: str) -> None:
    statement = "Mini-batches: the batches are drawn by this script's own generator"
    assert statement in _words(to_code(BATCHED, framework))


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
    assert statement in _words(to_code(config, framework))


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
    config = ["--config", str(ROOT / "pyproject.toml")]
    lint = subprocess.run(
        [*ruff, "check", *config, *map(str, paths)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout[-4000:]


def test_all_runs_script_runs_each_run(results: Results) -> None:
    script = to_code_all([CASES[name] for name in RACE], "optax")
    assert script.count("def run_") == len(RACE)
    for framework in FRAMEWORKS:
        lines = [
            line
            for line in results.printed["race"][framework].splitlines()
            if line.startswith("final point")
        ]
        assert len(lines) == len(RACE), results.printed["race"][framework][-2000:]
        for line, name in zip(lines, RACE, strict=True):
            _assert_same_point(line, results.engine[name])


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
    assert len(typed) < 500 < len(surface.recipe[1])
    script = to_code(RunConfig(surface=surface, optimizer="gd", lr=1e-12, steps=5), framework)
    assert script.count("1000000000") >= 50


def test_data_csv_and_file_name() -> None:
    csv = data_csv(CASES["data"])
    assert csv == "x,y\n0,1.2\n1,2.9\n2,5.1\n3.5,8.2\n4,8.8\n"
    assert data_csv(RunConfig()) is None
    assert file_name(RunConfig(optimizer="adam"), "keras") == "descent_lab_adam_rosenbrock_keras.py"
    big = to_code(BIG_DATA, "pytorch")
    assert f'np.loadtxt("{codegen.CSV_NAME}"' in big and "import numpy as np" in big


def test_unknown_framework_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="framework must be one of"):
        to_code(RunConfig(), "tensorflow")
