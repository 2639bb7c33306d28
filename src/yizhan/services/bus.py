"""The event bus: store change events, published after commit, delivered to subscribers.

Subscribers (IDLE sessions, open web pages) each get a bounded queue; a subscriber that falls behind loses the
oldest events and is told so by `overflowed`, after which it must re-read state from the store. Publishing never
blocks and never fails.

With several worker processes (`server.workers`), `publish` also sends the events to the other workers over the
mesh (util/mesh.py) before it returns, and they deliver them to their own subscribers. `Subscription.pending()`
first takes in what the other workers sent (`Peers.sync`), so a session that asks for its updates sees every
change another worker had committed and published before it asked. A PostgreSQL LISTEN/NOTIFY bus can replace the
mesh for several machines behind the same interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from yizhan.store.events import Event
from yizhan.util.mesh import Peers

_TOPIC = "events"


class Subscription:
    """Events of one account (or of every account when `account_id` is None)."""

    def __init__(self, bus: EventBus, account_id: int | None, capacity: int,
                 kinds: tuple[type[Event], ...] | None = None) -> None:
        self._bus = bus
        self.account_id = account_id
        # Only events of these classes are queued (None: all).
        self.kinds = kinds
        self._queue: asyncio.Queue[Event] = asyncio.Queue(capacity)
        self.overflowed = False

    def _offer(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.overflowed = True
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def pending(self) -> list[Event]:
        """Every event waiting now, those other workers published included, without blocking."""
        self._bus.sync()
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    def close(self) -> None:
        self._bus._remove(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    def __init__(self, capacity: int = 1000, peers: Peers | None = None) -> None:
        self._capacity = capacity
        self._by_account: dict[int | None, set[Subscription]] = {}
        self._peers = peers if peers is not None else Peers()
        self._peers.on(_TOPIC, self._from_peer)

    def subscribe(self, account_id: int | None = None,
                  kinds: tuple[type[Event], ...] | None = None) -> Subscription:
        """Events of `account_id` (every account's when None), only those of the classes `kinds` if given (the
        queue runner wants QueueChanged alone, not a wake-up for every message filed)."""
        subscription = Subscription(self, account_id, self._capacity, kinds)
        self._by_account.setdefault(account_id, set()).add(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        group = self._by_account.get(subscription.account_id)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self._by_account[subscription.account_id]

    def publish(self, events: Iterable[Event]) -> None:
        batch = tuple(events)
        if not batch:
            return
        self._deliver(batch)
        self._peers.broadcast(_TOPIC, batch)

    def sync(self) -> None:
        """Deliver what other workers published and this one has received but not yet handled."""
        self._peers.sync()

    def _from_peer(self, peer: int, events: tuple[Event, ...]) -> None:
        self._deliver(events)

    def _deliver(self, events: tuple[Event, ...]) -> None:
        for event in events:
            for key in (event.account_id, None):
                for subscription in tuple(self._by_account.get(key, ())):
                    if subscription.kinds is None or isinstance(event, subscription.kinds):
                        subscription._offer(event)
