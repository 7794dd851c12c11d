"""A run, or several, as one script: the framework's parts joined under a docstring that says
what the run is and where the script differs from a plain port."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from optimizers.codegen.common import FRAMEWORKS, Run, Script, resolve
from optimizers.codegen.coverage import MODIFIER_CODE, SCHEDULE_CODE
from optimizers.codegen.keras_script import keras_script
from optimizers.codegen.layout import join
from optimizers.codegen.optax_script import optax_script
from optimizers.codegen.torch_script import torch_script
from optimizers.engine import RunConfig

_WRITERS = {"pytorch": torch_script, "keras": keras_script, "optax": optax_script}


def to_code(config: RunConfig, framework: str) -> str:
    """The run as a runnable script in `framework` that reproduces the engine's run.

    The script defines the surface as a loss of a 2-vector, the optimizer with the same
    hyperparameters, the schedule (with warmup) and the modifiers, runs the same number of steps
    from the same start and prints `final point: (x, y) loss: f`. Its docstring says where it
    differs from a plain port of the framework's built-ins, and why.

    Args:
        config: the run, as the engine takes it (defaults filled in from the registries).
        framework: one of FRAMEWORKS: "pytorch", "keras" (Keras 3 on JAX) or "optax".

    Returns:
        The script's source text, formatted and lint-clean under the project's ruff rules.

    Raises:
        ValueError: an unknown framework, a configuration `engine.plan` refuses, or a rule in
            NOT_EXPORTED (its step needs more than the gradient).
        KeyError: a schedule or modifier without a row in SCHEDULE_CODE or MODIFIER_CODE.

    >>> script = to_code(RunConfig(optimizer="adam", steps=10), "optax")
    >>> "optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-08)" in script
    True
    >>> script.rstrip().splitlines()[-1]
    'print(f"final point: ({x}, {y}) loss: {loss_fn(w)}")'
    """
    run = resolve(config)
    script = _script(run, framework)
    return join(
        script.imports,
        script.setup,
        [_docstring(run, framework, script.docs)],
        script.body,
    )


def to_code_all(configs: Sequence[RunConfig], framework: str) -> str:
    """Several runs (the race) as one script: each run a function, all run in turn."""
    if not configs:
        raise ValueError("there are no runs to write")
    runs = [resolve(c) for c in configs]
    scripts = [_script(run, framework) for run in runs]
    imports = list(dict.fromkeys(i for s in scripts for i in s.imports))
    setup = list(dict.fromkeys(line for s in scripts for line in s.setup))
    head = [f'"""{len(runs)} runs from Descent Lab, in {FRAMEWORKS[framework]}, one after another.']
    notes = list(dict.fromkeys(n for s in scripts for n in s.docs))
    if notes:
        head += ["", "Where this differs from a plain port:"]
        for note in notes:
            head += textwrap.wrap(f"- {note}", width=96, subsequent_indent="  ")
    head = ["\n".join([*head, '"""'])]
    body: list[str] = []
    for i, (run, script) in enumerate(zip(runs, scripts, strict=True), start=1):
        title = textwrap.wrap(f"Run {i}: {run.label}.", width=92)
        title[0] = f'"""{title[0]}'
        title[-1] += '"""'
        inner = [*title, "", *script.body]
        body += [f"def run_{i}():", *(f"    {line}" if line else "" for line in inner), "", ""]
    calls = ", ".join(f"run_{i}" for i in range(1, len(runs) + 1))
    body += [f"for run in ({calls}{',' if len(runs) == 1 else ''}):", "    run()"]
    return join(imports, setup, head, body)


def file_name(config: RunConfig, framework: str) -> str:
    """A file name for the script that names neither a framework module nor anything unsafe."""
    run = resolve(config)
    surface = re.sub(r"[^a-z0-9]+", "_", run.surface.key.lower()).strip("_") or "surface"
    return f"descent_lab_{run.optimizer}_{surface}_{framework}.py"


def _script(run: Run, framework: str) -> Script:
    """The run's script in parts (ValueError for an unknown framework, KeyError without a row)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    unmapped = ({run.schedule} - set(SCHEDULE_CODE)) | (set(run.mods) - set(MODIFIER_CODE))
    if unmapped:
        raise KeyError(f"no code is written for {', '.join(sorted(unmapped))}")
    return _WRITERS[framework](run)


def _docstring(run: Run, framework: str, notes: Sequence[str]) -> str:
    """The script's docstring: the run in words, then the notes as a list."""
    title = f"{run.label}: the run from Descent Lab, in {FRAMEWORKS[framework]}."
    lines = textwrap.wrap(title, width=96)
    lines[0] = f'"""{lines[0]}'

    if notes:
        lines.append("")
        lines.append("Where this differs from a plain port:")
        for note in notes:
            lines += textwrap.wrap(f"- {note}", width=96, subsequent_indent="  ")
    lines.append('"""')
    return "\n".join(lines)
