"""Pieces the rule tables are written with: the LaTeX frame every rule shares, the usual
hyperparameter specs (η₀, decays, ε) and the Adam lines several rows repeat."""

from __future__ import annotations

from common.params import ParamSpec


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


def unit_lr(low: float = 1e-3, high: float = 10.0) -> ParamSpec:
    """η₀ of a rule that sets its own step: 1 takes that step exactly, another η₀ scales it."""
    return ParamSpec(
        "lr",
        "η₀",
        1.0,
        low,
        high,
        "Scales the method's own step from outside; 1 takes it exactly as published.",
        log=True,
    )


def beta(name: str, label: str, default: float, help: str, high: float = 0.999) -> ParamSpec:
    """A decay rate in [0, high]."""
    return ParamSpec(name, label, default, 0.0, high, help)


def eps(default: float, name: str = "eps", label: str = "ε") -> ParamSpec:
    """A small constant that keeps a denominator away from zero, on a log scale."""
    return ParamSpec(
        name, label, default, 1e-16, 1.0, "Keeps the denominator away from zero.", log=True
    )


def gamma(default: float) -> ParamSpec:
    """The own rate γ of a rule that steps from averaged points (Schedule-Free, MADGRAD)."""
    return ParamSpec(
        "gamma",
        "γ",
        default,
        1e-5,
        10.0,
        "The method's own rate, inside its averaging; keep η₀ = 1.",
        log=True,
    )


B1 = beta("b1", "β₁", 0.9, "Decay of the gradient average m: the momentum.")
B2 = beta("b2", "β₂", 0.999, "Decay of the squared-gradient average v.", high=0.9999)
MOMENTUM = beta("beta", "β", 0.9, "Fraction of the velocity kept at each step.")


def adam_hyper(eps_default: float = 1e-8) -> tuple[ParamSpec, ...]:
    """Adam's (β₁, β₂, ε)."""
    return (B1, B2, eps(eps_default))


BETA1_LINE = r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad m_0 = 0"
M_HAT = r"\hat m_{k+1} &= \frac{m_{k+1}}{1-\beta_1^{k+1}}"
ADAM_LINES = (  # Adam's moments and their bias correction
    BETA1_LINE,
    r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad v_0 = 0",
    M_HAT + r", \quad \hat v_{k+1} = \frac{v_{k+1}}{1-\beta_2^{k+1}}",
)
ADAM_STEP = r"d_k &= \frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \varepsilon}"
