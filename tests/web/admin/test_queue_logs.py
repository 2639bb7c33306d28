"""The queue, the delivery log and the audit log over real sockets: a real message queued for a domain whose DNS
fails is listed, inspected, retried and deleted; the delivery log shows local deliveries and the queue's attempts;
every admin change leaves an audit entry that no route can change or remove."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi.routing import APIRoute

from tests.mailfactory import make_message
from tests.web.admin.conftest import ADMIN, DOMAIN_ADMIN, JOE, PASSWORD, USER, AdminWeb
from yizhan.web.app import create_app

REMOTE = "bob@unresolvable.test"


async def _eventually(check: Any, seconds: float = 15.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def _queue_one(admin_web: AdminWeb) -> str:
    admin_web.dns.servfail("unresolvable.test")
    services = admin_web.services
    alice = await services.directory.account(USER)
    raw = make_message(subject="to the queue", sender=USER, to=f"{REMOTE}, {JOE}", message_id="<q-1@example.com>")
    await services.submit.submit(alice, raw, USER, [REMOTE, JOE])
    queued = await services.outbound.list()
    assert len(queued) == 1 and [r.address for r in queued[0].recipients] == [REMOTE]
    return str(queued[0].queue_id)


async def _attempts(admin_web: AdminWeb, queue_id: str) -> int:
    message, _ = await admin_web.services.outbound.show(queue_id)
    return int(message.recipients[0].attempts)


async def test_queue_list_inspect_retry_and_delete_on_the_pages(admin_web: AdminWeb) -> None:
    queue_id = await _queue_one(admin_web)
    await _eventually(lambda: _until(admin_web, queue_id, 1))
    async with admin_web.as_(ADMIN) as admin:
        page = await admin.get("/admin/queue")
        row = re.search(rf'<tr data-queue-id="{queue_id}">(.*?)</tr>', page.text, re.S)
        assert row and USER in row.group(1) and REMOTE in row.group(1)
        assert "1 attempt(s)" in row.group(1) and "4.4.3" in row.group(1)  # the temporary DNS failure
        detail = await admin.get(f"/admin/queue/{queue_id}")
        assert "to the queue" in detail.text and "&lt;q-1@example.com&gt;" in detail.text
        retried = await admin.post(f"/admin/queue/{queue_id}/retry")
        assert retried.status_code == 303
        await _eventually(lambda: _until(admin_web, queue_id, 2))
        deleted = await admin.post(f"/admin/queue/{queue_id}/delete")
        assert deleted.status_code == 303
        assert await admin_web.services.outbound.list() == []
        assert queue_id not in (await admin.get("/admin/queue")).text
        assert (await admin.get(f"/admin/queue/{queue_id}")).status_code == 404
        audit = await admin.get("/api/v1/admin/audit", params={"actor": ADMIN})
        actions = [(e["action"], e["target"]) for e in audit.json()["entries"]]
        assert actions[:2] == [("queue.delete", queue_id), ("queue.retry", queue_id)]


async def _until(admin_web: AdminWeb, queue_id: str, attempts: int) -> bool:
    return await _attempts(admin_web, queue_id) >= attempts


async def test_queue_through_the_api(admin_web: AdminWeb) -> None:
    queue_id = await _queue_one(admin_web)
    await _eventually(lambda: _until(admin_web, queue_id, 1))
    async with admin_web.as_(ADMIN) as admin:
        listing = (await admin.get("/api/v1/admin/queue")).json()["messages"]
        assert [(m["queue_id"], m["mail_from"], m["recipients"][0]["address"], m["recipients"][0]["status"])
                for m in listing] == [(queue_id, USER, REMOTE, "pending")]
        detail = (await admin.get(f"/api/v1/admin/queue/{queue_id}")).json()
        assert ["Subject", "to the queue"] in detail["headers"]
        assert (await admin.post(f"/api/v1/admin/queue/{queue_id}/retry")).json() == {"recipients": 1}
        await _eventually(lambda: _until(admin_web, queue_id, 2))
        assert (await admin.delete(f"/api/v1/admin/queue/{queue_id}")).status_code == 204
        assert (await admin.delete(f"/api/v1/admin/queue/{queue_id}")).status_code == 404
    async with admin_web.as_(DOMAIN_ADMIN) as boss:
        assert (await boss.get("/api/v1/admin/queue")).status_code == 403


async def test_delivery_log_shows_local_deliveries_and_queue_attempts(admin_web: AdminWeb) -> None:
    queue_id = await _queue_one(admin_web)
    await _eventually(lambda: _until(admin_web, queue_id, 1))
    await admin_web.services.delivery.delivery_log.flush()
    async with admin_web.as_(ADMIN) as admin:
        async def logged() -> list[dict[str, Any]]:
            reply = await admin.get("/api/v1/admin/deliveries", params={"message_id": "q-1@example.com"})
            entries: list[dict[str, Any]] = reply.json()["entries"]
            return entries if len(entries) >= 2 else []

        entries = await _eventually(logged)
        by_direction = {e["direction"]: e for e in entries}
        assert by_direction["local"]["recipients"] == [JOE] and by_direction["local"]["result"] == "delivered"
        assert by_direction["out"]["recipients"] == [REMOTE] and by_direction["out"]["result"] == "deferred"
        assert queue_id in by_direction["out"]["detail"]
        page = await admin.get("/admin/deliveries", params={"address": JOE})
        assert "q-1@example.com" in page.text and 'data-result="delivered"' in page.text
        empty = await admin.get("/admin/deliveries", params={"address": "nobody@example.com"})
        assert "No entries found." in empty.text
        future = await admin.get("/admin/deliveries", params={"address": JOE, "since": "2999-01-01"})
        assert "q-1@example.com" not in future.text
        bad = await admin.get("/admin/deliveries", params={"since": "yesterday"})
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


async def test_every_change_is_audited_and_the_log_cannot_be_changed(admin_web: AdminWeb) -> None:
    async with admin_web.as_(ADMIN) as admin:
        assert (await admin.post("/api/v1/admin/domains", json={"name": "audit.test"})).status_code == 201
        made = await admin.post("/api/v1/admin/accounts", json={"address": "a@audit.test", "role": "user"})
        assert made.status_code == 201 and made.json()["generated_password"]
        assert (await admin.patch("/api/v1/admin/accounts/a@audit.test", json={"quota_bytes": 1000})).status_code \
            == 200
        assert (await admin.post("/api/v1/admin/accounts/a@audit.test/password", json={})).status_code == 200
        assert (await admin.post("/api/v1/admin/aliases", json={"source": "@audit.test",
                                                                "targets": ["a@audit.test"]})).status_code == 201
        assert (await admin.delete("/api/v1/admin/aliases", params={"source": "@audit.test"})).status_code == 204
        assert (await admin.delete("/api/v1/admin/accounts/a@audit.test")).status_code == 204
        assert (await admin.delete("/api/v1/admin/domains/audit.test")).status_code == 204
        entries = (await admin.get("/api/v1/admin/audit", params={"limit": 8})).json()["entries"]
        assert [e["action"] for e in reversed(entries)] == [
            "domain.add", "account.create", "account.update", "account.password", "alias.add", "alias.remove",
            "account.delete", "domain.remove"]
        assert all(e["actor"] == ADMIN and e["client"] == "127.0.0.1" for e in entries)
        assert entries[5]["details"]["quota_bytes"] == {"from": 0, "to": 1000}
        assert made.json()["generated_password"] not in str(entries)
        first = entries[-1]["id"]
        # No route changes or removes an entry.
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for path in ("/api/v1/admin/audit", f"/api/v1/admin/audit/{first}", "/admin/audit",
                         f"/admin/audit/{first}"):
                reply = await admin.request(method, path, json={"action": "forged"})
                assert reply.status_code in (404, 405), (method, path)
        page = await admin.get("/admin/audit", params={"action": "account.create"})
        assert "a@audit.test" in page.text and "domain.add" not in page.text.split("<tbody>")[1]
        after = (await admin.get("/api/v1/admin/audit", params={"limit": 8})).json()["entries"]
        assert after == entries
    # Every route whose path names the audit log only reads.
    for route in create_app(admin_web.services, b"x" * 32).routes:
        if isinstance(route, APIRoute) and "audit" in route.path:
            assert route.methods <= {"GET", "HEAD"}, (route.path, route.methods)


async def test_api_roles_scopes_and_paging(admin_web: AdminWeb) -> None:
    async with admin_web.as_(USER, PASSWORD) as user:
        for method, path in (("GET", "/api/v1/admin/accounts"), ("GET", "/api/v1/admin/domains"),
                             ("POST", "/api/v1/admin/domains"), ("GET", "/api/v1/admin/status")):
            reply = await user.request(method, path, json={"name": "x.test"})
            assert reply.status_code == 403 and reply.json()["error"]["code"] == "permission_denied", path
    async with admin_web.as_(DOMAIN_ADMIN) as boss:
        foreign = await boss.get(f"/api/v1/admin/accounts/{USER}")
        assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
        made = await boss.post("/api/v1/admin/accounts", json={"address": "x@other.org", "role": "admin"})
        assert made.status_code == 403
        own = await boss.patch(f"/api/v1/admin/accounts/{DOMAIN_ADMIN}", json={"role": "user"})
        assert own.status_code == 403
        report = await boss.post("/api/v1/admin/accounts/import",
                                 json={"csv": "p1@other.org\np2@other.org,P2,,5M\nq@example.com\n"})
        body = report.json()
        assert [c["address"] for c in body["created"]] == ["p1@other.org", "p2@other.org"]
        assert [(r["line"], r["address"]) for r in body["rejected"]] == [(3, "q@example.com")]
        pages: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            reply = (await boss.get("/api/v1/admin/accounts", params=params)).json()
            pages += [a["address"] for a in reply["accounts"]]
            cursor = reply["next_cursor"]
            if not cursor:
                break
        assert pages == sorted(pages) and set(pages) == {DOMAIN_ADMIN, JOE, "p1@other.org", "p2@other.org"}
        assert reply["total"] == 4
        bad = await boss.get("/api/v1/admin/accounts", params={"cursor": "nonsense"})
        assert bad.status_code == 400
    async with admin_web.as_(ADMIN) as admin:
        status = (await admin.get("/api/v1/admin/status")).json()
        assert status["listeners"]["http"] == admin_web.web.server.port("http")
        assert status["totals"]["accounts"] == 7 and status["uptime_seconds"] >= 0
        setup = (await admin.get("/api/v1/admin/domains/other.org/setup")).json()
        assert {e["listener"] for e in setup["endpoints"]} >= {"imaps", "submission"}
        assert setup["dns_records"][0]["type"] == "MX"
        invalid = await admin.post("/api/v1/admin/accounts", json={"address": "no-at-sign"})
        assert invalid.status_code == 400 and "valid mail address" in invalid.json()["error"]["message"]
        too_big = await admin.post("/api/v1/admin/accounts", json={"address": "big@other.org", "quota_bytes": -1})
        assert too_big.status_code == 422


async def test_api_tokens_need_the_admin_scope(admin_web: AdminWeb) -> None:
    tokens = admin_web.services.tokens
    root = await admin_web.services.directory.account(ADMIN)
    boss = await admin_web.services.directory.account(DOMAIN_ADMIN)
    plain = await tokens.create(root, "no admin", ["read", "write"])
    full = await tokens.create(root, "admin", ["read", "write", "admin"])
    confined = await tokens.create(boss, "boss", ["read", "admin"])
    async with admin_web.web.client() as client:
        refused = await client.get("/api/v1/admin/accounts", headers={"Authorization": f"Bearer {plain.secret}"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
        allowed = await client.get("/api/v1/admin/accounts", headers={"Authorization": f"Bearer {full.secret}"})
        assert allowed.status_code == 200 and USER in [a["address"] for a in allowed.json()["accounts"]]
        # A bearer token needs no CSRF token; the change is audited like any other.
        made = await client.post("/api/v1/admin/domains", json={"name": "token.test"},
                                 headers={"Authorization": f"Bearer {full.secret}"})
        assert made.status_code == 201
        mine = await client.get("/api/v1/admin/accounts", headers={"Authorization": f"Bearer {confined.secret}"})
        assert {a["address"] for a in mine.json()["accounts"]} == {DOMAIN_ADMIN, JOE}
        foreign = await client.get(f"/api/v1/admin/accounts/{USER}",
                                   headers={"Authorization": f"Bearer {confined.secret}"})
        assert foreign.status_code == 404
    entries = await admin_web.services.audit.query(action="domain.add")
    assert [(e.actor, e.target) for e in entries] == [(ADMIN, "token.test")]
