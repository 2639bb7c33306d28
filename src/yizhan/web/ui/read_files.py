"""The bytes behind the reading pane: the message body document, parts, the attachments zip, the raw message and
its source, and remote images through the server.

- `GET /mail/body/{folder_id}/{uid}` (`?images=1`: show remote images once): the sanitised body (mail/render.py)
  as a document of its own, loaded into `<iframe sandbox>` (no allow-scripts, no allow-same-origin). Why a URL of
  its own and not `srcdoc`: an `about:srcdoc` document inherits the CSP of the page that frames it, which allows
  no inline style, so mail styling would break, and loosening the page's CSP would loosen it for our own scripts
  too. A URL of its own gets its own strict CSP (read_common.BODY_CSP: no script, images only from here, inline
  style only inside this sandboxed document, and the `sandbox` directive, so it stays sandboxed even when opened
  directly). Its images point at signed links (parts, proxy), as the sandboxed document sends no cookie.
- `GET /mail/part/{folder_id}/{uid}/{path}` (`?inline=1` to preview, `?download=1`): one part, served as
  read_common.part_policy says (attachment with RFC 6266 filename*, nosniff, HTML/SVG only as downloads).
- `GET /mail/zip/{folder_id}/{uid}`: every attachment in one zip. `GET /mail/eml/{folder_id}/{uid}`: the message as
  stored (.eml). `GET /mail/source/{folder_id}/{uid}`: the raw message shown as escaped text in a page.
- `GET /mail/proxy?url=…&a=…&x=…&sig=…`: a remote image fetched by the server (services/imageproxy.py: SSRF
  guard, size, time and type limits), only for a URL signed for the account; served with nosniff and a sandbox CSP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from yizhan.mail.parts import parse_path
from yizhan.mail.render import RenderOptions
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.deps import Principal, require_account
from yizhan.web.render import render
from yizhan.web.ui.read_common import (
    BODY_CSP,
    DOWNLOAD_CSP,
    MAX_FOLDER_ID,
    MAX_UID,
    content_disposition,
    link_account,
    part_policy,
    part_subject,
    proxy_subject,
    proxy_url,
    readers,
    signed_part_url,
)
from yizhan.web.ui.read_model import image_decision

router = APIRouter()

FolderId = Annotated[int, Path(ge=1, le=MAX_FOLDER_ID)]
Uid = Annotated[int, Path(ge=1, le=MAX_UID)]
Account = Annotated[Principal, Depends(require_account)]
# The source page shows at most this much of a message; the .eml download has all of it.
MAX_SOURCE_BYTES = 2 * 1024 * 1024

_BODY_STYLE = (
    "html{color-scheme:light}body{margin:0;padding:12px 16px;font:15px/1.55 system-ui,-apple-system,'PingFang SC',"
    "'Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#1d232a;background:#fff;overflow-wrap:anywhere}"
    "img{max-width:100%;height:auto}table{max-width:100%}pre{white-space:pre-wrap}"
    "blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #dde1e6;color:#45505a}"
    ".text-body{white-space:pre-wrap;font-family:inherit}"
)


def _no_store(headers: dict[str, str]) -> dict[str, str]:
    return {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", **headers}


@router.get("/mail/body/{folder_id}/{uid}")
async def message_body(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                       images: Annotated[bool, Query()] = False) -> Response:
    account = principal.account
    services = readers(request)
    folder = await services.reading.folder_by_id(account.id, folder_id)
    # The view is rendered twice at most: first to learn the sender, then with the images decided.
    plain = await services.reading.open(account.id, folder.name, uid)
    decision = await image_decision(request, account, plain.view, images)
    options = RenderOptions(
        allow_remote=decision.show,
        proxy_url=lambda url: proxy_url(request, account, url),
        part_url=lambda path: signed_part_url(request, account, folder.id, uid, path),
    )
    opened = await services.reading.open(account.id, folder.name, uid, options)
    lang = request.state.i18n.html_lang
    document = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                '<meta name="referrer" content="no-referrer"><base target="_blank">'
                f"<style>{_BODY_STYLE}</style></head><body>{opened.view.body_html}</body></html>")
    return Response(document, media_type="text/html; charset=utf-8", headers=_no_store({
        "Content-Security-Policy": BODY_CSP, "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer"}))


@router.get("/mail/part/{folder_id}/{uid}/{path}")
async def message_part(request: Request, folder_id: FolderId, uid: Uid, path: Annotated[str, Path(max_length=200)],
                       inline: Annotated[bool, Query()] = False, download: Annotated[bool, Query()] = False,
                       ) -> Response:
    if parse_path(path) is None:
        raise NotFound("no such part")
    account = await link_account(request, part_subject(folder_id, uid, path))
    services = readers(request)
    folder = await services.reading.folder_by_id(account.id, folder_id)
    part = await services.reading.part(account.id, folder.name, uid, path)
    policy = part_policy(part.content_type, part.charset)
    kind = "inline" if inline and policy.inline_allowed and not download else "attachment"
    return Response(part.data, media_type=policy.content_type, headers=_no_store({
        "Content-Disposition": content_disposition(kind, part.filename),
        "Content-Security-Policy": policy.csp, "X-Frame-Options": "SAMEORIGIN"}))


@router.get("/mail/zip/{folder_id}/{uid}")
async def attachments_zip(request: Request, principal: Account, folder_id: FolderId, uid: Uid) -> Response:
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    found = await services.reading.attachments_zip(principal.account.id, folder.name, uid)
    return Response(found.data, media_type="application/zip", headers=_no_store({
        "Content-Disposition": content_disposition("attachment", found.filename),
        "Content-Security-Policy": DOWNLOAD_CSP}))


@router.get("/mail/eml/{folder_id}/{uid}")
async def message_eml(request: Request, principal: Account, folder_id: FolderId, uid: Uid) -> Response:
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    found = await services.reading.raw(principal.account.id, folder.name, uid)
    return Response(found.data, media_type="message/rfc822", headers=_no_store({
        "Content-Disposition": content_disposition("attachment", found.filename),
        "Content-Security-Policy": DOWNLOAD_CSP}))


@router.get("/mail/source/{folder_id}/{uid}")
async def message_source(request: Request, principal: Account, folder_id: FolderId, uid: Uid) -> Response:
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    found = await services.reading.raw(principal.account.id, folder.name, uid)
    text = found.data[:MAX_SOURCE_BYTES].decode("utf-8", "replace")
    return render(request, "read/source.html", {
        "folder_id": folder.id, "uid": uid, "source": text, "cut": len(found.data) > MAX_SOURCE_BYTES,
        "size": len(found.data), "filename": found.filename})


@router.get("/mail/proxy")
async def image_proxy(request: Request, url: Annotated[str, Query(max_length=4096)] = "") -> Response:
    if not url or "sig" not in request.query_params:
        raise InvalidInput("the image proxy needs a signed image address (url and sig)")
    await link_account(request, proxy_subject(url))
    image = await readers(request).proxy.fetch(url)
    return Response(image.data, media_type=image.content_type, headers={
        "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": "inline",
        "Referrer-Policy": "no-referrer"})
