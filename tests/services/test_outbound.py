"""OutboundService: durable enqueue, input checks, DKIM signing once at enqueue, events, administration."""

from __future__ import annotations

import pytest

from tests.mailfactory import make_message
from yizhan.services.runtime import Services
from yizhan.store.outbound import QueueChanged
from yizhan.util.errors import InvalidInput, NotFound


async def test_enqueue_stores_the_bytes_and_announces_it(services: Services) -> None:
    subscription = services.bus.subscribe(None)
    raw = make_message(subject="Outbound")
    queue_id = await services.outbound.enqueue(raw, "alice@example.com", ["bob@example.net", "bob@example.net"])
    message, data = await services.outbound.show(queue_id)
    assert data == raw and message.size == len(raw) and not message.signed
    assert [r.address for r in message.recipients] == ["bob@example.net"]
    assert [e for e in subscription.pending() if isinstance(e, QueueChanged)] == [QueueChanged(0, queue_id)]
    assert [m.queue_id for m in await services.outbound.list()] == [queue_id]


@pytest.mark.parametrize(("mail_from", "recipients", "why"), [
    ("alice@example.com", [], "no recipients"),
    ("alice@example.com", ["not an address"], "invalid address"),
    ("alice@example.com", ["bob@example.net", "<evil>@x"], "invalid address"),
    ("bad sender", ["bob@example.net"], "invalid address"),
])
async def test_bad_envelopes_are_refused(services: Services, mail_from: str, recipients: list[str],
                                         why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        await services.outbound.enqueue(make_message(), mail_from, recipients)
    assert await services.outbound.list() == []


async def test_too_large_is_refused(services: Services) -> None:
    services.outbound.max_message_size = 2000
    with pytest.raises(InvalidInput, match="exceeds the limit"):
        await services.outbound.enqueue(make_message(body="x" * 5000), "alice@example.com", ["b@example.net"])


async def test_signed_once_at_enqueue_when_the_domain_has_a_key(services: Services) -> None:
    await services.store.dkim_keys.create("example.com", "s1", bits=1024)
    raw = make_message(sender="alice@example.com")
    queue_id = await services.outbound.enqueue(raw, "alice@example.com", ["b@example.net"],
                                               sign_domain="example.com")
    message, data = await services.outbound.show(queue_id)
    assert message.signed and message.sign_domain == "example.com"
    assert data.startswith(b"DKIM-Signature:") and b"d=example.com" in data and b"s=s1" in data
    assert data.endswith(raw)


async def test_a_message_that_cannot_be_signed_is_still_queued_unsigned(services: Services) -> None:
    await services.store.dkim_keys.create("example.com", "s1", bits=1024)
    raw = b"Subject: no From header\r\n\r\nbody\r\n"
    queue_id = await services.outbound.enqueue(raw, "alice@example.com", ["b@example.net"],
                                               sign_domain="example.com")
    message, data = await services.outbound.show(queue_id)
    assert not message.signed and data == raw


async def test_retry_and_delete(services: Services) -> None:
    raw = make_message()
    queue_id = await services.outbound.enqueue(raw, "alice@example.com", ["b@example.net", "c@example.org"])
    assert await services.outbound.retry(queue_id) == 2
    blob = (await services.outbound.show(queue_id))[0].blob
    await services.outbound.delete(queue_id)
    assert await services.outbound.list() == []
    assert not services.store.blobs.exists(blob)
    for action in (services.outbound.show, services.outbound.delete, services.outbound.retry):
        with pytest.raises(NotFound):
            await action(queue_id)
