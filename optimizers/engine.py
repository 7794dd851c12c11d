"""The trajectory engine: one jitted `lax.scan` per (surface, optimizer, schedule, step bucket).

Every number in a configuration (learning rate, hyperparameters, schedule parameters, modifiers,
start point, surface parameters, step count) travels into the compiled function as one float64
vector, so changing any of them compiles nothing; only the step count's bucket is static.

Each step k, from w_k:
    L_k = f(w_k) + (λ₂/2)‖w_k‖²                 the objective (L2 regularisation λ₂)
    g_k = ∇L_k + σ ξ_k,  ξ_k ~ N(0, I) seeded    optional gradient noise
          (on a surface with data, ∇L_k may be that of a seeded mini-batch B_k instead:
           ∇[(1/|B_k|) Σ_{i∈B_k} ℓ(w_k; x_i, y_i) + (λ₂/2)‖w_k‖²], B_k drawn without replacement)
    g_k ← clip(g_k, ±c),  g_k ← g_k · min(1, C/‖g_k‖)   optional clipping by value / global norm
    d_k = optimizer direction from g_k            (optax transformation at unit rate; a rule with
          extra arguments also gets L_k, ∇L_k and L of the stepped objective, η_k and f*)
    w_{k+1} = w_k − η_k (d_k + λ_w w_k)          scheduled η_k, decoupled weight decay λ_w
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from surfaces.base import COMPILED_FUNCTIONS, Samples, compiled_cache
from surfaces.params import resolve_params

SMALL_LOOP_BYTES = 1 << 24


def _compile_small_loops_whole() -> None:
    """Let XLA:CPU compile each of the engine's loops into one kernel.

    XLA:CPU does so only for a while loop whose iteration touches fewer bytes than
    `xla_cpu_small_while_loop_byte_threshold` (1 kB by default). Above it every op of every step
    is dispatched on its own: about 1 µs per step, where one of our steps computes in under 0.1 µs.
    The option is read once, when JAX starts its CPU backend, hence this call at import; after a
    first computation it has no effect, and the engine is slower, not wrong.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_small_while_loop_byte_threshold" in flags:
        return  # the user's own choice
    option = f"xla_cpu_small_while_loop_byte_threshold={SMALL_LOOP_BYTES}"
    extra = "--xla_backend_extra_options="
    if extra in flags:  # one such flag holds all extra options
        flags = flags.replace(extra, f"{extra}{option},", 1)
    else:
        flags = f"{flags} {extra}{option}"
    os.environ["XLA_FLAGS"] = flags.strip()


_compile_small_loops_whole()

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


Outcome = Literal["converged", "diverged", "max_steps"]
Escape = Literal["bound", "overflow", "undefined", "slope"]


class Status(NamedTuple):
    """How a run ended: `step` is where it converged or diverged, else the step count.

    `nearest` is the known stationary point closest to the last kept position, if the surface
    lists any, at Euclidean `distance`. The events of the whole run (−1 where none):
    `converged` the first step within `Tolerances`, also when the run left it later;
    `thrown_out` the first step after it farther than THROWN_OUT box diagonals from w_converged;
    `frozen` the step from which η_k ≤ FROZEN_RATE · max η to the end.
    A diverged run's `escape` says how step `step` escaped: "bound" (w_k passed the divergence
    radius, finite), "overflow" (w_k, f or ∇f became ±inf), "undefined" (f(w_k) is NaN or −inf
    at a finite w_k: outside the function's domain) or "slope" (f(w_k) finite but ∇f(w_k) not:
    a kink or cusp, √(x² + y²) at 0); `escape_point` is w_k where it is finite.
    """

    outcome: Outcome
    step: int
    nearest: CriticalPoint | None
    distance: float
    converged: int = -1
    thrown_out: int = -1
    frozen: int = -1
    escape: Escape | None = None
    escape_point: tuple[float, float] | None = None


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
# f* of the surface at its parameters (0 where no global minimum is known), in the numbers of a
# rule that takes extra arguments: Polyak's step and MoMo descend towards it. (`summarize`
# varying surface parameters keeps the base configuration's f*.)
FLOOR = "run.floor"


def _specs(surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec):
    """The ParamSpecs of each group of numbers, in layout order."""
    return {
        "hyper": optimizer.hyper,
        "schedule": schedule.params,
        "warmup": WARMUP_PARAMS,
        "modifiers": MODIFIERS,
        "surface": surface.params,
    }


@functools.lru_cache(maxsize=COMPILED_FUNCTIONS)
def _layout(surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec) -> tuple[str, ...]:
    groups = _specs(surface, optimizer, schedule)
    named = tuple(f"{group}.{spec.name}" for group, specs in groups.items() for spec in specs)
    floor = (FLOOR,) if optimizer.extra_args else ()
    return ("lr", "steps", "start.x", "start.y", *named, *floor)


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
    layout = _layout(surface, optimizer, schedule)
    numbers = _defaults(surface, optimizer, schedule).copy()
    numbers[:4] = lr, steps, *start
    given = (
        ("hyper", config.hyper, optimizer.resolve),
        ("schedule", config.schedule_params, schedule.resolve),
        ("warmup", config.warmup, _resolve_warmup),
        ("modifiers", config.modifiers, _resolve_modifiers),
        ("surface", config.surface_params, surface.resolve),
    )
    index = _index(layout)
    for group, values, resolve in given:
        if values:  # the defaults are in place already
            for name, value in resolve(values).items():
                numbers[index[f"{group}.{name}"]] = value
    the_plan = _Plan(surface, optimizer, schedule, layout, numbers, steps)
    if optimizer.extra_args:
        floor = surface.minimum_value(_surface_params(the_plan))
        numbers[index[FLOOR]] = 0.0 if floor is None else floor
    return _Plan(surface, optimizer, schedule, layout, numbers, steps)


_resolve_warmup = functools.partial(resolve_params, WARMUP_PARAMS, owner="warmup")
_resolve_modifiers = functools.partial(resolve_params, MODIFIERS, owner="modifiers")


@functools.cache
def _index(layout: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(layout)}


@functools.lru_cache(maxsize=COMPILED_FUNCTIONS)
def _defaults(surface: Surface, optimizer: OptimizerSpec, schedule: ScheduleSpec) -> np.ndarray:
    """Every number at its default, in layout order (the run's own four are filled in later)."""
    specs = _specs(surface, optimizer, schedule).values()
    floor = [0.0] if optimizer.extra_args else []
    return np.array([0.0] * 4 + [spec.default for group in specs for spec in group] + floor)


Numbers = dict[str, dict[str, jax.Array]]  # group → name → value, as `_unpack` returns them
Scalars = Mapping[str, jax.Array]


def _unpack(layout: tuple[str, ...], numbers: Sequence[jax.Array]) -> Numbers:
    groups: Numbers = {g: {} for g in _GROUPS}
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
    batched: bool  # mini-batches on (0 < batch size < data size): weights drawn per step


class _State(NamedTuple):
    """What a step carries to the next: w_k, the optimizer's state, the plateau state (or None)."""

    w: jax.Array
    opt_state: object
    plateau: object


class _Seen(NamedTuple):
    """What step k reports: w_k, L_k, the tested gradient ∇L_k + λ_w w_k, η_k and the update."""

    w: jax.Array
    loss: jax.Array
    grad: jax.Array
    lr: jax.Array
    update: jax.Array


def _mini_batched(surface: Surface, batch_size: np.ndarray | float) -> bool:
    """Whether any of these batch sizes draws a true mini-batch on `surface`."""
    if surface.samples is None:
        return False
    sizes = np.asarray(batch_size)
    return bool(np.any((sizes >= 1) & (sizes < surface.samples.size)))


def _kernel(the_plan: _Plan) -> _Kernel:
    index = _index(the_plan.layout)
    noise = the_plan.numbers[index["modifiers.noise_std"]]
    batched = _mini_batched(the_plan.surface, the_plan.numbers[index["modifiers.batch_size"]])
    return _Kernel(
        the_plan.surface,
        the_plan.optimizer,
        the_plan.schedule,
        bucket(the_plan.steps),
        bool(noise > 0),
        batched,
    )


def mini_batched(config: RunConfig) -> bool:
    """Whether the run's gradients come from true mini-batches (0 < batch size < data size)."""
    return _kernel(plan(config)).batched


def stochastic(config: RunConfig) -> bool:
    """Whether the run's gradients are random draws: noise σ > 0 or true mini-batches."""
    kernel = _kernel(plan(config))
    return kernel.noisy or kernel.batched


def _seed_key(seed: jax.Array) -> jax.Array:
    return jax.random.key(jnp.asarray(seed).astype(jnp.uint32))


def batch_order(size: int, seed: jax.Array) -> jax.Array:
    """σ: a random permutation of the `size` data points drawn once per run from the seed."""
    return jax.random.permutation(_seed_key(seed), size)


@functools.cache
def _units(size: int) -> np.ndarray:
    """The multipliers a with gcd(a, size) = 1: a ↦ a·j mod size permutes 0 … size − 1."""
    return np.array([a for a in range(1, max(size, 2)) if math.gcd(a, size) == 1])


def _batch_weights(
    order: jax.Array, size: int, batch_size: jax.Array, seed: jax.Array, step: jax.Array
) -> jax.Array:
    """The weights of step k's mini-batch: 1/b on the b points i whose position
    (a_k σ(i) + c_k) mod n is below b, 0 elsewhere, with a_k drawn uniformly from the units
    mod n and c_k uniformly from 0 … n − 1 (keyed by the seed and k).

    For each a_k the positions are a permutation of 0 … n − 1, so the batch holds exactly b
    distinct points (drawn without replacement); c_k uniform puts every point in it with
    probability exactly b/n, so Σᵢ weightsᵢ ℓᵢ is an unbiased estimate of (1/n) Σᵢ ℓᵢ. A sort
    per step would cost a hundred times a step; this costs a multiply per point. b =
    round(batch_size); the full batch where b < 1 or b ≥ n.
    """
    b = jnp.round(jnp.asarray(batch_size, dtype=jnp.float64))
    count = jnp.where((b >= 1) & (b < size), b, size)
    k_multiplier, k_shift = jax.random.split(jax.random.fold_in(_seed_key(seed), step))
    units = jnp.asarray(_units(size), dtype=jnp.int64)
    multiplier = units[jax.random.randint(k_multiplier, (), 0, len(units))]
    shift = jax.random.randint(k_shift, (), 0, size, dtype=jnp.int64)
    position = (multiplier * order.astype(jnp.int64) + shift) % size
    return jnp.where(position < count, 1.0 / count, 0.0)


def batch_weights(size: int, batch_size: float, seed: float, step: int) -> np.ndarray:
    """Step `step`'s mini-batch weights over `size` points, as the engine draws them."""
    return np.asarray(
        _batch_weights_fn(size)(np.float64(batch_size), np.float64(seed), np.int64(step))
    )


@functools.cache
def _batch_weights_fn(size: int) -> Callable[..., jax.Array]:
    def weights(batch_size: jax.Array, seed: jax.Array, step: jax.Array) -> jax.Array:
        return _batch_weights(batch_order(size, seed), size, batch_size, seed, step)

    return jax.jit(weights)


def _batch_loss(samples: Samples, w: jax.Array, weights: jax.Array, params: Scalars) -> jax.Array:
    """Σᵢ weightsᵢ ℓ(w; xᵢ, yᵢ): the mean loss over the batch the weights select."""
    x, y = samples.data(params)
    return jnp.sum(weights * samples.loss(w, x, y))


def minibatch_gradient(
    surface: Surface,
    w: Sequence[float],
    batch_size: float,
    seed: float,
    step: int,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """∇ of the mean loss over step `step`'s mini-batch at `w`, as the engine computes it (no
    L2, noise or clipping); ValueError where the surface carries no data."""
    if surface.samples is None:
        raise ValueError(f"surface {surface.key!r} has no data to draw mini-batches from")
    values = {k: np.float64(v) for k, v in surface.resolve(params).items()}
    return np.asarray(
        _minibatch_gradient_fn(surface)(
            jnp.asarray(w, dtype=jnp.float64),
            np.float64(batch_size),
            np.float64(seed),
            np.int64(step),
            values,
        )
    )


@compiled_cache
def _minibatch_gradient_fn(surface: Surface) -> Callable[..., jax.Array]:
    samples = surface.samples
    assert samples is not None

    def gradient(w, batch_size, seed, step, params):
        order = batch_order(samples.size, seed)
        weights = _batch_weights(order, samples.size, batch_size, seed, step)
        return jax.grad(_batch_loss, argnums=1)(samples, w, weights, params)

    return jax.jit(gradient)


def _start(kernel: _Kernel, p: Numbers) -> _State:
    w0 = jnp.stack([p["start"]["x"], p["start"]["y"]])
    plateau = plateau_init() if kernel.schedule.driven_by_loss else None
    return _State(w0, kernel.optimizer.build(p["hyper"]).init(w0), plateau)


def _stepper(
    kernel: _Kernel, p: Numbers, order: jax.Array | None = None
) -> Callable[..., tuple[_State, _Seen, object]]:
    """`step(state, k, noise_k, rate)`: moves w_k to w_{k+1}; returns the new state, what it saw,
    and the optimizer's state after the step. `order` is the run's `batch_order` when batched.
    A given `rate` is η_k itself (the schedule, warmup and plateau cuts are then not used).
    A rule with `extra_args` gets value=L(w_k), grad=∇L(w_k) and value_fn=L of the objective
    stepped (the mini-batch's where batched; no noise, no clipping), rate=η_k and floor=f*."""
    surface, optimizer, schedule = kernel.surface, kernel.optimizer, kernel.schedule
    mods, warm = p["modifiers"], p["warmup"]
    tx = optimizer.build(p["hyper"])

    def objective(w: jax.Array) -> jax.Array:
        return surface.fn(w, p["surface"]) + 0.5 * mods["l2"] * (w @ w)

    value_and_grad = jax.value_and_grad(objective)
    samples = surface.samples if kernel.batched else None

    def batch_objective(w: jax.Array, weights: jax.Array) -> jax.Array:
        assert samples is not None
        return _batch_loss(samples, w, weights, p["surface"]) + 0.5 * mods["l2"] * (w @ w)

    # A zero threshold is off: +∞ clips nothing, so the step needs no branch.
    clip_value = jnp.where(mods["clip_value"] > 0, mods["clip_value"], jnp.inf)
    clip_norm = jnp.where(mods["clip_norm"] > 0, mods["clip_norm"], jnp.inf)

    def scheduled(j: jax.Array) -> jax.Array:
        return schedule.fn(j, p["run"]["lr"], p["schedule"])

    def step(
        state: _State, k: jax.Array, noise: jax.Array | None = None, rate: jax.Array | None = None
    ):
        w, opt_state, plateau = state
        loss, grad = value_and_grad(w)  # the full loss: what the run is graded and drawn by
        stepped = objective
        if samples is not None:
            assert order is not None
            weights = _batch_weights(order, samples.size, mods["batch_size"], mods["batch_seed"], k)
            stepped = functools.partial(batch_objective, weights=weights)
        value, exact = (loss, grad) if samples is None else jax.value_and_grad(stepped)(w)
        g = exact if noise is None else exact + noise
        g = jnp.clip(g, -clip_value, clip_value)
        g = g * jnp.minimum(1.0, clip_norm / jnp.linalg.norm(g))
        lr = with_warmup(scheduled, k, warm["warmup_steps"], warm["warmup_start"])
        if rate is not None:
            lr = rate
        elif schedule.driven_by_loss:
            plateau = plateau_update(plateau, loss, p["schedule"])
            lr = lr * plateau.scale
        extra = {"hessian": jax.hessian(stepped)(w)} if optimizer.needs_hessian else {}
        if optimizer.extra_args:  # the stepped objective, noise-free, and the run's own numbers
            extra |= {"value": value, "grad": exact, "value_fn": stepped}
            extra |= {"rate": lr, "floor": p["run"]["floor"]}
        direction, opt_state = tx.update(g, opt_state, w, **extra)
        update = -lr * (direction + mods["weight_decay"] * w)
        seen = _Seen(w, loss, grad + mods["weight_decay"] * w, lr, update)
        return _State(w + update, opt_state, plateau), seen, opt_state

    return step


def _noise(kernel: _Kernel, p: Numbers) -> jax.Array | None:
    """The seeded gradient noise of every step (scan inputs), or None when σ = 0 throughout."""
    if not kernel.noisy:
        return None
    mods = p["modifiers"]
    key = jax.random.key(mods["noise_seed"].astype(jnp.uint32))
    return mods["noise_std"] * jax.random.normal(key, (kernel.length, 2))


def _order(kernel: _Kernel, p: Numbers) -> jax.Array | None:
    """The run's data permutation for its mini-batches, or None when it takes full batches."""
    if not kernel.batched:
        return None
    assert kernel.surface.samples is not None
    return batch_order(kernel.surface.samples.size, p["modifiers"]["batch_seed"])


def _box_geometry(surface: Surface) -> tuple[np.ndarray, float]:
    """The box centre and the divergence radius around it."""
    x0, x1, y0, y1 = surface.box
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    return centre, DIVERGENCE_RADIUS * math.hypot(x1 - x0, y1 - y0) / 2


class _Watch(NamedTuple):
    """What is kept of a run's steps k ≤ n as they go by, to grade it without its record.

    `diverged` is the first step that escaped (left the finite numbers or the divergence radius)
    and `finite` whether that step's values are finite; `converged` is the first step before it
    that settled (the test of `Tolerances`); −1 for none.
    `best`, `last_loss` and `last_w` cover the steps before the escape.
    """

    diverged: jax.Array
    converged: jax.Array
    finite: jax.Array
    best: jax.Array
    last_loss: jax.Array
    last_w: jax.Array


def _watch(w0: jax.Array) -> _Watch:
    never = jnp.asarray(-1, dtype=jnp.int64)
    return _Watch(never, never, jnp.asarray(True), jnp.inf, jnp.inf, w0)


def _watched(
    watch: _Watch, seen: _Seen, k: jax.Array, n: jax.Array, surface: Surface, tol: jax.Array
) -> _Watch:
    centre, radius = _box_geometry(surface)
    w, loss, grad = seen.w, seen.loss, seen.grad
    finite = jnp.isfinite(loss) & jnp.all(jnp.isfinite(grad)) & jnp.all(jnp.isfinite(w))
    escaped = ~finite | (jnp.linalg.norm(w - centre) > radius)
    settled = (jnp.linalg.norm(grad) <= tol[0]) & (jnp.linalg.norm(seen.update) <= tol[1])
    watching = (k <= n) & (watch.diverged < 0)
    escapes, ok = watching & escaped, watching & ~escaped
    return _Watch(
        diverged=jnp.where(escapes, k, watch.diverged),
        converged=jnp.where(ok & settled & (watch.converged < 0), k, watch.converged),
        finite=jnp.where(escapes, finite, watch.finite),
        best=jnp.where(ok, jnp.minimum(watch.best, loss), watch.best),
        last_loss=jnp.where(ok, loss, watch.last_loss),
        last_w=jnp.where(ok, w, watch.last_w),
    )


@functools.cache
def _state_names(optimizer: OptimizerSpec) -> tuple[str, ...]:
    """The keys of `show_state`, sorted as pytrees order them."""
    hyper = {spec.name: spec.default for spec in optimizer.hyper}
    shown = jax.eval_shape(lambda: optimizer.show_state(optimizer.build(hyper).init(jnp.zeros(2))))
    return tuple(sorted(shown))


class _Columns(NamedTuple):
    """Where each record lies in a row of the trajectory kernel's table (one row per step)."""

    positions: slice = slice(0, 2)
    loss: int = 2
    grad: slice = slice(3, 5)
    grad_norm: int = 5
    lr: int = 6
    update: slice = slice(7, 9)
    effective_lr: slice = slice(9, 11)
    diverged: int = 11  # these three hold the `_Watch` so far: read at row n, they grade the run
    converged: int = 12
    finite: int = 13
    state: int = 14  # then two columns per entry of `show_state`, in `_state_names` order


_COLUMNS = _Columns()


@compiled_cache
def _trajectory_fn(kernel: _Kernel) -> Callable[[np.ndarray, int, np.ndarray], jax.Array]:
    """The jitted scan over the kernel's length: a table for each of the first `count` rows of
    numbers (zeros for the padding). Rows run one after another, not vmapped, so that a row's
    numbers are the same bits whatever batch it comes in."""
    layout = _layout(kernel.surface, kernel.optimizer, kernel.schedule)
    names = _state_names(kernel.optimizer)

    def simulate(numbers: jax.Array, tol: jax.Array) -> jax.Array:
        p = _unpack(layout, numbers)
        noise = _noise(kernel, p)
        order = _order(kernel, p)

        def body(carry: tuple[jax.Array, _State, _Watch], noise_k: jax.Array | None):
            k, state, watch = carry
            # The numbers enter every step past a barrier. Hoisted out of the loop, each value
            # derived from them would be an op of its own, which XLA:CPU dispatches separately
            # at a few µs each: together, as much time as a thousand steps.
            numbers_k, tol_k, _ = jax.lax.optimization_barrier((numbers, tol, k))
            p_k = _unpack(layout, numbers_k)
            state, seen, opt_state = _stepper(kernel, p_k, order)(state, k, noise_k)
            watch = _watched(watch, seen, k, p_k["run"]["steps"], kernel.surface, tol_k)
            shown = kernel.optimizer.show_state(opt_state)
            effective = jnp.where(seen.grad != 0, -seen.update / seen.grad, 0.0)
            row = [seen.w, seen.loss, seen.grad, jnp.linalg.norm(seen.grad), seen.lr, seen.update]
            row += [effective, watch.diverged, watch.converged, watch.finite]
            row += [shown[name] for name in names]
            # One packed row per step: the scan writes each of its outputs separately.
            row = jnp.concatenate([jnp.ravel(x).astype(float) for x in row])
            return (k + 1, state, watch), row

        state = _start(kernel, p)
        carry = (jnp.asarray(0, dtype=jnp.int64), state, _watch(state.w))
        return jax.lax.scan(body, carry, noise, length=kernel.length)[1]

    def simulate_rows(rows: jax.Array, count: jax.Array, tol: jax.Array) -> jax.Array:
        if len(rows) == 1:  # the usual `run`: no loop over rows
            return simulate(rows[0], tol)[None]
        shape = (kernel.length, _COLUMNS.state + 2 * len(names))

        def table(i: jax.Array, numbers: jax.Array) -> jax.Array:
            return jax.lax.cond(i < count, lambda: simulate(numbers, tol), lambda: jnp.zeros(shape))

        return jax.lax.map(lambda args: table(*args), (jnp.arange(len(rows)), rows))

    return jax.jit(simulate_rows)


@compiled_cache
def _summary_fn(
    kernel: _Kernel, varying: tuple[int, ...]
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], _Watch]:
    """A jitted scan that keeps a `_Watch` per row only, over chunks of rows of `varying` numbers.

    The other numbers are shared by every row and stay scalars, so what depends on them alone
    (Adam's βᵗ, a schedule's shape) is computed once per step, not once per row. A row runs on
    after its escape, unwatched, rather than freezing its state.
    """
    layout = _layout(kernel.surface, kernel.optimizer, kernel.schedule)

    def simulate(shared: jax.Array, values: jax.Array, tol: jax.Array) -> _Watch:
        numbers = list(shared)
        for j, i in enumerate(varying):
            numbers[i] = values[j]
        p = _unpack(layout, numbers)
        step, n = _stepper(kernel, p, _order(kernel, p)), p["run"]["steps"]

        def body(carry: tuple[_State, _Watch], inputs: tuple[jax.Array, jax.Array | None]):
            (state, watch), (k, noise_k) = carry, inputs
            state, seen, _ = step(state, k, noise_k)
            return (state, _watched(watch, seen, k, n, kernel.surface, tol)), None

        state = _start(kernel, p)
        inputs = (jnp.arange(kernel.length), _noise(kernel, p))
        return jax.lax.scan(body, (state, _watch(state.w)), inputs)[0][1]

    batched = jax.vmap(simulate, in_axes=(None, 0, None))

    def chunked(shared: jax.Array, chunks: jax.Array, tol: jax.Array) -> _Watch:
        watches = jax.lax.map(lambda values: batched(shared, values, tol), chunks)
        return jax.tree.map(lambda a: a.reshape(-1, *a.shape[2:]), watches)

    return jax.jit(chunked)


def _nearest(surface: Surface, params: Mapping[str, float], w: np.ndarray):
    points = surface.critical_points(params)
    if not points or not len(w):
        return None, math.inf
    x, y = float(w[0]), float(w[1])
    distance, i = min((math.hypot(x - p.x, y - p.y), i) for i, p in enumerate(points))
    return points[i], distance


def _surface_params(the_plan: _Plan) -> dict[str, float]:
    index = _index(the_plan.layout)
    return {
        spec.name: float(the_plan.numbers[index[f"surface.{spec.name}"]])
        for spec in the_plan.surface.params
    }


def _thrown_out(positions: np.ndarray, converged: int, box: tuple[float, ...]) -> int:
    """The first step after `converged` farther than THROWN_OUT box diagonals from w_converged."""
    if converged < 0 or converged >= len(positions):
        return -1
    x0, x1, y0, y1 = box
    away = np.linalg.norm(positions[converged:] - positions[converged], axis=1)
    far = np.flatnonzero(away > THROWN_OUT * math.hypot(x1 - x0, y1 - y0))
    return converged + int(far[0]) if len(far) else -1


def _frozen(lr: np.ndarray) -> int:
    """The step from which η_k ≤ FROZEN_RATE · max η up to the last move (−1: none)."""
    if not len(lr):
        return -1
    moving = np.flatnonzero(np.abs(lr) > FROZEN_RATE * np.abs(lr).max())
    last = int(moving[-1]) if len(moving) else -1
    return last + 1 if last + 1 < len(lr) else -1


def _escape(row: np.ndarray, finite: bool) -> tuple[Escape, tuple[float, float] | None]:
    """How a diverged run's escape step escaped, and w there where it is finite."""
    c = _COLUMNS
    w, loss = row[c.positions], float(row[c.loss])
    point = (float(w[0]), float(w[1])) if np.isfinite(w).all() else None
    if finite:
        return "bound", point
    if point is not None and math.isfinite(loss):
        return "slope", point
    undefined = point is not None and (math.isnan(loss) or loss == -math.inf)
    return ("undefined" if undefined else "overflow"), point


def box_exit(points: np.ndarray, box: tuple[float, ...]) -> tuple[int, np.ndarray] | None:
    """Where a path that ends outside `box` left it for good: the step k of its first point
    outside after its last one inside, and where the segment w_{k−1} → w_k crosses the edge,
    w_{k−1} + t (w_k − w_{k−1}) with t the smallest (edge − w_{k−1}) / Δ over the axes it
    leaves by; None when the path ends inside (or never was inside)."""
    lo, hi = np.array([box[0], box[2]]), np.array([box[1], box[3]])
    inside = ((points >= lo) & (points <= hi)).all(axis=1)
    if len(points) < 2 or inside[-1] or not inside.any():
        return None
    i = int(np.flatnonzero(inside)[-1])
    start, delta = points[i], points[i + 1] - points[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(delta > 0, (hi - start) / delta, (lo - start) / delta)
    t = np.where(delta == 0, np.inf, t)
    return i + 1, start + min(float(t.min()), 1.0) * delta


def escape_path(trajectory: Trajectory) -> np.ndarray:
    """The kept positions w_0 … and, where a run escaped to a finite w at which f or ∇f was not
    finite (a step the trajectory drops), that w too: the path as far as it is known."""
    status, positions = trajectory.status, np.asarray(trajectory.positions).reshape(-1, 2)
    if status.escape in (None, "bound") or status.escape_point is None:
        return positions
    return np.vstack([positions, [status.escape_point]])


def _trajectory(the_plan: _Plan, table: np.ndarray) -> Trajectory:
    """Cut one table to w_0 … w_n, dropping any non-finite tail, and grade it."""
    c, n = _COLUMNS, the_plan.steps
    diverged, converged, finite = table[n, c.diverged : c.finite + 1].tolist()
    kept, escape, escape_point = n + 1, None, None
    if diverged >= 0:
        at, outcome = int(diverged), "diverged"
        kept = at + 1 if finite else at
        escape, escape_point = _escape(table[at], bool(finite))
    elif converged >= 0:
        at, outcome = int(converged), "converged"
    else:
        at, outcome = n, "max_steps"
    moves = max(kept - 1, 0)
    positions = table[:kept, c.positions]
    nearest, distance = _nearest(
        the_plan.surface, _surface_params(the_plan), positions[-1] if kept else ()
    )
    state = {
        name: table[:moves, c.state + 2 * i : c.state + 2 * i + 2]
        for i, name in enumerate(_state_names(the_plan.optimizer))
    }
    return Trajectory(
        positions=positions,
        loss=table[:kept, c.loss],
        grad=table[:kept, c.grad],
        grad_norm=table[:kept, c.grad_norm],
        lr=table[:moves, c.lr],
        update=table[:moves, c.update],
        effective_lr=table[:moves, c.effective_lr],
        state=state,
        status=Status(
            outcome,
            at,
            nearest,
            distance,
            converged=int(converged),
            thrown_out=_thrown_out(positions, int(converged), the_plan.surface.box),
            frozen=_frozen(table[:moves, c.lr]),
            escape=escape,
            escape_point=escape_point,
        ),
    )


def _grouped(plans: Sequence[_Plan]) -> dict[_Kernel, list[int]]:
    """Indices of plans that share one compiled function."""
    groups: dict[_Kernel, list[int]] = {}
    for i, p in enumerate(plans):
        groups.setdefault(_kernel(p), []).append(i)
    return groups


def _padded(rows: np.ndarray) -> np.ndarray:
    """Rows padded (repeating the last) to a power of two, so batch sizes rarely recompile;
    the trajectory kernel skips the padding."""
    size = 1 << (len(rows) - 1).bit_length()
    if size == len(rows):
        return rows
    return np.vstack([rows, np.repeat(rows[-1:], size - len(rows), axis=0)])


@functools.cache
def _tolerances(tol: Tolerances) -> np.ndarray:
    return np.array([tol.grad, tol.step], dtype=np.float64)


def run_batch(configs: Sequence[RunConfig]) -> list[Trajectory]:
    """Run several configurations; those that share surface, optimizer and schedule share a call."""
    plans = [plan(c) for c in configs]
    results: list[Trajectory | None] = [None] * len(plans)
    for kernel, members in _grouped(plans).items():
        rows = _padded(np.array([plans[i].numbers for i in members]))
        fn = _trajectory_fn(kernel)
        # Tolerances are traced numbers too; members with different ones take a call each.
        for tol in dict.fromkeys(configs[i].tol for i in members):
            tables = np.asarray(fn(rows, len(members), _tolerances(tol)))
            for row, i in enumerate(members):
                if configs[i].tol == tol:
                    results[i] = _trajectory(plans[i], tables[row])
    return results  # type: ignore[return-value]


def run(config: RunConfig) -> Trajectory:
    """Run one configuration: positions, losses, gradients, rates, updates, state, status."""
    the_plan = plan(config)  # what `run_batch([config])[0]` does, without its grouping
    rows = the_plan.numbers[None]
    tables = _trajectory_fn(_kernel(the_plan))(rows, 1, _tolerances(config.tol))
    return _trajectory(the_plan, np.asarray(tables)[0])


class CancelledError(Exception):
    """A computation stopped between two chunks because its caller no longer wants it."""


@compiled_cache
def _rates_fn(kernel: _Kernel) -> Callable[[np.ndarray, np.ndarray], tuple[jax.Array, jax.Array]]:
    """The jitted scan of the engine's step with η_k given per step: (w_0 … w_N, L_0 … L_{N−1})."""
    layout = _layout(kernel.surface, kernel.optimizer, kernel.schedule)

    def simulate(numbers: jax.Array, rates: jax.Array) -> tuple[jax.Array, jax.Array]:
        p = _unpack(layout, numbers)
        noise = _noise(kernel, p)
        step = _stepper(kernel, p, _order(kernel, p))

        def body(carry: tuple[jax.Array, _State], inputs: tuple[jax.Array, jax.Array | None]):
            k, state = carry
            rate, noise_k = inputs
            state, seen, _ = step(state, k, noise_k, rate)
            return (k + 1, state), (seen.w, seen.loss)

        inputs = (rates, None if noise is None else noise[: rates.shape[0]])
        carry = (jnp.asarray(0, dtype=jnp.int64), _start(kernel, p))
        (_, last), (ws, losses) = jax.lax.scan(body, carry, inputs)
        return jnp.concatenate([ws, last.w[None]]), losses

    return jax.jit(simulate)


def run_with_rates(config: RunConfig, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`config` run by the engine's own step (mini-batches, noise, clipping, decay) for
    N = len(rates) steps with η_k = rates[k] (the schedule and warmup are not used): positions
    w_0 … w_N and losses L(w_0) … L(w_{N−1}); noise and batches as in a run of N steps."""
    the_plan = plan(replace(config, steps=len(rates)))
    rates = np.asarray(rates, dtype=np.float64)
    positions, losses = _rates_fn(_kernel(the_plan))(the_plan.numbers, rates)
    return np.asarray(positions), np.asarray(losses)


def summarize(
    config: RunConfig,
    grid: Mapping[str, np.ndarray],
    cancelled: Callable[[], bool] | None = None,
) -> Summary:
    """Run K variants of `config` at once, keeping only final/best loss and event steps.

    `grid` maps numbers of the configuration to arrays of K values: "lr", "start" (K × 2),
    or "group.name" for a parameter, e.g. "hyper.beta", "schedule.gamma", "surface.condition",
    "modifiers.clip_norm", "warmup.warmup_steps". Values are checked against their ranges.

    The rows run in chunks of SUMMARY_CHUNK; before each chunk after the first, `cancelled()`
    is asked whether the caller still wants the result: True (or an exception it raises) stops
    the work there, with `CancelledError`, and nothing of it is returned.
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
    for name, values in columns.items():
        if name not in base.layout or name in ("steps", FLOOR):
            variable = ", ".join(n for n in base.layout if n not in ("steps", FLOOR))
            raise ValueError(f"cannot vary {name!r}; it can be one of: {variable}")
        low, high = _bounds(base, name)
        if not (np.isfinite(values).all() and (values >= low).all() and (values <= high).all()):
            raise ValueError(f"grid values for {name!r} must lie in [{low:g}, {high:g}]")
    index = _index(base.layout)
    varying = tuple(index[name] for name in columns)
    noise_std = columns.get("modifiers.noise_std", base.numbers[index["modifiers.noise_std"]])
    batch_size = columns.get("modifiers.batch_size", base.numbers[index["modifiers.batch_size"]])
    kernel = _kernel(base)._replace(
        noisy=bool(np.any(noise_std > 0)), batched=_mini_batched(base.surface, batch_size)
    )
    values = np.stack(list(columns.values()), axis=1)
    chunks = _chunked(values)
    fn, tol = _summary_fn(kernel, varying), _tolerances(config.tol)
    parts = []
    for i in range(len(chunks)):
        if i and cancelled is not None and cancelled():
            raise CancelledError(f"stopped after {i} of {len(chunks)} chunks")
        parts.append(jax.tree.map(np.asarray, fn(base.numbers, chunks[i : i + 1], tol)))
    w = jax.tree.map(lambda *a: np.concatenate(a)[: len(values)], *parts)
    return Summary(w.last_loss, w.best, w.converged, w.diverged, w.last_w)


def _chunked(rows: np.ndarray) -> np.ndarray:
    """Rows padded (repeating the last) to whole chunks of SUMMARY_CHUNK rows, or to one chunk
    of a power of two when fewer (so that row counts rarely recompile). The kernel runs one chunk
    after another, so that a chunk's running state stays in cache."""
    size = min(SUMMARY_CHUNK, 1 << (len(rows) - 1).bit_length())
    count = -(-len(rows) // size)
    padded = np.vstack([rows, np.repeat(rows[-1:], count * size - len(rows), axis=0)])
    return padded.reshape(count, size, rows.shape[1])


def _bounds(the_plan: _Plan, name: str) -> tuple[float, float]:
    if name == "lr":
        return 1e-12, 1e6
    if name.startswith("start."):
        return -1e6, 1e6
    group, _, key = name.partition(".")
    specs = _specs(the_plan.surface, the_plan.optimizer, the_plan.schedule)[group]
    spec = next(s for s in specs if s.name == key)
    return spec.low, spec.high
