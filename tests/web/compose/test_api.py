"""API v1: send, drafts and uploads, with clear 4xx answers."""

from __future__ import annotations

import base64

from tests.web.compose.conftest import BOB, BOB_PASSWORD, PNG, add_bob, inbox_of, signed_in
from tests.web.conftest import ADDRESS, Web


async def test_api_send_with_base64_attachment_inline_image_and_upload(web: Web) -> None:
    await add_bob(web)
    async with signed_in(web) as client:
        uploaded = await client.http.post("/api/v1/uploads", files={"file": ("数据.csv", "甲,乙\n".encode())},
                                          headers={"X-CSRF-Token": client.csrf})
        assert uploaded.status_code == 201 and uploaded.json()["filename"] == "数据.csv"
        reply = await client.post_json("/api/v1/send", {
            "from": ADDRESS, "to": ["bob@example.com"], "subject": "API 发信",
            "html": '<p><i>斜体</i><img src="cid:logo@x"><img src="cid:unknown@x"></p>',
            "attachments": [{"upload_id": uploaded.json()["id"]},
                            {"filename": "说明.txt", "content_type": "text/plain",
                             "content_base64": base64.b64encode("说明文字".encode()).decode()}],
            "inline_images": [{"cid": "logo@x", "content_base64": base64.b64encode(PNG).decode(),
                               "filename": "logo.png"}],
            "in_reply_to": "<earlier@example.com>", "references": ["<earlier@example.com>"], "receipt": True})
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert body["recipients"] == [BOB] and body["sent_folder"] == "Sent" and body["sent_uid"] >= 1
        assert body["message_id"].startswith("<") and body["message_id"].endswith("@example.com>")
    bob_uid, raw = (await inbox_of(web, BOB))[0]
    assert b"In-Reply-To: <earlier@example.com>" in raw and b"Disposition-Notification-To" in raw
    bob = await web.services.directory.account(BOB)
    view = (await web.services.reading.open(bob.id, "INBOX", bob_uid)).view
    assert view.subject == "API 发信" and "<i>斜体</i>" in view.body_html
    assert sorted(a.filename for a in view.attachments if not a.is_inline) == ["数据.csv", "说明.txt"]
    assert [cid for cid, _ in view.inline_parts] == ["logo@x"]
    assert "cid:unknown@x" not in raw.decode("utf-8", "replace")


async def test_api_errors_are_4xx_naming_what_to_fix(web: Web) -> None:
    async with signed_in(web) as client:
        bad = await client.post_json("/api/v1/send", {"from": ADDRESS, "to": ["bob@example.com", "bob@@x"],
                                                       "subject": "x", "text": "y"})
        assert bad.status_code == 400
        assert "bob@@x" in bad.json()["error"]["message"]
        assert bad.json()["error"]["fields"][0]["field"] == "to"
        schema = await client.post_json("/api/v1/send", {"from": ADDRESS, "to": "not a list", "priority": 9})
        assert schema.status_code == 422
        assert {f["field"] for f in schema.json()["error"]["fields"]} >= {"to", "priority"}
        both = await client.post_json("/api/v1/send", {"from": ADDRESS, "to": [ADDRESS], "attachments": [
            {"upload_id": "x" * 24, "content_base64": "AAAA"}]})
        assert both.status_code == 422
        not_b64 = await client.post_json("/api/v1/send", {"from": ADDRESS, "to": [ADDRESS], "attachments": [
            {"filename": "a.bin", "content_base64": "***"}]})
        assert not_b64.status_code == 400 and "base64" in not_b64.json()["error"]["message"]
        missing = await client.post_json("/api/v1/send", {"from": ADDRESS, "to": [ADDRESS], "attachments": [
            {"upload_id": "y" * 24}]})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        no_csrf = await client.http.post("/api/v1/send", json={"from": ADDRESS, "to": [ADDRESS], "text": "x"})
        assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    alice = await web.services.directory.account(ADDRESS)
    assert (await web.services.mailbox.folder(alice.id, "INBOX")).exists_count == 0


async def test_api_drafts_create_replace_delete_and_isolation(web: Web) -> None:
    await add_bob(web)
    alice = await web.services.directory.account(ADDRESS)
    async with signed_in(web) as client:
        created = await client.post_json("/api/v1/drafts", {"from": ADDRESS, "to": ["half@"], "subject": "v1",
                                                            "text": "第一稿"})
        assert created.status_code == 201, created.text
        uid = created.json()["uid"]
        replaced = await client.http.put(f"/api/v1/drafts/{uid}", json={"from": ADDRESS, "subject": "v2",
                                                                        "text": "第二稿"},
                                         headers={"X-CSRF-Token": client.csrf})
        assert replaced.status_code == 200 and replaced.json()["uid"] != uid
        drafts = await web.services.mailbox.open(alice.id, "Drafts")
        assert [e.uid for e in drafts.entries] == [replaced.json()["uid"]]
        gone = await client.http.put(f"/api/v1/drafts/{uid}", json={"from": ADDRESS, "text": "x"},
                                     headers={"X-CSRF-Token": client.csrf})
        assert gone.status_code == 404
    async with signed_in(web, BOB, BOB_PASSWORD) as bob:
        theirs = await bob.http.delete(f"/api/v1/drafts/{replaced.json()['uid']}",
                                       headers={"X-CSRF-Token": bob.csrf})
        assert theirs.status_code == 404
    async with signed_in(web) as client:
        deleted = await client.http.delete(f"/api/v1/drafts/{replaced.json()['uid']}",
                                           headers={"X-CSRF-Token": client.csrf})
        assert deleted.status_code == 204
    assert (await web.services.mailbox.open(alice.id, "Drafts")).entries == []


async def test_api_is_in_the_openapi_schema(web: Web) -> None:
    async with web.client() as client:
        schema = (await client.get("/api/openapi.json")).json()
    for path in ("/api/v1/send", "/api/v1/drafts", "/api/v1/drafts/{uid}", "/api/v1/uploads"):
        assert path in schema["paths"], path
