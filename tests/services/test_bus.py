"""The event bus in one process: subscribers by account, everyone's, and by kind of event."""

from __future__ import annotations

from yizhan.services.bus import EventBus
from yizhan.store.events import FlagsChanged, MessageAdded
from yizhan.store.outbound import QueueChanged


def test_subscribers_get_their_account_everyone_or_their_kinds() -> None:
    bus = EventBus()
    alice, everyone = bus.subscribe(1), bus.subscribe(None)
    queue_only = bus.subscribe(None, kinds=(QueueChanged,))
    added, flagged, queued = MessageAdded(1, 10, 1, 5), FlagsChanged(2, 20, 1, 6, ("\\Seen",)), QueueChanged(0, "q1")
    bus.publish([added, flagged, queued])
    assert alice.pending() == [added]
    assert everyone.pending() == [added, flagged, queued]
    # The queue runner is not woken by every message filed, only by changes of the queue.
    assert queue_only.pending() == [queued]
    queue_only.close()
    bus.publish([QueueChanged(0, "q1")])
    assert queue_only.pending() == [] and len(everyone.pending()) == 1
