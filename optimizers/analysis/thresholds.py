"""The critical learning rate of a configuration, from the Hessian at its start."""

from __future__ import annotations

from typing import NamedTuple

from optimizers.curvature import THRESHOLD_FORMULAS, hessian_eigenvalues, rule_threshold
from optimizers.engine import RunConfig, plan

# Numbers that make the iteration non-linear (or not the iteration of the formula) when non-zero.
_NONLINEAR = (
    "warmup.warmup_steps",
    "modifiers.clip_value",
    "modifiers.clip_norm",
    "modifiers.noise_std",
    "modifiers.weight_decay",
)


class Threshold(NamedTuple):
    """The critical learning rate of a rule from the Hessian's largest eigenvalue λ_max.

    `exact` holds where the iteration is linear (a positive-definite quadratic, constant rate,
    no warmup, clipping, noise or weight decay); elsewhere it is the local estimate at `point`.
    λ_max includes the L2 penalty λ₂ (the objective is f + (λ₂/2)‖w‖²).
    """

    value: float
    exact: bool
    lambda_max: float
    formula: str
    point: tuple[float, float]


def threshold(config: RunConfig) -> Threshold | None:
    """The rule's critical rate from the Hessian of f + (λ₂/2)‖w‖² at the start.

    Args:
        config: the run; its optimizer picks the formula (`THRESHOLD_FORMULAS`).

    Returns:
        The `Threshold`, or None for rules without one (adaptive, sign-based, Newton).

    Raises:
        ValueError: for an invalid configuration (see `plan`).

    On the quadratic with κ = 10, GD's limit is 2/κ, exactly:

    >>> critical = threshold(RunConfig("quadratic", "gd", surface_params={"kappa": 10.0}))
    >>> round(critical.value, 12), critical.exact, critical.formula
    (0.2, True, '2/λ_max')
    """
    the_plan = plan(config)
    if config.optimizer not in THRESHOLD_FORMULAS:
        return None
    start = the_plan.start
    eigenvalues = hessian_eigenvalues(the_plan.surface, start, the_plan.surface_params())
    eigenvalues = eigenvalues + the_plan.number("modifiers.l2")
    lambda_max = float(eigenvalues[-1])
    value = rule_threshold(config.optimizer, lambda_max, the_plan.number("hyper.beta", 0.0))
    assert value is not None
    linear = (
        "quadratic" in the_plan.surface.tags
        and eigenvalues[0] > 0
        and the_plan.schedule.key == "constant"
        and all(the_plan.number(name) == 0 for name in _NONLINEAR)
    )
    return Threshold(value, bool(linear), lambda_max, THRESHOLD_FORMULAS[config.optimizer], start)
