"""Folders as the web shows them: INBOX and the special-use folders first, in a fixed order, then the others by
name; special folders get their name in the reader's language (收件箱, 已发送, …), others their own name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from yizhan.store.records import FolderRecord
from yizhan.web.i18n import N_, current

_ORDER = ("inbox", "drafts", "sent", "archive", "junk", "trash")
_LABELS = {"inbox": N_("Inbox"), "drafts": N_("Drafts"), "sent": N_("Sent"), "archive": N_("Archive"),
           "junk": N_("Junk"), "trash": N_("Trash")}


@dataclass(frozen=True)
class FolderView:
    record: FolderRecord
    label: str
    depth: int


def special_use(folder: FolderRecord) -> str | None:
    if folder.name == "INBOX":
        return "inbox"
    return folder.special_use


def _key(folder: FolderRecord) -> tuple[int, str]:
    use = special_use(folder)
    rank = _ORDER.index(use) if use in _ORDER else len(_ORDER)
    return rank, folder.name.casefold()


def ordered(folders: Iterable[FolderRecord]) -> list[FolderRecord]:
    return sorted(folders, key=_key)


def folder_views(folders: Iterable[FolderRecord]) -> list[FolderView]:
    i18n = current()
    views = []
    for folder in ordered(folders):
        use = special_use(folder)
        if use in _LABELS and "/" not in folder.name:
            label = i18n.gettext(_LABELS[use])
        else:
            label = folder.name.rsplit("/", 1)[-1]
        views.append(FolderView(folder, label, folder.name.count("/")))
    return views
