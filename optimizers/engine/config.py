"""What a run is asked to do: `RunConfig`, its `Tolerances`, the modifiers and the engine's limits.

Every number in a configuration (learning rate, hyperparameters, schedule parameters, modifiers,
start point, surface parameters, step count) travels into the compiled function as one float64
vector (see `optimizers.engine.plan`), so changing any of them compiles nothing; only the step
count's bucket is static.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from common.params import ParamSpec
from surfaces import Surface

MAX_STEPS = 20_000
MIN_BUCKET = 64
SUMMARY_CHUNK = 1024  # rows per pass of `summarize`: their running state fits in cache
DIVERGENCE_RADIUS = 100.0  # in half-diagonals of the plot box, measured from its centre
THROWN_OUT = 0.01  # a converged run that later moves this fraction of the box diagonal away
FROZEN_RATE = 1e-6  # η_k ≤ FROZEN_RATE · max_j η_j to the end: the rate has decayed to ~0
MAX_BATCH = 10_000  # the largest data set a surface may carry (surfaces.dataset.MAX_ROWS)

MODIFIERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "clip_value", "clip by value c", 0.0, 0.0, 1e6, "Clip each coordinate to [−c, c]; 0 is off."
    ),
    ParamSpec(
        "clip_norm", "clip by norm C", 0.0, 0.0, 1e6, "Rescale the gradient to norm ≤ C; 0 is off."
    ),
    ParamSpec(
        "l2", "L2 penalty λ₂", 0.0, 0.0, 100.0, "Adds (λ₂/2)‖w‖² to the loss: λ₂w to the gradient."
    ),
    ParamSpec(
        "weight_decay", "weight decay λ_w", 0.0, 0.0, 100.0, "Decoupled: w shrinks by η_k λ_w w."
    ),
    ParamSpec(
        "noise_std", "gradient noise σ", 0.0, 0.0, 1e3, "Std of Gaussian noise on the gradient."
    ),
    ParamSpec("noise_seed", "noise seed", 0.0, 0.0, 2**31 - 1, "Seed of the noise.", integer=True),
    ParamSpec(
        "batch_size",
        "mini-batch size",
        0.0,
        0.0,
        MAX_BATCH,
        "Surfaces with data only: each step's gradient comes from this many points drawn at "
        "random without replacement; 0 (or at least the number of points) is the full batch.",
        integer=True,
    ),
    ParamSpec(
        "batch_seed", "mini-batch seed", 0.0, 0.0, 2**31 - 1, "Seed of the batches.", integer=True
    ),
)


@dataclass(frozen=True)
class Tolerances:
    """Converged at the first step k with ‖∇L(w_k)‖ ≤ grad and ‖Δw_k‖ ≤ step: the gradient has
    vanished and the optimizer has stopped moving (momentum still coasting is not converged).

    Under decoupled weight decay λ_w the gradient tested is ∇L + λ_w w, whose zero is the
    fixed point of gradient descent with decay.
    """

    grad: float = 1e-6
    step: float = 1e-6


@dataclass(frozen=True)
class RunConfig:
    """One run: a surface (registry key or a `Surface`), an optimizer, a schedule, modifiers.

    `lr=None` takes the optimizer's default rate and `start=None` the surface's first start.
    Mappings hold only the values that differ from the specs' defaults.
    """

    surface: str | Surface = "rosenbrock"
    optimizer: str = "gd"
    lr: float | None = None
    steps: int = 500
    start: tuple[float, float] | None = None
    hyper: Mapping[str, float] = field(default_factory=dict)
    schedule: str = "constant"
    schedule_params: Mapping[str, float] = field(default_factory=dict)
    warmup: Mapping[str, float] = field(default_factory=dict)
    modifiers: Mapping[str, float] = field(default_factory=dict)
    surface_params: Mapping[str, float] = field(default_factory=dict)
    tol: Tolerances = Tolerances()


def bucket(steps: int) -> int:
    """The static scan length for `steps`: a power of two > steps (w_0 … w_steps), ≥ MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << steps.bit_length())
