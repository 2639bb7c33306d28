"""Charset decoding: wrong labels, unknown charsets, RFC 2047 words split mid-character, raw 8-bit headers."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.mail.charsets import b64decode_loose, decode_bytes, decode_header_value, resolve_charset


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("朱镕基".encode("gbk"), "gb2312", "朱镕基"),
        ("啰嗦".encode("gbk"), "GB2312", "啰嗦"),
        ("你好".encode("gbk"), "x-gbk", "你好"),
        ("你好".encode("gbk"), "cp936", "你好"),
        ("臺灣".encode("big5"), "big5", "臺灣"),
        ("你好".encode(), None, "你好"),
        ("你好".encode("gbk"), None, "你好"),
        ("你好".encode(), "x-unknown", "你好"),
        ("你好".encode(), "us-ascii", "你好"),
        ("你好".encode("gbk"), "utf-8", "你好"),
        ("café".encode("latin-1"), "iso-8859-1", "café"),
        (b"plain", "base64", "plain"),
        (b"plain", "rot13", "plain"),
        (b"", "utf-8", ""),
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, expected: str) -> None:
    assert decode_bytes(data, charset) == expected


def test_resolve_charset_aliases() -> None:
    assert resolve_charset("GB2312") == "gb18030"
    assert resolve_charset('"gbk"') == "gb18030"
    assert resolve_charset("big5") == "big5hkscs"
    assert resolve_charset("utf-8*en") == "utf-8"
    assert resolve_charset("idna") is None
    assert resolve_charset("no-such-charset") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?UTF-8?B?5YyX5Lqs?=", "北京"),
        # Split in the middle of a character, across base64 words and across a fold.
        ("=?UTF-8?B?5YyX?= =?UTF-8?B?5Lqs?=\r\n =?UTF-8?Q?=E4=BC=9A=E8=AE?= =?UTF-8?Q?=AE?=", "北京会议"),
        ("=?gb2312?B?" + "xOO6ww==" + "?=", "你好"),
        ("=?utf-8?q?hello_world?=", "hello world"),
        ("Re: =?utf-8?q?caf=C3=A9?= time", "Re: café time"),
        ("=?utf-8?q?a?=  =?iso-8859-1?q?b?=", "ab"),
        ("=?utf-8*en?q?lang?=", "lang"),
        ("=?bogus?q?x?=", "x"),
        ("=?utf-8?b?5YyX5Lq?=", "北\ufffd"),
        ("no words here", "no words here"),
        ("季度".encode().decode("ascii", "surrogateescape"), "季度"),
        ("年终".encode("gbk").decode("ascii", "surrogateescape"), "年终"),
        ("年终".encode("gbk"), "年终"),
        ("multi\r\n line", "multi line"),
    ],
)
def test_decode_header_value(raw: str | bytes, expected: str) -> None:
    assert decode_header_value(raw) == expected


def test_b64decode_loose() -> None:
    assert b64decode_loose(b"aGVsbG8=") == b"hello"
    assert b64decode_loose(b"aGVs\r\nbG8") == b"hello"
    assert b64decode_loose(b"aGVsbG8gd2") == b"hello w"
    assert b64decode_loose(b"!!aGVs*bG8=") == b"hello"
    assert b64decode_loose(b"a") == b""


@given(st.binary(), st.one_of(st.none(), st.text(max_size=20)))
def test_decode_bytes_never_raises(data: bytes, charset: str | None) -> None:
    text = decode_bytes(data, charset)
    text.encode("utf-8")


@given(st.one_of(st.text(), st.binary()))
def test_decode_header_never_raises(raw: str | bytes) -> None:
    decode_header_value(raw).encode("utf-8")


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1),
    st.integers(min_value=1, max_value=7),
    st.sampled_from(["utf-8", "gb18030"]),
)
def test_split_encoded_words_round_trip(text: str, chunk: int, charset: str) -> None:
    """Words cut at any byte, even inside a character, decode to the original text (RFC 2047 §5 misuse)."""
    data = text.encode(charset)
    words = [f"=?{charset}?B?{base64.b64encode(data[i : i + chunk]).decode()}?=" for i in range(0, len(data), chunk)]
    assert decode_header_value("\r\n ".join(words)) == text
