"""BINARY, BINARY.PEEK and BINARY.SIZE (RFC 3516) against a real server: decoded base64 and quoted-printable parts,
literal8 for content with NUL, partial ranges, \\Seen, and NO [UNKNOWN-CTE] for an encoding we cannot undo."""

from __future__ import annotations

import base64

from tests.protocols.imap.conftest import ImapEnv, in_thread

PAYLOAD = bytes(range(256))
TEXT = "café 北京".encode()


def multipart() -> bytes:
    encoded = base64.encodebytes(PAYLOAD).replace(b"\n", b"\r\n")
    return (b"From: bob@example.org\r\nTo: alice@example.com\r\nSubject: binary\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            b"caf=C3=A9 =E5=8C=97=E4=BA=AC\r\n"
            b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + encoded +
            b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
            b"begin 644 x\r\n#86)C\r\n`\r\nend\r\n"
            b"--b1--\r\n")


async def test_binary_parts(imap: ImapEnv) -> None:
    raw_message = multipart()
    await imap.deliver(raw_message)

    def run() -> None:
        raw = imap.raw()
        # Base64 with every octet value: a literal8, since it holds NUL.
        lines = raw.command(b"A1", b"FETCH 1 (BINARY.PEEK[2])")
        assert b"\r\n".join(lines) == b"* 1 FETCH (BINARY[2] ~{256}\r\n" + PAYLOAD + b")\r\nA1 OK fetch completed"
        assert raw.command(b"A2", b"FETCH 1 (BINARY.SIZE[2] BINARY.SIZE[1])") == [
            b"* 1 FETCH (BINARY.SIZE[2] 256 BINARY.SIZE[1] %d)" % len(TEXT), b"A2 OK fetch completed"]
        # A partial range of the decoded content.
        raw.send(b"A3 FETCH 1 (BINARY.PEEK[2]<0.10> BINARY.PEEK[2]<250.100>)\r\n")
        assert raw.line() == b"* 1 FETCH (BINARY[2]<0> ~{10}"
        # The second range holds no NUL: a plain literal is enough.
        assert raw.line() == PAYLOAD[:10] + b" BINARY[2]<250> {6}"
        assert raw.until(b"A3") == [PAYLOAD[250:] + b")", b"A3 OK fetch completed"]
        # PEEK does not set \Seen; BINARY does, and says so.
        assert raw.command(b"A4", b"FETCH 1 (FLAGS)")[0] == b"* 1 FETCH (FLAGS ())"
        raw.send(b"A5 FETCH 1 (BINARY[1])\r\n")
        assert raw.line() == b"* 1 FETCH (BINARY[1] {%d}" % len(TEXT)
        # The CRLF before the boundary belongs to the boundary (RFC 2046 §5.1.1), not to the part.
        assert raw.until(b"A5") == [TEXT + b" FLAGS (\\Seen))", b"A5 OK fetch completed"]
        # An encoding we cannot undo, a part that does not exist, and the whole message.
        assert raw.command(b"A6", b"FETCH 1 (BINARY.PEEK[3])")[-1].startswith(b"A6 NO [UNKNOWN-CTE]")
        assert raw.command(b"A7", b"FETCH 1 (BINARY.PEEK[9])") == [
            b"* 1 FETCH (BINARY[9] NIL)", b"A7 OK fetch completed"]
        assert raw.command(b"A8", b"FETCH 1 (BINARY.SIZE[])")[0] == b"* 1 FETCH (BINARY.SIZE[] %d)" % len(raw_message)
        assert raw.command(b"A9", b"FETCH 1 (BINARY[1.x])")[-1].startswith(b"A9 BAD")
        assert raw.command(b"B1", b"NOOP") == [b"B1 OK nothing done"]

    await in_thread(run)
