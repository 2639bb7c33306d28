"""The compose page: `GET /compose` (new message), `?reply=<folder id>:<uid>` (`&all=1` to reply to all),
`?forward=<folder id>:<uid>` (`&attach=1` to forward as an attachment), `?draft=<folder id>:<uid>` (continue a
draft), `?to=<address>` (mailto: style, with `cc`, `subject`, `body`), `&back=<path>` (where to go after sending);
and `GET /compose/recipients?q=` (autocomplete for To/Cc/Bcc from contacts, the directory and past correspondents).

The page is server-rendered (templates/compose/compose.html); the editor and everything interactive are in
static/js/compose.js with Squire and DOMPurify vendored under static/vendor. The page's starting state (fields,
body, uploads, identities, signatures, limits and the script's messages in the reader's language) is a JSON data
block, never script. Signatures are sanitised on the server before the editor sees them.

The page's Content-Security-Policy is the site's with one addition: `style-src-attr 'unsafe-inline'`, because
formatting in a rich-text editor is style attributes (font, colour, alignment). Scripts stay 'self' only.
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from yizhan.mail.sanitize import sanitize_html
from yizhan.util.errors import InvalidInput
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.i18n import current
from yizhan.web.render import render
from yizhan.web.security import CSP
from yizhan.web.signin import safe_next
from yizhan.web.ui import compose_send, compose_uploads
from yizhan.web.ui.compose_prefill import (
    Initial,
    draft_initial,
    forward_initial,
    mailto_initial,
    reply_initial,
)
from yizhan.web.ui.compose_strings import FONTS, SIZES, script_messages
from yizhan.web.ui.compose_uploads import describe, upload_service

router = APIRouter()
router.include_router(compose_uploads.router)
router.include_router(compose_send.router)
COMPOSE_CSP = CSP + "; style-src-attr 'unsafe-inline'"
MAX_QUERY = 200


def _signature_html(body: str, format: str) -> str:
    if format == "html":
        return sanitize_html(body).html
    return "<br>".join(html.escape(line) for line in body.split("\n"))


def _json_block(value: Any) -> str:
    """JSON safe inside <script type="application/json"> (no "</" or "<!--" can end or confuse the block)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")


@router.get("/compose")
async def compose_page(
    request: Request, principal: Annotated[Principal, Depends(require_account)],
    reply: Annotated[str, Query(max_length=40)] = "", all: Annotated[str, Query(max_length=5)] = "",
    forward: Annotated[str, Query(max_length=40)] = "", attach: Annotated[str, Query(max_length=5)] = "",
    draft: Annotated[str, Query(max_length=40)] = "", to: Annotated[str, Query(max_length=5000)] = "",
    cc: Annotated[str, Query(max_length=5000)] = "", subject: Annotated[str, Query(max_length=998)] = "",
    body: Annotated[str, Query(max_length=100_000)] = "", back: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    services = web_state(request).services
    account = principal.account
    i18n = current()
    uploads = await upload_service(request)
    identities = await services.compose.identities(account)
    if sum(bool(x) for x in (reply, forward, draft)) > 1:
        raise InvalidInput(i18n.gettext("Give only one of reply, forward and draft."))
    if reply:
        initial = await reply_initial(services, uploads, account, reply, identities, i18n,
                                      reply_all=all in ("1", "true", "yes"))
    elif forward:
        initial = await forward_initial(services, uploads, account, forward, i18n,
                                        as_attachment=attach in ("1", "true", "yes"))
    elif draft:
        initial = await draft_initial(services, uploads, account, draft)
    else:
        initial = mailto_initial(to, cc, subject, body) if (to or cc or subject or body) else Initial()
    back_to = safe_next(back) if back else "/mail"
    settings = await services.account_settings.get(account)
    signatures = [{"id": s.id, "name": s.name, "html": _signature_html(s.body, s.format),
                   "text": s.body if s.format == "plain" else "", "default": s.is_default}
                  for s in settings.signatures]
    if initial.from_address.lower() not in {i.lower() for i in identities}:
        initial.from_address = identities[0]
    state = {
        "from": initial.from_address, "to": initial.to, "cc": initial.cc, "bcc": initial.bcc,
        "subject": initial.subject, "html": initial.html, "text": initial.text, "mode": initial.mode,
        "attachments": [describe(u, u.content_type.startswith("image/")) for u in initial.attachments],
        "source": initial.source, "draft_uid": initial.draft_uid, "priority": initial.priority,
        "receipt": initial.receipt, "has_signature": initial.has_signature, "signatures": signatures,
        "back": back_to,
        "limits": {"max_file_bytes": uploads.limits.max_file_bytes, "max_total_bytes": uploads.limits.max_total_bytes,
                   "max_count": uploads.limits.max_count, "max_message_bytes": services.compose.limits.max_bytes},
        "messages": script_messages(i18n),
    }
    title = initial.subject or i18n.gettext("New message")
    response = render(request, "compose/compose.html", {
        "state_json": _json_block(state), "initial": initial, "identities": identities,
        "display_name": account.display_name, "signatures": signatures, "fonts": FONTS, "sizes": SIZES,
        "title": title, "back": back_to})
    response.headers["Content-Security-Policy"] = COMPOSE_CSP
    return response


@router.get("/compose/recipients")
async def recipients(request: Request, principal: Annotated[Principal, Depends(require_account)],
                     q: Annotated[str, Query(max_length=MAX_QUERY)] = "") -> Response:
    """Suggestions for a recipient field: [{name, address, source, label}]."""
    services = web_state(request).services
    text = q.strip()
    found = await services.contacts.autocomplete(principal.account, text, 8) if text else []
    return JSONResponse({"suggestions": [
        {"name": s.name, "address": s.address, "source": s.source,
         "label": f"{s.name} <{s.address}>" if s.name else s.address} for s in found]})
