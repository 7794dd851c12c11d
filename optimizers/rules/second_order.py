"""Second-order rules: the step uses curvature, the Hessian itself (Newton) or an estimate of its
inverse from past steps (L-BFGS)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from common.params import ParamSpec
from optimizers.rules.parts import lr, rule
from optimizers.rules.views import shown, step_sized, step_views
from optimizers.specs import OptimizerSpec


class NewtonState(NamedTuple):
    """The eigenvalues of the last Hessian H_k, ascending."""

    curvature: jax.Array


def scale_by_newton(damping: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Damped Newton direction d_k = (H_k + λI)⁻¹ g_k, from the keyword argument `hessian=H_k`.

    Solved by Cramer's rule as it stands: a singular H_k + λI yields a non-finite direction.
    """

    def init(params: jax.Array) -> NewtonState:
        return NewtonState(jnp.zeros_like(params))

    def update(
        updates: jax.Array,
        state: NewtonState,
        params: jax.Array | None = None,
        *,
        hessian: jax.Array,
        **extra_args: object,
    ) -> tuple[jax.Array, NewtonState]:
        del state, params, extra_args
        # Closed forms for 2 × 2: LAPACK calls would stop XLA compiling the scan as one kernel.
        (a, b), (_, d) = hessian
        a_damped, d_damped = a + damping, d + damping
        det = a_damped * d_damped - b * b
        g1, g2 = updates
        direction = jnp.stack([d_damped * g1 - b * g2, a_damped * g2 - b * g1]) / det
        mean, radius = (a + d) / 2, jnp.hypot((a - d) / 2, b)
        return direction, NewtonState(jnp.stack([mean - radius, mean + radius]))

    return optax.GradientTransformationExtraArgs(init, update)


def lbfgs_step() -> optax.GradientTransformationExtraArgs:
    """optax.lbfgs: d_k = −(the line-searched step along −H_k g_k), H_k the L-BFGS inverse-Hessian
    estimate from the last 10 pairs; the zoom line search picks t_k (strong Wolfe conditions)."""
    lbfgs = optax.lbfgs()

    def update(g, inner, params, *, value, grad, value_fn, rate, **extra):
        step, inner = lbfgs.update(g, inner, params, value=value, grad=grad, value_fn=value_fn)
        search = inner[-1]
        shown = step_views(rate * search.learning_rate, search.info.num_linesearch_steps)
        return -step, inner, shown

    return step_sized(update, lbfgs.init, ("step_size", "evaluations"))


# In picker order; `optimizers.rules` interleaves them with the other modules' rows.
SECOND_ORDER_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="newton",
        name="Newton's method (damped)",
        group="second-order",
        reference="I. Newton, 1669, and J. Raphson, 1690; damped: K. Levenberg, 1944",
        latex=rule(
            r"H_k &= \nabla^2 f(w_k)",
            r"d_k &= (H_k + \lambda I)^{-1} g_k \quad (\text{singular } H_k + \lambda I"
            r" \Rightarrow \text{non-finite } d_k)",
        ),
        note=(
            "Jumps to the stationary point of the local quadratic model, be it a minimum, saddle"
            " or maximum; λ > 0 blends in gradient descent, and a singular H + λI diverges."
        ),
        lr=lr(1.0, low=1e-3, high=4.0),
        build=lambda h: scale_by_newton(h["damping"]),
        show_state=lambda state: {"curvature": state.curvature},
        hyper=(
            ParamSpec(
                "damping", "λ", 0.0, 0.0, 10.0, "Added to every curvature; large λ acts like GD."
            ),
        ),
        needs_hessian=True,
    ),
    OptimizerSpec(
        key="lbfgs",
        name="L-BFGS (zoom line search)",
        group="second-order",
        reference=(
            "D. C. Liu, J. Nocedal, On the limited memory BFGS method for large scale"
            " optimization, 1989"
        ),
        latex=rule(
            r"p_k &= H_k g_k \quad (\text{two-loop recursion over the last 10 pairs }"
            r" s_i = t_i p_i,\ y_i = g_{i+1} - g_i)",
            r"t_k &= \text{zoom line search for the strong Wolfe conditions on }"
            r" t \mapsto L(w_k - t p_k),\ t^{(0)} = 1,\ \le 20 \text{ trials}",
            r"d_k &= t_k\, p_k",
        ),
        note=(
            "Estimates the inverse Hessian from the last 10 steps and line-searches along it:"
            " η₀ = 1 is L-BFGS itself; the memory assumes the step it proposed was taken."
        ),
        lr=lr(1.0, low=1e-3, high=4.0),
        build=lambda h: lbfgs_step(),
        show_state=shown,
        extra_args=True,
    ),
)
