"""The records the optimizer and schedule registries are made of."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import optax

from common.params import ParamSpec, resolve_params

Scalars = Mapping[str, jax.Array]


OPTIMIZER_GROUPS: dict[str, str] = {  # picker group → the one sentence that explains it
    "classic": "Classic: a fixed step along the gradient, with or without momentum.",
    "adaptive": "Adaptive: a per-parameter step scaled by running averages of the gradient.",
    "second-order": "Second-order: the step uses curvature (the Hessian or an estimate of it).",
    "line-search": "Line search and step-size rules: the step is chosen at every iteration.",
    "lr-free": "Learning-rate-free: the method estimates its own scale of step as it goes.",
    "wrappers": "Wrappers: they change how another rule's steps are taken or where they are "
    "evaluated.",
}


@dataclass(frozen=True, eq=False)
class OptimizerSpec:
    """An update rule: w_{k+1} = w_k − η_k · d_k, where d_k comes from `build(hyper)`.

    `build` returns an optax `(init, update)` pair that turns the (clipped, regularised) gradient
    into the direction d_k at unit learning rate; the engine scales it by the scheduled η_k, so
    every optimizer accepts every schedule. `hyper` values arrive as traced float64 scalars.
    `show_state(state)` names the parts of the state worth showing (velocity, m̂, v̂, ...), each a
    2-vector. `latex` is the rule exactly as computed here, with η_k the scheduled rate.
    """

    key: str
    name: str
    latex: str
    note: str
    lr: ParamSpec
    build: Callable[[Scalars], optax.GradientTransformation]
    show_state: Callable[[optax.OptState], dict[str, jax.Array]]
    hyper: tuple[ParamSpec, ...] = ()
    needs_hessian: bool = False  # update() then takes the keyword argument hessian=∇²f(w_k)
    # update() then also takes value=L(w_k), grad=∇L(w_k) and value_fn=L of the objective the
    # step descends (a mini-batch's where batched), rate=η_k, floor=f* (engine.stepper)
    extra_args: bool = False
    group: str = "classic"  # a key of OPTIMIZER_GROUPS: where the picker lists the rule
    reference: str = ""  # the paper or book that introduced the rule, and its year

    def resolve(self, values: Mapping[str, float] | None = None) -> dict[str, float]:
        return resolve_params(self.hyper, values, f"optimizer '{self.key}'")


@dataclass(frozen=True, eq=False)
class ScheduleSpec:
    """A learning-rate schedule η_k = fn(k, η₀, params), pure and traceable in every argument.

    `driven_by_loss` marks ReduceLROnPlateau: its value is fn(k, η₀, params) times a factor that
    the engine updates from the loss (see `optimizers.schedules.plateau_update`).
    """

    key: str
    name: str
    latex: str
    note: str
    fn: Callable[[jax.Array, jax.Array, Scalars], jax.Array]
    params: tuple[ParamSpec, ...] = ()
    driven_by_loss: bool = False
    reference: str = ""  # the paper, book or library that introduced it, and its year ("" if none)

    def resolve(self, values: Mapping[str, float] | None = None) -> dict[str, float]:
        return resolve_params(self.params, values, f"schedule '{self.key}'")
