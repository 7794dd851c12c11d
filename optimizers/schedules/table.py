"""The schedules' closed forms and their table `SCHEDULES` (one `ScheduleSpec` each).

To add a schedule: write its closed form fn(k, η₀, p) here and its row in `SCHEDULES`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.params import ParamSpec
from common.registry import Registry
from optimizers.schedules.parts import as_step, count, fraction
from optimizers.specs import Scalars, ScheduleSpec

ScheduleFn = Callable[[jax.Array, jax.Array, Scalars], jax.Array]


def _periods(k: jax.Array, period: jax.Array) -> jax.Array:
    """⌊k / p⌋ for whole k and p ≥ 1, immune to XLA computing k/p as k·(1/p) (187·(1/187) < 1)."""
    return jnp.floor((k + 0.5) / period)


def _cosine(start: jax.Array, end: jax.Array, frac: jax.Array) -> jax.Array:
    """Half-cosine from `start` (frac ≤ 0) to `end` (frac ≥ 1): end + ½(start − end)(1 + cos πf)."""
    return end + (start - end) * (1 + jnp.cos(jnp.pi * jnp.clip(frac, 0.0, 1.0))) / 2


def _triangle(k: jax.Array, half: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Smith's triangle wave: height 1 − |k/s − 2c − 1| ∈ [0, 1] and 0-based cycle c = ⌊k/2s⌋."""
    cycle = _periods(k, 2 * half)
    return 1 - jnp.abs(k / half - 2 * cycle - 1), cycle


def _constant(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    return jnp.full_like(as_step(k), lr0)


def _piecewise(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    return lr0 * p["gamma"] ** _periods(as_step(k), p["step_size"])


_MILESTONES = ("milestone1", "milestone2", "milestone3")


def _multistep(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    k = as_step(k)
    passed = sum((k >= p[name]).astype(float) for name in _MILESTONES)
    return lr0 * p["gamma"] ** passed


def _exponential(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    return lr0 * p["gamma"] ** (as_step(k) / p["decay_steps"])


def _inverse_time(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    return lr0 / (1 + p["decay_rate"] * as_step(k) / p["decay_steps"])


def _polynomial(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    end = p["end_factor"] * lr0
    left = 1 - jnp.minimum(as_step(k), p["decay_steps"]) / p["decay_steps"]
    return end + (lr0 - end) * left ** p["power"]


def _cosine_decay(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    return _cosine(lr0, p["min_factor"] * lr0, as_step(k) / p["decay_steps"])


def _sgdr(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    """Restart i starts at S_i = T₀(T_mult^i − 1)/(T_mult − 1) (T₀ i when T_mult = 1)."""
    k, first, mult = as_step(k), p["period"], p["period_mult"]
    geometric = mult > 1
    base = jnp.where(geometric, mult, 2.0)  # keeps the unused branch finite when T_mult = 1

    def start(i: jax.Array) -> jax.Array:
        return jnp.where(geometric, first * (base**i - 1) / (base - 1), first * i)

    i = jnp.where(
        geometric,
        jnp.floor(jnp.log1p(k * (base - 1) / first) / jnp.log(base)),
        _periods(k, first),
    )
    i += (start(i + 1) <= k).astype(float) - (start(i) > k).astype(float)  # log rounding
    return _cosine(lr0, p["min_factor"] * lr0, (k - start(i)) / (first * mult**i))


def _cyclical(amplitude: Callable[[jax.Array, jax.Array, Scalars], jax.Array]) -> ScheduleFn:
    """η₀ + (η_max − η₀) · triangle · amplitude(k, c, p), with η_max = M η₀."""

    def fn(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
        k = as_step(k)
        height, cycle = _triangle(k, p["step_size"])
        return lr0 + (p["max_factor"] - 1) * lr0 * height * amplitude(k, cycle, p)

    return fn


def _one_cycle(k: jax.Array, lr0: jax.Array, p: Scalars) -> jax.Array:
    k, total = as_step(k), p["total_steps"]
    rise = p["pct"] * total
    low = lr0 / p["div"]
    warm = _cosine(low, lr0, k / rise)
    anneal = _cosine(lr0, low / p["final_div"], (k - rise) / (total - rise))
    return jnp.where(k < rise, warm, anneal)


def _gamma(default: float, help: str, low: float = 0.01) -> ParamSpec:
    return ParamSpec("gamma", "γ", default, low, 1.0, help)


def _lines(*lines: str) -> str:
    """Formula lines stacked and centred, each as wide as itself (sidebar-sized, see below)."""
    body = r" \\ ".join(lines)
    return rf"\begin{{gathered}} {body} \end{{gathered}}"


_MIN_FACTOR = fraction("min_factor", "ρ", 0.0, "Floor as a fraction of η₀: η_min = ρ η₀.")
# The formulas are typeset in the sidebar, about 220 px wide: short lines (≤ ~15 symbols)
# stacked with `_lines`, vertical fractions, and h_k for the half-cosine shared by three rows.
_HALF_COSINE = r"h_k = \frac{1 + \cos \pi u_k}{2}"  # 1 at u_k = 0, 0 at u_k = 1
_CYCLE = (
    r"\Delta = (M - 1)\, \eta_0",
    r"c = \lfloor k / 2s \rfloor",
    r"x_k = 1 - \left|\frac{k}{s} - 2c - 1\right|",
)
_CYCLICAL = (
    count("step_size", "s", 25, "Half a cycle: steps from the base rate up to the peak."),
    ParamSpec(
        "max_factor", "M", 5.0, 1.0, 100.0, "Peak as a multiple of η₀: η_max = M η₀.", log=True
    ),
)

_SGDR_PAPER = "I. Loshchilov, F. Hutter, SGDR: stochastic gradient descent with warm restarts, 2017"
_CLR_PAPER = "L. N. Smith, Cyclical learning rates for training neural networks, 2017"


SCHEDULES: Registry[ScheduleSpec] = Registry(
    "schedule",
    ScheduleSpec(
        key="constant",
        name="Constant",
        latex=r"\eta_k = \eta_0",
        note="The same rate at every step: the baseline every other schedule is judged against.",
        fn=_constant,
    ),
    ScheduleSpec(
        key="step",
        name="Step decay",
        reference="A. Krizhevsky, I. Sutskever, G. E. Hinton, ImageNet classification with deep"
        " convolutional neural networks, 2012 (the rate divided by 10 in steps)",
        latex=r"\eta_k = \eta_0\, \gamma^{\lfloor k/s \rfloor}",
        note="Multiplies the rate by γ every s steps: the classic staircase of ResNet training.",
        fn=_piecewise,
        params=(
            _gamma(0.5, "Factor applied at each drop."),
            count("step_size", "s", 50, "Steps between drops."),
        ),
    ),
    ScheduleSpec(
        key="multistep",
        name="Multi-step decay",
        reference="K. He, X. Zhang, S. Ren, J. Sun, Deep residual learning for image"
        " recognition, 2016 (÷10 at two milestones)",
        latex=_lines(
            r"\eta_k = \eta_0\, \gamma^{n_k}",
            r"n_k = \#\{\, j : m_j \le k \,\}",
        ),
        note=(
            "Drops by γ at each hand-picked milestone; each counts on its own, so their order "
            "is free, and one beyond the run never fires."
        ),
        fn=_multistep,
        params=(
            _gamma(0.5, "Factor applied at each milestone passed."),
            count("milestone1", "m₁", 50, "Step of the first drop."),
            count("milestone2", "m₂", 100, "Step of the second drop."),
            count("milestone3", "m₃", 150, "Step of the third drop (set past the run to skip)."),
        ),
    ),
    ScheduleSpec(
        key="exponential",
        name="Exponential decay",
        reference="C. Szegedy et al., Going deeper with convolutions, 2015 (× 0.96 every 8 epochs)",
        latex=r"\eta_k = \eta_0\, \gamma^{k/s}",
        note="Smooth geometric decay by γ every s steps (s = 1: PyTorch's ExponentialLR).",
        fn=_exponential,
        params=(
            _gamma(0.5, "Factor the rate has shrunk by after every s steps."),
            count("decay_steps", "s", 50, "Steps over which the rate shrinks by γ."),
        ),
    ),
    ScheduleSpec(
        key="inverse_time",
        name="Inverse-time decay",
        reference="H. Robbins, S. Monro, A stochastic approximation method, 1951",
        latex=r"\eta_k = \frac{\eta_0}{1 + d\, k/s}",
        note="Decays like 1/k: the Robbins–Monro rate that stochastic convergence proofs assume.",
        fn=_inverse_time,
        params=(
            ParamSpec("decay_rate", "d", 1.0, 0.0, 100.0, "How fast 1/k takes over."),
            count("decay_steps", "s", 50, "Steps after which the rate is η₀/(1 + d)."),
        ),
    ),
    ScheduleSpec(
        key="polynomial",
        name="Polynomial decay",
        reference="W. Liu, A. Rabinovich, A. C. Berg, ParseNet: looking wider to see better, 2015"
        " (the poly policy); linear in J. Devlin et al., BERT, 2019",
        latex=_lines(
            r"\eta_k = \eta_T + (\eta_0 - \eta_T)\, u_k^{p}",
            r"u_k = 1 - \min(k, T) / T",
            r"\eta_T = \rho\, \eta_0",
        ),
        note="Reaches η_T at step T and holds it; p = 1 is a linear ramp down (used by BERT).",
        fn=_polynomial,
        params=(
            count("decay_steps", "T", 200, "Steps to reach the final rate."),
            ParamSpec("power", "p", 1.0, 0.1, 10.0, "Curvature: p > 1 drops early, p < 1 late."),
            fraction("end_factor", "ρ", 0.0, "Final rate as a fraction of η₀: η_T = ρ η₀."),
        ),
    ),
    ScheduleSpec(
        key="cosine",
        name="Cosine annealing",
        reference=_SGDR_PAPER + " (one cycle, no restart)",
        latex=_lines(
            r"\eta_k = \eta_0 (\rho + (1 - \rho)\, h_k)",
            _HALF_COSINE,
            r"u_k = \min(k, T) / T",
        ),
        note="Slow start, fast middle, gentle landing on η_min at step T, then holds it.",
        fn=_cosine_decay,
        params=(count("decay_steps", "T", 200, "Steps to reach η_min."), _MIN_FACTOR),
    ),
    ScheduleSpec(
        key="sgdr",
        name="Cosine with warm restarts (SGDR)",
        reference=_SGDR_PAPER,
        latex=_lines(
            r"\eta_k = \eta_0 (\rho + (1 - \rho)\, h_k)",
            _HALF_COSINE,
            r"u_k = (k - S_i) / T_i",
            r"i: S_i \le k < S_{i+1}",
            r"S_i = T_0 + \dots + T_{i-1}",
            r"T_i = T_0\, T_{\text{mult}}^{\,i}",
        ),
        note=(
            "Cosine annealing that jumps back to η₀ at each restart: cycle i lasts T_i steps "
            "and starts at step S_i, each cycle T_mult times longer than the last."
        ),
        fn=_sgdr,
        params=(
            count("period", "T₀", 50, "Length of the first cosine cycle."),
            ParamSpec(
                "period_mult",
                "T_mult",
                1.0,
                1.0,
                4.0,
                "Each cycle is this many times longer than the last.",
                integer=True,
            ),
            _MIN_FACTOR,
        ),
    ),
    ScheduleSpec(
        key="triangular",
        name="Cyclical (triangular)",
        reference=_CLR_PAPER,
        latex=_lines(r"\eta_k = \eta_0 + \Delta\, x_k", *_CYCLE),
        note="Smith's CLR: bounces linearly between η₀ and η_max to hop out of flat regions.",
        fn=_cyclical(lambda k, cycle, p: jnp.ones_like(k)),
        params=_CYCLICAL,
    ),
    ScheduleSpec(
        key="triangular2",
        name="Cyclical (triangular2)",
        reference=_CLR_PAPER,
        latex=_lines(r"\eta_k = \eta_0 + \Delta\, 2^{-c} x_k", *_CYCLE),
        note="Cyclical rates whose swing halves every cycle: exploration fading into descent.",
        fn=_cyclical(lambda k, cycle, p: 0.5**cycle),
        params=_CYCLICAL,
    ),
    ScheduleSpec(
        key="exp_range",
        name="Cyclical (exp_range)",
        reference=_CLR_PAPER,
        latex=_lines(r"\eta_k = \eta_0 + \Delta\, \gamma^{k} x_k", *_CYCLE),
        note="Cyclical rates whose swing shrinks by γ every step.",
        fn=_cyclical(lambda k, cycle, p: p["gamma"] ** k),
        params=(*_CYCLICAL, _gamma(0.99, "Per-step shrink of the swing.", low=0.9)),
    ),
    ScheduleSpec(
        key="one_cycle",
        name="One cycle",
        reference="L. N. Smith, N. Topin, Super-convergence: very fast training of neural"
        " networks using large learning rates, 2019 (cosine phases as in PyTorch's OneCycleLR)",
        latex=_lines(
            r"\eta_k = \eta_0 - (\eta_0 - \eta_{\text{lo}})\, h_k",
            r"u_k = k / t \;\; (k < t)",
            r"\text{and for } k \ge t\text{:}",
            r"\eta_k = \eta_T + (\eta_0 - \eta_T)\, h_k",
            r"u_k = \frac{\min(k, T) - t}{T - t}",
            _HALF_COSINE,
            r"t = pT, \;\; \eta_{\text{lo}} = \eta_0 / \delta",
            r"\eta_T = \eta_{\text{lo}} / \delta_f",
        ),
        note=(
            "Super-convergence: η₀ is the peak, reached after a fraction p of T from η₀/δ, then "
            "annealed far below η₀/δ by step T and held."
        ),
        fn=_one_cycle,
        params=(
            count("total_steps", "T", 200, "Length of the whole cycle."),
            ParamSpec("pct", "p", 0.3, 0.01, 0.99, "Fraction of T spent warming up."),
            ParamSpec("div", "δ", 25.0, 1.0, 1000.0, "Starting rate is η₀/δ.", log=True),
            ParamSpec("final_div", "δ_f", 1e4, 1.0, 1e6, "Final rate is η₀/(δ δ_f).", log=True),
        ),
    ),
    ScheduleSpec(
        key="plateau",
        name="Reduce on plateau",
        reference="No paper: the ReduceLROnPlateau callback of Keras and PyTorch, automating the"
        " drops at a plateau of A. Krizhevsky, I. Sutskever, G. E. Hinton, 2012",
        latex=_lines(
            r"\eta_k = \eta_0\, s_k, \;\; s_{-1} = 1",
            r"s_k = \max(\phi\, s_{k-1}, s_{\min})",
            r"\text{if } n_k > P \text{, else } s_{k-1}",
            r"n_k: \text{stalled steps}",
            r"\text{stalled}: f \ge b - \tau |b|",
        ),
        note=(
            "Watches the loss and cuts the rate by φ when it stops improving: adapts the decay "
            "to the run instead of to a clock. n_k counts stalled steps in a row (b: the best "
            "loss so far); an improvement or a cut resets it, and none count for C steps "
            "after a cut."
        ),
        fn=_constant,
        params=(
            ParamSpec("factor", "φ", 0.5, 0.01, 0.99, "Multiplier applied at each reduction."),
            count("patience", "P", 10, "Non-improving steps tolerated before a cut.", 0),
            ParamSpec(
                "threshold",
                "τ",
                1e-4,
                1e-8,
                0.5,
                "Relative gain that counts as improvement: loss < best − τ|best|.",
                log=True,
            ),
            count("cooldown", "C", 0, "Steps after a cut during which nothing is counted.", 0),
            ParamSpec("min_scale", "s_min", 0.0, 0.0, 1.0, "Floor on the factor: η ≥ s_min η₀."),
        ),
        driven_by_loss=True,
    ),
)


def get_schedule(key: str) -> ScheduleSpec:
    """The schedule registered under `key`; ValueError listing the valid keys otherwise."""
    return SCHEDULES.lookup(key)
