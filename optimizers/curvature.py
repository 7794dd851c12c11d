"""Curvature: Hessian eigenvalues and the learning rates at which plain iterations go unstable.

On a quadratic with largest Hessian eigenvalue λ_max, each rule's iteration is linear and its
stability threshold is exact:
    GD                 η < 2 / λ_max
    heavy ball (β)     η < 2(1 + β) / λ_max
    Nesterov (β)       η < 2(1 + β) / ((1 + 2β) λ_max)     (optax's form, constant η)
Elsewhere the same formulas with the Hessian at a point give a local estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.cache import compiled_cache
from common.runtime import require_x64
from optimizers.rules import get_optimizer
from surfaces import Surface

THRESHOLD_FORMULAS = {
    "gd": "2/λ_max",
    "momentum": "2(1+β)/λ_max",
    "nesterov": "2(1+β)/((1+2β)λ_max)",
}


class CriticalRate(NamedTuple):
    """The largest stable learning rate for a rule, and whether it is exact (a quadratic)."""

    value: float
    exact: bool
    lambda_max: float


@compiled_cache
def _hessian_fn(surface: Surface):
    return jax.jit(jax.hessian(surface.fn))


def hessian_eigenvalues(
    surface: Surface, point: tuple[float, float], params: Mapping[str, float] | None = None
) -> np.ndarray:
    """Eigenvalues of ∇²f at `point`, ascending; ValueError where JAX is not in float64."""
    require_x64()
    values = {k: jnp.float64(v) for k, v in surface.resolve(params).items()}
    hessian = np.asarray(_hessian_fn(surface)(jnp.asarray(point, dtype=jnp.float64), values))
    return np.linalg.eigvalsh(hessian)


def gd_threshold(lambda_max: float) -> float:
    """2 / λ_max: gradient descent diverges on a quadratic above this rate."""
    return 2.0 / lambda_max if lambda_max > 0 else float("inf")


def momentum_threshold(lambda_max: float, beta: float) -> float:
    """2(1 + β) / λ_max: heavy-ball momentum diverges on a quadratic above this rate."""
    return 2.0 * (1.0 + beta) / lambda_max if lambda_max > 0 else float("inf")


def nesterov_threshold(lambda_max: float, beta: float) -> float:
    """2(1 + β) / ((1 + 2β) λ_max): optax's Nesterov momentum diverges above this rate."""
    return (
        2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lambda_max) if lambda_max > 0 else float("inf")
    )


def rule_threshold(optimizer: str, lambda_max: float, beta: float = 0.0) -> float | None:
    """The rule's critical rate from λ_max (the table of THRESHOLD_FORMULAS): 2/λ_max (GD),
    2(1+β)/λ_max (heavy ball), 2(1+β)/((1+2β)λ_max) (Nesterov); None for rules without one.

    >>> rule_threshold("momentum", 4.0, beta=0.5), rule_threshold("adam", 4.0)
    (0.75, None)
    """
    rules = {
        "gd": lambda: gd_threshold(lambda_max),
        "momentum": lambda: momentum_threshold(lambda_max, beta),
        "nesterov": lambda: nesterov_threshold(lambda_max, beta),
    }
    return rules[optimizer]() if optimizer in rules else None


def critical_rate(
    surface: Surface,
    optimizer: str,
    point: tuple[float, float],
    hyper: Mapping[str, float] | None = None,
    params: Mapping[str, float] | None = None,
) -> CriticalRate | None:
    """The stability threshold of `optimizer` from the curvature at `point`; None where the
    rule has no such threshold (adaptive and sign-based rules, Newton)."""
    lambda_max = float(hessian_eigenvalues(surface, point, params)[-1])
    beta = get_optimizer(optimizer).resolve(hyper).get("beta", 0.0)
    value = rule_threshold(optimizer, lambda_max, beta)
    if value is None:
        return None
    return CriticalRate(value, "quadratic" in surface.tags, lambda_max)
