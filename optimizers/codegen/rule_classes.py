"""A written-out `Rule` rendered as a torch.optim.Optimizer or a keras.optimizers.Optimizer:
the rule's lines of maths are the same in both, only the class around them differs."""

from __future__ import annotations

from optimizers.codegen.layout import bracketed
from optimizers.codegen.rule_text import STEP_SIZE_RULES, Rule
from optimizers.codegen.rule_text_free import LR_FREE_RULES

RULES: dict[str, Rule] = {**STEP_SIZE_RULES, **LR_FREE_RULES}

# How each framework spells the format fields of a rule's lines (see `rule_text`). √t is rounded
# to float32 as optax takes it (torch's own float32 sqrt can be an ulp away from it).
TORCH_FIELDS = {
    "m": "torch",
    "where": "torch.where",
    "root_t": "torch.tensor(t**0.5, dtype=torch.float32).item()",
    "tensor": "torch.tensor",
}
KERAS_FIELDS = {
    "m": "ops",
    "where": "ops.where",
    "root_t": 'ops.cast(ops.sqrt(ops.cast(t, "float32")), "float64")',
    "tensor": "ops.convert_to_tensor",
}


def torch_rule_class(rule: Rule) -> list[str]:
    """`class <name>(torch.optim.Optimizer)` whose step() applies w -= lr · d."""
    hyper = ", ".join(rule.hyper)
    defaults = [f'"{h}": {h}' for h in ("lr", *rule.hyper)]
    lines = [
        f"class {rule.name}(torch.optim.Optimizer):",
        f'    """{rule.doc}"""',
        "",
        f"    def __init__(self, params, lr{', ' + hyper if hyper else ''}):",
        *bracketed("        ", "defaults = ", defaults, "{}"),
        "        super().__init__(params, defaults)",
        "",
        "    @torch.no_grad()",
        f"    def step(self{''.join(f', {name}' for name in rule.inputs)}):",
        "        for group in self.param_groups:",
    ]
    if rule.hyper:
        lookups = [f'group["{h}"]' for h in rule.hyper]
        lines += bracketed("            ", f"{hyper} = ", lookups, "()", bare=True)
    lines += ['            for w in group["params"]:', "                g = w.grad"]
    state = rule.state + rule.vectors
    if state or rule.uses_step:
        lines.append("                state = self.state[w]")
        zeros = [f"{s}=torch.zeros_like(w)" for s in rule.state]
        zeros += [f"{s}=torch.zeros({rule.vector_size}, dtype=w.dtype)" for s in rule.vectors]
        counter = ["t=0"] if rule.uses_step else []
        init = ", ".join(counter + zeros)
        lines += ["                if not state:", f"                    state.update({init})"]
        if rule.uses_step:
            lines.append('                state["t"] += 1')
        names = (("t",) if rule.uses_step else ()) + state
        lookups = [f'state["{s}"]' for s in names]
        lines += bracketed("                ", f"{', '.join(names)} = ", lookups, "()", bare=True)
    body = [line.format(**TORCH_FIELDS) for line in rule.body]
    if rule.name == "RAdam":  # t is a Python int here, so ρ_t is a float
        body = [b.replace("torch.sqrt(abs(", "math.sqrt(abs(") for b in body]
        body[-1] = "d = adaptive if rho >= threshold else m_hat"
    lines += [f"                {b}" for b in body]
    if state:
        lines.append(f"                state.update({', '.join(f'{s}={s}' for s in state)})")
    lines.append('                w -= group["lr"] * d')
    return lines


def keras_rule_class(rule: Rule) -> list[str]:
    """`class <name>(keras.optimizers.Optimizer)` whose update_step() applies w -= lr · d."""
    hyper = ", ".join(rule.hyper)
    lines = [
        f"class {rule.name}(keras.optimizers.Optimizer):",
        f'    """{rule.doc}"""',
        "",
        f"    def __init__(self, learning_rate{', ' + hyper if hyper else ''}, **options):",
        "        super().__init__(learning_rate, **options)",
    ]
    if rule.hyper:
        lines.append(f"        self.{', self.'.join(rule.hyper)} = {hyper}")
    lines += [f"        self.{name} = None" for name in rule.inputs]
    state = rule.state + rule.vectors
    if state:
        lines += [
            "",
            "    def build(self, variables):",
            "        super().build(variables)",
            "        (w,) = variables",
        ]
        lines += [
            f'        self.{s} = self.add_variable_from_reference(w, "{s}")' for s in rule.state
        ]
        lines += [
            f"        self.{s} = self.add_variable(({rule.vector_size},), dtype=w.dtype,"
            f' name="{s}")'
            for s in rule.vectors
        ]
    lines += ["", "    def update_step(self, g, w, lr):"]
    given = rule.hyper + rule.inputs
    if given:
        lines.append(f"        {', '.join(given)} = self.{', self.'.join(given)}")
    if rule.uses_step:
        lines.append('        t = ops.cast(self.iterations + 1, "float64")')
    if rule.state:
        lines.append(f"        {', '.join(rule.state)} = self.{', self.'.join(rule.state)}")
    if rule.vectors:  # as tensors: ops.clip and others refuse a Variable as a bound
        variables = ", ".join(f"self.{s}" for s in rule.vectors)
        lines.append(
            f"        {', '.join(rule.vectors)} = (ops.convert_to_tensor(x) for x in ({variables}))"
        )
    lines += [f"        {line.format(**KERAS_FIELDS)}" for line in rule.body]
    lines += [f"        self.assign(self.{s}, {s})" for s in state]
    lines.append("        self.assign_sub(w, lr * d)")
    return lines
