"""Adaptive rules outside Adam's family: per-coordinate (or per-vector) steps scaled by running
sums or averages of squared gradients, dual averaging (MADGRAD) and the sign of a momentum."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from optax import contrib

from common.params import ParamSpec
from optimizers.rules.parts import beta, eps, gamma, lr, rule, unit_lr
from optimizers.rules.views import pair, showing, shown, stepping
from optimizers.specs import OptimizerSpec, Scalars

RHO = beta("rho", "ρ", 0.9, "Decay of the running averages.", high=0.9999)


def madgrad(h: Scalars) -> optax.GradientTransformation:
    """MADGRAD as a direction, showing its dual point z."""

    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        return {"z_dual": state.x0 - state.s / (jnp.cbrt(state.grad_sum_sq) + h["eps"])}

    tx = contrib.scale_by_madgrad(h["gamma"], momentum=h["beta"], eps=h["eps"])
    return stepping(tx, view, flip=True)


# In picker order; `optimizers.rules` interleaves them with the other modules' rows.
ADAPTIVE_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="adagrad",
        name="AdaGrad",
        group="adaptive",
        reference="J. Duchi, E. Hazan, Y. Singer, Adaptive subgradient methods, 2011",
        latex=rule(
            r"G_{k+1} &= G_k + g_k^2, \quad G_0 = G_{\text{init}}",
            r"d_k &= \frac{g_k}{\sqrt{G_{k+1} + \varepsilon}}",
        ),
        note="Divides each coordinate by its summed squared gradients: steps shrink forever.",
        lr=lr(0.3, low=1e-4),
        build=lambda h: optax.scale_by_rss(h["initial_accumulator"], h["eps"]),
        show_state=lambda state: {"accumulator": state.sum_of_squares},
        hyper=(
            ParamSpec(
                "initial_accumulator",
                "G_init",
                0.1,
                1e-8,
                10.0,
                "Starting value of the sum of squares; large values damp the first steps.",
                log=True,
            ),
            eps(1e-7),
        ),
    ),
    OptimizerSpec(
        key="rmsprop",
        name="RMSprop",
        group="adaptive",
        reference="T. Tieleman, G. Hinton, Neural Networks for Machine Learning, lecture 6.5, 2012",
        latex=rule(
            r"v_{k+1} &= \rho v_k + (1-\rho)\, g_k^2, \quad v_0 = 0",
            r"d_k &= \frac{g_k}{\sqrt{v_{k+1} + \varepsilon}}",
        ),
        note="AdaGrad with a forgetting average, so steps adapt without shrinking to zero.",
        lr=lr(1e-2),
        build=lambda h: optax.scale_by_rms(h["rho"], h["eps"]),
        show_state=lambda state: {"mean_square": state.nu},
        hyper=(RHO, eps(1e-8)),
    ),
    OptimizerSpec(
        key="adadelta",
        name="AdaDelta",
        group="adaptive",
        reference="M. D. Zeiler, ADADELTA: an adaptive learning rate method, 2012",
        latex=rule(
            r"v_{k+1} &= \rho v_k + (1-\rho)\, g_k^2, \quad v_0 = 0",
            r"d_k &= \frac{\sqrt{u_k + \varepsilon}}{\sqrt{v_{k+1} + \varepsilon}}\, g_k",
            r"u_{k+1} &= \rho u_k + (1-\rho)\, d_k^2, \quad u_0 = 0",
        ),
        note="Sizes each step by the RMS of its recent steps over that of its gradients.",
        lr=lr(1.0, low=1e-3, high=100.0),
        build=lambda h: optax.scale_by_adadelta(h["rho"], h["eps"]),
        show_state=lambda state: {"mean_square_grad": state.e_g, "mean_square_step": state.e_x},
        hyper=(RHO, eps(1e-6)),
    ),
    OptimizerSpec(
        key="novograd",
        name="NovoGrad",
        latex=rule(
            r"\nu_1 &= \|g_0\|^2, \quad \nu_{k+1} = \beta_2 \nu_k + (1-\beta_2)\, \|g_k\|^2",
            r"m_1 &= \frac{g_0}{\sqrt{\nu_1} + \varepsilon}, \quad"
            r" m_{k+1} = \beta_1 m_k + \frac{g_k}{\sqrt{\nu_{k+1}} + \varepsilon}",
            r"d_k &= m_{k+1}",
        ),
        note="Momentum on the gradient divided by its whole norm: one scale for all of w.",
        lr=lr(0.01),
        build=lambda h: showing(
            optax.scale_by_novograd(h["b1"], h["b2"], h["eps"]),
            lambda state: {"momentum": state.mu, "nu": pair(state.nu)},
        ),
        show_state=shown,
        hyper=(
            beta("b1", "β₁", 0.9, "Decay of the momentum m."),
            beta("b2", "β₂", 0.25, "Decay of the squared-norm average ν."),
            eps(1e-8),
        ),
        group="adaptive",
        reference="Ginsburg et al., Stochastic Gradient Methods with Layer-wise Adaptive"
        " Moments, 2019",
    ),
    OptimizerSpec(
        key="madgrad",
        name="MADGRAD",
        latex=rule(
            r"\lambda_k &= (\gamma + \varepsilon) \sqrt{k + 1}, \quad S_0 = V_0 = 0",
            r"S_{k+1} &= S_k + \lambda_k g_k, \quad V_{k+1} = V_k + \lambda_k g_k^2",
            r"z_{k+1} &= w_0 - \frac{S_{k+1}}{\sqrt[3]{V_{k+1}} + \varepsilon}, \quad"
            r" d_k = (1-\beta)\, (w_k - z_{k+1})",
        ),
        note="Dual averaging with a cube-root scale, then momentum by averaging with w_k."
        " γ is its rate, η₀ = 1.",
        lr=unit_lr(),
        build=madgrad,
        show_state=shown,
        hyper=(
            gamma(0.05),
            beta("beta", "β", 0.9, "Weight of w_k when averaging with z."),
            eps(1e-6),
        ),
        group="adaptive",
        reference="Defazio & Jelassi, A Momentumized, Adaptive, Dual Averaged Gradient"
        " Method, 2021",
    ),
    OptimizerSpec(
        key="rmsprop_centred",
        name="Centred RMSprop",
        latex=rule(
            r"m_{k+1} &= \rho m_k + (1-\rho)\, g_k, \quad m_0 = v_0 = 0",
            r"v_{k+1} &= \rho v_k + (1-\rho)\, g_k^2",
            r"d_k &= \frac{g_k}{\sqrt{v_{k+1} - m_{k+1}^2 + \varepsilon}}",
        ),
        note="RMSprop that divides by the gradient's spread, not its size: bold where steady.",
        lr=lr(1e-2),
        build=lambda h: showing(
            optax.scale_by_stddev(h["rho"], h["eps"]),
            lambda state: {"mean": state.mu, "mean_square": state.nu},
        ),
        show_state=shown,
        hyper=(RHO, eps(1e-8)),
        group="adaptive",
        reference="Graves, Generating Sequences With Recurrent Neural Networks, 2013",
    ),
    OptimizerSpec(
        key="signum",
        name="Signum",
        latex=rule(
            r"m_{k+1} &= \beta m_k + (1-\beta)\, g_k, \quad m_0 = 0",
            r"d_k &= \operatorname{sign}(m_{k+1})",
        ),
        note="signSGD on a momentum: every coordinate moves by exactly η, the sign smoothed.",
        lr=lr(1e-2),
        build=lambda h: showing(
            optax.chain(optax.ema(h["beta"], debias=False), optax.scale_by_sign()),
            lambda state: {"momentum": state[0].ema},
        ),
        show_state=shown,
        hyper=(beta("beta", "β", 0.9, "Decay of the momentum m."),),
        group="adaptive",
        reference="Bernstein et al., signSGD: Compressed Optimisation for Non-Convex"
        " Problems, ICML 2018",
    ),
)
