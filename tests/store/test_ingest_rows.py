"""The SQLite fast path of yizhan.store.ingest writes message rows with a hand-written column list."""

from __future__ import annotations

from yizhan.store import schema as t
from yizhan.store.ingest import _MESSAGE_COLUMNS


def test_message_insert_names_every_column() -> None:
    # A column added to `messages` must be added to the SQLite insert too (its client-side default would
    # otherwise be skipped, and a NOT NULL column would refuse every import).
    assert sorted(("id", *_MESSAGE_COLUMNS)) == sorted(t.messages.c.keys())
    assert len(set(_MESSAGE_COLUMNS)) == len(_MESSAGE_COLUMNS)
