"""HTML to text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.mail.htmltext import html_to_text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Hello</p><p>World</p>", "Hello\nWorld"),
        ("<pre>line1\nline2</pre>", "line1\nline2"),
        ("one\ntwo", "one two"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<script>var x = '<p>no</p>';</script>shown", "shown"),
        ("<style>p { color: red }</style><p>styled</p>", "styled"),
        ("<html><head><title>T</title><meta x></head><body>body</body></html>", "body"),
        ("<head><title>unclosed head<body>still shown", "still shown"),
        ("caf&eacute; &amp; &#20013;&#x6587; &nbsp;x", "café & 中文 x"),
        ("  lots   of \n\t spaces  ", "lots of spaces"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
        ("<img alt='logo' src=x>", "logo"),
        ("<div><div><div>deep</div></div></div>", "deep"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("<![CDATA[x]]><!-- comment -->text", "text"),
        ("", ""),
        ("<", "<"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@given(st.text())
def test_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


@given(st.lists(st.sampled_from(["<p>", "</p>", "<script>", "</script>", "<b>", "x", "&amp;", "<br/>", "<!--"])))
def test_never_raises_on_tag_soup(parts: list[str]) -> None:
    assert isinstance(html_to_text("".join(parts)), str)
