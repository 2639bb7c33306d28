"""`ContactCard`: one address-book entry as vCard and CSV files carry it, before it is validated and stored.

Pure values, no I/O. Readers (mail/vcard.py, mail/contactcsv.py) produce cards with whatever they could read;
services/contacts.py validates them. Labels are free text as the source gave them ("work", "home", "mobile", "").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def is_cjk(text: str) -> bool:
    """Whether `text` holds a Han, kana or Hangul character (such names are written family name first)."""
    for ch in text:
        if ord(ch) >= 0x2E80 and unicodedata.category(ch).startswith("L"):
            return True
    return False


def compose_name(family: str, given: str) -> str:
    """A display name from its parts: "张三" for CJK names (family first, no space), "Alice Wong" otherwise."""
    family, given = family.strip(), given.strip()
    if not family or not given:
        return family or given
    if is_cjk(family) or is_cjk(given):
        return family + given
    return f"{given} {family}"


@dataclass(frozen=True, slots=True)
class ContactCard:
    display_name: str = ""
    family_name: str = ""
    given_name: str = ""
    organisation: str = ""
    title: str = ""
    # (address, label) pairs; the first is the preferred address.
    emails: tuple[tuple[str, str], ...] = ()
    # (number, label) pairs.
    phones: tuple[tuple[str, str], ...] = ()
    notes: str = ""
    # Names of the groups (vCard CATEGORIES, CSV "Categories"/"Group Membership"/"分组").
    groups: tuple[str, ...] = ()

    def name(self) -> str:
        """The name to show: the display name, else one composed from the parts, else the first address."""
        return (self.display_name.strip() or compose_name(self.family_name, self.given_name)
                or (self.emails[0][0] if self.emails else ""))

    def is_empty(self) -> bool:
        return not (self.display_name.strip() or self.family_name.strip() or self.given_name.strip()
                    or self.emails or self.phones or self.organisation.strip())
