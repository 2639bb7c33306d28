"""DKIM signing keys, one or more per domain, as files: DATA/dkim/<domain>/<selector>.pem (PKCS#1 PEM, mode 0600).

Invariants: a key file is written atomically and durably (`util/durable.py`: temporary file, fsync, hard link into
place, directory fsync) and is readable by the owner only; a selector is never overwritten, even by a concurrent
creation (the link fails if the name exists).
The key used for signing is the domain's newest (latest modification time, then the greater selector). Domain and
selector names are checked before they become paths, so no name can reach outside DATA/dkim. File work runs in
threads; a loaded key is cached until its file changes (signing reads the key for every message).
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from yizhan.authn.dkim import MAX_KEY_BITS, MIN_KEY_BITS, generate_key, txt_record
from yizhan.util.durable import fsync_directory, write_temporary
from yizhan.util.errors import AlreadyExists, InvalidInput

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$|^{_LABEL}$")
_SELECTOR = re.compile(rf"^{_LABEL}$")
_SUFFIX = ".pem"


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private_pem: bytes
    public_txt: str  # the TXT value: "v=DKIM1; k=rsa; p=..."

    @property
    def record_name(self) -> str:
        """Where the public key is published (RFC 6376 §3.6.2.1)."""
        return f"{self.selector}._domainkey.{self.domain}"

    def __repr__(self) -> str:  # never show the private key in logs or tracebacks
        return f"DkimKey(domain={self.domain!r}, selector={self.selector!r})"


def default_selector(now: datetime.datetime | None = None) -> str:
    """'yz' and the year and month, e.g. yz202611: a new selector per rotation month."""
    now = now or datetime.datetime.now(datetime.UTC)
    return f"yz{now:%Y%m}"


def _check_domain(domain: str) -> str:
    """The domain as DKIM's d= wants it: lowercase ASCII, internationalised names as A-labels (RFC 6376 §3.5)."""
    name = domain.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput(f"'{domain}' is not a domain name") from exc
    if len(name) > 253 or not _DOMAIN.match(name):
        raise InvalidInput(f"'{domain}' is not a domain name")
    return name


def _check_selector(selector: str) -> str:
    name = selector.strip().lower()
    if not _SELECTOR.match(name):
        raise InvalidInput(f"'{selector}' is not a DKIM selector (letters, digits and '-', up to 63)")
    return name


def _public_txt(pem: bytes) -> str:
    key = serialization.load_pem_private_key(pem, password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return txt_record(base64.b64encode(der).decode("ascii"))


class DkimKeys:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, tuple[tuple[int, int], DkimKey]] = {}

    def _directory(self, domain: str) -> Path:
        return self.root / domain

    async def create(self, domain: str, selector: str | None = None, bits: int = 2048) -> DkimKey:
        """Generate and store a new key; AlreadyExists if the domain already has this selector."""
        name, chosen = _check_domain(domain), _check_selector(selector or default_selector())
        if not MIN_KEY_BITS <= bits <= MAX_KEY_BITS:
            raise InvalidInput(f"a DKIM key must have {MIN_KEY_BITS} to {MAX_KEY_BITS} bits (2048 is usual)")
        path = self._directory(name) / f"{chosen}{_SUFFIX}"
        if await asyncio.to_thread(path.exists):
            raise AlreadyExists(f"{name} already has a DKIM key with selector {chosen}")
        pem, public = await asyncio.to_thread(generate_key, bits)
        await asyncio.to_thread(self._write, path, pem)
        return DkimKey(name, chosen, pem, txt_record(public))

    def _write(self, path: Path, pem: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        newest = max((p.stat().st_mtime_ns for p in self._paths(path.parent.name)), default=0)
        tmp = write_temporary(path.parent, path.name, pem)
        try:
            os.chmod(tmp, 0o600)
            os.link(tmp, path)  # unlike a rename, a link never replaces an existing key
        except FileExistsError as exc:
            raise AlreadyExists(f"{path.parent.name} already has a DKIM key with selector {path.stem}") from exc
        finally:
            os.unlink(tmp)
        fsync_directory(path.parent)
        # The newest key signs: make sure this one is strictly newer even on coarse file-system clocks.
        mtime = path.stat().st_mtime_ns
        if mtime <= newest:
            os.utime(path, ns=(newest + 1, newest + 1))
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    async def get(self, domain: str, selector: str | None = None) -> DkimKey | None:
        """The domain's newest key (or the one with `selector`); None when there is none."""
        name = _check_domain(domain)
        if selector is not None:
            path = self._directory(name) / f"{_check_selector(selector)}{_SUFFIX}"
            return await asyncio.to_thread(self._load, name, path)
        return await asyncio.to_thread(self._newest, name)

    async def list(self, domain: str | None = None) -> list[DkimKey]:
        """Every key (of one domain, or of all), by domain then oldest first."""
        domains = [_check_domain(domain)] if domain else await asyncio.to_thread(self._domains)
        keys: list[DkimKey] = []
        for name in domains:
            for path in await asyncio.to_thread(self._paths, name):
                key = await asyncio.to_thread(self._load, name, path)
                if key is not None:
                    keys.append(key)
        return keys

    def _domains(self) -> builtins.list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _DOMAIN.match(p.name))

    def _paths(self, domain: str) -> builtins.list[Path]:
        """Key files of a domain, oldest first."""
        directory = self._directory(domain)
        if not directory.is_dir():
            return []
        found = []
        for path in directory.iterdir():
            if path.suffix == _SUFFIX and _SELECTOR.match(path.stem):
                try:
                    found.append((path.stat().st_mtime_ns, path.stem, path))
                except FileNotFoundError:
                    continue
        return [path for _, _, path in sorted(found)]

    def _load(self, domain: str, path: Path) -> DkimKey | None:
        """The key in `path`, parsed once per file version (the cache is keyed by modification time and size)."""
        try:
            stat = path.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(path)
            if cached is not None and cached[0] == version:
                return cached[1]
            pem = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            public = _public_txt(pem)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"DKIM key file {path} is not a usable private key") from exc
        key = DkimKey(domain, path.stem, pem, public)
        self._cache[path] = (version, key)
        return key

    def _newest(self, domain: str) -> DkimKey | None:
        for path in reversed(self._paths(domain)):
            key = self._load(domain, path)
            if key is not None:
                return key
        return None
