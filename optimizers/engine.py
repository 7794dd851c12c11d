"""The trajectory engine: one jitted `lax.scan` per (surface, optimizer, schedule, step bucket).

Every number in a configuration (learning rate, hyperparameters, schedule parameters, modifiers,
start point, surface parameters, step count) travels into the compiled function as one float64
vector, so changing any of them compiles nothing; only the step count's bucket is static.

Each step k, from w_k:
    L_k = f(w_k) + (λ₂/2)‖w_k‖²                 the objective (L2 regularisation λ₂)
    g_k = ∇L_k + σ ξ_k,  ξ_k ~ N(0, I) seeded    optional gradient noise
    g_k ← clip(g_k, ±c),  g_k ← g_k · min(1, C/‖g_k‖)   optional clipping by value / global norm
    d_k = optimizer direction from g_k            (optax transformation at unit rate)
    w_{k+1} = w_k − η_k (d_k + λ_w w_k)          scheduled η_k, decoupled weight decay λ_w
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optimizers.rules import get_optimizer
from optimizers.schedules import (
    WARMUP_PARAMS,
    get_schedule,
    plateau_init,
    plateau_update,
    with_warmup,
)
from optimizers.specs import OptimizerSpec, ScheduleSpec
from surfaces import CriticalPoint, ParamSpec, Surface, get_surface
from surfaces.params import resolve_params

MAX_STEPS = 20_000
MIN_BUCKET = 64
DIVERGENCE_RADIUS = 100.0  # in half-diagonals of the plot box, measured from its centre

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
)


@dataclass(frozen=True)
class Tolerances:
    """Converged at the first step k with ‖∇L(w_k)‖ ≤ grad and ‖w_k − w_{k−1}‖ ≤ step.

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


Outcome = Literal["converged", "diverged", "max_steps"]


class Status(NamedTuple):
    """How a run ended: `step` is where it converged or diverged, else the step count.

    `nearest` is the known stationary point closest to the last kept position, if the surface
    lists any, at Euclidean `distance`.
    """

    outcome: Outcome
    step: int
    nearest: CriticalPoint | None
    distance: float


class Trajectory(NamedTuple):
    """A run as numpy arrays. With n kept steps: positions, loss, grad, grad_norm have n + 1 rows
    (w_0 … w_n); lr, update, effective_lr and each `state` entry have n rows (step k moves w_k to
    w_{k+1}). `effective_lr` is −Δw_k / ∇L(w_k) per coordinate (0 where the gradient is 0).
    A diverged run ends at its last finite position; no array carries NaN or inf.
    """

    positions: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    update: np.ndarray
    effective_lr: np.ndarray
    state: dict[str, np.ndarray]
    status: Status


class Summary(NamedTuple):
    """Per-configuration results of `summarize`, one entry per row of the batch.

    `converged_step` and `diverged_step` are −1 where that did not happen; `final_loss` is the
    loss at the last finite position; `final_position` is that position.
    """

    final_loss: np.ndarray
    best_loss: np.ndarray
    converged_step: np.ndarray
    diverged_step: np.ndarray
    final_position: np.ndarray


@dataclass(frozen=True, eq=False)
class _Plan:
    """A resolved configuration: the static parts and the flat vector of every number."""

    surface: Surface
    optimizer: OptimizerSpec
    schedule: ScheduleSpec
    layout: tuple[str, ...]
    numbers: np.ndarray
    steps: int


def bucket(steps: int) -> int:
    """The static scan length for `steps`: a power of two > steps (w_0 … w_steps), ≥ MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << steps.bit_length())


def _finite_number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{name} = {number!r} is outside the allowed range [{low:g}, {high:g}]")
    return number


_GROUPS = ("run", "start", "hyper", "schedule", "warmup", "modifiers", "surface")


def _specs(surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec):
    """The ParamSpecs of each group of numbers, in layout order."""
    return {
        "hyper": optimizer.hyper,
        "schedule": schedule.params,
        "warmup": WARMUP_PARAMS,
        "modifiers": MODIFIERS,
        "surface": surface.params,
    }


def _layout(surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec) -> tuple[str, ...]:
    groups = _specs(surface, optimizer, schedule)
    named = tuple(f"{group}.{spec.name}" for group, specs in groups.items() for spec in specs)
    return ("lr", "steps", "start.x", "start.y", *named)


def plan(config: RunConfig) -> _Plan:
    """Validate `config` and fill in defaults; each problem is a ValueError naming the field."""
    surface = get_surface(config.surface) if isinstance(config.surface, str) else config.surface
    optimizer = get_optimizer(config.optimizer)
    schedule = get_schedule(config.schedule)
    if isinstance(config.steps, bool) or not isinstance(config.steps, int | np.integer):
        raise ValueError(f"steps must be a whole number in [1, {MAX_STEPS}], got {config.steps!r}")
    steps = int(_finite_number(config.steps, "steps", 1, MAX_STEPS))
    lr_spec = optimizer.lr
    lr = lr_spec.default if config.lr is None else config.lr
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating) or not lr > 0:
        raise ValueError(f"learning rate must be a positive finite number, got {lr!r}")
    lr = _finite_number(lr, "learning rate", 1e-12, 1e6)
    start = surface.starts[0] if config.start is None else tuple(config.start)
    if len(start) != 2:
        raise ValueError(f"start must be a point (x, y) with 2 coordinates, got {len(start)}")
    start = tuple(
        _finite_number(v, f"start {axis}", -1e6, 1e6) for v, axis in zip(start, "xy", strict=True)
    )
    values = {
        "hyper": optimizer.resolve(config.hyper),
        "schedule": schedule.resolve(config.schedule_params),
        "warmup": resolve_params(WARMUP_PARAMS, config.warmup, "warmup"),
        "modifiers": resolve_params(MODIFIERS, config.modifiers, "modifiers"),
        "surface": surface.resolve(config.surface_params),
    }
    flat = {"lr": lr, "steps": steps, "start.x": start[0], "start.y": start[1]}
    flat |= {f"{group}.{name}": v for group, vs in values.items() for name, v in vs.items()}
    layout = _layout(surface, optimizer, schedule)
    numbers = np.array([flat[name] for name in layout], dtype=np.float64)
    return _Plan(surface, optimizer, schedule, layout, numbers, steps)


def _unpack(layout: tuple[str, ...], numbers: jax.Array) -> dict[str, dict[str, jax.Array]]:
    groups: dict[str, dict[str, jax.Array]] = {g: {} for g in _GROUPS}
    for i, name in enumerate(layout):
        group, _, key = name.rpartition(".")
        groups.setdefault(group or "run", {})[key] = numbers[i]
    return groups


class _Kernel(NamedTuple):
    """What a compiled function is specialised on; everything else is a traced number."""

    surface: Surface
    optimizer: OptimizerSpec
    schedule: ScheduleSpec
    length: int  # scan length, a bucket of the step count
    noisy: bool  # gradient noise on (σ > 0): its draws cost more than the rest of a step


class _Carry(NamedTuple):
    w: jax.Array
    opt_state: object
    plateau: object


class _StepOut(NamedTuple):
    w: jax.Array
    loss: jax.Array
    grad: jax.Array
    lr: jax.Array
    update: jax.Array
    state: dict[str, jax.Array]


def _kernel(the_plan: _Plan) -> _Kernel:
    noise = the_plan.numbers[the_plan.layout.index("modifiers.noise_std")]
    return _Kernel(
        the_plan.surface, the_plan.optimizer, the_plan.schedule, bucket(the_plan.steps), noise > 0
    )


def _clipped(g: jax.Array, by_value: jax.Array, by_norm: jax.Array) -> jax.Array:
    """Clip each coordinate to [−c, c], then rescale to norm ≤ C; a zero threshold is off."""
    g = jnp.where(by_value > 0, jnp.clip(g, -by_value, by_value), g)
    norm = jnp.linalg.norm(g)
    return g * jnp.where((by_norm > 0) & (norm > by_norm), by_norm / norm, 1.0)


def _simulation(kernel: _Kernel, numbers: jax.Array):
    """The initial carry, the scan inputs and the step function for one row of numbers."""
    surface, optimizer, schedule = kernel.surface, kernel.optimizer, kernel.schedule
    p = _unpack(_layout(surface, optimizer, schedule), numbers)
    mods, warm = p["modifiers"], p["warmup"]
    tx = optimizer.build(p["hyper"])

    def objective(w: jax.Array) -> jax.Array:
        return surface.fn(w, p["surface"]) + 0.5 * mods["l2"] * (w @ w)

    value_and_grad = jax.value_and_grad(objective)

    def scheduled(k: jax.Array) -> jax.Array:
        return schedule.fn(k, p["run"]["lr"], p["schedule"])

    def step(carry: _Carry, inputs: tuple[jax.Array, jax.Array]) -> tuple[_Carry, _StepOut]:
        k, noise = inputs
        w, opt_state, plateau = carry
        loss, grad = value_and_grad(w)
        g = _clipped(grad + noise, mods["clip_value"], mods["clip_norm"])
        lr = with_warmup(scheduled, k, warm["warmup_steps"], warm["warmup_start"])
        if schedule.driven_by_loss:
            plateau = plateau_update(plateau, loss, p["schedule"])
            lr = lr * plateau.scale
        extra = {"hessian": jax.hessian(objective)(w)} if optimizer.needs_hessian else {}
        direction, opt_state = tx.update(g, opt_state, w, **extra)
        update = -lr * (direction + mods["weight_decay"] * w)
        tested_grad = grad + mods["weight_decay"] * w
        out = _StepOut(w, loss, tested_grad, lr, update, optimizer.show_state(opt_state))
        return _Carry(w + update, opt_state, plateau), out

    w0 = jnp.stack([p["start"]["x"], p["start"]["y"]])
    steps = jnp.arange(kernel.length)
    if kernel.noisy:
        key = jax.random.key(mods["noise_seed"].astype(jnp.uint32))
        noise = mods["noise_std"] * jax.random.normal(key, (kernel.length, 2))
    else:
        noise = jnp.zeros((kernel.length, 2))
    return _Carry(w0, tx.init(w0), plateau_init()), (steps, noise), step, p["run"]["steps"]


def _box_geometry(surface: Surface) -> tuple[np.ndarray, float]:
    """The box centre and the divergence radius around it."""
    x0, x1, y0, y1 = surface.box
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    return centre, DIVERGENCE_RADIUS * math.hypot(x1 - x0, y1 - y0) / 2


def _escaped(xp, surface: Surface, w, loss, grad):
    """True where w left the finite numbers or the divergence radius (numpy or jnp as `xp`)."""
    centre, radius = _box_geometry(surface)
    finite = xp.isfinite(loss) & xp.all(xp.isfinite(grad), -1) & xp.all(xp.isfinite(w), -1)
    return ~finite | (xp.linalg.norm(w - centre, axis=-1) > radius)


def _settled(xp, grad, w, w_prev, k, tol: Tolerances):
    """The convergence test of `Tolerances` (at k = 0 only the gradient is tested)."""
    moved = xp.linalg.norm(w - w_prev, axis=-1)
    return (xp.linalg.norm(grad, axis=-1) <= tol.grad) & ((k == 0) | (moved <= tol.step))


@functools.cache
def _trajectory_fn(kernel: _Kernel) -> Callable[[jax.Array], _StepOut]:
    """The jitted scan over the kernel's length, vmapped over rows of numbers."""

    def simulate(numbers: jax.Array) -> _StepOut:
        carry, inputs, step, _ = _simulation(kernel, numbers)
        return jax.lax.scan(step, carry, inputs)[1]

    return jax.jit(jax.vmap(simulate))


@functools.cache
def _summary_fn(kernel: _Kernel, tol: Tolerances) -> Callable[[jax.Array], tuple[jax.Array, ...]]:
    """A jitted, vmapped scan that keeps running reductions only, never per-step arrays.

    Row r watches w_0 … w_n (n its own step count) and freezes at its first escape.
    """

    def simulate(numbers: jax.Array) -> tuple[jax.Array, ...]:
        carry, inputs, step, n = _simulation(kernel, numbers)

        def body(state, inputs):
            carry, best, last_loss, last_w, converged, diverged, w_prev = state
            k = inputs[0]
            new_carry, out = step(carry, inputs)
            watching = (k <= n) & (diverged < 0)
            escaped = _escaped(jnp, kernel.surface, out.w, out.loss, out.grad)
            diverged = jnp.where(watching & escaped, k, diverged)
            ok = watching & ~escaped
            settled = _settled(jnp, out.grad, out.w, w_prev, k, tol)
            converged = jnp.where(ok & settled & (converged < 0), k, converged)
            best = jnp.where(ok, jnp.minimum(best, out.loss), best)
            last_loss = jnp.where(ok, out.loss, last_loss)
            last_w = jnp.where(ok, out.w, last_w)
            carry = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new_carry, carry)
            return (carry, best, last_loss, last_w, converged, diverged, out.w), None

        never = jnp.asarray(-1, dtype=inputs[0].dtype)
        state = (carry, jnp.inf, jnp.inf, carry.w, never, never, carry.w)
        _, best, last_loss, last_w, converged, diverged, _ = jax.lax.scan(body, state, inputs)[0]
        return last_loss, best, converged, diverged, last_w

    return jax.jit(jax.vmap(simulate))


def _nearest(surface: Surface, params: Mapping[str, float], w: np.ndarray):
    points = surface.critical_points(params)
    if not points or not len(w):
        return None, math.inf
    distances = [math.hypot(w[0] - p.x, w[1] - p.y) for p in points]
    i = int(np.argmin(distances))
    return points[i], distances[i]


def _surface_params(the_plan: _Plan) -> dict[str, float]:
    return {
        name.removeprefix("surface."): float(v)
        for name, v in zip(the_plan.layout, the_plan.numbers, strict=True)
        if name.startswith("surface.")
    }


def _trajectory(the_plan: _Plan, out: _StepOut, tol: Tolerances) -> Trajectory:
    """Cut one row of scan output to w_0 … w_n, grade it, and drop any non-finite tail."""
    n = the_plan.steps
    positions, loss, grad = out.w[: n + 1], out.loss[: n + 1], out.grad[: n + 1]
    escaped = np.asarray(_escaped(np, the_plan.surface, positions, loss, grad))
    bad = np.flatnonzero(escaped)
    kept = n + 1
    if bad.size:
        i = int(bad[0])
        finite = (
            np.isfinite(loss[i]) and np.isfinite(grad[i]).all() and np.isfinite(positions[i]).all()
        )
        kept = i + 1 if finite else i
    steps = np.arange(kept)
    previous = np.vstack([positions[:1], positions[: max(kept - 1, 0)]])[:kept]
    settled = np.flatnonzero(
        np.asarray(_settled(np, grad[:kept], positions[:kept], previous, steps, tol))
    )
    if bad.size:
        outcome, at = "diverged", int(bad[0])
    elif settled.size:
        outcome, at = "converged", int(settled[0])
    else:
        outcome, at = "max_steps", n
    nearest, distance = _nearest(
        the_plan.surface, _surface_params(the_plan), positions[kept - 1] if kept else ()
    )
    moves = kept - 1 if kept else 0
    update = out.update[:moves]
    grad_kept = grad[:moves]
    effective = np.divide(-update, grad_kept, out=np.zeros_like(update), where=grad_kept != 0)
    return Trajectory(
        positions=positions[:kept],
        loss=loss[:kept],
        grad=grad[:kept],
        grad_norm=np.linalg.norm(grad[:kept], axis=-1),
        lr=out.lr[:moves],
        update=update,
        effective_lr=effective,
        state={name: values[:moves] for name, values in out.state.items()},
        status=Status(outcome, at, nearest, distance),
    )


def _grouped(plans: Sequence[_Plan]) -> dict[_Kernel, list[int]]:
    """Indices of plans that share one compiled function."""
    groups: dict[_Kernel, list[int]] = {}
    for i, p in enumerate(plans):
        groups.setdefault(_kernel(p), []).append(i)
    return groups


def _padded(rows: np.ndarray) -> np.ndarray:
    """Rows padded (repeating the last) to a power of two, so batch sizes rarely recompile."""
    size = 1 << (len(rows) - 1).bit_length()
    return np.vstack([rows, np.repeat(rows[-1:], size - len(rows), axis=0)])


def run_batch(configs: Sequence[RunConfig]) -> list[Trajectory]:
    """Run several configurations, vmapping those that share surface, optimizer and schedule."""
    plans = [plan(c) for c in configs]
    results: list[Trajectory | None] = [None] * len(plans)
    for kernel, members in _grouped(plans).items():
        rows = _padded(np.stack([plans[i].numbers for i in members]))
        out = jax.tree.map(np.asarray, _trajectory_fn(kernel)(rows))
        for row, i in enumerate(members):
            one = jax.tree.map(lambda a, row=row: a[row], out)
            results[i] = _trajectory(plans[i], one, configs[i].tol)
    return results  # type: ignore[return-value]


def run(config: RunConfig) -> Trajectory:
    """Run one configuration: positions, losses, gradients, rates, updates, state, status."""
    return run_batch([config])[0]


def summarize(config: RunConfig, grid: Mapping[str, np.ndarray]) -> Summary:
    """Run K variants of `config` at once, keeping only final/best loss and event steps.

    `grid` maps numbers of the configuration to arrays of K values: "lr", "start" (K × 2),
    or "group.name" for a parameter, e.g. "hyper.beta", "schedule.gamma", "surface.condition",
    "modifiers.clip_norm", "warmup.warmup_steps". Values are checked against their ranges.
    """
    base = plan(config)
    columns: dict[str, np.ndarray] = {}
    for name, values in grid.items():
        values = np.asarray(values, dtype=np.float64)
        if name == "start":
            if values.ndim != 2 or values.shape[1] != 2:
                raise ValueError(f"grid 'start' must have shape (K, 2), got {values.shape}")
            columns["start.x"], columns["start.y"] = values[:, 0], values[:, 1]
        else:
            columns[name] = values
    sizes = {len(v) for v in columns.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError("every grid entry must hold the same positive number of values")
    numbers = np.repeat(base.numbers[None], sizes.pop(), axis=0)
    for name, values in columns.items():
        if name not in base.layout or name == "steps":
            variable = ", ".join(n for n in base.layout if n != "steps")
            raise ValueError(f"cannot vary {name!r}; it can be one of: {variable}")
        low, high = _bounds(base, name)
        if not (np.isfinite(values).all() and (values >= low).all() and (values <= high).all()):
            raise ValueError(f"grid values for {name!r} must lie in [{low:g}, {high:g}]")
        numbers[:, base.layout.index(name)] = values
    kernel = _kernel(base)._replace(
        noisy=bool((numbers[:, base.layout.index("modifiers.noise_std")] > 0).any())
    )
    final_loss, best, converged, diverged, final_w = map(
        np.asarray, _summary_fn(kernel, config.tol)(numbers)
    )
    return Summary(final_loss, best, converged, diverged, final_w)


def _bounds(the_plan: _Plan, name: str) -> tuple[float, float]:
    if name == "lr":
        return 1e-12, 1e6
    if name.startswith("start."):
        return -1e6, 1e6
    group, _, key = name.partition(".")
    specs = _specs(the_plan.surface, the_plan.optimizer, the_plan.schedule)[group]
    spec = next(s for s in specs if s.name == key)
    return spec.low, spec.high
