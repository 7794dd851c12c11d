"""Pieces the schedule modules share: the step as a float and the parameter kinds they use."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from common.params import ParamSpec


def as_step(k: jax.Array) -> jax.Array:
    """The step k as a float array (k may arrive as an int, a float or an array of either)."""
    return jnp.asarray(k, dtype=float)


def count(name: str, label: str, default: int, help: str, low: int = 1) -> ParamSpec:
    """A whole-number parameter, stored as float: a Python int would recompile a jitted caller."""
    return ParamSpec(name, label, float(default), float(low), 10_000.0, help, integer=True)


def fraction(name: str, label: str, default: float, help: str) -> ParamSpec:
    """A fraction in [0, 1] (of η₀, or of the schedule's first rate)."""
    return ParamSpec(name, label, default, 0.0, 1.0, help)
