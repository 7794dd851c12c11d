"""The oversized-link warning: its thresholds and its words."""

from __future__ import annotations

import pytest

from app.link_size import MAX_BYTES, MAX_FIELDS, _count, too_large


@pytest.mark.parametrize(("fields", "size"), [(0, 0), (1_000, 512 * 1024), (1, 100)])
def test_within_limits_says_nothing(fields: int, size: int) -> None:
    assert too_large(fields, size) is None


def test_limits_are_streamlits() -> None:
    assert (MAX_FIELDS, MAX_BYTES) == (1_000, 524_288)


@pytest.mark.parametrize(
    ("fields", "size", "shown"),
    [
        (1_001, 10, "1,001 fields / 1 KiB"),
        (3, 512 * 1024 + 1, "3 fields / 513 KiB"),
        (1_200, 12_890, "1,200 fields / 13 KiB"),
    ],
)
def test_over_a_limit_names_both_sizes_and_the_limits(fields: int, size: int, shown: str) -> None:
    assert too_large(fields, size) == (
        f"This link is too long to read ({shown}; the limit is 1,000 fields and 512 KiB): "
        "the page opened on its defaults."
    )


@pytest.mark.parametrize(
    ("reported", "count"), [(1_200, 1_200), ("1200", 0), (True, 0), (-5, 0), (None, 0), (2.5, 0)]
)
def test_a_browser_report_counts_only_as_a_positive_int(reported: object, count: int) -> None:
    assert _count(reported) == count
