"""What the deployment tests share: reading the Dockerfile and .dockerignore as Docker would,
and starting, probing and stopping servers.

The tests follow the Dockerfile rather than a copy of it: `read_image` parses the instructions
they run (the `python` RUN steps, CMD, HEALTHCHECK, ENV, WORKDIR).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    arguments: str


@dataclass
class Image:
    """The parts of the Dockerfile the tests run or check."""

    base: str = ""
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    runs: list[tuple[str, str]] = field(default_factory=list)  # (command, user running it)
    copies: list[str] = field(default_factory=list)
    user: str = "root"
    exposed: list[str] = field(default_factory=list)
    healthcheck_options: str = ""
    healthcheck: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile: comments dropped, `\\` continuations joined."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines, inside continuations too
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    if pending:
        raise ValueError("the Dockerfile ends inside a continuation")
    return result


def _exec_form(arguments: str, what: str) -> list[str]:
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError as error:
        raise ValueError(f"{what} must use the exec (JSON) form: {arguments}") from error
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        raise ValueError(f"{what} must be a non-empty JSON list of strings: {arguments}")
    return argv


def read_image(path: Path = DOCKERFILE) -> Image:
    """Parse the Dockerfile into an `Image`."""
    image = Image()
    for instruction in instructions(path.read_text(encoding="utf-8")):
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "FROM":
            image.base = arguments
        elif keyword == "WORKDIR":
            image.workdir = arguments
        elif keyword == "ENV":
            for pair in shlex.split(arguments):
                name, equals, value = pair.partition("=")
                if not equals:
                    raise ValueError(f"ENV must use the NAME=value form: {arguments}")
                image.env[name] = value
        elif keyword == "RUN":
            image.runs.append((arguments, image.user))
        elif keyword == "COPY":
            image.copies.append(arguments)
        elif keyword == "USER":
            image.user = arguments
        elif keyword == "EXPOSE":
            image.exposed.extend(arguments.split())
        elif keyword == "HEALTHCHECK":
            options, _, command = arguments.partition("CMD ")
            image.healthcheck_options = options.strip()
            image.healthcheck = _exec_form(command.strip(), "HEALTHCHECK CMD")
        elif keyword == "CMD":
            image.cmd = _exec_form(arguments, "CMD")
    return image


def python_runs(image: Image) -> list[list[str]]:
    """The RUN steps that run Python or pip, as argv lists (the others set up users and
    directories, which a test cannot and need not repeat)."""
    steps = []
    for command, _user in image.runs:
        argv = shlex.split(command)
        if argv[0] not in ("python", "pip"):
            continue
        if any(token in ("&&", "||", ";", "|") for token in argv):
            raise ValueError(f"keep each python RUN step one plain command: {command}")
        steps.append(argv)
    return steps


def in_venv(argv: Sequence[str], venv: Path) -> list[str]:
    """The command with `python`, `pip` or a console script taken from the virtual environment."""
    program, *rest = argv
    if program == "pip":
        return [str(venv / "bin" / "python"), "-m", "pip", *rest]
    return [str(venv / "bin" / program), *rest]


def with_options(argv: Sequence[str], options: Mapping[str, str]) -> list[str]:
    """`streamlit run` arguments with each `--name=value` or `--name value` given a new value;
    ValueError if the command does not set one of them."""
    result = list(argv)
    for name, value in options.items():
        flag = f"--{name}"
        for index, token in enumerate(result):
            if token.startswith(f"{flag}="):
                result[index] = f"{flag}={value}"
                break
            if token == flag:
                result[index + 1] = value
                break
        else:
            raise ValueError(f"the command sets no {flag}: {argv}")
    return result


def option(argv: Sequence[str], name: str) -> str | None:
    """The value the command gives `--name`, or None."""
    flag = f"--{name}"
    for index, token in enumerate(argv):
        if token.startswith(f"{flag}="):
            return token.split("=", 1)[1]
        if token == flag and index + 1 < len(argv):
            return argv[index + 1]
    return None


def ignore_patterns(path: Path = DOCKERIGNORE) -> list[str]:
    """The .dockerignore patterns (no `!` exceptions are used, and none are supported here)."""
    patterns = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            raise ValueError(f"exceptions are not supported by this reader: {line}")
        patterns.append(line.strip("/"))
    return patterns


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts))


def ignored(relative: str, patterns: Sequence[str]) -> bool:
    """Whether Docker leaves this context path (posix, relative to the context) out: a pattern
    matches the path or one of the folders above it."""
    pieces = relative.strip("/").split("/")
    prefixes = ["/".join(pieces[: i + 1]) for i in range(len(pieces))]
    regexes = [_pattern_regex(p) for p in patterns]
    return any(r.fullmatch(prefix) for r in regexes for prefix in prefixes)


def copy_context(source: Path, target: Path, patterns: Sequence[str]) -> list[str]:
    """Copy the build context minus the ignored paths (what `COPY . .` puts in the image);
    return the copied files, relative."""
    copied = []
    for folder, folders, files in os.walk(source):
        here = Path(folder).relative_to(source)
        folders[:] = [d for d in folders if not ignored((here / d).as_posix(), patterns)]
        for name in files:
            relative = (here / name).as_posix()
            if ignored(relative, patterns) or not (Path(folder) / name).is_file():
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(folder) / name, destination)
            copied.append(relative)
    return copied


def image_env(image: Image, root: Path) -> dict[str, str]:
    """This process's environment plus the image's ENV, paths under WORKDIR moved to `root`."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    workdir = image.workdir.rstrip("/")
    for name, value in image.env.items():
        if value == workdir or value.startswith(f"{workdir}/"):
            value = str(root) + value[len(workdir) :]
        env[name] = value
    return env


LOAD_TIMEOUT_MS = 60_000  # first paint: Streamlit's Plotly bundle, JAX's first compile
JS_SCRIPT_DONE = """() => document.querySelector('[data-testid=stApp]')
    .getAttribute('data-test-script-state') === 'notRunning'"""


LIVE_DRAWN = ".dl-live[data-revision] .dl-plane .main-svg"  # the race, drawn by plotly.js


def wait_loaded(page) -> None:
    """Wait until a Playwright page of the app is connected (its WebSocket is up), drawn, and its
    script has finished; fail on an exception on the page."""
    page.wait_for_selector(
        "[data-testid=stApp][data-test-connection-state=CONNECTED]", timeout=LOAD_TIMEOUT_MS
    )
    page.wait_for_selector(  # the live view drawn, or the exception that stopped the script
        f"{LIVE_DRAWN}, [data-testid=stException]", timeout=LOAD_TIMEOUT_MS
    )
    page.wait_for_function(JS_SCRIPT_DONE, timeout=LOAD_TIMEOUT_MS)
    exceptions = page.locator("[data-testid=stException]").all_inner_texts()
    assert not exceptions, exceptions
    assert page.locator("h1", has_text="Descent Lab").count() == 1
    assert page.locator(LIVE_DRAWN).count() >= 1
    assert page.get_by_text("Connecting").count() == 0
