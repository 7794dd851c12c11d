"""Adam and its variants: bias-corrected moments of g and g², and the rules built on them."""

from __future__ import annotations

import optax
from optax import contrib

from common.params import ParamSpec
from optimizers.rules.parts import (
    ADAM_LINES,
    ADAM_STEP,
    B1,
    B2,
    BETA1_LINE,
    M_HAT,
    adam_hyper,
    beta,
    eps,
    lr,
    rule,
)
from optimizers.rules.views import adam_view, showing, shown, unbias
from optimizers.specs import OptimizerSpec

# In picker order; `optimizers.rules` interleaves them with the other modules' rows.
ADAM_FAMILY_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="adam",
        name="Adam",
        group="adaptive",
        reference="D. P. Kingma, J. Ba, Adam: a method for stochastic optimization, 2015",
        latex=rule(*ADAM_LINES, ADAM_STEP),
        note="Momentum divided by an RMS of recent gradients, bias-corrected: a robust default.",
        lr=lr(0.05),
        build=lambda h: showing(optax.scale_by_adam(h["b1"], h["b2"], h["eps"]), adam_view(h)),
        show_state=shown,
        hyper=adam_hyper(),
    ),
    OptimizerSpec(
        key="adamw",
        name="AdamW",
        group="adaptive",
        reference="I. Loshchilov, F. Hutter, Decoupled weight decay regularization, 2019",
        latex=rule(*ADAM_LINES, ADAM_STEP + r" + \lambda w_k"),
        note="Adam plus weight decay applied outside the adaptive scaling: pulls w towards 0.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.chain(
                optax.scale_by_adam(h["b1"], h["b2"], h["eps"]),
                optax.add_decayed_weights(h["weight_decay"]),
            ),
            lambda state: adam_view(h)(state[0]),
        ),
        show_state=shown,
        hyper=(
            *adam_hyper(),
            ParamSpec(
                "weight_decay", "λ", 0.1, 1e-4, 10.0, "Pull of w towards the origin.", log=True
            ),
        ),
    ),
    OptimizerSpec(
        key="nadam",
        name="NAdam",
        group="adaptive",
        reference="T. Dozat, Incorporating Nesterov momentum into Adam, 2016",
        latex=rule(
            *ADAM_LINES,
            r"d_k &= \frac{\beta_1 m_{k+1} / (1-\beta_1^{k+2})"
            r" + (1-\beta_1)\, g_k / (1-\beta_1^{k+1})}{\sqrt{\hat v_{k+1}} + \varepsilon}",
        ),
        note="Adam with Nesterov's look-ahead on the momentum: reacts faster to turns.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.scale_by_adam(h["b1"], h["b2"], h["eps"], nesterov=True), adam_view(h)
        ),
        show_state=shown,
        hyper=adam_hyper(),
    ),
    OptimizerSpec(
        key="amsgrad",
        name="AMSGrad",
        group="adaptive",
        reference="S. J. Reddi, S. Kale, S. Kumar, On the convergence of Adam and beyond, 2018",
        latex=rule(
            *ADAM_LINES,
            r"\hat v^{\max}_{k+1} &= \max(\hat v^{\max}_k,\ \hat v_{k+1}),"
            r" \quad \hat v^{\max}_0 = 0",
            r"d_k &= \frac{\hat m_{k+1}}{\sqrt{\hat v^{\max}_{k+1}} + \varepsilon}",
        ),
        note="Adam that never lets a coordinate's denominator shrink, so steps cannot grow back.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.scale_by_amsgrad(h["b1"], h["b2"], h["eps"]),
            lambda state: {**adam_view(h)(state), "v_hat_max": state.nu_max},
        ),
        show_state=shown,
        hyper=adam_hyper(),
    ),
    OptimizerSpec(
        key="adamax",
        name="AdaMax",
        group="adaptive",
        reference="D. P. Kingma, J. Ba, Adam: a method for stochastic optimization (§7), 2015",
        latex=rule(
            BETA1_LINE,
            r"u_{k+1} &= \max(\beta_2 u_k,\ |g_k| + \varepsilon), \quad u_0 = 0",
            M_HAT,
            r"d_k &= \hat m_{k+1} / u_{k+1}",
        ),
        note="Adam with a decaying maximum of |g| instead of an RMS: steps stay bounded by η.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.scale_by_adamax(h["b1"], h["b2"], h["eps"]),
            lambda state: {"m_hat": unbias(state.mu, h["b1"], state.count), "u": state.nu},
        ),
        show_state=shown,
        hyper=(
            B1,
            beta("b2", "β₂", 0.999, "Decay of the running maximum u of |g|.", high=0.9999),
            eps(1e-8),
        ),
    ),
    OptimizerSpec(
        key="radam",
        name="RAdam",
        group="adaptive",
        reference="L. Liu et al., On the variance of the adaptive learning rate and beyond, 2020",
        latex=rule(
            *ADAM_LINES,
            r"\rho_\infty &= \frac{2}{1-\beta_2} - 1, \quad"
            r" \rho_{k+1} = \rho_\infty - \frac{2(k+1)\,\beta_2^{k+1}}{1-\beta_2^{k+1}}",
            r"r_{k+1} &= \sqrt{\frac{(\rho_{k+1}-4)(\rho_{k+1}-2)\,\rho_\infty}"
            r"{(\rho_\infty-4)(\rho_\infty-2)\,\rho_{k+1}}}",
            r"d_k &= \begin{cases} r_{k+1}\, \hat m_{k+1} / (\sqrt{\hat v_{k+1}} + \varepsilon)"
            r" & \rho_{k+1} \ge \tau \\ \hat m_{k+1} & \text{otherwise} \end{cases}",
        ),
        note="Adam that takes plain momentum steps until its variance estimate is trustworthy.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.scale_by_radam(h["b1"], h["b2"], h["eps"], threshold=h["threshold"]),
            adam_view(h),
        ),
        show_state=shown,
        hyper=(
            *adam_hyper(),
            ParamSpec("threshold", "τ", 5.0, 4.0, 50.0, "Adaptive steps start once ρ_k reaches τ."),
        ),
    ),
    OptimizerSpec(
        key="adabelief",
        name="AdaBelief",
        group="adaptive",
        reference="J. Zhuang et al., AdaBelief optimizer: adapting stepsizes by the belief, 2020",
        latex=rule(
            BETA1_LINE,
            r"s_{k+1} &= \beta_2 s_k + (1-\beta_2)\,(g_k - m_{k+1})^2 + \varepsilon, \quad s_0 = 0",
            M_HAT + r", \quad \hat s_{k+1} = \frac{s_{k+1}}{1-\beta_2^{k+1}}",
            r"d_k &= \frac{\hat m_{k+1}}{\sqrt{\hat s_{k+1}} + \varepsilon}",
        ),
        note="Adam scaled by how far gradients stray from their average: bold where they agree.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.scale_by_belief(h["b1"], h["b2"], h["eps"], h["eps"]),
            adam_view(h, second="s_hat"),
        ),
        show_state=shown,
        hyper=adam_hyper(1e-16),
    ),
    OptimizerSpec(
        key="yogi",
        name="Yogi",
        latex=rule(
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad m_0 = v_0 = 10^{-6}",
            r"v_{k+1} &= v_k - (1-\beta_2)\operatorname{sign}(v_k - g_k^2)\, g_k^2",
            r"d_k &= \frac{m_{k+1} / (1-\beta_1^{k+1})}{\sqrt{v_{k+1} / (1-\beta_2^{k+1})}"
            r" + \varepsilon}",
        ),
        note="Adam whose v moves towards g² by a bounded amount, so it cannot forget fast.",
        lr=lr(0.05),
        build=lambda h: showing(optax.scale_by_yogi(h["b1"], h["b2"], h["eps"]), adam_view(h)),
        show_state=shown,
        hyper=(B1, B2, eps(1e-3)),
        group="adaptive",
        reference="Zaheer et al., Adaptive Methods for Nonconvex Optimization, NeurIPS 2018",
    ),
    OptimizerSpec(
        key="adan",
        name="Adan",
        latex=rule(
            r"\delta_k &= g_k - g_{k-1}, \quad \delta_0 = 0, \quad m_0 = v_0 = n_0 = 0",
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad"
            r" v_{k+1} = \beta_2 v_k + (1-\beta_2)\, \delta_k",
            r"n_{k+1} &= \beta_3 n_k + (1-\beta_3)\, \big(g_k + (1-\beta_2)\, \delta_k\big)^2",
            r"d_k &= \frac{\hat m_{k+1} + (1-\beta_2)\, \hat v_{k+1}}{\sqrt{\hat n_{k+1}}"
            r" + \varepsilon}, \quad \hat{\ } = \cdot / (1 - \beta^{k+1})",
        ),
        note="Adam plus a momentum of gradient differences: Nesterov's look-ahead, estimated.",
        lr=lr(0.05),
        build=lambda h: showing(
            optax.scale_by_adan(h["b1"], h["b2"], h["b3"], h["eps"]),
            lambda state: {
                "m_hat": unbias(state.m, h["b1"], state.t),
                "diff_hat": unbias(state.v, h["b2"], state.t),
                "n_hat": unbias(state.n, h["b3"], state.t),
            },
        ),
        show_state=shown,
        hyper=(
            beta("b1", "β₁", 0.98, "Decay of the gradient average m."),
            beta("b2", "β₂", 0.92, "Decay of the average v of gradient differences."),
            beta("b3", "β₃", 0.99, "Decay of the squared average n.", high=0.9999),
            eps(1e-8),
        ),
        group="adaptive",
        reference="Xie et al., Adan: Adaptive Nesterov Momentum Algorithm, 2022 (TPAMI 2024)",
    ),
    OptimizerSpec(
        key="ademamix",
        name="AdEMAMix",
        latex=rule(
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, g_k, \quad"
            r" \mu_{k+1} = \beta_3 \mu_k + (1-\beta_3)\, g_k, \quad m_0 = \mu_0 = v_0 = 0",
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2",
            r"d_k &= \frac{m_{k+1} / (1-\beta_1^{k+1}) + \alpha\, \mu_{k+1}}"
            r"{\sqrt{v_{k+1} / (1-\beta_2^{k+1})} + \varepsilon}",
        ),
        note="Adam plus a very slow second momentum μ weighted by α: remembers old gradients.",
        lr=lr(0.05),
        build=lambda h: showing(
            contrib.scale_by_ademamix(h["b1"], h["b2"], h["b3"], h["alpha"], h["eps"]),
            lambda state: {
                "m_hat": unbias(state.m1, h["b1"], state.count),
                "slow_momentum": state.m2,
                "v_hat": unbias(state.nu, h["b2"], state.count),
            },
        ),
        show_state=shown,
        hyper=(
            B1,
            B2,
            beta("b3", "β₃", 0.9999, "Decay of the slow momentum μ.", high=0.99999),
            ParamSpec("alpha", "α", 5.0, 0.0, 20.0, "Weight of the slow momentum μ."),
            eps(1e-8),
        ),
        group="adaptive",
        reference="Pagliardini et al., The AdEMAMix Optimizer: Better, Faster, Older, 2024",
    ),
    OptimizerSpec(
        key="adopt",
        name="ADOPT",
        latex=rule(
            r"v_1 &= g_0^2, \quad m_1 = 0 \quad (d_0 = 0)",
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, \operatorname{clip}\!\Big("
            r"\frac{g_k}{\max(\sqrt{v_k}, \varepsilon)},\ \pm k^{1/4}\Big), \quad k \ge 1",
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad d_k = m_{k+1}",
        ),
        note="Adam that divides g_k by the v of earlier steps only, then averages: no bias.",
        lr=lr(0.05),
        build=lambda h: showing(
            contrib.scale_by_adopt(h["b1"], h["b2"], h["eps"]),
            lambda state: {"momentum": state.mu, "mean_square": state.nu},
        ),
        show_state=shown,
        hyper=(
            B1,
            beta("b2", "β₂", 0.9999, "Decay of the squared-gradient average v.", 0.99999),
            eps(1e-6),
        ),
        group="adaptive",
        reference="Taniguchi et al., ADOPT: Modified Adam Can Converge with Any β₂, 2024",
    ),
)
