"""The signed-in home: `GET /` goes to the webmail (`/mail`, 303); `GET /ui/folders` renders the folder table
(kept for pages that embed it, refreshed in place by htmx).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.folders import folder_views
from yizhan.web.render import render

router = APIRouter()


@router.get("/")
async def home(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return RedirectResponse("/mail", status_code=303)


@router.get("/ui/folders")
async def folders_partial(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    folders = await web_state(request).services.mailbox.folders(principal.account.id)
    return render(request, "_folders.html", {"folders": folder_views(folders)})
