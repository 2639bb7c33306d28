"""How the message list shows a message: a row view built from a `MessageSummary` in the reader's language and
time zone (today's mail by its time, older mail by its date), its sender (or recipients in Sent and Drafts), a
human size, and where it links (the reading pane of web/ui/read.py, the compose page).

Pure presentation: no I/O; every value a template prints is escaped there.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time

from yizhan.store.records import MessageSummary
from yizhan.web.i18n import Translator

_UNITS = ("B", "KB", "MB", "GB")


def human_size(size: int) -> str:
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def when(i18n: Translator, seconds: int, now: int | None = None) -> str:
    """A list's date: the time for today's mail, the month and day this year, the full date before."""
    locale = Locale.parse(i18n.language)
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC).astimezone(i18n.zone)
    today = datetime.datetime.fromtimestamp(now, datetime.UTC).astimezone(i18n.zone) if now else \
        datetime.datetime.now(i18n.zone)
    if moment.date() == today.date():
        return format_time(moment, format="short", locale=locale)
    if moment.year == today.year:
        return format_skeleton("MMMd", moment, locale=locale)
    return format_date(moment.date(), format="short", locale=locale)


@dataclass(frozen=True)
class Row:
    """One row of the list."""

    ref: str
    folder_id: int
    uid: int
    folder: str
    who: str
    who_title: str
    subject: str
    preview: str
    when: str
    when_title: str
    size: str
    size_bytes: int
    unread: bool
    flagged: bool
    answered: bool
    attachment: bool
    count: int = 1

    @property
    def read_url(self) -> str:
        return f"/mail/read/{self.folder_id}/{self.uid}"


def row_of(item: MessageSummary, i18n: Translator, outgoing: bool = False, count: int = 1) -> Row:
    if outgoing and item.to_text:
        who, title = item.to_text, item.to_text
    else:
        who, title = item.from_name or item.from_addr or "?", item.from_addr
    return Row(ref=f"{item.folder_id}:{item.uid}", folder_id=item.folder_id, uid=item.uid, folder=item.folder,
               who=who[:200], who_title=title[:400], subject=item.subject[:500], preview=item.preview[:200],
               when=when(i18n, item.date), when_title=i18n.datetime(item.date, "long"), size=human_size(item.size),
               size_bytes=item.size, unread="\\Seen" not in item.flags, flagged="\\Flagged" in item.flags,
               answered="\\Answered" in item.flags, attachment=item.has_attachments, count=count)
