"""The documentation is run: every docstring example of the engine-side packages, and the README's
API example, whose printed lines must be the ones the README shows."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optimizers.analysis import basin_map, curvature_report, lr_sweep, range_test, stability_map
from optimizers.codegen import to_code
from optimizers.engine import run, run_batch, summarize
from surfaces.dataset import parse_points
from surfaces.formula import parse

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "surfaces", "optimizers")  # the library side: no Streamlit, no Plotly
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# The public API whose docstrings must carry an example (issue 17: "a doctested example").
DOCUMENTED = (
    *(run, run_batch, summarize),  # the engine
    *(lr_sweep, stability_map, range_test, basin_map, curvature_report),  # the analyses
    *(parse, parse_points, to_code),  # formulas, data, code export
)


def module_names() -> list[str]:
    """Every module of PACKAGES, found on disk (a new module is covered without a list to edit)."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("name", module_names())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder().find(module, name, module=module):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


@pytest.mark.parametrize("function", DOCUMENTED, ids=lambda f: f.__name__)
def test_public_functions_have_an_example(function) -> None:
    tests = doctest.DocTestFinder(recurse=False).find(function, function.__name__)
    assert any(test.examples for test in tests), f"{function.__qualname__} has no >>> example"


def readme_api_example() -> tuple[str, str]:
    """The README's API section: its ```python block and the block of what it prints."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## The Python API\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    printed = re.search(r"\nprints\n\n```\n(.*?)```", section, re.DOTALL)
    assert code and printed, "the README's API section has lost its example or its output"
    return code.group(1), printed.group(1)


def test_readme_api_example_prints_what_the_readme_says(tmp_path: Path) -> None:
    code, printed = readme_api_example()
    script = tmp_path / "readme_example.py"
    script.write_text(code, encoding="utf-8")
    # A fresh interpreter, as a reader's: nothing set up by this suite's conftest.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error"}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == printed.splitlines()
