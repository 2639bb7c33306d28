"""Reply, reply-all, forward (inline and as attachment) and drafts: prefilled from the store, threading kept."""

from __future__ import annotations

import html as htmlmod
import json
import re
from typing import Any

from tests.mailfactory import make_message
from tests.web.compose.conftest import BOB, BOB_PASSWORD, PNG, Client, add_bob, inbox_of, signed_in
from tests.web.conftest import ADDRESS, Web


def state_of(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="compose-state">(.*?)</script>', page, re.DOTALL)
    assert found
    value: dict[str, Any] = json.loads(found.group(1))
    return value


async def _original(web: Web, **kwargs: Any) -> tuple[int, int]:
    """Deliver a message from Bob to Alice; (INBOX folder id, uid)."""
    raw = make_message(sender="Bob Li <bob@example.com>", to=f"{ADDRESS}, carol@example.org", **kwargs)
    await web.services.delivery.deliver(raw, BOB, [ADDRESS])
    alice = await web.services.directory.account(ADDRESS)
    inbox = await web.services.mailbox.folder(alice.id, "INBOX")
    return inbox.id, inbox.uidnext - 1


async def _send(client: Client, state: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {"from": state["from"], "to": [state["to"]] if state["to"] else [], "cc": [state["cc"]] if state["cc"]
            else [], "subject": state["subject"], "html": state["html"], "source": state["source"],
            "attachments": [a["id"] for a in state["attachments"]], "draft_uid": state["draft_uid"],
            "priority": state["priority"], "receipt": state["receipt"]}
    body.update(changes)
    reply = await client.post_json("/compose/send", body)
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def test_reply_quotes_in_the_users_language_and_keeps_the_thread(web: Web) -> None:
    await add_bob(web)
    folder_id, uid = await _original(web, subject="会议安排", body="周五下午三点开会。",
                                     message_id="<orig@example.com>", in_reply_to="<root@example.com>")
    async with signed_in(web) as client:
        page = await client.http.get(f"/compose?reply={folder_id}:{uid}", headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200
        state = state_of(page.text)
        assert state["subject"] == "Re: 会议安排"
        assert 'value="Re: 会议安排"' in page.text
        assert "写道" in state["html"] and "周五下午三点开会。" in state["html"] and "<blockquote" in state["html"]
        assert state["to"] == "Bob Li <bob@example.com>" and state["cc"] == ""
        assert "<orig@example.com>" not in page.text  # threading stays on the server
        everyone = state_of((await client.http.get(f"/compose?reply={folder_id}:{uid}&all=1")).text)
        assert "carol@example.org" in everyone["to"] + everyone["cc"] and ADDRESS not in everyone["to"]
        # The browser cannot choose the threading headers: it names the source, which is read again.
        await _send(client, state, html="<div>好的</div>" + state["html"])
    raw = (await inbox_of(web, BOB))[0][1]
    assert b"In-Reply-To: <orig@example.com>" in raw
    assert re.search(rb"References: <root@example.com>\s+<orig@example.com>", raw)
    alice = await web.services.directory.account(ADDRESS)
    inbox = await web.services.mailbox.folder(alice.id, "INBOX")
    assert "\\Answered" in (await web.services.mailbox.fetch_data(inbox, [uid]))[0].flags


async def test_a_reference_to_another_accounts_message_is_404_and_never_threads(web: Web) -> None:
    await add_bob(web)
    folder_id, uid = await _original(web, subject="Alice's", message_id="<private@example.com>")
    async with signed_in(web, BOB, BOB_PASSWORD) as bob:
        for query in (f"reply={folder_id}:{uid}", f"forward={folder_id}:{uid}", f"draft={folder_id}:{uid}",
                      f"reply={folder_id}:{uid + 1}"):
            assert (await bob.http.get(f"/compose?{query}")).status_code == 404, query
        assert (await bob.http.get("/compose?reply=x:1")).status_code == 400
        sent = await bob.post_json("/compose/send", {"from": BOB, "to": [BOB], "subject": "x", "text": "hi",
                                                     "source": f"reply:{folder_id}:{uid}"})
        assert sent.status_code == 201
    raw = (await inbox_of(web, BOB))[0][1]
    assert b"private@example.com" not in raw
    alice = await web.services.directory.account(ADDRESS)
    inbox = await web.services.mailbox.folder(alice.id, "INBOX")
    assert "\\Answered" not in (await web.services.mailbox.fetch_data(inbox, [uid]))[0].flags


async def test_forward_as_attachment_and_inline(web: Web) -> None:
    await add_bob(web)
    folder_id, uid = await _original(web, subject="合同", body="见附件", attachment=("合同.docx", b"DOCX bytes"))
    async with signed_in(web) as client:
        state = state_of((await client.http.get(f"/compose?forward={folder_id}:{uid}&attach=1")).text)
        assert state["subject"] == "Fwd: 合同"
        assert [a["content_type"] for a in state["attachments"]] == ["message/rfc822"]
        assert state["attachments"][0]["filename"].endswith(".eml")
        await _send(client, state, to=[BOB])
        inline = state_of((await client.http.get(f"/compose?forward={folder_id}:{uid}")).text)
        assert [a["filename"] for a in inline["attachments"]] == ["合同.docx"]
        assert "Forwarded message" in inline["html"] and "见附件" in inline["html"]
    bob_uid, raw = (await inbox_of(web, BOB))[0]
    assert b"Content-Type: message/rfc822" in raw
    bob = await web.services.directory.account(BOB)
    view = (await web.services.reading.open(bob.id, "INBOX", bob_uid)).view
    message = [a for a in view.attachments if a.is_message]
    assert len(message) == 1 and message[0].filename == "合同.eml"
    forwarded = await web.services.reading.attached(bob.id, "INBOX", bob_uid, message[0].path)
    assert forwarded.subject == "合同" and "见附件" in forwarded.body_text
    assert [a.filename for a in forwarded.attachments] == ["合同.docx"]
    alice = await web.services.directory.account(ADDRESS)
    inbox = await web.services.mailbox.folder(alice.id, "INBOX")
    assert "$Forwarded" in (await web.services.mailbox.fetch_data(inbox, [uid]))[0].flags


async def test_draft_saved_replaced_continued_and_removed_on_send(web: Web) -> None:
    await add_bob(web)
    alice = await web.services.directory.account(ADDRESS)
    async with signed_in(web) as client:
        image = (await client.upload("logo.png", PNG, "image/png", inline=True)).json()
        attached = (await client.upload("清单.txt", "一二三".encode(), "text/plain")).json()
        draft = {"from": ADDRESS, "to": ["bob@example.com, unfinished"], "bcc": ["carol@example.org"],
                 "subject": "草稿", "html": f'<div>第一版</div><img src="{image["url"]}">',
                 "attachments": [attached["id"]], "priority": 1, "receipt": True}
        first = await client.post_json("/compose/draft", draft)
        assert first.status_code == 201, first.text
        assert re.fullmatch(r"\d\d:\d\d", first.json()["saved_at_text"])
        draft.update(html=f'<div>第二版</div><img src="{image["url"]}">', draft_uid=first.json()["draft_uid"])
        second = await client.post_json("/compose/draft", draft)
        assert second.status_code == 201
        drafts = await web.services.mailbox.open(alice.id, "Drafts")
        assert [e.uid for e in drafts.entries] == [second.json()["draft_uid"]]
        page = await client.http.get(f"/compose?draft={drafts.folder.id}:{second.json()['draft_uid']}")
        state = state_of(page.text)
        assert state["subject"] == "草稿" and "第二版" in state["html"] and "第一版" not in state["html"]
        assert "unfinished" in state["to"] and state["bcc"] == "carol@example.org"
        assert state["draft_uid"] == second.json()["draft_uid"] and state["priority"] == 1 and state["receipt"]
        assert [a["filename"] for a in state["attachments"]] == ["清单.txt"]
        # The inline image is an upload again, shown by the editor.
        shown = re.search(r'src="(/compose/uploads/[A-Za-z0-9_-]+)"', state["html"])
        assert shown and (await client.http.get(shown.group(1))).content == PNG
        assert htmlmod.escape("第二版") in page.text or "第二版" in page.text
        await _send(client, state, to=[BOB], bcc=[], html=state["html"])
    assert (await web.services.mailbox.open(alice.id, "Drafts")).entries == []
    bob_uid, raw = (await inbox_of(web, BOB))[0]
    assert b"Disposition-Notification-To" in raw and b"X-Priority: 1" in raw and b"Bcc" not in raw
    bob = await web.services.directory.account(BOB)
    view = (await web.services.reading.open(bob.id, "INBOX", bob_uid)).view
    assert "第二版" in view.body_html and view.priority == 1
    assert [a.filename for a in view.attachments if not a.is_inline] == ["清单.txt"]
    assert len(view.inline_parts) == 1
