"""Pieces the rule tables (`optimizers.rules`, `optimizers.rules_free`) are written with: the
LaTeX frame every rule shares, the usual hyperparameter specs, and Adam's bias correction."""

from __future__ import annotations

import jax

from surfaces.params import ParamSpec


def unbias(moment: jax.Array, beta: jax.Array, count: jax.Array) -> jax.Array:
    """Bias correction of an EMA started at zero: moment / (1 − βᵗ)."""
    return moment / (1 - beta**count)


def rule(*lines: str) -> str:
    """Aligned LaTeX: the rule's own lines, then the step every rule shares."""
    body = r" \\ ".join((*lines, r"w_{k+1} &= w_k - \eta_k\, d_k"))
    return rf"\begin{{aligned}} {body} \end{{aligned}}"


def lr(default: float, low: float = 1e-5, high: float = 10.0) -> ParamSpec:
    """The base learning rate η₀, on a log scale."""
    return ParamSpec(
        "lr", "η₀", default, low, high, "Base learning rate; the schedule turns it into η_k.",
        log=True,
    )  # fmt: skip


def beta(name: str, label: str, default: float, help: str, high: float = 0.999) -> ParamSpec:
    """A decay rate in [0, high]."""
    return ParamSpec(name, label, default, 0.0, high, help)


def eps(default: float, name: str = "eps", label: str = "ε") -> ParamSpec:
    """A small constant that keeps a denominator away from zero, on a log scale."""
    return ParamSpec(
        name, label, default, 1e-16, 1.0, "Keeps the denominator away from zero.", log=True
    )
