"""Learning-rate schedules, one `ScheduleSpec` each, in `SCHEDULES`; plus warmup and plateau.

Every schedule is a closed form in `jax.numpy`: the step k (int or float, scalar or array, from 0),
η₀ and every parameter may be traced, so changing them never recompiles a jitted caller.
Counts (step sizes, milestones, periods) arrive as float64 like every other parameter.
Ratios such as η_min = ρ η₀ are relative to η₀, so a schedule keeps its shape when η₀ moves.

Warmup wraps any schedule: `with_warmup(lambda j: spec.fn(j, η₀, p), k, W, start_factor)`.

ReduceLROnPlateau (`driven_by_loss`) is a state machine the engine threads through its loop:
    state_{-1} = plateau_init()
    state_k    = plateau_update(state_{k-1}, f(w_k), p)     # observe the loss at w_k first,
    η_k        = fn(k, η₀, p) · state_k.scale               # then scale the rate used from w_k,
    w_{k+1}    = w_k − η_k d_k
so the loss at w_k already shapes η_k. With warmup, fn is the warmed schedule.
"""

from optimizers.schedules.plateau import PlateauState, plateau_init, plateau_update
from optimizers.schedules.table import SCHEDULES, get_schedule
from optimizers.schedules.warmup import WARMUP_PARAMS, WARMUP_REFERENCE, with_warmup

__all__ = [
    "SCHEDULES",
    "WARMUP_PARAMS",
    "WARMUP_REFERENCE",
    "PlateauState",
    "get_schedule",
    "plateau_init",
    "plateau_update",
    "with_warmup",
]
