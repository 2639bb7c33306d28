"""Reading stored mail for the web and the API: a message's view, one part, a zip of its attachments, its raw
bytes, and the compose form of a reply or forward.

Every method names (account id, folder name, UID); the folder is looked up within that account through
`MailboxService` (the web, whose URLs carry folder ids, first calls `folder_by_id`, which checks the owner), so
one account can never reach another's messages, and a message that does not exist (or is
gone) is NotFound, the same answer whether the folder or the UID is wrong. Parsing, sanitising and zipping are CPU
work and run in worker threads (`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from yizhan.mail.parts import PartData, attachments_zip, extract_part, safe_filename
from yizhan.mail.quote import Language, Prefill, forward_as_attachment, forward_inline, reply
from yizhan.mail.render import MessageView, RenderOptions, render_attached, render_message
from yizhan.services.mailbox import MailboxService
from yizhan.store.records import FolderRecord
from yizhan.util.errors import NotFound

MAX_ZIP_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class OpenedMessage:
    """A message as the reading pane shows it: where it is, its flags and its view."""

    folder: FolderRecord
    uid: int
    flags: tuple[str, ...]
    size: int
    internal_date: int
    view: MessageView


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    content_type: str
    data: bytes


class ReadingService:
    def __init__(self, mailbox: MailboxService, max_zip_bytes: int = MAX_ZIP_BYTES) -> None:
        self.mailbox = mailbox
        self.max_zip_bytes = max_zip_bytes

    async def folder_by_id(self, account_id: int, folder_id: int) -> FolderRecord:
        """The folder `folder_id` of `account_id`; NotFound ("no such message", as for a wrong UID) when it does
        not exist or belongs to another account, so the web can take folder ids from URLs."""
        found = await self.mailbox.store.folders.get_by_id(folder_id) if 0 < folder_id < 2**62 else None
        if found is None or found.account_id != account_id:
            raise NotFound("no such message")
        return found

    async def _load(self, account_id: int, folder_name: str, uid: int) -> tuple[FolderRecord, int, tuple[str, ...],
                                                                                 int, int, bytes]:
        try:
            folder = await self.mailbox.folder(account_id, folder_name)
        except NotFound:
            raise NotFound("no such message") from None
        found = await self.mailbox.fetch_data(folder, [uid]) if uid > 0 else []
        if not found:
            raise NotFound("no such message")
        entry = found[0]
        raw = await self.mailbox.read(entry.blob)
        return folder, entry.uid, entry.flags, entry.size, entry.internal_date, raw

    async def open(self, account_id: int, folder_name: str, uid: int, options: RenderOptions | None = None, *,
                   mark_seen: bool = False) -> OpenedMessage:
        """The view of a message; with `mark_seen`, \\Seen is set (after the view was built)."""
        folder, uid, flags, size, internal_date, raw = await self._load(account_id, folder_name, uid)
        view = await asyncio.to_thread(render_message, raw, options)
        if mark_seen and "\\Seen" not in flags:
            changed = await self.mailbox.store_flags(folder, [uid], "add", ["\\Seen"])
            if uid in changed:
                flags = changed[uid][1]
        return OpenedMessage(folder, uid, flags, size, internal_date, view)

    async def attached(self, account_id: int, folder_name: str, uid: int, path: str,
                       options: RenderOptions | None = None) -> MessageView:
        """The view of a message attached (message/rfc822) at part `path`."""
        *_, raw = await self._load(account_id, folder_name, uid)
        view = await asyncio.to_thread(render_attached, raw, path, options)
        if view is None:
            raise NotFound(f"no attached message at part {path[:20]}")
        return view

    async def part(self, account_id: int, folder_name: str, uid: int, path: str) -> PartData:
        """One part's decoded bytes (a download or an inline image); NotFound when the path names no part."""
        *_, raw = await self._load(account_id, folder_name, uid)
        found = await asyncio.to_thread(extract_part, raw, path)
        if found is None:
            raise NotFound(f"no part {path[:20]} in this message")
        return found

    async def attachments_zip(self, account_id: int, folder_name: str, uid: int,
                              paths: Sequence[str] | None = None) -> Download:
        """The message's attachments (all that are not inline, or those at `paths`) as one zip."""
        *_, raw = await self._load(account_id, folder_name, uid)

        def build() -> tuple[str, bytes]:
            view = render_message(raw)
            wanted = list(paths) if paths is not None else [a.path for a in view.attachments if not a.is_inline]
            name = safe_filename(view.subject[:100], "attachments") + ".zip"
            return name, attachments_zip(raw, wanted, self.max_zip_bytes)

        name, data = await asyncio.to_thread(build)
        return Download(name, "application/zip", data)

    async def raw(self, account_id: int, folder_name: str, uid: int) -> Download:
        """The message exactly as stored, as an .eml download named after its subject."""
        *_, raw = await self._load(account_id, folder_name, uid)
        view = await asyncio.to_thread(render_message, raw)
        return Download(safe_filename(view.subject[:100], "message") + ".eml", "message/rfc822", raw)

    async def reply_prefill(self, account_id: int, folder_name: str, uid: int, own: Sequence[str], *,
                            reply_all: bool = False, language: Language = "en", tz: tzinfo = UTC,
                            remote_images: bool = False) -> Prefill:
        """The compose form replying to a message; `own` are the user's addresses (removed from recipients)."""
        *_, raw = await self._load(account_id, folder_name, uid)
        return await asyncio.to_thread(lambda: reply(raw, own, reply_all=reply_all, language=language, tz=tz,
                                                     remote_images=remote_images))

    async def forward_prefill(self, account_id: int, folder_name: str, uid: int, *, as_attachment: bool = False,
                              language: Language = "en", tz: tzinfo = UTC, remote_images: bool = False) -> Prefill:
        """The compose form forwarding a message inline (with its attachments) or as a message/rfc822 attachment."""
        *_, raw = await self._load(account_id, folder_name, uid)
        if as_attachment:
            return await asyncio.to_thread(forward_as_attachment, raw)
        return await asyncio.to_thread(lambda: forward_inline(raw, language=language, tz=tz,
                                                              remote_images=remote_images))
