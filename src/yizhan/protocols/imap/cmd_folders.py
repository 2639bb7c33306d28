"""Folder commands: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 §6.3.4-6.3.8), LIST with LIST-EXTENDED
(RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348), LSUB (RFC 3501 §6.3.9), STATUS
(RFC 9051 §6.3.11, RFC 8438 SIZE).

Invariants: only the account's own folders are listed; the delimiter is "/"; a name whose superior does not exist
is shown with that superior as `\\NonExistent` (extended) or `\\Noselect` (RFC 5258 §3, RFC 3501 §6.3.8) so
hierarchies stay browsable; names are written in modified UTF-7 unless the client enabled UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.session import Done, Session
from yizhan.services.mailbox import DELIMITER
from yizhan.store.records import FolderRecord

# The store's special_use values → RFC 6154 §2 attributes.
ATTRIBUTES = {"sent": "\\Sent", "drafts": "\\Drafts", "trash": "\\Trash", "junk": "\\Junk", "archive": "\\Archive"}


async def create(session: Session, command: c.Create) -> Done:
    await session.services.mailbox.create(session.require_account().id, command.mailbox, command.special_use)
    return Done("created")


async def delete(session: Session, command: c.Delete) -> Done:
    await session.services.mailbox.delete(session.require_account().id, command.mailbox)
    return Done("deleted")


async def rename(session: Session, command: c.Rename) -> Done:
    await session.services.mailbox.rename(session.require_account().id, command.mailbox, command.new_name)
    return Done("renamed")


async def subscribe(session: Session, command: c.Subscribe | c.Unsubscribe) -> Done:
    subscribed = isinstance(command, c.Subscribe)
    await session.services.mailbox.subscribe(session.require_account().id, command.mailbox, subscribed)
    return Done("subscribed" if subscribed else "unsubscribed")


def pattern_regex(reference: str, pattern: str) -> re.Pattern[str]:
    """RFC 9051 §6.3.9: reference and pattern joined; `*` matches anything, `%` anything but the delimiter."""
    full = reference + pattern if not reference or reference.endswith(DELIMITER) or pattern.startswith(DELIMITER) \
        else reference + DELIMITER + pattern
    parts = [".*" if ch == "*" else "[^/]*" if ch == "%" else re.escape(ch) for ch in full]
    return re.compile("".join(parts), re.DOTALL)


def _matches(regexes: list[re.Pattern[str]], name: str) -> bool:
    for regex in regexes:
        if regex.fullmatch(name):
            return True
        # INBOX is case-insensitive (RFC 9051 §5.1), also inside a pattern.
        if name == "INBOX" or name.startswith("INBOX/"):
            if re.compile(regex.pattern, re.DOTALL | re.IGNORECASE).fullmatch(name):
                return True
    return False


def _tree(folders: Iterable[FolderRecord]) -> tuple[dict[str, FolderRecord], set[str], set[str]]:
    """Folders by name, names that have children, and superiors that do not exist."""
    by_name = {f.name: f for f in folders}
    parents: set[str] = set()
    for name in by_name:
        levels = name.split(DELIMITER)
        for i in range(1, len(levels)):
            parents.add(DELIMITER.join(levels[:i]))
    return by_name, parents, parents - set(by_name)


def _status_items(folder: FolderRecord, items: Iterable[str], limit: int, deleted: int | None) -> list[tuple[str, int]]:
    values = {"MESSAGES": folder.exists_count, "UIDNEXT": folder.uidnext, "UIDVALIDITY": folder.uidvalidity,
              "UNSEEN": folder.unseen_count, "SIZE": folder.size_bytes, "HIGHESTMODSEQ": folder.highestmodseq,
              "RECENT": 0, "APPENDLIMIT": limit}
    if deleted is not None:
        values["DELETED"] = deleted
    return [(item, values[item]) for item in items if item in values]


async def _status_values(session: Session, folder: FolderRecord, items: tuple[str, ...]) -> list[tuple[str, int]]:
    deleted = None
    if "DELETED" in items:
        states = await session.services.mailbox.view.states(folder.id)
        deleted = sum(1 for s in states if "\\Deleted" in s.flags)
    return _status_items(folder, items, session.services.settings.limits.max_message_size, deleted)


async def list_(session: Session, command: c.List) -> Done:
    account = session.require_account()
    if command.patterns == ("",) and not command.extended:
        # RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root.
        await session.send(r.list_line("LIST", ["\\Noselect"], DELIMITER, "", session.utf8))
        return Done("listed")
    by_name, parents, missing = _tree(await session.services.mailbox.folders(account.id))
    regexes = [pattern_regex(command.reference, p) for p in command.patterns]
    selection, returns = command.selection, command.return_options
    show_subscribed = "SUBSCRIBED" in selection or "SUBSCRIBED" in returns
    names = sorted(set(by_name) | missing, key=lambda n: (n != "INBOX", n))
    out: list[bytes] = []
    for name in names:
        if not _matches(regexes, name):
            continue
        folder = by_name.get(name)
        if "SUBSCRIBED" in selection and (folder is None or not folder.subscribed):
            continue
        if "SPECIAL-USE" in selection and (folder is None or folder.special_use not in ATTRIBUTES):
            continue
        attributes: list[str] = []
        if folder is None:
            attributes.append("\\NonExistent" if command.extended else "\\Noselect")
        attributes.append("\\HasChildren" if name in parents else "\\HasNoChildren")
        if folder is not None and folder.special_use in ATTRIBUTES:
            attributes.append(ATTRIBUTES[folder.special_use])
        if show_subscribed and folder is not None and folder.subscribed:
            attributes.append("\\Subscribed")
        out.append(r.list_line("LIST", attributes, DELIMITER, name, session.utf8))
        if "STATUS" in returns and folder is not None:
            values = await _status_values(session, folder, command.status_items)
            out.append(r.status_line(name, values, session.utf8))
    await session.send(b"".join(out))
    return Done("listed")


async def lsub(session: Session, command: c.Lsub) -> Done:
    account = session.require_account()
    regexes = [pattern_regex(command.reference, command.pattern)]
    folders = await session.services.mailbox.folders(account.id)
    out = [r.list_line("LSUB", [], DELIMITER, f.name, session.utf8)
           for f in sorted(folders, key=lambda f: (f.name != "INBOX", f.name))
           if f.subscribed and _matches(regexes, f.name)]
    await session.send(b"".join(out))
    return Done("listed")


async def status(session: Session, command: c.Status) -> Done:
    folder = await session.services.mailbox.folder(session.require_account().id, command.mailbox)
    values = await _status_values(session, folder, command.items)
    await session.send(r.status_line(folder.name, values, session.utf8))
    return Done("status given")
