"""Messages between the worker processes of one server (`server.workers` > 1).

Every worker holds a Unix stream socket to every other worker: a mesh, which the supervisor builds and hands out
(app/supervisor.py). `broadcast` sends a message to all of them; handlers registered with `on` receive it. With a
single process, `Peers` stands in: it sends nothing and receives nothing, so callers need no special case.

Messages are (topic, payload) pairs, pickled into length-prefixed frames. Only the server's own processes hold the
sockets, so unpickling them is safe.

Read-your-writes across processes: `broadcast` writes the frame into every peer's socket before it returns, and a
Unix socket puts the bytes in the receiver's queue at once. Callers broadcast before they answer their client, and
a worker calls `sync()` before it reads state for a command; `sync` handles every frame already queued. So what a
client was told is done on one worker is seen by a command another client sends afterwards to another worker.
Only when a peer stops reading and its socket fills do frames wait in memory (in order) until it drains; then the
guarantee holds again once they are sent.

Invariants:
- Handlers run on the event loop thread, in the order the frames were sent by each peer.
- A peer whose socket closes (it exited) is dropped, and the `on_lost` handlers forget what it had told.
- A peer that joins is told the state of every `SharedCounts` at once (`on_joined`), so a restarted worker starts
  from the others' real counts.
- A frame over `MAX_FRAME` or one that does not unpickle is a bug, not an input: the peer is dropped and it is
  logged.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import socket
import struct
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct("!I")
_READ_SIZE = 256 * 1024
# Each socket's kernel buffer: large, so a busy peer's frames wait in its queue rather than in ours.
_SOCKET_BUFFER = 4 * 1024 * 1024

Handler = Callable[[int, Any], None]
PeerHandler = Callable[[int], None]


class Peers:
    """The other processes of this server. This base class is the single-process case: there are none."""

    index = 0

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._lost: list[PeerHandler] = []
        self._joined: list[PeerHandler] = []

    def on(self, topic: str, handler: Handler) -> None:
        """Call `handler(peer, payload)` for each message of `topic` another process broadcasts."""
        self._handlers.setdefault(topic, []).append(handler)

    def on_lost(self, handler: PeerHandler) -> None:
        """Call `handler(peer)` when a peer is gone: forget what it had said."""
        self._lost.append(handler)

    def on_joined(self, handler: PeerHandler) -> None:
        """Call `handler(peer)` when a peer joins: tell it what it needs to know (`send_to`)."""
        self._joined.append(handler)

    def broadcast(self, topic: str, payload: object) -> None:
        """Send to every peer (none here)."""

    def send_to(self, peer: int, topic: str, payload: object) -> None:
        """Send to one peer (none here)."""

    def sync(self) -> None:
        """Handle every message already received (none here)."""

    def close(self) -> None:
        """Leave the mesh."""


class _Peer:
    def __init__(self, index: int, sock: socket.socket) -> None:
        self.index = index
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()


class Mesh(Peers):
    """This worker's sockets to the other workers."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        self._peers: dict[int, _Peer] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handling = False

    @property
    def peers(self) -> list[int]:
        return sorted(self._peers)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start reading on `loop` (the server's), for peers added before and after."""
        self._loop = loop
        for peer in self._peers.values():
            loop.add_reader(peer.sock.fileno(), self._readable, peer)
            if peer.outbox:
                # Frames that did not fit before the loop was there.
                loop.add_writer(peer.sock.fileno(), self._writable, peer)

    def add_peer(self, index: int, sock: socket.socket) -> None:
        if index in self._peers:
            self._drop(self._peers[index], "replaced")
        sock.setblocking(False)
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, _SOCKET_BUFFER)
            except OSError:
                pass
        peer = _Peer(index, sock)
        self._peers[index] = peer
        if self._loop is not None:
            self._loop.add_reader(sock.fileno(), self._readable, peer)
        for handler in self._joined:
            handler(index)

    def broadcast(self, topic: str, payload: object) -> None:
        if not self._peers:
            return
        frame = _frame(topic, payload)
        for peer in list(self._peers.values()):
            self._send(peer, frame)

    def send_to(self, peer: int, topic: str, payload: object) -> None:
        target = self._peers.get(peer)
        if target is not None:
            self._send(target, _frame(topic, payload))

    def sync(self) -> None:
        if self._loop is None or self._handling:
            # Not attached yet: the handlers may not all be registered; frames wait in the sockets. Or a handler
            # asks from inside `_dispatch`: the frames after its own are handled next, in order, by the caller.
            return
        for peer in list(self._peers.values()):
            self._receive(peer)

    def close(self) -> None:
        for peer in list(self._peers.values()):
            self._forget(peer)
        self._loop = None

    def _send(self, peer: _Peer, frame: bytes) -> None:
        if peer.outbox:
            # Earlier frames still wait: keep the order.
            peer.outbox += frame
            return
        try:
            sent = peer.sock.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._drop(peer, f"send failed: {exc}")
            return
        if sent < len(frame):
            peer.outbox += frame[sent:]
            if self._loop is not None:
                self._loop.add_writer(peer.sock.fileno(), self._writable, peer)

    def _writable(self, peer: _Peer) -> None:
        try:
            sent = peer.sock.send(peer.outbox)
        except BlockingIOError:
            return
        except OSError as exc:
            self._drop(peer, f"send failed: {exc}")
            return
        del peer.outbox[:sent]
        if not peer.outbox and self._loop is not None:
            self._loop.remove_writer(peer.sock.fileno())

    def _readable(self, peer: _Peer) -> None:
        if self._peers.get(peer.index) is peer and not self._handling:
            self._receive(peer)

    def _receive(self, peer: _Peer) -> None:
        while True:
            try:
                chunk = peer.sock.recv(_READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                self._drop(peer, f"receive failed: {exc}")
                return
            if not chunk:
                # What it sent before it left is handled first.
                self._dispatch(peer)
                self._drop(peer, "closed")
                return
            peer.inbox += chunk
            if len(chunk) < _READ_SIZE:
                break
        self._dispatch(peer)

    def _dispatch(self, peer: _Peer) -> None:
        messages, failure = self._take_frames(peer)
        self._handling = True
        try:
            for topic, payload in messages:
                for handler in self._handlers.get(topic, ()):
                    try:
                        handler(peer.index, payload)
                    except Exception:
                        log.exception("worker %d: handling %r from worker %d failed", self.index, topic,
                                      peer.index)
        finally:
            self._handling = False
        if failure:
            self._drop(peer, failure)

    def _take_frames(self, peer: _Peer) -> tuple[list[tuple[str, Any]], str]:
        """The whole frames in the peer's inbox, removed from it; and why to drop the peer ("" if not)."""
        inbox = peer.inbox
        offset = 0
        messages: list[tuple[str, Any]] = []
        failure = ""
        while len(inbox) - offset >= _HEADER.size:
            (size,) = _HEADER.unpack_from(inbox, offset)
            if size > MAX_FRAME:
                failure = f"frame of {size} bytes"
                break
            end = offset + _HEADER.size + size
            if len(inbox) < end:
                break
            try:
                messages.append(pickle.loads(inbox[offset + _HEADER.size:end]))
            except Exception:
                log.exception("worker %d: a message from worker %d cannot be read", self.index, peer.index)
                failure = "unreadable frame"
                break
            offset = end
        del inbox[:offset]
        return messages, failure

    def _drop(self, peer: _Peer, why: str) -> None:
        if self._peers.get(peer.index) is not peer:
            return
        log.info("worker %d: worker %d left the mesh (%s)", self.index, peer.index, why)
        self._forget(peer)
        for handler in self._lost:
            try:
                handler(peer.index)
            except Exception:
                log.exception("worker %d: forgetting worker %d failed", self.index, peer.index)

    def _forget(self, peer: _Peer) -> None:
        self._peers.pop(peer.index, None)
        if self._loop is not None:
            self._loop.remove_reader(peer.sock.fileno())
            if peer.outbox:
                self._loop.remove_writer(peer.sock.fileno())
        peer.sock.close()


def _frame(topic: str, payload: object) -> bytes:
    data = pickle.dumps((topic, payload), protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


class SharedCounts:
    """Counts by key that every process adds to: connections per client address, sessions per account.

    `changed(key, delta)` changes this process's count and tells the others; `mine(key)` is this process's count,
    `others(key)` the sum the other processes hold, `count(key)` and `total()` both together. A count never goes
    below zero and a key at zero is forgotten, so each table stays as small as what is open. A joining peer is sent
    this process's whole table at once.
    """

    def __init__(self, peers: Peers, topic: str) -> None:
        self._peers = peers
        self._topic = topic
        self._mine: dict[Hashable, int] = {}
        self._by_peer: dict[int, dict[Hashable, int]] = {}
        # Running sums of `_mine` and of each peer's table: `total()` is asked at every new connection.
        self._mine_total = 0
        self._peer_totals: dict[int, int] = {}
        peers.on(topic, self._apply)
        peers.on(topic + ":all", self._replace)
        peers.on_lost(self._forget)
        peers.on_joined(self._tell)

    def changed(self, key: Hashable, delta: int) -> None:
        """Add `delta` (at most down to zero) to this process's count for `key`, and tell the others."""
        before = self._mine.get(key, 0)
        after = max(0, before + delta)
        if after == before:
            return
        _set(self._mine, key, after)
        self._mine_total += after - before
        self._peers.broadcast(self._topic, (key, after - before))

    def mine(self, key: Hashable) -> int:
        return self._mine.get(key, 0)

    def others(self, key: Hashable) -> int:
        """The other processes' count for `key`, with every change they told before this call."""
        self._peers.sync()
        return sum(table.get(key, 0) for table in self._by_peer.values())

    def others_total(self) -> int:
        self._peers.sync()
        return sum(self._peer_totals.values())

    def count(self, key: Hashable) -> int:
        """Every process's count for `key`."""
        return self.mine(key) + self.others(key)

    def total(self) -> int:
        """Every process's counts, all keys."""
        return self._mine_total + self.others_total()

    def _apply(self, peer: int, payload: tuple[Hashable, int]) -> None:
        key, delta = payload
        table = self._by_peer.setdefault(peer, {})
        before = table.get(key, 0)
        after = max(0, before + delta)
        _set(table, key, after)
        self._peer_totals[peer] = self._peer_totals.get(peer, 0) + after - before

    def _replace(self, peer: int, payload: dict[Hashable, int]) -> None:
        table = {key: count for key, count in payload.items() if count > 0}
        self._by_peer[peer] = table
        self._peer_totals[peer] = sum(table.values())

    def _forget(self, peer: int) -> None:
        self._by_peer.pop(peer, None)
        self._peer_totals.pop(peer, None)

    def _tell(self, peer: int) -> None:
        self._peers.send_to(peer, self._topic + ":all", dict(self._mine))


def _set(table: dict[Hashable, int], key: Hashable, count: int) -> None:
    if count > 0:
        table[key] = count
    else:
        table.pop(key, None)
