"""Time helpers. The store keeps instants as integer seconds since the epoch (UTC), which sort and index well
on SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_seconds() -> int:
    """The current time as whole seconds since the epoch."""
    return int(time.time())


def to_seconds(moment: datetime | None, default: int | None = None) -> int:
    """An aware (or naive, taken as UTC) datetime as epoch seconds; `default` (or now) when None."""
    if moment is None:
        return now_seconds() if default is None else default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def from_seconds(seconds: int) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)
