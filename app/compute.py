"""Cached calls into surfaces/ and optimizers/: hashable arguments in, numpy out.

st.cache_data hashes its arguments and pickles its results, so every function here takes a
surface reference (`SurfaceRef`: a registry key, or the recipe of a custom surface) and tuples
of (name, value) pairs, never a jax array or a Surface. A RunConfig travels as
`config_key(config)` and is rebuilt inside; the caches that take one hash it by its digest
(`hash_funcs=KEY_HASH`), once per key, not field by field at every cached call.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSessionState
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from app import figures
from app.custom import surface_from_recipe
from optimizers import analysis, report
from optimizers.curvature import CriticalRate
from optimizers.curvature import critical_rate as _critical_rate
from optimizers.engine import MAX_STEPS, CancelledError, RunConfig, Trajectory
from optimizers.engine import run as _run
from optimizers.sharpness import Sharpness, path_sharpness
from surfaces import Surface, get_surface

Items = tuple[tuple[str, float], ...]
SurfaceRef = str | tuple[Any, ...]  # a registry key, or a custom surface's recipe

_MAPPINGS = frozenset(
    f.name for f in fields(RunConfig) if f.name.endswith(("params", "hyper", "warmup", "modifiers"))
)


class ConfigKey(tuple[tuple[str, Any], ...]):
    """A RunConfig's fields as (name, value) pairs of plain values (see `config_key`)."""

    @functools.cached_property
    def digest(self) -> str:
        """A hash of the pairs' repr: exact for the str, int, float and tuple values they hold."""
        return hashlib.blake2b(repr(tuple(self)).encode(), digest_size=16).hexdigest()


KEY_HASH: dict[Any, Callable[[ConfigKey], str]] = {ConfigKey: lambda key: key.digest}


def items(mapping: Mapping[str, float]) -> Items:
    return tuple(sorted((str(k), float(v)) for k, v in mapping.items()))


def ref(surface: Surface | str) -> SurfaceRef:
    """How a cache refers to `surface`: its registry key, or the recipe that rebuilds it."""
    if isinstance(surface, str):
        return surface
    return surface.recipe if surface.recipe is not None else surface.key


def surface_of(reference: SurfaceRef) -> Surface:
    return get_surface(reference) if isinstance(reference, str) else surface_from_recipe(reference)


def config_key(config: RunConfig) -> ConfigKey:
    """A hashable copy of `config` (its tolerances must be the defaults; surface by `ref`)."""
    key = []
    for f in fields(RunConfig):
        if f.name == "tol":
            continue
        value = getattr(config, f.name)
        if f.name == "surface":
            value = ref(value)
        elif f.name in _MAPPINGS:
            value = items(value)
        elif f.name == "start" and value is not None:
            value = tuple(float(v) for v in value)
        key.append((f.name, value))
    return ConfigKey(key)


def config_from_key(key: ConfigKey) -> RunConfig:
    values: dict[str, Any] = {name: dict(v) if name in _MAPPINGS else v for name, v in key}
    values["surface"] = key_surface(key)
    return RunConfig(**values)


def key_surface(key: ConfigKey) -> Surface:
    """The surface a configuration key runs on."""
    return surface_of(dict(key)["surface"])


# Long computations: asked between chunks whether the session still wants them, and one at a
# time across sessions, so that a heavy request neither outlives its tab nor starves the others.

HEAVY_AT_ONCE = 1  # heavy computations running at once in this process (the machine has 2 cores)
_HEAVY = threading.BoundedSemaphore(HEAVY_AT_ONCE)
WAIT_POLL_SECONDS = 0.1
# Between two chunks, a heavy computation gives way to other sessions' script runs (a light
# rerun is Python, and XLA spreads a chunk over every core): it pauses while one is in progress,
# at most GIVE_WAY_SECONDS per chunk, so that a steady light load cannot stall it.
GIVE_WAY_SECONDS = 0.5
GIVE_WAY_POLL_SECONDS = 0.005
_HEAVY_SESSIONS: set[str] = set()  # sessions in `heavy_slot`, computing or waiting for it


def _stop_or_rerun() -> bool:
    """Raise Streamlit's own stop or rerun when the session asked for one (a closed tab, a
    newer rerun); False otherwise (and outside a script run)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    request = None if requests is None else requests.on_scriptrunner_yield()
    if request is None:
        return False
    if request.type == ScriptRequestType.RERUN:
        raise RerunException(request.rerun_data)
    raise StopException()


def _light_runs_elsewhere() -> bool:
    """Whether a session other than this one, and not in `heavy_slot`, is running its script
    (Streamlit's session manager; False outside a server, or if its internals change)."""
    if not Runtime.exists():
        return False
    ctx = get_script_run_ctx(suppress_warning=True)
    own = getattr(ctx, "session_id", None)
    manager = getattr(Runtime.instance(), "_session_mgr", None)
    sessions = manager.list_active_sessions() if manager is not None else []
    return any(
        info.session.id != own
        and info.session.id not in _HEAVY_SESSIONS
        and getattr(info.session, "_state", None) == AppSessionState.APP_IS_RUNNING
        for info in sessions
    )


def give_way(
    others_running: Callable[[], bool] = _light_runs_elsewhere,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> float:
    """Pause while `others_running()`, polling every GIVE_WAY_POLL_SECONDS, for at most
    GIVE_WAY_SECONDS; the seconds paused."""
    start = clock()
    while clock() - start < GIVE_WAY_SECONDS and others_running():
        pause(GIVE_WAY_POLL_SECONDS)
    return clock() - start


def stop_requested() -> bool:
    """Between two chunks of a computation: first give way to other sessions' runs
    (`give_way`), then raise Streamlit's own stop or rerun when the session asked for one, so
    that the work stops there and, the cached function having raised, nothing half-done is
    cached; False otherwise (and outside a script run)."""
    give_way()
    return _stop_or_rerun()


@contextmanager
def heavy_slot(cancelled: Callable[[], bool] = _stop_or_rerun) -> Iterator[None]:
    """Hold one of HEAVY_AT_ONCE slots for a heavy computation; while waiting for one, ask
    `cancelled` every WAIT_POLL_SECONDS (CancelledError when it says stop). The session counts
    as heavy meanwhile: others' computations do not give way to it."""
    ctx = get_script_run_ctx(suppress_warning=True)
    session = getattr(ctx, "session_id", None)
    if session is not None:
        _HEAVY_SESSIONS.add(session)
    try:
        while not _HEAVY.acquire(timeout=WAIT_POLL_SECONDS):
            if cancelled():
                raise CancelledError("stopped while waiting for a free slot")
        try:
            yield
        finally:
            _HEAVY.release()
    finally:
        _HEAVY_SESSIONS.discard(session)


# Trajectories, cached within a byte budget: each cache's entry count is its share of
# TRAJECTORY_CACHE_BYTES over the size of its longest trajectory (w, L, ∇L, ‖∇L‖, η, Δw, the
# effective rate and up to three state vectors: at most 20 float64 per step).
TRAJECTORY_CACHE_BYTES = 128 * 2**20
STEP_BYTES = 20 * 8
LONG_RUN = 2_000  # steps above which a run goes to the cache of long runs


def run(key: ConfigKey) -> tuple[Trajectory, str]:
    """The trajectory of one configuration and its status sentence."""
    return (_long_run if dict(key)["steps"] > LONG_RUN else _short_run)(key)


def _trajectory_and_sentence(key: ConfigKey) -> tuple[Trajectory, str]:
    config = config_from_key(key)
    trajectory = _run(config)
    return trajectory, report.describe(trajectory, config)


@st.cache_data(
    show_spinner=False,
    max_entries=TRAJECTORY_CACHE_BYTES // 2 // (STEP_BYTES * LONG_RUN),
    hash_funcs=KEY_HASH,
)
def _short_run(key: ConfigKey) -> tuple[Trajectory, str]:
    return _trajectory_and_sentence(key)


@st.cache_data(
    show_spinner=False,
    max_entries=TRAJECTORY_CACHE_BYTES // 2 // (STEP_BYTES * MAX_STEPS),
    hash_funcs=KEY_HASH,
)
def _long_run(key: ConfigKey) -> tuple[Trajectory, str]:
    return _trajectory_and_sentence(key)


@st.cache_data(show_spinner=False, max_entries=64)
def surface_grid(surface: SurfaceRef, params: Items, n: int = 160):
    """f on an n × n grid over the surface's box (surfaces.grid.Grid of numpy arrays)."""
    from surfaces.grid import surface_grid as grid

    return grid(surface_of(surface), dict(params), n)


@st.cache_data(show_spinner=False, max_entries=64)
def gradient_field(surface: SurfaceRef, params: Items, n: int = 21):
    """(X, Y, U, V): the gradient on a coarse grid, for the arrow overlay."""
    from surfaces.grid import gradient_field as field

    return field(surface_of(surface), dict(params), n)


@st.cache_data(show_spinner=False, max_entries=512)
def critical_rate(
    surface: SurfaceRef, optimizer: str, start: tuple[float, float], hyper: Items, params: Items
) -> CriticalRate | None:
    """The rule's stability limit on η from the curvature at the start (None: no such limit)."""
    return _critical_rate(surface_of(surface), optimizer, start, dict(hyper), dict(params))


# Figures: cached as shared objects (st.cache_resource; nothing mutates them), so a rerun that
# leaves the runs alone (the inspector's step, a toggle) skips rebuilding the animation.

RunsKey = tuple[tuple[ConfigKey, str, str], ...]  # (configuration, legend label, colour) per run

# Figure caches bounded by bytes: each holds what fits in FIGURE_CACHE_BYTES at its entries'
# largest size (the JSON of a figure of MAX_RUNS × MAX_STEPS runs, arrays as base64 specs, about
# what it holds in memory; measured 0.16 / 2.2 / 0.65 / 0.87 MB, checked by
# tests/test_figure_cache.py), so max_entries = ⌊FIGURE_CACHE_BYTES / FIGURE_ENTRY_BYTES⌋.
FIGURE_CACHE_BYTES = 32 * 2**20  # per figure cache: 128 MiB for the four
FIGURE_ENTRY_BYTES = {
    "surface_layer": 256 * 2**10,
    "contour_figure": 4 * 2**20,
    "metrics_spec": 1 * 2**20,
    "surface3d_figure": 2 * 2**20,
}
FIGURE_ENTRIES = {name: FIGURE_CACHE_BYTES // size for name, size in FIGURE_ENTRY_BYTES.items()}


def _views(runs: RunsKey) -> list[figures.RunView]:
    return [figures.RunView(label, color, *run(key)) for key, label, color in runs]


@st.cache_resource(show_spinner=False, max_entries=FIGURE_ENTRIES["surface_layer"])
def surface_layer(surface: SurfaceRef, params: Items) -> figures.SurfaceLayer:
    """The filled contour and its raster copy, shared by every figure of this surface."""
    minimum = surface_of(surface).minimum_value(dict(params))
    return figures.surface_layer(surface_grid(surface, params), minimum)


@st.cache_resource(
    show_spinner=False, max_entries=FIGURE_ENTRIES["contour_figure"], hash_funcs=KEY_HASH
)
def contour_figure(surface: SurfaceRef, params: Items, runs: RunsKey, show_field: bool):
    the_surface = surface_of(surface)
    field = gradient_field(surface, params) if show_field else None
    return figures.contour_figure(
        surface_grid(surface, params),
        the_surface,
        the_surface.critical_points(dict(params)),
        _views(runs),
        field=field,
        layer=surface_layer(surface, params),
    )


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=KEY_HASH)
def critical(key: ConfigKey) -> analysis.Threshold | None:
    """The rule's critical rate from the Hessian of f + (λ₂/2)‖w‖² at the run's start."""
    return analysis.threshold(config_from_key(key))


def threshold(config: RunConfig) -> figures.Threshold | None:
    """The run's stability limit on η from the curvature at its start, labelled with its
    formula: "2/λ_max = 0.2" on a quadratic, "2/λ_max ≈ 0.31 at the start" elsewhere; None
    where the rule has none (or the curvature cannot be computed)."""
    try:
        found = critical(config_key(config))
    except ValueError:
        return None
    if found is None or not math.isfinite(found.value) or found.value <= 0:
        return None
    exact = f"{found.formula} = {found.value:.3g}"
    label = exact if found.exact else f"{found.formula} ≈ {found.value:.3g} at the start"
    return figures.Threshold(label, found.value)


# Each entry ≤ 0.25 MB (a limit per step).
@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=KEY_HASH)
def sharpness(key: ConfigKey) -> Sharpness:
    """λ_max of the Hessian along the run's path, its rule's limit c/η_k and the crossing."""
    return path_sharpness(run(key)[0], config_from_key(key))


@st.cache_resource(
    show_spinner=False, max_entries=FIGURE_ENTRIES["metrics_spec"], hash_funcs=KEY_HASH
)
def metrics_spec(runs: RunsKey, step: int) -> figures.FigureSpec:
    """Loss above the surface's f* (at its parameters), η_k with each run's stability limit
    dashed, the gradient norm and the sharpness (see `figures.metrics_spec`), as plain dicts:
    the live view sends them as they are (a go.Figure would cost more to build than them)."""
    configs = [config_from_key(key) for key, _, _ in runs]
    minimum = key_surface(runs[0][0]).minimum_value(configs[0].surface_params) if runs else None
    thresholds = [threshold(config) for config in configs]
    return figures.metrics_spec(
        _views(runs),
        step=step,
        minimum=minimum,
        thresholds=thresholds,
        sharpness=[sharpness(key) for key, _, _ in runs],
    )


@st.cache_resource(
    show_spinner=False, max_entries=FIGURE_ENTRIES["surface3d_figure"], hash_funcs=KEY_HASH
)
def surface3d_figure(surface: SurfaceRef, params: Items, runs: RunsKey):
    return figures.surface3d_figure(surface_grid(surface, params), _views(runs))
