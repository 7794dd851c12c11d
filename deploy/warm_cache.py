"""Fill JAX's persistent compilation cache by running the app's default page once.

The Dockerfile runs this at build time (`RUN python deploy/warm_cache.py`), so that a new
container's first visitor does not wait for XLA to compile the engine's programs: the app process
reads the same cache, because JAX takes its settings from these environment variables (set in the
Dockerfile for both steps; no line in the app is needed):

    JAX_COMPILATION_CACHE_DIR                    where the compiled programs go
    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS   0: on CPU every compile is under the 1 s default,
                                                 so nothing would be cached otherwise
    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES    0: keep small programs too

Unset variables default to those values, with the cache in `<repository>/.jax_cache`. The cache
is valid for the same jax/jaxlib, XLA flags, cache path (JAX's keys include it) and CPU features:
a host whose CPU lacks a feature the build host had rejects the entries and compiles again
(slower, never wrong).

Usage: python deploy/warm_cache.py   (exit status 1 if the page fails or nothing was cached)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.serve import ENTRY, use_compilation_cache  # noqa: E402  (no jax import)

TIMEOUT_S = 300.0  # a slow build machine compiling everything from scratch


def cache_entries(directory: Path) -> list[Path]:
    """The files in the cache directory (one or more per compiled program)."""
    if not directory.is_dir():
        return []
    return [path for path in directory.rglob("*") if path.is_file()]


def warm() -> tuple[float, Path]:
    """Run the default page once in this process; return its duration and the cache directory.

    Raises RuntimeError if the page raised an exception.
    """
    directory = use_compilation_cache()
    from streamlit.testing.v1 import AppTest  # after the environment: it may import jax

    app = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT_S)
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        messages = "\n".join(str(exception.message) for exception in app.exception)
        raise RuntimeError(f"the default page raised:\n{messages}")
    return elapsed, directory


def main() -> int:
    """Warm the cache and report what it holds."""
    try:
        elapsed, directory = warm()
    except RuntimeError as error:
        print(f"warm_cache: {error}", file=sys.stderr)
        return 1
    entries = cache_entries(directory)
    size = sum(path.stat().st_size for path in entries)
    print(
        f"warm_cache: default page in {elapsed:.2f} s; {directory} holds {len(entries)} files "
        f"({size / 1e6:.1f} MB)"
    )
    if not entries:
        print("warm_cache: nothing was cached (check the JAX_* variables)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
