"""Update rules that torch or Keras lacks (or spells differently), written once as lines of
maths in format fields and rendered to each framework's optimizer class by `rule_classes`.

The fields: {m} the array module (torch, ops), {where} its select, {root_t} √t rounded to
float32 (optax takes it so), {tensor} an array from a list of numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """An update rule written out: `body` computes the direction d from g and the state.

    The state starts at zeros: `state` of w's shape, `vectors` of `vector_size` entries. `t` is
    the 1-based step count where `uses_step`. `inputs` are given to each step besides the
    gradient (torch: arguments of step(); Keras: attributes set before apply()). `renamed` pairs
    a constructor argument with the run's hyperparameter it takes, where their names differ.
    """

    name: str
    doc: str
    hyper: tuple[str, ...]
    state: tuple[str, ...]
    body: tuple[str, ...]
    uses_step: bool = False
    vectors: tuple[str, ...] = ()
    vector_size: int = 0
    inputs: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()

    def source(self, argument: str) -> str:
        """The run's hyperparameter that the constructor argument `argument` takes."""
        return dict(self.renamed).get(argument, argument)


# Adam's moments m and v of g, which several rules share.
ADAM_MOMENTS = ("m = b1 * m + (1 - b1) * g", "v = b2 * v + (1 - b2) * g**2")
# Adam's direction m̂ / (√v̂ + ε), from the moments above.
ADAM_DIRECTION = "u = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)"
# The rules with a step size that torch or Keras lacks, or computes otherwise than the app.
STEP_SIZE_RULES: dict[str, Rule] = {
    "momentum": Rule(
        "HeavyBall",
        "Heavy ball: v = βv + g, w -= η_k v (the rate scales the velocity after it is summed).",
        ("beta",),
        ("v",),
        ("v = beta * v + g", "d = v"),
    ),
    "nesterov": Rule(
        "Nesterov",
        "Nesterov momentum: v = βv + g, w -= η_k (g + βv).",
        ("beta",),
        ("v",),
        ("v = beta * v + g", "d = g + beta * v"),
    ),
    "rmsprop": Rule(
        "RMSprop",
        "RMSprop with ε inside the square root: v = ρv + (1 − ρ)g², w -= η_k g / √(v + ε).",
        ("rho", "eps"),
        ("v",),
        ("v = rho * v + (1 - rho) * g**2", "d = g / {m}.sqrt(v + eps)"),
    ),
    "adam": Rule(
        "Adam",
        "Adam with ε added to √v̂: w -= η_k m̂ / (√v̂ + ε).",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            *ADAM_MOMENTS,
            "d = m / (1 - b1**t) / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "nadam": Rule(
        "NAdam",
        "NAdam as optax writes it: Nesterov's look-ahead on m̂, no momentum-decay schedule.",
        ("b1", "b2", "eps"),
        ("m", "v"),
        (
            *ADAM_MOMENTS,
            "m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)",
            "d = m_hat / ({m}.sqrt(v / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "amsgrad": Rule(
        "AMSGrad",
        "AMSGrad keeping the running maximum of the bias-corrected v̂ (as optax does).",
        ("b1", "b2", "eps"),
        ("m", "v", "v_max"),
        (
            *ADAM_MOMENTS,
            "v_max = {m}.maximum(v_max, v / (1 - b2**t))",
            "d = m / (1 - b1**t) / ({m}.sqrt(v_max) + eps)",
        ),
        uses_step=True,
    ),
    "adamax": Rule(
        "AdaMax",
        "AdaMax with ε inside the maximum: u = max(β₂u, |g| + ε), w -= η_k m̂ / u.",
        ("b1", "b2", "eps"),
        ("m", "u"),
        (
            "m = b1 * m + (1 - b1) * g",
            "u = {m}.maximum(b2 * u, abs(g) + eps)",
            "d = m / (1 - b1**t) / u",
        ),
        uses_step=True,
    ),
    "radam": Rule(
        "RAdam",
        "RAdam: plain momentum steps until ρ_t reaches the threshold τ, then rectified Adam.",
        ("b1", "b2", "eps", "threshold"),
        ("m", "v"),
        (
            *ADAM_MOMENTS,
            "rho_inf = 2 / (1 - b2) - 1",
            "rho = rho_inf - 2 * t * b2**t / (1 - b2**t)",
            "m_hat = m / (1 - b1**t)",
            "ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)",
            "r = {m}.sqrt(abs(ratio))",
            "adaptive = r * m_hat / ({m}.sqrt(v / (1 - b2**t)) + eps)",
            "d = {where}(rho >= threshold, adaptive, m_hat)",
        ),
        uses_step=True,
    ),
    "adabelief": Rule(
        "AdaBelief",
        "AdaBelief: s = β₂s + (1 − β₂)(g − m)² + ε, w -= η_k m̂ / (√ŝ + ε).",
        ("b1", "b2", "eps"),
        ("m", "s"),
        (
            "m = b1 * m + (1 - b1) * g",
            "s = b2 * s + (1 - b2) * (g - m) ** 2 + eps",
            "d = m / (1 - b1**t) / ({m}.sqrt(s / (1 - b2**t)) + eps)",
        ),
        uses_step=True,
    ),
    "signsgd": Rule("SignSGD", "signSGD: w -= η_k sign(g).", (), (), ("d = {m}.sign(g)",)),
    "lion": Rule(
        "Lion",
        "Lion: w -= η_k sign(β₁m + (1 − β₁)g), then m = β₂m + (1 − β₂)g.",
        ("b1", "b2"),
        ("m",),
        ("d = {m}.sign(b1 * m + (1 - b1) * g)", "m = b2 * m + (1 - b2) * g"),
    ),
}
STEP_SIZE_RULES["adamw"] = STEP_SIZE_RULES["adam"]  # the decay λ is Keras's weight_decay option
STEP_SIZE_RULES["newton"] = Rule(
    "Newton",
    "Damped Newton: w -= η_k (H + λI)⁻¹ g, with the Hessian H given to each step.",
    ("damping",),
    (),
    ("d = {m}.linalg.solve(hessian + damping * {m}.eye(2), g)",),
    inputs=("hessian",),
)
# Hypergradient descent (Baydin et al. 2018) on a multiplier α = 1 + a of the rate; p is the
# last direction (a copy: torch zeroes w.grad in place).
_HD_STEP = ("a = a + beta * {m}.sum(g * p)", "p = 1 * u", "d = (1 + a) * u")
STEP_SIZE_RULES["hd_gd"] = Rule(
    "HypergradientGD",
    "Hypergradient descent: α = α + β⟨g, g_prev⟩ (α starts at 1), w -= η_k α g.",
    ("beta",),
    ("a", "p"),
    ("u = g", *_HD_STEP),
)
STEP_SIZE_RULES["hd_adam"] = Rule(
    "HypergradientAdam",
    "Hypergradient Adam: u = m̂/(√v̂ + ε), α = α + β⟨g, u_prev⟩ (α starts at 1), w -= η_k α u.",
    ("b1", "b2", "eps", "beta"),
    ("m", "v", "a", "p"),
    (*ADAM_MOMENTS, ADAM_DIRECTION, *_HD_STEP),
    uses_step=True,
)
