"""Logins for every protocol: password checks, lockout after repeated failures, and a cache of verified credentials.

Invariants:
- `login` returns the account only for a right password of an enabled account, and raises `AuthenticationFailed`
  otherwise, with one message whatever was wrong (no telling which addresses exist).
- Failures are counted per (account, client address), per client address and per account over a sliding window.
  When a count reaches its limit the key is locked for `lockout` seconds and `LockedOut` is raised even for a right
  password, so guessing cannot go on. A real user coming from another address is not locked out by someone else's
  guessing until the account-wide limit (ten times the per-address one) is reached.
- Argon2 costs tens of milliseconds by design; a right password is remembered (as an HMAC under a per-process
  random key, never in clear) for `cache_ttl` seconds, as Dovecot's auth cache does. The cache entry is valid only
  while the account's `credentials_serial` and password hash are unchanged, so a password change, a reset or a
  disabled account takes effect at the next login.
- Passwords never reach a log; failures are logged with the address, the client and the protocol.
- State is in memory and bounded (at most `_MAX_KEYS` keys; the oldest are dropped first). With several worker
  processes, each failure (and each clearing by a right password) is told to the other workers over the mesh
  (util/mesh.py) before the client hears the answer, so guesses spread over workers count as on one. A worker
  that restarts starts with no failures counted (as the whole server does after a restart).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yizhan.config.settings import AuthConfig
from yizhan.services.directory import DirectoryService, checked_address
from yizhan.services.passwords import verify_password
from yizhan.store.records import AccountRecord
from yizhan.util.errors import AuthenticationFailed, InvalidInput, LockedOut
from yizhan.util.mesh import Peers

log = logging.getLogger(__name__)

_MAX_KEYS = 100_000
_ACCOUNT_WIDE_FACTOR = 10
_FAILED = "authentication failed: wrong address or password"
_FAILURE_TOPIC = "auth:failed"
_CLEAR_TOPIC = "auth:cleared"


@dataclass(slots=True)
class _CachedCredential:
    serial: int
    password_hash: str
    digest: bytes
    expires: float


class _FailureCounter:
    """Failure times per key within a window, and the keys locked until a given time. Bounded in size."""

    def __init__(self, limit: int, window: float, lockout: float) -> None:
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: OrderedDict[str, float] = OrderedDict()

    def locked_for(self, key: str, now: float) -> float:
        until = self._locked.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._locked[key]
            return 0.0
        return until - now

    def fail(self, key: str, now: float) -> bool:
        """Count one failure; True when this failure locks the key."""
        times = self._failures.pop(key, None) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        self._failures[key] = times
        _trim(self._failures)
        if len(times) >= self.limit:
            del self._failures[key]
            self._locked[key] = now + self.lockout
            _trim(self._locked)
            return True
        return False

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


def _trim(table: OrderedDict[str, Any]) -> None:
    while len(table) > _MAX_KEYS:
        table.popitem(last=False)


class AuthService:
    def __init__(self, directory: DirectoryService, config: AuthConfig,
                 clock: Callable[[], float] = time.monotonic, peers: Peers | None = None) -> None:
        self.directory = directory
        self.config = config
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[str, _CachedCredential] = OrderedDict()
        window, lockout = float(config.failure_window), float(config.lockout)
        self._pairs = _FailureCounter(config.max_failures_per_account, window, lockout)
        self._ips = _FailureCounter(config.max_failures_per_ip, window, lockout)
        self._accounts = _FailureCounter(config.max_failures_per_account * _ACCOUNT_WIDE_FACTOR, window, lockout)
        self._peers = peers if peers is not None else Peers()
        self._peers.on(_FAILURE_TOPIC, self._failed_elsewhere)
        self._peers.on(_CLEAR_TOPIC, self._cleared_elsewhere)

    async def login(self, address: str, password: str, *, client: str, protocol: str) -> AccountRecord:
        """The account for a right password; AuthenticationFailed or LockedOut otherwise."""
        try:
            normalized = checked_address(address)
        except InvalidInput:
            normalized = address.strip().lower()[:320]
        # Failures other workers counted before this login began count here too.
        self._peers.sync()
        now = self.clock()
        self._refuse_if_locked(normalized, client, protocol, now)
        account = await self._verify(normalized, password)
        if account is not None:
            self._pairs.clear(f"{normalized}|{client}")
            self._peers.broadcast(_CLEAR_TOPIC, f"{normalized}|{client}")
            return account
        await self._fail(normalized, client, protocol)
        raise AuthenticationFailed(_FAILED)

    def _refuse_if_locked(self, address: str, client: str, protocol: str, now: float) -> None:
        wait = max(self._pairs.locked_for(f"{address}|{client}", now), self._ips.locked_for(client, now),
                   self._accounts.locked_for(address, now))
        if wait > 0:
            log.warning("%s login refused: %s from %s is locked for %d s", protocol, address, client, wait)
            seconds = int(wait) + 1
            raise LockedOut(f"too many failed logins: try again in {seconds} seconds", seconds)

    async def _fail(self, address: str, client: str, protocol: str) -> None:
        locked = self._count_failure(address, client)
        self._peers.broadcast(_FAILURE_TOPIC, (address, client))
        log.warning("%s login failed for %s from %s%s", protocol, address, client,
                    f"; locked ({', '.join(locked)}) for {self.config.lockout} s" if locked else "")
        if self.config.failure_delay:
            await asyncio.sleep(self.config.failure_delay)

    def _count_failure(self, address: str, client: str) -> list[str]:
        """Count one failed login; the names of the keys it locked."""
        now = self.clock()
        return [name for name, counter, key in (("account from this address", self._pairs, f"{address}|{client}"),
                                                ("address", self._ips, client),
                                                ("account", self._accounts, address))
                if counter.fail(key, now)]

    def _failed_elsewhere(self, peer: int, payload: tuple[str, str]) -> None:
        address, client = payload
        self._count_failure(address, client)

    def _cleared_elsewhere(self, peer: int, key: str) -> None:
        self._pairs.clear(key)

    async def _verify(self, address: str, password: str) -> AccountRecord | None:
        account = await self.directory.store.directory.get_account(address)
        if account is None or account.disabled:
            return None
        digest = hmac.new(self._key, password.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
        cached = self._cache.get(address)
        if (cached is not None and cached.expires > self.clock() and cached.serial == account.credentials_serial
                and cached.password_hash == account.password_hash and hmac.compare_digest(cached.digest, digest)):
            return account
        if not await verify_password(account.password_hash, password):
            return None
        if self.config.cache_ttl:
            self._cache.pop(address, None)
            self._cache[address] = _CachedCredential(account.credentials_serial, account.password_hash, digest,
                                                     self.clock() + self.config.cache_ttl)
            _trim(self._cache)
        return account
