"""The newer adaptive, learning-rate-free and Lookahead rows (optimizers/rules/) written out,
as optax computes them (see `rule_text` for the format fields). Scalars (D, r, ‖g‖², ...) are
kept as vectors of equal entries; a state that does not start at zero is set on the first step
(t == 1), by multiplying with the comparisons (t == 1) and (t > 1)."""

from __future__ import annotations

from optimizers.codegen.rule_text import ADAM_DIRECTION, ADAM_MOMENTS, Rule

_NORM = "{m}.sqrt({m}.sum({x} * {x}))"  # ‖x‖ (format fields: m, x)
_FIRST_W0 = "w0 = w0 + (t == 1) * (w - w0)"  # the start point, kept from the first step
LR_FREE_RULES: dict[str, Rule] = {
    "yogi": Rule(
        "Yogi",
        "Yogi: v moves towards g² by (1 − β₂)g² at most; m and v start at 1e-6.",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            "m = m + (t == 1) * 1e-6",
            "v = v + (t == 1) * 1e-6",
            "m = b1 * m + (1 - b1) * g",
            "v = v - (1 - b2) * {m}.sign(v - g**2) * g**2",
            "d = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "adan": Rule(
        "Adan",
        "Adan: momenta of g and of g − g_prev, scaled by an average of their squared blend.",
        ("b1", "b2", "b3", "eps"),
        ("m", "v", "n", "g_prev"),
        (
            "diff = (t > 1) * (g - g_prev)",
            "g_prev = g",
            "m = b1 * m + (1 - b1) * g",
            "v = b2 * v + (1 - b2) * diff",
            "n = b3 * n + (1 - b3) * (g + (1 - b2) * diff) ** 2",
            "step = m / (1 - b1**t) + (1 - b2) * v / (1 - b2**t)",
            "d = step / ({m}.sqrt(n / (1 - b3**t)) + eps)",
        ),
        uses_step=True,
    ),
    "novograd": Rule(
        "NovoGrad",
        "NovoGrad: momentum of g divided by an average of the whole gradient's squared norm.",
        ("b1", "b2", "eps"),
        ("m", "nu"),
        (
            "square = {m}.sum(g * g)",
            "nu = (t == 1) * square + (t > 1) * (b2 * nu + (1 - b2) * square)",
            "m = (t > 1) * b1 * m + g / ({m}.sqrt(nu) + eps)",
            "d = m",
        ),
        uses_step=True,
    ),
    "ademamix": Rule(
        "AdEMAMix",
        "AdEMAMix: Adam plus α times a slow momentum μ (β₃), which is not bias-corrected.",
        ("b1", "b2", "b3", "alpha", "eps"),
        ("m", "mu", "v"),
        (
            "m = b1 * m + (1 - b1) * g",
            "mu = b3 * mu + (1 - b3) * g",
            "v = b2 * v + (1 - b2) * g**2",
            "d = (m / (1 - b1**t) + alpha * mu) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "adopt": Rule(
        "ADOPT",
        "ADOPT: g divided by the v of earlier steps, clipped to ±k^(1/4), then averaged.",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            "bound = (t - 1) ** 0.25",
            "normed = {m}.clip(g / {m}.maximum({m}.sqrt(v), 0 * v + eps), -bound, bound)",
            "m = (t > 1) * (b1 * m + (1 - b1) * normed)",
            "v = (t == 1) * g**2 + (t > 1) * (b2 * v + (1 - b2) * g**2)",
            "d = m",
        ),
        uses_step=True,
    ),
    "madgrad": Rule(
        "MADGRAD",
        "MADGRAD: dual averaging from w0 with a cube-root scale, averaged with w (rate γ).",
        ("gamma", "beta", "eps"),
        ("w0", "S", "V"),
        (
            _FIRST_W0,
            "# optax takes √t in float32",
            "lam = (gamma + eps) * {root_t}",
            "S = S + lam * g",
            "V = V + lam * g**2",
            "z = w0 - S / (V ** (1 / 3) + eps)",
            "d = (1 - beta) * (w - z)",
        ),
        uses_step=True,
    ),
    "rmsprop_centred": Rule(
        "CentredRMSprop",
        "Centred RMSprop: g / √(v − m² + ε), m and v running averages of g and g².",
        ("rho", "eps"),
        ("m", "v"),
        (
            "m = rho * m + (1 - rho) * g",
            "v = rho * v + (1 - rho) * g**2",
            "d = g / {m}.sqrt(v - m**2 + eps)",
        ),
    ),
    "signum": Rule(
        "Signum",
        "Signum: the sign of the momentum m = βm + (1 − β)g.",
        ("beta",),
        ("m",),
        ("m = beta * m + (1 - beta) * g", "d = {m}.sign(m)"),
    ),
    "dadapt": Rule(
        "DAdaptAdam",
        "D-Adaptation (Adam), as optax's dadapt_adamw at learning rate 1: D grows to fit.",
        ("b1", "b2", "eps", "d0"),
        ("D", "m", "v", "s", "r"),
        (
            "D = D + (t == 1) * d0",
            "root = b2**0.5",
            "lam = D * (1 - b2**t) ** 0.5 / (1 - b1**t)",
            "r = root * r + (1 - root) * lam * {m}.sum(g * s / ({m}.sqrt(v) + eps))",
            "s = root * s + (1 - root) * lam * g",
            "m = b1 * m + (1 - b1) * lam * g",
            "v = b2 * v + (1 - b2) * g**2",
            "D = {m}.maximum(D, r / ((1 - root) * {m}.sum(abs(s))))",
            "d = m / ({m}.sqrt(v) + eps)",
        ),
        uses_step=True,
    ),
    "prodigy": Rule(
        "Prodigy",
        "Prodigy, as optax's prodigy at learning rate 1 (β₃ = √β₂): D grows to fit.",
        ("b1", "b2", "eps", "d0"),
        ("w0", "D", "m", "v", "s", "r"),
        (
            _FIRST_W0,
            "D = D + (t == 1) * d0",
            "b3 = b2**0.5",
            "lam = D * (1 - b2**t) ** 0.5 / (1 - b1**t)",
            "m = b1 * m + (1 - b1) * D * g",
            "v = b2 * v + (1 - b2) * (D * g) ** 2",
            "s = b3 * s + lam * D / d0 * g",
            "r = b3 * r + D / d0 * lam * {m}.sum(g * (w0 - w))",
            "D = {m}.maximum(D, r / {m}.sum(abs(s)))",
            "d = lam * m / ({m}.sqrt(v) + D * eps)",
        ),
        uses_step=True,
    ),
    "dog": Rule(
        "DoG",
        "DoG: gradient descent at the rate max‖w − w0‖ / √(Σ‖g‖² + ε).",
        ("r_eps", "eps"),
        ("w0", "r", "G"),
        (
            _FIRST_W0,
            "r = r + (t == 1) * r_eps * (1 + " + _NORM.format(m="{m}", x="w") + ")",
            "r = {m}.maximum(r, " + _NORM.format(m="{m}", x="(w - w0)") + " + 0 * r)",
            "G = G + {m}.sum(g * g)",
            "d = r / {m}.sqrt(G + eps) * g",
        ),
        uses_step=True,
    ),
    "dowg": Rule(
        "DoWG",
        "DoWG: gradient descent at the rate r̄² / (√(Σ r̄² ‖g‖²) + ε), r̄² = max‖w − w0‖².",
        ("r0_sq", "eps"),
        ("w0", "r2", "V"),
        (
            _FIRST_W0,
            "r2 = r2 + (t == 1) * r0_sq",
            "r2 = {m}.maximum(r2, {m}.sum((w - w0) ** 2) + 0 * r2)",
            "V = V + r2 * {m}.sum(g * g)",
            "d = r2 / ({m}.sqrt(V) + eps) * g",
        ),
        uses_step=True,
    ),
    "cocob": Rule(
        "COCOB",
        "COCOB-Backprop: each coordinate bets a fraction of its winnings R (no learning rate).",
        ("alpha", "eps"),
        ("w0", "L", "G", "R", "theta"),
        (
            _FIRST_W0,
            "L = {m}.maximum(L + (t == 1) * eps, abs(g))",
            "G = G + abs(g)",
            "R = {m}.maximum(R - g * (w - w0), 0 * R)",
            "theta = theta - g",
            "bet = (L + R) / (L * {m}.maximum(G + L, alpha * L))",
            "d = w - w0 - theta * bet",
        ),
        uses_step=True,
    ),
    "schedule_free_sgd": Rule(
        "ScheduleFreeSGD",
        "Schedule-Free SGD at rate γ, recovering the average x from w as optax does.",
        ("gamma", "beta"),
        ("z",),
        (
            "z = z + (t == 1) * w",
            "x = (w - (1 - beta) * z) / beta",
            "z = z - gamma * g",
            "x = (1 - 1 / t) * x + z / t",
            "d = w - ((1 - beta) * z + beta * x)",
        ),
        uses_step=True,
    ),
    "schedule_free_adamw": Rule(
        "ScheduleFreeAdamW",
        "Schedule-Free AdamW at rate γ (no decay), recovering the average x from w as optax does.",
        ("gamma", "b1", "b2", "eps"),
        ("z", "v"),
        (
            "z = z + (t == 1) * w",
            "x = (w - (1 - b1) * z) / b1",
            "v = b2 * v + (1 - b2) * g**2",
            "z = z - gamma * g / ({m}.sqrt(v / (1 - b2**t)) + eps)",
            "x = (1 - 1 / t) * x + z / t",
            "d = w - ((1 - b1) * z + b1 * x)",
        ),
        uses_step=True,
    ),
    "lookahead": Rule(
        "LookaheadAdam",
        "Lookahead around Adam: every K steps the slow weights move α of the way to the fast.",
        ("b1", "b2", "eps", "sync_period", "alpha"),
        ("m", "v", "lead"),
        (
            *ADAM_MOMENTS,
            ADAM_DIRECTION,
            "sync, keep = t % sync_period == 0, t % sync_period != 0",
            "d = sync * (alpha * (lead + u) - lead) + keep * u",
            "lead = keep * (lead + u)",
        ),
        uses_step=True,
    ),
}

# Mechanic (optax.contrib.mechanize at rate 1): one scale S = Σ s_i of six bets (β_i = 1 − 10^-i)
# on the base rule's summed steps u from w0, learnt by online betting.
_MECHANIC_START = (
    _FIRST_W0,
    "s = s + (t == 1) * s_init",
    "betas = {tensor}([1 - 0.1**i for i in range(1, 7)])",
    "eps = 1e-8",
)
_MECHANIC_BET = (
    "S = {m}.sum(s)",
    "norm_g, norm_w = " + _NORM.format(m="{m}", x="g") + ", " + _NORM.format(m="{m}", x="w"),
    "tilted = g + mechanic_decay * S * norm_g / (norm_w + eps) * w",
    "delta = (w0 - w) / (S + eps)",
    "h = {m}.sum(tilted * delta)",
    "R = betas * R + {m}.clip(h, -M, M) * s",
    "M = {m}.maximum(betas * M, abs(h) + eps)",
    "V = betas**2 * V + h**2",
    "s = (s_init / 6 * M + {m}.maximum(R, 0 * R)) / ({m}.sqrt(V) + eps)",
    "d = w - w0 + {m}.sum(s) * (delta + u)",
)


def _mechanic(
    base: str, hyper: tuple[str, ...], moments: tuple[str, ...], direction: tuple[str, ...]
) -> Rule:
    """Mechanic around `base`, whose step u the `direction` lines compute from g and the
    `moments` (state of w's shape besides w0)."""
    return Rule(
        f"Mechanic{base}",
        f"Mechanic around {base} (optax's mechanize at rate 1): w -= η_k (w − w0 + S (Δ + u)).",
        (*hyper, "mechanic_decay", "s_init"),
        ("w0", *moments),
        (*_MECHANIC_START, *direction, *_MECHANIC_BET),
        uses_step=True,
        vectors=("s", "M", "V", "R"),
        vector_size=6,
        renamed=(("mechanic_decay", "weight_decay"),),  # Keras's own weight_decay is its decay
    )


LR_FREE_RULES["mechanic_sgd"] = _mechanic("SGD", (), (), ("u = g",))
LR_FREE_RULES["mechanic_adam"] = _mechanic(
    "Adam", ("b1", "b2"), ("m", "v"), (*ADAM_MOMENTS, ADAM_DIRECTION)
)
