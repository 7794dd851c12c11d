"""The loss surfaces, one `Surface` each, in `SURFACES` (most didactic first).

The rows live with their family: `surfaces.teaching` (built to show one behaviour),
`surfaces.regression` (losses on seeded data) and `surfaces.classic` (test functions of the
literature). Every `fn(w, params)` is a pure jnp function of w = (x, y), traceable in its
parameters. The known stationary points are closed forms, roots of a 1-D profile, or float64
Newton iterates stored to full precision; local maxima are left out.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from common.registry import Registry
from surfaces import classic, regression, teaching
from surfaces.base import Surface

TAGS = frozenset(
    {
        "quadratic",
        "convex",
        "ill-conditioned",
        "valley",
        "saddle",
        "unbounded",
        "multimodal",
        "plateau",
        "cliff",
        "nonsmooth",
        "regression",
        "classic",
    }
)

SURFACES: Registry[Surface] = Registry(
    "surface",
    teaching.BOWL,
    teaching.QUADRATIC,
    classic.ROSENBROCK,
    teaching.SADDLE,
    teaching.MONKEY_SADDLE,
    teaching.DOUBLE_WELL,
    teaching.PLATEAU,
    teaching.CLIFF,
    regression.LINREG,
    regression.LOGREG,
    classic.HIMMELBLAU,
    classic.CAMEL,
    classic.STYBLINSKI_TANG,
    classic.RASTRIGIN,
    classic.ACKLEY,
    classic.BEALE,
    classic.BOOTH,
    classic.MATYAS,
    classic.GOLDSTEIN_PRICE,
)


def get_surface(key: str) -> Surface:
    """The surface registered under `key`; ValueError listing the valid keys otherwise."""
    return SURFACES.lookup(key)


def regression_data(
    key: str, params: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The data set (x, y) behind regression surface `key` for these parameter values, as used by
    its loss (x standardised when asked)."""
    surface = get_surface(key)
    if key not in regression.DATA_SETS:
        raise ValueError(
            f"surface {key!r} has no data set; regression surfaces: "
            f"{', '.join(regression.DATA_SETS)}"
        )
    return regression.data_set(key, surface.resolve(params))
