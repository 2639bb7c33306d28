"""The reading pane: one message (`GET /mail/read/{folder_id}/{uid}`, `?pane=1` for the fragment the message
list loads into its pane), its conversation (`GET /mail/thread/{folder_id}/{uid}`), and what the reader does there.

- Opening a message sets \\Seen (after the view is built). The page shows the decoded headers (dates in the
  reader's time zone), flags, actions (reply, reply all, forward, forward as attachment → /compose; star, unread,
  delete, move, spam), the body in an `<iframe sandbox>` served by read_files.py, the remote-image bar, the
  read-receipt question, and the attachments.
- Writes (`POST …/flags`, `…/move`, `…/images`, `…/receipt`) are forms with the CSRF token; under htmx they answer
  the updated fragment (with an `HX-Trigger: yizhan:messages-changed` event the list can listen to), without it a
  303 back to the page.
- The conversation: every message of the thread (WebmailService.conversation: same thread id in the account, not
  in Trash/Junk), oldest first; the last one open (and marked \\Seen), the others collapsed to sender, date and
  preview.

Every lookup is scoped to the signed-in account: a foreign folder id or UID is 404 like a missing one.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.services.webmail import MessageRef
from yizhan.store.records import AccountRecord
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.i18n import N_
from yizhan.web.render import render
from yizhan.web.ui.read_common import MAX_FOLDER_ID, MAX_UID, PAGE_CSP, is_htmx, readers
from yizhan.web.ui.read_model import Reading, reading_of, sender_address

router = APIRouter()

FolderId = Annotated[int, Path(ge=1, le=MAX_FOLDER_ID)]
Uid = Annotated[int, Path(ge=1, le=MAX_UID)]
Account = Annotated[Principal, Depends(require_account)]
MAX_THREAD = 100

_FLAG_ACTIONS = ("read", "unread", "flag", "unflag")
_MOVE_ACTIONS = ("move", "delete", "spam", "notspam")
_DONE = {"move": N_("The message was moved."), "delete": N_("The message was deleted."),
         "spam": N_("The message was moved to Junk."), "notspam": N_("The message was moved to the Inbox.")}


async def _reading(request: Request, account: AccountRecord, folder_id: int, uid: int, *, mark_seen: bool,
                   images_once: bool = False) -> Reading:
    services = readers(request)
    folder = await services.reading.folder_by_id(account.id, folder_id)
    opened = await services.reading.open(account.id, folder.name, uid, mark_seen=mark_seen)
    return await reading_of(request, account, opened, images_once=images_once)


def _page(request: Request, template: str, context: dict[str, object], *, pane: bool,
          headers: dict[str, str] | None = None) -> Response:
    values = {**context, "pane": pane}
    all_headers = {"Content-Security-Policy": PAGE_CSP, **(headers or {})}
    return render(request, template if not pane else template.replace(".html", "_pane.html"), values,
                  headers=all_headers)


@router.get("/mail/read/{folder_id}/{uid}")
async def read_message(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                       pane: Annotated[bool, Query()] = False, images: Annotated[bool, Query()] = False) -> Response:
    reading = await _reading(request, principal.account, folder_id, uid, mark_seen=True, images_once=images)
    return _page(request, "read/page.html", {"m": reading}, pane=pane)


async def _after_write(request: Request, principal: Principal, folder_id: int, uid: int, event: str) -> Response:
    if not is_htmx(request):
        return RedirectResponse(f"/mail/read/{folder_id}/{uid}", status_code=303)
    reading = await _reading(request, principal.account, folder_id, uid, mark_seen=False)
    trigger = json.dumps({"yizhan:messages-changed": {"ref": f"{folder_id}:{uid}", "what": event}})
    return _page(request, "read/page.html", {"m": reading}, pane=True, headers={"HX-Trigger": trigger})


@router.post("/mail/read/{folder_id}/{uid}/flags")
async def change_flags(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                       action: Annotated[str, Form(max_length=20)]) -> Response:
    if action not in _FLAG_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(_FLAG_ACTIONS)}")
    webmail = readers(request).webmail
    await webmail.message(principal.account.id, MessageRef(folder_id, uid))
    await webmail.act(principal.account.id, [MessageRef(folder_id, uid)], action)  # type: ignore[arg-type]
    return await _after_write(request, principal, folder_id, uid, action)


@router.post("/mail/read/{folder_id}/{uid}/move")
async def move_message(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                       action: Annotated[str, Form(max_length=20)],
                       target: Annotated[int | None, Form(ge=1, le=MAX_FOLDER_ID)] = None) -> Response:
    if action not in _MOVE_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(_MOVE_ACTIONS)}")
    webmail = readers(request).webmail
    ref = MessageRef(folder_id, uid)
    await webmail.message(principal.account.id, ref)
    result = await webmail.act(principal.account.id, [ref], action, target)  # type: ignore[arg-type]
    i18n = request.state.i18n
    if not is_htmx(request):
        return RedirectResponse("/mail", status_code=303)
    moved = result.moved.get(ref)
    trigger = json.dumps({"yizhan:messages-changed": {"ref": str(ref), "what": action,
                                                      "moved_to": str(moved) if moved else None}})
    return render(request, "read/gone_pane.html", {"message": i18n.gettext(_DONE[action]),
                                                   "moved": moved}, headers={"HX-Trigger": trigger})


@router.post("/mail/read/{folder_id}/{uid}/images")
async def always_show_images(request: Request, principal: Account, folder_id: FolderId, uid: Uid) -> Response:
    """Always show remote images from this message's sender (its address joins the account's list)."""
    reading = await _reading(request, principal.account, folder_id, uid, mark_seen=False)
    sender = sender_address(reading.view)
    if not sender:
        raise InvalidInput("this message has no sender address to trust")
    await web_state(request).services.account_settings.allow_images_from(principal.account.id, sender)
    return await _after_write(request, principal, folder_id, uid, "images")


@router.post("/mail/read/{folder_id}/{uid}/receipt")
async def read_receipt(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                       decision: Annotated[str, Form(max_length=10)]) -> Response:
    """Send the read receipt the message asks for, or decline it (RFC 8098; once per message, RFC 3503)."""
    if decision not in ("send", "ignore"):
        raise InvalidInput("decision must be send or ignore")
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    if decision == "send":
        await services.receipts.send(principal.account, folder, uid)
    else:
        await services.receipts.ignore(principal.account, folder, uid)
    return await _after_write(request, principal, folder_id, uid, "receipt")


@router.get("/mail/thread/{folder_id}/{uid}")
async def read_thread(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                      pane: Annotated[bool, Query()] = False, images: Annotated[bool, Query()] = False) -> Response:
    account = principal.account
    services = readers(request)
    try:
        summaries = await services.webmail.conversation(account.id, MessageRef(folder_id, uid))
    except NotFound:
        raise NotFound("no such message") from None
    summaries = sorted(summaries, key=lambda s: (s.date, s.internal_date, s.folder_id, s.uid))[-MAX_THREAD:]
    last = summaries[-1]
    reading = await _reading(request, account, last.folder_id, last.uid, mark_seen=True, images_once=images)
    i18n = request.state.i18n
    earlier = [{"summary": s, "date_text": i18n.datetime(s.date or s.internal_date),
                "seen": "\\Seen" in s.flags} for s in summaries[:-1]]
    return _page(request, "read/thread.html", {"m": reading, "earlier": earlier, "count": len(summaries),
                                               "asked": f"{folder_id}:{uid}"}, pane=pane)
