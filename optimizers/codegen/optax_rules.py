"""Which optax transformation each rule becomes: optax's own (most rules are its rows), else a
small GradientTransformation written out (Newton, Lookahead, hypergradient descent). Each row
gives the chain's links, one a line, that turn the gradient into the direction d_k the app
scales by η_k."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from optimizers.codegen.common import NOT_EXPORTED, literal, not_exported

_FLIP = "optax.scale(-1.0)"  # optax's step to add → the direction d_k the app scales by η_k
_ADAM = "b1={b1}, b2={b2}, eps={eps}"

OptaxCode = Callable[[Mapping[str, float]], str]


def _filled(text: str) -> OptaxCode:
    """A row whose text has the run's hyperparameters in its format fields."""
    return lambda h: text.format(**{k: literal(v) for k, v in h.items()})


def _flipped(text: str) -> OptaxCode:
    """A row for a rule that optax writes as a step to add: its text, then the flip to d_k."""
    return _filled(f"{text},\n{_FLIP}")


def _mechanize(base: str) -> OptaxCode:
    return _flipped(
        f"optax.contrib.mechanize({base}, weight_decay={{weight_decay}}, s_init={{s_init}})"
    )


OPTAX_LR_FREE: dict[str, OptaxCode] = {
    "yogi": _filled("optax.scale_by_yogi(" + _ADAM + ")"),
    "adan": _filled("optax.scale_by_adan(b1={b1}, b2={b2}, b3={b3}, eps={eps})"),
    "novograd": _filled("optax.scale_by_novograd(" + _ADAM + ")"),
    "ademamix": _filled(
        "optax.contrib.scale_by_ademamix(b1={b1}, b2={b2}, b3={b3}, alpha={alpha}, eps={eps})"
    ),
    "adopt": _filled("optax.contrib.scale_by_adopt(" + _ADAM + ")"),
    "madgrad": _flipped(
        "optax.contrib.scale_by_madgrad(jnp.float64({gamma}), momentum={beta}, eps={eps})"
    ),
    "rmsprop_centred": _filled("optax.scale_by_stddev(decay={rho}, eps={eps})"),
    "signum": _filled("optax.ema({beta}, debias=False),\noptax.scale_by_sign()"),
    "dadapt": _flipped(
        "optax.contrib.dadapt_adamw(1.0, betas=({b1}, {b2}), eps={eps}, estim_lr0={d0})"
    ),
    "prodigy": _flipped(
        "optax.contrib.prodigy(1.0, betas=({b1}, {b2}), eps={eps}, estim_lr0={d0})"
    ),
    "dog": _flipped("optax.contrib.dog(1.0, init_step=('heuristic', {r_eps}), eps={eps})"),
    "dowg": _flipped("optax.contrib.dowg(1.0, init_estim_sq_dist={r0_sq}, eps={eps})"),
    "cocob": _flipped("optax.contrib.scale_by_cocob(alpha={alpha}, eps={eps})"),
    "mechanic_sgd": _mechanize("optax.sgd(1.0)"),
    "mechanic_adam": _mechanize("optax.adam(1.0, b1={b1}, b2={b2})"),
    "schedule_free_sgd": _flipped("optax.contrib.schedule_free_sgd({gamma}, b1={beta})"),
    "schedule_free_adamw": _flipped("optax.contrib.schedule_free_adamw({gamma}, " + _ADAM + ")"),
    "lookahead": _filled(
        "lookahead(optax.scale_by_adam(" + _ADAM + "), sync_period={sync_period}, alpha={alpha})"
    ),
}

OPTAX_OPTIMIZERS: dict[str, OptaxCode] = {
    "gd": lambda h: "",
    "momentum": _filled("optax.trace(decay={beta})"),
    "nesterov": _filled("optax.trace(decay={beta}, nesterov=True)"),
    "adagrad": _filled(
        "optax.scale_by_rss(initial_accumulator_value={initial_accumulator}, eps={eps})"
    ),
    "rmsprop": _filled("optax.scale_by_rms(decay={rho}, eps={eps})"),
    "adam": _filled("optax.scale_by_adam(" + _ADAM + ")"),
    "newton": _filled("scale_by_newton(damping={damping})"),
    "adamw": _filled(
        "optax.scale_by_adam(" + _ADAM + "),\noptax.add_decayed_weights({weight_decay})"
    ),
    "nadam": _filled("optax.scale_by_adam(" + _ADAM + ", nesterov=True)"),
    "amsgrad": _filled("optax.scale_by_amsgrad(" + _ADAM + ")"),
    "adamax": _filled("optax.scale_by_adamax(" + _ADAM + ")"),
    "radam": _filled("optax.scale_by_radam(" + _ADAM + ", threshold={threshold})"),
    "adabelief": _filled("optax.scale_by_belief(" + _ADAM + ", eps_root={eps})"),
    "adadelta": _filled("optax.scale_by_adadelta(rho={rho}, eps={eps})"),
    "signsgd": lambda h: "optax.scale_by_sign()",
    "lion": _filled("optax.scale_by_lion(b1={b1}, b2={b2})"),
    **OPTAX_LR_FREE,  # the newer rows of optimizers/rules/
    "hd_gd": _filled("hypergradient(optax.identity(), beta={beta})"),
    "hd_adam": _filled("hypergradient(optax.scale_by_adam(" + _ADAM + "), beta={beta})"),
    **{key: not_exported(key) for key in NOT_EXPORTED},
}

_OPTAX_NEWTON = [
    "def scale_by_newton(damping):",
    '    """Damped Newton direction (H + λI)⁻¹ g, from the Hessian passed as `hessian=`."""',
    "",
    "    def update(updates, state, params=None, *, hessian, **extra):",
    "        return jnp.linalg.solve(hessian + damping * jnp.eye(2), updates), state",
    "",
    "    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)",
]

_OPTAX_LOOKAHEAD = [
    "def lookahead(fast, sync_period, alpha):",
    '    """Lookahead at unit rate: the fast weights lead the slow ones by -η·lead; every',
    '    sync_period steps the slow weights move alpha of the way and the fast ones restart."""',
    "",
    "    def init(params):",
    "        return fast.init(params), 0, jnp.zeros_like(params)",
    "",
    "    def update(updates, state, params=None):",
    "        inner, count, lead = state",
    "        direction, inner = fast.update(updates, inner, params)",
    "        ahead, count = lead + direction, count + 1",
    "        sync = count % sync_period == 0",
    "        direction = jnp.where(sync, alpha * ahead - lead, direction)",
    "        return direction, (inner, count, jnp.where(sync, 0.0, ahead))",
    "",
    "    return optax.GradientTransformation(init, update)",
]
_OPTAX_HYPERGRADIENT = [
    "def hypergradient(inner, beta):",
    '    """Hypergradient descent on a multiplier α of the rate (Baydin et al. 2018):',
    '    α = α + β⟨g, d_prev⟩ with α starting at 1, then the direction α·d."""',
    "",
    "    def init(params):",
    "        return inner.init(params), jnp.ones(()), jnp.zeros_like(params)",
    "",
    "    def update(updates, state, params=None):",
    "        inner_state, alpha, previous = state",
    "        alpha = alpha + beta * updates @ previous",
    "        direction, inner_state = inner.update(updates, inner_state, params)",
    "        return alpha * direction, (inner_state, alpha, direction)",
    "",
    "    return optax.GradientTransformation(init, update)",
]
OPTAX_DEFINITIONS = {
    "newton": _OPTAX_NEWTON,
    "lookahead": _OPTAX_LOOKAHEAD,
    "hd_gd": _OPTAX_HYPERGRADIENT,
    "hd_adam": _OPTAX_HYPERGRADIENT,
}
