"""mail/mdn.py on its own: the RFC 8098 structure, and no input can add a header field or make it raise."""

from __future__ import annotations

import email
from email.header import decode_header, make_header

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.mail.mdn import build_mdn

ORIGINAL = (b"From: Bob <bob@example.org>\r\nSubject: =?utf-8?B?5Lya6K6u?=\r\nMessage-ID: <abc@example.org>\r\n"
            b"Disposition-Notification-To: bob@example.org\r\n\r\nbody text that stays out of the receipt\r\n")


def test_structure_of_a_receipt() -> None:
    raw = build_mdn(ORIGINAL, reader="alice@example.com", reader_name="王小明", to=[("Bob", "bob@example.org")],
                    subject="会议", original_message_id="<abc@example.org>", reporting_ua="mx.example.com; Yizhan",
                    now=1_700_000_000)
    message = email.message_from_bytes(raw)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "disposition-notification"
    assert str(make_header(decode_header(message["From"]))) == "王小明 <alice@example.com>"
    assert message["To"] == "Bob <bob@example.org>"
    assert str(make_header(decode_header(message["Subject"]))) == "Read: 会议"
    assert message["In-Reply-To"] == message["References"] == "<abc@example.org>"
    assert [part.get_content_type() for part in message.get_payload()] == [
        "text/plain", "message/disposition-notification", "text/rfc822-headers"]
    human = message.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert "alice@example.com" in human and "已读回执" in human
    text = raw.decode("utf-8")
    assert "Reporting-UA: mx.example.com; Yizhan\r\n" in text
    assert "Final-Recipient: rfc822;alice@example.com\r\n" in text
    assert "Original-Message-ID: <abc@example.org>\r\n" in text
    assert "Disposition: manual-action/MDN-sent-manually; displayed\r\n" in text
    assert "body text that stays out" not in text  # only the original's header section is returned
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_hostile_values_cannot_add_header_fields() -> None:
    raw = build_mdn(ORIGINAL, reader="alice@example.com", reader_name="Eve\r\nBcc: victim@example.net",
                    to=[("X\r\nX-Evil: 1", "bob@example.org")], subject="hi\r\nBcc: victim@example.net",
                    original_message_id="<a>\r\nX-Evil: 2", reporting_ua="ua\r\nX-Evil: 3", now=0)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]
    assert "Bcc" not in names and "X-Evil" not in names
    assert "In-Reply-To" not in names  # a Message-ID that cannot be written safely is left out
    assert b"\r\nX-Evil" not in raw.split(b"--=_yizhan_mdn_", 2)[2]  # nor in the report fields


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.text(max_size=60), st.text(max_size=60), st.text(max_size=80),
       st.integers(min_value=-2**40, max_value=2**40))
def test_never_raises(original: bytes, name: str, subject: str, message_id: str, now: int) -> None:
    raw = build_mdn(original, reader="alice@example.com", reader_name=name, to=[(name, "bob@example.org")],
                    subject=subject, original_message_id=message_id, reporting_ua=name, now=now)
    assert raw.startswith(b"From: ") and raw.endswith(b"--\r\n")
