"""DSN builders (RFC 3464): structure a mail client and a remote MTA can read, for any input, never raising."""

from __future__ import annotations

import base64
import email
from email import policy
from email.message import Message

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mail.malformed import malformed_corpus
from tests.mailfactory import make_message
from yizhan.mail.dsn import DsnRecipient, build_bounce, build_delay_notice, original_headers


def parse(raw: bytes) -> tuple[Message, list[Message]]:
    message = email.message_from_bytes(raw, policy=policy.compat32)
    parts = message.get_payload()
    assert isinstance(parts, list)
    return message, parts


def test_bounce_is_a_multipart_report_with_three_parts() -> None:
    original = make_message(subject="Quarterly numbers", sender="alice@example.com", to="bob@example.net",
                            body="secret body text")
    raw = build_bounce(original, recipients=[DsnRecipient("bob@example.net", "5.1.1", "550 5.1.1 no such user",
                                                          "mx.example.net", 1_700_000_100)],
                       reporting_mta="mail.example.com", sender="alice@example.com", arrival=1_700_000_000,
                       now=1_700_000_200, envelope_id="abc123")
    message, (human, status, headers) = parse(raw)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    assert message["To"] == "<alice@example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert "MAILER-DAEMON@mail.example.com" in message["From"]
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert "Undelivered" in subject and "退信" in subject

    assert human.get_content_type() == "text/plain"
    text = base64.b64decode(human.get_payload()).decode("utf-8")
    assert "could not be delivered" in text and "无法投递" in text and "bob@example.net" in text

    assert status.get_content_type() == "message/delivery-status"
    fields = status.as_string()
    for line in ("Reporting-MTA: dns; mail.example.com", "Original-Envelope-Id: abc123", "Arrival-Date: ",
                 "Final-Recipient: rfc822; bob@example.net", "Action: failed", "Status: 5.1.1",
                 "Remote-MTA: dns; mx.example.net", "Diagnostic-Code: smtp; 550 5.1.1 no such user",
                 "Last-Attempt-Date: "):
        assert line in fields, line

    assert headers.get_content_type() == "text/rfc822-headers"
    assert "Subject: Quarterly numbers" in headers.get_payload()
    assert b"secret body text" not in raw, "only the original's headers are returned"
    assert all(line.endswith(b"\r") or not line for line in raw.split(b"\n")[:-1]), "CRLF line ends"


def test_delay_notice_says_delayed_and_until_when() -> None:
    raw = build_delay_notice(make_message(), recipients=[
        DsnRecipient("x@example.net", "4.4.1", "421 4.4.1 no answer", will_retry_until=1_700_400_000)],
        reporting_mta="mail.example.com", sender="a@example.com", arrival=1_700_000_000, now=1_700_014_400)
    _, (human, status, _) = parse(raw)
    fields = status.as_string()
    assert "Action: delayed" in fields and "Status: 4.4.1" in fields and "Will-Retry-Until: " in fields
    text = base64.b64decode(human.get_payload()).decode("utf-8")
    assert "will keep\r\ntrying" in text and "暂时还未投递" in text


def test_hostile_values_stay_on_one_ascii_line() -> None:
    raw = build_bounce(b"Subject: x\r\n\r\nbody", recipients=[
        DsnRecipient("用户@例子.测试", "not-a-status", "550 line one\r\nInjected: header\x00", "mx\r\nEvil: 1")],
        reporting_mta="mail.example.com\r\nX: y", sender="a@example.com\r\nBcc: victim@example.org", arrival=0,
        now=0)
    _, (_, status, _) = parse(raw)
    fields = status.as_string()
    assert r"Final-Recipient: utf-8; \x{7528}\x{6237}@\x{4F8B}\x{5B50}.\x{6D4B}\x{8BD5}" in fields
    assert "Status: 5.0.0" in fields
    assert "\nInjected:" not in fields and "\nEvil:" not in fields and "\nX: y" not in raw.decode("utf-8", "replace")
    assert b"\nBcc:" not in raw


def test_original_headers_are_cut_and_normalised() -> None:
    assert original_headers(b"A: 1\nB: 2\n\nbody") == b"A: 1\r\nB: 2\r\n"
    assert original_headers(b"no blank line at all") == b"no blank line at all\r\n"
    assert original_headers(b"") == b""
    big = b"".join(b"X-Filler: %d\r\n" % n for n in range(20000)) + b"\r\nbody"
    cut = original_headers(big)
    assert len(cut) <= 64 * 1024 + 2 and cut.endswith(b"\r\n") and cut.startswith(b"X-Filler: 0\r\n")


def test_malformed_originals_never_raise() -> None:
    for raw in malformed_corpus().values():
        parse(build_bounce(raw, recipients=[DsnRecipient("x@example.net", "5.0.0")], reporting_mta="m",
                           sender="a@example.com", arrival=0, now=0))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.text(max_size=80), st.text(max_size=200), st.integers(-2**63, 2**63))
def test_never_raises(original: bytes, address: str, diagnostic: str, when: int) -> None:
    raw = build_bounce(original, recipients=[DsnRecipient(address, diagnostic, diagnostic, address, when, when)],
                       reporting_mta=address, sender=address, arrival=when, now=when)
    assert raw.startswith(b"From: ")
