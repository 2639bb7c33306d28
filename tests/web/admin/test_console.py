"""The admin console's pages over real sockets: an admin creates an account that then signs in on the web and over
IMAP; a domain-admin stays inside its domain; a user is refused; the CSV import report and its one-time password
download; domains with their client settings and DNS records; aliases; the status page; the logs."""

from __future__ import annotations

import asyncio
import csv
import imaplib
import io
import re
import ssl

from tests.mailfactory import make_message
from tests.web.admin.conftest import ADMIN, DOMAIN_ADMIN, JOE, PASSWORD, SECRET, USER, AdminWeb
from tests.web.conftest import csrf_of

PAGES = ("/admin/status", "/admin/domains", "/admin/domains/example.com", "/admin/accounts",
         "/admin/accounts/new", f"/admin/accounts/{JOE}", f"/admin/accounts/{JOE}/remove", "/admin/aliases",
         "/admin/import", "/admin/queue", "/admin/deliveries", "/admin/audit")


def generated_password(page: str) -> str:
    match = re.search(r'<code id="generated-password"[^>]*>([^<]+)</code>', page)
    assert match, page
    return match.group(1)


def error_of(page: str) -> str:
    match = re.search(r'<p class="error" role="alert">([^<]*)</p>', page)
    assert match, page
    return match.group(1)


def imap_login(port: int, address: str, password: str) -> tuple[str, list[bytes]]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with imaplib.IMAP4("127.0.0.1", port) as imap:
        imap.starttls(context)
        status, _ = imap.login(address, password)
        _, listing = imap.list()
        imap.logout()
    return status, [line for line in listing if isinstance(line, bytes)]


async def test_admin_creates_an_account_that_can_sign_in_on_the_web_and_over_imap(admin_web: AdminWeb) -> None:
    async with admin_web.as_(ADMIN) as admin:
        form = await admin.get("/admin/accounts/new")
        assert form.status_code == 200 and 'name="csrf_token"' in form.text
        created = await admin.post("/admin/accounts", data={
            "csrf_token": csrf_of(form.text), "address": "Li.Lei@Example.com", "display_name": "李雷",
            "password": "", "role": "user", "quota": "2G"})
        assert created.status_code == 200, created.text
        password = generated_password(created.text)
        listing = await admin.get("/admin/accounts", params={"q": "李"})
        assert 'data-account="li.lei@example.com"' in listing.text and "0 B / 2.0 GiB" in listing.text
    async with admin_web.web.signed_in("li.lei@example.com", password) as client:
        me = await client.get("/api/v1/me")
        assert me.json()["display_name"] == "李雷" and me.json()["quota_bytes"] == 2 * 1024 ** 3
    status, folders = await asyncio.to_thread(imap_login, admin_web.web.server.port("imap"), "li.lei@example.com",
                                              password)
    assert status == "OK" and any(b"INBOX" in line for line in folders)


async def test_admin_edits_resets_and_removes_an_account(admin_web: AdminWeb) -> None:
    async with admin_web.as_(ADMIN) as admin:
        saved = await admin.post(f"/admin/accounts/{JOE}", data={
            "display_name": "Joe 周", "role": "domain-admin", "quota": "500M", "disabled": "1"})
        assert saved.status_code == 303 and saved.headers["location"].endswith("?notice=account-saved")
        page = await admin.get(saved.headers["location"])
        assert "Joe 周" in page.text and 'value="500M"' in page.text and "checked" in page.text
        assert "The account was saved." in page.text
        joe = await admin_web.services.directory.account(JOE)
        assert (joe.role, joe.quota_bytes, joe.disabled) == ("domain-admin", 500 * 1024 ** 2, True)
        reset = await admin.post(f"/admin/accounts/{JOE}/password", data={"password": ""})
        new_password = generated_password(reset.text)
        await admin.post(f"/admin/accounts/{JOE}", data={"display_name": "Joe", "role": "user", "quota": "0"})
        assert await admin_web.services.directory.authenticate(JOE, new_password) is not None
        refused = await admin.post(f"/admin/accounts/{JOE}/remove", data={"confirm": "someone@else.org"})
        assert refused.status_code == 400 and "confirm" in refused.text
        removed = await admin.post(f"/admin/accounts/{JOE}/remove", data={"confirm": JOE})
        assert removed.status_code == 303
        assert (await admin.get(f"/admin/accounts/{JOE}")).status_code == 404


async def test_every_page_renders_for_an_admin_in_both_languages(admin_web: AdminWeb) -> None:
    for language, word in (("en", "Delivery log"), ("zh-CN", "投递日志")):
        async with admin_web.as_(ADMIN, headers={"Accept-Language": language}) as admin:
            for path in PAGES:
                reply = await admin.get(path)
                assert reply.status_code == 200, (path, reply.text[:500])
                assert word in reply.text and "/static/css/admin.css" in reply.text, path
            start = await admin.get("/admin")
            assert start.status_code == 303 and start.headers["location"] == "/admin/status"


async def test_status_page_shows_listeners_uptime_and_totals(admin_web: AdminWeb) -> None:
    async with admin_web.as_(ADMIN) as admin:
        page = await admin.get("/admin/status")
    server = admin_web.web.server
    for name in ("http", "imap", "smtp", "submission"):
        assert re.search(rf'data-listener="{name}">.*?:{server.port(name)}</td>', page.text, re.S), name
    assert re.search(r'data-total="accounts">5\b', page.text)  # admin@localhost, alice, root, boss, joe
    assert re.search(r'data-total="domains">3\b', page.text) and 'id="uptime"' in page.text


async def test_domain_admin_stays_in_its_domain(admin_web: AdminWeb) -> None:
    async with admin_web.as_(DOMAIN_ADMIN) as boss:
        start = await boss.get("/admin")
        assert start.headers["location"] == "/admin/accounts"
        listing = await boss.get("/admin/accounts")
        assert JOE in listing.text and USER not in listing.text and ADMIN not in listing.text
        assert "/admin/queue" not in listing.text  # admin-only areas are not offered
        # Another domain's account answers exactly like a missing one.
        foreign = await boss.get(f"/admin/accounts/{USER}")
        missing = await boss.get("/admin/accounts/nobody@example.com")
        assert foreign.status_code == missing.status_code == 404
        assert error_of(foreign.text).replace(USER, "X") == error_of(missing.text).replace("nobody@example.com", "X")
        assert (await boss.post(f"/admin/accounts/{USER}/password", data={})).status_code == 404
        assert (await boss.get("/admin/domains/example.com")).status_code == 404
        assert (await boss.get("/admin/domains/other.org")).status_code == 200
        # No admins made, no own role change; admin-only pages refused.
        made = await boss.post("/admin/accounts", data={"address": "evil@other.org", "role": "admin"})
        assert made.status_code == 403
        own = await boss.post(f"/admin/accounts/{DOMAIN_ADMIN}", data={"role": "user", "display_name": "Boss"})
        assert own.status_code == 403
        promoted = await boss.post(f"/admin/accounts/{JOE}", data={"role": "admin"})
        assert promoted.status_code == 403
        for path in ("/admin/status", "/admin/queue", "/admin/deliveries", "/admin/audit"):
            assert (await boss.get(path)).status_code == 403, path
        assert (await boss.post("/admin/domains", data={"name": "mine.test"})).status_code == 403
        # Within its domain it works.
        ok = await boss.post("/admin/accounts", data={"address": "new@other.org", "password": SECRET,
                                                      "role": "domain-admin"})
        assert ok.status_code == 200 and "The password you entered is set." in ok.text
    assert (await admin_web.services.directory.account(DOMAIN_ADMIN)).role == "domain-admin"
    assert (await admin_web.services.directory.account(JOE)).role == "user"


async def test_a_user_gets_nothing(admin_web: AdminWeb) -> None:
    async with admin_web.as_(USER, PASSWORD) as user:
        home = await user.get("/")
        assert 'href="/admin"' not in home.text
        for path in ("/admin", "/admin/accounts", "/admin/status", f"/admin/accounts/{USER}"):
            assert (await user.get(path)).status_code in (403, 404), path
        created = await user.post("/admin/accounts", data={"address": "x@example.com", "role": "admin"})
        assert created.status_code == 403
        assert (await user.post(f"/admin/accounts/{USER}", data={"role": "admin"})).status_code == 403
    assert (await admin_web.services.directory.account(USER)).role == "user"
    async with admin_web.web.client() as anonymous:
        reply = await anonymous.get("/admin/accounts")
        assert reply.status_code == 303 and reply.headers["location"].startswith("/signin")


async def test_writes_need_the_csrf_token(admin_web: AdminWeb) -> None:
    async with admin_web.web.signed_in(ADMIN, SECRET) as admin:
        reply = await admin.post("/admin/domains", data={"name": "csrf.test"})
        assert reply.status_code == 403
    assert await admin_web.services.store.directory.get_domain("csrf.test") is None


async def test_csv_import_reports_rejected_rows_and_offers_passwords_once(admin_web: AdminWeb) -> None:
    rows = ("address,display name,password,quota,role\r\n"
            "han.meimei@example.com,韩梅梅,,1G,\r\n"
            "wang@other.org,王,a-given-password,,user\r\n"
            "alice@example.com,Alice,,,\r\n"
            "bad address,,,,\r\n"
            "x@nowhere.test,,,,\r\n").encode("gb18030")
    async with admin_web.as_(ADMIN) as admin:
        report = await admin.post("/admin/import", files={"file": ("users.csv", rows, "text/csv")})
        assert report.status_code == 200, report.text
        assert "2 account(s) created, 3 row(s) rejected." in report.text
        rejected = dict(re.findall(r'<tr data-line="(\d+)">.*?<td>[^<]*</td><td>([^<]*)</td></tr>', report.text, re.S))
        assert set(rejected) == {"4", "5", "6"}
        assert "already exists" in rejected["4"] and "valid mail address" in rejected["5"]
        assert "not hosted" in rejected["6"]
        link = re.search(r'href="(/admin/import/[^"]+\.csv)"', report.text)
        assert link
        download = await admin.get(link.group(1))
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert table[0] == ["address", "password"] and [r[0] for r in table[1:]] == ["han.meimei@example.com"]
        assert (await admin.get(link.group(1))).status_code == 404  # once only
    han = await admin_web.services.directory.account("han.meimei@example.com")
    assert han.display_name == "韩梅梅" and han.quota_bytes == 1024 ** 3
    assert await admin_web.services.directory.authenticate("han.meimei@example.com", table[1][1]) is not None
    assert await admin_web.services.directory.authenticate("wang@other.org", "a-given-password") is not None


async def test_domains_client_settings_and_dns_records(admin_web: AdminWeb) -> None:
    await admin_web.services.store.dkim_keys.create("other.org", "sel1", 1024)
    async with admin_web.as_(ADMIN) as admin:
        assert (await admin.post("/admin/domains", data={"name": "New.Test"})).status_code == 303
        domains = await admin.get("/admin/domains")
        assert 'data-domain="new.test"' in domains.text
        setup = await admin.get("/admin/domains/other.org")
        imaps = admin_web.web.server.port("imaps")
        assert re.search(rf'data-listener="imaps">.*?<td class="num">{imaps}</td>', setup.text, re.S)
        assert 'data-purpose="mx"' in setup.text and "v=spf1 mx -all" in setup.text
        assert "sel1._domainkey.other.org" in setup.text and "v=DKIM1" in setup.text
        assert "_dmarc.other.org" in setup.text
        refused = await admin.post("/admin/domains/other.org/remove", data={})
        assert refused.status_code == 400 and "force" in refused.text
        assert (await admin.post("/admin/domains/new.test/remove", data={})).status_code == 303
        assert 'data-domain="new.test"' not in (await admin.get("/admin/domains")).text


async def test_aliases_and_catch_all(admin_web: AdminWeb) -> None:
    async with admin_web.as_(DOMAIN_ADMIN) as boss:
        added = await boss.post("/admin/aliases", data={"source": "@other.org", "targets": JOE})
        assert added.status_code == 303
        assert (await boss.post("/admin/aliases", data={"source": "sales@other.org",
                                                        "targets": f"{JOE}; {DOMAIN_ADMIN}"})).status_code == 303
        page = await boss.get("/admin/aliases")
        assert 'data-alias="@other.org"' in page.text and 'data-alias="sales@other.org"' in page.text
        foreign = await boss.post("/admin/aliases", data={"source": "x@example.com", "targets": JOE})
        assert foreign.status_code == 404
    report = await admin_web.services.delivery.deliver(make_message(to="anyone@other.org"), "a@b.test",
                                                       ["anyone@other.org"])
    assert report.outcomes[0].ok  # the catch-all took it
    async with admin_web.as_(DOMAIN_ADMIN) as boss:
        assert (await boss.post("/admin/aliases/remove", data={"source": "sales@other.org",
                                                               "target": DOMAIN_ADMIN})).status_code == 303
        assert (await boss.post("/admin/aliases/remove", data={"source": "@other.org"})).status_code == 303
        page = await boss.get("/admin/aliases")
        assert 'data-alias="@other.org"' not in page.text and DOMAIN_ADMIN not in page.text.split("<tbody>")[1]
