"""The programs the browser and deployment tests drive: how Chromium is launched, and what a
test does when one is missing."""

from __future__ import annotations

import os

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing(message: str) -> None:
    """Skip, except under CI=true, where `.ci/run` installs what the tests need: fail there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (.ci/run should have installed it; under CI=true it is required)")
    pytest.skip(message)
