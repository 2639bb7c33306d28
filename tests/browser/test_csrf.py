"""Story 9: cross-site request forgery in a real browser. A signed-in administrator visits a page of another
origin (a second HTTP server on 127.0.0.1, other port: the same *site* for the browser, so SameSite cookies ARE
sent and only the server's own checks stand) that auto-submits forms and fires a no-cors fetch at Yizhan:
create an administrator account, send mail in the victim's name (JSON smuggled in a text/plain form), delete a
message. Each is refused with 403 and nothing changes; the victim's session still works."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in
from tests.mailfactory import make_message
from yizhan.util.errors import NotFound


class AttackerHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        pages: dict[str, str] = self.server.pages  # type: ignore[attr-defined]
        body = pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write((body or "no such page").encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AttackerHandler)
    server.pages = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="csrf-attacker", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def auto_form(action: str, fields: dict[str, str], enctype: str = "application/x-www-form-urlencoded") -> str:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return (f'<!doctype html><form id="f" method="post" action="{html.escape(action)}" enctype="{enctype}">'
            f"{inputs}</form><script>document.getElementById('f').submit();</script>")


def attack(page: Page, attacker: ThreadingHTTPServer, path: str, document: str, target: str) -> int:
    """Visit the attacker's page; returns the status Yizhan answered the forged POST to `target` with."""
    attacker.pages[path] = document  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{attacker.server_address[1]}{path}"
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(target)) as answer:
        page.goto(url)
    return answer.value.status


def account_exists(site: Site, address: str) -> bool:
    async def look() -> bool:
        try:
            await site.services.directory.account(address)
        except NotFound:
            return False
        return True

    return site.run(look())


def test_forged_requests_from_another_origin_are_refused(page: Page, site: Site,
                                                         attacker: ThreadingHTTPServer) -> None:
    victim = site.new_account("victim", role="admin")
    bystander = site.new_account("bystander")
    site.deliver(make_message(subject="Keep me", to=victim), victim)
    sign_in(page, victim)
    row = page.get_by_test_id("message-row").filter(has_text="Keep me")
    expect(row).to_have_count(1)
    ref = row.get_attribute("data-ref") or ""
    assert re.fullmatch(r"\d+:\d+", ref)

    # An administrator action: a new admin account the attacker would own.
    evil = f"evil-{next(site.counter)}@example.com"
    status = attack(page, attacker, "/admin", auto_form(
        f"{site.base}/admin/accounts", {"address": evil, "password": "attacker owns it 1", "role": "admin"}),
        "/admin/accounts")
    assert status == 403
    expect(page.locator("body")).to_contain_text("cross-site request refused")
    assert not account_exists(site, evil)

    # Mail in the victim's name: JSON smuggled in a text/plain form (name + "=" + value is the body).
    payload = json.dumps({"from": victim, "to": [bystander], "subject": "forged", "text": "x", "back": "/mail"})
    name, value = payload[:-2], payload[-2:]
    assert json.loads(f"{name}={value}")["to"] == [bystander]  # the body the browser sends is valid JSON
    status = attack(page, attacker, "/send", auto_form(f"{site.base}/compose/send", {name: value}, "text/plain"),
                    "/compose/send")
    assert status == 403

    # A message deleted by a no-cors fetch with the victim's cookies.
    attacker.pages["/delete"] = (  # type: ignore[attr-defined]
        "<!doctype html><script>fetch(" + json.dumps(f"{site.base}/mail/actions") + ", {method: 'POST', "
        "mode: 'no-cors', credentials: 'include', body: new URLSearchParams({action: 'delete', ids: "
        + json.dumps(ref) + "})});</script>")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/mail/actions")) as answer:
        page.goto(f"http://127.0.0.1:{attacker.server_address[1]}/delete")
    assert answer.value.status == 403

    # Nothing changed, and the victim's own session still works.
    page.goto(f"{site.base}/mail")
    expect(page.get_by_test_id("message-row").filter(has_text="Keep me")).to_have_count(1)
    assert site.folder_id(victim, "Sent") > 0

    async def sent_and_received() -> tuple[int, int]:
        victim_account = await site.services.directory.account(victim)
        bystander_account = await site.services.directory.account(bystander)
        sent = await site.services.mailbox.open(victim_account.id, "Sent")
        inbox = await site.services.mailbox.open(bystander_account.id, "INBOX")
        return len(sent.entries), len(inbox.entries)

    assert site.run(sent_and_received()) == (0, 0)
    page.goto(f"{site.base}/admin/accounts")
    expect(page.get_by_role("navigation", name="Admin console")).to_be_visible()
