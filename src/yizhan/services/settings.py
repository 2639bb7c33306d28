"""Account settings: display name, signatures, interface language, time zone, list density and the remote-image
policy with its list of senders whose images are always shown.

Rules kept here:
- Values are typed and validated; a bad value is InvalidInput saying what to give instead. Unset values read as
  the defaults (`AccountSettings()`), so an account never needs rows to work.
- The display name lives on the account (directory); it is changed through `DirectoryService.update_account`, so
  the directory version moves and the directory cache sees it.
- Time zones are IANA names known to this system's zoneinfo (`Asia/Shanghai`, `UTC`).
- Remote images: "always" shows them, "never" never does, "ask" shows them for senders on the list (an address,
  or "@domain" for every sender of a domain) and asks otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import unicodedata
import zoneinfo
from dataclasses import dataclass
from typing import Any

from yizhan.mail.addresses import is_valid_address, normalize_address, split_address
from yizhan.services.directory import DirectoryService, normalize_domain
from yizhan.store.records import AccountRecord
from yizhan.store.schema import NOTE_FORMATS
from yizhan.store.settings import AccountSettingsStore, Signature
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput

LANGUAGES = ("auto", "zh-CN", "en")
DENSITIES = ("comfortable", "compact")
REMOTE_IMAGE_POLICIES = ("never", "ask", "always")
MAX_DISPLAY_NAME = 200


@dataclass(frozen=True, slots=True)
class SettingsLimits:
    max_signatures: int = 20
    max_signature_name: int = 100
    max_signature_bytes: int = 32 * 1024
    max_image_senders: int = 1000


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """An account's settings; every field has its default when the account never set it."""

    display_name: str = ""
    # "auto" follows the browser's Accept-Language.
    language: str = "auto"
    time_zone: str = "UTC"
    density: str = "comfortable"
    remote_images: str = "ask"
    signatures: tuple[Signature, ...] = ()

    def default_signature(self) -> Signature | None:
        return next((s for s in self.signatures if s.is_default), None)


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{what} must be one of {', '.join(allowed)}, not '{value[:40]}'")
    return value


class SettingsService:
    def __init__(self, store: Store, directory: DirectoryService, limits: SettingsLimits | None = None,
                 default_time_zone: str = "UTC") -> None:
        self.settings = AccountSettingsStore(store.db)
        self.directory = directory
        self.limits = limits or SettingsLimits()
        self.default_time_zone = default_time_zone

    async def get(self, account: AccountRecord) -> AccountSettings:
        stored = await self.settings.values(account.id)
        defaults = AccountSettings(time_zone=self.default_time_zone)
        zone = stored.get("time_zone")
        return AccountSettings(
            display_name=account.display_name,
            language=_stored(stored, "language", LANGUAGES, defaults.language),
            time_zone=zone if isinstance(zone, str) and zone in await asyncio.to_thread(_zones)
            else defaults.time_zone,
            density=_stored(stored, "density", DENSITIES, defaults.density),
            remote_images=_stored(stored, "remote_images", REMOTE_IMAGE_POLICIES, defaults.remote_images),
            signatures=tuple(await self.settings.signatures(account.id)),
        )

    async def update(self, account: AccountRecord, *, display_name: str | None = None, language: str | None = None,
                     time_zone: str | None = None, density: str | None = None,
                     remote_images: str | None = None) -> AccountSettings:
        """Change the given settings (None leaves one as it is); all are validated before any is stored."""
        values: dict[str, Any] = {}
        if language is not None:
            values["language"] = _choice(language, LANGUAGES, "language")
        if time_zone is not None:
            if time_zone not in await asyncio.to_thread(_zones):
                raise InvalidInput(f"'{time_zone[:60]}' is not a known time zone; give an IANA name such as "
                                   "Asia/Shanghai or UTC")
            values["time_zone"] = time_zone
        if density is not None:
            values["density"] = _choice(density, DENSITIES, "list density")
        if remote_images is not None:
            values["remote_images"] = _choice(remote_images, REMOTE_IMAGE_POLICIES, "remote image policy")
        name = _display_name(display_name) if display_name is not None else None
        if values:
            await self.settings.put(account.id, values)
        if name is not None and name != account.display_name:
            account = await self.directory.update_account(account.address, display_name=name)
        return await self.get(account)

    # Signatures

    def _signature_fields(self, name: str | None, body: str | None, format: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if name is not None:
            cleaned = " ".join(name.split())
            if not cleaned or len(cleaned) > self.limits.max_signature_name:
                raise InvalidInput(f"a signature needs a name of 1 to {self.limits.max_signature_name} characters")
            out["name"] = cleaned
        if body is not None:
            if len(body.encode("utf-8", "surrogatepass")) > self.limits.max_signature_bytes or "\x00" in body:
                raise InvalidInput(f"a signature is at most {self.limits.max_signature_bytes // 1024} KB of text")
            out["body"] = body
        if format is not None:
            out["format"] = _choice(format, NOTE_FORMATS, "a signature's format")
        return out

    async def signatures(self, account_id: int) -> list[Signature]:
        return await self.settings.signatures(account_id)

    async def add_signature(self, account_id: int, name: str, body: str, format: str = "plain",
                            is_default: bool = False) -> Signature:
        fields = self._signature_fields(name, body, format)
        return await self.settings.add_signature(account_id, fields["name"], fields["body"], fields["format"],
                                                 is_default, self.limits.max_signatures)

    async def update_signature(self, account_id: int, signature_id: int, *, name: str | None = None,
                               body: str | None = None, format: str | None = None,
                               is_default: bool | None = None) -> Signature:
        fields = self._signature_fields(name, body, format)
        if is_default is not None:
            fields["is_default"] = is_default
        return await self.settings.update_signature(account_id, signature_id, **fields)

    async def delete_signature(self, account_id: int, signature_id: int) -> None:
        await self.settings.delete_signature(account_id, signature_id)

    # Remote images

    async def image_senders(self, account_id: int) -> list[str]:
        return await self.settings.image_senders(account_id)

    async def allow_images_from(self, account_id: int, sender: str) -> bool:
        """Always show remote images from `sender` (an address, or "@domain"); False if it was listed already."""
        return await self.settings.add_image_sender(account_id, _sender(sender), self.limits.max_image_senders)

    async def disallow_images_from(self, account_id: int, sender: str) -> None:
        await self.settings.remove_image_sender(account_id, _sender(sender))

    async def remote_images_allowed(self, account: AccountRecord, sender: str) -> bool:
        """Whether a message from `sender` shows remote images without asking (see the module docstring)."""
        policy = (await self.get(account)).remote_images
        if policy != "ask":
            return policy == "always"
        address = normalize_address(sender)
        domain = split_address(address)[1]
        if not address or not domain:
            return False
        return await self.settings.has_image_sender(account.id, [address, "@" + domain])


def _stored(stored: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = stored.get(name)
    return value if isinstance(value, str) and value in allowed else default


def _display_name(name: str) -> str:
    # Control characters (CR, LF: header injection) become spaces, then runs of spaces one.
    cleaned = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in name).split())
    if len(cleaned) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"the display name is at most {MAX_DISPLAY_NAME} characters")
    return cleaned


def _sender(sender: str) -> str:
    value = sender.strip()
    if value.startswith("@"):
        return "@" + normalize_domain(value[1:])
    if not is_valid_address(value):
        raise InvalidInput(f"'{value[:100]}' is neither a mail address nor @domain")
    return normalize_address(value)
