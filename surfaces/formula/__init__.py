"""Custom surfaces from a formula in x and y, parsed safely: no eval, no exec, no sympy.

`syntax` holds the whitelist and the tree, `parser` reads text into a tree, `render` writes a tree
as canonical text or LaTeX, `compiler` maps it onto jnp operations, and `surface` builds the
`Surface` (its minima come from `surfaces.minimum_search`).
"""

from surfaces.formula.compiler import Formula, compile_formula
from surfaces.formula.parser import parse
from surfaces.formula.render import canonical, latex
from surfaces.formula.surface import (
    DEFAULT_BOX,
    DEFAULT_FORMULA,
    check_box,
    formula_surface,
    without_float_noise,
)
from surfaces.formula.syntax import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    VARIADIC,
    Binary,
    Call,
    Constant,
    FormulaError,
    Negate,
    Node,
    Number,
    Variable,
)

__all__ = [
    "DEFAULT_BOX",
    "DEFAULT_FORMULA",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "VARIADIC",
    "Binary",
    "Call",
    "Constant",
    "Formula",
    "FormulaError",
    "Negate",
    "Node",
    "Number",
    "Variable",
    "canonical",
    "check_box",
    "compile_formula",
    "formula_surface",
    "latex",
    "parse",
    "without_float_noise",
]
