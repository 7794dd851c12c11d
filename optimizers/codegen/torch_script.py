"""The run as a PyTorch script: torch.optim's optimizer or the rule's class, the schedule as
torch's scheduler where one matches (a LambdaLR of the closed form where none does), the
modifiers applied to w.grad, and the loop."""

from __future__ import annotations

from optimizers.codegen.class_tables import TORCH_OPTIMIZERS
from optimizers.codegen.common import BATCH_NOTE, Run, Script, literal, uses_batches
from optimizers.codegen.schedule_code import (
    PLATEAU_CLASS,
    PLATEAU_HAND,
    PLATEAU_SIGN,
    closed_form,
    first_factor,
    plateau_new,
    plateau_rate,
)
from optimizers.codegen.surface_code import LANGS, surface_lines
from optimizers.schedules import get_schedule

NOISE_NOTE = (
    "Gradient noise: torch's random numbers are not JAX's, so the noise is another draw of the "
    "same Gaussian (replace `noise` by the app's to get its path exactly)."
)


def torch_script(run: Run) -> Script:
    """The run as a PyTorch script in parts."""
    imports = ["import torch"]
    h = run.hyper
    if run.optimizer == "adamw":  # both decays are decoupled: AdamW takes their sum
        h = {**h, "weight_decay": h["weight_decay"] + run.mods["weight_decay"]}
    classes, optimizer, notes = TORCH_OPTIMIZERS[run.optimizer](h)
    body: list[str] = []
    body += [*surface_lines(run, LANGS["pytorch"]), "", ""]
    if classes:
        body += [*classes, "", ""]
    if run.schedule == "plateau" and run.warmup_steps > 0:
        body += [*PLATEAU_CLASS, "", ""]
        notes.append(PLATEAU_HAND)
    l2 = run.mods["l2"]
    objective = "loss_fn(w)" + (f" + {literal(l2 / 2)} * w.dot(w)" if l2 > 0 else "")
    if run.optimizer == "newton" or l2 > 0:
        body += ["def objective(w):", f"    return {objective}", "", ""]
        objective = "objective(w)"
    x, y = run.start
    body += [f"w = torch.tensor([{x!r}, {y!r}], requires_grad=True)"]
    body.append(f"optimizer = {optimizer.replace('LR', literal(run.lr))}")
    plateau = run.schedule == "plateau"
    scheduler, more, extra_notes = _scheduler(run)
    notes += extra_notes
    body += more
    if run.schedule == "plateau" and not scheduler:
        body.append(f"plateau = {plateau_new(run)}")
    if scheduler:
        body.append(f"scheduler = {scheduler}")
    batched = uses_batches(run)
    if run.on("noise_std"):
        body.append(
            f"noise = {literal(run.mods['noise_std'])} * torch.randn({run.steps}, 2,"
            f" generator=torch.Generator().manual_seed({round(run.mods['noise_seed'])}))"
        )
        notes.append(NOISE_NOTE)
    if batched:
        body.append(f"batches = torch.Generator().manual_seed({round(run.mods['batch_seed'])})")
        notes.append(BATCH_NOTE)
    body += ["", f"for step in range({run.steps}):", "    optimizer.zero_grad()"]
    if batched:
        b = round(run.mods["batch_size"])
        penalty = f" + {literal(l2 / 2)} * w.dot(w)" if l2 > 0 else ""
        body += [
            f"    batch = torch.randperm(len(x_data), generator=batches)[:{b}]",
            f"    batch_loss = loss_fn(w, x_data[batch], y_data[batch]){penalty}",
            "    batch_loss.backward()",
        ]
        if run.schedule == "plateau":
            body.append(f"    loss = {objective}.detach()  # the full loss drives the plateau")
    else:
        body += [f"    loss = {objective}", "    loss.backward()"]
    if plateau and scheduler:
        body.append("    scheduler.step(loss.item())  # the app cuts η_k from the loss at w_k")
    elif plateau:
        body += [
            "    scale = plateau.update(loss.item())",
            f'    optimizer.param_groups[0]["lr"] = {plateau_rate(run)}',
        ]
    grads: list[str] = []
    if run.on("noise_std"):
        grads.append("w.grad += noise[step]")
    if run.on("clip_value"):
        c = literal(run.mods["clip_value"])
        grads.append(f"w.grad.clamp_(-{c}, {c})")
    if run.on("clip_norm"):
        grads += [
            "# g · min(1, C/‖g‖) as the app: clip_grad_norm_ would divide by ‖g‖ + 1e-6",
            f"w.grad *= torch.clamp({literal(run.mods['clip_norm'])} / w.grad.norm(), max=1.0)",
        ]
    if grads:
        body += ["    with torch.no_grad():", *(f"        {g}" for g in grads)]
    decay = run.decay_after_step()
    if decay:
        body.append("    w_k = w.detach().clone()  # d_k and the decay are both taken at w_k")
    if run.optimizer == "newton":
        body.append("    optimizer.step(torch.autograd.functional.hessian(objective, w.detach()))")
    else:
        body.append("    optimizer.step()")
    if decay:
        body += [
            "    with torch.no_grad():  # decoupled weight decay: w −= η_k λ_w w_k",
            f'        w -= {decay} * optimizer.param_groups[0]["lr"] * w_k',
        ]
    if scheduler and not plateau:
        body.append("    scheduler.step()")
    final = "objective(w)" if objective == "objective(w)" else "loss_fn(w)"
    body += [
        "",
        "x, y = w.tolist()",
        f'print(f"final point: ({{x}}, {{y}}) loss: {{{final}.item()}}")',
    ]
    setup = ["torch.set_default_dtype(torch.float64)"]
    return Script(imports, setup, notes, body)


def _scheduler(run: Run) -> tuple[str, list[str], list[str]]:
    """(scheduler expression or "", lines before it, notes) for torch."""
    p, key, lr = run.schedule_params, run.schedule, run.lr
    sched = "torch.optim.lr_scheduler"
    notes: list[str] = []
    before: list[str] = []
    main = ""
    factor = ""  # a LambdaLR factor k ↦ η_k/η₀ where torch has no matching scheduler
    if key == "step":
        main = (
            f"{sched}.StepLR(optimizer, step_size={literal(p['step_size'])},"
            f" gamma={literal(p['gamma'])})"
        )
    elif key == "multistep":
        ms = ", ".join(literal(p[f"milestone{i}"]) for i in (1, 2, 3))
        main = f"{sched}.MultiStepLR(optimizer, milestones=[{ms}], gamma={literal(p['gamma'])})"
    elif key == "exponential":
        main = (
            f"{sched}.ExponentialLR(optimizer, gamma={literal(p['gamma'])} ** (1 / "
            f"{literal(p['decay_steps'])}))"
        )
    elif key == "polynomial" and p["end_factor"] == 0:
        main = (
            f"{sched}.PolynomialLR(optimizer, total_iters={literal(p['decay_steps'])},"
            f" power={literal(p['power'])})"
        )
    elif key == "cosine" and run.steps - run.warmup_steps <= p["decay_steps"] + 1:
        main = (
            f"{sched}.CosineAnnealingLR(optimizer, T_max={literal(p['decay_steps'])},"
            f" eta_min={literal(p['min_factor'] * lr)})"
        )
    elif key == "sgdr":
        main = (
            f"{sched}.CosineAnnealingWarmRestarts(optimizer, T_0={literal(p['period'])},"
            f" T_mult={literal(p['period_mult'])}, eta_min={literal(p['min_factor'] * lr)})"
        )
    elif key in ("triangular", "triangular2", "exp_range"):
        gamma = f", gamma={literal(p['gamma'])}" if key == "exp_range" else ""
        main = (
            f"{sched}.CyclicLR(optimizer, base_lr={literal(lr)},"
            f" max_lr={literal(p['max_factor'] * lr)},"
            f' step_size_up={literal(p["step_size"])}, mode="{key}"{gamma}, cycle_momentum=False)'
        )
    elif key == "plateau":
        main = (
            f"{sched}.ReduceLROnPlateau(optimizer, factor={literal(p['factor'])},"
            f" patience={literal(p['patience'])}, threshold={literal(p['threshold'])},"
            f" cooldown={literal(p['cooldown'])}, min_lr={literal(p['min_scale'] * lr)}, eps=0)"
        )
        notes.append(
            "ReduceLROnPlateau: eps=0 so that no cut is skipped, and scheduler.step(loss) before "
            "optimizer.step() so that a cut applies to the step it was decided at, as in the app."
        )
        notes.append(PLATEAU_SIGN)
    elif key != "constant":
        statements, expression = closed_form(key, p, "pytorch")
        before += [
            "def factor(k):",
            f'    """{get_schedule(key).name}: η_k / η₀ at step k."""',
            *(f"    {line}" for line in statements),
            f"    return {expression}",
            "",
            "",
        ]
        factor = "factor"
        if key == "one_cycle":
            notes.append(
                "One cycle: torch's OneCycleLR reaches its final rate one step earlier (it spans "
                "total_steps − 1 steps); this LambdaLR is the app's schedule."
            )
        if key == "cosine":
            notes.append(
                "Cosine: torch's CosineAnnealingLR climbs back after T_max; the app holds η_min, "
                "so this run, longer than T, uses a LambdaLR."
            )
    if run.warmup_steps > 0:
        W, a = run.warmup_steps, run.warmup_start
        peak = literal(first_factor(run))
        ramp = f"k / {W}" if a == 0 else f"{literal(a)} + {literal(1 - a)} * k / {W}"
        ramp = ramp if peak == "1" else f"{peak} * ({ramp})"
        if key == "plateau":  # torch cannot chain ReduceLROnPlateau: the loop sets lr
            return "", before, notes
        warm = f"{sched}.LambdaLR(optimizer, lambda k: {ramp})"
        after = main or (f"{sched}.LambdaLR(optimizer, {factor})" if factor else "")
        if not after:
            after = f"{sched}.ConstantLR(optimizer, factor=1.0)"
        before += [f"warmup = {warm}", f"schedule = {after}"]
        return (
            f"{sched}.SequentialLR(optimizer, [warmup, schedule], milestones=[{W}])",
            before,
            notes,
        )
    if factor:
        return f"{sched}.LambdaLR(optimizer, {factor})", before, notes
    return main, before, notes
