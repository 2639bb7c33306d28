"""The paging convention of API v1, and the bounded parameter types every route shares.

Paging (docs/api.md): a list takes `limit` (1 to 200, default 50) and `cursor` (absent for the first page); its
answer carries `next_cursor`, a string to send back as `cursor` for the next page, or null when there is none.
Cursors are opaque to callers: a route may encode an offset (`offset_cursor`) or a position in a sort order
(keyset), and may change its encoding; a cursor is only meaningful with the same other query parameters. A cursor
this API did not give out is a 400 that says to start again without it.

Invariants: no list answers more than MAX_LIMIT items; ids in paths and bodies are bounded to 1..MAX_ID (so no
value reaches the database as an integer it cannot hold); query strings are bounded and free of control
characters (PostgreSQL refuses NUL in text).
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Query

from yizhan.util.errors import InvalidInput

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_CURSOR = 200
# The largest id a path or body may name: well inside a signed 64-bit integer.
MAX_ID = 2**62

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="The id, as given by the list or create call")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="`next_cursor` of the previous page; "
                                                                         "leave it out for the first page")]


@dataclass(frozen=True, slots=True)
class OffsetPage:
    offset: int
    limit: int

    def next_cursor(self, returned: int) -> str | None:
        """The cursor of the page after this one, when this one came back full."""
        return offset_cursor(self.offset + self.limit) if returned >= self.limit else None


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode("ascii")).rstrip(b"=").decode("ascii")


def offset_page(cursor: str | None, limit: int) -> OffsetPage:
    """The page a cursor made by `offset_cursor` names (the first page for None); InvalidInput for a bad one."""
    if not cursor:
        return OffsetPage(0, limit)
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    offset = int(number) if number.isdigit() and len(number) <= 8 else -1
    if kind != "o" or offset < 0:
        raise InvalidInput("cursor: this is not a cursor this API gave out; leave it out to start from the first "
                           "page")
    return OffsetPage(offset, limit)


def clean_text(text: str, what: str, limit: int = 100) -> str:
    """A query string with control characters as spaces and whitespace trimmed; InvalidInput when too long."""
    cleaned = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).split())
    if len(cleaned) > limit:
        raise InvalidInput(f"{what}: at most {limit} characters")
    return cleaned
