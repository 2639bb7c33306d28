"""`/api/v1/notes`: the caller's notes (记事本) — list and search, create, read, change, delete.

Invariants: every call goes through services/notes.py with the caller's account id (another account's note answers
404 like a missing one); lists follow the paging convention of paging.py (pinned first, then most recently
changed); HTML note bodies are returned as stored, and whoever shows them sanitises them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from yizhan.services.notes import NotesService
from yizhan.store.notes import Note as NoteRecord
from yizhan.web.api.v1.models import NewNote, Note, NoteChange, NoteList
from yizhan.web.api.v1.paging import DEFAULT_LIMIT, Cursor, Id, Limit, clean_text, offset_page
from yizhan.web.api.v1.responses import errors
from yizhan.web.deps import Principal, require_account, web_state

router = APIRouter(tags=["notes"], responses=errors(400))
Caller = Annotated[Principal, Depends(require_account)]


def _notes(request: Request) -> NotesService:
    service: NotesService = web_state(request).services.notes
    return service


def _note(record: NoteRecord) -> Note:
    return Note(id=record.id, title=record.title, body=record.body, format=record.format,
                pinned=record.pinned, created_at=record.created_at, updated_at=record.updated_at)


@router.get("/notes", response_model=NoteList, summary="List or search notes",
            description="Pinned first, then the most recently changed; with `q`, only notes whose title or body "
                        "contains it (case-insensitive).")
async def list_notes(request: Request, principal: Caller, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                     q: Annotated[str, Query(max_length=100, description="Text the title or body contains")] = "",
                     ) -> NoteList:
    page = offset_page(cursor, limit)
    found = await _notes(request).list_notes(principal.account.id, clean_text(q, "q"), page.offset, page.limit)
    return NoteList(notes=[_note(n) for n in found], next_cursor=page.next_cursor(len(found)))


@router.post("/notes", response_model=Note, status_code=201, summary="Create a note", responses=errors(507))
async def create_note(request: Request, principal: Caller, body: NewNote) -> Note:
    return _note(await _notes(request).create(principal.account.id, body.title, body.body, body.format,
                                              body.pinned))


@router.get("/notes/{note_id}", response_model=Note, summary="One note", responses=errors(404))
async def read_note(request: Request, principal: Caller, note_id: Id) -> Note:
    return _note(await _notes(request).get(principal.account.id, note_id))


@router.patch("/notes/{note_id}", response_model=Note, summary="Change a note",
              description="Only the fields given change.", responses=errors(404))
async def change_note(request: Request, principal: Caller, note_id: Id, body: NoteChange) -> Note:
    return _note(await _notes(request).update(principal.account.id, note_id, title=body.title, body=body.body,
                                              format=body.format, pinned=body.pinned))


@router.delete("/notes/{note_id}", status_code=204, response_class=Response, summary="Delete a note",
               responses=errors(404))
async def delete_note(request: Request, principal: Caller, note_id: Id) -> Response:
    await _notes(request).delete(principal.account.id, note_id)
    return Response(status_code=204)
