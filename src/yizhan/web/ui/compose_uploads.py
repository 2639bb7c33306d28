"""Uploads of the compose form: `POST /compose/uploads` (multipart, field `file`), `GET /compose/uploads/{id}`
(an image shown in the editor, or the file itself as a download), `DELETE /compose/uploads/{id}`.

The `UploadService` lives in `WebState.extra` (made on first use, when it also removes every expired upload left
from before a restart). Every route is scoped by the signed-in account: another account's id is 404 like a
missing one. Writes need the CSRF token (web/deps.py); the browser's script sends it as X-CSRF-Token.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from yizhan.services.uploads import MB, Upload, UploadLimits, UploadService, image_type
from yizhan.util.errors import InvalidInput, YizhanError
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.i18n import current
from yizhan.web.ui.compose_errors import field_failure

router = APIRouter()
_KEY = "compose.uploads"


async def upload_service(request: Request) -> UploadService:
    """The web's upload service (created, and expired uploads swept, on first use)."""
    state = web_state(request)
    found = state.extra.get(_KEY)
    if isinstance(found, UploadService):
        return found
    services = state.services
    per_file = min(25 * MB, services.compose.limits.max_bytes, services.settings.web.max_upload_size)
    service = UploadService(services.paths.root / "tmp" / "uploads", UploadLimits(max_file_bytes=per_file))
    if not isinstance(state.extra.get(_KEY), UploadService):
        state.extra[_KEY] = service
        await service.sweep()
    found = state.extra[_KEY]
    assert isinstance(found, UploadService)
    return found


def describe(upload: Upload, is_image: bool) -> dict[str, object]:
    return {"id": upload.id, "filename": upload.filename, "content_type": upload.content_type,
            "size": upload.size, "expires_at": upload.expires_at, "is_image": is_image,
            "url": f"/compose/uploads/{upload.id}"}


async def receive_upload(request: Request, principal: Principal) -> tuple[Upload, bool]:
    """Keep the file of a multipart request (field `file`) for the caller."""
    service = await upload_service(request)
    i18n = current()
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput(i18n.gettext("Send the file as multipart/form-data in a field called “file”."))
    form = await request.form(max_files=1, max_fields=10)
    try:
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise InvalidInput(i18n.gettext("Send the file as multipart/form-data in a field called “file”."))
        data = await item.read(service.limits.max_file_bytes + 1)
        if len(data) > service.limits.max_file_bytes:
            raise InvalidInput(i18n.gettext("“%(name)s” is too large: files may be at most %(size)s.") % {
                "name": (item.filename or "")[:100], "size": f"{service.limits.max_file_bytes // MB} MB"})
        content_type = item.content_type or "application/octet-stream"
        kind = image_type(data)
        if form.get("inline") and kind is None:
            raise InvalidInput(i18n.gettext("Only PNG, JPEG, GIF and WebP images can be put in the text."))
        upload = await service.add(principal.account.id, item.filename or "", kind or content_type, data)
        return upload, kind is not None
    finally:
        await form.close()


@router.post("/compose/uploads")
async def create_upload(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    try:
        upload, is_image = await receive_upload(request, principal)
    except YizhanError as exc:
        return field_failure(request, exc)
    return JSONResponse(describe(upload, is_image), status_code=201)


@router.get("/compose/uploads/{upload_id}")
async def show_upload(request: Request, upload_id: str,
                      principal: Annotated[Principal, Depends(require_account)]) -> Response:
    service = await upload_service(request)
    upload, data = await service.read(principal.account.id, upload_id)
    kind = image_type(data)
    if kind is not None:
        return Response(data, media_type=kind, headers={"Content-Disposition": "inline"})
    name = quote(upload.filename, safe="")
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@router.delete("/compose/uploads/{upload_id}")
async def delete_upload(request: Request, upload_id: str,
                        principal: Annotated[Principal, Depends(require_account)]) -> Response:
    service = await upload_service(request)
    try:
        await service.delete(principal.account.id, upload_id)
    except YizhanError as exc:
        return field_failure(request, exc)
    return Response(status_code=204)


@router.get("/compose/uploads")
async def list_uploads(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    service = await upload_service(request)
    uploads = await service.uploads(principal.account.id)
    return JSONResponse({"uploads": [describe(u, u.content_type.startswith("image/")) for u in uploads],
                         "limits": {"max_file_bytes": service.limits.max_file_bytes,
                                    "max_total_bytes": service.limits.max_total_bytes,
                                    "max_count": service.limits.max_count}})
