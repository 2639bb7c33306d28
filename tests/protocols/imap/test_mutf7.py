"""Modified UTF-7 (RFC 3501 §5.1.3): the RFC's examples, Chinese names, strictness, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.protocols.imap import mutf7
from yizhan.protocols.imap.errors import ParseError


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("INBOX", "INBOX"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 §5.1.3.
        ("Entwürfe", "Entw&APw-rfe"),
        ("已发送", "&XfJT0ZAB-"),
        ("A&B", "A&-B"),
        ("&", "&-"),
        ("😀", "&2D3eAA-"),
        ("", ""),
    ],
)
def test_known_forms(text: str, encoded: str) -> None:
    assert mutf7.encode(text) == encoded
    assert mutf7.decode(encoded) == text


@pytest.mark.parametrize(
    "bad",
    [
        "&Jjo!",  # Unterminated shift with an invalid character.
        "&U,BTFw",  # Unterminated shift.
        "&AGE-&AGE-",  # Two adjacent shifts must be one.
        "&AEE-",  # Printable ASCII ("A") must not be encoded.
        "&ZeVnLIqe=-",  # Padding is not used.
        "&Z-",  # Truncated BASE64.
        "&ZeV-",  # Non-zero padding bits.
        "&AOEA-",  # An odd number of octets.
        "&2D0-",  # An unpaired high surrogate.
        "&AOE/-",  # "/" is not modified BASE64.
        "日本",  # Raw 8-bit characters.
        "tab\there",  # Control characters.
        "&AOF-",  # Non-zero padding bits.
    ],
)
def test_strict_decoding(bad: str) -> None:
    with pytest.raises(ParseError):
        mutf7.decode(bad)


_unicode = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(_unicode)
def test_round_trip(text: str) -> None:
    encoded = mutf7.encode(text)
    assert encoded.isascii()
    assert mutf7.decode(encoded) == text


@given(st.text(st.sampled_from("&-AZaz09+,/!é日 "), max_size=20))
def test_decode_raises_only_parse_error_and_is_canonical(text: str) -> None:
    try:
        decoded = mutf7.decode(text)
    except ParseError:
        return
    assert mutf7.encode(decoded) == text
