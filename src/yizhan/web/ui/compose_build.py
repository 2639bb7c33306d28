"""From what the compose form (or the API) sends to a `ComposeRequest`: recipients checked field by field, the
HTML sanitised again on the server, uploads turned into attachments and inline `cid:` images.

Invariants:
- The server is the authority on HTML: whatever the browser's DOMPurify did, the body goes through
  `mail.sanitize.sanitize_html` before it is built into a message. Images the editor shows from
  `/compose/uploads/<id>` become inline parts referenced as `cid:`; `cid:` references survive only for inline
  images of this message; remote images (http/https) are kept as the author wrote them.
- Uploads are read only through `UploadService` with the signed-in account, so another account's upload id is
  NotFound. Inline images must really be images (the bytes are sniffed).
- A bad recipient raises `FieldError` naming the field (to, cc, bcc) and the address, so the form shows it next to
  that field and the API lists it in `fields`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from yizhan.mail.compose import Attachment, ComposeRequest, InlineImage, parse_recipients
from yizhan.mail.sanitize import SanitizeOptions, sanitize_html
from yizhan.services.uploads import UploadService, image_type
from yizhan.store.records import AccountRecord
from yizhan.util.errors import InvalidInput
from yizhan.web.i18n import current

UPLOAD_URL = "/compose/uploads/"
# An image the editor shows from our upload URL (getHTML writes attributes in double quotes).
_UPLOAD_SRC = re.compile(r"""src\s*=\s*(["']?)/compose/uploads/([A-Za-z0-9_-]{16,64})(?:/[^"'\s>]*)?\1""")
MAX_HTML_CHARS = 2 * 1024 * 1024
MAX_TEXT_CHARS = 2 * 1024 * 1024


class FieldError(InvalidInput):
    """InvalidInput about one field of the form (`field`: from, to, cc, bcc, subject, attachments, body)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class InlineSpec:
    """An inline image the API names: its cid and either an upload or the bytes."""

    cid: str
    upload_id: str = ""
    data: bytes = b""
    content_type: str = ""
    filename: str = ""


@dataclass
class Parts:
    """What a compose request is built from besides its header fields."""

    attachment_ids: Sequence[str] = ()
    attachments: Sequence[Attachment] = ()
    inline: Sequence[InlineSpec] = ()
    used_uploads: list[str] = field(default_factory=list)


def _(message: str) -> str:
    return current().gettext(message)


def check_recipients(values: dict[str, Sequence[str]], *, strict: bool) -> None:
    """FieldError for the first address that is not one, naming it and its field."""
    for name, entries in values.items():
        try:
            parse_recipients(entries, strict=strict)
        except InvalidInput as exc:
            raise FieldError(name, _("%(field)s: %(problem)s") % {"field": field_label(name),
                                                                  "problem": bad_address_message(str(exc))}) from None


def bad_address_message(problem: str) -> str:
    found = re.match(r"^“(.*)” is not a valid address", problem, re.DOTALL)
    if not found:
        return problem
    return _("“%(address)s” is not a valid address; write it as name@example.com") % {"address": found.group(1)}


def field_label(name: str) -> str:
    labels = {"to": _("To"), "cc": _("Cc"), "bcc": _("Bcc"), "from": _("From")}
    return labels.get(name, name)


def clean_html(html: str, cids: set[str]) -> str:
    """The body as it will be sent: sanitised, `cid:` kept only for `cids`, remote images kept."""
    marker = f"/yizhan-cid-{secrets.token_hex(8)}/"
    options = SanitizeOptions(allow_remote=True, proxy_url=lambda url: url,
                              part_url=lambda cid: marker + cid if cid in cids else None)
    cleaned = sanitize_html(html[:MAX_HTML_CHARS], options).html
    return cleaned.replace(marker, "cid:")


async def _inline_from_uploads(html: str, account_id: int, uploads: UploadService, domain: str,
                               used: list[str]) -> tuple[str, list[InlineImage]]:
    images: dict[str, InlineImage] = {}
    for upload_id in dict.fromkeys(m.group(2) for m in _UPLOAD_SRC.finditer(html)):
        upload, data = await uploads.read(account_id, upload_id)
        kind = image_type(data)
        if kind is None:
            raise FieldError("body", _("“%(name)s” is not an image (PNG, JPEG, GIF or WebP) and cannot be shown "
                                       "in the text; attach it instead") % {"name": upload.filename})
        images[upload_id] = InlineImage(f"{secrets.token_hex(12)}@{domain}", kind, data, upload.filename)
        used.append(upload_id)

    def swap(m: re.Match[str]) -> str:
        image = images.get(m.group(2))
        return f'src="cid:{image.cid}"' if image else m.group(0)

    return _UPLOAD_SRC.sub(swap, html), list(images.values())


async def build_request(account: AccountRecord, identities: Sequence[str], uploads: UploadService, *,
                        from_address: str, from_name: str, to: Sequence[str], cc: Sequence[str], bcc: Sequence[str],
                        subject: str, html: str, text: str, parts: Parts, in_reply_to: str = "",
                        references: Sequence[str] = (), read_receipt: bool = False, priority: int = 3,
                        strict: bool = True) -> ComposeRequest:
    """The request to send or save; FieldError, InvalidInput or NotFound (an upload) say what to fix."""
    sender = from_address.strip()
    if sender.lower() not in {i.lower() for i in identities}:
        raise FieldError("from", _("You cannot send as “%(address)s”: choose one of your own addresses")
                         % {"address": sender[:200]}) from None
    check_recipients({"to": to, "cc": cc, "bcc": bcc}, strict=strict)
    if len(html) > MAX_HTML_CHARS or len(text) > MAX_TEXT_CHARS:
        raise FieldError("body", _("The text is too long: at most 2 million characters"))
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    inline: list[InlineImage] = []
    if html:
        html, inline = await _inline_from_uploads(html, account.id, uploads, domain, parts.used_uploads)
    for spec in parts.inline:
        if spec.upload_id:
            upload, data = await uploads.read(account.id, spec.upload_id)
            parts.used_uploads.append(spec.upload_id)
            filename = spec.filename or upload.filename
        else:
            data, filename = spec.data, spec.filename
        kind = image_type(data)
        if kind is None:
            raise FieldError("inline_images", _("Inline image “%(cid)s” is not a PNG, JPEG, GIF or WebP image")
                             % {"cid": spec.cid[:100]})
        inline.append(InlineImage(spec.cid, kind, data, filename))
    if html:
        html = clean_html(html, {image.cid for image in inline})
        # Only images the text shows are sent.
        inline = [image for image in inline if f"cid:{image.cid}" in html]
    attachments = list(parts.attachments)
    for upload_id in dict.fromkeys(parts.attachment_ids):
        upload, data = await uploads.read(account.id, upload_id)
        attachments.append(Attachment(upload.filename, upload.content_type, data))
        parts.used_uploads.append(upload_id)
    if not 1 <= priority <= 5:
        raise FieldError("priority", _("Priority must be 1 (highest) to 5 (lowest)"))
    return ComposeRequest(
        from_address=sender, from_name=from_name, to=tuple(to), cc=tuple(cc), bcc=tuple(bcc),
        subject=subject, html=html, text=text, attachments=tuple(attachments),
        inline_images=tuple(inline), in_reply_to=in_reply_to, references=tuple(references),
        read_receipt=read_receipt, priority=priority)
