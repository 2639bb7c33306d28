"""The admin API, /api/v1/admin/*: domains, accounts (with the CSV import), aliases, the outbound queue, the
delivery and audit logs, and the server status — the same use cases as the admin console, through services/admin.py.

The caller must be an admin or a domain-admin and, with an API token, hold the "admin" scope (403 otherwise);
what each role may do within is the admin service's decision (a domain-admin gets 404 for other domains' things).
Lists page with `limit` and `cursor` (web/api/v1/paging.py); the logs' cursors name the last entry seen. Logs are
read-only: there is no route that changes or removes an entry.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from yizhan.util.errors import InvalidInput
from yizhan.web.api.v1.admin_models import (
    AccountCreate,
    AccountCreated,
    AccountList,
    AccountOut,
    AccountPatch,
    AliasIn,
    AliasList,
    AliasOut,
    AuditList,
    AuditOut,
    DeliveryList,
    DeliveryOut,
    DomainIn,
    DomainList,
    DomainOut,
    DomainSetupOut,
    ImportIn,
    ImportOut,
    PasswordIn,
    PasswordOut,
    QueuedDetail,
    QueuedOut,
    QueueList,
    RetryOut,
    StatusOut,
)
from yizhan.web.api.v1.paging import Cursor, Limit, offset_page
from yizhan.web.deps import web_state
from yizhan.web.ui.admin_common import ApiStaff

router = APIRouter(prefix="/admin", tags=["admin"])

Address = Annotated[str, Query(max_length=320)]
Since = Annotated[int | None, Query(ge=0, le=2**40, description="From this instant (epoch seconds), inclusive")]
Until = Annotated[int | None, Query(ge=0, le=2**40, description="Before this instant (epoch seconds)")]


def _id_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"b:{entry_id}".encode("ascii")).rstrip(b"=").decode("ascii")


def _before_id(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "b" or not number.isdigit() or len(number) > 18:
        raise InvalidInput("cursor: this is not a cursor this API gave out; leave it out to start from the first "
                           "page")
    return int(number)


# Domains


@router.get("/domains", response_model=DomainList, summary="Hosted domains with their account and alias counts")
async def list_domains(admin: ApiStaff) -> DomainList:
    return DomainList(domains=[DomainOut(name=s.domain.name, accounts=s.accounts, aliases=s.aliases,
                                         created_at=s.domain.created_at) for s in await admin.domains()])


@router.post("/domains", response_model=DomainOut, status_code=201, summary="Add a domain (admins only)")
async def add_domain(admin: ApiStaff, body: DomainIn) -> DomainOut:
    domain = await admin.add_domain(body.name)
    return DomainOut(name=domain.name, accounts=0, aliases=0, created_at=domain.created_at)


@router.delete("/domains/{name}", status_code=204, summary="Remove a domain (admins only)",
               description="A domain with accounts or aliases is refused (400) unless `force` is true, which "
                           "deletes them with all their mail.")
async def remove_domain(admin: ApiStaff, name: str, force: bool = False) -> Response:
    await admin.remove_domain(name, force=force)
    return Response(status_code=204)


@router.get("/domains/{name}/setup", response_model=DomainSetupOut,
            summary="Mail client settings for the domain's users and the DNS records to publish")
async def domain_setup(request: Request, admin: ApiStaff, name: str) -> DomainSetupOut:
    return DomainSetupOut.of(await admin.domain_setup(name, web_state(request).ports()))


# Accounts


@router.get("/accounts", response_model=AccountList, summary="Accounts, searched by address or name")
async def list_accounts(admin: ApiStaff, q: Annotated[str, Query(max_length=200)] = "",
                        domain: Annotated[str | None, Query(max_length=253)] = None, limit: Limit = 50,
                        cursor: Cursor = None) -> AccountList:
    position = offset_page(cursor, limit)
    found = await admin.accounts(q, domain, position.offset, position.limit)
    more = position.offset + len(found.accounts) < found.total
    return AccountList(accounts=[AccountOut.of(a) for a in found.accounts], total=found.total,
                       next_cursor=position.next_cursor(len(found.accounts)) if more else None)


@router.post("/accounts", response_model=AccountCreated, status_code=201, summary="Create an account")
async def create_account(admin: ApiStaff, body: AccountCreate) -> AccountCreated:
    created = await admin.create_account(body.address, body.password or "", body.display_name, body.role,
                                         body.quota_bytes)
    return AccountCreated(account=AccountOut.of(created.account), generated_password=created.password or None)


@router.post("/accounts/import", response_model=ImportOut, summary="Create accounts from CSV rows",
             description="Each row is checked like a single creation; rejected rows are listed with the reason.")
async def import_accounts(admin: ApiStaff, body: ImportIn) -> ImportOut:
    return ImportOut.of(await admin.import_accounts(body.csv))


@router.get("/accounts/{address}", response_model=AccountOut, summary="One account")
async def get_account(admin: ApiStaff, address: str) -> AccountOut:
    return AccountOut.of(await admin.account(address))


@router.patch("/accounts/{address}", response_model=AccountOut,
              summary="Change an account's display name, role, quota or disabled state")
async def update_account(admin: ApiStaff, address: str, body: AccountPatch) -> AccountOut:
    return AccountOut.of(await admin.update_account(address, display_name=body.display_name, role=body.role,
                                                    quota_bytes=body.quota_bytes, disabled=body.disabled))


@router.post("/accounts/{address}/password", response_model=PasswordOut,
             summary="Set a new password (generated when none is given); ends the account's sessions")
async def reset_password(admin: ApiStaff, address: str, body: PasswordIn) -> PasswordOut:
    generated = await admin.reset_password(address, body.password or "")
    return PasswordOut(generated_password=generated or None)


@router.delete("/accounts/{address}", status_code=204, summary="Delete an account with all its mail")
async def delete_account(admin: ApiStaff, address: str) -> Response:
    await admin.delete_account(address)
    return Response(status_code=204)


# Aliases


@router.get("/aliases", response_model=AliasList, summary="Aliases and catch-alls (@domain)")
async def list_aliases(admin: ApiStaff, domain: Annotated[str | None, Query(max_length=253)] = None) -> AliasList:
    grouped: dict[str, list[str]] = {}
    for alias in await admin.aliases(domain):
        grouped.setdefault(alias.source, []).append(alias.target)
    return AliasList(aliases=[AliasOut(source=s, targets=t) for s, t in sorted(grouped.items())])


@router.post("/aliases", response_model=AliasOut, status_code=201, summary="Add an alias or a catch-all")
async def add_alias(admin: ApiStaff, body: AliasIn) -> AliasOut:
    added = await admin.add_alias(body.source, body.targets)
    return AliasOut(source=added[0].source, targets=[a.target for a in added])


@router.delete("/aliases", status_code=204, summary="Remove an alias (one target, or all of them)")
async def remove_alias(admin: ApiStaff, source: Address,
                       target: Annotated[str | None, Query(max_length=320)] = None) -> Response:
    await admin.remove_alias(source, target)
    return Response(status_code=204)


# The outbound queue


@router.get("/queue", response_model=QueueList, summary="Queued messages, oldest first (admins only)")
async def list_queue(admin: ApiStaff, limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> QueueList:
    return QueueList(messages=[QueuedOut.of(m) for m in await admin.queue(limit)])


@router.get("/queue/{queue_id}", response_model=QueuedDetail, summary="A queued message with its header")
async def get_queued(admin: ApiStaff, queue_id: Annotated[str, Path(max_length=64)]) -> QueuedDetail:
    message, headers = await admin.queued(queue_id)
    return QueuedDetail(**QueuedOut.of(message).model_dump(), headers=headers)


@router.post("/queue/{queue_id}/retry", response_model=RetryOut, summary="Try the pending recipients now")
async def retry_queued(admin: ApiStaff, queue_id: str) -> RetryOut:
    return RetryOut(recipients=await admin.retry_queued(queue_id))


@router.delete("/queue/{queue_id}", status_code=204,
               summary="Remove a message from the queue without sending it (no bounce to the sender)")
async def delete_queued(admin: ApiStaff, queue_id: str) -> Response:
    await admin.delete_queued(queue_id)
    return Response(status_code=204)


# Logs (read-only)


@router.get("/deliveries", response_model=DeliveryList, summary="The delivery log, newest first (admins only)")
async def deliveries(admin: ApiStaff, address: Annotated[str | None, Query(max_length=320)] = None,
                     message_id: Annotated[str | None, Query(max_length=500)] = None, since: Since = None,
                     until: Until = None, limit: Limit = 50, cursor: Cursor = None) -> DeliveryList:
    found = await admin.delivery_log(address, message_id, since, until, _before_id(cursor), limit)
    return DeliveryList(entries=[DeliveryOut.of(r) for r in found],
                        next_cursor=_id_cursor(found[-1].id) if len(found) == limit else None)


@router.get("/audit", response_model=AuditList, summary="The admin audit log, newest first (admins only)")
async def audit(admin: ApiStaff, actor: Annotated[str | None, Query(max_length=320)] = None,
                action: Annotated[str | None, Query(max_length=64)] = None, since: Since = None, until: Until = None,
                limit: Limit = 50, cursor: Cursor = None) -> AuditList:
    found = await admin.audit_log(actor, action, since, until, _before_id(cursor), limit)
    return AuditList(entries=[AuditOut.of(e) for e in found],
                     next_cursor=_id_cursor(found[-1].id) if len(found) == limit else None)


# Status


@router.get("/status", response_model=StatusOut, summary="Listeners, uptime, totals and queue size (admins only)")
async def status(request: Request, admin: ApiStaff) -> StatusOut:
    return StatusOut.of(await admin.status(), web_state(request).ports())
