"""Loss surfaces: one registry table, `SURFACES`, read by the engine, the UI and the tests."""

import jax

# Float64 throughout: divergence then shows as growth rather than an instant inf.
jax.config.update("jax_enable_x64", True)

from surfaces.base import CriticalPoint, Surface  # noqa: E402
from surfaces.params import ParamSpec  # noqa: E402
from surfaces.registry import SURFACES, TAGS, get_surface, regression_data  # noqa: E402

__all__ = [
    "SURFACES",
    "TAGS",
    "CriticalPoint",
    "ParamSpec",
    "Surface",
    "get_surface",
    "regression_data",
]
