"""The command framer (RFC 9051 §2.2, §4.3; RFC 7888; RFC 3516): literals, continuations, limits, and byte-at-a-time
arrival."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.protocols.imap.reader import (
    CommandFrame,
    CommandReader,
    ContinuationNeeded,
    Event,
    FramingError,
    FramingLimits,
    read_tag,
)


def events(reader: CommandReader, data: bytes) -> list[Event]:
    reader.feed(data)
    out: list[Event] = []
    while (event := reader.next_event()) is not None:
        out.append(event)
    return out


def test_simple_lines_and_pipelining() -> None:
    reader = CommandReader()
    assert events(reader, b"a1 NOOP\r\na2 CAPABILITY\r\na3 LOG") == [CommandFrame(b"a1 NOOP"),
                                                                       CommandFrame(b"a2 CAPABILITY")]
    assert reader.pending
    assert events(reader, b"OUT\r\n") == [CommandFrame(b"a3 LOGOUT")]
    assert not reader.pending


def test_bare_lf_and_blank_lines() -> None:
    reader = CommandReader()
    assert events(reader, b"\r\n\na1 NOOP\n") == [CommandFrame(b"a1 NOOP")]


def test_synchronising_literal_asks_for_continuation() -> None:
    reader = CommandReader()
    assert events(reader, b"A1 LOGIN {5}\r\n") == [ContinuationNeeded("A1", 5)]
    assert events(reader, b"alice {9}\r\n") == [ContinuationNeeded("A1", 9)]
    assert events(reader, b"password1\r\n") == [CommandFrame(b"A1 LOGIN {5}\r\nalice {9}\r\npassword1")]


def test_session_may_refuse_a_literal() -> None:
    reader = CommandReader()
    assert events(reader, b"A1 APPEND INBOX {50}\r\n") == [ContinuationNeeded("A1", 50)]
    reader.abort_command()  # E.g. APPEND before login: the session answers "A1 NO" instead of "+".
    assert not reader.pending
    assert events(reader, b"A2 NOOP\r\n") == [CommandFrame(b"A2 NOOP")]


def test_literal_octets_may_hold_crlf_and_braces() -> None:
    reader = CommandReader()
    body = b"Subject: x {3}\r\n\r\nline\r\n"
    out = events(reader, b"A1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\nA2 NOOP\r\n")
    assert out == [CommandFrame(b"A1 APPEND INBOX {%d+}\r\n" % len(body) + body), CommandFrame(b"A2 NOOP")]


def test_non_synchronising_and_literal8_and_zero_length() -> None:
    reader = CommandReader()
    out = events(reader, b"A1 APPEND INBOX ~{3+}\r\na\x00b ~{0}\r\n")
    assert out == [ContinuationNeeded("A1", 0)]
    assert events(reader, b"\r\n") == [CommandFrame(b"A1 APPEND INBOX ~{3+}\r\na\x00b ~{0}\r\n")]


def test_ios_search_with_chinese_literal_plus() -> None:
    reader = CommandReader()
    data = "A3 SEARCH CHARSET UTF-8 TEXT {6+}\r\n北京\r\n".encode()
    assert events(reader, data) == [CommandFrame(data[:-2])]


def test_100_mb_literal_refused_before_reading() -> None:
    reader = CommandReader()
    out = events(reader, b"A1 APPEND INBOX {104857600}\r\nA2 NOOP\r\n")
    assert out == [FramingError("A1", "literal too large", fatal=False, toobig=True), CommandFrame(b"A2 NOOP")]


def test_non_synchronising_literal_too_large_is_fatal() -> None:
    reader = CommandReader()
    out = events(reader, b"A1 APPEND INBOX {104857600+}\r\nxxxx")
    assert out == [FramingError("A1", "literal too large", fatal=True, toobig=True)]


def test_literal_minus_limit() -> None:
    reader = CommandReader(literal_minus=True)
    assert events(reader, b"A1 LOGIN {4096+}\r\n" + b"x" * 4096 + b" y\r\n")[0] == CommandFrame(
        b"A1 LOGIN {4096+}\r\n" + b"x" * 4096 + b" y")
    out = events(reader, b"A2 APPEND INBOX {4097+}\r\n")
    assert len(out) == 1 and isinstance(out[0], FramingError) and out[0].fatal and out[0].tag == "A2"


def test_minus_syntax_is_not_a_literal() -> None:
    # RFC 7888 has no "{n-}": the line is a complete (bad) command for the parser to refuse.
    reader = CommandReader()
    assert events(reader, b"A1 LOGIN {5-}\r\n") == [CommandFrame(b"A1 LOGIN {5-}")]


def test_line_too_long_is_fatal_even_without_newline() -> None:
    reader = CommandReader(FramingLimits(max_line=100))
    out = events(reader, b"A1 SEARCH " + b"x" * 200)
    assert out == [FramingError("A1", "line too long", fatal=True)]
    reader = CommandReader(FramingLimits(max_line=100))
    assert events(reader, b"A1 NOOP" + b" " * 93 + b"\r\n") == [CommandFrame(b"A1 NOOP" + b" " * 93)]


def test_total_command_size() -> None:
    reader = CommandReader(FramingLimits(max_line=100, max_literal=50, max_command=100))
    out = events(reader, b"A1 APPEND INBOX {40}\r\n")
    assert out == [ContinuationNeeded("A1", 40)]
    out = events(reader, b"x" * 40 + b" {40}\r\n")
    assert out == [FramingError("A1", "literal too large", fatal=False, toobig=True)]


def test_unterminated_literal_waits() -> None:
    reader = CommandReader()
    assert events(reader, b"A1 LOGIN {10+}\r\nabc") == []
    assert reader.pending


def test_read_tag() -> None:
    assert read_tag(b"A001 NOOP") == "A001"
    assert read_tag(b"a.b]c NOOP") == "a.b]c"
    assert read_tag(b"+ NOOP") is None
    assert read_tag(b"A{1 NOOP") is None
    assert read_tag(b"") is None
    assert read_tag(b"\xe4 NOOP") is None


@settings(max_examples=200)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=40))
def test_split_anywhere_gives_the_same_frames(cuts: list[int]) -> None:
    stream = (b"A1 LOGIN {5}\r\nalice {9+}\r\npassword1\r\nA2 APPEND INBOX (\\Seen) ~{4+}\r\nab\r\n ~{2}\r\n"
              b"cd\r\nA3 NOOP\r\n")
    whole = [e for e in events(CommandReader(), stream) if isinstance(e, CommandFrame)]
    reader = CommandReader()
    got: list[Event] = []
    pos = 0
    for cut in cuts * 20:
        if pos >= len(stream):
            break
        got += events(reader, stream[pos:pos + cut])
        pos += cut
    got += events(reader, stream[pos:])
    assert [e for e in got if isinstance(e, CommandFrame)] == whole
    assert len(whole) == 3


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    reader = CommandReader(FramingLimits(max_line=64, max_literal=32, max_command=128))
    for event in events(reader, data):
        assert isinstance(event, CommandFrame | ContinuationNeeded | FramingError)
