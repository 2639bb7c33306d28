"""Per-account web data services on a real store: contacts (autocomplete by pinyin, correspondents, directory,
import/export), notes, settings, API tokens, audit and delivery logs; one account never reaches another's data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.mailfactory import make_message
from yizhan.mail.contactcard import ContactCard
from yizhan.services.audit import AuditService, DeliveryLogService
from yizhan.services.contacts import ContactLimits, ContactsService
from yizhan.services.notes import NoteLimits, NotesService
from yizhan.services.runtime import Services
from yizhan.services.settings import SettingsService
from yizhan.services.tokens import TokenService
from yizhan.store.records import AccountRecord
from yizhan.util.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied, QuotaExceeded


async def _two(svc: Services) -> tuple[AccountRecord, AccountRecord]:
    await svc.directory.add_account("bob@example.com", "password2", display_name="Bob Lee")
    return await svc.directory.account("alice@example.com"), await svc.directory.account("bob@example.com")


async def test_contacts_autocomplete_by_pinyin_address_directory_and_correspondents(mailbox: Services) -> None:
    alice, bob = await _two(mailbox)
    await mailbox.directory.add_account("off@example.com", "password3", display_name="Off")
    await mailbox.directory.update_account("off@example.com", disabled=True)
    contacts = ContactsService(mailbox.store)
    zs = await contacts.create(alice.id, ContactCard(display_name="张三", emails=(("ZS@Example.COM", "work"),)))
    assert zs.card.emails == (("zs@example.com", "work"),)
    for typed in ("zs", "ZhangS", "张", "三", "zs@ex"):
        assert [c.id for c in await contacts.search(alice.id, typed)] == [zs.id], typed
    assert await contacts.search(bob.id, "zs") == []
    # Past correspondents: a sender who wrote to alice, and the recipients of a message alice sent.
    await mailbox.delivery.deliver(make_message(sender="赵六 <zhao6@remote.org>"), "zhao6@remote.org",
                                   ["alice@example.com"])
    sent = make_message(sender="alice@example.com", to="王五 <wang5@remote.org>, zs@example.com",
                        date=datetime(2024, 6, 1, tzinfo=UTC))
    await mailbox.delivery.deliver(sent, "alice@example.com", ["alice@example.com"])
    recent = await contacts.correspondents(alice)
    assert [c.address for c in recent] == ["wang5@remote.org", "zs@example.com", "zhao6@remote.org"]
    assert recent[0].name == "王五"
    assert await contacts.correspondents(bob) == []
    assert [c.address for c in await contacts.correspondents(alice, "wang")] == ["wang5@remote.org"]
    # The directory: enabled accounts of alice's domain only.
    assert [s.address for s in await contacts.directory(alice)] == ["alice@example.com", "bob@example.com"]
    suggestions = await contacts.autocomplete(alice, "b")
    assert [(s.address, s.source) for s in suggestions] == [("bob@example.com", "directory")]
    assert [(s.address, s.source) for s in await contacts.autocomplete(alice, "z")] == [
        ("zs@example.com", "contact"), ("zhao6@remote.org", "recent")]


async def test_contact_validation_and_cross_account_access(mailbox: Services) -> None:
    alice, bob = await _two(mailbox)
    contacts = ContactsService(mailbox.store, ContactLimits(max_contacts=2, max_name=10))
    with pytest.raises(InvalidInput, match="not a valid mail address"):
        await contacts.create(alice.id, ContactCard(display_name="x", emails=(("no-at-sign", ""),)))
    with pytest.raises(InvalidInput, match="longer than 10"):
        await contacts.create(alice.id, ContactCard(display_name="x" * 11))
    with pytest.raises(InvalidInput, match="needs a name"):
        await contacts.create(alice.id, ContactCard())
    mine = await contacts.create(alice.id, ContactCard(display_name="Mine"))
    group = await contacts.create_group(alice.id, "家人")
    theirs = await contacts.create(bob.id, ContactCard(display_name="Theirs"))
    for call in (contacts.get(bob.id, mine.id), contacts.update(bob.id, mine.id, ContactCard(display_name="X")),
                 contacts.delete(bob.id, [mine.id]), contacts.add_to_group(bob.id, group.id, [theirs.id]),
                 contacts.add_to_group(alice.id, group.id, [theirs.id]), contacts.delete_group(bob.id, group.id),
                 contacts.update(alice.id, mine.id, ContactCard(display_name="X"), group_ids=(999,))):
        with pytest.raises(NotFound):
            await call
    assert (await contacts.get(alice.id, mine.id)).card.name() == "Mine"
    await contacts.create(alice.id, ContactCard(display_name="Two"))
    with pytest.raises(QuotaExceeded):
        await contacts.create(alice.id, ContactCard(display_name="Three"))


async def test_import_reports_each_skipped_row_and_export_round_trips(mailbox: Services) -> None:
    alice, _ = await _two(mailbox)
    contacts = ContactsService(mailbox.store, ContactLimits(max_contacts=4))
    await contacts.create(alice.id, ContactCard(display_name="Old", emails=(("old@example.com", ""),)))
    csv_text = ("姓名,电子邮件地址,手机,类别\r\n"
                "张三,zs@example.com,138,同事\r\n"          # row 2: imported
                "坏地址,not-an-address,,\r\n"               # row 3: address dropped, contact kept by name
                ",bad,,\r\n"                               # row 4: nothing usable
                "重复,zs@example.com,,\r\n"                 # row 5: duplicate within the file
                "旧的,old@example.com,,\r\n"                # row 6: already in the address book
                "李四,li4@example.com,,同事\r\n"             # row 7: imported (fills the book)
                "王五,w5@example.com,,\r\n")                # row 8: over the limit
    report = await contacts.import_csv(alice.id, csv_text.encode("gb18030"))
    assert report.imported == 3
    assert [n for n, _ in report.skipped] == [4, 5, 6, 8]
    assert "already in the address book" in dict(report.skipped)[6]
    assert "full" in dict(report.skipped)[8]
    assert "'bad' is not a valid mail address" in dict(report.skipped)[4]
    assert [n for n, _ in report.warnings] == [3]
    (group,) = await contacts.groups(alice.id)
    assert (group.name, group.members) == ("同事", 2)
    assert [c.card.name() for c in await contacts.search(alice.id, "ls")] == ["李四"]
    exported = await contacts.export_vcard(alice.id)
    fresh = ContactsService(mailbox.store)
    bob = await mailbox.directory.account("bob@example.com")
    report = await fresh.import_vcard(bob.id, exported.encode())
    assert report.imported == 4 and report.skipped == []
    assert sorted(c.card.name() for c in await fresh.list_contacts(bob.id)) == sorted(
        c.card.name() for c in await contacts.list_contacts(alice.id))
    with pytest.raises(InvalidInput, match="no vCard"):
        await contacts.import_vcard(alice.id, b"hello")
    with pytest.raises(InvalidInput, match="larger than"):
        await ContactsService(mailbox.store, ContactLimits(max_file_bytes=10)).import_csv(alice.id, b"x" * 11)


async def test_notes(mailbox: Services) -> None:
    alice, bob = await _two(mailbox)
    notes = NotesService(mailbox.store, NoteLimits(max_notes=2, max_body_bytes=100))
    note = await notes.create(alice.id, "会议", "<b>周一</b>", "html")
    assert (note.format, note.body) == ("html", "<b>周一</b>")
    with pytest.raises(InvalidInput, match="format"):
        await notes.create(alice.id, "x", "y", "markdown")
    with pytest.raises(InvalidInput, match="at most"):
        await notes.create(alice.id, "x", "长" * 40)
    updated = await notes.update(alice.id, note.id, pinned=True, body="周二")
    assert updated.pinned and updated.body == "周二" and updated.title == "会议"
    for call in (notes.get(bob.id, note.id), notes.update(bob.id, note.id, title="x"),
                 notes.delete(bob.id, note.id)):
        with pytest.raises(NotFound):
            await call
    await notes.create(alice.id, "Second", "MiXed Case")
    with pytest.raises(QuotaExceeded):
        await notes.create(alice.id, "Third", "")
    assert [n.title for n in await notes.list_notes(alice.id, "mixed")] == ["Second"]
    await notes.delete(alice.id, note.id)
    assert [n.title for n in await notes.list_notes(alice.id)] == ["Second"]


async def test_settings_defaults_validation_and_image_senders(mailbox: Services) -> None:
    alice, bob = await _two(mailbox)
    settings = SettingsService(mailbox.store, mailbox.directory)
    current = await settings.get(alice)
    assert (current.language, current.time_zone, current.density, current.remote_images) == (
        "auto", "UTC", "comfortable", "ask")
    for kwargs, message in (({"language": "fr"}, "language must be one of"),
                            ({"time_zone": "Mars/Olympus"}, "IANA name"),
                            ({"time_zone": "../../etc/passwd"}, "IANA name"),
                            ({"density": "huge"}, "list density"),
                            ({"remote_images": "sometimes"}, "never, ask, always"),
                            ({"display_name": "x" * 201}, "at most 200")):
        with pytest.raises(InvalidInput, match=message):
            await settings.update(alice, **kwargs)  # type: ignore[arg-type]
    changed = await settings.update(alice, display_name="爱丽丝\r\nBcc: x", language="zh-CN",
                                    time_zone="Asia/Shanghai", remote_images="ask")
    assert (changed.display_name, changed.language, changed.time_zone) == ("爱丽丝 Bcc: x", "zh-CN",
                                                                            "Asia/Shanghai")
    assert (await mailbox.directory.account("alice@example.com")).display_name == "爱丽丝 Bcc: x"
    assert (await settings.get(bob)).language == "auto"
    first = await settings.add_signature(alice.id, "工作", "-- \n爱丽丝")
    second = await settings.add_signature(alice.id, "Home", "A", is_default=True)
    assert (await settings.get(alice)).default_signature() == second
    await settings.update_signature(alice.id, first.id, is_default=True)
    assert (await settings.get(alice)).default_signature().id == first.id  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await settings.delete_signature(bob.id, first.id)
    assert not await settings.remote_images_allowed(alice, "news@shop.example")
    await settings.allow_images_from(alice.id, "@Shop.Example")
    assert await settings.remote_images_allowed(alice, "News@shop.example")
    assert not await settings.remote_images_allowed(bob, "news@shop.example")
    with pytest.raises(InvalidInput):
        await settings.allow_images_from(alice.id, "not an address")
    await settings.update(alice, remote_images="never")
    assert not await settings.remote_images_allowed(alice, "news@shop.example")


async def test_api_tokens(mailbox: Services) -> None:
    alice, bob = await _two(mailbox)
    tokens = TokenService(mailbox.store)
    new = await tokens.create(alice, "脚本", ["read", "write"], expires_in_days=30)
    assert new.secret.startswith("yzt_") and len(new.secret) >= 40
    account, scopes = await tokens.authenticate(new.secret)
    assert account.id == alice.id and scopes == ("read", "write")
    listed = await tokens.list_tokens(alice.id)
    assert [t.name for t in listed] == ["脚本"] and listed[0].last_used_at is not None
    assert new.secret not in repr(listed)
    with pytest.raises(PermissionDenied):
        await tokens.create(alice, "adm", ["admin"])
    with pytest.raises(InvalidInput):
        await tokens.create(alice, "x", ["everything"])
    with pytest.raises(NotFound):
        await tokens.revoke(bob.id, new.token.id)
    with pytest.raises(AuthenticationFailed):
        await tokens.authenticate(new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B"))
    await mailbox.directory.update_account("alice@example.com", disabled=True)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        await tokens.authenticate(new.secret)
    await mailbox.directory.update_account("alice@example.com", disabled=False)
    await tokens.revoke(alice.id, new.token.id)
    with pytest.raises(AuthenticationFailed):
        await tokens.authenticate(new.secret)
    # An expired token is refused (expiry moved into the past directly in the database).
    other = await tokens.create(bob, "t", ["read"], expires_in_days=1)
    from sqlalchemy import update

    from yizhan.store import schema as t
    async with mailbox.store.db.write() as conn:
        await conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == other.token.id).values(expires_at=1))
    with pytest.raises(AuthenticationFailed):
        await tokens.authenticate(other.secret)
    # An admin token loses the admin scope when its account is no longer an administrator.
    admin = await mailbox.directory.add_account("root@example.com", "password9", role="admin")
    power = await tokens.create(admin, "ops", ["read", "admin"])
    assert (await tokens.authenticate(power.secret))[1] == ("read", "admin")
    await mailbox.directory.update_account("root@example.com", role="user")
    assert (await tokens.authenticate(power.secret))[1] == ("read",)


async def test_audit_redacts_secrets_and_delivery_log(mailbox: Services) -> None:
    alice, _ = await _two(mailbox)
    audit = AuditService(mailbox.store)
    await audit.record(alice, "account.password", "bob@example.com", {"password": "hunter2", "quota": 5},
                       "192.0.2.1")
    await audit.record(None, "domain.add", "example.net")
    (entry,) = await audit.query(actor="ALICE@example.com")
    assert entry.details == {"password": "***", "quota": 5} and entry.client == "192.0.2.1"
    assert [e.actor for e in await audit.query()] == ["system", "alice@example.com"]
    log = DeliveryLogService(mailbox.store, retention_days=7)
    await log.record("in", "X@Remote.org", ["Alice@Example.com"], "<abc@remote.org>", 1234, "delivered",
                     at=1_000_000)
    await log.record("out", "alice@example.com", ["y@remote.org"], "<def@example.com>", 99, "deferred",
                     "451 4.7.1 greylisted")
    assert [r.message_id for r in await log.search(address="alice@example.com")] == ["def@example.com",
                                                                                      "abc@remote.org"]
    assert [r.sender for r in await log.search(message_id="<abc@remote.org>")] == ["x@remote.org"]
    with pytest.raises(InvalidInput):
        await log.record("sideways", "a@b.c", [], "", 0, "x")
    assert await log.prune() == 1
    assert [r.result for r in await log.search()] == ["deferred"]
