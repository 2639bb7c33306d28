"""The admin service on a real store: what each role may do, that other domains stay invisible to a domain-admin,
the guards (own role, own account, last admin), the CSV import report, the audit entries, and the delivery log fed
by local deliveries."""

from __future__ import annotations

import asyncio

import pytest

from tests.mailfactory import make_message
from yizhan.services.admin import AdminService, headers_of
from yizhan.services.admin_import import parse_csv
from yizhan.services.admin_setup import client_endpoints, dns_records, parse_size
from yizhan.services.runtime import Services
from yizhan.store.records import AccountRecord
from yizhan.util.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied

PASSWORD = "long enough 1"


async def _setup(services: Services) -> tuple[AccountRecord, AccountRecord, AccountRecord]:
    for domain in ("example.com", "other.org"):
        await services.directory.add_domain(domain)
    admin = await services.directory.add_account("root@example.com", PASSWORD, role="admin")
    dadmin = await services.directory.add_account("boss@other.org", PASSWORD, role="domain-admin")
    user = await services.directory.add_account("joe@other.org", PASSWORD)
    return admin, dadmin, user


def admin_of(services: Services, actor: AccountRecord) -> AdminService:
    return AdminService(actor, "127.0.0.9", services)


async def test_admin_manages_everything_and_every_change_is_audited(services: Services) -> None:
    admin, _, _ = await _setup(services)
    svc = admin_of(services, admin)
    await svc.add_domain("new.test")
    created = await svc.create_account("amy@new.test", display_name="Amy 王", quota_bytes=parse_size("1M"))
    assert len(created.password) >= 16
    assert await services.directory.authenticate("amy@new.test", created.password) is not None
    await svc.update_account("amy@new.test", role="domain-admin", disabled=True)
    assert (await svc.account("amy@new.test")).disabled
    new_password = await svc.reset_password("amy@new.test")
    await svc.update_account("amy@new.test", disabled=False)
    assert await services.directory.authenticate("amy@new.test", new_password) is not None
    await svc.add_alias("@new.test", ["amy@new.test"])
    assert [a.source for a in await svc.aliases("new.test")] == ["@new.test"]
    with pytest.raises(InvalidInput, match="force"):
        await svc.remove_domain("new.test")
    await svc.remove_alias("@new.test")
    await svc.delete_account("amy@new.test")
    await svc.remove_domain("new.test")
    assert "new.test" not in [s.domain.name for s in await svc.domains()]

    entries = await svc.audit_log(limit=50)
    actions = [e.action for e in reversed(entries)]
    assert actions == ["domain.add", "account.create", "account.update", "account.password", "account.update",
                       "alias.add", "alias.remove", "account.delete", "domain.remove"]
    assert all(e.actor == "root@example.com" and e.client == "127.0.0.9" for e in entries)
    # No password ever reaches the log.
    assert created.password not in str([e.details for e in entries])
    assert new_password not in str([e.details for e in entries])
    # A refusal is not a change: nothing logged for it.
    with pytest.raises(AlreadyExists):
        await svc.add_domain("example.com")
    assert len(await svc.audit_log()) == len(entries)


async def test_domain_admin_is_confined_to_its_domain(services: Services) -> None:
    _, dadmin, _ = await _setup(services)
    svc = admin_of(services, dadmin)
    assert [s.domain.name for s in await svc.domains()] == ["other.org"]
    page = await svc.accounts()
    assert [a.address for a in page.accounts] == ["boss@other.org", "joe@other.org"]
    # Another domain's things look exactly like missing ones.
    for call in (svc.account("root@example.com"), svc.account("nobody@example.com"),
                 svc.update_account("root@example.com", quota_bytes=1), svc.reset_password("root@example.com"),
                 svc.delete_account("root@example.com"), svc.domain("example.com"), svc.domain("absent.test"),
                 svc.create_account("new@example.com", PASSWORD), svc.add_alias("x@example.com", ["joe@other.org"]),
                 svc.accounts(domain="example.com")):
        with pytest.raises(NotFound):
            await call
    with pytest.raises(PermissionDenied):
        await svc.create_account("evil@other.org", PASSWORD, role="admin")
    with pytest.raises(PermissionDenied):
        await svc.update_account("joe@other.org", role="admin")
    with pytest.raises(PermissionDenied):
        await svc.update_account("boss@other.org", role="user")
    for call in (svc.add_domain("x.test"), svc.remove_domain("other.org"), svc.queue(), svc.audit_log(),
                 svc.delivery_log(), svc.status()):
        with pytest.raises(PermissionDenied):
            await call
    # What it may do in its own domain.
    made = await svc.create_account("sue@other.org", PASSWORD, role="domain-admin")
    assert made.password == ""
    await svc.update_account("joe@other.org", quota_bytes=5000, display_name="Joe")
    await svc.add_alias("sales@other.org", ["joe@other.org", "sue@other.org"])
    assert {a.target for a in await svc.aliases()} == {"joe@other.org", "sue@other.org"}
    # An admin's account in its domain is out of reach even though visible.
    await services.directory.add_account("chief@other.org", PASSWORD, role="admin")
    with pytest.raises(PermissionDenied):
        await svc.reset_password("chief@other.org")


async def test_users_may_do_nothing(services: Services) -> None:
    _, _, user = await _setup(services)
    svc = admin_of(services, user)
    for call in (svc.domains(), svc.accounts(), svc.account("joe@other.org"), svc.aliases(),
                 svc.create_account("x@other.org", PASSWORD), svc.update_account("joe@other.org", role="admin")):
        with pytest.raises(PermissionDenied):
            await call


async def test_guards_against_locking_everyone_out(services: Services) -> None:
    admin, _, _ = await _setup(services)
    svc = admin_of(services, admin)
    with pytest.raises(InvalidInput, match="only enabled administrator"):
        await svc.update_account("root@example.com", role="user")
    with pytest.raises(InvalidInput, match="own account"):
        await svc.update_account("root@example.com", disabled=True)
    with pytest.raises(InvalidInput, match="own account"):
        await svc.delete_account("root@example.com")
    with pytest.raises(InvalidInput, match="own account"):
        await svc.remove_domain("example.com", force=True)
    await svc.create_account("second@other.org", PASSWORD, role="admin")
    await svc.update_account("root@example.com", role="user")
    assert (await services.directory.account("root@example.com")).role == "user"


async def test_csv_import_reports_rejected_rows(services: Services) -> None:
    _, dadmin, _ = await _setup(services)
    text = ("address;display name;password;quota;role\n"
            "ann@other.org;Ann 李;;100M;\n"
            "bob@other.org;Bob;secret-pass-1;;user\n"
            "joe@other.org;Joe again;;;\n"
            "not-an-address;;;;\n"
            "carl@example.com;Carl;;;\n"
            "dan@other.org;Dan;short;;\n"
            "eve@other.org;Eve;;lots;\n"
            "fay@other.org;Fay;;;admin\n"
            "ann@other.org;Ann twice;;;\n")
    report = await admin_of(services, dadmin).import_accounts(text)
    assert [(c.line, c.address) for c in report.created] == [(2, "ann@other.org"), (3, "bob@other.org")]
    assert report.created[0].generated_password and report.created[1].generated_password == ""
    reasons = {r.line: r.reason for r in report.rejected}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert "already exists" in reasons[4]
    assert "not a valid mail address" in reasons[5]
    assert "not hosted" in reasons[6]  # another domain: not revealed to a domain-admin
    assert "at least 8" in reasons[7]
    assert "not a size" in reasons[8]
    assert "administrator" in reasons[9]
    assert "earlier" in reasons[10]
    ann = await services.directory.account("ann@other.org")
    assert ann.display_name == "Ann 李" and ann.quota_bytes == 100 * 1024 * 1024
    assert await services.directory.authenticate("ann@other.org", report.created[0].generated_password)
    csv_text = report.passwords_csv()
    assert csv_text.splitlines() == ["address,password", f"ann@other.org,{report.created[0].generated_password}"]


def test_csv_limits_and_sizes() -> None:
    rows, rejected = parse_csv("\ufeffa@b.c,A\n\n" + "x@b.c,1,2,3,4,5\n")
    assert [r.address for r in rows] == ["a@b.c"] and rejected[0].line == 3
    many = "".join(f"u{i}@b.c\n" for i in range(1005))
    rows, rejected = parse_csv(many)
    assert len(rows) == 1000 and len(rejected) == 5
    with pytest.raises(InvalidInput):
        parse_csv("x" * (1024 * 1024 + 1))
    assert parse_size("") == 0 and parse_size("2G") == 2 * 1024 ** 3 and parse_size("1.5k") == 1536
    with pytest.raises(InvalidInput):
        parse_size("-1")


def test_client_settings_and_dns_records() -> None:
    endpoints = client_endpoints("mail.example.com", {"imaps": 993, "imap": 143, "pop3": -1, "submission": 587,
                                                      "smtp": 25})
    assert [(e.listener, e.port) for e in endpoints] == [("imaps", 993), ("imap", 143), ("submission", 587)]
    records = dns_records("例子.cn", "mail.example.com", None)
    assert records[0].zone_line.split() == ["xn--fsqu00a.cn.", "IN", "MX", "10", "mail.example.com."]
    assert [r.purpose for r in records][:3] == ["mx", "spf", "dmarc"]


def test_headers_of_a_queued_message() -> None:
    data = b"DKIM-Signature: v=1;\r\n b=abc\r\nFrom: a@b.c\r\nSubject: =?utf-8?b?5L2g5aW9?=\r\n\r\nbody: no\r\n"
    assert headers_of(data) == [("DKIM-Signature", "v=1; b=abc"), ("From", "a@b.c"),
                                ("Subject", "=?utf-8?b?5L2g5aW9?=")]
    assert headers_of(b"") == [] and headers_of(b"\xff\xfe garbage") is not None


async def test_local_delivery_is_in_the_delivery_log(services: Services) -> None:
    admin, _, _ = await _setup(services)
    raw = make_message(subject="logged", message_id="<log-1@example.com>")
    await services.delivery.deliver(raw, "Sender@Outside.test", ["joe@other.org", "ghost@other.org"])
    await services.delivery.delivery_log.flush()
    svc = admin_of(services, admin)
    found = await svc.delivery_log(address="joe@other.org")
    for _ in range(50):
        if found:
            break
        await asyncio.sleep(0.05)
        found = await svc.delivery_log(address="joe@other.org")
    assert [(r.direction, r.sender, r.recipients, r.message_id, r.result) for r in found] == [
        ("local", "sender@outside.test", ("joe@other.org",), "log-1@example.com", "delivered")]
    refused = await svc.delivery_log(message_id="<log-1@example.com>")
    assert {r.result for r in refused} == {"delivered", "rejected"}
    assert await svc.delivery_log(address="nobody@other.org") == []
