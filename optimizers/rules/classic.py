"""The classic rules: a fixed step along the gradient (or its sign), with or without momentum."""

from __future__ import annotations

import optax

from optimizers.rules.parts import MOMENTUM, beta, lr, rule
from optimizers.specs import OptimizerSpec

CLASSIC_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="gd",
        name="Gradient descent",
        group="classic",
        reference="A.-L. Cauchy, Méthode générale pour la résolution des systèmes, 1847",
        latex=rule(r"d_k &= g_k"),
        note="Steps straight downhill; too small a rate crawls, too large a rate oscillates.",
        lr=lr(1e-2),
        build=lambda h: optax.identity(),
        show_state=lambda state: {},
    ),
    OptimizerSpec(
        key="momentum",
        name="Momentum (heavy ball)",
        group="classic",
        reference="B. T. Polyak, Some methods of speeding up the convergence of iterations, 1964",
        latex=rule(r"v_{k+1} &= \beta v_k + g_k, \quad v_0 = 0", r"d_k &= v_{k+1}"),
        note="Accumulates past gradients into a velocity: speeds along valleys, damps zig-zags.",
        lr=lr(1e-2),
        build=lambda h: optax.trace(h["beta"]),
        show_state=lambda state: {"velocity": state.trace},
        hyper=(MOMENTUM,),
    ),
    OptimizerSpec(
        key="nesterov",
        name="Nesterov momentum",
        group="classic",
        reference="Y. Nesterov, A method of solving a convex problem with rate O(1/k²), 1983",
        latex=rule(r"v_{k+1} &= \beta v_k + g_k, \quad v_0 = 0", r"d_k &= g_k + \beta v_{k+1}"),
        note="Momentum that also looks one velocity step ahead, so it brakes earlier.",
        lr=lr(1e-2),
        build=lambda h: optax.trace(h["beta"], nesterov=True),
        show_state=lambda state: {"velocity": state.trace},
        hyper=(MOMENTUM,),
    ),
    OptimizerSpec(
        key="signsgd",
        name="signSGD",
        group="classic",
        reference="J. Bernstein et al., signSGD: compressed optimisation for non-convex problems,"
        " 2018",
        latex=rule(r"d_k &= \operatorname{sign}(g_k)"),
        note="Moves every coordinate by exactly η, whatever the slope: ignores gradient size.",
        lr=lr(1e-2),
        build=lambda h: optax.scale_by_sign(),
        show_state=lambda state: {},
    ),
    OptimizerSpec(
        key="lion",
        name="Lion",
        group="classic",
        reference="X. Chen et al., Symbolic discovery of optimization algorithms, 2023",
        latex=rule(
            r"d_k &= \operatorname{sign}\big(\beta_1 m_k + (1-\beta_1)\, g_k\big)",
            r"m_{k+1} &= \beta_2 m_k + (1-\beta_2)\, g_k, \quad m_0 = 0",
        ),
        note="Steps by the sign of a momentum blend: every coordinate moves by exactly η.",
        lr=lr(1e-2),
        build=lambda h: optax.scale_by_lion(h["b1"], h["b2"]),
        show_state=lambda state: {"momentum": state.mu},
        hyper=(
            beta("b1", "β₁", 0.9, "Weight of the momentum in the sign taken this step."),
            beta("b2", "β₂", 0.99, "Decay of the momentum kept between steps.", high=0.9999),
        ),
    ),
)
