"""Helpers of the address book pages: the service and the groups sidebar of a request, and the contact form
(reading a submitted form into a `ContactCard`; the values the form shows: a stored contact, or what was just
submitted when it was refused).

Invariants: every field is bounded before it reaches the service (`MAX_ROWS` address and phone rows, lengths
cut at `MAX_FIELD`), so an oversized form is refused with a message rather than processed; validation proper
(addresses, phone digits, lengths the user must fix) is the contacts service's, which says what to fix.
Group ids come back as they were sent; the service checks that they are the account's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.datastructures import FormData

from yizhan.mail.contactcard import ContactCard
from yizhan.services.contacts import ContactsService
from yizhan.store.contacts import Contact
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.deps import Principal, web_state
from yizhan.web.i18n import N_, Translator

MAX_ROWS = 20
MAX_FIELD = 20_000
MAX_ID = 2**62


# Messages of the services that these pages show often and that carry no value, so they have a translation; any
# other message of a service is shown as the service wrote it (in English).
SERVICE_MESSAGES = (
    N_("a contact needs a name, an address or a phone number"),
    N_("a group needs a name"),
    N_("the file is empty"),
    N_("no vCard found in the file (it should contain BEGIN:VCARD ... END:VCARD)"),
    N_("no contacts found in the CSV file (the first row must name the columns)"),
    N_("a signature needs a name of 1 to 100 characters"),
    N_("a token needs a name of 1 to 100 characters"),
    N_("scopes must be one or more of read, write, admin"),
    N_("only administrators can create tokens with the admin scope"),
    N_("the password must have at least 8 characters"),
    N_("the password must not start or end with spaces or contain control characters"),
)


def error_text(request: Request, exc: Exception) -> str:
    """The message of a refused request in the reader's language, where the catalogue has it."""
    translator: Translator = request.state.i18n
    return translator.gettext(str(exc))


def is_htmx(request: Request) -> bool:
    """Whether a request was sent by htmx (it then wants a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"


def contacts_of(request: Request) -> ContactsService:
    return web_state(request).services.contacts


async def sidebar(request: Request, principal: Principal, selected: int | None = None,
                  error: str = "") -> dict[str, object]:
    """What the groups sidebar shows."""
    service = contacts_of(request)
    return {"groups": await service.groups(principal.account.id), "total": await service.count(principal.account.id),
            "selected_group": selected, "group_error": error}


def checked_id(value: int) -> int:
    """An id from a URL: numbers no row can have are simply not found (never an overflow in SQL)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound("no such item")
    return value


@dataclass
class ContactForm:
    """What the form shows: field values, rows of addresses and phones, and the groups ticked."""

    display_name: str = ""
    family_name: str = ""
    given_name: str = ""
    organisation: str = ""
    title: str = ""
    notes: str = ""
    emails: list[tuple[str, str]] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)
    group_ids: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, contact: Contact) -> ContactForm:
        card = contact.card
        return cls(card.display_name, card.family_name, card.given_name, card.organisation, card.title,
                   card.notes, list(card.emails), list(card.phones), {gid for gid, _ in contact.groups})

    def card(self) -> ContactCard:
        return ContactCard(display_name=self.display_name, family_name=self.family_name, given_name=self.given_name,
                           organisation=self.organisation, title=self.title, notes=self.notes,
                           emails=tuple(self.emails), phones=tuple(self.phones))

    def email_rows(self) -> list[tuple[str, str]]:
        """The address rows to show: the contact's, and one empty row to add another."""
        return [*self.emails, ("", "")]

    def phone_rows(self) -> list[tuple[str, str]]:
        return [*self.phones, ("", "")]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > MAX_FIELD:
        raise InvalidInput(f"the field {name} is longer than {MAX_FIELD} characters")
    return value


def _pairs(form: FormData, name: str, label: str) -> list[tuple[str, str]]:
    values = [v if isinstance(v, str) else "" for v in form.getlist(name)]
    labels = [v if isinstance(v, str) else "" for v in form.getlist(label)]
    if len(values) > MAX_ROWS:
        raise InvalidInput(f"give at most {MAX_ROWS} rows of {name}")
    out: list[tuple[str, str]] = []
    for index, value in enumerate(values):
        text = value.strip()[:MAX_FIELD]
        label_text = labels[index].strip()[:30] if index < len(labels) else ""
        if text:
            out.append((text, label_text))
    return out


def read_form(form: FormData) -> ContactForm:
    """The submitted contact form; InvalidInput for a form no browser of ours would send (too many rows)."""
    groups: set[int] = set()
    for value in form.getlist("group")[:MAX_ROWS * 10]:
        if isinstance(value, str) and value.isdigit() and 0 < int(value) <= MAX_ID:
            groups.add(int(value))
    return ContactForm(
        display_name=_text(form, "display_name"), family_name=_text(form, "family_name"),
        given_name=_text(form, "given_name"), organisation=_text(form, "organisation"),
        title=_text(form, "title"), notes=_text(form, "notes"),
        emails=_pairs(form, "email", "email_label"), phones=_pairs(form, "phone", "phone_label"),
        group_ids=groups)
