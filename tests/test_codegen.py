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

from optimizers.codegen import CSV_NAME, FRAMEWORKS, data_csv, to_code, to_code_all
from optimizers.codegen.common import resolve, run_data
from optimizers.engine import RunConfig, batch_weights, bucket, run_batch
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES
from tests.codegen_cases import (
    BATCHED,
    BIG_DATA,
    CASES,
    EXPORTED,
    NOISY,
    RACE,
    SHORT_SCHEDULES,
    words,
)

pytestmark = pytest.mark.xdist_group("codegen")

TOLERANCE = 1e-8
POINT = re.compile(r"final point: \(([^,]+), ([^)]+)\) loss: (\S+)")

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
    data = run_data(resolve(config))
    assert data is not None
    size = len(data[0])
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
CONFIGS = [*CASES.values(), NOISY, BATCHED, BIG_DATA]


class Results(NamedTuple):
    printed: dict[str, dict[str, str]]  # name → framework → what the script printed
    engine: dict[str, np.ndarray]  # name → the engine's final point


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Every case's script run in every framework, and the engine's runs, computed meanwhile."""
    folder = tmp_path_factory.mktemp("codegen")
    csv = data_csv(BIG_DATA)
    assert csv is not None
    (folder / CSV_NAME).write_text(csv)
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


def test_torch_states_its_noise_differs_and_runs_with_its_own_draws(results: Results) -> None:
    """The torch script draws its own noise: it says so, and only the draw makes it differ
    (with the app's draw swapped in, `noisy` matched above); keras and optax draw the app's."""
    assert "torch's random numbers are not JAX's" in words(to_code(NOISY, "pytorch"))
    for framework in ("keras", "optax"):
        assert "random numbers are not" not in to_code(NOISY, framework)
        _assert_same_point(results.printed["noisy-own-draws"][framework], results.engine["noisy"])
    x, y, _ = _final(results.printed["noisy-own-draws"]["pytorch"])
    assert np.abs(np.array([x, y]) - results.engine["noisy"]).max() > TOLERANCE


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
