"""Sending from the compose page to another local account, read back through services.reading."""

from __future__ import annotations

from tests.web.compose.conftest import BOB, PNG, add_bob, inbox_of, signed_in
from tests.web.conftest import ADDRESS, Web
from yizhan.mail.render import RenderOptions


async def test_html_with_attachment_and_inline_image_arrives_intact(web: Web) -> None:
    await add_bob(web)
    async with signed_in(web) as client:
        attached = await client.upload("报告 2024.pdf", b"%PDF-1.4 fake report bytes", "application/pdf")
        assert attached.status_code == 201, attached.text
        image = await client.upload("pasted.png", PNG, "image/png", inline=True)
        assert image.status_code == 201 and image.json()["is_image"]
        html = ('<div><b>加粗</b> and <span style="color: rgb(179, 38, 30); font-family: SimSun, serif">红色宋体</span>'
                f'</div><div><img src="/compose/uploads/{image.json()["id"]}" alt="pasted.png"></div>'
                '<div><script>alert(1)</script><a href="javascript:alert(2)">bad link</a></div>')
        reply = await client.post_json("/compose/send", {
            "from": ADDRESS, "to": ["Bob Li <bob@example.com>"], "subject": "季度报告", "html": html,
            "attachments": [attached.json()["id"]], "back": "/mail?folder=INBOX"})
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert body["redirect"] == "/mail?folder=INBOX&notice=sent"
        assert body["sent_uid"] and body["recipients"] == [BOB]
        # Sent uploads are gone.
        assert (await client.http.get(f"/compose/uploads/{attached.json()['id']}")).status_code == 404
    delivered = await inbox_of(web, BOB)
    assert len(delivered) == 1
    bob = await web.services.directory.account(BOB)
    opened = await web.services.reading.open(bob.id, "INBOX", delivered[0][0],
                                             RenderOptions(part_url=lambda path: f"/part/{path}"))
    view = opened.view
    assert view.subject == "季度报告"
    assert "<b>加粗</b>" in view.body_html
    assert "红色宋体" in view.body_html and "color" in view.body_html and "SimSun" in view.body_html
    assert "script" not in view.body_html and "javascript" not in view.body_html and "alert(1)" not in view.body_html
    files = [a for a in view.attachments if not a.is_inline]
    assert [a.filename for a in files] == ["报告 2024.pdf"]
    part = await web.services.reading.part(bob.id, "INBOX", delivered[0][0], files[0].path)
    assert part.data == b"%PDF-1.4 fake report bytes"
    # The inline image resolves: the HTML shows it through its cid part.
    inline = [a for a in view.attachments if a.is_inline]
    assert len(inline) == 1
    assert f'src="/part/{inline[0].path}"' in view.body_html
    image_part = await web.services.reading.part(bob.id, "INBOX", delivered[0][0], inline[0].path)
    assert image_part.data == PNG
    # The sent copy is in Sent.
    alice = await web.services.directory.account(ADDRESS)
    sent = await web.services.mailbox.open(alice.id, "Sent")
    assert len(sent.entries) == 1 and "\\Seen" in sent.entries[0].flags


async def test_bad_recipients_are_named_with_their_field(web: Web) -> None:
    async with signed_in(web) as client:
        reply = await client.post_json("/compose/send", {
            "from": ADDRESS, "to": ["bob@example.com"], "cc": ["carol@example.org; not an address"],
            "subject": "x", "text": "hi"})
        assert reply.status_code == 400
        error = reply.json()["error"]
        assert error["fields"][0]["field"] == "cc"
        assert "not an address" in error["message"]
        unknown = await client.post_json("/compose/send", {
            "from": ADDRESS, "to": ["nobody@example.com"], "subject": "x", "text": "hi"})
        assert unknown.status_code == 404
        assert "nobody@example.com" in unknown.json()["error"]["message"]
        assert unknown.json()["error"]["fields"][0]["field"] == "to"
        foreign = await client.post_json("/compose/send", {
            "from": "ceo@example.com", "to": ["bob@example.com"], "subject": "x", "text": "hi"})
        assert foreign.status_code == 400 and foreign.json()["error"]["fields"][0]["field"] == "from"
        empty = await client.post_json("/compose/send", {"from": ADDRESS, "subject": "x", "text": "hi"})
        assert empty.status_code == 400 and "recipient" in empty.json()["error"]["message"]
        # Chinese separators split addresses too.
        chinese = await client.post_json("/compose/send", {
            "from": ADDRESS, "to": ["alice@example.com，坏地址"], "subject": "x", "text": "hi"})
        assert chinese.status_code == 400 and "坏地址" in chinese.json()["error"]["message"]


async def test_writes_need_the_csrf_token(web: Web) -> None:
    async with signed_in(web) as client:
        body = {"from": ADDRESS, "to": [ADDRESS], "subject": "x", "text": "hi"}
        no_token = await client.http.post("/compose/send", json=body)
        assert no_token.status_code == 403
        wrong = await client.http.post("/compose/send", json=body, headers={"X-CSRF-Token": "nope"})
        assert wrong.status_code == 403
        upload = await client.http.post("/compose/uploads", files={"file": ("a.txt", b"x", "text/plain")})
        assert upload.status_code == 403
        draft = await client.http.post("/compose/draft", json=body)
        assert draft.status_code == 403
    alice = await web.services.directory.account(ADDRESS)
    assert (await web.services.mailbox.folder(alice.id, "INBOX")).exists_count == 0
