"""Which optimizer each rule becomes in torch and in Keras: the framework's own where it
matches the app's rule (with options set so that it does), else the rule's class written out
from `rule_text`, with a note for the script's docstring saying why."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from optimizers.codegen.common import NOT_EXPORTED, literal, not_exported
from optimizers.codegen.rule_classes import RULES, keras_rule_class, torch_rule_class
from optimizers.codegen.rule_text import Rule
from optimizers.codegen.rule_text_free import LR_FREE_RULES

Built = tuple[list[str], str, list[str]]  # (class lines, constructor, notes for the docstring)
OptimizerCode = Callable[[Mapping[str, float]], Built]


def _builtin(text: str, *notes: str) -> OptimizerCode:
    """The framework's own optimizer: `text` with the hyperparameters in its format fields."""
    return lambda h: ([], text.format(**{k: literal(v) for k, v in h.items()}), list(notes))


def _written_out(
    render: Callable[[Rule], list[str]], constructor: str
) -> Callable[[str, str], OptimizerCode]:
    """Rows for rules written out as classes by `render`, built by `constructor` (format fields:
    name, the class; args, the hyperparameters as keyword arguments)."""

    def row(key: str, why: str) -> OptimizerCode:
        rule = RULES[key]

        def build(h: Mapping[str, float]) -> Built:
            args = "".join(f", {name}={literal(h[rule.source(name)])}" for name in rule.hyper)
            return render(rule), constructor.format(name=rule.name, args=args), [why]

        return build

    return row


def _lacking(framework: str, row: Callable[[str, str], OptimizerCode]) -> dict[str, OptimizerCode]:
    """The newer adaptive, learning-rate-free and Lookahead rows (optimizers/rules/), none of
    which the framework has."""
    note = "{framework} has no {name}: the class below is optax's rule."
    return {
        key: row(key, note.format(framework=framework, name=rule.name))
        for key, rule in LR_FREE_RULES.items()
    }


_torch_class = _written_out(torch_rule_class, "{name}([w], lr=LR{args})")
_keras_class = _written_out(keras_rule_class, "{name}(LR{args}OPTIONS)")

TORCH_OPTIMIZERS: dict[str, OptimizerCode] = {
    "gd": _builtin("torch.optim.SGD([w], lr=LR)"),
    "momentum": _builtin("torch.optim.SGD([w], lr=LR, momentum={beta})"),
    "nesterov": _builtin("torch.optim.SGD([w], lr=LR, momentum={beta}, nesterov=True)"),
    "adagrad": _builtin(
        "torch.optim.Adagrad([w], lr=LR, initial_accumulator_value={initial_accumulator} + {eps},"
        " eps=0)",
        "torch's Adagrad adds ε outside the square root; the app takes √(G + ε). Starting "
        "the sum at G_init + ε with eps=0 gives the app's rule exactly.",
    ),
    "rmsprop": _torch_class(
        "rmsprop", "torch's RMSprop adds ε outside √v; this class takes √(v + ε) as the app does."
    ),
    "adam": _builtin("torch.optim.Adam([w], lr=LR, betas=({b1}, {b2}), eps={eps})"),
    "newton": _torch_class(
        "newton", "torch has no Newton optimizer: the class below solves (H + λI) d = g."
    ),
    "adamw": _builtin(
        "torch.optim.AdamW([w], lr=LR, betas=({b1}, {b2}), eps={eps}, weight_decay={weight_decay})"
    ),
    "nadam": _torch_class(
        "nadam", "torch's NAdam adds a momentum-decay schedule; this class is optax's NAdam."
    ),
    "amsgrad": _torch_class(
        "amsgrad", "torch's amsgrad=True keeps the maximum of raw v; the app that of v̂."
    ),
    "adamax": _builtin("torch.optim.Adamax([w], lr=LR, betas=({b1}, {b2}), eps={eps})"),
    "radam": _torch_class(
        "radam", "torch's RAdam fixes the threshold at 5 and adds ε to √v before correcting it."
    ),
    "adabelief": _torch_class("adabelief", "torch has no AdaBelief: the class below is optax's."),
    "adadelta": _builtin("torch.optim.Adadelta([w], lr=LR, rho={rho}, eps={eps})"),
    "signsgd": _torch_class("signsgd", "torch has no signSGD: the class below is the rule."),
    "lion": _torch_class("lion", "torch has no Lion: the class below is the rule."),
    **_lacking("torch", _torch_class),  # the newer rows of optimizers/rules/
    "hd_gd": _torch_class("hd_gd", "torch has no hypergradient descent: the class below is it."),
    "hd_adam": _torch_class("hd_adam", "torch has no hypergradient Adam: the class below is it."),
    **{key: not_exported(key) for key in NOT_EXPORTED},
}

KERAS_OPTIMIZERS: dict[str, OptimizerCode] = {
    "gd": _builtin("keras.optimizers.SGD(LROPTIONS)"),
    "momentum": _keras_class(
        "momentum",
        "Keras's SGD(momentum=) keeps η_k inside the velocity, which differs once η_k changes; "
        "this class scales the velocity by η_k as the app does.",
    ),
    "nesterov": _keras_class(
        "nesterov", "Keras's SGD(nesterov=True) keeps η_k inside the velocity; this class does not."
    ),
    "adagrad": _builtin(
        "keras.optimizers.Adagrad(LR, initial_accumulator_value={initial_accumulator},"
        " epsilon={eps}OPTIONS)"
    ),
    "rmsprop": _builtin("keras.optimizers.RMSprop(LR, rho={rho}, epsilon={eps}OPTIONS)"),
    "adam": _keras_class(
        "adam", "Keras's Adam adds its ε before the bias correction of v (ε̂); this class after."
    ),
    "newton": _keras_class(
        "newton", "Keras has no Newton optimizer: the class below solves (H + λI) d = g."
    ),
    "adamw": _keras_class(
        "adamw", "Keras's AdamW adds its ε before the bias correction of v; this class after."
    ),
    "nadam": _keras_class(
        "nadam", "Keras's Nadam adds a momentum-decay schedule; this class is optax's NAdam."
    ),
    "amsgrad": _keras_class(
        "amsgrad", "Keras's amsgrad=True keeps the maximum of raw v; the app that of v̂."
    ),
    "adamax": _keras_class(
        "adamax", "Keras's Adamax adds ε after the maximum; the app inside it: max(β₂u, |g| + ε)."
    ),
    "radam": _keras_class("radam", "Keras has no RAdam: the class below is optax's."),
    "adabelief": _keras_class("adabelief", "Keras has no AdaBelief: the class below is optax's."),
    "adadelta": _builtin("keras.optimizers.Adadelta(LR, rho={rho}, epsilon={eps}OPTIONS)"),
    "signsgd": _keras_class("signsgd", "Keras has no signSGD: the class below is the rule."),
    "lion": _builtin("keras.optimizers.Lion(LR, beta_1={b1}, beta_2={b2}OPTIONS)"),
    **_lacking("Keras", _keras_class),  # the newer rows of optimizers/rules/
    "hd_gd": _keras_class("hd_gd", "Keras has no hypergradient descent: the class below is it."),
    "hd_adam": _keras_class("hd_adam", "Keras has no hypergradient Adam: the class below is it."),
    **{key: not_exported(key) for key in NOT_EXPORTED},
}
