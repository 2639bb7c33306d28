"""Notes (记事本): the account's plain or rich-text notes.

Rules kept here: every call names the account and the store filters by it (another account's note is NotFound);
title, body and count are bounded (`NoteLimits`); the format is "plain" or "html"; HTML bodies are stored as given
and must be sanitised by whoever shows them (web), never trusted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from yizhan.store.notes import Note, Notes
from yizhan.store.schema import NOTE_FORMATS
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class NoteLimits:
    max_notes: int = 1000
    max_title: int = 200
    max_body_bytes: int = 256 * 1024
    max_query: int = 100


class NotesService:
    def __init__(self, store: Store, limits: NoteLimits | None = None) -> None:
        self.notes = Notes(store.db)
        self.limits = limits or NoteLimits()

    def _title(self, title: str) -> str:
        cleaned = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in title).split())
        if len(cleaned) > self.limits.max_title:
            raise InvalidInput(f"a note title is at most {self.limits.max_title} characters")
        return cleaned

    def _body(self, body: str) -> str:
        if len(body.encode("utf-8", "surrogatepass")) > self.limits.max_body_bytes:
            raise InvalidInput(f"a note is at most {self.limits.max_body_bytes // 1024} KB")
        if "\x00" in body:
            raise InvalidInput("a note cannot contain NUL characters")
        return body

    @staticmethod
    def _format(fmt: str) -> str:
        if fmt not in NOTE_FORMATS:
            raise InvalidInput(f"a note's format is {' or '.join(NOTE_FORMATS)}, not '{fmt[:20]}'")
        return fmt

    async def create(self, account_id: int, title: str, body: str, format: str = "plain",
                     pinned: bool = False) -> Note:
        return await self.notes.create(account_id, self._title(title), self._body(body), self._format(format),
                                       bool(pinned), self.limits.max_notes)

    async def get(self, account_id: int, note_id: int) -> Note:
        return await self.notes.get(account_id, note_id)

    async def update(self, account_id: int, note_id: int, *, title: str | None = None, body: str | None = None,
                     format: str | None = None, pinned: bool | None = None) -> Note:
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = self._title(title)
        if body is not None:
            changes["body"] = self._body(body)
        if format is not None:
            changes["format"] = self._format(format)
        if pinned is not None:
            changes["pinned"] = bool(pinned)
        if not changes:
            return await self.notes.get(account_id, note_id)
        return await self.notes.update(account_id, note_id, **changes)

    async def delete(self, account_id: int, note_id: int) -> None:
        await self.notes.delete(account_id, note_id)

    async def list_notes(self, account_id: int, query: str = "", offset: int = 0, limit: int = 50) -> list[Note]:
        """Pinned first, then most recently changed; `query` keeps notes whose title or body contains it."""
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"offset must be 0 or more and limit between 1 and {MAX_PAGE}")
        query = query.strip()
        if len(query) > self.limits.max_query:
            raise InvalidInput(f"a search is at most {self.limits.max_query} characters")
        return await self.notes.list_notes(account_id, query.lower(), offset, limit)

    async def count(self, account_id: int) -> int:
        return await self.notes.count(account_id)
