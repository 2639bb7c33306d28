"""Limits and security state shared by the worker processes over the mesh (util/mesh.py), with real Unix socket
pairs in one process: sessions per account (services/sessions.py), connections per listener and address
(protocols/listening.py), login lockout (services/auth.py) and web sign-out (web/sessions.py).

Each test calls `sync()` on a worker before it reads what another worker changed, as a worker does before it
serves a command: what one worker did before it answered is then seen by the next command on another one."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator

import pytest

from tests.support.meshes import link, mesh_factory
from yizhan.config.settings import AuthConfig
from yizhan.protocols.listening import ConnectionLimiter
from yizhan.services.auth import AuthService
from yizhan.services.runtime import Services
from yizhan.services.sessions import SessionRegistry
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AuthenticationFailed, LockedOut
from yizhan.util.mesh import Mesh
from yizhan.web.sessions import SessionCodec


@pytest.fixture
def meshes() -> Iterator[Callable[[int], list[Mesh]]]:
    """`make(n)`: n meshes, every pair linked and attached to the running loop; all closed after the test."""
    yield from mesh_factory(attached=True)


# Sessions per account


async def test_the_session_limit_counts_every_worker(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    on_a, on_b = SessionRegistry(a), SessionRegistry(b)
    assert on_a.acquire("imap", 7, 3)
    assert on_a.acquire("imap", 7, 3)
    b.sync()
    assert on_b.acquire("imap", 7, 3)
    a.sync()
    assert on_a.count("imap", 7) == 3 and on_b.count("imap", 7) == 3
    assert not on_a.acquire("imap", 7, 3)
    assert not on_b.acquire("imap", 7, 3)
    # The refusals took nothing.
    a.sync()
    b.sync()
    assert on_a.count("imap", 7) == 3 and on_b.count("imap", 7) == 3
    # Another protocol and another account have their own counts.
    assert on_b.acquire("pop3", 7, 3)
    assert on_b.acquire("imap", 8, 3)
    # A release on one worker lets the other take the slot, and only one.
    on_a.release("imap", 7)
    b.sync()
    assert on_b.acquire("imap", 7, 3)
    a.sync()
    assert not on_a.acquire("imap", 7, 3)
    assert not on_b.acquire("imap", 7, 3)
    assert on_a.count("imap", 7) == 3


async def test_a_lost_worker_frees_its_sessions(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    on_a, on_b, on_c = SessionRegistry(a), SessionRegistry(b), SessionRegistry(c)
    assert on_a.acquire("imap", 7, 3)
    assert on_a.acquire("imap", 7, 3)
    b.sync()
    assert on_b.acquire("imap", 7, 3)
    c.sync()
    assert not on_c.acquire("imap", 7, 3)
    a.close()  # worker a exits
    b.sync()
    c.sync()
    assert on_b.count("imap", 7) == 1 and on_c.count("imap", 7) == 1
    assert on_c.acquire("imap", 7, 3)
    b.sync()
    assert on_b.acquire("imap", 7, 3)
    c.sync()
    assert not on_c.acquire("imap", 7, 3)
    assert not on_b.acquire("imap", 7, 3)


async def test_a_restarted_worker_starts_from_the_others_sessions(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    on_a, on_b = SessionRegistry(a), SessionRegistry(b)
    assert on_a.acquire("imap", 7, 3)
    assert on_a.acquire("imap", 7, 3)
    b.sync()
    assert on_b.acquire("smtp", 9, 1)
    # A new worker registers its services, then is linked to the others.
    newcomer = Mesh(5)
    newcomer.attach(asyncio.get_running_loop())
    fresh = SessionRegistry(newcomer)
    try:
        link(a, newcomer)
        link(b, newcomer)
        newcomer.sync()
        assert fresh.count("imap", 7) == 2 and fresh.count("smtp", 9) == 1
        assert fresh.acquire("imap", 7, 3)
        assert not fresh.acquire("imap", 7, 3)
        assert not fresh.acquire("smtp", 9, 1)
        a.sync()
        b.sync()
        assert not on_a.acquire("imap", 7, 3) and not on_b.acquire("imap", 7, 3)
    finally:
        newcomer.close()


# Connections per listener


async def test_connection_limits_per_address_and_in_total_count_every_worker(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    on_a = ConnectionLimiter.for_listener(a, "imap", max_per_ip=2, max_total=4)
    on_b = ConnectionLimiter.for_listener(b, "imap", max_per_ip=2, max_total=4)
    other_listener_b = ConnectionLimiter.for_listener(b, "pop3", max_per_ip=1, max_total=1)
    assert on_a.acquire("192.0.2.1") is None
    b.sync()
    assert on_b.acquire("192.0.2.1") is None
    a.sync()
    assert on_a.acquire("192.0.2.1") == "address"
    assert on_b.acquire("192.0.2.1") == "address"
    assert on_a.acquire("192.0.2.2") is None
    b.sync()
    assert on_b.acquire("192.0.2.3") is None
    a.sync()
    # Four open across the two workers: the total refuses a new address on either.
    assert on_a.acquire("192.0.2.4") == "total"
    assert on_b.acquire("192.0.2.4") == "total"
    # Another listener's counts are its own.
    assert other_listener_b.acquire("192.0.2.1") is None
    # A release on one worker lets the other accept, from the address too.
    on_a.release("192.0.2.1")
    b.sync()
    assert on_b.acquire("192.0.2.1") is None
    a.sync()
    assert on_a.acquire("192.0.2.1") == "total"
    on_b.release("192.0.2.3")
    a.sync()
    assert on_a.acquire("192.0.2.1") == "address"
    assert on_a.acquire("192.0.2.5") is None


async def test_a_lost_worker_frees_its_connections(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    on_a = ConnectionLimiter.for_listener(a, "smtp", max_per_ip=2, max_total=3)
    on_b = ConnectionLimiter.for_listener(b, "smtp", max_per_ip=2, max_total=3)
    assert on_a.acquire("192.0.2.1") is None
    assert on_a.acquire("192.0.2.1") is None
    assert on_a.acquire("192.0.2.2") is None
    b.sync()
    assert on_b.acquire("192.0.2.9") == "total"
    a.close()
    b.sync()
    assert on_b.acquire("192.0.2.1") is None
    assert on_b.acquire("192.0.2.1") is None
    assert on_b.acquire("192.0.2.1") == "address"


async def test_a_restarted_worker_starts_from_the_others_connections(meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    on_a = ConnectionLimiter.for_listener(a, "imap", max_per_ip=2, max_total=3)
    assert on_a.acquire("192.0.2.1") is None
    assert on_a.acquire("192.0.2.1") is None
    newcomer = Mesh(5)
    newcomer.attach(asyncio.get_running_loop())
    fresh = ConnectionLimiter.for_listener(newcomer, "imap", max_per_ip=2, max_total=3)
    try:
        link(a, newcomer)
        link(b, newcomer)
        newcomer.sync()
        assert fresh.acquire("192.0.2.1") == "address"
        assert fresh.acquire("192.0.2.2") is None
        assert fresh.acquire("192.0.2.3") == "total"
    finally:
        newcomer.close()


# Login lockout


class Clock:
    """Seconds that the test moves forward (shared by both workers' services)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def auth_on(mailbox: Services, mesh: Mesh, clock: Clock) -> AuthService:
    config = AuthConfig.model_validate({"max_failures_per_account": 3, "max_failures_per_ip": 5,
                                        "failure_window": 60, "lockout": 120, "failure_delay": 0,
                                        "cache_ttl": 300})
    return AuthService(mailbox.directory, config, clock=clock, peers=mesh)


async def refused_on_both(on_a: AuthService, on_b: AuthService, address: str, client: str) -> None:
    """The right password is refused as locked out on both workers."""
    for auth in (on_a, on_b):
        with pytest.raises(LockedOut):
            await auth.login(address, "password1", client=client, protocol="imap")


async def test_failed_logins_on_two_workers_lock_the_account_on_both(
        mailbox: Services, meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    clock = Clock()
    on_a, on_b = auth_on(mailbox, a, clock), auth_on(mailbox, b, clock)
    # No explicit sync: a login takes in what the other worker told before it looks at its counters.
    for auth in (on_a, on_b, on_a):
        with pytest.raises(AuthenticationFailed):
            await auth.login("alice@example.com", "guess", client="192.0.2.7", protocol="imap")
    # Worker b saw one failure itself and two on a: it is locked too, even for the right password.
    await refused_on_both(on_a, on_b, "alice@example.com", "192.0.2.7")
    # The lockout is of this account from that address: the user elsewhere logs in on either worker.
    await on_a.login("alice@example.com", "password1", client="192.0.2.8", protocol="imap")
    await on_b.login("alice@example.com", "password1", client="192.0.2.8", protocol="pop3")
    clock.now += 121
    await on_b.login("alice@example.com", "password1", client="192.0.2.7", protocol="imap")


async def test_failures_from_one_address_over_accounts_and_workers_lock_the_address(
        mailbox: Services, meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    clock = Clock()
    on_a, on_b = auth_on(mailbox, a, clock), auth_on(mailbox, b, clock)
    for index in range(5):
        auth = on_a if index % 2 else on_b
        with pytest.raises(AuthenticationFailed):
            await auth.login(f"user{index}@example.com", "guess", client="192.0.2.9", protocol="smtp")
    await refused_on_both(on_a, on_b, "alice@example.com", "192.0.2.9")


async def test_a_right_password_on_one_worker_clears_the_failures_on_the_other(
        mailbox: Services, meshes: Callable[[int], list[Mesh]]) -> None:
    a, b = meshes(2)
    clock = Clock()
    on_a, on_b = auth_on(mailbox, a, clock), auth_on(mailbox, b, clock)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            await on_b.login("alice@example.com", "guess", client="192.0.2.7", protocol="imap")
    a.sync()
    await on_a.login("alice@example.com", "password1", client="192.0.2.7", protocol="imap")
    b.sync()
    # Had b not heard of the success, this third failure would lock the account from that address.
    with pytest.raises(AuthenticationFailed):
        await on_b.login("alice@example.com", "guess", client="192.0.2.7", protocol="imap")
    a.sync()
    await on_b.login("alice@example.com", "password1", client="192.0.2.7", protocol="imap")
    await on_a.login("alice@example.com", "password1", client="192.0.2.7", protocol="imap")


# Web sign-out


async def test_a_sign_out_on_one_worker_ends_the_session_on_every_worker(
        meshes: Callable[[int], list[Mesh]]) -> None:
    a, b, c = meshes(3)
    secret = secrets.token_bytes(32)
    codecs = [SessionCodec(secret, 3600, mesh) for mesh in (a, b, c)]
    now = now_seconds()
    signed_out = codecs[0].new(1, 0, now)
    still_in = codecs[0].new(1, 0, now)
    cookie, other_cookie = codecs[0].encode(signed_out), codecs[0].encode(still_in)
    for codec in codecs:
        assert codec.decode(cookie, now) == signed_out
    codecs[1].revoke(signed_out, now)
    # No explicit sync: `decode` takes in the other workers' sign-outs first.
    for codec in codecs:
        assert codec.decode(cookie, now) is None
        assert codec.decode(other_cookie, now) == still_in
