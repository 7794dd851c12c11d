"""How this project runs JAX: float64 and whole-loop CPU kernels, set once by each entry point.

Nothing here happens at import. An entry point (the app, `app.serve`, the benchmarks, the tests'
conftest) calls `configure_jax()` before the first JAX computation; a notebook does the same:

    >>> from common.runtime import configure_jax
    >>> configure_jax()

The Docker image sets the same two settings as environment variables (JAX_ENABLE_X64=1 and
XLA_FLAGS, see the Dockerfile), which `configure_jax` then leaves as they are.
"""

from __future__ import annotations

import os

import jax
import numpy as np

SMALL_LOOP_BYTES = 1 << 24
SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
EXTRA_OPTIONS = "--xla_backend_extra_options="


def with_small_loops_whole(flags: str) -> str:
    """`flags` (an XLA_FLAGS value) that let XLA:CPU compile each of the engine's loops into one
    kernel: `xla_cpu_small_while_loop_byte_threshold` = SMALL_LOOP_BYTES added to the one
    `--xla_backend_extra_options=` flag (created if absent); unchanged where the option is set.

    XLA:CPU fuses a while loop into one kernel only when its iteration touches fewer bytes than
    that threshold (1 kB by default). Above it every op of every step is dispatched on its own:
    about 1 µs per step, where one of our steps computes in under 0.1 µs.

    >>> with_small_loops_whole("")
    '--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=16777216'
    >>> with_small_loops_whole("--xla_backend_extra_options=a=1")
    '--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=16777216,a=1'
    """
    if SMALL_LOOP_OPTION in flags:
        return flags  # the user's own choice
    option = f"{SMALL_LOOP_OPTION}={SMALL_LOOP_BYTES}"
    if EXTRA_OPTIONS in flags:  # one such flag holds all extra options
        return flags.replace(EXTRA_OPTIONS, f"{EXTRA_OPTIONS}{option},", 1)
    return f"{flags} {EXTRA_OPTIONS}{option}".strip()


def configure_jax() -> None:
    """Set JAX up as the engine needs it; call it before the first JAX computation. Idempotent.

    - XLA_FLAGS gets `with_small_loops_whole` (a user's own threshold is kept). XLA reads the
      variable once, when JAX starts its CPU backend: after a first computation this has no
      effect, and the engine is slower, not wrong.
    - `jax_enable_x64`: every number of a run is float64 (the engine refuses to run without).
    """
    os.environ["XLA_FLAGS"] = with_small_loops_whole(os.environ.get("XLA_FLAGS", ""))
    jax.config.update("jax_enable_x64", True)


def require_x64() -> None:
    """Raise ValueError unless JAX computes in float64 (see `configure_jax`): in float32 a run
    would silently lose precision and its events (divergence, convergence) would move."""
    if jax.dtypes.canonicalize_dtype(np.float64) != np.float64:  # x64 off: float64 → float32
        raise ValueError(
            "JAX is in float32: call common.runtime.configure_jax() (or set JAX_ENABLE_X64=1) "
            "before the first JAX computation"
        )
