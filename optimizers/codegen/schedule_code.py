"""Schedules in code: the factor η_k / η₀ as a closed form in each framework's spelling (for
the schedules a framework lacks), the peak a warmup climbs to, and ReduceLROnPlateau written
out as the app runs it."""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp

from optimizers.codegen.common import Run, literal
from optimizers.schedules import get_schedule

Params = Mapping[str, float]


def closed_form(key: str, p: Params, lang: str) -> tuple[list[str], str]:
    """(statements, expression) that compute η_k / η₀ from the step `k`, for the schedules that
    a framework lacks: the statements name the parts, the expression combines them."""
    ns = "math" if lang == "pytorch" else "jnp"
    floor, cos, log = f"{ns}.floor", f"{ns}.cos", f"{ns}.log"
    smaller = "min" if lang == "pytorch" else f"{ns}.minimum"
    if key == "inverse_time":
        return [], f"1 / (1 + {literal(p['decay_rate'])} * k / {literal(p['decay_steps'])})"
    if key == "polynomial":
        end, steps = literal(p["end_factor"]), literal(p["decay_steps"])
        left = f"left = 1 - {smaller}(k, {steps}) / {steps}"
        return [left], f"{end} + (1 - {end}) * left**{literal(p['power'])}"
    if key == "cosine":
        rho, steps = literal(p["min_factor"]), literal(p["decay_steps"])
        u = f"u = {smaller}(k, {steps}) / {steps}"
        return [u], f"{rho} + (1 - {rho}) * (1 + {cos}(math.pi * u)) / 2"
    if key in ("triangular", "triangular2", "exp_range"):
        size, top = literal(p["step_size"]), literal(p["max_factor"] - 1)
        lines = [
            f"cycle = {floor}(k / {literal(2 * p['step_size'])})",
            f"height = 1 - abs(k / {size} - 2 * cycle - 1)",
        ]
        amplitude = {
            "triangular": "",
            "triangular2": " * 0.5**cycle",
            "exp_range": f" * {literal(p.get('gamma', 1.0))}**k",
        }[key]
        return lines, f"1 + {top} * height{amplitude}"
    if key == "one_cycle":
        total, rise = p["total_steps"], p["pct"] * p["total_steps"]
        low = 1 / p["div"]
        end_factor = low / p["final_div"]
        lines = [
            f"warm = {literal(low)} + {literal(1 - low)}"
            f" * (1 - {cos}(math.pi * k / {literal(rise)})) / 2",
            f"u = ({smaller}(k, {literal(total)}) - {literal(rise)}) / {literal(total - rise)}",
            f"anneal = {literal(end_factor)} + {literal(1 - end_factor)}"
            f" * (1 + {cos}(math.pi * u)) / 2",
        ]
        if lang == "pytorch":
            return lines, f"warm if k < {literal(rise)} else anneal"
        return lines, f"{ns}.where(k < {literal(rise)}, warm, anneal)"
    if key == "sgdr":
        period, mult, rho = literal(p["period"]), p["period_mult"], literal(p["min_factor"])
        if mult == 1:
            lines = [f"u = (k % {period}) / {period}"]
        else:  # cycle i starts at S_i = T₀(M^i − 1)/(M − 1); the 1e-9 guards the log's rounding
            grows, less = literal(mult), literal(mult - 1)
            lines = [
                f"i = {floor}({log}(1 + k * {less} / {period}) / {log}({grows}) + 1e-9)",
                f"start = {period} * ({grows}**i - 1) / {less}",
                f"u = (k - start) / ({period} * {grows}**i)",
            ]
        return lines, f"{rho} + (1 - {rho}) * (1 + {cos}(math.pi * u)) / 2"
    raise KeyError(key)


def first_factor(run: Run) -> float:
    """η̂ / η₀: the schedule's own first rate, the peak a warmup climbs to."""
    spec = get_schedule(run.schedule)
    params = {k: jnp.float64(v) for k, v in run.schedule_params.items()}
    return float(spec.fn(jnp.float64(0.0), jnp.float64(1.0), params))


PLATEAU_CLASS = [
    "class Plateau:",
    '    """ReduceLROnPlateau as the app runs it: after more than `patience` steps in a row',
    "    without loss < best − τ|best|, scale ← max(φ·scale, s_min), then `cooldown` steps",
    '    uncounted. update(loss) returns the scale for the step at that loss."""',
    "",
    "    def __init__(self, factor, patience, threshold, cooldown, min_scale):",
    "        self.factor, self.patience, self.threshold = factor, patience, threshold",
    "        self.cooldown, self.min_scale = cooldown, min_scale",
    "        self.scale, self.best, self.bad, self.cooling = 1.0, math.inf, 0, 0",
    "",
    "    def update(self, loss):",
    "        bar = self.best - self.threshold * abs(self.best)",
    "        improved = self.best == math.inf or loss < bar",
    "        in_cooldown = self.cooling > 0",
    "        self.bad = 0 if improved or in_cooldown else self.bad + 1",
    "        if improved:",
    "            self.best = loss",
    "        if self.bad > self.patience:",
    "            self.scale = max(self.scale * self.factor, self.min_scale)",
    "            self.bad, self.cooling = 0, self.cooldown",
    "        elif in_cooldown:",
    "            self.cooling -= 1",
    "        return self.scale",
]
PLATEAU_HAND = (
    "ReduceLROnPlateau is written out (class Plateau) so that it composes with the warmup and "
    "cuts η_k from the loss at w_k, as the app does."
)


def plateau_new(run: Run) -> str:
    """`Plateau(...)` with the run's plateau parameters, as text."""
    p = run.schedule_params
    return (
        f"Plateau(factor={literal(p['factor'])}, patience={literal(p['patience'])},"
        f" threshold={literal(p['threshold'])}, cooldown={literal(p['cooldown'])},"
        f" min_scale={literal(p['min_scale'])})"
    )


def plateau_rate(run: Run) -> str:
    """η_k = η₀ · warmup ramp · `scale` (the plateau's factor), as text."""
    rate = literal(run.lr)
    if run.warmup_steps > 0:
        W, a = run.warmup_steps, run.warmup_start
        rate += f" * ({literal(a)} + {literal(1 - a)} * min(step, {W}) / {W})"
    return f"{rate} * scale"


PLATEAU_SIGN = (
    "ReduceLROnPlateau: an improvement is loss < best·(1 − τ) here and best − τ|best| in the "
    "app: the same while the best loss is positive."
)
