"""IMAP strings, ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2) and part offsets."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.mail.imapformat import (
    body_start_of,
    find_section,
    imap_string,
    imap_structure,
    parse_structure,
    parse_top_bounds,
    scan_headers,
)

Sexp = Any


def read_sexp(text: str) -> Sexp:
    """A small reader for IMAP response data: NIL, numbers, atoms, quoted strings, literals and lists."""
    data = text.encode("utf-8")
    value, pos = _read(data, 0)
    assert pos == len(data), f"trailing data at {pos}: {data[pos : pos + 40]!r}"
    return value


def _read(data: bytes, pos: int) -> tuple[Sexp, int]:
    c = data[pos : pos + 1]
    if c == b"(":
        items = []
        pos += 1
        while data[pos : pos + 1] != b")":
            if data[pos : pos + 1] == b" ":
                pos += 1
                continue
            assert pos < len(data), "unterminated list"
            item, pos = _read(data, pos)
            items.append(item)
        return items, pos + 1
    if c == b'"':
        out = bytearray()
        pos += 1
        while data[pos : pos + 1] != b'"':
            assert pos < len(data), "unterminated quoted string"
            if data[pos : pos + 1] == b"\\":
                pos += 1
                assert data[pos : pos + 1] in (b"\\", b'"')
            assert data[pos] not in (0, 10, 13)
            out.append(data[pos])
            pos += 1
        return out.decode("utf-8"), pos + 1
    if c == b"{":
        close = data.index(b"}", pos)
        size = int(data[pos + 1 : close])
        assert data[close + 1 : close + 3] == b"\r\n"
        start = close + 3
        return data[start : start + size].decode("utf-8"), start + size
    end = pos
    while end < len(data) and data[end : end + 1] not in (b" ", b")"):
        end += 1
    atom = data[pos:end].decode("ascii")
    assert atom, f"empty atom at {pos}"
    if atom == "NIL":
        return None, end
    return int(atom), end


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "NIL"),
        ("", '""'),
        ("abc", '"abc"'),
        ('say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'),
        ("a\r\nb", "{4}\r\na\r\nb"),
        ("中文", "{6}\r\n中文"),
        (b"\xe4\xb8\xad", "{3}\r\n中"),
        ("nul\x00here", '"nulhere"'),
        ("tab\there", '"tab\there"'),
    ],
)
def test_imap_string(value: str | bytes | None, expected: str) -> None:
    assert imap_string(value) == expected


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_imap_string_round_trips(value: str) -> None:
    assert read_sexp(imap_string(value)) == value.replace("\x00", "")


@given(st.binary())
def test_imap_string_bytes_is_well_formed(value: bytes) -> None:
    assert isinstance(read_sexp(imap_string(value)), str)


SIMPLE = (
    b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
    b"From: Terry Gray <gray@cac.washington.edu>\r\n"
    b"Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
    b"To: imap@cac.washington.edu\r\n"
    b"Cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
    b"Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    b"\r\n"
    b"line one\r\nline two\r\nline three\r\n"
)


def test_rfc3501_example_envelope_and_body() -> None:
    envelope, body, bodystructure = imap_structure(SIMPLE)
    # The example of RFC 3501 §7.4.2 (FETCH response), with our placeholders for absent values.
    assert envelope == (
        '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" '
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) '
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) '
        '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL '
        '"<B27397-0100000@cac.washington.edu>")'
    )
    assert body == '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 32 3)'
    assert bodystructure == '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 32 3 NIL NIL NIL NIL)'


NESTED = (
    b'From: a@example.com\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\n'
    b"preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
    b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n"
    b"--inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Language: en, fr\r\n\r\n<p>html</p>\r\n"
    b"--inner--\r\n"
    b"--outer\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
    b"From: b@example.org\r\nSubject: inner message\r\nContent-Type: text/plain\r\n\r\ninner body\r\n"
    b'--outer\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
    b'Content-Disposition: attachment; filename="a.pdf"\r\nContent-ID: <cid1>\r\n\r\nJVBERi0=\r\n'
    b"--outer--\r\nepilogue\r\n"
)


def test_nested_bodystructure() -> None:
    _, body, bodystructure = imap_structure(NESTED)
    parsed = read_sexp(bodystructure)
    alternative, rfc822, pdf = parsed[0], parsed[1], parsed[2]
    assert parsed[3] == "MIXED" and parsed[4] == ["BOUNDARY", "outer"]
    assert alternative[0][:2] == ["TEXT", "PLAIN"] and alternative[0][6] == len(b"plain text")
    assert alternative[1][:2] == ["TEXT", "HTML"] and alternative[1][-2] == ["en", "fr"]
    assert alternative[2] == "ALTERNATIVE"
    assert rfc822[:2] == ["MESSAGE", "RFC822"]
    assert rfc822[7][1] == "inner message"  # The encapsulated message's envelope.
    assert rfc822[8][:2] == ["TEXT", "PLAIN"]
    assert rfc822[9] == 5  # Lines of the encapsulated message.
    assert rfc822[11] == ["INLINE", None]
    assert pdf[:7] == ["APPLICATION", "PDF", ["NAME", "a.pdf"], "<cid1>", None, "BASE64", 8]
    assert pdf[8] == ["ATTACHMENT", ["FILENAME", "a.pdf"]]
    # BODY has the same shape without extension data.
    assert read_sexp(body)[2] == ["APPLICATION", "PDF", ["NAME", "a.pdf"], "<cid1>", None, "BASE64", 8]


def _email_leaves(message: email.message.Message) -> list[bytes]:
    out = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload()
        out.append(payload.encode("ascii", "surrogateescape") if isinstance(payload, str) else b"")
    return out


@pytest.mark.parametrize("raw", [SIMPLE, NESTED, NESTED.replace(b"\r\n", b"\n")])
def test_part_offsets_match_the_email_package(raw: bytes) -> None:
    root = parse_structure(raw)
    leaves = []

    def walk(part: Any) -> None:
        if part.parts:
            for child in part.parts:
                walk(child)
        elif part.message is not None:
            walk(part.message)
        else:
            leaves.append(raw[part.body_start : part.end])

    walk(root)
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert leaves == _email_leaves(message)


def test_find_section() -> None:
    root = parse_structure(NESTED)
    part = find_section(root, (1, 2))
    assert part is not None and NESTED[part.body_start : part.end] == b"<p>html</p>"
    inner = find_section(root, (2, 1))
    assert inner is not None and NESTED[inner.body_start : inner.end] == b"inner body"
    pdf = find_section(root, (3,))
    assert pdf is not None and NESTED[pdf.start : pdf.body_start].startswith(b"Content-Type: application/pdf")
    assert find_section(root, (4,)) is None
    simple = parse_structure(SIMPLE)
    assert find_section(simple, (1,)) is simple
    assert find_section(simple, (2,)) is None


def test_groups_and_defaults_in_envelope() -> None:
    raw = b"From: x@y.z\r\nTo: undisclosed-recipients:;\r\nSender:\r\nReply-To: r@y.z\r\n\r\n"
    envelope = read_sexp(imap_structure(raw)[0])
    assert envelope[3] == envelope[2] == [[None, None, "x", "y.z"]]
    assert envelope[4] == [[None, None, "r", "y.z"]]
    assert envelope[5] == [[None, None, "undisclosed-recipients", None], [None, None, None, None]]


def test_raw_8bit_header_becomes_literal() -> None:
    raw = "Subject: 季度报告\r\nFrom: 张三 <z@x.cn>\r\n\r\nbody".encode()
    envelope = read_sexp(imap_structure(raw)[0])
    assert envelope[1] == "季度报告"
    assert envelope[2] == [["张三", None, "z", "x.cn"]]


def test_missing_and_truncated_boundaries_stay_well_formed() -> None:
    for raw in (
        b"Content-Type: multipart/mixed\r\n\r\nno boundary",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\nnever used",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\ncut",
        b"Content-Type: message/rfc822\r\n\r\n",
    ):
        _, body, bodystructure = imap_structure(raw)
        read_sexp(body)
        read_sexp(bodystructure)


@given(st.binary(max_size=2000))
def test_structure_well_formed_on_arbitrary_bytes(raw: bytes) -> None:
    envelope, body, bodystructure = imap_structure(raw)
    assert len(read_sexp(envelope)) == 10
    read_sexp(body)
    read_sexp(bodystructure)


@given(st.one_of(st.binary(max_size=600), st.lists(st.sampled_from(
    [b"Subject: x\r\n", b"From: a@b\n", b" folded\r\n", b"\r\n", b"\n", b"not a header\r\n", b"From mbox\n",
     b"X: \xe4\xb8\xad\r\n", b"body\r\n"]), max_size=12).map(b"".join)))
def test_top_level_header_ends_where_the_full_parse_says(raw: bytes) -> None:
    # FETCH BODY[HEADER] and BODY[TEXT] use the cheap top-level parse; it must cut the message where the full one
    # does, or a client would see different bytes depending on the other items it asked for.
    full, top = parse_structure(raw), parse_top_bounds(raw)
    assert (top.start, top.body_start, top.end) == (full.start, full.body_start, full.end)
    assert body_start_of(raw) == scan_headers(raw, 0, len(raw))[1] == full.body_start
