"""Builds test messages as raw bytes (CRLF line endings), the way a sender would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def make_message(
    subject: str = "Hello",
    body: str = "Hello there.",
    sender: str = "Bob <bob@example.org>",
    to: str = "alice@example.com",
    date: datetime | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


CONVERSATION_START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def conversation_messages(count: int, threads: int, tag: str) -> list[bytes]:
    """`count` messages in `threads` conversations: message n replies to message n % threads (the root, which
    replies to nothing), subjects "t<root>", Message-IDs "<tag><n>@x.org", dates within a few hours of
    CONVERSATION_START and out of order, so dates tie and replies may predate their roots."""
    return [make_message(subject=f"t{n % threads}", message_id=f"<{tag}{n}@x.org>",
                         date=CONVERSATION_START + timedelta(hours=(n * 5) % 7),
                         in_reply_to=f"<{tag}{n % threads}@x.org>" if n >= threads else None)
            for n in range(count)]
