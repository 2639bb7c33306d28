"""The address book: contacts and groups of an account, autocomplete (contacts, past correspondents, the
organisation's directory), and import/export as vCard and CSV.

Rules kept here:
- Every call names the account (`account_id`, or the `AccountRecord` for suggestions); the store filters every
  statement by it, so another account's contact or group is NotFound.
- Cards are validated before they are stored (`ContactLimits`): lengths, counts, addresses (normalised lowercase),
  phones. A bad card given to `create`/`update` is InvalidInput naming the field to fix; in an import it is
  skipped with the reason in the report, an unusable address is dropped with a warning.
- Search keys (name, words, pinyin full and initials, addresses) are computed here on every write, in a thread
  (pypinyin), and stored with the contact.
- Suggestions never leave the account: contacts are the account's own; past correspondents come from the
  account's own messages; the directory lists only enabled accounts of the account's own domain.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass, field, replace

from yizhan.mail.addresses import is_valid_address, normalize_address, parse_address_list
from yizhan.mail.contactcard import ContactCard
from yizhan.mail.contactcsv import parse_csv, write_csv
from yizhan.mail.pinyin import name_keys, normalise_key, sort_key
from yizhan.mail.vcard import parse_vcards, write_vcards
from yizhan.store.contacts import Contact, ContactGroup, Contacts, ContactWrite
from yizhan.store.records import AccountRecord
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput, QuotaExceeded

MAX_PAGE = 500
_IMPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class ContactLimits:
    max_contacts: int = 5000
    max_groups: int = 200
    max_file_bytes: int = 5 * 1024 * 1024
    max_addresses: int = 10
    max_phones: int = 10
    max_name: int = 100
    max_text: int = 200
    max_notes: int = 10_000
    max_group_name: int = 100
    max_phone: int = 50


@dataclass
class ImportReport:
    """What an import did: how many contacts were added, and per skipped row (or card) number the reason."""

    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One autocomplete answer: where it comes from ("contact", "directory" or "recent")."""

    name: str
    address: str
    source: str
    contact_id: int | None = None


@dataclass(frozen=True, slots=True)
class Correspondent:
    address: str
    name: str
    last_seen: int
    count: int


def _clean(text: str, limit: int, what: str, multiline: bool = False) -> str:
    """`text` with control characters as spaces (newlines and tabs kept when `multiline`, else whitespace runs
    collapsed), trimmed; InvalidInput when too long."""
    text = text.replace("\r\n", "\n")
    kept = "".join(ch if (multiline and ch in "\n\t") or unicodedata.category(ch)[0] != "C" else " "
                   for ch in text)
    kept = kept.strip() if multiline else " ".join(kept.split())
    if len(kept) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return kept


class ContactsService:
    def __init__(self, store: Store, limits: ContactLimits | None = None) -> None:
        self.store = store
        self.contacts = Contacts(store.db)
        self.limits = limits or ContactLimits()

    # Validation

    def validate(self, card: ContactCard, strict: bool = True) -> tuple[ContactCard, list[str]]:
        """The card cleaned and normalised, and warnings; InvalidInput says what to fix. When not `strict`
        (imports), unusable addresses and phones are dropped with a warning instead."""
        lim = self.limits
        warnings: list[str] = []
        emails: list[tuple[str, str]] = []
        for address, label in card.emails:
            addr = address.strip().strip("<>").removeprefix("mailto:").strip()
            if not is_valid_address(addr):
                if strict:
                    raise InvalidInput(f"'{address[:100]}' is not a valid mail address")
                warnings.append(f"'{address[:100]}' is not a valid mail address and was left out")
                continue
            norm = normalize_address(addr)
            if norm not in (e for e, _ in emails):
                emails.append((norm, _clean(label, 30, "an address label")))
        if len(emails) > lim.max_addresses:
            raise InvalidInput(f"a contact has at most {lim.max_addresses} addresses")
        phones: list[tuple[str, str]] = []
        for number, label in card.phones:
            cleaned = _clean(number, lim.max_phone, "a phone number")
            if not any(ch.isdigit() for ch in cleaned):
                if strict:
                    raise InvalidInput(f"'{number[:60]}' is not a phone number (it has no digit)")
                warnings.append(f"'{number[:60]}' is not a phone number and was left out")
                continue
            phones.append((cleaned, _clean(label, 30, "a phone label")))
        if len(phones) > lim.max_phones:
            raise InvalidInput(f"a contact has at most {lim.max_phones} phone numbers")
        cleaned_card = ContactCard(
            display_name=_clean(card.display_name, lim.max_name, "the name"),
            family_name=_clean(card.family_name, lim.max_name, "the family name"),
            given_name=_clean(card.given_name, lim.max_name, "the given name"),
            organisation=_clean(card.organisation, lim.max_text, "the organisation"),
            title=_clean(card.title, lim.max_text, "the title"),
            emails=tuple(emails), phones=tuple(phones),
            notes=_clean(card.notes, lim.max_notes, "the notes", multiline=True),
            groups=tuple(dict.fromkeys(_clean(g, lim.max_group_name, "a group name") for g in card.groups if g)))
        if not (cleaned_card.name() or cleaned_card.phones or cleaned_card.organisation):
            if warnings:
                raise InvalidInput(warnings[0].removesuffix(" and was left out")
                                   + ", and there is no name or phone number to keep")
            raise InvalidInput("a contact needs a name, an address or a phone number")
        return cleaned_card, warnings

    @staticmethod
    def _derive(card: ContactCard, group_ids: tuple[int, ...] | None) -> ContactWrite:
        keys = [*name_keys(card.name())]
        if card.display_name and (card.family_name or card.given_name):
            keys.extend(name_keys(card.family_name + " " + card.given_name))
        if card.organisation:
            keys.extend(name_keys(card.organisation))
        keys.extend(("addr", address) for address, _ in card.emails)
        return ContactWrite(card, tuple(keys), sort_key(card.name()), group_ids)

    def _derive_many(self, cards: list[ContactCard], group_ids: dict[str, int]) -> list[ContactWrite]:
        return [self._derive(c, tuple(group_ids[g] for g in c.groups if g in group_ids)) for c in cards]

    # Contacts

    async def create(self, account_id: int, card: ContactCard, group_ids: tuple[int, ...] = ()) -> Contact:
        cleaned, _ = self.validate(card)
        write = await asyncio.to_thread(self._derive, cleaned, tuple(group_ids))
        (contact_id,) = await self.contacts.create(account_id, [write], self.limits.max_contacts)
        return await self.contacts.get(account_id, contact_id)

    async def get(self, account_id: int, contact_id: int) -> Contact:
        return await self.contacts.get(account_id, contact_id)

    async def update(self, account_id: int, contact_id: int, card: ContactCard,
                     group_ids: tuple[int, ...] | None = None) -> Contact:
        """Replace the contact's fields (and its groups, when `group_ids` is given)."""
        cleaned, _ = self.validate(card)
        write = await asyncio.to_thread(self._derive, cleaned, group_ids)
        await self.contacts.update(account_id, contact_id, write)
        return await self.contacts.get(account_id, contact_id)

    async def delete(self, account_id: int, contact_ids: list[int]) -> int:
        if not contact_ids or len(contact_ids) > MAX_PAGE:
            raise InvalidInput(f"give between 1 and {MAX_PAGE} contacts to delete")
        return await self.contacts.delete(account_id, contact_ids)

    async def list_contacts(self, account_id: int, group_id: int | None = None, offset: int = 0,
                   limit: int = 100) -> list[Contact]:
        _check_page(offset, limit)
        return await self.contacts.list_contacts(account_id, group_id, offset, limit)

    async def count(self, account_id: int) -> int:
        return await self.contacts.count(account_id)

    async def search(self, account_id: int, text: str, limit: int = 20) -> list[Contact]:
        """Contacts whose name, a word of it, its pinyin (full or initials) or an address starts with `text`."""
        _check_page(0, limit)
        return await self.contacts.search(account_id, normalise_key(text), limit)

    # Suggestions for To/Cc/Bcc

    async def correspondents(self, account: AccountRecord, prefix: str = "", limit: int = 20,
                             scan: int = 2000) -> list[Correspondent]:
        """Addresses the account recently received mail from or sent mail to (its most recent `scan` messages),
        most recent first, optionally those whose address or name starts with `prefix`."""
        _check_page(0, limit)
        own = account.address
        found: dict[str, Correspondent] = {}

        def seen(address: str, name: str, when: int) -> None:
            address = normalize_address(address)
            if not address or address == own or not is_valid_address(address):
                return
            old = found.get(address)
            if old is None:
                found[address] = Correspondent(address, name, when, 1)
            else:
                found[address] = replace(old, count=old.count + 1, name=old.name or name)

        for from_addr, from_name, to_text, cc_text, when in await self.store_headers(account.id, scan):
            if normalize_address(from_addr) == own:
                for addr in (*parse_address_list(to_text), *parse_address_list(cc_text)):
                    seen(addr.addr, addr.name, when)
            else:
                seen(from_addr, from_name, when)
        key = normalise_key(prefix)
        matches = [c for c in found.values() if not key or c.address.startswith(key)
                   or any(w.startswith(key) for w in normalise_key(c.name).split(" "))]
        return matches[:limit]

    async def store_headers(self, account_id: int, scan: int) -> list[tuple[str, str, str, str, int]]:
        return await self.contacts.recent_headers(account_id, max(1, min(scan, 20_000)))

    async def directory(self, account: AccountRecord, prefix: str = "", limit: int = 1000) -> list[Suggestion]:
        """The organisation's directory: the enabled accounts of the account's own domain, by address."""
        key = normalise_key(prefix)
        out: list[Suggestion] = []
        for other in await self.store.directory.list_accounts(account.domain_id):
            if other.disabled:
                continue
            if key and not (other.address.startswith(key)
                            or any(w.startswith(key) for w in normalise_key(other.display_name).split(" "))):
                continue
            out.append(Suggestion(other.display_name, other.address, "directory"))
            if len(out) >= limit:
                break
        return out

    async def autocomplete(self, account: AccountRecord, text: str, limit: int = 10) -> list[Suggestion]:
        """Suggestions for a recipient field: the account's contacts (every address), then its organisation's
        directory, then past correspondents; each address once."""
        _check_page(0, limit)
        if not normalise_key(text):
            return []
        out: dict[str, Suggestion] = {}
        for contact in await self.search(account.id, text, limit):
            for address, _ in contact.card.emails:
                out.setdefault(address, Suggestion(contact.card.name(), address, "contact", contact.id))
        for suggestion in await self.directory(account, text, limit):
            out.setdefault(suggestion.address, suggestion)
        for c in await self.correspondents(account, text, limit):
            out.setdefault(c.address, Suggestion(c.name, c.address, "recent"))
        return list(out.values())[:limit]

    # Groups

    async def groups(self, account_id: int) -> list[ContactGroup]:
        return await self.contacts.list_groups(account_id)

    async def create_group(self, account_id: int, name: str) -> ContactGroup:
        return await self.contacts.create_group(account_id, self._group_name(name), self.limits.max_groups)

    async def rename_group(self, account_id: int, group_id: int, name: str) -> None:
        await self.contacts.rename_group(account_id, group_id, self._group_name(name))

    async def delete_group(self, account_id: int, group_id: int) -> None:
        await self.contacts.delete_group(account_id, group_id)

    async def add_to_group(self, account_id: int, group_id: int, contact_ids: list[int]) -> int:
        if not contact_ids or len(contact_ids) > MAX_PAGE:
            raise InvalidInput(f"give between 1 and {MAX_PAGE} contacts")
        return await self.contacts.add_members(account_id, group_id, contact_ids)

    async def remove_from_group(self, account_id: int, group_id: int, contact_ids: list[int]) -> int:
        if not contact_ids or len(contact_ids) > MAX_PAGE:
            raise InvalidInput(f"give between 1 and {MAX_PAGE} contacts")
        return await self.contacts.remove_members(account_id, group_id, contact_ids)

    def _group_name(self, name: str) -> str:
        cleaned = _clean(name, self.limits.max_group_name, "the group name")
        if not cleaned:
            raise InvalidInput("a group needs a name")
        return cleaned

    # Import and export

    def _check_file(self, data: bytes) -> None:
        if len(data) > self.limits.max_file_bytes:
            raise InvalidInput(f"the file is larger than {self.limits.max_file_bytes // 1024} KB; split it")
        if not data.strip():
            raise InvalidInput("the file is empty")

    async def import_vcard(self, account_id: int, data: bytes) -> ImportReport:
        """Add the cards of a vCard file; returns what was added and what was skipped (card numbers from 1)."""
        self._check_file(data)
        cards = await asyncio.to_thread(parse_vcards, data)
        if not cards:
            raise InvalidInput("no vCard found in the file (it should contain BEGIN:VCARD ... END:VCARD)")
        return await self._import(account_id, list(enumerate(cards, start=1)))

    async def import_csv(self, account_id: int, data: bytes) -> ImportReport:
        """Add the rows of a CSV file (header row first; row numbers count the header as 1)."""
        self._check_file(data)
        rows = await asyncio.to_thread(parse_csv, data)
        if not rows:
            raise InvalidInput("no contacts found in the CSV file (the first row must name the columns)")
        return await self._import(account_id, rows)

    async def _import(self, account_id: int, numbered: list[tuple[int, ContactCard]]) -> ImportReport:
        report = ImportReport()
        accepted: list[tuple[int, ContactCard]] = []
        seen: set[str] = set()
        for number, card in numbered:
            try:
                cleaned, warnings = self.validate(card, strict=False)
            except InvalidInput as exc:
                report.skipped.append((number, str(exc)))
                continue
            report.warnings.extend((number, w) for w in warnings)
            first = cleaned.emails[0][0] if cleaned.emails else None
            if first and first in seen:
                report.skipped.append((number, f"{first} appears earlier in the file"))
                continue
            if first:
                seen.add(first)
            accepted.append((number, cleaned))
        existing = await self.contacts.find_by_address(
            account_id, [c.emails[0][0] for _, c in accepted if c.emails])
        fresh: list[tuple[int, ContactCard]] = []
        for number, card in accepted:
            if card.emails and card.emails[0][0] in existing:
                report.skipped.append((number, f"{card.emails[0][0]} is already in the address book"))
            else:
                fresh.append((number, card))
        room = self.limits.max_contacts - await self.contacts.count(account_id)
        for number, _ in fresh[max(room, 0):]:
            report.skipped.append((number, f"the address book is full ({self.limits.max_contacts} contacts)"))
        fresh = fresh[:max(room, 0)]
        group_ids = await self._import_groups(account_id, fresh, report)
        for start in range(0, len(fresh), _IMPORT_BATCH):
            batch = fresh[start:start + _IMPORT_BATCH]
            writes = await asyncio.to_thread(self._derive_many, [c for _, c in batch], group_ids)
            try:
                await self.contacts.create(account_id, writes, self.limits.max_contacts)
            except QuotaExceeded as exc:
                report.skipped.extend((number, str(exc)) for number, _ in batch)
                continue
            report.imported += len(batch)
        report.skipped.sort()
        return report

    async def _import_groups(self, account_id: int, cards: list[tuple[int, ContactCard]],
                             report: ImportReport) -> dict[str, int]:
        names = list(dict.fromkeys(g for _, c in cards for g in c.groups))
        if not names:
            return {}
        try:
            return await self.contacts.group_ids(account_id, names, True, self.limits.max_groups)
        except QuotaExceeded as exc:
            report.warnings.append((0, f"groups were not created: {exc}"))
            return await self.contacts.group_ids(account_id, names, False, self.limits.max_groups)

    async def _all_cards(self, account_id: int) -> list[ContactCard]:
        cards: list[ContactCard] = []
        offset = 0
        while True:
            page = await self.contacts.list_contacts(account_id, None, offset, MAX_PAGE)
            cards.extend(c.card for c in page)
            if len(page) < MAX_PAGE:
                return cards
            offset += MAX_PAGE

    async def export_vcard(self, account_id: int, version: str = "3.0") -> str:
        if version not in ("3.0", "4.0"):
            raise InvalidInput("vCard version must be 3.0 or 4.0")
        return write_vcards(await self._all_cards(account_id), version)

    async def export_csv(self, account_id: int, language: str = "en") -> str:
        if language not in ("en", "zh"):
            raise InvalidInput("CSV header language must be en or zh")
        return write_csv(await self._all_cards(account_id), language)


def _check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"offset must be 0 or more and limit between 1 and {MAX_PAGE}")

