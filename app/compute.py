"""Cached calls into surfaces/ and optimizers/: hashable arguments in, numpy out.

st.cache_data hashes its arguments and pickles its results, so every function here takes a
registry key and tuples of (name, value) pairs, never a jax array or a Surface. A RunConfig
travels as `config_key(config)` and is rebuilt inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import streamlit as st

from app import figures
from optimizers import report
from optimizers.curvature import CriticalRate
from optimizers.curvature import critical_rate as _critical_rate
from optimizers.engine import RunConfig, Trajectory
from optimizers.engine import run as _run
from surfaces import get_surface

Items = tuple[tuple[str, float], ...]
ConfigKey = tuple[tuple[str, Any], ...]

_MAPPINGS = frozenset(
    f.name for f in fields(RunConfig) if f.name.endswith(("params", "hyper", "warmup", "modifiers"))
)


def items(mapping: Mapping[str, float]) -> Items:
    return tuple(sorted((str(k), float(v)) for k, v in mapping.items()))


def config_key(config: RunConfig) -> ConfigKey:
    """A hashable copy of `config` (its tolerances must be the defaults; surface by key)."""
    if not isinstance(config.surface, str):
        raise ValueError("a cached run needs a registry surface key")
    key = []
    for f in fields(RunConfig):
        if f.name == "tol":
            continue
        value = getattr(config, f.name)
        if f.name in _MAPPINGS:
            value = items(value)
        elif f.name == "start" and value is not None:
            value = tuple(float(v) for v in value)
        key.append((f.name, value))
    return tuple(key)


def config_from_key(key: ConfigKey) -> RunConfig:
    values = {name: dict(value) if name in _MAPPINGS else value for name, value in key}
    return RunConfig(**values)


@st.cache_data(show_spinner=False, max_entries=256)
def run(key: ConfigKey) -> tuple[Trajectory, str]:
    """The trajectory of one configuration and its status sentence."""
    config = config_from_key(key)
    trajectory = _run(config)
    return trajectory, report.describe(trajectory, config)


@st.cache_data(show_spinner=False, max_entries=64)
def surface_grid(surface: str, params: Items, n: int = 160):
    """f on an n × n grid over the surface's box (surfaces.grid.Grid of numpy arrays)."""
    from surfaces.grid import surface_grid as grid

    return grid(get_surface(surface), dict(params), n)


@st.cache_data(show_spinner=False, max_entries=64)
def gradient_field(surface: str, params: Items, n: int = 21):
    """(X, Y, U, V): the gradient on a coarse grid, for the arrow overlay."""
    from surfaces.grid import gradient_field as field

    return field(get_surface(surface), dict(params), n)


@st.cache_data(show_spinner=False, max_entries=512)
def critical_rate(
    surface: str, optimizer: str, start: tuple[float, float], hyper: Items, params: Items
) -> CriticalRate | None:
    """The rule's stability limit on η from the curvature at the start (None: no such limit)."""
    return _critical_rate(get_surface(surface), optimizer, start, dict(hyper), dict(params))


# Figures: cached as shared objects (st.cache_resource; nothing mutates them), so a rerun that
# leaves the runs alone (the inspector's step, a toggle) skips rebuilding the animation.

RunsKey = tuple[tuple[ConfigKey, str, str], ...]  # (configuration, legend label, colour) per run


def _views(runs: RunsKey) -> list[figures.RunView]:
    return [figures.RunView(label, color, *run(key)) for key, label, color in runs]


@st.cache_resource(show_spinner=False, max_entries=16)
def surface_layer(surface: str, params: Items) -> figures.SurfaceLayer:
    """The filled contour and its raster copy, shared by every figure of this surface."""
    minimum = get_surface(surface).minimum_value(dict(params))
    return figures.surface_layer(surface_grid(surface, params), minimum)


@st.cache_resource(show_spinner=False, max_entries=16)
def contour_figure(surface: str, params: Items, runs: RunsKey, show_field: bool):
    the_surface = get_surface(surface)
    field = gradient_field(surface, params) if show_field else None
    return figures.contour_figure(
        surface_grid(surface, params),
        the_surface,
        the_surface.critical_points(dict(params)),
        _views(runs),
        field=field,
        layer=surface_layer(surface, params),
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def metrics_figure(runs: RunsKey, step: int):
    return figures.metrics_figure(_views(runs), step=step)


@st.cache_resource(show_spinner=False, max_entries=4)
def surface3d_figure(surface: str, params: Items, runs: RunsKey):
    return figures.surface3d_figure(surface_grid(surface, params), _views(runs))
