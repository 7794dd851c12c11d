"""The run as a Keras 3 script on the JAX backend: Keras's optimizer or the rule's class, the
schedule as a Keras schedule where one matches (a LearningRateSchedule of the closed form where
none does), the modifiers as Keras's options where it has them, and the loop."""

from __future__ import annotations

from optimizers.codegen.class_tables import KERAS_OPTIMIZERS
from optimizers.codegen.common import BATCH_NOTE, Run, Script, literal, uses_batches
from optimizers.codegen.jax_loop import jax_batch_grad, jax_batches, jax_noise, objective_lines
from optimizers.codegen.schedule_code import PLATEAU_CLASS, closed_form, plateau_new, plateau_rate
from optimizers.codegen.surface_code import LANGS, surface_lines
from optimizers.schedules import get_schedule

_KERAS_FLOAT32 = (
    "The maths is written in jax.numpy: on the JAX backend keras.ops returns float32 from "
    "sin, cos, tanh, logaddexp and norm even for float64 input (Keras 3.15.1)."
)


def _schedule(run: Run) -> tuple[list[str], str, list[str]]:
    """(class lines, the learning_rate argument, notes) for Keras."""
    p, key, lr = run.schedule_params, run.schedule, run.lr
    ks = "keras.optimizers.schedules"
    classes: list[str] = []
    notes: list[str] = []
    if key in ("constant", "plateau"):
        main = repr(lr)  # Keras takes a float here, not an int
    elif key == "step":
        main = (
            f"{ks}.ExponentialDecay(eta0, decay_steps={literal(p['step_size'])},"
            f" decay_rate={literal(p['gamma'])}, staircase=True)"
        )
    elif key == "exponential":
        main = (
            f"{ks}.ExponentialDecay(eta0, decay_steps={literal(p['decay_steps'])},"
            f" decay_rate={literal(p['gamma'])})"
        )
    elif key == "multistep":
        milestones = sorted(round(p[f"milestone{i}"]) for i in (1, 2, 3))
        unique = sorted(set(milestones))
        gamma = literal(p["gamma"])
        values = ["eta0"]
        for m in unique:
            passed = sum(1 for x in milestones if x <= m)
            values.append(f"eta0 * {gamma}" + (f"**{passed}" if passed > 1 else ""))
        boundaries = ", ".join(str(m - 1) for m in unique)
        main = (
            f"{ks}.PiecewiseConstantDecay(boundaries=[{boundaries}], values=[{', '.join(values)}])"
        )
        notes.append("PiecewiseConstantDecay switches after a boundary: each is a milestone − 1.")
    elif key == "inverse_time":
        main = (
            f"{ks}.InverseTimeDecay(eta0, decay_steps={literal(p['decay_steps'])},"
            f" decay_rate={literal(p['decay_rate'])})"
        )
    elif key == "polynomial":
        main = (
            f"{ks}.PolynomialDecay(eta0, decay_steps={literal(p['decay_steps'])},"
            f" end_learning_rate={literal(p['end_factor'] * lr)}, power={literal(p['power'])})"
        )
    else:
        if key in ("cosine", "sgdr"):
            notes.append(
                "Keras's CosineDecay and CosineDecayRestarts take their cosine in float32 on the "
                "JAX backend (a relative error near 1e-8): the schedule is written out."
            )
        statements, expression = closed_form(key, p, "keras")
        name = "".join(part.capitalize() for part in key.split("_"))
        spec = get_schedule(key)
        classes = [
            f"class {name}({ks}.LearningRateSchedule):",
            f'    """{spec.name}: η_k = η₀ · factor(k) (Keras has no such schedule)."""',
            "",
            "    def __call__(self, step):",
            "        k = jnp.asarray(step, jnp.float64)",
            *(f"        {line}" for line in statements),
            f"        return {literal(lr)} * ({expression})",
        ]
        main = f"{name}()"
    if "eta0" in main:
        classes.append(
            "eta0 = jnp.asarray(LR, jnp.float64)  # Keras schedules compute in η₀'s dtype".replace(
                "LR", repr(lr)
            )
        )
    if run.warmup_steps > 0 and key != "plateau":
        classes += [
            "",
            "",
            f"class Warmup({ks}.LearningRateSchedule):",
            '    """Linear warmup over `steps` steps from start·η̂ to η̂ = after(0), then',
            '    after(k − steps)."""',
            "",
            "    def __init__(self, after, steps, start):",
            "        self.after, self.steps, self.start = after, steps, start",
            "",
            "    def __call__(self, step):",
            "        k = jnp.asarray(step, jnp.float64)",
            "        ramp = self.after(0) * (self.start + (1 - self.start) * k / self.steps)",
            "        after = self.after(jnp.maximum(k - self.steps, 0))",
            "        return jnp.where(k < self.steps, ramp, after)",
        ]
        after = main if key != "constant" else f"lambda k: {literal(lr)}"
        main = f"Warmup({after}, steps={run.warmup_steps}, start={literal(run.warmup_start)})"
    return classes, main, notes


def _options(run: Run) -> tuple[str, list[str]]:
    """Keras's own keyword options for the modifiers, and gradient lines it cannot express."""
    options: list[str] = []
    lines: list[str] = []
    if run.optimizer == "adamw":  # both decays are decoupled: AdamW's option takes their sum
        decay = run.hyper["weight_decay"] + run.mods["weight_decay"]
        if decay > 0:
            options.append(f"weight_decay={literal(decay)}")
    value, norm = run.on("clip_value"), run.on("clip_norm")
    if value and norm:  # Keras takes one clipping option: both are written out, in the app's order
        c, C = literal(run.mods["clip_value"]), literal(run.mods["clip_norm"])
        lines += [
            f"grad = jnp.clip(grad, -{c}, {c})",
            f"grad = grad * jnp.minimum(1, {C} / jnp.linalg.norm(grad))",
        ]
    elif value:
        options.append(f"clipvalue={literal(run.mods['clip_value'])}")
    elif norm:
        options.append(f"global_clipnorm={literal(run.mods['clip_norm'])}")
    return "".join(f", {o}" for o in options), lines


def keras_script(run: Run) -> Script:
    """The run as a Keras 3 script in parts."""
    imports = ["import jax", "import keras"]
    classes, optimizer, notes = KERAS_OPTIMIZERS[run.optimizer](run.hyper)
    notes.insert(0, _KERAS_FLOAT32)
    schedule_classes, rate, schedule_notes = _schedule(run)
    notes += schedule_notes
    options, grad_lines = _options(run)
    body = [*surface_lines(run, LANGS["keras"]), "", ""]
    for block in (classes, schedule_classes):
        if block:
            body += [*block, "", ""]
    plateau = run.schedule == "plateau"
    if plateau:
        body += [*PLATEAU_CLASS, "", ""]
        notes.append("Keras schedules cannot see the loss: class Plateau is the app's rule.")
    objective, lines = objective_lines(run)
    body += lines
    x, y = run.start
    body.append(f"w = keras.Variable([{x!r}, {y!r}])")
    body.append(f"optimizer = {optimizer.replace('LR', rate).replace('OPTIONS', options)}")
    if plateau:
        body.append(f"plateau = {plateau_new(run)}")
    if run.on("noise_std"):
        body += jax_noise(run)
    batched = uses_batches(run)
    if batched:
        body += jax_batches(run)
        notes.append(BATCH_NOTE)
    if plateau:
        body.append(f"value_and_grad = jax.jit(jax.value_and_grad({objective}))")
    else:
        body.append(f"gradient = jax.jit(jax.grad({objective}))")
    if run.optimizer == "newton":
        body.append(f"hessian = jax.jit(jax.hessian({objective}))")
    first = "loss, grad = value_and_grad(w.value)" if plateau else "grad = gradient(w.value)"
    body += ["", f"for step in range({run.steps}):", f"    {first}"]
    if batched:
        body += jax_batch_grad(run, "w.value")
    if run.on("noise_std"):
        body.append("    grad = grad + noise[step]")
    body += [f"    {line}" for line in grad_lines]
    if plateau:
        body += [
            "    scale = plateau.update(float(loss))",
            f"    optimizer.learning_rate = {plateau_rate(run)}",
        ]
    if run.optimizer == "newton":
        body.append("    optimizer.hessian = hessian(w.value)")
    decay = run.decay_after_step()
    if decay:
        body += [
            "    w_k = w.value  # d_k and the decay are both taken at w_k",
            f"    decay = {decay} * optimizer.learning_rate  # λ_w η_k: read before apply()",
        ]
    body.append("    optimizer.apply([grad], [w])")
    if decay:
        body.append(
            "    w.assign(w.value - decay * w_k)  # decoupled weight decay: w −= η_k λ_w w_k"
        )
    body += [
        "",
        "x, y = w.numpy().tolist()",
        f'print(f"final point: ({{x}}, {{y}}) loss: {{{objective}(w.value)}}")',
    ]
    setup = [
        'os.environ["KERAS_BACKEND"] = "jax"',
        'jax.config.update("jax_enable_x64", True)',
        'keras.config.set_floatx("float64")',
    ]
    return Script(imports, setup, notes, body)
