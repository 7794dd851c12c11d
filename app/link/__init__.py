"""The shareable link: its field table, the codec walking it, and the page's address.

table.py    the fields, one row each (what a link holds; add a field here)
fields.py   the kinds of row and how each reads and writes itself
reader.py   reading an untrusted query, each bad field a `Problem`
codec.py    from_query / to_query / from_session / to_session
address.py  the browser's address and the session: load_link, sync_link, apply_state
"""

from app.link.codec import Decoded, from_query, from_session, key_list, to_query, to_session
from app.link.fields import number_text
from app.link.reader import MAX_FIELDS, Problem
from app.link.table import FIELDS, LINK_VERSION

__all__ = [
    "FIELDS",
    "LINK_VERSION",
    "MAX_FIELDS",
    "Decoded",
    "Problem",
    "from_query",
    "from_session",
    "key_list",
    "number_text",
    "to_query",
    "to_session",
]
