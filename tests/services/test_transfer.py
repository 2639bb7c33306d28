"""Import and export round trips through the store: byte-identical messages, flags kept, nothing lost."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

from tests.mail.malformed import malformed_corpus
from tests.mailfactory import make_message
from yizhan.services.archive import ArchivedMessage, read_maildir, read_mbox, write_maildir, write_mbox
from yizhan.services.prepare import prepare_many, prepare_message, unpack
from yizhan.services.runtime import Services


def sample_messages() -> list[ArchivedMessage]:
    messages = [
        ArchivedMessage(make_message(subject=f"第{i}封 message {i}", body=f"From the start\n>From quoted {i}\n"),
                        flags=frozenset({"\\Seen"} if i % 2 else set()),
                        keywords=frozenset({"$Forwarded"} if i % 3 == 0 else set()))
        for i in range(40)
    ]
    messages.append(ArchivedMessage(make_message(subject="flagged"), flags=frozenset({"\\Flagged", "\\Answered"})))
    # Malformed mail must survive the round trip too (mbox needs a final newline to be byte-exact).
    for raw in malformed_corpus().values():
        if raw and raw.endswith(b"\n"):
            messages.append(ArchivedMessage(raw))
    return messages


async def folder_contents(services: Services, address: str, folder: str) -> list[tuple[bytes, frozenset[str]]]:
    account = await services.directory.account(address)
    record = await services.store.folders.get(account.id, folder)
    assert record is not None
    out = []
    async for item in services.store.messages.stream(record.id):
        out.append((await services.store.blobs.aread(item.blob), frozenset(item.flags + item.keywords)))
    return out


async def test_mbox_import_then_export_is_byte_identical(mailbox: Services, tmp_path: Path) -> None:
    originals = sample_messages()
    source = tmp_path / "in.mbox"
    write_mbox(source, originals)
    summary = await mailbox.transfer.import_path("alice@example.com", source, "Archive/2024")
    assert (summary.read, summary.imported, summary.failed) == (len(originals), len(originals), 0)
    assert summary.malformed >= 1
    stored = await folder_contents(mailbox, "alice@example.com", "Archive/2024")
    assert stored == [(m.raw, m.flags | m.keywords) for m in originals]

    out = tmp_path / "out.mbox"
    result = await mailbox.transfer.export("alice@example.com", out, "mbox", "Archive/2024")
    assert result.exported == len(originals)
    exported = list(read_mbox(out))
    assert [(m.raw, m.flags, m.keywords) for m in exported] == [(m.raw, m.flags, m.keywords) for m in originals]


async def test_maildir_round_trip_keeps_bytes_flags_and_dates(mailbox: Services, tmp_path: Path) -> None:
    originals = sample_messages()
    source = tmp_path / "Maildir"
    write_maildir(source, originals)
    summary = await mailbox.transfer.import_path("alice@example.com", source, "Imported")
    assert summary.imported == len(originals)
    out = tmp_path / "exported"
    await mailbox.transfer.export("alice@example.com", out, "maildir", "Imported")
    first = sorted((m.raw, m.flags, m.keywords) for m in read_maildir(source))
    second = sorted((m.raw, m.flags, m.keywords) for m in read_maildir(out))
    assert first == second


async def test_reimport_skips_what_is_already_there(mailbox: Services, tmp_path: Path) -> None:
    source = tmp_path / "in.mbox"
    write_mbox(source, sample_messages()[:10])
    await mailbox.transfer.import_path("alice@example.com", source)
    again = await mailbox.transfer.import_path("alice@example.com", source)
    assert (again.imported, again.skipped) == (0, 10)
    assert len(await folder_contents(mailbox, "alice@example.com", "INBOX")) == 10


async def test_export_all_folders_and_import_them_back(mailbox: Services, tmp_path: Path) -> None:
    await mailbox.delivery.deliver(make_message(subject="in inbox"), "b@example.org", ["alice@example.com"])
    source = tmp_path / "one.mbox"
    three = sample_messages()[:3]
    write_mbox(source, three)
    await mailbox.transfer.import_path("alice@example.com", source, "Projects/Alpha")
    out = tmp_path / "all"
    summary = await mailbox.transfer.export("alice@example.com", out, "maildir")
    assert summary.folders["INBOX"] == 1 and summary.folders["Projects/Alpha"] == 3

    await mailbox.directory.add_account("bob@example.com", "password1")
    back = await mailbox.transfer.import_path("bob@example.com", out)
    assert (back.folders["INBOX"], back.folders["Projects/Alpha"]) == (1, 3)
    assert [raw for raw, _ in await folder_contents(mailbox, "bob@example.com", "Projects/Alpha")] == [
        m.raw for m in three]


async def test_eml_folder_import(mailbox: Services, tmp_path: Path) -> None:
    folder = tmp_path / "emls"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.eml").write_bytes(make_message(subject=f"eml {i}"))
    summary = await mailbox.transfer.import_path("alice@example.com", folder)
    assert summary.imported == 5
    account = await mailbox.directory.account("alice@example.com")
    assert len(await mailbox.search.search(account.id, "subject:eml")) == 5


def test_packed_prepared_message_round_trips_without_body_text() -> None:
    # Import workers send PreparedMessage as plain tuples; everything but the body text (already tokenised into
    # the search document) must come back equal.
    raw = ("From: =?utf-8?b?5byg5LiJ?= <zhang@example.com>\r\nTo: a@example.com, B <b@example.com>\r\n"
           "Cc: c@example.com\r\nReply-To: r@example.com\r\nSubject: Re: 北京会议\r\n"
           "Date: Mon, 1 Jan 2024 10:00:00 +0800\r\nMessage-ID: <m1@example.com>\r\nIn-Reply-To: <m0@example.com>\r\n"
           "References: <m0@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "会议在北京 agenda attached\r\n").encode()
    prepared = prepare_message(raw)
    [packed] = prepare_many([raw])
    back = unpack(pickle.loads(pickle.dumps(packed)))
    assert back.parsed == dataclasses.replace(prepared.parsed, body_text="")
    assert back.search == prepared.search and "北京" in back.search.body
    assert back.thread_subject == prepared.thread_subject


def test_import_batches_are_bounded_by_count_and_bytes() -> None:
    # A batch is one transaction and the producer runs one batch ahead: large messages must cut it short.
    from yizhan.services.transfer import _take

    small = iter([ArchivedMessage(b"x" * 10) for _ in range(25)])
    assert [len(_take(small, 10, 1000)) for _ in range(4)] == [10, 10, 5, 0]
    big = iter([ArchivedMessage(b"x" * 400) for _ in range(7)])
    assert [len(_take(big, 10, 1000)) for _ in range(4)] == [3, 3, 1, 0]
    huge = iter([ArchivedMessage(b"x" * 5000), ArchivedMessage(b"y")])
    assert [len(_take(huge, 10, 1000)) for _ in range(3)] == [1, 1, 0]
