"""`/api/v1/messages`: list a folder (sorted, filtered, paged) or search, act on many messages at once, delete one,
change one's flags, and read a message's conversation. Message ids are "folder_id:uid" (folder ids come from
`GET /api/v1/folders`).

Paging: `limit` (1..200) and `cursor` (the previous answer's `next_cursor`), or `page` (1-based) for numbered
pages. A folder list is read in keyset order, so every page costs the same however deep; a search pages by offset.
Every lookup is within the caller's account: another account's folder or message is 404 like a missing one.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from yizhan.services.webmail import MAX_PAGE, ListOptions, MessageRef, WebmailService
from yizhan.util.errors import InvalidInput
from yizhan.web.api.v1.messages_models import (
    ActionOut,
    ActionRequest,
    FlagsPatch,
    Folder,
    MessageList,
    MessageOut,
    Totals,
)
from yizhan.web.api.v1.models import ErrorBody
from yizhan.web.deps import Principal, require_account, web_state

router = APIRouter(tags=["messages"])
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such folder or message in this account"},
    400: {"model": ErrorBody, "description": "A bad parameter; the message says which"}}
FolderId = Annotated[int, Path(ge=1, le=2**62)]
Uid = Annotated[int, Path(ge=1, le=2**32)]


def _webmail(request: Request) -> WebmailService:
    return WebmailService.of(web_state(request).services)


def _search_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"s:{offset}".encode()).decode().rstrip("=")


def _search_offset(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
    except ValueError:
        kind, value = "", ""
    if kind != "s" or not value.isdigit() or int(value) > 10_000:
        raise InvalidInput("the cursor is not valid for this search: start again from the first page")
    return int(value)


@router.get("/messages", response_model=MessageList, responses=NOT_FOUND,
            summary="A folder's messages (sorted, filtered, paged), or search results with `q`")
async def list_messages(
        request: Request, principal: Annotated[Principal, Depends(require_account)],
        folder: Annotated[int | None, Query(ge=1, le=2**62, description="Folder id; needed unless `q` is given")]
        = None,
        q: Annotated[str | None, Query(max_length=500, description="Search-box language: from:, to:, subject:, "
                                       "has:attachment, is:unread, is:flagged, before:, after:, in:, free text")]
        = None,
        sort: Literal["date", "sender", "size"] = "date",
        order: Literal["desc", "asc"] = "desc",
        filter: Literal["all", "unread", "flagged"] = "all",
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query(max_length=1200)] = None,
        page: Annotated[int | None, Query(ge=1, le=10_000, description="1-based page number (instead of cursor)")]
        = None) -> MessageList:
    webmail = _webmail(request)
    account_id = principal.account.id
    if cursor is not None and page is not None:
        raise InvalidInput("give either cursor or page, not both")
    if q is not None and q.strip():
        offset = _search_offset(cursor) if cursor else ((page or 1) - 1) * limit
        found = await webmail.search(account_id, q, folder, limit, offset)
        return MessageList(messages=[MessageOut.of(item) for item in found.items],
                           next_cursor=_search_cursor(offset + limit) if found.has_more else None)
    if folder is None:
        raise InvalidInput("name a folder (folder=<id> from GET /api/v1/folders) or a search (q=...)")
    listed = await webmail.page(account_id, folder, ListOptions(
        sort=sort, descending=order == "desc", filter=filter, limit=limit, cursor=cursor,
        offset=((page or 1) - 1) * limit))
    return MessageList(messages=[MessageOut.of(item) for item in listed.items], next_cursor=listed.next_cursor,
                       folder=Folder.of(listed.folder), totals=Totals.of(listed.totals))


@router.post("/messages/actions", response_model=ActionOut, responses=NOT_FOUND,
             summary="Mark read/unread, flag/unflag, move, delete (to Trash; in Trash for ever), spam / not spam")
async def act(request: Request, principal: Annotated[Principal, Depends(require_account)],
              body: ActionRequest) -> ActionOut:
    refs = [MessageRef.parse(text) for text in body.ids]
    result = await _webmail(request).act(principal.account.id, refs, body.action, body.folder_id)
    return ActionOut(action=result.action, changed=result.changed, target_folder_id=result.target_folder_id,
                     moved={str(old): str(new) for old, new in result.moved.items()})


@router.delete("/messages/{folder_id}/{uid}", response_model=ActionOut, responses=NOT_FOUND,
               summary="Delete a message: to Trash, or for ever when it is in Trash")
async def delete_message(request: Request, principal: Annotated[Principal, Depends(require_account)],
                         folder_id: FolderId, uid: Uid) -> ActionOut:
    result = await _webmail(request).delete_message(principal.account.id, MessageRef(folder_id, uid))
    return ActionOut(action=result.action, changed=result.changed, target_folder_id=result.target_folder_id,
                     moved={str(old): str(new) for old, new in result.moved.items()})


@router.patch("/messages/{folder_id}/{uid}/flags", response_model=MessageOut, responses=NOT_FOUND,
              summary="Add and remove flags (\\Seen, \\Flagged, \\Answered, \\Draft, keywords)")
async def patch_flags(request: Request, principal: Annotated[Principal, Depends(require_account)],
                      folder_id: FolderId, uid: Uid, body: FlagsPatch) -> MessageOut:
    item = await _webmail(request).set_flags(principal.account.id, MessageRef(folder_id, uid), body.add, body.remove)
    return MessageOut.of(item)


@router.get("/messages/{folder_id}/{uid}/conversation", response_model=MessageList, responses=NOT_FOUND,
            summary="The message's conversation across folders (not Trash or Junk), oldest first")
async def conversation(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       folder_id: FolderId, uid: Uid) -> MessageList:
    items = await _webmail(request).conversation(principal.account.id, MessageRef(folder_id, uid))
    return MessageList(messages=[MessageOut.of(item) for item in items], next_cursor=None)



