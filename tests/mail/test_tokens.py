"""Tests for yizhan.mail.tokens against a real in-memory SQLite FTS5 table using the unicode61 tokenizer."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.mail.tokens import column_expression, index_text, index_tokens, match_expression

TOKENIZE = "unicode61 remove_diacritics 2"


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, subject, tokenize={TOKENIZE!r})")
    yield conn
    conn.close()


def matches(conn: sqlite3.Connection, document: str, query: str, *, prefix: bool = True) -> bool:
    """Whether `match_expression(query)` finds a row whose body holds `index_text(document)`."""
    expression = match_expression(query, prefix=prefix)
    assert expression is not None, query
    return run(conn, {"body": index_text(document)}, expression)


def run(conn: sqlite3.Connection, row: dict[str, str], expression: str) -> bool:
    """Insert one row, run one MATCH and remove the row again, so tests do not see each other's rows."""
    conn.execute("DELETE FROM t")
    conn.execute(
        "INSERT INTO t(rowid, body, subject) VALUES (1, ?, ?)", (row.get("body", ""), row.get("subject", ""))
    )
    return conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall() == [(1,)]


# Table of (document, query, prefix, expected).
CASES: list[tuple[str, str, bool, bool]] = [
    ("明天在北京会议室开会", "北京", True, True),
    ("明天在北京会议室开会", "会议", True, True),
    ("明天在北京会议室开会", "北京会议", True, True),
    ("明天在北京会议室开会", "京", True, True),
    ("明天在北京会议室开会", "会", True, True),
    ("明天在北京会议室开会", "室", True, True),
    ("明天在北京会议室开会", "上海", True, False),
    ("上海分公司", "上海", True, True),
    ("北京市", "市", True, True),
    ("北京", "北京会议", True, False),
    ("北京。会议", "北京", True, True),
    ("北京。会议", "会议", True, True),
    ("北京。会议", "京会", True, False),
    ("北京 会议", "京会", True, False),
    ("北京。会议", '"北京。会议"', True, True),
    ("北京。会议", '"北京 会议"', True, True),
    ("会议纪要", "会议 纪要", True, True),
    ("The quarterly budget review", "budget", True, True),
    ("The quarterly budget review", "BUDGET", True, True),
    ("The quarterly budget review", "budg", True, True),
    ("The quarterly budget review", "budg", False, False),
    ("The quarterly budget review", "budget", False, True),
    ("The quarterly budget review", '"quarterly budget"', True, True),
    ("The quarterly budget review", '"budget quarterly"', True, False),
    ("The quarterly budget review", "review quarterly", True, True),
    ("The quarterly budget review", "forecast", True, False),
    ("会议 agenda for Monday", "会议 agenda", True, True),
    ("会议 agenda for Monday", "会议 minutes", True, False),
    ("会议agenda", "agenda", True, True),
    ("会议agenda", "会议", True, True),
    ("会议agenda", "会议agenda", True, True),
    ("会议agenda", "议agenda", True, True),
    ("东京都の会議について", "東京", True, False),
    ("東京都の会議について", "東京", True, True),
    ("東京都の会議について", "会議", True, True),
    ("東京都の会議について", "について", True, True),
    ("コーヒーを飲む", "コーヒー", True, True),
    ("ｺｰﾋｰを飲む", "コーヒー", True, True),
    ("회의 일정을 확인하세요", "회의", True, True),
    ("회의 일정을 확인하세요", "일정", True, True),
    ("회의 일정을 확인하세요", "정을", True, True),
    ("ＡＢＣ公司", "abc", True, True),
    ("ABC公司", "ＡＢＣ", True, True),
    ("ＡＢＣ公司", "公司", True, True),
    ("Café résumé", "cafe", True, True),
    ("Café résumé", "résumé", True, True),
    ("alice.wong@example.com", "alice", True, True),
    ("alice.wong@example.com", "wong", True, True),
    ("alice.wong@example.com", "example", True, True),
    ("alice.wong@example.com", "alice.wong@example.com", True, True),
    ("alice.wong@example.com", "alice.wong@example.com", False, True),
    ("alice.wong@example.com", "ALICE.WONG@EXAMPLE.COM", True, True),
    ("alice.wong@example.com", "bob.wong@example.com", True, False),
    ("Alice Wong <alice.wong@example.com>, 王小明 <xm.wang@example.cn>", "王小明", True, True),
    ("Alice Wong <alice.wong@example.com>, 王小明 <xm.wang@example.cn>", "xm.wang@example.cn", True, True),
    ("Alice Wong <alice.wong@example.com>, 王小明 <xm.wang@example.cn>", "小", True, True),
    ("报告 2024 年度", "2024", True, True),
    ("2024年度报告", "2024", True, True),
    ("2024年度报告", "2024年度", True, True),
    ("2024年度报告", "202", True, True),
    ("2024年度报告", "2025", True, False),
    ("invoice #2024-001", "2024-001", True, True),
    ("snake_case_name", "case", True, True),
    ("北京会议", "北京 上海", True, False),
]


@pytest.mark.parametrize(("document", "query", "prefix", "expected"), CASES)
def test_table(db: sqlite3.Connection, document: str, query: str, prefix: bool, expected: bool) -> None:
    assert matches(db, document, query, prefix=prefix) is expected


def unicode61_tokens(text: str) -> list[str]:
    """The tokens SQLite's unicode61 tokenizer makes of `text`, read back through an fts5vocab table."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    db.execute("INSERT INTO t(body) VALUES (?)", (text,))
    return [row[0] for row in db.execute("SELECT term FROM v ORDER BY offset")]


@pytest.mark.parametrize(("text", "tokens"), [
    ("北京会议", ["北京", "京会", "会议", "议"]),
    ("北", ["北"]),
    ("北京。会议", ["北京", "京", "会议", "议"]),
    ("ＡＢＣ", ["abc"]),
    ("alice.wong@example.com", ["alice", "wong", "example", "com"]),
    ("会议agenda", ["会议", "议", "agenda"]),
    ("", []),
    ("!!! ...", []),
    ("Hello 世界", ["hello", "世界", "界"]),
])
def test_index_text_examples(text: str, tokens: list[str]) -> None:
    assert index_tokens(text) == tokens
    assert unicode61_tokens(index_text(text)) == tokens


def test_match_expression_examples() -> None:
    assert match_expression("北京会议") == '"北京 京会 会议"'
    assert match_expression("北") == '"北"*'
    assert match_expression("agenda") == '"agenda"*'
    assert match_expression("agenda", prefix=False) == '"agenda"'
    assert match_expression("会议 agenda") == '"会议" AND "agenda"*'
    assert match_expression('"quarterly report" 北京') == '"quarterly report" AND "北京"'
    assert match_expression("alice.wong@example.com") == '"alice wong example com"*'
    assert match_expression("2024") == '"2024"*'


@pytest.mark.parametrize("query", ["", "   ", "!!!", '""', "* : ^ ( )", "😀", "_", "\u0301", "\u19b0"])
def test_nothing_searchable(query: str) -> None:
    assert match_expression(query) is None
    assert column_expression("body", query) is None


@pytest.mark.parametrize(
    "query",
    [
        'a" OR "b',
        "a OR b",
        "NOT x",
        "x AND",
        "NEAR(a b)",
        "body:secret",
        "subject : x",
        "-x",
        "^start",
        "x*",
        "(x",
        '"unterminated',
        "“curly” quotes",
        "a+b",
        "{body}:x",
    ],
)
def test_syntax_is_neutralised(db: sqlite3.Connection, query: str) -> None:
    expression = match_expression(query)
    assert expression is not None
    # Outside the quoted phrases only AND, spaces and prefix stars may appear.
    outside = re.sub(r'"[^"]*"', "", expression)
    assert set(outside) <= set("AND *"), expression
    run(db, {"body": index_text(query)}, expression)


def test_operators_are_plain_words(db: sqlite3.Connection) -> None:
    assert matches(db, "this OR that", "or")
    assert not matches(db, "this and that", "this OR nothing")


def test_column_expression(db: sqlite3.Connection) -> None:
    row = {"body": index_text("季度报告 body text"), "subject": index_text("Re: 预算 approval")}
    subject_budget = column_expression("subject", "预算")
    assert subject_budget == '"subject" : ("预算")'
    assert run(db, row, subject_budget)
    body_budget = column_expression("body", "预算")
    assert body_budget is not None
    assert not run(db, row, body_budget)
    both = column_expression(("body", "subject"), "approval")
    assert both == '{"body" "subject"} : ("approval"*)'
    assert run(db, row, both)
    subject_report = column_expression("subject", "报告 approval")
    assert subject_report is not None
    assert not run(db, row, subject_report)


# Hypothesis strategies. Han characters from the common block, kana, Hangul, Latin words and separators.
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
CJK_CHAR = st.one_of(
    HAN,
    st.characters(min_codepoint=0x3041, max_codepoint=0x3096),
    st.characters(min_codepoint=0x30A1, max_codepoint=0x30FA),
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
)
CJK_RUN = st.text(CJK_CHAR, min_size=1, max_size=8)
WORD = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éü"),
    min_size=1,
    max_size=8,
)
SEPARATOR = st.sampled_from([" ", "。", "，", ", ", ".", "@", "-", "\n", "！", "\u3000", "・", "(", ")"])
PIECE = st.one_of(CJK_RUN, WORD)


@settings(max_examples=200, deadline=None)
@given(text=st.text(HAN, min_size=2, max_size=40))
def test_every_han_pair_is_found(db: sqlite3.Connection, text: str) -> None:
    stored = index_text(text)
    db.execute("DELETE FROM t")
    db.execute("INSERT INTO t(rowid, body) VALUES (1, ?)", (stored,))
    for i in range(len(text) - 1):
        expression = match_expression(text[i : i + 2])
        assert expression is not None
        assert db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall() == [(1,)], (
            text,
            i,
        )


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.tuples(PIECE, SEPARATOR), min_size=1, max_size=8),
    pick=st.integers(min_value=0),
    start=st.integers(min_value=0),
    length=st.integers(min_value=1),
)
def test_whole_words_and_cjk_substrings_are_found(
    db: sqlite3.Connection, pieces: list[tuple[str, str]], pick: int, start: int, length: int
) -> None:
    # Pieces are separated so that each Latin word and each CJK run is whole in the text.
    text = "".join(piece + sep for piece, sep in pieces)
    piece = pieces[pick % len(pieces)][0]
    if re.fullmatch(r"[A-Za-z0-9éü]+", piece):
        # A whole word, or a prefix of it with prefix matching.
        query = piece[: 1 + length % len(piece)] if length % 2 else piece
        assert matches(db, text, query), (text, query)
        assert matches(db, text, piece, prefix=False), (text, piece)
    else:
        # Any contiguous substring of a CJK run.
        begin = start % len(piece)
        query = piece[begin : begin + 1 + length % (len(piece) - begin)]
        assert matches(db, text, query), (text, query)


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(st.one_of(CJK_CHAR, st.just(" ")), max_size=6),
    words=st.lists(PIECE, min_size=1, max_size=4),
    separators=st.lists(SEPARATOR, min_size=3, max_size=3),
    after=st.text(st.one_of(CJK_CHAR, st.just(" ")), max_size=6),
)
def test_quoted_phrases_are_found(
    db: sqlite3.Connection, before: str, words: list[str], separators: list[str], after: str
) -> None:
    # A quoted phrase is found even when CJK text runs on at either end of it.
    phrase = words[0] + "".join(s + w for s, w in zip(separators, words[1:], strict=False))
    assert matches(db, before + phrase + after, f'"{phrase}"'), (before, phrase, after)


@settings(max_examples=500, deadline=None)
@given(query=st.text(max_size=60), prefix=st.booleans())
def test_junk_never_breaks_fts5(db: sqlite3.Connection, query: str, prefix: bool) -> None:
    expression = match_expression(query, prefix=prefix)
    if expression is None:
        return
    # The expression must be valid FTS5 and must find the text it came from.
    assert run(db, {"body": index_text(query)}, expression), (query, expression)
    colset = column_expression(("body", "subject"), query, prefix)
    assert colset is not None
    assert run(db, {"subject": index_text(query)}, colset)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(
                ['"', "(", ")", "*", ":", "^", "+", "-", "{", "}", " ", "AND", "OR", "NOT", "NEAR"]
            ),
            CJK_CHAR,
            st.characters(),
        ),
        max_size=30,
    )
)
def test_syntax_junk_never_breaks_fts5(db: sqlite3.Connection, parts: list[str]) -> None:
    query = "".join(parts)
    expression = match_expression(query)
    if expression is not None:
        assert run(db, {"body": index_text(query)}, expression), (query, expression)


def test_long_query_is_bounded() -> None:
    expression = match_expression(" ".join(f"w{i}" for i in range(1000)))
    assert expression is not None
    assert expression.count(" AND ") == 63


# Text that takes index_text's fast path (fullwidth punctuation, ideographic space, CJK runs, Latin words) and
# characters that send it to the exact path (halfwidth kana and their voiced marks, Hangul jamo that NFKC composes,
# characters NFKC maps out of the fast path's ranges: ￨ → │, 𤋮 (U+FA6C) → U+242EE; astral CJK).
FAST_PATH_CHARS = "！？：；（）ＡＢＣａｂｃ１２３　\u00a0…‥·—「」々ー\u00ad\u200b\u200d\u2060\ufe0fabc1. 。，\n・"
FAST_PATH_TEXT = st.lists(st.one_of(
    CJK_CHAR, st.sampled_from(list(FAST_PATH_CHARS)),
    st.sampled_from(list("ｶﾞﾟｱ가ㄱㅏ\u3038\u302a\uffe8\ufa6c￠\U00020000\U0002a6d6")),
), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=FAST_PATH_TEXT)
def test_index_text_gives_the_tokens_of_index_tokens(text: str) -> None:
    # index_text leaves words for unicode61 to split and takes shortcuts (fullwidth mapping before NFKC, CJK
    # runs split by a regular expression); FTS5 must index exactly what it makes of index_tokens. (Not always
    # index_tokens itself: unicode61 drops combining marks such as the one NFKC makes of ﾞ.)
    assert unicode61_tokens(index_text(text)) == unicode61_tokens(" ".join(index_tokens(text)))


@pytest.mark.parametrize("text", [
    "北京会议", "京", "a京b", "北京。会议 市", "京 京", "x北京y上海z", "北 京 北京 京", "会议\u00ad纪要",
    "报告\uffe8北京", "\ufa6c北京", "\U00020000\U00020001北京", "ﾃｽﾄ会议", "北京\u200b会议\u2060ok", "",
])
def test_index_text_examples_match_unicode61(text: str) -> None:
    # The fast path expands every CJK run at once (runs joined by NUL, see _expand_runs); runs of one, two and
    # many characters, runs next to words, and text NFKC takes out of the fast path.
    assert unicode61_tokens(index_text(text)) == unicode61_tokens(" ".join(index_tokens(text)))
    assert "\x00" not in index_text(text)
