"""Message disposition notifications (read receipts, RFC 8098) that a reader sends by hand.

An MDN is a `multipart/report; report-type=disposition-notification` message (RFC 6522, RFC 8098 §3) of three
parts:
1. a human-readable explanation, in English and Chinese (text/plain, UTF-8, base64);
2. `message/disposition-notification` (RFC 8098 §3.1, §3.2): Reporting-UA, Final-Recipient (the reader),
   Original-Message-ID, and `Disposition: manual-action/MDN-sent-manually; displayed` (§3.2.6: the user chose to
   send it, the message was shown);
3. `text/rfc822-headers`: the header section of the original message (RFC 6522 §4), cut to a size limit.

The header section is addressed to the Disposition-Notification-To addresses (RFC 8098 §2.1), with
`In-Reply-To`/`References` naming the original, so mail readers thread the receipt with the message.

Invariants: pure (no I/O, no clock: `now` is given) and never raises; every header value passes through
`mail.mimewrite`, so no input can add a header field. The envelope sender of an MDN must be null `<>` (RFC 8098
§3): that is the caller's part.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from yizhan.mail.dsn import original_headers
from yizhan.mail.mimewrite import address_field, ascii_address, clean, unstructured

_MAX_FIELD = 900
REPORT_TYPE = "disposition-notification"


def _ascii(text: str, limit: int = _MAX_FIELD) -> str:
    flat = re.sub(r"[\x00-\x1f\x7f]+", " ", text.encode("ascii", "backslashreplace").decode("ascii"))
    return flat.strip()[:limit]


def _recipient_field(address: str) -> str:
    # RFC 8098 §3.2.4 (rfc822 address type), RFC 6533 §3 (utf-8 type, non-ASCII written as \x{HEX}).
    flat = re.sub(r"[\x00-\x20\x7f<>]+", "", address)[:_MAX_FIELD]
    if flat.isascii():
        return f"rfc822;{flat}"
    return "utf-8;" + "".join(c if c.isascii() else f"\\x{{{ord(c):X}}}" for c in flat)


def _message_id(value: str) -> str:
    """`<id>` for a Message-ID given with or without brackets; "" when it cannot be written safely."""
    bare = value.strip().strip("<>")
    if not bare or len(bare) > 900 or not bare.isascii() or re.search(r"[\s<>\x00-\x1f\x7f]", bare):
        return ""
    return f"<{bare}>"


def _human(reader: str, subject: str, sent: str) -> str:
    about = f"  Subject: {subject}\n" if subject else ""
    return (
        f"This is a read receipt for the message you sent to {reader}.\n{about}"
        f"  Displayed: {sent}\n\n"
        "It tells you only that the message was shown on the recipient's screen; it does not mean that it was\n"
        "read or understood.\n\n"
        f"这是您发给 {reader} 的邮件的已读回执。\n"
        + (f"  主题：{subject}\n" if subject else "")
        + f"  显示时间：{sent}\n\n"
        "它只说明邮件已在收件人的屏幕上显示，并不代表收件人已经阅读或理解了邮件内容。\n"
    )


def build_mdn(original: bytes, *, reader: str, reader_name: str = "", to: Sequence[tuple[str, str]],
              subject: str, original_message_id: str, reporting_ua: str, now: int) -> bytes:
    """The MDN (headers and body) that `reader` sends about `original` to `to` ((name, address) pairs), saying the
    message was displayed (RFC 8098 §3.2.6 manual-action/MDN-sent-manually; displayed)."""
    try:
        when = format_datetime(datetime.fromtimestamp(now, tz=UTC))
    except (OverflowError, OSError, ValueError):
        now, when = 0, format_datetime(datetime.fromtimestamp(0, tz=UTC))
    reader = ascii_address(clean(reader))
    domain = reader.rpartition("@")[2] or "localhost"
    subject = clean(subject)[:300]
    seed = hashlib.sha256(original[:65536] + f"{now}\0{reader}".encode("utf-8", "replace")).hexdigest()
    boundary = f"=_yizhan_mdn_{seed[:32]}"
    original_id = _message_id(original_message_id)
    top = [
        address_field("From", [(reader_name, reader)]).rstrip("\r\n"),
        address_field("To", [(name, address) for name, address in to][:10]).rstrip("\r\n"),
        unstructured("Subject", f"Read: {subject}" if subject else "Read receipt (已读回执)").rstrip("\r\n"),
        f"Date: {when}",
        f"Message-ID: <mdn.{seed[32:56]}.{now}@{_ascii(domain, 255)}>",
    ]
    if original_id:
        top += [f"In-Reply-To: {original_id}", f"References: {original_id}"]
    top += ["MIME-Version: 1.0",
            f'Content-Type: multipart/report; report-type={REPORT_TYPE};\r\n boundary="{boundary}"']
    status = [f"Reporting-UA: {_ascii(reporting_ua, 255) or 'Yizhan'}", f"Final-Recipient: {_recipient_field(reader)}"]
    if original_id:
        status.append(f"Original-Message-ID: {original_id}")
    status.append("Disposition: manual-action/MDN-sent-manually; displayed")
    human = _human(reader, subject, when).replace("\n", "\r\n").encode("utf-8")
    human_b64 = base64.encodebytes(human).replace(b"\n", b"\r\n")
    headers = original_headers(original)
    original_cte = b"" if headers.isascii() else b"Content-Transfer-Encoding: 8bit\r\n"
    b = boundary.encode()
    parts = [
        "\r\n".join(top).encode("utf-8") + b"\r\n\r\n",
        b"This is a MIME-encapsulated message disposition notification.\r\n\r\n",
        b"--" + b + b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + human_b64,
        b"\r\n--" + b + b"\r\nContent-Type: message/disposition-notification\r\n\r\n"
        + "\r\n".join(status).encode("ascii", "replace") + b"\r\n",
        b"\r\n--" + b + b"\r\nContent-Type: text/rfc822-headers\r\n" + original_cte + b"\r\n" + headers,
        b"\r\n--" + b + b"--\r\n",
    ]
    return b"".join(parts)


__all__ = ["REPORT_TYPE", "build_mdn"]
