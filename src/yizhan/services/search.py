"""Search as a user asks it: free text (Chinese and English) plus operators, over one account.

The query language (yizhan.mail.searchquery): words, "quoted phrases", from:, to:, subject:, in:, before:,
after:, has:attachment, is:unread / is:read, is:flagged. Free text matches subject, addresses, names, body text
and attachment names; English words match as prefixes. Results are newest first, paged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from yizhan.mail.searchquery import parse_query
from yizhan.mail.tokens import column_expression, match_expression
from yizhan.store.folders import canonical_name
from yizhan.store.records import MessageSummary
from yizhan.store.search import SearchFilter
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput, NotFound

MAX_PAGE = 500


def _day_start(day: date) -> int:
    return int(datetime.combine(day, time.min, tzinfo=UTC).timestamp())


class SearchService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def search(self, account_id: int, query: str, folder: str | None = None, limit: int = 50,
                     offset: int = 0) -> list[MessageSummary]:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInput(f"page size must be 1..{MAX_PAGE} and offset not negative")
        parsed = parse_query(query)
        if parsed.errors:
            raise InvalidInput("; ".join(parsed.errors))
        terms = []
        if parsed.text.strip():
            expression = match_expression(parsed.text)
            if expression is None:
                return []
            terms.append(expression)
        for column, values in (("sender", parsed.from_), ("recipients", parsed.to), ("subject", parsed.subject)):
            for value in values:
                expression = column_expression(column, value)
                if expression is None:
                    return []
                terms.append(expression)
        folder_name = folder or parsed.folder
        folder_id = None
        if folder_name:
            record = await self.store.folders.get(account_id, canonical_name(folder_name))
            if record is None:
                raise NotFound(f"no folder {folder_name}")
            folder_id = record.id
        return await self.store.search.run(SearchFilter(
            account_id=account_id,
            match=" AND ".join(f"({term})" for term in terms) if terms else None,
            folder_id=folder_id,
            after=_day_start(parsed.after) if parsed.after else None,
            before=_day_start(parsed.before) if parsed.before else None,
            unread=parsed.unread, flagged=parsed.flagged, has_attachment=parsed.has_attachment,
            limit=limit, offset=offset,
        ))

