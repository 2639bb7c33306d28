"""One account can neither read nor change nor detect another's messages through any reading route: a foreign
folder id and UID answer 404 exactly like a missing one, for pages, files, links and the API."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Web, csrf_of
from tests.web.read.support import (
    BOB,
    BOB_PASSWORD,
    add_bob,
    attribute_values,
    chinese_message,
    deliver,
    flags_of,
    html_message,
)


async def test_foreign_ids_are_404_on_every_route(web: Web) -> None:
    await add_bob(web)
    alice_id, alice_uid = await deliver(web, chinese_message(extra_headers=f"Disposition-Notification-To: {BOB}\r\n"))
    html_id, html_uid = await deliver(web, html_message("http://images.example.net/i.png"))
    bob_id, bob_uid = await deliver(web, chinese_message(message_id="<bob@example.org>"), to=BOB)
    async with web.signed_in() as alice:
        body = await alice.get(f"/mail/body/{html_id}/{html_uid}")
        [signed] = [s for s in attribute_values(body.text, "src") if s.startswith("/mail/part/")]
    async with web.signed_in(BOB, BOB_PASSWORD) as bob:
        csrf = csrf_of((await bob.get(f"/mail/read/{bob_id}/{bob_uid}")).text)
        gets = [f"/mail/read/{alice_id}/{alice_uid}", f"/mail/read/{alice_id}/{alice_uid}?pane=1",
                f"/mail/thread/{alice_id}/{alice_uid}", f"/mail/body/{alice_id}/{alice_uid}",
                f"/mail/part/{alice_id}/{alice_uid}/2", f"/mail/zip/{alice_id}/{alice_uid}",
                f"/mail/eml/{alice_id}/{alice_uid}", f"/mail/source/{alice_id}/{alice_uid}",
                f"/api/v1/messages/{alice_id}/{alice_uid}", f"/api/v1/messages/{alice_id}/{alice_uid}/raw",
                f"/api/v1/messages/{alice_id}/{alice_uid}/parts/2", signed,
                # Bob's own folder id with Alice's UID: as missing as anything.
                f"/mail/read/{bob_id}/{bob_uid + 1}"]
        for path in gets:
            reply = await bob.get(path)
            assert reply.status_code == 404, path
            assert "季度" not in reply.text and "zhu@example.org" not in reply.text, path
        posts: list[tuple[str, dict[str, Any]]] = [
            (f"/mail/read/{alice_id}/{alice_uid}/flags", {"data": {"action": "flag"}}),
            (f"/mail/read/{alice_id}/{alice_uid}/move", {"data": {"action": "delete"}}),
            (f"/mail/read/{alice_id}/{alice_uid}/move", {"data": {"action": "move", "target": str(bob_id)}}),
            (f"/mail/read/{alice_id}/{alice_uid}/images", {"data": {}}),
            (f"/mail/read/{alice_id}/{alice_uid}/receipt", {"data": {"decision": "send"}}),
            (f"/api/v1/messages/{alice_id}/{alice_uid}/receipt", {"json": {"decision": "ignore"}}),
            # Moving his own message into her folder.
            (f"/mail/read/{bob_id}/{bob_uid}/move", {"data": {"action": "move", "target": str(alice_id)}}),
        ]
        for path, kwargs in posts:
            reply = await bob.post(path, headers={"X-CSRF-Token": csrf}, **kwargs)
            assert reply.status_code == 404, path
    # Nothing of Alice's changed.
    flags = await flags_of(web, "alice@example.com", "INBOX", alice_uid)
    assert "\\Flagged" not in flags and "$MDNSent" not in flags and "\\Seen" not in flags
    account = await web.services.directory.account("alice@example.com")
    assert (await web.services.mailbox.folder(account.id, "INBOX")).exists_count == 2
    assert await web.services.account_settings.image_senders(account.id) == []
