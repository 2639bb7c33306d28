"""`GET /mail/events`: the new-mail notice of open pages, as server-sent events (HTML Living Standard §9.2) fed by
the store's change events on the bus, for the signed-in account only.

Events sent:
- `counts` (at once, then after every change): `{"folders": {"<id>": [unread, total], ...}}`;
- `new` when messages arrived: `{"folders": {"<id>": <how many new>}}`.
Changes are gathered for `batch_delay` seconds, so a burst of deliveries makes one update.

Limits and invariants:
- At most `per_account` streams per account at once (the next one is refused with 429 and Retry-After); a
  comment line (heartbeat) every `heartbeat` seconds keeps proxies from closing the connection and finds gone
  browsers; a stream ends after `lifetime` seconds and the browser reconnects (EventSource does it by itself,
  after the `retry` delay sent first), so the session is checked again at least that often.
- The bus subscription is closed and the stream's slot given back whenever the stream ends: by its lifetime,
  by the browser leaving (Starlette cancels the stream when the client disconnects), or by the server stopping.
- A subscriber that overflowed its queue just gets fresh counts (events carry no content).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from yizhan.services.bus import Subscription
from yizhan.services.webmail import WebmailService
from yizhan.store.events import Event, MessageAdded
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.errors import error_response

router = APIRouter()
_STREAMS = "mail_event_streams"


@dataclass(frozen=True)
class StreamLimits:
    per_account: int = 5
    heartbeat: float = 20.0
    lifetime: float = 600.0
    batch_delay: float = 0.25
    retry_ms: int = 5000


LIMITS = StreamLimits()


def open_streams(request: Request) -> Counter[int]:
    """Streams open per account id, in this web application."""
    streams: Counter[int] = web_state(request).extra.setdefault(_STREAMS, Counter())  # type: ignore[assignment]
    return streams


def _message(kind: str, data: object) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _counts(webmail: WebmailService, account_id: int) -> str:
    folders = await webmail.folders(account_id)
    return _message("counts", {"folders": {str(f.id): [f.unseen_count, f.exists_count] for f in folders}})


async def _stream(webmail: WebmailService, account_id: int, subscription: Subscription,
                  limits: StreamLimits) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.lifetime
    yield f"retry: {limits.retry_ms}\n\n" + await _counts(webmail, account_id)
    while (left := deadline - loop.time()) > 0:
        try:
            first = await asyncio.wait_for(subscription.get(), timeout=min(limits.heartbeat, left))
        except TimeoutError:
            yield ": heartbeat\n\n"
            continue
        await asyncio.sleep(limits.batch_delay)
        batch: list[Event] = [first, *subscription.pending()]
        subscription.overflowed = False
        added = Counter(str(e.folder_id) for e in batch if isinstance(e, MessageAdded))
        yield await _counts(webmail, account_id) + (_message("new", {"folders": dict(added)}) if added else "")


class EventStream(StreamingResponse):
    """A StreamingResponse that gives its resources back however the response ends (or if it never starts)."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
            if isinstance(self.body_iterator, AsyncGenerator):
                await self.body_iterator.aclose()


@router.get("/mail/events")
async def mail_events(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    limits = LIMITS
    account_id = principal.account.id
    streams = open_streams(request)
    if streams[account_id] >= limits.per_account:
        i18n = request.state.i18n
        return error_response(request, 429, "too_many_streams",
                              i18n.gettext("Too many open pages are waiting for new mail: close some of them."),
                              headers={"Retry-After": "30"})
    state = web_state(request)
    streams[account_id] += 1
    subscription = state.services.bus.subscribe(account_id)
    released = False

    def release() -> None:
        nonlocal released
        if released:
            return
        released = True
        subscription.close()
        streams[account_id] -= 1
        if streams[account_id] <= 0:
            del streams[account_id]

    return EventStream(_stream(WebmailService.of(state.services), account_id, subscription, limits), release)
