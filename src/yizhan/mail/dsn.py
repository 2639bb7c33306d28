"""Delivery status notifications: the bounce (Action: failed) and the delay notice (Action: delayed).

A DSN is a `multipart/report; report-type=delivery-status` message (RFC 6522, RFC 3464 §2) of three parts:
1. a human-readable explanation, in English and Chinese (text/plain, UTF-8, base64 so any MTA takes it);
2. `message/delivery-status`: per-message fields (Reporting-MTA, Original-Envelope-Id, Arrival-Date) then one block
   per recipient (Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date,
   Will-Retry-Until), RFC 3464 §2.2 and §2.3;
3. `text/rfc822-headers`: the header section of the original message (RFC 6522 §4), cut to a size limit.

Invariants: pure (bytes and values in, bytes out, no I/O, no clock) and never raises on any input: field values are
made single-line US-ASCII (RFC 3464 §2.1.1 wants ASCII text in the fields) and lines end in CRLF. The envelope
sender of a DSN must be the null reverse-path `<>` (RFC 3464 §2, RFC 5321 §4.5.5); that is the caller's part.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime

# The original's header section is cut to this many bytes in the third part.
MAX_ORIGINAL_HEADERS = 64 * 1024
_MAX_FIELD = 900


@dataclass(frozen=True, slots=True)
class DsnRecipient:
    """One recipient's line in a DSN. `status` is an RFC 3463 code such as "5.1.1" or "4.4.1"."""

    address: str
    status: str
    diagnostic: str = ""
    remote_mta: str = ""
    last_attempt: int | None = None
    will_retry_until: int | None = None


def _date(seconds: int) -> str:
    try:
        return format_datetime(datetime.fromtimestamp(seconds, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return format_datetime(datetime.fromtimestamp(0, tz=UTC))


def _ascii(text: str, limit: int = _MAX_FIELD) -> str:
    """A single line of printable US-ASCII: line breaks and control characters become spaces."""
    flat = re.sub(r"[\x00-\x1f\x7f]+", " ", text.encode("ascii", "backslashreplace").decode("ascii"))
    return flat.strip()[:limit]


def _status(code: str, action: str) -> str:
    # RFC 3464 §2.3.4: class.subject.detail; a failure is class 5, a delay class 4.
    if re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", code):
        return code
    return "5.0.0" if action == "failed" else "4.0.0"


def _address_type(address: str) -> str:
    # RFC 3464 §2.3.2 (rfc822), RFC 6533 §3 (utf-8 for internationalised addresses).
    flat = re.sub(r"[\x00-\x1f\x7f]+", "", address)[:_MAX_FIELD]
    if flat.isascii():
        return f"rfc822; {flat}"
    # RFC 6533 §3: in an ASCII delivery-status field, each non-ASCII character is written as \x{HEX}.
    return "utf-8; " + "".join(c if c.isascii() else f"\\x{{{ord(c):X}}}" for c in flat)


def original_headers(raw: bytes) -> bytes:
    """The header section of `raw` (up to the first empty line), CRLF line ends, at most MAX_ORIGINAL_HEADERS."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head = raw[: match.start()] if match else raw
    if head.startswith((b"\r\n", b"\n")):
        head = b""
    head = head[:MAX_ORIGINAL_HEADERS]
    if len(head) == MAX_ORIGINAL_HEADERS and b"\n" in head:
        head = head[: head.rindex(b"\n")]
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    return b"\r\n".join(lines) + b"\r\n" if head else b""


def _human(action: str, recipients: Sequence[DsnRecipient], reporting_mta: str, subject: str) -> str:
    listing = "\n".join(
        f"  <{r.address}>: {_status(r.status, action)}" + (f" {_ascii(r.diagnostic, 300)}" if r.diagnostic else "")
        for r in recipients
    )
    about = f"Subject: {subject}\n\n" if subject else ""
    if action == "failed":
        return (
            f"This is the mail system at {reporting_mta}.\n\n"
            "Your message could not be delivered to one or more recipients. It has been returned\n"
            "(its headers are attached). No further attempts will be made for these recipients.\n\n"
            f"{about}{listing}\n\n"
            f"这是 {reporting_mta} 上的邮件系统。\n\n"
            "您的邮件无法投递给以下收件人，已被退回（附上原邮件的信头）。系统不会再尝试投递。\n\n"
            f"{listing}\n"
        )
    return (
        f"This is the mail system at {reporting_mta}.\n\n"
        "Your message has not yet been delivered to the recipients below. The mail system will keep\n"
        "trying; you do not need to send it again. You will be told if it finally fails.\n\n"
        f"{about}{listing}\n\n"
        f"这是 {reporting_mta} 上的邮件系统。\n\n"
        "您的邮件暂时还未投递给以下收件人。系统会继续尝试投递，您无需重新发送；如果最终失败，您会收到退信通知。\n\n"
        f"{listing}\n"
    )


def _subject_of(headers: bytes) -> str:
    match = re.search(rb"(?im)^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", headers)
    if not match:
        return ""
    return _ascii(match.group(1).decode("utf-8", "replace"), 200)


def _delivery_status(action: str, recipients: Sequence[DsnRecipient], reporting_mta: str, arrival: int,
                     envelope_id: str | None) -> str:
    # RFC 3464 §2.2: the per-message fields, then §2.3 one block per recipient, blocks separated by empty lines.
    head = [f"Reporting-MTA: dns; {_ascii(reporting_mta, 255)}"]
    if envelope_id:
        head.append(f"Original-Envelope-Id: {_ascii(envelope_id, 100)}")
    head.append(f"Arrival-Date: {_date(arrival)}")
    blocks = ["\r\n".join(head)]
    for r in recipients:
        lines = [f"Final-Recipient: {_address_type(r.address)}", f"Action: {action}",
                 f"Status: {_status(r.status, action)}"]
        if r.remote_mta:
            lines.append(f"Remote-MTA: dns; {_ascii(r.remote_mta, 255)}")
        if r.diagnostic:
            lines.append(f"Diagnostic-Code: smtp; {_ascii(r.diagnostic)}")
        if r.last_attempt is not None:
            lines.append(f"Last-Attempt-Date: {_date(r.last_attempt)}")
        if action == "delayed" and r.will_retry_until is not None:
            lines.append(f"Will-Retry-Until: {_date(r.will_retry_until)}")
        blocks.append("\r\n".join(lines))
    return "\r\n\r\n".join(blocks) + "\r\n"


def build_report(original: bytes, *, action: str, recipients: Sequence[DsnRecipient], reporting_mta: str,
                 sender: str, arrival: int, now: int, envelope_id: str | None = None) -> bytes:
    """A complete DSN message (headers and body) to send to `sender` about `original`.

    `action` is "failed" (a bounce) or "delayed" (a delay notice); anything else is taken as "failed"."""
    action = "delayed" if action == "delayed" else "failed"
    mta = _ascii(reporting_mta, 255) or "localhost"
    headers = original_headers(original)
    subject_line = _subject_of(headers)
    seed = hashlib.sha256(original[:65536] + f"{now}{action}{sender}".encode("utf-8", "replace")).hexdigest()
    boundary = f"=_yizhan_dsn_{seed[:32]}"
    if action == "failed":
        subject = "Undelivered Mail Returned to Sender (退信通知)"
    else:
        subject = "Delayed Mail, still trying (延迟投递通知)"
    to = re.sub(r"[\x00-\x1f\x7f<>]+", "", sender)[:320]
    top = [
        f"From: Mail Delivery System <MAILER-DAEMON@{mta}>",
        f"To: <{to}>",
        "Subject: " + Header(subject, "utf-8").encode(linesep="\r\n"),
        f"Date: {_date(now)}",
        f"Message-ID: <{seed[32:56]}.{now}@{mta}>",
        "Auto-Submitted: auto-replied",  # RFC 3834 §5: never answered automatically.
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="{boundary}"',
    ]
    human = _human(action, recipients, mta, subject_line).replace("\n", "\r\n").encode("utf-8")
    human_b64 = base64.encodebytes(human).replace(b"\n", b"\r\n")
    status = _delivery_status(action, recipients, mta, arrival, envelope_id).encode("ascii", "replace")
    original_cte = b"" if headers.isascii() else b"Content-Transfer-Encoding: 8bit\r\n"
    b = boundary.encode()
    parts = [
        "\r\n".join(top).encode() + b"\r\n\r\n",
        b"This is a MIME-encapsulated delivery status notification.\r\n\r\n",
        b"--" + b + b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Description: Notification\r\n\r\n" + human_b64,
        b"\r\n--" + b + b"\r\nContent-Type: message/delivery-status\r\n"
        b"Content-Description: Delivery report\r\n\r\n" + status,
        b"\r\n--" + b + b"\r\nContent-Type: text/rfc822-headers\r\n" + original_cte +
        b"Content-Description: Headers of the original message\r\n\r\n" + headers,
        b"\r\n--" + b + b"--\r\n",
    ]
    return b"".join(parts)


def build_bounce(original: bytes, *, recipients: Sequence[DsnRecipient], reporting_mta: str, sender: str,
                 arrival: int, now: int, envelope_id: str | None = None) -> bytes:
    """A non-delivery report (RFC 3464 Action: failed)."""
    return build_report(original, action="failed", recipients=recipients, reporting_mta=reporting_mta,
                        sender=sender, arrival=arrival, now=now, envelope_id=envelope_id)


def build_delay_notice(original: bytes, *, recipients: Sequence[DsnRecipient], reporting_mta: str, sender: str,
                       arrival: int, now: int, envelope_id: str | None = None) -> bytes:
    """A delay notice (RFC 3464 Action: delayed): the message is still queued and being retried."""
    return build_report(original, action="delayed", recipients=recipients, reporting_mta=reporting_mta,
                        sender=sender, arrival=arrival, now=now, envelope_id=envelope_id)
