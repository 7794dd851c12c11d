"""Static checks of the Dockerfile, .dockerignore and .streamlit/config.toml (cheap, no server):
the properties the deployment relies on. test_container_commands.py runs the real commands."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from tests.deploy.support import (
    ROOT,
    Image,
    copy_context,
    ignore_patterns,
    ignored,
    instructions,
    option,
    python_runs,
    read_image,
    with_options,
)

CONFIG = ROOT / ".streamlit" / "config.toml"
NGINX = ROOT / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def image() -> Image:
    return read_image()


def test_base_is_slim_python(image: Image) -> None:
    assert re.fullmatch(
        r"python:\$\{PYTHON_VERSION\}-slim-\w+|python:3\.\d+[\w.-]*-slim[\w.-]*", image.base
    )
    declared = [
        i.arguments for i in instructions((ROOT / "Dockerfile").read_text()) if i.keyword == "ARG"
    ]
    assert any(re.fullmatch(r"PYTHON_VERSION=3\.1[1-9]", a) for a in declared), declared


def test_runs_as_a_non_root_user(image: Image) -> None:
    assert image.user not in ("root", "0", "0:0"), "the app must not run as root"
    warm = [user for command, user in image.runs if "deploy/warm_cache.py" in command]
    assert warm == [image.user], "the cache is warmed by the user that runs the app"


def test_requirements_are_pinned_copied_and_installed(image: Image) -> None:
    lines = [
        line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    requirements = [line for line in lines if line]
    assert requirements
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", r) for r in requirements), requirements
    assert any(shlex.split(c)[0] == "requirements.txt" for c in image.copies), image.copies
    installs = [argv for argv in python_runs(image) if "install" in argv]
    assert any(
        argv[argv.index("-r") + 1] == "requirements.txt" for argv in installs if "-r" in argv
    ), installs
    # The dependency layer comes before the code, so a code change does not reinstall.
    order = [c for c, _ in image.runs]
    install_at = next(i for i, c in enumerate(order) if "requirements.txt" in c)
    warm_at = next(i for i, c in enumerate(order) if "warm_cache.py" in c)
    assert install_at < warm_at


def test_serves_on_all_interfaces_with_a_healthcheck(image: Image) -> None:
    assert image.cmd[:3] == ["python", "-m", "app.serve"], image.cmd  # streamlit run + warm-up
    assert option(image.cmd, "server.address") == "0.0.0.0"
    port = option(image.cmd, "server.port")
    assert port is not None and image.exposed == [port]
    assert image.healthcheck, "a HEALTHCHECK is required"
    probe = " ".join(image.healthcheck)
    assert f"127.0.0.1:{port}/_stcore/health" in probe, probe
    assert "--start-period" in image.healthcheck_options


def test_jax_cache_is_configured_for_warm_up_and_app(image: Image) -> None:
    cache = image.env.get("JAX_COMPILATION_CACHE_DIR", "")
    assert cache.startswith(f"{image.workdir.rstrip('/')}/"), cache
    assert image.env.get("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS") == "0"
    assert [argv for argv in python_runs(image) if "deploy/warm_cache.py" in argv]


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (".venv/bin/python", True),
        (".git/HEAD", True),
        ("tests/artifacts/browser/page.png", True),
        (".jax_cache/jit_f-cache", True),
        ("app/__pycache__/compute.cpython-311.pyc", True),
        (".streamlit/secrets.toml", True),
        ("app/streamlit_app.py", False),
        ("surfaces/registry.py", False),
        ("optimizers/engine.py", False),
        ("requirements.txt", False),
        ("deploy/warm_cache.py", False),
        (".streamlit/config.toml", False),
    ],
)
def test_dockerignore(path: str, excluded: bool) -> None:
    assert ignored(path, ignore_patterns()) is excluded


def test_build_context_holds_the_app(tmp_path: Path) -> None:
    copied = set(copy_context(ROOT, tmp_path, ignore_patterns()))
    for needed in ("app/streamlit_app.py", "requirements.txt", "deploy/warm_cache.py"):
        assert needed in copied
    assert not any(p.startswith((".venv/", ".git/", "tests/")) for p in copied)


def test_dockerignore_reader() -> None:
    patterns = ["**/__pycache__", "*.log", "bench/results.json", "tests"]
    assert ignored("a/b/__pycache__/x.pyc", patterns)
    assert ignored("__pycache__/x.pyc", patterns)
    assert ignored("server.log", patterns)
    assert not ignored("logs/server.log", patterns), "`*` stays within one folder"
    assert ignored("bench/results.json", patterns)
    assert not ignored("bench/run.py", patterns)
    assert not ignored("testsuite.py", patterns)


def test_option_rewriting() -> None:
    argv = ["streamlit", "run", "a.py", "--server.port=8501", "--server.address", "0.0.0.0"]
    rewritten = with_options(argv, {"server.port": "9000", "server.address": "127.0.0.1"})
    assert option(rewritten, "server.port") == "9000"
    assert option(rewritten, "server.address") == "127.0.0.1"
    with pytest.raises(ValueError, match=r"sets no --server\.baseUrlPath"):
        with_options(argv, {"server.baseUrlPath": "x"})


def test_streamlit_config_keys_exist_and_are_safe() -> None:
    settings = tomllib.loads(CONFIG.read_text())

    def keys_of(prefix: str, table: dict) -> list[str]:  # [theme.dark] nests in [theme]
        keys: list[str] = []
        for name, value in table.items():
            nested = isinstance(value, dict)
            keys += keys_of(f"{prefix}.{name}", value) if nested else [f"{prefix}.{name}"]
        return keys

    keys = [key for section, table in settings.items() for key in keys_of(section, table)]
    unknown = []
    for key in keys:
        try:
            streamlit_config.get_option(key)
        except RuntimeError:
            unknown.append(key)
    assert not unknown, f"not options of this streamlit: {unknown}"
    server = settings["server"]
    assert server["headless"] is True
    assert settings["browser"]["gatherUsageStats"] is False
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True
    # The proxy accepts what Streamlit accepts.
    body = re.search(r"client_max_body_size (\d+)m;", NGINX.read_text())
    assert body is not None and int(body.group(1)) == server["maxUploadSize"]
