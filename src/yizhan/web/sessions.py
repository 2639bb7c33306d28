"""Web sign-in sessions: a signed cookie holding a small session record, and the server secret that signs it.

The cookie `yizhan_session` is `v1.<payload>.<mac>`: the payload is base64url JSON of the account id, the
account's `credentials_serial` at sign-in, the session's CSRF token (32 random bytes, which also names the session)
and the time of sign-in; the MAC is HMAC-SHA256 over the payload under the server secret. Nothing in it is secret
from its holder, and nothing in it can be changed without the secret.

Invariants:
- A cookie is accepted only when its MAC is right (constant-time compare), it is not older than
  `web.session_lifetime`, and it was not signed out in this process (`revoke`). The caller (web/deps.py) then
  checks the account still exists, is enabled and has the same `credentials_serial`, so a password change, a
  reset or disabling the account ends every session at once.
- The secret is at least 32 random bytes in a file of mode 0600 (`web.secret_file`, default
  DATA/web-secret.key), made once with O_EXCL (two starts cannot both make one) and kept across restarts, so
  sessions survive a restart. Deleting the file signs everybody out at the next start.
- Revocations are held in memory until the session would have expired anyway, at most `_MAX_REVOKED`; a restart
  forgets them (the cookie was removed from the browser at sign-out; a copied cookie lives until its expiry).
  With several worker processes a sign-out is told to the other workers over the mesh (util/mesh.py) before the
  answer is sent, so the cookie stops working on every worker at once.
- Cookie attributes: HttpOnly, SameSite=Lax, Path=/, Max-Age of the lifetime, and Secure unless `secure_for`
  says the request came over plain http between loopback addresses (see there).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import stat
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from yizhan.util.clock import now_seconds
from yizhan.util.durable import fsync_directory
from yizhan.util.errors import InvalidInput
from yizhan.util.mesh import Peers

log = logging.getLogger(__name__)

COOKIE = "yizhan_session"
SECRET_BYTES = 32
_MAX_COOKIE = 1024
_MAX_REVOKED = 100_000
_REVOKE_TOPIC = "web:signed-out"
_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


def load_or_create_secret(path: Path) -> bytes:
    """The server secret in `path`, created (mode 0600) when missing. Blocking: call it in a thread."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(SECRET_BYTES).encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails when another process made the file first: then its secret is the one
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    fsync_directory(path.parent)
    log.info("made the web session secret %s", path)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        log.warning("the web session secret %s was readable by others: mode set to 0600", path)
        os.chmod(path, 0o600)
    text = path.read_bytes().strip()
    try:
        secret = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        secret = text
    if len(secret) < SECRET_BYTES:
        raise InvalidInput(f"the web session secret {path} holds fewer than {SECRET_BYTES} bytes: "
                           "delete it to have a new one made")
    return secret


@dataclass(frozen=True, slots=True)
class Session:
    account_id: int
    serial: int
    csrf: str
    issued: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and checks session cookies; remembers signed-out sessions until they would expire."""

    def __init__(self, secret: bytes, lifetime: int, peers: Peers | None = None) -> None:
        self._key = hashlib.sha256(b"yizhan web session v1\0" + secret).digest()
        self.lifetime = lifetime
        self._revoked: OrderedDict[str, int] = OrderedDict()
        self._peers = peers if peers is not None else Peers()
        self._peers.on(_REVOKE_TOPIC, self._revoked_elsewhere)

    def derived_key(self, label: str) -> bytes:
        """A key for another use of the server secret (e.g. signing image-proxy URLs), independent of the
        session key: HMAC-SHA256 of `label` under it."""
        return hmac.new(self._key, b"derived\0" + label.encode("utf-8"), hashlib.sha256).digest()

    def new(self, account_id: int, serial: int, now: int) -> Session:
        return Session(account_id, serial, secrets.token_urlsafe(32), now)

    def encode(self, session: Session) -> str:
        payload = json.dumps({"a": session.account_id, "s": session.serial, "c": session.csrf, "i": session.issued},
                             separators=(",", ":")).encode()
        body = "v1." + _b64(payload)
        return body + "." + _b64(self._mac(body))

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()

    def decode(self, cookie: str | None, now: int) -> Session | None:
        """The session of a cookie that is genuine, current and not signed out; None for anything else."""
        # Sign-outs on other workers before this request count here too.
        self._peers.sync()
        if not cookie or len(cookie) > _MAX_COOKIE or not cookie.isascii():
            return None
        body, _, mac = cookie.rpartition(".")
        if not body.startswith("v1."):
            return None
        try:
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                return None
            data = json.loads(_unb64(body[3:]))
            session = Session(int(data["a"]), int(data["s"]), str(data["c"]), int(data["i"]))
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
            return None
        if not session.issued <= now < session.issued + self.lifetime:
            return None
        if session.csrf in self._revoked:
            return None
        return session

    def revoke(self, session: Session, now: int) -> None:
        self._remember(session.csrf, session.issued + self.lifetime, now)
        self._peers.broadcast(_REVOKE_TOPIC, (session.csrf, session.issued + self.lifetime))

    def _revoked_elsewhere(self, peer: int, payload: tuple[str, int]) -> None:
        csrf, until = payload
        self._remember(csrf, until, now_seconds())

    def _remember(self, csrf: str, until: int, now: int) -> None:
        while self._revoked and (len(self._revoked) >= _MAX_REVOKED or next(iter(self._revoked.values())) <= now):
            self._revoked.popitem(last=False)
        self._revoked[csrf] = until


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address (as in a Host header, without the port) names this machine's loopback."""
    name = host.strip().lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def secure_for(mode: str, scheme: str, client: str | None, host: str | None) -> bool:
    """Whether cookies set in answer to this request carry `Secure`.

    The rule: with `web.cookie_secure = "always"`, always. With "auto" (the default), always too, except for a
    request over plain `http` whose client address is a loopback address and whose Host header names a loopback
    host (127.0.0.1, [::1], localhost) — a browser on the server itself, e.g. http://127.0.0.1:8080, which cannot
    keep a Secure cookie over http. A reverse proxy on the same machine forwards the public Host name, so its
    users get Secure cookies.
    """
    if mode == "always" or scheme == "https":
        return True
    hostname = (host or "").rsplit(":", 1)[0] if not (host or "").endswith("]") else (host or "")
    return not (client is not None and is_loopback_host(client) and is_loopback_host(hostname))
