"""The run as an optax script: a chain of the clipping, the rule's transformation, the weight
decay and the schedule (optax's own where one matches, the closed form where none does), then a
jitted train step and the loop."""

from __future__ import annotations

from optimizers.codegen.common import BATCH_NOTE, Run, Script, literal, uses_batches
from optimizers.codegen.jax_loop import jax_batch_grad, jax_batches, jax_noise, objective_lines
from optimizers.codegen.optax_rules import OPTAX_DEFINITIONS, OPTAX_OPTIMIZERS
from optimizers.codegen.schedule_code import PLATEAU_SIGN, closed_form, first_factor
from optimizers.codegen.surface_code import LANGS, surface_lines
from optimizers.schedules import get_schedule


def _schedule(run: Run) -> tuple[list[str], str, list[str]]:
    """(lines defining `schedule` if any, the rate argument, notes) for optax."""
    p, key, lr = run.schedule_params, run.schedule, run.lr
    notes: list[str] = []
    lines: list[str] = []
    main = ""
    if key in ("constant", "plateau"):
        main = f"optax.constant_schedule({literal(lr)})" if run.warmup_steps else ""
    elif key in ("step", "exponential"):
        steps = p["step_size"] if key == "step" else p["decay_steps"]
        stair = ", staircase=True" if key == "step" else ""
        main = (
            f"optax.exponential_decay({literal(lr)}, transition_steps={literal(steps)},"
            f" decay_rate={literal(p['gamma'])}{stair})"
        )
    elif key == "multistep":
        scales: dict[int, int] = {}
        for i in (1, 2, 3):
            m = round(p[f"milestone{i}"])
            scales[m] = scales.get(m, 0) + 1
        gamma = literal(p["gamma"])
        pairs = ", ".join(
            f"{m}: {gamma}" + (f" ** {n}" if n > 1 else "") for m, n in sorted(scales.items())
        )
        main = f"optax.piecewise_constant_schedule({literal(lr)}, {{{pairs}}})"
    elif key == "polynomial":
        main = (
            f"optax.polynomial_schedule({literal(lr)}, end_value={literal(p['end_factor'] * lr)},"
            f" power={literal(p['power'])}, transition_steps={literal(p['decay_steps'])})"
        )
    elif key == "cosine":
        main = (
            f"optax.cosine_decay_schedule({literal(lr)}, decay_steps={literal(p['decay_steps'])},"
            f" alpha={literal(p['min_factor'])})"
        )
    elif key == "one_cycle" and (p["pct"] * p["total_steps"]).is_integer():
        main = (
            f"optax.cosine_onecycle_schedule({literal(p['total_steps'])}, peak_value={literal(lr)},"
            f" pct_start={literal(p['pct'])}, div_factor={literal(p['div'])},"
            f" final_div_factor={literal(p['final_div'])})"
        )
    else:
        lines = [
            "def schedule(k):",
            f'    """{get_schedule(key).name}: η_k = η₀ · factor(k)."""',
            *(f"    {line}" for line in closed_form(key, p, "optax")[0]),
            f"    return {literal(lr)} * ({closed_form(key, p, 'optax')[1]})",
            "",
            "",
        ]
        main = "schedule"
    if run.warmup_steps > 0:
        W, a = run.warmup_steps, run.warmup_start
        peak = lr * first_factor(run)
        if main != "schedule":
            lines.append(f"schedule = {main}")
        lines += [
            f"warmup = optax.linear_schedule({literal(a * peak)}, {literal(peak)},"
            f" transition_steps={W})",
            f"warmed = optax.join_schedules([warmup, schedule], boundaries=[{W}])",
        ]
        return lines, "warmed", notes
    if not main:
        return lines, literal(lr), notes
    if main == "schedule":
        return lines, "schedule", notes
    return [f"schedule = {main}"], "schedule", notes


def optax_script(run: Run) -> Script:
    """The run as an optax script in parts."""
    imports = ["import jax", "import jax.numpy as jnp", "import optax"]
    notes: list[str] = []
    body = [*surface_lines(run, LANGS["optax"]), "", ""]
    if run.optimizer in OPTAX_DEFINITIONS:
        body += [*OPTAX_DEFINITIONS[run.optimizer], "", ""]
    objective, lines = objective_lines(run)
    body += lines
    schedule_lines, rate, schedule_notes = _schedule(run)
    notes += schedule_notes
    body += schedule_lines
    chain: list[str] = []
    if run.on("clip_value"):
        chain.append(f"optax.clip({literal(run.mods['clip_value'])})")
    if run.on("clip_norm"):
        chain.append(f"optax.clip_by_global_norm({literal(run.mods['clip_norm'])})")
    rule = OPTAX_OPTIMIZERS[run.optimizer](run.hyper)
    if rule:
        chain += rule.split("\n")
    if run.on("weight_decay"):
        chain.append(f"optax.add_decayed_weights({literal(run.mods['weight_decay'])})")
    if rate in ("schedule", "warmed"):  # a float64 count: see the note
        rate = f"lambda count: {rate}(count.astype(jnp.float64))"
        notes.append(
            "optax counts steps in int32, and some of its schedules then compute in float32 "
            "(a relative error near 1e-8); the schedule is given the count as float64."
        )
    chain.append(f"optax.scale_by_learning_rate({rate})")
    plateau = run.schedule == "plateau"
    if plateau:
        p = run.schedule_params
        chain.append(
            f"optax.contrib.reduce_on_plateau(factor={literal(p['factor'])},"
            f" patience={literal(p['patience'] + 1)}, rtol={literal(p['threshold'])},"
            f" cooldown={literal(p['cooldown'])}, min_scale={literal(p['min_scale'])})"
        )
        notes.append(
            "reduce_on_plateau cuts when its count reaches patience, the app when it exceeds "
            "it: patience here is the app's + 1."
        )
        notes.append(PLATEAU_SIGN.replace("ReduceLROnPlateau", "reduce_on_plateau"))
    if len(chain) == 1:
        body.append(f"optimizer = {chain[0]}")
    else:
        body += ["optimizer = optax.chain(", *(f"    {c.rstrip(',')}," for c in chain), ")"]
    x, y = run.start
    body += [f"w = jnp.array([{x!r}, {y!r}])", "state = optimizer.init(w)"]
    batched = uses_batches(run)
    noisy = run.on("noise_std")
    if noisy:
        body += jax_noise(run)
    if batched:
        body += jax_batches(run)
        notes.append(BATCH_NOTE)
    extra = []
    if plateau:
        extra.append("value=loss")
    if run.optimizer == "newton":
        extra.append(f"hessian=jax.hessian({objective})(w)")
    args = ["w", "state"] + (["step"] if batched or noisy else [])
    body += [
        "",
        "",
        "@jax.jit",
        f"def train_step({', '.join(args)}):",
        f"    loss, grad = jax.value_and_grad({objective})(w)"
        if plateau
        else f"    grad = jax.grad({objective})(w)",
    ]
    if batched:
        body += jax_batch_grad(run, "w")
    if noisy:
        body.append("    grad = grad + noise[step]")
    body += [
        f"    updates, state = optimizer.update({', '.join(['grad', 'state', 'w', *extra])})",
        "    return optax.apply_updates(w, updates), state",
        "",
        "",
        f"for step in range({run.steps}):",
        f"    w, state = train_step({', '.join(args)})",
        "",
        "x, y = w.tolist()",
        f'print(f"final point: ({{x}}, {{y}}) loss: {{{objective}(w)}}")',
    ]
    setup = ['jax.config.update("jax_enable_x64", True)']
    return Script(imports, setup, notes, body)
