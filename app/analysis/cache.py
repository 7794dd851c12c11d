"""The analyses, cached per configuration: hashable arguments in, records of numpy arrays out."""

from __future__ import annotations

import streamlit as st

from app import compute
from optimizers import analysis


@st.cache_data(
    show_spinner="Sweeping the learning rate…", max_entries=32, hash_funcs=compute.KEY_HASH
)
def cached_sweep(key: compute.ConfigKey, low: float, high: float, count: int) -> analysis.Sweep:
    rates = analysis.log_rates(low, high, count)
    with compute.heavy_slot():
        return analysis.lr_sweep(compute.config_from_key(key), rates, compute.stop_requested)


@st.cache_data(show_spinner="Mapping stability…", max_entries=16, hash_funcs=compute.KEY_HASH)
def cached_map(
    key: compute.ConfigKey, low: float, high: float, cells: int, axis: str
) -> analysis.StabilityMap:
    config = compute.config_from_key(key)
    values = analysis.SECOND_AXES.lookup(axis).values(config, cells)
    rates = analysis.log_rates(low, high, cells)
    with compute.heavy_slot():
        return analysis.stability_map(config, rates, axis, values, compute.stop_requested)


@st.cache_data(show_spinner="Running the range test…", max_entries=32, hash_funcs=compute.KEY_HASH)
def cached_range_test(
    key: compute.ConfigKey, low: float, high: float, steps: int
) -> analysis.RangeTest:
    with compute.heavy_slot():
        return analysis.range_test(compute.config_from_key(key), low, high, steps)


@st.cache_data(show_spinner="Finding basins…", max_entries=16, hash_funcs=compute.KEY_HASH)
def cached_basins(key: compute.ConfigKey, resolution: int) -> analysis.BasinMap:
    config = compute.config_from_key(key)
    with compute.heavy_slot():
        return analysis.basin_map(config, resolution, cancelled=compute.stop_requested)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_curvature(
    surface: compute.SurfaceRef, params: compute.Items, start: tuple[float, float]
) -> analysis.CurvatureReport:
    return analysis.curvature_report(compute.surface_of(surface), dict(params), start)
