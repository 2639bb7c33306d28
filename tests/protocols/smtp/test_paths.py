"""The fast path reading of MAIL/RCPT arguments answers exactly as aiosmtpd's full parser, or leaves it the case."""

from __future__ import annotations

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.protocols.smtp.paths import simple_path


def full_parser(arg: str) -> tuple[str | None, str | None]:
    """aiosmtpd's own `_getaddr` (it reads only `local_part_limit` from the instance; 0 means no limit)."""
    smtp = SMTP.__new__(SMTP)
    smtp.local_part_limit = 0
    return SMTP._getaddr(smtp, arg)


@pytest.mark.parametrize("arg", [
    "<bench1@localhost>", "<sender@example.org> BODY=8BITMIME", "<a.b+tag@mx-1.example.com>  SIZE=100 ",
    "<o'neil@example.com>", "<A@B>", "<a@-b>", "<x@y>X=1",
])
def test_plain_paths_take_the_fast_path_with_the_same_answer(arg: str) -> None:
    assert simple_path(arg) is not None
    assert simple_path(arg) == full_parser(arg)


@pytest.mark.parametrize("arg", [
    "", "<>", " <a@b>", "a@b", "<a@b.>", "<.a@b>", "<a..b@c>", '<"q r"@b>', "<a@[127.0.0.1]>", "<@x,@y:a@b>",
    "<a@b> (comment) X=1", "<a@b>\tX=1", "<张三@例子.中国>", "<a@b", "a@b>", "<a@b> X=\x00",
])
def test_anything_unusual_is_left_to_the_full_parser(arg: str) -> None:
    assert simple_path(arg) is None


_PIECES = st.sampled_from(["a", "Z", "0", ".", "@", "-", "+", "'", "<", ">", " ", "\t", "(", ")", '"', "\\", "[",
                           "]", ":", ",", "=", "é", "张", "x@y", "<a@b>", "SIZE=1"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_fast_path_never_disagrees_with_the_full_parser(arg: str) -> None:
    fast = simple_path(arg)
    if fast is not None:
        assert fast == full_parser(arg)


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"<[a-z0-9.+_-]{1,10}@[a-z0-9.-]{1,10}>[ ]{0,2}[A-Z0-9= ]{0,12}", fullmatch=True))
def test_fast_path_agrees_on_generated_plain_paths(arg: str) -> None:
    fast = simple_path(arg)
    if fast is not None:
        assert fast == full_parser(arg)
