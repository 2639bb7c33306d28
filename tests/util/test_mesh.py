"""The worker mesh (util/mesh.py) over real Unix socket pairs, in one process: read-your-writes through `sync()`,
order, frames larger than the socket buffers, peers that leave, join or send garbage, `SharedCounts`, and the
event bus carried over a mesh (services/bus.py)."""

from __future__ import annotations

import asyncio
import logging
import pickle
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.meshes import link, mesh_factory
from yizhan.services.bus import EventBus
from yizhan.store.events import FlagsChanged, MessageAdded
from yizhan.util.mesh import MAX_FRAME, Mesh, Peers, SharedCounts


@pytest.fixture
def meshes() -> Iterator[Callable[[int], list[Mesh]]]:
    """`make(n)`: n meshes, every pair linked, none attached yet; all closed after the test."""
    yield from mesh_factory(attached=False)


def attach(*group: Mesh) -> None:
    loop = asyncio.get_running_loop()
    for mesh in group:
        mesh.attach(loop)


def record(mesh: Mesh, topic: str) -> list[tuple[int, Any]]:
    seen: list[tuple[int, Any]] = []
    mesh.on(topic, lambda peer, payload: seen.append((peer, payload)))
    return seen


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the event loop run until `condition()` holds; AssertionError after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.005)
    assert condition(), f"not true after {seconds} s"


def send_buffer(mesh: Mesh) -> int:
    """The kernel's send buffer of one of the mesh's sockets (after `add_peer` asked for a large one)."""
    probe_left, probe_right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    probe = Mesh(99)
    probe.add_peer(0, probe_left)
    try:
        return int(probe_left.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    finally:
        probe.close()
        probe_right.close()


def raw_frame(topic: str, payload: object) -> bytes:
    data = pickle.dumps((topic, payload), protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("!I", len(data)) + data


# Read-your-writes


async def test_a_broadcast_is_handled_by_the_next_sync_of_the_other_side_without_the_loop(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    seen = record(b, "greeting")
    a.broadcast("greeting", {"hello": 1})
    # Nothing ran the event loop: only sync() can have handled the frame.
    assert seen == []
    b.sync()
    assert seen == [(a.index, {"hello": 1})]
    b.sync()
    assert seen == [(a.index, {"hello": 1})]


async def test_with_three_workers_every_other_one_sees_the_broadcast_at_its_sync(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    attach(a, b, c)
    seen_a, seen_b, seen_c = record(a, "t"), record(b, "t"), record(c, "t")
    b.broadcast("t", "from b")
    c.sync()
    a.sync()
    b.sync()
    assert seen_a == [(b.index, "from b")]
    assert seen_c == [(b.index, "from b")]
    assert seen_b == []  # a worker does not hear itself
    c.send_to(a.index, "t", "only for a")
    a.sync()
    b.sync()
    assert seen_a == [(b.index, "from b"), (c.index, "only for a")]
    assert seen_b == []


async def test_frames_are_handled_in_the_order_they_were_sent_across_topics(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    seen: list[tuple[str, int]] = []
    b.on("odd", lambda peer, n: seen.append(("odd", n)))
    b.on("even", lambda peer, n: seen.append(("even", n)))
    # Small frames and a few of 20 KB (more than one read of the receiver), within even a small socket buffer.
    sent: list[tuple[str, int]] = []
    for n in range(200):
        topic = "odd" if n % 2 else "even"
        a.broadcast(topic, n)
        sent.append((topic, n))
        if n % 50 == 0:
            a.broadcast("padding", b"p" * 20_000)
    b.sync()
    assert seen == sent


async def test_many_frames_beyond_the_socket_buffer_arrive_in_order_once_the_loop_runs(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    seen = record(b, "n")
    chunk = b"c" * 64 * 1024
    count = max(200, 3 * send_buffer(a) // len(chunk))
    for n in range(count):
        a.broadcast("n", (n, chunk))
    await until(lambda: len(seen) == count)
    assert [n for _peer, (n, _chunk) in seen] == list(range(count))
    assert all(data == chunk for _peer, (_n, data) in seen)


async def test_a_frame_larger_than_the_socket_buffers_arrives_whole_and_before_later_frames(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    attach(a, b, c)
    big = bytes(range(256)) * (max(5 * 1024 * 1024, 2 * send_buffer(a)) // 256)
    seen = record(b, "t")
    seen_c = record(c, "t")
    a.broadcast("t", big)
    a.broadcast("t", "after")
    b.sync()
    # The frame could not all be in b's socket yet: nothing (and no piece of it) is handled.
    assert seen == []
    # Both copies wait in the outboxes and go out as the sockets drain, the small frame after the big one.
    await until(lambda: len(seen) == 2 and len(seen_c) == 2)
    assert seen[0] == (a.index, big)
    assert seen[1] == (a.index, "after")
    assert seen_c == seen
    # Once drained, read-your-writes holds again.
    a.broadcast("t", "again")
    b.sync()
    assert seen[-1] == (a.index, "again")


async def test_sync_before_attach_handles_nothing_and_the_frame_waits(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a)
    seen = record(b, "t")
    a.broadcast("t", 1)
    a.broadcast("t", 2)
    b.sync()
    await asyncio.sleep(0.05)
    assert seen == []
    attach(b)
    b.sync()
    assert seen == [(a.index, 1), (a.index, 2)]


async def test_frames_wait_for_an_unattached_peer_and_are_all_handled_after_attach_via_the_loop(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a)
    seen = record(b, "n")
    chunk = b"w" * 64 * 1024
    count = 3 * send_buffer(a) // len(chunk)
    for n in range(count):
        a.broadcast("n", (n, chunk))
    await asyncio.sleep(0.05)
    b.sync()
    assert seen == []
    attach(b)
    await until(lambda: len(seen) == count)
    assert [n for _peer, (n, _chunk) in seen] == list(range(count))


async def test_a_frame_that_did_not_fit_before_attach_is_sent_after_attach(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(b)
    seen = record(b, "t")
    big = b"x" * (2 * send_buffer(a))
    a.broadcast("t", big)
    attach(a)
    a.broadcast("t", "after")
    await until(lambda: len(seen) == 2, seconds=2)
    assert seen == [(a.index, big), (a.index, "after")]


# Peers leaving and joining


async def test_a_closed_peer_is_dropped_at_the_next_sync_and_its_counts_forgotten(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    counts_a = SharedCounts(a, "c")
    counts_b = SharedCounts(b, "c")
    lost: list[int] = []
    b.on_lost(lost.append)
    counts_a.changed("x", 2)
    counts_a.changed("y", 1)
    b.sync()
    assert (counts_b.others("x"), counts_b.others("y"), counts_b.others_total()) == (2, 1, 3)
    a.close()
    b.sync()
    assert lost == [a.index]
    assert b.peers == []
    assert (counts_b.others("x"), counts_b.others_total()) == (0, 0)


async def test_a_peer_that_exits_is_dropped_by_the_event_loop(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    attach(a, b, c)
    counts_b = SharedCounts(b, "c")
    counts_c = SharedCounts(c, "c")
    SharedCounts(a, "c").changed("k", 5)
    lost_b: list[int] = []
    lost_c: list[int] = []
    b.on_lost(lost_b.append)
    c.on_lost(lost_c.append)
    await until(lambda: counts_b.others("k") == 5 and counts_c.others("k") == 5)
    a.close()
    await until(lambda: lost_b == [a.index] and lost_c == [a.index])
    assert counts_b.others_total() == 0 and counts_c.others_total() == 0
    # The two left still talk.
    seen = record(c, "t")
    b.broadcast("t", "still here")
    c.sync()
    assert seen == [(b.index, "still here")]
    assert b.peers == [c.index] and c.peers == [b.index]


async def test_counts_only_drop_for_the_peer_that_left(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    attach(a, b, c)
    counts_c = SharedCounts(c, "c")
    SharedCounts(a, "c").changed("k", 2)
    shared_b = SharedCounts(b, "c")
    shared_b.changed("k", 3)
    shared_b.changed("k", -1)
    c.sync()
    assert counts_c.others("k") == 4
    a.close()
    c.sync()
    assert counts_c.others("k") == 2
    shared_b.changed("k", -2)
    c.sync()
    assert counts_c.others("k") == 0 and counts_c.others_total() == 0


async def test_a_peer_that_joins_later_is_told_every_shared_table(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    sessions_a, sessions_b = SharedCounts(a, "sessions"), SharedCounts(b, "sessions")
    sessions_a.changed(("imap", 7), 2)
    sessions_a.changed("zero", 0)
    sessions_b.changed(("imap", 7), 1)
    sessions_b.changed(("pop3", 7), 1)
    SharedCounts(a, "other").changed("o", 4)
    # The newcomer registers its handlers, then is linked to both (as a restarted worker is).
    c = Mesh(7)
    attach(c)
    sessions_c = SharedCounts(c, "sessions")
    other_c = SharedCounts(c, "other")
    joined_c: list[int] = []
    c.on_joined(joined_c.append)
    try:
        link(a, c)
        link(b, c)
        c.sync()
        assert sorted(joined_c) == [a.index, b.index]
        assert sessions_c.others(("imap", 7)) == 3
        assert sessions_c.others(("pop3", 7)) == 1
        assert sessions_c.others("zero") == 0
        assert other_c.others("o") == 4
        assert sessions_c.others_total() == 4
    finally:
        c.close()


async def test_a_worker_restarted_under_the_same_index_replaces_the_old_one(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    counts_b = SharedCounts(b, "c")
    SharedCounts(a, "c").changed("k", 3)
    b.sync()
    assert counts_b.others("k") == 3
    lost: list[int] = []
    b.on_lost(lost.append)
    # The new worker 0 (the old one still linked) joins with its own table.
    again = Mesh(a.index)
    attach(again)
    SharedCounts(again, "c").changed("k", 1)
    try:
        link(again, b)
        assert lost == [a.index]
        b.sync()
        assert counts_b.others("k") == 1
        seen = record(b, "t")
        again.broadcast("t", "new")
        b.sync()
        assert seen == [(a.index, "new")]
    finally:
        again.close()


async def test_frames_a_peer_sent_just_before_it_exited_are_handled_before_it_is_dropped(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(b)
    seen = record(b, "t")
    events: list[str] = []
    b.on("t", lambda peer, payload: events.append("frame"))
    b.on_lost(lambda peer: events.append("lost"))
    # One frame of exactly one read of the receiver (256 KiB), then the sender exits.
    size = 256 * 1024 - 100
    size += 256 * 1024 - len(raw_frame("t", b"x" * size))
    assert len(raw_frame("t", b"x" * size)) == 256 * 1024
    a.broadcast("t", b"x" * size)
    a.close()
    b.sync()
    assert events == ["frame", "lost"]
    assert seen == [(a.index, b"x" * size)]


# Broken peers


async def test_a_garbage_frame_drops_that_peer_logs_it_and_the_others_go_on(
        meshes: Callable[[int], list[Mesh]], caplog: pytest.LogCaptureFixture) -> None:
    a, b = meshes(2)
    bad_end, bad_peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.add_peer(9, bad_peer)
    attach(a, b)
    counts_a = SharedCounts(a, "c")
    lost: list[int] = []
    a.on_lost(lost.append)
    seen = record(a, "t")
    try:
        # A good frame, then one with a valid length header whose body does not unpickle, then a good one.
        bad_end.sendall(raw_frame("c", ("k", 2)) + raw_frame("t", "before"))
        garbage = b"this is not a pickle"
        bad_end.sendall(struct.pack("!I", len(garbage)) + garbage + raw_frame("t", "after"))
        with caplog.at_level(logging.INFO, logger="yizhan.util.mesh"):
            a.sync()
        assert seen == [(9, "before")]
        assert lost == [9]
        assert a.peers == [b.index]
        assert counts_a.others("k") == 0
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and "cannot be read" in r.getMessage()]
        assert len(errors) == 1 and errors[0].exc_info is not None
        # The dropped peer's socket is closed on our side.
        assert bad_end.recv(1) == b""
        # The mesh still works with the others, both ways.
        b.broadcast("t", "from b")
        a.sync()
        assert seen == [(9, "before"), (b.index, "from b")]
        seen_b = record(b, "t")
        a.broadcast("t", "from a")
        b.sync()
        assert seen_b == [(a.index, "from a")]
    finally:
        bad_end.close()


async def test_a_frame_over_the_size_limit_drops_that_peer(
        meshes: Callable[[int], list[Mesh]], caplog: pytest.LogCaptureFixture) -> None:
    (a,) = meshes(1)
    bad_end, bad_peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.add_peer(3, bad_peer)
    attach(a)
    lost: list[int] = []
    a.on_lost(lost.append)
    try:
        bad_end.sendall(struct.pack("!I", MAX_FRAME + 1) + b"x" * 16)
        with caplog.at_level(logging.INFO, logger="yizhan.util.mesh"):
            a.sync()
        assert lost == [3]
        assert a.peers == []
        assert any("left the mesh" in r.getMessage() for r in caplog.records)
    finally:
        bad_end.close()


async def test_a_failing_handler_is_logged_and_does_not_stop_the_next_handlers_or_frames(
        meshes: Callable[[int], list[Mesh]], caplog: pytest.LogCaptureFixture) -> None:
    a, b = meshes(2)
    attach(a, b)

    def broken(peer: int, payload: object) -> None:
        raise ValueError("broken handler")

    b.on("t", broken)
    seen = record(b, "t")
    a.broadcast("t", 1)
    a.broadcast("t", 2)
    with caplog.at_level(logging.ERROR, logger="yizhan.util.mesh"):
        b.sync()
    assert seen == [(a.index, 1), (a.index, 2)]
    assert b.peers == [a.index]
    assert sum("handling 't'" in r.getMessage() for r in caplog.records) == 2


# The single-process stand-in


def test_peers_alone_send_and_receive_nothing() -> None:
    peers = Peers()
    seen: list[object] = []
    peers.on("t", lambda peer, payload: seen.append(payload))
    counts = SharedCounts(peers, "c")
    peers.broadcast("t", 1)
    peers.send_to(1, "t", 2)
    counts.changed("k", 1)
    peers.sync()
    peers.close()
    assert seen == []
    assert counts.others("k") == 0 and counts.others_total() == 0


# The event bus over a mesh


async def test_an_event_published_on_one_worker_is_pending_on_the_other_right_after_publish(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    attach(a, b, c)
    bus_a, bus_b, bus_c = EventBus(peers=a), EventBus(peers=b), EventBus(peers=c)
    alice_b = bus_b.subscribe(5)
    everyone_c = bus_c.subscribe()
    alice_a = bus_a.subscribe(5)
    added = MessageAdded(5, folder_id=1, uid=10, modseq=3)
    other = FlagsChanged(6, folder_id=2, uid=1, modseq=4, flags=("\\Seen",))
    bus_a.publish([added, other])
    # No await since publish returned: pending() takes in what the other worker sent.
    assert alice_b.pending() == [added]
    assert everyone_c.pending() == [added, other]
    # The publisher's own subscribers get it once, not again from the mesh.
    assert alice_a.pending() == [added]
    assert alice_a.pending() == []
    assert alice_b.pending() == []
    # Both ways, and in order.
    later = [MessageAdded(5, folder_id=1, uid=uid, modseq=uid) for uid in range(11, 21)]
    for event in later:
        bus_b.publish([event])
    assert alice_a.pending() == later
    assert alice_b.pending() == later
    assert everyone_c.pending() == later
    alice_a.close()
    alice_b.close()
    everyone_c.close()


async def test_an_event_from_another_worker_wakes_a_waiting_subscriber(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    bus_a, bus_b = EventBus(peers=a), EventBus(peers=b)
    with bus_b.subscribe(5) as subscription:
        waiting = asyncio.create_task(subscription.get())
        await asyncio.sleep(0)
        event = MessageAdded(5, folder_id=1, uid=1, modseq=1)
        bus_a.publish([event])
        async with asyncio.timeout(5):
            assert await waiting == event


async def test_a_handler_that_syncs_does_not_handle_frames_twice_or_out_of_order(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    attach(a, b)
    seen: list[int] = []

    def handler(peer: int, payload: int) -> None:
        seen.append(payload)
        b.sync()  # e.g. a handler that reads state through the bus

    b.on("n", handler)
    for number in range(5):
        a.broadcast("n", number)
    b.sync()
    a.broadcast("n", 5)
    b.sync()
    assert seen == [0, 1, 2, 3, 4, 5]
