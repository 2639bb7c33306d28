"""Full-text and field search over an account's messages, newest first, with paging.

The text side is an FTS5 MATCH expression built by yizhan.mail.tokens from the user's words (Chinese is indexed
as overlapping character pairs, so two-character words are found); the other filters are plain SQL over indexed
columns. Results are entries (a message in a folder), so a message filed in two folders appears twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.messages import summary, summary_query
from yizhan.store.records import MessageSummary


@dataclass(frozen=True, slots=True)
class SearchFilter:
    account_id: int
    # An FTS5 MATCH expression (already safe), or None for no text condition.
    match: str | None = None
    folder_id: int | None = None
    after: int | None = None  # epoch seconds, inclusive
    before: int | None = None  # epoch seconds, exclusive
    unread: bool | None = None
    flagged: bool | None = None
    has_attachment: bool = False
    limit: int = 50
    offset: int = 0


class Search:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, f: SearchFilter) -> list[MessageSummary]:
        query = summary_query().where(t.messages.c.account_id == f.account_id)
        if f.match is not None:
            matching = select(text("rowid")).select_from(text("message_text")).where(
                text("message_text MATCH :match"))
            query = query.where(t.messages.c.id.in_(matching)).params(match=f.match)
        if f.folder_id is not None:
            query = query.where(t.entries.c.folder_id == f.folder_id)
        if f.after is not None:
            query = query.where(t.messages.c.date >= f.after)
        if f.before is not None:
            query = query.where(t.messages.c.date < f.before)
        seen = t.entries.c.flags.op("&")(t.SEEN)
        flagged = t.entries.c.flags.op("&")(t.FLAG_BITS["\\Flagged"])
        if f.unread is not None:
            query = query.where(seen == 0 if f.unread else seen != 0)
        if f.flagged is not None:
            query = query.where(flagged != 0 if f.flagged else flagged == 0)
        if f.has_attachment:
            query = query.where(t.messages.c.has_attachments.is_(True))
        query = query.order_by(t.messages.c.date.desc(), t.entries.c.uid.desc()).limit(f.limit).offset(f.offset)
        async with self.db.read() as conn:
            return [summary(r) for r in (await conn.execute(query)).all()]
