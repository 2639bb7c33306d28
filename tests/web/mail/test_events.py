"""`/mail/events` over real sockets: a delivered message reaches an open stream as a `new` event with fresh
counts, other accounts' mail does not, and the limits hold (streams per account, heartbeat, lifetime) without
leaving a bus subscription behind when the browser goes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.web.conftest import Web
from tests.web.mail.helpers import BOB, account_id, add_bob, deliver, folder_id
from yizhan.web.ui import mail_events


async def events(reply: httpx.Response) -> AsyncIterator[tuple[str, dict[str, object] | str]]:
    """(event name, data) of each event, and ("comment", text) of each comment line."""
    kind = "message"
    async for line in reply.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:])
            kind = "message"


async def subscriptions(web: Web, account: int) -> int:
    return len(web.services.bus._by_account.get(account, ()))


async def wait_for_no_subscription(web: Web, account: int) -> None:
    for _ in range(100):
        if not await subscriptions(web, account):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the stream's bus subscription was left open")


async def test_a_delivered_message_arrives_as_an_event_of_this_account_only(web: Web) -> None:
    await add_bob(web)
    inbox = await folder_id(web, "INBOX")
    alice = await account_id(web)
    async with web.signed_in() as client, client.stream("GET", "/mail/events") as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        stream = events(reply)
        kind, first = await anext(stream)
        assert kind == "counts" and isinstance(first, dict)
        assert first["folders"][str(inbox)] == [0, 0]  # type: ignore[index]
        assert await subscriptions(web, alice) == 1
        await deliver(web, 1, to=BOB)
        await asyncio.sleep(0.5)
        await deliver(web, 2)
        received: dict[str, dict[str, object]] = {}
        while "new" not in received:
            kind, data = await asyncio.wait_for(anext(stream), 10)
            assert kind in ("counts", "new"), kind
            assert isinstance(data, dict)
            received[kind] = data
        assert received["new"]["folders"] == {str(inbox): 2} or received["new"]["folders"] == {str(inbox): 1}
        counts = received["counts"]["folders"]
        folders = await web.services.mailbox.folders(alice)
        assert isinstance(counts, dict) and set(counts) == {str(f.id) for f in folders}
        assert counts[str(inbox)][1] >= 1
    await wait_for_no_subscription(web, alice)


async def test_streams_per_account_are_limited_and_given_back(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail_events, "LIMITS", mail_events.StreamLimits(per_account=2))
    alice = await account_id(web)
    async with web.signed_in() as client:
        async with client.stream("GET", "/mail/events") as one, client.stream("GET", "/mail/events") as two:
            assert one.status_code == two.status_code == 200
            # The readers are kept: a dropped async generator is closed, and httpx then closes its stream.
            reading_one, reading_two = events(one), events(two)
            await anext(reading_one)
            await anext(reading_two)
            third = await client.get("/mail/events")
            assert third.status_code == 429 and third.headers["retry-after"] == "30"
            assert "Too many open pages" in third.text
            assert await subscriptions(web, alice) == 2
        await wait_for_no_subscription(web, alice)
        async with client.stream("GET", "/mail/events") as again:
            assert again.status_code == 200
    await wait_for_no_subscription(web, alice)


async def test_heartbeat_and_lifetime(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail_events, "LIMITS", mail_events.StreamLimits(heartbeat=0.2, lifetime=1.0))
    alice = await account_id(web)
    async with web.signed_in() as client, client.stream("GET", "/mail/events") as reply:
        seen = [item async for item in events(reply)]  # ends by itself after the lifetime
    assert seen[0][0] == "counts" and ("comment", "heartbeat") in seen
    await wait_for_no_subscription(web, alice)


async def test_signed_out_pages_get_no_stream(web: Web) -> None:
    async with web.client() as client:
        reply = await client.get("/mail/events")
    assert reply.status_code == 303 and reply.headers["location"].startswith("/signin")
