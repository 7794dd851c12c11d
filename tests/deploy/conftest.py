"""Deployment-test set-up: Chromium comes from tests/conftest.py (one browser for the session,
shared with the browser tests); nginx is Debian's package. Without nginx or Chromium the tests
skip, except under `CI=true`, where `.ci/run` installs both: there they fail.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.programs import missing

SBIN = ("/usr/sbin", "/sbin")  # where Debian puts nginx: not on every user's PATH


@pytest.fixture(scope="session")
def nginx_path() -> str:
    """Debian's nginx, or a skip (a failure under CI=true)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    path = shutil.which("nginx", path=search)
    if path is None:
        missing("nginx not installed: apt-get install -y nginx")
    return path
