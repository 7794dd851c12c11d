"""A registry table: rows by their key, in display order (surfaces, optimizers, schedules)."""

from __future__ import annotations

from typing import Protocol, TypeVar


class Keyed(Protocol):
    """A registry row: anything with a string `key`."""

    @property
    def key(self) -> str: ...


Row = TypeVar("Row", bound=Keyed)


class Registry(dict[str, Row]):
    """A registry table: rows by their key, in display order; `lookup` explains an unknown key."""

    def __init__(self, kind: str, *rows: Row) -> None:
        super().__init__((row.key, row) for row in rows)
        if len(self) != len(rows):
            raise ValueError(f"duplicate {kind} key")
        self.kind = kind

    def lookup(self, key: str) -> Row:
        """The row registered under `key`; ValueError listing the valid keys otherwise."""
        try:
            return self[key]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown {self.kind} {key!r}; valid keys: {', '.join(self)}"
            ) from None
