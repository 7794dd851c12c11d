"""The runs that the codegen tests write as scripts: every rule on three surfaces, every
schedule with and without warmup, every surface, data, formulas, noise and mini-batches."""

from __future__ import annotations

from optimizers.codegen import NOT_EXPORTED
from optimizers.engine import RunConfig
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES
from surfaces.dataset import Points, data_surface
from surfaces.formula import formula_surface

# Schedule parameters that make every schedule change the rate within a short run.
SHORT_SCHEDULES: dict[str, dict[str, float]] = {
    "constant": {},
    "step": {"step_size": 20, "gamma": 0.5},
    "multistep": {"milestone1": 40, "milestone2": 15, "milestone3": 40, "gamma": 0.6},
    "exponential": {"gamma": 0.5, "decay_steps": 30},
    "inverse_time": {"decay_rate": 2.0, "decay_steps": 20},
    "polynomial": {"decay_steps": 50, "power": 2.0, "end_factor": 0.1},
    "cosine": {"decay_steps": 40, "min_factor": 0.1},
    "sgdr": {"period": 10, "period_mult": 2, "min_factor": 0.05},
    "triangular": {"step_size": 10, "max_factor": 3.0},
    "triangular2": {"step_size": 10, "max_factor": 3.0},
    "exp_range": {"step_size": 10, "max_factor": 3.0, "gamma": 0.97},
    "one_cycle": {"total_steps": 50, "pct": 0.3, "div": 10.0, "final_div": 100.0},
    "plateau": {"patience": 2, "factor": 0.5, "cooldown": 1, "threshold": 0.01},
}
# Three surfaces per optimizer, at rates that converge there without diverging.
OPTIMIZER_SURFACES = (("quadratic", 1.0), ("booth", 0.5), ("rosenbrock", 0.05))


EXPORTED = [key for key in OPTIMIZERS if key not in NOT_EXPORTED]


def _lr(optimizer: str, scale: float) -> float:
    return OPTIMIZERS.lookup(optimizer).lr.default * scale


# Modifiers each rule meets in turn (with a schedule in turn), so that every pair is varied.
MODIFIER_SETS: tuple[dict[str, float], ...] = (
    {},
    {"clip_norm": 3.0},
    {"clip_value": 2.0},
    {"l2": 0.3},
    {"weight_decay": 0.2},
    {"clip_value": 2.0, "clip_norm": 2.5, "weight_decay": 0.05},
)


def _cases() -> dict[str, RunConfig]:
    """Every rule on three surfaces, each case with the next schedule (no warmup) and the next
    modifier set; every schedule again with warmup; every other surface; data and formulas."""
    cases: dict[str, RunConfig] = {}
    schedules = list(SCHEDULES)
    turn = 0
    for key in EXPORTED:
        for surface, scale in OPTIMIZER_SURFACES:
            schedule, mods = schedules[turn % len(schedules)], MODIFIER_SETS[turn % 6]
            turn += 1
            cases[f"{key}-{surface}-{schedule}"] = RunConfig(
                surface=surface,
                optimizer=key,
                lr=0.3 * scale if key == "newton" else _lr(key, scale),
                steps=50,
                schedule=schedule,
                schedule_params=SHORT_SCHEDULES[schedule],
                modifiers=mods,
            )
    for key in SCHEDULES:
        cases[f"{key}-adam-warmup"] = RunConfig(
            surface="booth",
            optimizer="adam",
            lr=0.2,
            steps=60,
            schedule=key,
            schedule_params=SHORT_SCHEDULES[key],
            warmup={"warmup_steps": 8, "warmup_start": 0.1},
        )
    cases["cosine-past-T"] = RunConfig(
        surface="quadratic",
        optimizer="momentum",
        lr=0.1,
        steps=80,
        schedule="cosine",
        schedule_params={"decay_steps": 30, "min_factor": 0.2},
    )
    cases["one_cycle-fraction"] = RunConfig(
        surface="quadratic",
        optimizer="gd",
        lr=0.1,
        steps=60,
        schedule="one_cycle",
        schedule_params={"total_steps": 45, "pct": 0.3},
    )
    cases["adamw-decay"] = RunConfig(
        surface="rosenbrock",
        optimizer="adamw",
        lr=0.02,
        steps=40,
        modifiers={"weight_decay": 0.1, "clip_norm": 10.0},
    )
    for built_in in SURFACES.values():
        if built_in.key not in dict(OPTIMIZER_SURFACES):
            cases[f"surface-{built_in.key}"] = RunConfig(
                surface=built_in.key, optimizer="adam", lr=0.01, steps=20
            )
    points = Points((0.0, 1.0, 2.0, 3.5, 4.0), (1.2, 2.9, 5.1, 8.2, 8.8))
    cases["data"] = RunConfig(surface=data_surface(points), optimizer="adam", lr=0.1, steps=40)
    cases["data-standardised"] = RunConfig(
        surface=data_surface(points, standardise=True), optimizer="rmsprop", lr=0.05, steps=40
    )
    cases["logreg-l2"] = RunConfig(
        surface="logreg", optimizer="momentum", lr=0.5, steps=40, modifiers={"l2": 0.1}
    )
    formula = "sin(x)*cos(y) + 0.1*(x^2 + y^2) + softplus(x - y)/4 + max(abs(x), atan(y), 0.5)^2"
    cases["formula"] = RunConfig(
        surface=formula_surface(formula, (-3.0, 3.0, -3.0, 3.0), (1.0, 1.5)),
        optimizer="nesterov",
        lr=0.05,
        steps=40,
    )
    cases["formula-logs"] = RunConfig(
        surface=formula_surface(
            "log(1 + x^2) + sqrt(1 + y^2) - exp(-x^2) * e^(y/pi)",
            (-3.0, 3.0, -3.0, 3.0),
            (2.0, -1.0),
        ),
        optimizer="adam",
        lr=0.1,
        steps=40,
    )
    return cases


CASES = _cases()
NOISY = RunConfig(
    surface="booth",
    optimizer="adam",
    lr=0.2,
    steps=40,
    modifiers={"noise_std": 0.5, "noise_seed": 7, "clip_norm": 4.0},
)
BATCHED = RunConfig(
    surface="linreg",
    optimizer="momentum",
    lr=0.05,
    steps=40,
    modifiers={"batch_size": 8, "batch_seed": 3, "l2": 0.01},
)
BIG_DATA = RunConfig(
    surface=data_surface(
        Points(
            tuple(i / 20 for i in range(150)),
            tuple(2 * i / 20 - 1 + (i % 7) / 10 for i in range(150)),
        )
    ),
    optimizer="adam",
    lr=0.1,
    steps=30,
)
RACE = ("step-adam-warmup", "data", "cosine-past-T")  # the all-runs script's runs


def words(text: str) -> str:
    """The text with every run of whitespace (a docstring's line breaks) as one space."""
    return " ".join(text.split())
