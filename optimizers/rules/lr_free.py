"""Learning-rate-free rules: they estimate their own scale of step as they go.

Every row keeps the engine's convention w_{k+1} = w_k − η_k d_k, with d_k the direction at unit
rate. They run with their own learning rate at 1, so that at the default η₀ = 1 the engine takes
exactly their step (another η₀ scales it from outside). Schedule-Free steps from averaged points
that it recovers from w_k, so its rate γ is a hyperparameter inside the rule and η₀ = 1 keeps its
averaging exact. optax returns the step to add (w_{k+1} − w_k at unit rate): its sign is flipped
to give d_k. `show_state` names each method's own scale of step (D-Adaptation's and Prodigy's D,
DoG's distance ratio, Mechanic's s, ...) so the inspector shows the rate it really uses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from optax import contrib

from common.params import ParamSpec
from optimizers.rules.parts import B1, B2, adam_hyper, beta, eps, gamma, rule, unit_lr
from optimizers.rules.views import pair, shown, stepping
from optimizers.specs import OptimizerSpec, Scalars


def _d0(default: float = 1e-6) -> ParamSpec:
    return ParamSpec(
        "d0", "D₀", default, 1e-12, 1.0, "First estimate of the distance to the solution.", log=True
    )


_T = r"t = k + 1"


# D-Adaptation and Prodigy: Adam whose step is scaled by a growing estimate D of ‖w_0 − w*‖.

_D_LINES = (
    r"\lambda_k &= D_k \sqrt{1-\beta_2^{t}} / (1-\beta_1^{t}), \quad "
    + _T
    + r", \quad D_0 \text{ given}",
)


def _d_view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
    return {"d": pair(state.estim_lr)}


def _dadapt(h: Scalars) -> optax.GradientTransformation:
    tx = contrib.dadapt_adamw(1.0, (h["b1"], h["b2"]), h["eps"], h["d0"])
    return stepping(tx, _d_view, flip=True)


def _prodigy(h: Scalars) -> optax.GradientTransformation:
    tx = contrib.prodigy(1.0, (h["b1"], h["b2"]), eps=h["eps"], estim_lr0=h["d0"])
    return stepping(tx, _d_view, flip=True)


# DoG and DoWG: gradient descent at the rate (distance travelled) / √(sum of squared gradients).


def _dog(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        dog = state[1]
        rate = dog.max_dist / jnp.sqrt(dog.sum_sq_norm_grads + h["eps"])
        return {"step_scale": pair(rate), "max_distance": pair(dog.max_dist)}

    tx = contrib.dog(1.0, init_step=("heuristic", h["r_eps"]), eps=h["eps"])
    return stepping(tx, view, flip=True)


def _dowg(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        dowg = state[1]
        rate = dowg.estim_sq_dist / (jnp.sqrt(dowg.weighted_sq_norm_grads) + h["eps"])
        return {"step_scale": pair(rate), "sq_distance": pair(dowg.estim_sq_dist)}

    tx = contrib.dowg(1.0, init_estim_sq_dist=h["r0_sq"], eps=h["eps"])
    return stepping(tx, view, flip=True)


def _cocob(h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        L, G, R = state.scale, state.subgradients, state.reward
        bet = (L + R) / (L * jnp.maximum(G + L, h["alpha"] * L))
        return {"bet_fraction": bet, "reward": R}

    return stepping(contrib.scale_by_cocob(h["alpha"], h["eps"]), view, flip=True)


def _mechanic(base: optax.GradientTransformation, h: Scalars) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        return {"scale": pair(jnp.sum(state.s))}

    tx = contrib.mechanize(base, weight_decay=h["weight_decay"], s_init=h["s_init"])
    return stepping(tx, view, flip=True)


# Schedule-Free: the gradient is taken at y_k = w_k, between the base sequence z_k and the
# average x_k of the z's, which is the point to use once training stops.


def _schedule_free(
    tx: optax.GradientTransformation, beta: jax.Array
) -> optax.GradientTransformation:
    def view(state: optax.OptState, point: jax.Array) -> dict[str, jax.Array]:
        return {"averaged_point": (point - (1 - beta) * state.z) / beta, "z_base": state.z}

    return stepping(tx, view, flip=True)


_MECHANIC_HYPER = (
    ParamSpec(
        "weight_decay",
        "λ",
        0.01,
        0.0,
        1.0,
        "Mechanic's own pull of w towards 0, relative to the gradient's size.",
    ),
    ParamSpec("s_init", "s₀", 1e-6, 1e-12, 1.0, "First scale of the base rule's steps.", log=True),
)
_MECHANIC_LINES = (
    r"S_k &= \textstyle\sum_i s_{k,i}, \quad \Delta_k = (w_0 - w_k) / (S_k + \varepsilon), \quad"
    r" \tilde g_k = g_k + \lambda S_k \frac{\|g_k\|}{\|w_k\| + \varepsilon} w_k",
    r"h_k &= \langle \tilde g_k, \Delta_k \rangle, \quad"
    r" \beta_i = 1 - 10^{-i},\ i = 1 \dots 6, \quad s_{0,i} = s_0",
    r"M_{k+1} &= \max(\beta M_k,\ |h_k| + \varepsilon), \quad"
    r" V_{k+1} = \beta^2 V_k + h_k^2, \quad M_0 = V_0 = R_0 = 0",
    r"R_{k+1} &= \beta R_k + \operatorname{clip}(h_k, \pm M_k)\, s_k, \quad"
    r" s_{k+1} = \frac{s_0 M_{k+1} / 6 + \max(R_{k+1}, 0)}{\sqrt{V_{k+1}} + \varepsilon}",
    r"d_k &= w_k - w_0 + S_{k+1} (\Delta_k + u_k), \quad \varepsilon = 10^{-8}",
)
_SCHEDULE_FREE_LINES = (
    r"z_{k+1} &= z_k - \gamma\, u_k, \quad z_0 = x_0 = w_0, \quad c_{k+1} = 1 / (k + 1)",
    r"x_{k+1} &= (1 - c_{k+1})\, x_k + c_{k+1} z_{k+1}",
    r"d_k &= w_k - \big((1-\beta) z_{k+1} + \beta x_{k+1}\big)",
)
_SCHEDULE_FREE_NOTE = (
    "Gradients at w_k, between a plain SGD sequence z and its running average x (the"
    " contour's open circles: use x at the end); no decay. γ is its rate, η₀ = 1."
)


# In picker order.
LR_FREE_RULES: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        key="dadapt",
        name="D-Adaptation (Adam)",
        latex=rule(
            *_D_LINES,
            r"r_{k+1} &= \sqrt{\beta_2}\, r_k + (1-\sqrt{\beta_2})\, \lambda_k"
            r" \Big\langle g_k, \frac{s_k}{\sqrt{v_k} + \varepsilon} \Big\rangle, \quad"
            r" m_0 = v_0 = s_0 = r_0 = 0",
            r"s_{k+1} &= \sqrt{\beta_2}\, s_k + (1-\sqrt{\beta_2})\, \lambda_k g_k, \quad"
            r" m_{k+1} = \beta_1 m_k + (1-\beta_1)\, \lambda_k g_k",
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad"
            r" D_{k+1} = \max\Big(D_k, \frac{r_{k+1}}{(1-\sqrt{\beta_2}) \|s_{k+1}\|_1}\Big)",
            r"d_k &= \frac{m_{k+1}}{\sqrt{v_{k+1}} + \varepsilon}",
        ),
        note="Adam whose rate λ_k grows with a lower bound D_k on the distance to the"
        " minimum; its own rate is 1, η₀ = 1 keeps it.",
        lr=unit_lr(),
        build=_dadapt,
        show_state=shown,
        hyper=(*adam_hyper(), _d0()),
        group="lr-free",
        reference="Defazio & Mishchenko, Learning-Rate-Free Learning by D-Adaptation, ICML 2023",
    ),
    OptimizerSpec(
        key="prodigy",
        name="Prodigy",
        latex=rule(
            *_D_LINES,
            r"m_{k+1} &= \beta_1 m_k + (1-\beta_1)\, D_k g_k, \quad"
            r" v_{k+1} = \beta_2 v_k + (1-\beta_2)\, D_k^2 g_k^2, \quad \beta_3 = \sqrt{\beta_2}",
            r"s_{k+1} &= \beta_3 s_k + \frac{\lambda_k D_k}{D_0} g_k, \quad"
            r" r_{k+1} = \beta_3 r_k + \frac{\lambda_k D_k}{D_0}"
            r" \langle g_k, w_0 - w_k \rangle, \quad m_0 = v_0 = s_0 = r_0 = 0",
            r"D_{k+1} &= \max\big(D_k, r_{k+1} / \|s_{k+1}\|_1\big), \quad"
            r" d_k = \frac{\lambda_k m_{k+1}}{\sqrt{v_{k+1}} + D_{k+1} \varepsilon}",
        ),
        note="D-Adaptation that measures the distance travelled, w_0 − w_k, so D grows"
        " faster; its own rate is 1, η₀ = 1 keeps it.",
        lr=unit_lr(),
        build=_prodigy,
        show_state=shown,
        hyper=(*adam_hyper(), _d0()),
        group="lr-free",
        reference="Mishchenko & Defazio, Prodigy: An Expeditiously Adaptive Parameter-Free"
        " Learner, ICML 2024",
    ),
    OptimizerSpec(
        key="dog",
        name="DoG",
        latex=rule(
            r"\bar r_k &= \max\big(\bar r_{k-1}, \|w_k - w_0\|\big), \quad"
            r" \bar r_{-1} = r_\epsilon (1 + \|w_0\|)",
            r"G_k &= \textstyle\sum_{j \le k} \|g_j\|^2, \quad"
            r" d_k = \frac{\bar r_k}{\sqrt{G_k + \varepsilon}}\, g_k",
        ),
        note="Gradient descent at the rate (farthest distance from w_0) / √(Σ‖g‖²): no rate"
        " to set; η₀ = 1 keeps it.",
        lr=unit_lr(),
        build=_dog,
        show_state=shown,
        hyper=(
            ParamSpec(
                "r_eps",
                "r_ε",
                1e-6,
                1e-12,
                1.0,
                "First distance, relative to 1 + ‖w_0‖: the size of the first step.",
                log=True,
            ),
            eps(1e-8),
        ),
        group="lr-free",
        reference="Ivgi, Hinder & Carmon, DoG is SGD's Best Friend, ICML 2023",
    ),
    OptimizerSpec(
        key="dowg",
        name="DoWG",
        latex=rule(
            r"\bar r^2_k &= \max\big(\bar r^2_{k-1}, \|w_k - w_0\|^2\big), \quad"
            r" \bar r^2_{-1} = r_0^2",
            r"V_k &= V_{k-1} + \bar r^2_k \|g_k\|^2, \quad V_{-1} = 0, \quad"
            r" d_k = \frac{\bar r^2_k}{\sqrt{V_k} + \varepsilon}\, g_k",
        ),
        note="DoG with the gradients weighted by the distance reached: later ones count"
        " more; η₀ = 1 keeps it.",
        lr=unit_lr(),
        build=_dowg,
        show_state=shown,
        hyper=(
            ParamSpec(
                "r0_sq",
                "r₀²",
                1e-4,
                1e-12,
                1.0,
                "First squared distance: the size of the first step.",
                log=True,
            ),
            eps(1e-4),
        ),
        group="lr-free",
        reference="Khaled, Mishchenko & Jin, DoWG Unleashed: An Efficient Universal"
        " Parameter-Free Gradient Descent Method, NeurIPS 2023",
    ),
    OptimizerSpec(
        key="cocob",
        name="COCOB-Backprop",
        latex=rule(
            r"L_{k+1} &= \max(L_k, |g_k|), \quad G_{k+1} = G_k + |g_k|, \quad"
            r" L_0 = \varepsilon, \quad G_0 = R_0 = \theta_0 = 0",
            r"R_{k+1} &= \max\big(R_k - g_k (w_k - w_0),\ 0\big), \quad"
            r" \theta_{k+1} = \theta_k - g_k",
            r"d_k &= w_k - w_0 - \frac{\theta_{k+1} (L_{k+1} + R_{k+1})}"
            r"{L_{k+1} \max(G_{k+1} + L_{k+1},\ \alpha L_{k+1})}",
        ),
        note="Bets a fraction of its winnings R on each coordinate, coin-betting style: no"
        " rate; η₀ = 1 keeps it.",
        lr=unit_lr(),
        build=_cocob,
        show_state=shown,
        hyper=(
            ParamSpec(
                "alpha", "α", 100.0, 1.0, 1000.0, "Caps the early bets: larger is more careful."
            ),
            eps(1e-8),
        ),
        group="lr-free",
        reference="Orabona & Tommasi, Training Deep Networks without Learning Rates Through"
        " Coin Betting, NeurIPS 2017",
    ),
    OptimizerSpec(
        key="mechanic_sgd",
        name="Mechanic (SGD)",
        latex=rule(r"u_k &= g_k", *_MECHANIC_LINES),
        note="Learns one scale S for SGD's summed steps from w_0 by online betting; η₀ = 1"
        " keeps it.",
        lr=unit_lr(),
        build=lambda h: _mechanic(optax.sgd(1.0), h),
        show_state=shown,
        hyper=_MECHANIC_HYPER,
        group="lr-free",
        reference="Cutkosky, Defazio & Mehta, Mechanic: A Learning Rate Tuner, NeurIPS 2023",
    ),
    OptimizerSpec(
        key="mechanic_adam",
        name="Mechanic (Adam)",
        latex=rule(
            r"u_k &= \hat m_{k+1} / (\sqrt{\hat v_{k+1}} + 10^{-8}) \ \text{(Adam's } d_k)",
            *_MECHANIC_LINES,
        ),
        note="Learns one scale S for Adam's summed steps from w_0 by online betting; η₀ = 1"
        " keeps it.",
        lr=unit_lr(),
        build=lambda h: _mechanic(optax.adam(1.0, h["b1"], h["b2"]), h),
        show_state=shown,
        hyper=(B1, B2, *_MECHANIC_HYPER),
        group="lr-free",
        reference="Cutkosky, Defazio & Mehta, Mechanic: A Learning Rate Tuner, NeurIPS 2023",
    ),
    OptimizerSpec(
        key="schedule_free_sgd",
        name="Schedule-Free SGD",
        latex=rule(r"u_k &= g_k", *_SCHEDULE_FREE_LINES),
        note=_SCHEDULE_FREE_NOTE,
        lr=unit_lr(),
        build=lambda h: _schedule_free(
            contrib.schedule_free_sgd(h["gamma"], b1=h["beta"]), h["beta"]
        ),
        show_state=shown,
        hyper=(gamma(0.05), beta("beta", "β", 0.9, "Weight of x in the gradient point.")),
        group="lr-free",
        reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024",
    ),
    OptimizerSpec(
        key="schedule_free_adamw",
        name="Schedule-Free AdamW",
        latex=rule(
            r"v_{k+1} &= \beta_2 v_k + (1-\beta_2)\, g_k^2, \quad"
            r" u_k = \frac{g_k}{\sqrt{v_{k+1} / (1-\beta_2^{k+1})} + \varepsilon}",
            *_SCHEDULE_FREE_LINES,
        ),
        note=_SCHEDULE_FREE_NOTE.replace("plain SGD", "Adam-scaled"),
        lr=unit_lr(),
        build=lambda h: _schedule_free(
            contrib.schedule_free_adamw(h["gamma"], b1=h["b1"], b2=h["b2"], eps=h["eps"]),
            h["b1"],
        ),
        show_state=shown,
        hyper=(
            gamma(0.05),
            beta("b1", "β", 0.9, "Weight of x in the gradient point."),
            B2,
            eps(1e-8),
        ),
        group="lr-free",
        reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024",
    ),
)
