"""The update rules, one `OptimizerSpec` each, in `OPTIMIZERS` (most didactic first).

Every rule is optax's own transformation where optax has it; only Newton's method, Lookahead's
unit-rate form and the step-size frames are written here. Vector operations in the formulas
(squares, roots, quotients, max, sign) act per coordinate. The rows live in one module per kind
(`classic`, `adam_family`, `adaptive`, `second_order`, `step_size`, `lr_free`, `wrappers`);
`PICKER_ORDER` below is the one place that orders them. To add a rule: write its row in the
module of its kind, then put its key in `PICKER_ORDER`.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.registry import Registry
from optimizers.rules.adam_family import ADAM_FAMILY_RULES
from optimizers.rules.adaptive import ADAPTIVE_RULES
from optimizers.rules.classic import CLASSIC_RULES
from optimizers.rules.lr_free import LR_FREE_RULES
from optimizers.rules.second_order import SECOND_ORDER_RULES
from optimizers.rules.step_size import STEP_SIZE_RULES
from optimizers.rules.wrappers import WRAPPER_RULES
from optimizers.specs import OptimizerSpec

# The order of the picker, and of every link and table that lists the rules: never reorder.
PICKER_ORDER: tuple[str, ...] = (
    *("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "adamw", "nadam"),
    *("amsgrad", "adamax", "radam", "adabelief", "adadelta", "signsgd", "lion"),
    *("yogi", "adan", "novograd", "ademamix", "adopt", "madgrad", "rmsprop_centred", "signum"),
    *("dadapt", "prodigy", "dog", "dowg", "cocob", "mechanic_sgd", "mechanic_adam"),
    *("schedule_free_sgd", "schedule_free_adamw", "lookahead"),
    *("polyak", "armijo", "lbfgs", "hd_gd", "hd_adam", "momo", "sam"),
)


def in_picker_order(rows: Iterable[OptimizerSpec]) -> list[OptimizerSpec]:
    """`rows` sorted by `PICKER_ORDER`; ValueError if a row is missing there or a key has no row."""
    by_key = {spec.key: spec for spec in rows}
    if set(by_key) != set(PICKER_ORDER):
        raise ValueError(f"rows without a place: {sorted(set(by_key) ^ set(PICKER_ORDER))}")
    return [by_key[key] for key in PICKER_ORDER]


OPTIMIZERS: Registry[OptimizerSpec] = Registry(
    "optimizer",
    *in_picker_order(
        (
            *CLASSIC_RULES,
            *ADAM_FAMILY_RULES,
            *ADAPTIVE_RULES,
            *SECOND_ORDER_RULES,
            *STEP_SIZE_RULES,
            *LR_FREE_RULES,
            *WRAPPER_RULES,
        )
    ),
)


def get_optimizer(key: str) -> OptimizerSpec:
    """The optimizer registered under `key`; ValueError listing the valid keys otherwise."""
    return OPTIMIZERS.lookup(key)
