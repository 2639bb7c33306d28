"""Change events returned by store operations and published on the bus after commit.

Invariant: an event describes a committed change; it is never published for a rolled-back transaction.
Events carry identifiers, not content: a listener that needs more asks the store.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    account_id: int


@dataclass(frozen=True, slots=True)
class MessageAdded(Event):
    folder_id: int
    uid: int
    modseq: int


@dataclass(frozen=True, slots=True)
class FlagsChanged(Event):
    folder_id: int
    uid: int
    modseq: int
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MessagesExpunged(Event):
    folder_id: int
    uids: tuple[int, ...]
    modseq: int


@dataclass(frozen=True, slots=True)
class FolderCreated(Event):
    folder_id: int
    name: str


@dataclass(frozen=True, slots=True)
class FolderRenamed(Event):
    folder_id: int
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class FolderDeleted(Event):
    folder_id: int
    name: str


@dataclass(frozen=True, slots=True)
class AccountChanged(Event):
    """Password, role, quota or state changed; caches of this account's credentials are stale."""
