"""Build and run the project's image with podman where no Docker engine or registry is reachable.

    python -m deploy.image base             # the stand-in base image (made once, then cached)
    python -m deploy.image build            # the base, then the Dockerfile, unchanged
    python -m deploy.image run [--port P]   # build, then run it on 127.0.0.1:P (Ctrl-C stops it)

The Dockerfile starts `FROM python:3.11-slim-bookworm`. Where that official image cannot be pulled
(CI here reaches Debian's and Python's package mirrors but no container registry), a stand-in is
made from Debian's own packages: `mmdebstrap` writes a minimal bookworm root file system with
Debian's Python 3.11, pip and venv, `podman import` loads it and tags it with the FROM name. As
in the official image, pip may install into the system Python (Debian's EXTERNALLY-MANAGED marker
is removed). The root file system is kept as a tarball in the cache folder
(`$DESCENT_LAB_IMAGE_CACHE`, default `~/.cache/descent-lab-image`), so a machine whose podman
storage is empty imports it again in seconds instead of bootstrapping Debian. Where an image of
the FROM name exists (the official one, pulled beforehand), it is used as it is.

Podman runs here with what this kind of machine needs, in a containers.conf written to the cache
folder and passed through CONTAINERS_CONF to podman only: the `runc` runtime (crun refuses hybrid
cgroups), `cgroupfs` as the cgroup manager (no systemd) and no default ulimits (refused here).
Builds keep the Docker format (OCI images drop HEALTHCHECK), never pull, and use the host's
network with the host's CA bundle mounted into each RUN step, for pip behind a proxy that signs
with its own certificate authority. None of this changes what the image contains.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
TAG = "localhost/descent-lab:latest"
CONTAINER_PORT = 8501  # the Dockerfile's EXPOSE and CMD
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# The stand-in: Debian's release -> the Python it ships (the FROM tag names both).
DEBIAN_PYTHON = {"bookworm": "3.11"}
DEBIAN_PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
STAND_IN_LABEL = "org.descent-lab.stand-in"
CONTAINERS_CONF = """\
# Written by deploy/image.py; podman reads it through CONTAINERS_CONF.
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
"""
BASE_TIMEOUT_S = 900.0  # bootstrapping Debian from its mirror
BUILD_TIMEOUT_S = 1200.0  # the pinned install (jax, streamlit, plotly, ...) and the warm-up
COMMAND_TIMEOUT_S = 120.0


def cache_dir() -> Path:
    """Where the stand-in's root file system and the containers.conf are kept."""
    configured = os.environ.get("DESCENT_LAB_IMAGE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "descent-lab-image"


def podman_env(cache: Path) -> dict[str, str]:
    """This process's environment plus CONTAINERS_CONF pointing at the settings above."""
    cache.mkdir(parents=True, exist_ok=True)
    conf = cache / "containers.conf"
    if not conf.is_file() or conf.read_text(encoding="utf-8") != CONTAINERS_CONF:
        conf.write_text(CONTAINERS_CONF, encoding="utf-8")
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(
    *args: str, env: Mapping[str, str], timeout: float = COMMAND_TIMEOUT_S, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `podman ARGS`; RuntimeError with its output if it fails and `check` is set."""
    result = subprocess.run(
        ["podman", *args], env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result


def base_image(dockerfile: Path = DOCKERFILE) -> str:
    """The Dockerfile's FROM image with its ARG defaults filled in."""
    text = dockerfile.read_text(encoding="utf-8")
    defaults = dict(re.findall(r"^ARG\s+(\w+)=(\S+)\s*$", text, flags=re.MULTILINE))
    bases = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    if len(bases) != 1:
        raise ValueError(f"expected one FROM line in {dockerfile}, found {len(bases)}")
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults[m[1] or m[2]], bases[0])


def stand_in_release(base: str) -> str:
    """The Debian release whose packages stand in for `base`; ValueError where Debian's Python
    is not the one the tag names (e.g. `python:3.12-slim-bookworm`)."""
    match = re.fullmatch(r"(?:[\w./-]+/)?python:(\d+\.\d+)[\w.-]*-(\w+)", base)
    if match is None:
        raise ValueError(f"no stand-in for {base}: expected python:<version>-...-<debian release>")
    version, release = match.groups()
    if DEBIAN_PYTHON.get(release) != version:
        raise ValueError(
            f"no stand-in for {base}: Debian's packages give {DEBIAN_PYTHON} "
            "(pull the official image instead)"
        )
    return release


def ensure_base(base: str, cache: Path, env: Mapping[str, str]) -> str:
    """Make sure an image named `base` exists; return what was done: "present", "imported"
    (from the cached root file system) or "bootstrapped" (mmdebstrap, then imported)."""
    if podman("image", "exists", base, env=env, check=False).returncode == 0:
        return "present"
    release = stand_in_release(base)
    tarball = cache / f"debian-{release}-python.tar"
    done = "imported"
    if not tarball.is_file():
        if shutil.which("mmdebstrap") is None:
            raise RuntimeError("mmdebstrap not installed: apt-get install -y mmdebstrap")
        partial = tarball.with_suffix(".partial.tar")
        subprocess.run(
            [
                "mmdebstrap",
                "--quiet",
                "--variant=minbase",
                f"--include={DEBIAN_PACKAGES}",
                '--customize-hook=rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED',
                release,
                str(partial),
            ],
            check=True,
            timeout=BASE_TIMEOUT_S,
        )
        partial.rename(tarball)
        done = "bootstrapped"
    podman(
        "import",
        "--change",
        "ENV=LANG=C.UTF-8",
        "--change",
        'CMD=["python3"]',
        "--change",
        f"LABEL={STAND_IN_LABEL}=debian-{release}",
        str(tarball),
        base,
        env=env,
        timeout=COMMAND_TIMEOUT_S * 5,
    )
    return done


def build(tag: str, env: Mapping[str, str], context: Path = ROOT) -> float:
    """`podman build` the Dockerfile in `context` as `tag`; return the seconds it took."""
    mounts = []
    if HOST_CA_BUNDLE.is_file():
        mounts = ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
    started = time.monotonic()
    result = subprocess.run(
        [
            "podman",
            "build",
            "--format=docker",
            "--pull=never",
            "--network=host",
            *mounts,
            "--tag",
            tag,
            str(context),
        ],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"podman build failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
        )
    return time.monotonic() - started


def image_size(tag: str, env: Mapping[str, str]) -> int:
    """The image's size in bytes, as podman reports it (all layers, uncompressed)."""
    return int(podman("image", "inspect", "--format", "{{.Size}}", tag, env=env).stdout)


def run_argv(
    tag: str, name: str, port: int, variables: Mapping[str, str] | None = None
) -> list[str]:
    """`podman run` in the foreground: the image's own CMD, its port on 127.0.0.1:`port`, removed
    when it stops (SIGTERM to podman stops the container).

    The network is slirp4netns (user-mode, inside the container's namespace): podman's default
    bridge adds a veth interface to the host for each container, and a browser on the host takes
    each one that comes or goes for a network change (loads in flight fail, ERR_NETWORK_CHANGED).
    """
    argv = [
        "podman",
        "run",
        "--rm",
        "--name",
        name,
        "--network=slirp4netns",
        "--publish",
        f"127.0.0.1:{port}:{CONTAINER_PORT}",
    ]
    for key, value in (variables or {}).items():
        argv += ["--env", f"{key}={value}"]
    return [*argv, tag]


def main(argv: Sequence[str] | None = None) -> int:
    """Make the base, build the image, and run it if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["base", "build", "run"])
    parser.add_argument("--tag", default=TAG)
    parser.add_argument("--port", type=int, default=CONTAINER_PORT)
    args = parser.parse_args(argv)
    if shutil.which("podman") is None:
        print(
            "podman not installed: apt-get install -y podman runc slirp4netns mmdebstrap",
            file=sys.stderr,
        )
        return 1
    cache = cache_dir()
    env = podman_env(cache)
    base = base_image()
    print(f"base {base}: {ensure_base(base, cache, env)}")
    if args.step == "base":
        return 0
    seconds = build(args.tag, env)
    print(f"built {args.tag} in {seconds:.0f} s, {image_size(args.tag, env) / 1e9:.2f} GB")
    if args.step == "run":
        name = f"descent-lab-{args.port}"
        print(f"serving on http://127.0.0.1:{args.port}")
        try:
            return subprocess.run(run_argv(args.tag, name, args.port), env=env).returncode
        except KeyboardInterrupt:  # the podman client is gone; the container is not
            podman("stop", name, env=env, check=False)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
