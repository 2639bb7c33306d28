"""Sending, drafts and reading through the real store: a message sent to another local account is read back with
its formatting, attachments and Chinese file name; Sent and Drafts hold what they should; replies thread."""

from __future__ import annotations

import io
import zipfile

import pytest

from yizhan.mail.compose import Attachment, ComposeRequest, InlineImage
from yizhan.mail.render import RenderOptions
from yizhan.services.compose import ComposeService, MessageRef
from yizhan.services.reading import ReadingService
from yizhan.services.runtime import Services
from yizhan.store.records import AccountRecord
from yizhan.util.errors import InvalidInput, NotFound, PermissionDenied

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
async def two(mailbox: Services) -> tuple[Services, AccountRecord, AccountRecord]:
    await mailbox.directory.add_account("bob@example.com", "password1")
    alice = await mailbox.directory.account("alice@example.com")
    bob = await mailbox.directory.account("bob@example.com")
    return mailbox, alice, bob


def services_of(svc: Services) -> tuple[ComposeService, ReadingService]:
    return ComposeService(svc.mailbox, svc.submit, svc.store), ReadingService(svc.mailbox)


async def uids(svc: Services, account: AccountRecord, folder: str) -> list[int]:
    snapshot = await svc.mailbox.open(account.id, folder)
    return [entry.uid for entry in snapshot.entries]


async def test_send_to_local_account_and_read_back(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, bob = two
    compose, reading = services_of(svc)
    request = ComposeRequest(
        from_address="alice@example.com", from_name="爱丽丝", to=("Bob <bob@example.com>",),
        bcc=("alice@example.com",), subject="季度报告",
        html='<p style="font-family: 楷体; color: #c00"><b>粗体</b> <i>斜体</i> <u>下划线</u></p>'
             '<ul><li>一</li></ul><img src="cid:chart@yz">',
        attachments=(Attachment("2024年第三季度报告.pdf", "application/pdf", PDF),),
        inline_images=(InlineImage("chart@yz", "image/png", PNG),),
    )
    result = await compose.send(alice, request)
    assert result.recipients == ("bob@example.com", "alice@example.com")
    [uid] = await uids(svc, bob, "INBOX")
    opened = await reading.open(bob.id, "INBOX", uid, RenderOptions(part_url=lambda path: f"/part/{path}"),
                                mark_seen=True)
    view = opened.view
    assert "\\Seen" in opened.flags
    assert view.subject == "季度报告"
    assert [(a.name, a.addr) for a in view.from_] == [("爱丽丝", "alice@example.com")]
    assert view.bcc == ()
    assert ('<p style="font-family: 楷体; color: #c00"><b>粗体</b> <i>斜体</i> <u>下划线</u></p>'
            in view.body_html)
    assert "<ul><li>一</li></ul>" in view.body_html
    files = [a for a in view.attachments if not a.is_inline]
    assert [(a.filename, a.content_type, a.size) for a in files] == [("2024年第三季度报告.pdf", "application/pdf",
                                                                      len(PDF))]
    inline = [a for a in view.attachments if a.is_inline]
    assert f'<img src="/part/{inline[0].path}">' in view.body_html
    part = await reading.part(bob.id, "INBOX", uid, files[0].path)
    assert (part.filename, part.data) == ("2024年第三季度报告.pdf", PDF)
    image = await reading.part(bob.id, "INBOX", uid, inline[0].path)
    assert image.data == PNG
    archive = await reading.attachments_zip(bob.id, "INBOX", uid)
    assert archive.filename == "季度报告.zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as z:
        assert z.namelist() == ["2024年第三季度报告.pdf"]
        assert z.read("2024年第三季度报告.pdf") == PDF
    raw = await reading.raw(bob.id, "INBOX", uid)
    assert raw.filename == "季度报告.eml" and b"Subject: =?utf-8?B?" in raw.data and b"Bcc" not in raw.data
    # The sender's copy is in Sent, seen, with the Bcc kept; the Bcc recipient got the message too.
    [sent_uid] = await uids(svc, alice, "Sent")
    assert result.sent_uid == sent_uid and result.sent_folder == "Sent"
    sent = await reading.open(alice.id, "Sent", sent_uid)
    assert "\\Seen" in sent.flags
    assert [a.addr for a in sent.view.bcc] == ["alice@example.com"]
    assert sent.view.message_id == view.message_id == result.message_id
    assert len(await uids(svc, alice, "INBOX")) == 1


async def test_remote_recipient_is_queued(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, _ = two
    compose, _ = services_of(svc)
    await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("carol@remote.example",),
                                             subject="hi", text="hello"))
    queued = await svc.outbound.list()
    assert len(queued) == 1


async def test_send_refusals(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, _ = two
    compose, _ = services_of(svc)
    with pytest.raises(PermissionDenied, match="may not send as"):
        await compose.send(alice, ComposeRequest(from_address="bob@example.com", to=("bob@example.com",)))
    with pytest.raises(InvalidInput, match=r"bob@@example\.com"):
        await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("bob@@example.com",)))
    with pytest.raises(NotFound, match=r"nobody@example\.com"):
        await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("nobody@example.com",)))
    assert await uids(svc, alice, "Sent") == []


async def test_alias_identity(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, bob = two
    compose, _ = services_of(svc)
    await svc.directory.add_alias("sales@example.com", ["alice@example.com"])
    assert await compose.identities(alice) == ["alice@example.com", "sales@example.com"]
    await compose.send(alice, ComposeRequest(from_address="sales@example.com", to=("bob@example.com",), text="x"))
    assert len(await uids(svc, bob, "INBOX")) == 1


async def test_draft_saved_replaced_and_removed_on_send(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, bob = two
    compose, reading = services_of(svc)
    first = await compose.save_draft(alice, ComposeRequest(from_address="alice@example.com", to=("bob@exa",),
                                                           subject="草稿", text="v1"))
    assert first.folder == "Drafts"
    draft = await reading.open(alice.id, "Drafts", first.uid)
    assert "\\Draft" in draft.flags and "v1" in draft.view.body_html
    second = await compose.save_draft(alice, ComposeRequest(from_address="alice@example.com", to=("bob@example.com",),
                                                            bcc=("alice@example.com",), subject="草稿", text="v2"),
                                      replace_uid=first.uid)
    assert await uids(svc, alice, "Drafts") == [second.uid]
    again = await reading.open(alice.id, "Drafts", second.uid)
    assert "v2" in again.view.body_html and [a.addr for a in again.view.bcc] == ["alice@example.com"]
    await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("bob@example.com",),
                                             subject="草稿", text="v2"), draft_uid=second.uid)
    assert await uids(svc, alice, "Drafts") == []
    assert len(await uids(svc, bob, "INBOX")) == 1
    with pytest.raises(NotFound):
        await compose.delete_draft(alice, second.uid)


async def test_reply_threads_and_marks_answered(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, bob = two
    compose, reading = services_of(svc)
    first = await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("bob@example.com",),
                                                     cc=("alice@example.com",), subject="会议", text="明天开会？"))
    [bob_uid] = await uids(svc, bob, "INBOX")
    prefill = await reading.reply_prefill(bob.id, "INBOX", bob_uid, ["bob@example.com"], reply_all=True,
                                          language="zh")
    assert prefill.to == ("alice@example.com",) and prefill.cc == ()
    assert prefill.subject == "Re: 会议"
    assert "> 明天开会？" in prefill.text and "写道：" in prefill.text
    await compose.send(bob, ComposeRequest(from_address="bob@example.com", to=prefill.to, subject=prefill.subject,
                                           text="好的" + prefill.text, in_reply_to=prefill.in_reply_to,
                                           references=prefill.references),
                       answered=MessageRef("INBOX", bob_uid))
    alice_inbox = await uids(svc, alice, "INBOX")
    answer = await reading.open(alice.id, "INBOX", alice_inbox[-1])
    assert answer.view.subject == "Re: 会议"
    assert answer.view.in_reply_to == (first.message_id,)
    assert answer.view.references == (first.message_id,)
    original = await reading.open(bob.id, "INBOX", bob_uid)
    assert "\\Answered" in original.flags


async def test_forward_prefills(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, bob = two
    compose, reading = services_of(svc)
    await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("bob@example.com",), subject="表",
                                             text="见附件",
                                             attachments=(Attachment("数据.csv", "text/csv", b"a,b\n1,2\n"),)))
    [uid] = await uids(svc, bob, "INBOX")
    inline = await reading.forward_prefill(bob.id, "INBOX", uid, language="zh")
    assert inline.subject == "Fwd: 表" and "转发的邮件" in inline.text
    assert [(a.filename, a.data) for a in inline.attachments] == [("数据.csv", b"a,b\n1,2\n")]
    attached = await reading.forward_prefill(bob.id, "INBOX", uid, as_attachment=True)
    assert [(a.filename, a.content_type) for a in attached.attachments] == [("表.eml", "message/rfc822")]


async def test_other_accounts_messages_are_not_found(two: tuple[Services, AccountRecord, AccountRecord]) -> None:
    svc, alice, bob = two
    compose, reading = services_of(svc)
    await compose.send(alice, ComposeRequest(from_address="alice@example.com", to=("bob@example.com",), text="私信"))
    [uid] = await uids(svc, bob, "INBOX")
    # Alice has no message in her INBOX: Bob's UID names nothing for her.
    assert await uids(svc, alice, "INBOX") == []
    for call in (reading.open(alice.id, "INBOX", uid), reading.part(alice.id, "INBOX", uid, "1"),
                 reading.raw(alice.id, "Nope", uid), reading.part(bob.id, "INBOX", uid, "9.9"),
                 reading.attached(bob.id, "INBOX", uid, "1"), reading.open(bob.id, "INBOX", 0)):
        with pytest.raises(NotFound):
            await call
