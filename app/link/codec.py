"""The link codec: the field table (app/link/table.py) walked in each direction.

    from_query(query)    → Decoded(state, problems)   a URL's query string, untrusted
    to_query(state)      → {name: text}               the link: defaults left out, version first
    to_session(state)    → {widget key: value}        what the widgets show
    from_session(values) → PageState                  what the widgets hold

A run keeps its number (and so its colour) through the link: `runs=3` is runs 1, 2 and 3, and
any other set is listed in order, `runs=2,3` or `runs=3,` (one run, numbered 3). Only the
current view's settings go in the link. A bad field never stops a link from opening: it falls
back to its default or is clamped into range, and `Decoded.problems` says which and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from app.link.fields import Context, Field, Point, Values, held, write_query, write_session
from app.link.reader import Problem, QueryReader, single_values
from app.link.table import FIELDS, SURFACE_SEEN
from app.state import Classroom, PageState, default_run, default_state, surface_key
from optimizers.rules import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES, Surface


class Decoded(NamedTuple):
    """A link's state and the fields it could not use as given."""

    state: PageState
    problems: list[Problem]


class Written:
    """A state being written: an attribute of the owned value (a run, the classroom) first,
    then the page's."""

    def __init__(self, page: PageState, owner: Any = None, run_id: int = 0) -> None:
        self.page, self.owner, self.run_id = page, owner, run_id

    def __getitem__(self, attr: str) -> Any:
        if self.owner is not None and hasattr(self.owner, attr):
            return getattr(self.owner, attr)
        return getattr(self.page, attr)

    def child(self, rows: Sequence[Field], owner: Any, run_id: int = 0) -> Context:
        return Written(self.page, owner, run_id)

    def read_all(self) -> dict[str, Any]:
        raise TypeError("a state being written is not read")


Read = Callable[[Field, "Reading"], Any]


class Reading:
    """A state being read: each row's value read on first use (so a row may use any other),
    then an owner's, then `given` (the known lessons, the classroom settings)."""

    def __init__(
        self,
        rows: Sequence[Field],
        read: Read,
        parent: Reading | None = None,
        run_id: int = 0,
        given: Mapping[str, Any] | None = None,
    ) -> None:
        self.rows = {row.attr or row.key: row for row in rows}
        self.read, self.parent, self.run_id = read, parent, run_id
        self.given = given or {}
        self.values: dict[str, Any] = {}

    def __getitem__(self, attr: str) -> Any:
        if attr not in self.values:
            row = self.rows.get(attr)
            if row is None:
                return self.parent[attr] if self.parent else self.given[attr]
            self.values[attr] = self.read(row, self)
        return self.values[attr]

    def child(self, rows: Sequence[Field], owner: Any, run_id: int = 0) -> Context:
        return Reading(rows, self.read, self, run_id)

    def read_all(self) -> dict[str, Any]:
        """Every row's value, by the attribute it fills (rows without one read for their
        problems only)."""
        values = {name: self[name] for name in self.rows}
        return {row.attr: values[name] for name, row in self.rows.items() if row.attr}


def to_query(state: PageState) -> dict[str, str]:
    """The link's query fields: the version, then only what differs from the defaults."""
    return dict(write_query(FIELDS, Written(state)))


def from_query(query: Mapping[str, str | Sequence[str]], lessons: Collection[str] = ()) -> Decoded:
    """The state a link asks for, and every field that could not be used as given."""
    fields, problems = single_values(query)
    reader = QueryReader(fields)

    def read(row: Field, ctx: Reading) -> Any:
        return row.from_query(reader, ctx) if row.applies(ctx) else row.absent(ctx)

    state = PageState(**Reading(FIELDS, read, given={"lessons": lessons}).read_all())
    problems += reader.problems
    for key in fields.keys() - reader.used:
        problems.append(Problem(key, fields[key], _unused_reason(key, state)))
    return Decoded(state, problems)


def to_session(state: PageState) -> dict[str, Any]:
    """Widget values (and the run list, by the runs' numbers) that show `state`."""
    return dict(write_session(FIELDS, Written(state)))


def from_session(
    values: Values, classroom: Classroom | None = None, lesson: str | None = None
) -> PageState:
    """The state the widgets hold (missing or bad values read as their defaults), with the
    classroom settings and lesson the link set (the widgets do not hold them)."""
    given = {"classroom": classroom or Classroom(), "lesson": lesson}

    def read(row: Field, ctx: Reading) -> Any:
        return row.from_session(values, ctx) if held(row) else given.get(row.attr or "")

    return PageState(**Reading(FIELDS, read).read_all())


# Fields a state does not use.

_RUN_FIELD = re.compile(r"run(\d{1,9})_(.+)")  # longer numbers: an unknown parameter


def _surface_only() -> dict[str, str]:
    """The fields the query has only with one surface: {key: that surface}."""
    only: dict[str, str] = {}
    for row in FIELDS:
        if row.surface:
            keys = row.keys if isinstance(row, Point) else (row.key,)
            only |= dict.fromkeys(keys, row.surface)
    return only


def _unused_reason(key: str, state: PageState) -> str:
    """Why a field the state does not use was ignored."""
    if match := _RUN_FIELD.fullmatch(key):
        run_id = int(match.group(1))
        run = next((run for run in state.runs if run.run_id == run_id), None)
        if run is None:
            listed = ", ".join(str(run.run_id) for run in state.runs)
            return f"there is no run {run_id} (this link has runs {listed}); ignored"
        return (
            f"not a setting of run {run_id} ({OPTIMIZERS[run.optimizer].name}, "
            f"{SCHEDULES[run.schedule].name} schedule); ignored"
        )
    shown = SURFACES[state.surface].name if state.surface in SURFACES else "your own surface"
    for surface in SURFACES.values():
        if any(key == surface_key(surface.key, p.name) for p in surface.params):
            return f"a parameter of {surface.name}, not of {shown}; ignored"
    if only := _surface_only().get(key):
        return f"used only with surface={only}; ignored"
    return "unknown parameter; ignored"


def key_list(run_ids: Sequence[int], surface: Surface) -> list[str]:
    """Every value key the page can show for these runs and surface (buttons excluded): the
    widgets' keys of every optimizer's and schedule's parameters, each once."""
    page = replace(default_state(), surface=surface.key, surface_params={})
    if surface.key in SURFACES:
        page = default_state(surface.key)
    keys: dict[str, None] = {}
    rules, schedules = list(OPTIMIZERS), list(SCHEDULES)
    for k in range(max(len(rules), len(schedules))):
        runs = tuple(
            default_run(i, rules[k % len(rules)], schedules[k % len(schedules)]) for i in run_ids
        )
        keys |= dict.fromkeys(to_session(replace(page, runs=runs)))
    return [key for key in keys if key not in {SURFACE_SEEN, "run_ids"}]
