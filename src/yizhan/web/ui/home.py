"""The signed-in home page: the account's folders with their unread and total counts.

`GET /` renders the page; `GET /ui/folders` renders only the folder list, for htmx to refresh in place.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.folders import folder_views
from yizhan.web.render import render

router = APIRouter()


@router.get("/")
async def home(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    folders = await web_state(request).services.mailbox.folders(principal.account.id)
    return render(request, "home.html", {"folders": folder_views(folders)})


@router.get("/ui/folders")
async def folders_partial(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    folders = await web_state(request).services.mailbox.folders(principal.account.id)
    return render(request, "_folders.html", {"folders": folder_views(folders)})
