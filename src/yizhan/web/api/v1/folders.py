"""`/api/v1/folders`: the caller's folders with their counts (INBOX and special-use folders first), and creating,
renaming, deleting and emptying them. INBOX and the special-use folders cannot be renamed or deleted; only Trash
and Junk can be emptied. Another account's folder id is 404 like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from yizhan.services.webmail import WebmailService
from yizhan.web.api.v1.messages_models import Emptied, Folder, FolderCreate, FolderList, FolderPatch
from yizhan.web.api.v1.models import ErrorBody
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.folders import ordered

router = APIRouter(tags=["folders"])
FolderId = Annotated[int, Path(ge=1, le=2**62)]
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "A bad name, or a folder that cannot be changed"},
    404: {"model": ErrorBody, "description": "No such folder in this account"},
    409: {"model": ErrorBody, "description": "A folder of that name exists already"}}


def _webmail(request: Request) -> WebmailService:
    return WebmailService.of(web_state(request).services)


@router.get("/folders", response_model=FolderList, summary="The caller's folders with total and unread counts")
async def list_folders(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> FolderList:
    records = await _webmail(request).folders(principal.account.id)
    return FolderList(folders=[Folder.of(record) for record in ordered(records)])


@router.post("/folders", response_model=Folder, status_code=201, responses=ERRORS,
             summary="Create a folder (and its missing superiors)")
async def create_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        body: FolderCreate) -> Folder:
    return Folder.of(await _webmail(request).create_folder(principal.account.id, body.name))


@router.patch("/folders/{folder_id}", response_model=Folder, responses=ERRORS,
              summary="Rename a folder (with its subfolders)")
async def rename_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        folder_id: FolderId, body: FolderPatch) -> Folder:
    return Folder.of(await _webmail(request).rename_folder(principal.account.id, folder_id, body.name))


@router.delete("/folders/{folder_id}", status_code=204, responses=ERRORS,
               summary="Delete a folder and its messages (its subfolders stay)")
async def delete_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        folder_id: FolderId) -> Response:
    await _webmail(request).delete_folder(principal.account.id, folder_id)
    return Response(status_code=204)


@router.post("/folders/{folder_id}/empty", response_model=Emptied, responses=ERRORS,
             summary="Remove every message of Trash or Junk for ever")
async def empty_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       folder_id: FolderId) -> Emptied:
    return Emptied(removed=await _webmail(request).empty(principal.account.id, folder_id))
