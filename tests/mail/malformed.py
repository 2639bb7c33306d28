"""A corpus of broken and awkward messages, as they arrive from the field, for parser, store and search tests.

`malformed_corpus()` returns name → raw bytes; `MALFORMED_WORDS` gives, for each name, a word that must be found
in the parsed subject, body text or attachment names ("" when the message carries no text at all).
"""

from __future__ import annotations

import base64


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def _nested(depth: int) -> bytes:
    head = "From: deep@example.com\nSubject: nested\nMIME-Version: 1.0\n"
    lines = [head + 'Content-Type: multipart/mixed; boundary="b0"\n']
    for level in range(1, depth):
        lines.append(f'\n--b{level - 1}\nContent-Type: multipart/mixed; boundary="b{level}"\n')
    lines.append(f"\n--b{depth - 1}\nContent-Type: text/plain\n\nabyssword at the bottom\n")
    for level in range(depth - 1, -1, -1):
        lines.append(f"--b{level}--\n")
    return _crlf("".join(lines))


def malformed_corpus() -> dict[str, bytes]:
    """Name → raw message bytes."""
    gbk_body = "他的名字叫朱镕基，啰嗦的会议纪要。".encode("gbk")
    corpus: dict[str, bytes] = {
        "broken_multipart_no_close": _crlf(
            "From: a@example.com\nSubject: unclosed\nContent-Type: multipart/mixed; boundary=zz\n\n"
            "--zz\nContent-Type: text/plain\n\nfirst part\n--zz\nContent-Type: text/plain\n\n"
            "lastpartword never closed\n"
        ),
        "multipart_missing_boundary": _crlf(
            "From: a@example.com\nSubject: no boundary\nContent-Type: multipart/mixed\n\n"
            "--zz\nContent-Type: text/plain\n\nboundlessword here\n--zz--\n"
        ),
        "raw_utf8_headers": "From: 张三 <zhang@example.com>\r\nSubject: 季度报告草稿\r\n\r\nbody\r\n".encode(),
        "raw_gbk_headers": "From: 李四 <li@example.com>\r\nSubject: 年终总结会议\r\n\r\nbody\r\n".encode("gbk"),
        "gb2312_really_gbk": _crlf(
            "From: a@example.com\nSubject: gbk\nContent-Type: text/plain; charset=gb2312\n"
            "Content-Transfer-Encoding: 8bit\n\n"
        )
        + gbk_body
        + b"\r\n",
        "big5_body": _crlf("From: a@example.com\nSubject: big5\nContent-Type: text/plain; charset=big5\n\n")
        + "臺灣電腦資訊".encode("big5")
        + b"\r\n",
        "unknown_charset": _crlf("From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=x-unknown\n\n")
        + "未知编码的正文".encode()
        + b"\r\n",
        "truncated_base64": _crlf(
            "From: a@example.com\nSubject: trunc\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n"
        )
        + base64.b64encode("截断的消息内容 truncatedword more text here".encode())[:-7],
        "nul_bytes": b"From: a@example.com\r\nSubject: nul\x00word\r\n\r\nbody with \x00 nulbody\x00 inside\r\n",
        "no_separator": _crlf("From: a@example.com\nSubject: separatorless\nthis line is body text"),
        "empty": b"",
        "header_only": _crlf("From: a@example.com\nSubject: headeronlyword\n"),
        "deeply_nested": _nested(100),
        "long_header_line": _crlf(
            "From: a@example.com\nSubject: longline\nX-Long: " + "x" * 2000 + "\n\nlonglineword body\n"
        ),
        "rfc2231_gbk_filename": _crlf(
            "From: a@example.com\nSubject: attachment\nContent-Type: multipart/mixed; boundary=b\n\n"
            "--b\nContent-Type: text/plain\n\nsee attachment\n--b\nContent-Type: application/pdf\n"
            "Content-Disposition: attachment; filename*=gb2312''"
            + "".join(f"%{b:02X}" for b in "财务报表.pdf".encode("gbk"))
            + "\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"
        ),
        "split_encoded_subject": _crlf(
            "From: a@example.com\nSubject: =?UTF-8?B?5YyX?= =?UTF-8?B?5Lqs?=\n =?UTF-8?Q?=E4=BC=9A=E8=AE?=\n"
            " =?UTF-8?Q?=AE?=\n\nbody\n"
        ),
    }
    return corpus


MALFORMED_WORDS: dict[str, str] = {
    "broken_multipart_no_close": "lastpartword",
    "multipart_missing_boundary": "boundlessword",
    "raw_utf8_headers": "季度报告",
    "raw_gbk_headers": "年终总结",
    "gb2312_really_gbk": "朱镕基",
    "big5_body": "臺灣電腦",
    "unknown_charset": "未知编码",
    "truncated_base64": "truncatedword",
    "nul_bytes": "nulbody",
    "no_separator": "separatorless",
    "empty": "",
    "header_only": "headeronlyword",
    "deeply_nested": "abyssword",
    "long_header_line": "longlineword",
    "rfc2231_gbk_filename": "财务报表",
    "split_encoded_subject": "北京会议",
}
