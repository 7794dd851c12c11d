"""The kinds of row in the link's field table (app/link/table.py) and the contexts they are
read and written in.

Every row knows its key (a query field and the widget's session key), its classroom control
group, the attribute of the state it fills, and four conversions, one per direction:

    to_query(ctx)             → (key, text) pairs     what the link says (defaults left out)
    from_query(reader, ctx)   → value                 an untrusted link, problems recorded
    to_session(ctx)           → (key, value) pairs    what the widgets show
    from_session(values, ctx) → value                 what the widgets hold, coerced

`ctx[attr]` is another attribute of the same state (a run's own first, then the page's):
the surface a parameter belongs to, the optimizer a hyperparameter belongs to. While reading,
the row that fills `attr` is read on first use, so a row may depend on any other row.
Rows restricted to one `surface` (the formula, the data) are in the query only with it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeGuard

from app.link.reader import Problem, QueryReader
from app.state import CONTROL_GROUPS, TOGGLE_SPEC, Kind, coerce, widget_kind, widget_value
from surfaces import ParamSpec

Pairs = Iterator[tuple[str, Any]]
Values = Mapping[Any, Any]  # widget values by key: the session state (keys str | int) or a dict


class Context(Protocol):
    """The state a row is read or written in: its attributes by name, and the run's number
    (0 outside a run)."""

    @property
    def run_id(self) -> int: ...

    def __getitem__(self, attr: str) -> Any: ...

    def child(self, rows: Sequence[Field], owner: Any, run_id: int = 0) -> Context:
        """The context of an owned value (a run, the classroom) with its own `rows`."""
        ...

    def read_all(self) -> dict[str, Any]:
        """Every row's value by attribute (reading contexts only)."""
        ...


def number_text(value: float) -> str:
    """The shortest text that reads back as exactly `value` ("300", "0.05", "1e-05")."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def session_number(values: Values, key: str, spec: ParamSpec, kind: Kind) -> Any:
    """The widget value under `key` coerced to `spec` as widget `kind` holds it."""
    return coerce(values.get(key, spec.default), spec.default, spec.low, spec.high, kind)


@dataclass(frozen=True)
class Field(ABC):
    """A row of the query only (a `WidgetField` is also in the session): its `key` (`run{i}_…`
    in a run's rows; for several parameters their keys' pattern), the classroom control `group`,
    the state's `attr` it fills (None: the link's alone), `surface` (only with that surface)."""

    key: str
    group: str
    attr: str | None
    surface: str | None = None

    def __post_init__(self) -> None:
        if self.group not in CONTROL_GROUPS and self.group != "link":
            raise ValueError(f"{self.key}: unknown control group {self.group!r}")

    def applies(self, ctx: Context) -> bool:
        """Whether the query has this row for the state's surface."""
        return self.surface is None or ctx["surface"] == self.surface

    def absent(self, ctx: Context) -> Any:
        """The value where the query cannot have the row (another surface): an empty query's."""
        return self.from_query(QueryReader({}), ctx)

    # The conversions, as the module's docstring lists them.
    @abstractmethod
    def to_query(self, ctx: Context) -> Pairs: ...

    @abstractmethod
    def from_query(self, reader: QueryReader, ctx: Context) -> Any: ...

    def value(self, ctx: Context) -> Any:
        assert self.attr is not None
        return ctx[self.attr]


@dataclass(frozen=True)
class WidgetField(Field):
    """A row a widget holds, also read and written in the session (unless `session` is False:
    the lesson, which the link sets and no widget shows)."""

    session: bool = True

    @abstractmethod
    def to_session(self, ctx: Context) -> Pairs: ...

    @abstractmethod
    def from_session(self, values: Values, ctx: Context) -> Any: ...


def held(row: Field) -> TypeGuard[WidgetField]:
    """Whether the widgets hold `row` (the session has its value)."""
    return isinstance(row, WidgetField) and row.session


@dataclass(frozen=True)
class Number(WidgetField):
    """One number as its widget holds it (bool for a toggle, int for a count, else float):
    `spec` (a toggle unless given), or `spec_of` the context (a run's η₀ by its optimizer), at
    most `cap` (another attribute), also written to the session keys `mirrors` (an η₀ slider
    beside its entry)."""

    spec: ParamSpec = TOGGLE_SPEC
    spec_of: Callable[[Context], ParamSpec] | None = None
    cap: str | None = None
    mirrors: tuple[str, ...] = ()

    def resolve(self, ctx: Context) -> ParamSpec:
        return self.spec_of(ctx) if self.spec_of else self.spec

    def keys(self, ctx: Context) -> tuple[str, ...]:
        return tuple(key.format(i=ctx.run_id) for key in (self.key, *self.mirrors))

    def absent(self, ctx: Context) -> Any:
        spec = self.resolve(ctx)
        return widget_value(spec, spec.default)

    def to_query(self, ctx: Context) -> Pairs:
        if self.value(ctx) != self.absent(ctx):
            yield self.keys(ctx)[0], number_text(self.value(ctx))

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        spec = self.resolve(ctx)
        value = widget_value(spec, reader.number(self.keys(ctx)[0], spec))
        return min(value, ctx[self.cap]) if self.cap else value

    def to_session(self, ctx: Context) -> Pairs:
        for key in self.keys(ctx):
            yield key, self.value(ctx)

    def from_session(self, values: Values, ctx: Context) -> Any:
        spec = self.resolve(ctx)
        kind = widget_kind(spec)
        if self.cap:
            spec = replace(spec, high=min(spec.high, ctx[self.cap]))
        return session_number(values, self.keys(ctx)[0], spec, kind)


@dataclass(frozen=True)
class Choice(WidgetField):
    """One of `options` (a function of the context), `default` where absent or unknown;
    `optional`: the state holds None for "" (no lesson); `shown`: whether the query has it
    for this state (the map's axis only in the map view)."""

    options: Callable[[Context], Collection[str]] = lambda ctx: ()
    default: Callable[[Context], str] = lambda ctx: ""
    what: str = ""
    optional: bool = False
    shown: Callable[[Context], bool] = lambda ctx: True

    def text(self, ctx: Context) -> str:
        return self.value(ctx) or "" if self.optional else self.value(ctx)

    def to_query(self, ctx: Context) -> Pairs:
        if self.shown(ctx) and self.text(ctx) != self.default(ctx):
            yield self.key.format(i=ctx.run_id), self.text(ctx)

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        key = self.key.format(i=ctx.run_id)
        value = reader.choice(key, self.options(ctx), self.default(ctx), self.what)
        return value or None if self.optional else value

    def to_session(self, ctx: Context) -> Pairs:
        if self.text(ctx):
            yield self.key.format(i=ctx.run_id), self.text(ctx)

    def from_session(self, values: Values, ctx: Context) -> Any:
        value = values.get(self.key.format(i=ctx.run_id))
        options = self.options(ctx)
        return value if isinstance(value, str) and value in options else self.default(ctx)


@dataclass(frozen=True)
class Params(WidgetField):
    """A registry row's parameters as {name: float}: `specs` (a function of the context),
    each under `key_of(ctx, name)`, drawn as widget `kind`; `shown(ctx, name)`: whether the
    query has it (an analysis setting only in its view). `key` names the pattern."""

    specs: Callable[[Context], Sequence[ParamSpec]] = lambda ctx: ()
    key_of: Callable[[Context, str], str] = lambda ctx, name: name
    kind: Callable[[ParamSpec], Kind] = widget_kind
    shown: Callable[[Context, str], bool] = lambda ctx, name: True

    def to_query(self, ctx: Context) -> Pairs:
        specs = {spec.name: spec for spec in self.specs(ctx)}
        for name, value in self.value(ctx).items():  # in the state's order
            if self.shown(ctx, name) and value != specs[name].default:
                yield self.key_of(ctx, name), number_text(value)

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        return {
            spec.name: reader.number(self.key_of(ctx, spec.name), spec) for spec in self.specs(ctx)
        }

    def to_session(self, ctx: Context) -> Pairs:
        values = self.value(ctx)
        for spec in self.specs(ctx):
            yield (
                self.key_of(ctx, spec.name),
                widget_value(spec, values[spec.name], self.kind(spec)),
            )

    def from_session(self, values: Values, ctx: Context) -> Any:
        return {
            spec.name: float(session_number(values, self.key_of(ctx, spec.name), spec, "number"))
            for spec in self.specs(ctx)
        }


@dataclass(frozen=True)
class Point(WidgetField):
    """Several numbers as a tuple, one field each (`keys`, `specs` a function of the context).
    The start: `optional` (None: a custom surface's own preset; the query always says it for
    `always_for` surfaces, whose preset it cannot know), with `mark` set to the surface in the
    session. The formula's box: checked by `check` (its `fallback` where that fails)."""

    keys: tuple[str, ...] = ()
    specs: Callable[[Context], Sequence[ParamSpec]] = lambda ctx: ()
    optional: bool = False
    always_for: Collection[str] = ()
    mark: str | None = None
    check: Callable[[tuple[float, ...]], object] | None = None
    fallback: tuple[float, ...] = ()

    def absent(self, ctx: Context) -> Any:
        return tuple(float(spec.default) for spec in self.specs(ctx))

    def to_query(self, ctx: Context) -> Pairs:
        always = ctx["surface"] in self.always_for
        for spec, value in zip(self.specs(ctx), self.value(ctx) or (), strict=False):
            if always or value != spec.default:
                yield spec.name, number_text(value)

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        custom = self.optional and ctx["surface"] in self.always_for
        if custom and not any(reader.has(key) for key in self.keys):
            return None
        point = tuple(reader.number(spec.name, spec) for spec in self.specs(ctx))
        if self.check is None:
            return point
        try:
            self.check(point)
        except ValueError as error:
            edges = ", ".join(self.keys)
            reader.problems.append(Problem(edges, "…", f"{error}; using the default box"))
            return self.fallback
        return point

    def to_session(self, ctx: Context) -> Pairs:
        point = self.value(ctx)
        if point is None:  # the page starts from the surface's own preset
            return
        yield from zip(self.keys, point, strict=True)
        if self.mark:
            yield self.mark, ctx["surface"]

    def from_session(self, values: Values, ctx: Context) -> Any:
        return tuple(
            float(session_number(values, spec.name, spec, "number")) for spec in self.specs(ctx)
        )


@dataclass(frozen=True)
class Text(WidgetField):
    """Typed text of at most `limit` characters that `check(text, ctx)` accepts (it raises
    ValueError with the reason), `default` otherwise; `always`: in the query even when it is
    the default (the formula)."""

    default: str = ""
    limit: int = 0
    check: Callable[[str, Context], object] = lambda text, ctx: None
    always: bool = False

    def absent(self, ctx: Context) -> Any:
        return self.default

    def to_query(self, ctx: Context) -> Pairs:
        if self.always or self.value(ctx) != self.default:
            yield self.key, self.value(ctx)

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        text = reader.checked(self.key, self.limit, lambda text: self.check(text, ctx))
        return text or self.default

    def to_session(self, ctx: Context) -> Pairs:
        yield self.key, self.value(ctx)

    def from_session(self, values: Values, ctx: Context) -> Any:
        value = values.get(self.key)
        return value if isinstance(value, str) and value else self.default


def runs_text(run_ids: Sequence[int]) -> str:
    """The `runs` field: "" for run 1 alone, the count for runs 1 … n ("3"), else the numbers
    in order ("2,3"; a lone run other than 1 keeps a trailing comma: "3,")."""
    if list(run_ids) == list(range(1, len(run_ids) + 1)):
        return str(len(run_ids)) if len(run_ids) > 1 else ""
    return ",".join(map(str, run_ids)) + ("," if len(run_ids) == 1 else "")


@dataclass(frozen=True)
class Runs(WidgetField):
    """The runs, each by its number (`runs_text` in the query, the list `session_key` in the
    session), each run's own fields the sub-table `rows`, keyed `run{i}_…`; `build` makes a
    run of its number and those fields."""

    session_key: str = "run_ids"
    rows: tuple[Field, ...] = ()
    build: Callable[..., Any] = dict

    def _run_ctx(self, ctx: Context, run: Any) -> Context:
        return ctx.child(self.rows, run, run.run_id)

    def to_query(self, ctx: Context) -> Pairs:
        runs = self.value(ctx)
        if text := runs_text([run.run_id for run in runs]):
            yield self.key, text
        for run in runs:
            yield from write_query(self.rows, self._run_ctx(ctx, run))

    def _read(self, ctx: Context, ids: Sequence[int]) -> Any:
        return tuple(
            self.build(run_id=run_id, **ctx.child(self.rows, None, run_id).read_all())
            for run_id in ids
        )

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        return self._read(ctx, reader.run_ids(self.key))

    def to_session(self, ctx: Context) -> Pairs:
        runs = self.value(ctx)
        yield self.session_key, [run.run_id for run in runs]
        for run in runs:
            yield from write_session(self.rows, self._run_ctx(ctx, run))

    def from_session(self, values: Values, ctx: Context) -> Any:
        return self._read(ctx, values.get(self.session_key) or [1])


@dataclass(frozen=True)
class RunChoice(WidgetField):
    """The number of one of the runs (the attribute `runs`), the first by default; `shown`:
    whether the query has it."""

    shown: Callable[[Context], bool] = lambda ctx: True

    def _ids(self, ctx: Context) -> list[int]:
        return [run.run_id for run in ctx["runs"]]

    def to_query(self, ctx: Context) -> Pairs:
        if self.shown(ctx) and self.value(ctx) != self._ids(ctx)[0]:
            yield self.key, str(self.value(ctx))

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        return reader.run_choice(self.key, self._ids(ctx))

    def to_session(self, ctx: Context) -> Pairs:
        yield self.key, self.value(ctx)

    def from_session(self, values: Values, ctx: Context) -> Any:
        ids = self._ids(ctx)
        return int(values[self.key]) if values.get(self.key) in ids else ids[0]


@dataclass(frozen=True)
class Groups(Field):
    """A set of control groups, written in CONTROL_GROUPS order, less the groups of the
    attribute `minus` (a locked group that is also hidden is hidden)."""

    minus: str | None = None

    def _less(self, ctx: Context) -> frozenset[str]:
        return ctx[self.minus] if self.minus else frozenset()

    def to_query(self, ctx: Context) -> Pairs:
        if groups := self.value(ctx) - self._less(ctx):
            yield self.key, ",".join(g for g in CONTROL_GROUPS if g in groups)

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        return reader.groups(self.key) - self._less(ctx)


@dataclass(frozen=True)
class Version(Field):
    """The link format's version: always written, an unknown one read as `version`."""

    version: int = 1

    def to_query(self, ctx: Context) -> Pairs:
        yield self.key, str(self.version)

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        text = reader.text(self.key)
        if text is not None and text.strip() != str(self.version):
            why = f"unknown link version; read as version {self.version}"
            reader.problems.append(Problem(self.key, text, why))


@dataclass(frozen=True)
class Nested(Field):
    """An attribute that is itself a value of several fields (the classroom settings): the
    sub-table `rows`, `build` making the value of their attributes."""

    rows: tuple[Field, ...] = ()
    build: Callable[..., Any] = dict

    def to_query(self, ctx: Context) -> Pairs:
        yield from write_query(self.rows, ctx.child(self.rows, self.value(ctx)))

    def from_query(self, reader: QueryReader, ctx: Context) -> Any:
        return self.build(**ctx.child(self.rows, None).read_all())


# The walks: one writer per direction (the readers are the contexts' `read_all`).


def write_query(rows: Sequence[Field], ctx: Context) -> Pairs:
    """The query fields of `rows`, in table order."""
    for row in rows:
        if row.applies(ctx):
            yield from row.to_query(ctx)


def write_session(rows: Sequence[Field], ctx: Context) -> Pairs:
    """The widget values of `rows`."""
    for row in rows:
        if held(row):
            yield from row.to_session(ctx)
