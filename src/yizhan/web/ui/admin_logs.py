"""Admin console pages for the outbound queue (list, inspect the headers, retry now, delete silently) and the two
logs: deliveries (by address, Message-ID, dates) and the admin audit log (by actor, action, dates). Admins only
(the service refuses domain-admins). The logs are read-only: no route here or anywhere changes them.

Paging of the logs is by id: the "older" link carries `before` = the last id shown.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.web.ui.admin_common import Staff, page, parse_day, parse_int

router = APIRouter()

PAGE = 50


@router.get("/admin/queue")
async def queue(request: Request, admin: Staff) -> Response:
    return page(request, admin, "admin/queue.html", {"messages": await admin.queue()})


@router.get("/admin/queue/{queue_id}")
async def queued(request: Request, admin: Staff, queue_id: str) -> Response:
    message, headers = await admin.queued(queue_id)
    return page(request, admin, "admin/queued.html", {"message": message, "headers": headers})


@router.post("/admin/queue/{queue_id}/retry")
async def retry(admin: Staff, queue_id: str) -> Response:
    await admin.retry_queued(queue_id)
    return RedirectResponse("/admin/queue?notice=queue-retried", status_code=303)


@router.post("/admin/queue/{queue_id}/delete")
async def delete(admin: Staff, queue_id: str) -> Response:
    await admin.delete_queued(queue_id)
    return RedirectResponse("/admin/queue?notice=queue-deleted", status_code=303)


@router.get("/admin/deliveries")
async def deliveries(request: Request, admin: Staff, address: str = "", message_id: str = "", since: str = "",
                     until: str = "", before: str = "") -> Response:
    found = await admin.delivery_log(address[:320].strip() or None, message_id[:500].strip() or None,
                                     parse_day(since[:20]), parse_day(until[:20], end=True),
                                     parse_int(before[:20], "before", 1), PAGE)
    query = {"address": address[:320], "message_id": message_id[:500], "since": since[:20], "until": until[:20]}
    return page(request, admin, "admin/deliveries.html", {
        "entries": found, "query": query, "older": found[-1].id if len(found) == PAGE else None})


@router.get("/admin/audit")
async def audit(request: Request, admin: Staff, actor: str = "", action: str = "", since: str = "", until: str = "",
                before: str = "") -> Response:
    found = await admin.audit_log(actor[:320].strip() or None, action[:64].strip() or None, parse_day(since[:20]),
                                  parse_day(until[:20], end=True), parse_int(before[:20], "before", 1), PAGE)
    query = {"actor": actor[:320], "action": action[:64], "since": since[:20], "until": until[:20]}
    return page(request, admin, "admin/audit.html", {
        "entries": found, "query": query, "older": found[-1].id if len(found) == PAGE else None})
