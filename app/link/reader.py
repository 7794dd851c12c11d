"""Reading an untrusted query: one text per field, numbers parsed, clamped and rounded, choices
checked, and every field that could not be used as given recorded as a `Problem`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import NamedTuple

from app.state import CONTROL_GROUPS, MAX_RUNS, RUNS_SPEC, coerce, widget_kind
from surfaces import ParamSpec

MAX_FIELDS = 200  # query fields read from one link; the rest are ignored (bounded work)
MAX_TEXT = 200  # characters in one value; longer values are ignored
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"0", "false", "off", "no"}


class Problem(NamedTuple):
    """A query field that was not used as given: its name, its text and what happened."""

    field: str
    text: str
    reason: str

    @property
    def shown(self) -> str:
        """`field=text`, the name and the text each cut to 40 characters."""
        field, text = (v if len(v) <= 40 else v[:37] + "…" for v in (self.field, self.text))
        return f"{field}={text}"

    def __str__(self) -> str:
        return f"{self.shown}: {self.reason}"


def single_values(
    query: Mapping[str, str | Sequence[str]],
) -> tuple[dict[str, str], list[Problem]]:
    """One text per field (the last of repeated ones), at most MAX_FIELDS fields; blank
    fields count as absent."""
    fields: dict[str, str] = {}
    problems: list[Problem] = []
    for key, raw in query.items():
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        texts = [text for text in texts if text]  # `?steps=` is the same as no `steps`
        if not texts:
            continue
        if len(fields) >= MAX_FIELDS:
            problems.append(Problem(key, texts[-1], f"more than {MAX_FIELDS} fields; ignored"))
            continue
        if len(texts) > 1:
            problems.append(Problem(key, texts[-1], f"given {len(texts)} times; using the last"))
        fields[str(key)] = texts[-1]
    return fields, problems


class QueryReader:
    """Reads fields out of a query, recording each problem; remembers which fields it used."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = fields
        self.used: set[str] = set()
        self.problems: list[Problem] = []

    def has(self, key: str) -> bool:
        return key in self.fields

    def text(self, key: str, limit: int = MAX_TEXT) -> str | None:
        """The field's text (None when absent, or longer than `limit`: a problem)."""
        if key not in self.fields:
            return None
        self.used.add(key)
        text = self.fields[key]
        if len(text) > limit:
            self.problems.append(Problem(key, text, f"longer than {limit} characters; ignored"))
            return None
        return text

    def checked(self, key: str, limit: int, check: Callable[[str], object]) -> str | None:
        """The field's text if `check` accepts it (a ValueError is the reason it is refused)."""
        text = self.text(key, limit)
        if text is None:
            return None
        try:
            check(text)
        except ValueError as error:
            self.problems.append(Problem(key, text, f"{error}; using the example"))
            return None
        return text

    def number(self, key: str, spec: ParamSpec) -> float:
        """The field as a number inside the spec's range: default when absent or not a finite
        number, clamped when out of range, rounded for whole-number parameters (`coerce`)."""
        default = float(spec.default)
        text = self.text(key)
        if text is None:
            return default
        stripped = text.strip().lower()
        if widget_kind(spec) == "toggle" and stripped in _TRUE | _FALSE:
            return 1.0 if stripped in _TRUE else 0.0
        if not _NUMBER.fullmatch(stripped):
            return self._fallback(key, text, "not a number", default)
        number = float(stripped)
        if not math.isfinite(number):
            return self._fallback(key, text, "too large", default)
        clamped = float(coerce(number, default, spec.low, spec.high, "number"))
        if clamped != number:
            where = f"outside [{spec.low:g}, {spec.high:g}]"
            self.problems.append(Problem(key, text, f"{where}; clamped to {clamped:g}"))
        rounded = float(coerce(clamped, default, spec.low, spec.high, "int"))
        if spec.integer and clamped != rounded:
            self.problems.append(Problem(key, text, f"not a whole number; rounded to {rounded:g}"))
            return rounded
        return clamped

    def _fallback(self, key: str, text: str, why: str, default: float) -> float:
        self.problems.append(Problem(key, text, f"{why}; using the default {default:g}"))
        return default

    def choice(self, key: str, options: Collection[str], default: str, what: str) -> str:
        """The field if it is one of `options`, else `default` (a problem naming the options)."""
        text = self.text(key)
        if text is None or text == default:
            return default
        if text in options:
            return text
        known, using = ", ".join(options), default or "the default"
        self.problems.append(Problem(key, text, f"unknown {what} (known: {known}); using {using}"))
        return default

    def groups(self, key: str) -> frozenset[str]:
        """The field as a comma-separated set of CONTROL_GROUPS (unknown names skipped)."""
        text = self.text(key)
        if not text:
            return frozenset()
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in CONTROL_GROUPS]
        if unknown:
            known = ", ".join(CONTROL_GROUPS)
            self.problems.append(
                Problem(
                    key, text, f"unknown control {', '.join(unknown)} (known: {known}); skipped"
                )
            )
        return frozenset(name for name in names if name in CONTROL_GROUPS)

    def run_ids(self, key: str) -> tuple[int, ...]:
        """The `runs` field (see `runs_text`): a count n is runs 1 … n, a list with commas
        names the runs; numbers outside 1 … MAX_RUNS and repeats are skipped."""
        text = self.text(key)
        if text is None or "," not in text:
            return tuple(range(1, int(self.number(key, RUNS_SPEC)) + 1))
        ids: list[int] = []
        skipped = []
        for token in filter(None, (token.strip() for token in text.split(","))):
            number = int(token) if token.isascii() and token.isdigit() else 0
            if 1 <= number <= MAX_RUNS and number not in ids:
                ids.append(number)
            else:
                skipped.append(token)
        if skipped:
            why = f"not a run number 1 … {MAX_RUNS}, or repeated: {', '.join(skipped)}; skipped"
            self.problems.append(Problem(key, text, why))
        if not ids:
            self.problems.append(Problem(key, text, "no run left; using run 1"))
        return tuple(ids) or (1,)

    def run_choice(self, key: str, ids: Sequence[int]) -> int:
        """The field as the number of one of the runs `ids` (the first when absent or not)."""
        text = self.text(key)
        if text is None:
            return ids[0]
        if text.strip() in {str(run_id) for run_id in ids}:
            return int(text)
        listed = ", ".join(map(str, ids))
        self.problems.append(
            Problem(key, text, f"not one of the runs ({listed}); using run {ids[0]}")
        )
        return ids[0]
