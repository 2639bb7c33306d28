"""Typed bodies of the address-book API (web/api/v1/contacts.py): contacts, groups, suggestions, import reports.

Bounds here match services/contacts.py `ContactLimits` so the schema tells callers the limits; the service checks
them again (and more: address syntax, phone digits) and answers 400 saying what to fix.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from yizhan.mail.contactcard import ContactCard
from yizhan.services.contacts import ImportReport, Suggestion
from yizhan.store.contacts import Contact as ContactRecord
from yizhan.store.contacts import ContactGroup as GroupRecord
from yizhan.web.api.v1.paging import MAX_ID

BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]


class EmailAddress(BaseModel):
    address: str = Field(max_length=320, examples=["zhang.san@example.com"])
    label: str = Field("", max_length=30, description="Free text: work, home, other…")


class PhoneNumber(BaseModel):
    number: str = Field(max_length=50, examples=["+86 138 0013 8000"])
    label: str = Field("", max_length=30, description="Free text: mobile, work, home, fax…")


class GroupRef(BaseModel):
    id: int
    name: str


class ContactFields(BaseModel):
    """What a caller writes: a contact needs a name, an address or a phone number."""

    display_name: str = Field("", max_length=100, examples=["张三"])
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    organisation: str = Field("", max_length=200)
    title: str = Field("", max_length=200)
    emails: list[EmailAddress] = Field(default_factory=list, max_length=10,
                                       description="The first is the preferred address")
    phones: list[PhoneNumber] = Field(default_factory=list, max_length=10)
    notes: str = Field("", max_length=10_000)

    def card(self) -> ContactCard:
        return ContactCard(display_name=self.display_name, family_name=self.family_name,
                           given_name=self.given_name, organisation=self.organisation, title=self.title,
                           emails=tuple((e.address, e.label) for e in self.emails),
                           phones=tuple((p.number, p.label) for p in self.phones), notes=self.notes)


class ContactIn(ContactFields):
    group_ids: list[BodyId] | None = Field(None, max_length=200, description="The groups it belongs to (ids); on "
                                                                          "update, null leaves them as they are")

    def groups(self) -> tuple[int, ...] | None:
        if self.group_ids is None:
            return None
        return tuple(dict.fromkeys(g for g in self.group_ids))


class Contact(ContactFields):
    id: int
    name: str = Field(description="The name to show: display name, else family + given name, else the address")
    groups: list[GroupRef]
    created_at: int = Field(description="Epoch seconds (UTC)")
    updated_at: int

    @classmethod
    def of(cls, record: ContactRecord) -> Contact:
        card = record.card
        return cls(id=record.id, name=card.name(), display_name=card.display_name, family_name=card.family_name,
                   given_name=card.given_name, organisation=card.organisation, title=card.title,
                   emails=[EmailAddress(address=a, label=lab) for a, lab in card.emails],
                   phones=[PhoneNumber(number=n, label=lab) for n, lab in card.phones], notes=card.notes,
                   groups=[GroupRef(id=i, name=n) for i, n in record.groups],
                   created_at=record.created_at, updated_at=record.updated_at)


class ContactList(BaseModel):
    contacts: list[Contact]
    next_cursor: str | None = Field(description="Send as `cursor` for the next page; null on the last page")


class Group(BaseModel):
    id: int
    name: str
    members: int = Field(description="How many contacts are in it")

    @classmethod
    def of(cls, record: GroupRecord) -> Group:
        return cls(id=record.id, name=record.name, members=record.members)


class GroupList(BaseModel):
    groups: list[Group]


class GroupName(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["同事"])


class ContactIds(BaseModel):
    contact_ids: list[BodyId] = Field(min_length=1, max_length=500)

    def ids(self) -> list[int]:
        return list(dict.fromkeys(self.contact_ids))


class Changed(BaseModel):
    changed: int = Field(description="How many were added or removed (those already so do not count)")


class ContactSuggestion(BaseModel):
    name: str
    address: str
    source: Literal["contact", "directory", "recent"] | str = Field(
        description="contact: the address book; directory: an account of the organisation; recent: a past "
                    "correspondent")
    contact_id: int | None

    @classmethod
    def of(cls, found: Suggestion) -> ContactSuggestion:
        return cls(name=found.name, address=found.address, source=found.source, contact_id=found.contact_id)


class SuggestionList(BaseModel):
    suggestions: list[ContactSuggestion]


class Problem(BaseModel):
    number: int = Field(description="The card (vCard, from 1) or row (CSV, the header row is 1); 0 for the file")
    reason: str


class ImportResult(BaseModel):
    imported: int = Field(description="Contacts added")
    skipped: list[Problem] = Field(description="Cards or rows not imported, and why")
    warnings: list[Problem] = Field(description="Imported, but something was left out (e.g. a bad address)")

    @classmethod
    def of(cls, report: ImportReport) -> ImportResult:
        return cls(imported=report.imported,
                   skipped=[Problem(number=n, reason=r) for n, r in report.skipped],
                   warnings=[Problem(number=n, reason=r) for n, r in report.warnings])
