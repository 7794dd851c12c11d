"""Says so when a link was too large to read: Streamlit drops a query of more than
`MAX_FIELDS` fields or `MAX_BYTES` bytes before the script runs, so the server never sees it.
A custom component (inline, no iframe) measures the address the browser opened and reports
it back once, only when it is over a limit."""

from __future__ import annotations

import math

import streamlit as st

MAX_FIELDS = 1_000  # fields in the query (`a=1&b=2`: 2)
MAX_BYTES = 512 * 2**10  # characters of the query after "?" (a link is ASCII: one byte each)

# The address the page was opened at (the navigation entry: the app rewrites the address bar
# later), its query split into fields; reported once per page load, only over a limit.
_JS = """
export default function(component) {
    const {data, setStateValue} = component;
    if (window.__descentLabLinkSized) return;
    window.__descentLabLinkSized = true;
    const entry = performance.getEntriesByType("navigation")[0];
    const query = new URL(entry ? entry.name : window.location.href).search.replace(/^\\?/, "");
    const fields = query ? query.split("&").length : 0;
    if (fields > data.max_fields || query.length > data.max_bytes) {
        setStateValue("size", {fields: fields, bytes: query.length});
    }
}
"""
_COMPONENT = st.components.v2.component("descent_lab_link_size", js=_JS)


def too_large(fields: int, size: int) -> str | None:
    """The warning for a query of `fields` fields and `size` bytes, or None within the limits
    (fields ≤ MAX_FIELDS and size ≤ MAX_BYTES); the size in KiB rounded up, ⌈size / 1024⌉."""
    if fields <= MAX_FIELDS and size <= MAX_BYTES:
        return None
    kib, limit_kib = math.ceil(size / 2**10), MAX_BYTES // 2**10
    return (
        f"This link is too long to read ({fields:,} fields / {kib:,} KiB; the limit is "
        f"{MAX_FIELDS:,} fields and {limit_kib:,} KiB): the page opened on its defaults."
    )


def _count(value: object) -> int:
    """A non-negative count from the browser's report (untrusted: anything else is 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def warn_if_dropped() -> None:
    """Mount the measuring component and show the warning once it reported an oversized link."""
    result = _COMPONENT(
        data={"max_fields": MAX_FIELDS, "max_bytes": MAX_BYTES},
        key="link_size",
        on_size_change=lambda: None,
    )
    size = getattr(result, "size", None)
    if isinstance(size, dict):
        message = too_large(_count(size.get("fields")), _count(size.get("bytes")))
        if message:
            st.warning(message)
