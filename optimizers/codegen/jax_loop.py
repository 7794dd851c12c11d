"""Lines that the Keras and optax scripts share, both running on JAX: the app's own noise
draw, and mini-batches drawn without replacement."""

from __future__ import annotations

from optimizers.codegen.common import Run, literal, uses_batches
from optimizers.engine import bucket


def jax_noise(run: Run) -> list[str]:
    """The app's own noise draw: one N(0, I) table for the engine's whole scan."""
    return [
        f"# The app's gradient noise: one draw for all {bucket(run.steps)} steps of its scan",
        f"noise = {literal(run.mods['noise_std'])} * jax.random.normal("
        f"jax.random.key({round(run.mods['noise_seed'])}), ({bucket(run.steps)}, 2))",
    ]


def jax_batches(run: Run) -> list[str]:
    """`batches`: the key each step's mini-batch is drawn from."""
    return [f"batches = jax.random.key({round(run.mods['batch_seed'])})"]


def jax_batch_grad(run: Run, w: str) -> list[str]:
    """Lines that replace `grad` by that of a mini-batch drawn without replacement."""
    b = round(run.mods["batch_size"])
    return [
        f"    batch = jax.random.permutation(jax.random.fold_in(batches, step), len(x_data))[:{b}]",
        f"    grad = jax.grad(batch_objective)({w}, batch)",
    ]


def objective_lines(run: Run) -> tuple[str, list[str]]:
    """(the objective's name, the lines that define it): `loss_fn`, or `objective` that adds the
    L2 term λ/2 ‖w‖²; and for mini-batches `batch_objective(w, batch)`, the same over the points
    `batch`."""
    l2 = run.mods["l2"]
    penalty = f" + {literal(l2 / 2)} * w @ w" if l2 > 0 else ""
    name, lines = "loss_fn", []
    if l2 > 0:
        name, lines = "objective", ["def objective(w):", f"    return loss_fn(w){penalty}", "", ""]
    if uses_batches(run):
        lines += [
            "def batch_objective(w, batch):",
            f"    return loss_fn(w, x_data[batch], y_data[batch]){penalty}",
            "",
            "",
        ]
    return name, lines
