"""`GET /api/v1/folders`: the caller's folders with their counts, INBOX and special-use folders first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from yizhan.web.api.v1.models import Folder, FolderList
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.folders import ordered, special_use

router = APIRouter(tags=["folders"])


@router.get("/folders", response_model=FolderList, summary="The caller's folders with total and unread counts")
async def list_folders(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> FolderList:
    records = await web_state(request).services.mailbox.folders(principal.account.id)
    return FolderList(folders=[
        Folder(name=record.name, special_use=special_use(record),
               total=record.exists_count, unread=record.unseen_count, size_bytes=record.size_bytes,
               subscribed=record.subscribed)
        for record in ordered(records)])
