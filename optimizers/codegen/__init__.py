"""Every run as a script in PyTorch, Keras 3 (JAX backend) or optax that reproduces it.

`to_code(config, framework)` returns one runnable script: the surface as a loss of a 2-vector
(for regression surfaces, of (w, b) on the same data), the optimizer with the same
hyperparameters, the schedule (with warmup) as that framework's own scheduler where it has one
that matches, else a small closed form, the modifiers, the same number of steps from the same
start, and a last line that prints the final point and loss:

    final point: (x, y) loss: f

Where a framework's built-in rule or scheduler differs from the app's, the script either sets its
options so that it matches or writes the rule out, and says so in its docstring; what cannot
match (torch's random numbers, every framework's mini-batch draws) is said there too.

The modules: `common` (the resolved run, literals, the script in parts), `surface_code`,
`rule_text` and `rule_text_free` (rules written once as lines of maths), `rule_classes` (those
lines as a torch or Keras optimizer class), `class_tables` and `optax_rules` (a row per rule and
framework), `schedule_code`, `coverage` (a row per schedule and modifier), one `*_script` module
per framework, `jax_loop` (what Keras and optax share), `layout` and `scripts` (the whole file).
"""

from optimizers.codegen.common import CSV_NAME, FRAMEWORKS, NOT_EXPORTED
from optimizers.codegen.scripts import file_name, to_code, to_code_all
from optimizers.codegen.surface_code import data_csv

__all__ = [
    "CSV_NAME",
    "FRAMEWORKS",
    "NOT_EXPORTED",
    "data_csv",
    "file_name",
    "to_code",
    "to_code_all",
]
