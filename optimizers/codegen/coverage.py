"""Which feature of each framework writes each schedule and modifier: a row per registry key,
so that a schedule or modifier without one is a KeyError in `to_code` (and a failing test)."""

from __future__ import annotations

# How each framework writes each schedule: its own scheduler where one matches the app's, else
# the closed form written out (LambdaLR in torch, a LearningRateSchedule in Keras, a function
# in optax).
_OUT = "written out"
SCHEDULE_CODE: dict[str, dict[str, str]] = {
    "constant": {"pytorch": "no scheduler", "keras": "a float", "optax": "a float"},
    "step": {"pytorch": "StepLR", "keras": "ExponentialDecay", "optax": "exponential_decay"},
    "multistep": {
        "pytorch": "MultiStepLR",
        "keras": "PiecewiseConstantDecay",
        "optax": "piecewise_constant_schedule",
    },
    "exponential": {
        "pytorch": "ExponentialLR",
        "keras": "ExponentialDecay",
        "optax": "exponential_decay",
    },
    "inverse_time": {"pytorch": _OUT, "keras": "InverseTimeDecay", "optax": _OUT},
    "polynomial": {
        "pytorch": "PolynomialLR (ρ = 0), else written out",
        "keras": "PolynomialDecay",
        "optax": "polynomial_schedule",
    },
    "cosine": {
        "pytorch": "CosineAnnealingLR (run within T), else written out",
        "keras": _OUT,
        "optax": "cosine_decay_schedule",
    },
    "sgdr": {"pytorch": "CosineAnnealingWarmRestarts", "keras": _OUT, "optax": _OUT},
    "triangular": {"pytorch": "CyclicLR", "keras": _OUT, "optax": _OUT},
    "triangular2": {"pytorch": "CyclicLR", "keras": _OUT, "optax": _OUT},
    "exp_range": {"pytorch": "CyclicLR", "keras": _OUT, "optax": _OUT},
    "one_cycle": {
        "pytorch": _OUT,
        "keras": _OUT,
        "optax": "cosine_onecycle_schedule (whole p·T), else written out",
    },
    "plateau": {
        "pytorch": "ReduceLROnPlateau (no warmup), else written out",
        "keras": _OUT,
        "optax": "contrib.reduce_on_plateau",
    },
}
WARMUP_CODE = {
    "pytorch": "LambdaLR then SequentialLR",
    "keras": "a Warmup schedule around the other",
    "optax": "linear_schedule + join_schedules",
}
MODIFIER_CODE: dict[str, dict[str, str]] = {
    "clip_value": {"pytorch": "grad.clamp_", "keras": "clipvalue=", "optax": "optax.clip"},
    "clip_norm": {
        "pytorch": "g · min(1, C/‖g‖) by hand",
        "keras": "global_clipnorm=",
        "optax": "clip_by_global_norm",
    },
    "l2": {
        "pytorch": "added to the loss",
        "keras": "added to the loss",
        "optax": "added to the loss",
    },
    "weight_decay": {
        "pytorch": "w −= η_k λ_w w_k after step() (AdamW: its weight_decay=)",
        "keras": "w −= η_k λ_w w_k after apply() (AdamW: its weight_decay=)",
        "optax": "add_decayed_weights",
    },
    "noise_std": {
        "pytorch": "torch.randn (another draw)",
        "keras": "the app's jax.random draw",
        "optax": "the app's jax.random draw",
    },
    "noise_seed": {
        "pytorch": "Generator seed",
        "keras": "jax.random.key",
        "optax": "jax.random.key",
    },
    "batch_size": {
        "pytorch": "torch.randperm (another draw)",
        "keras": "jax.random.permutation (another draw)",
        "optax": "jax.random.permutation (another draw)",
    },
    "batch_seed": {
        "pytorch": "Generator seed",
        "keras": "jax.random.key",
        "optax": "jax.random.key",
    },
}
