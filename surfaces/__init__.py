"""Loss surfaces: one registry table, `SURFACES`, read by the engine, the UI and the tests."""

from common.params import ParamSpec
from surfaces.base import CriticalPoint, Surface
from surfaces.registry import SURFACES, TAGS, get_surface, regression_data

__all__ = [
    "SURFACES",
    "TAGS",
    "CriticalPoint",
    "ParamSpec",
    "Surface",
    "get_surface",
    "regression_data",
]
