"""COMPRESS=DEFLATE (RFC 4978) with a raw client doing zlib itself: raw deflate both ways after the tagged OK, on the
plain port, after STARTTLS and on imaps; a second COMPRESS refused with NO [COMPRESSIONACTIVE]; refused before login;
compressed octets pipelined right after the command; a corrupt stream or a compressed flood closes only that
connection. Real clients using it: test_mbsync.py and test_neomutt.py."""

from __future__ import annotations

import socket
import ssl
import zlib

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


class DeflateClient:
    """An IMAP client over a real socket (plain, STARTTLS or implicit TLS) that can switch to raw deflate."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.deflater: zlib._Compress | None = None
        self.inflater: zlib._Decompress | None = None
        self.eof = False

    def start_compression(self) -> None:
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflater = zlib.decompressobj(-15)
        # Anything that arrived after the tagged OK is already compressed.
        rest, self.buffer = self.buffer, b""
        self.buffer = self.inflater.decompress(rest)

    def squeeze(self, data: bytes) -> bytes:
        assert self.deflater is not None
        return self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)

    def send(self, data: bytes) -> None:
        self.sock.sendall(self.squeeze(data) if self.deflater is not None else data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.eof = True
                rest, self.buffer = self.buffer, b""
                return rest
            self.buffer += self.inflater.decompress(chunk) if self.inflater is not None else chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def command(self, tag: bytes, text: bytes) -> list[bytes]:
        self.send(tag + b" " + text + b"\r\n")
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if self.eof or line.startswith(tag + b" "):
                return lines

    def read_literal_fetch(self, tag: bytes) -> bytes:
        """The lines of a FETCH answer including literal octets, up to the tagged response."""
        collected = b""
        while True:
            line = self.line()
            collected += line + b"\r\n"
            if line.startswith(tag + b" ") or self.eof:
                return collected

    def closed(self) -> bool:
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return True
        except TimeoutError:
            return False


def plain(imap: ImapEnv) -> DeflateClient:
    client = DeflateClient(socket.create_connection(("127.0.0.1", imap.port), timeout=30))
    assert client.line().startswith(b"* OK ")
    return client


def wrap(imap: ImapEnv, sock: socket.socket) -> ssl.SSLSocket:
    return imap.context().wrap_socket(sock, server_hostname="localhost")


def implicit(imap: ImapEnv) -> DeflateClient:
    return DeflateClient(wrap(imap, socket.create_connection(("127.0.0.1", imap.tls_port), timeout=30)))


def login(client: DeflateClient) -> None:
    assert client.command(b"L1", b"LOGIN alice@example.com password1")[-1].startswith(b"L1 OK")


def compress(client: DeflateClient) -> None:
    assert client.command(b"Z1", b"COMPRESS DEFLATE") == [b"Z1 OK DEFLATE active"]
    client.start_compression()


def exercise(client: DeflateClient) -> None:
    """Commands and a message body through the compressed stream, then a second COMPRESS refused."""
    assert client.command(b"N1", b"NOOP") == [b"N1 OK nothing done"]
    lines = client.command(b"S1", b"SELECT INBOX")
    assert b"* 1 EXISTS" in lines and lines[-1].startswith(b"S1 OK")
    client.send(b"F1 FETCH 1 (BODY.PEEK[])\r\n")
    fetched = client.read_literal_fetch(b"F1")
    assert b"Subject: squeezed" in fetched and b"body text" in fetched and b"F1 OK" in fetched
    assert client.command(b"Z2", b"COMPRESS DEFLATE") == [b"Z2 NO [COMPRESSIONACTIVE] DEFLATE compression is already "
                                                          b"active"]
    assert client.command(b"N2", b"NOOP") == [b"N2 OK nothing done"]
    assert client.command(b"O1", b"LOGOUT")[-1].startswith(b"O1 OK")


async def test_capability_advertised_and_compressed_session(imap: ImapEnv) -> None:
    await imap.deliver(message("squeezed"))
    client = await in_thread(plain, imap)
    caps = await in_thread(client.command, b"C1", b"CAPABILITY")
    assert b" COMPRESS=DEFLATE" in caps[0]
    await in_thread(login, client)
    await in_thread(compress, client)
    await in_thread(exercise, client)


async def test_compress_over_implicit_tls(imap: ImapEnv) -> None:
    await imap.deliver(message("squeezed"))
    client = await in_thread(implicit, imap)
    assert (await in_thread(client.line)).startswith(b"* OK ")
    await in_thread(login, client)
    await in_thread(compress, client)
    await in_thread(exercise, client)


async def test_compress_after_starttls(imap: ImapEnv) -> None:
    await imap.deliver(message("squeezed"))
    client = await in_thread(plain, imap)
    assert (await in_thread(client.command, b"T1", b"STARTTLS"))[-1].startswith(b"T1 OK")
    client.sock = await in_thread(wrap, imap, client.sock)
    await in_thread(login, client)
    await in_thread(compress, client)
    await in_thread(exercise, client)


async def test_refused_before_login_and_unknown_mechanism(imap: ImapEnv) -> None:
    client = await in_thread(plain, imap)
    assert (await in_thread(client.command, b"Z1", b"COMPRESS DEFLATE"))[-1].startswith(b"Z1 BAD")
    await in_thread(login, client)
    assert (await in_thread(client.command, b"Z2", b"COMPRESS LZW"))[-1].startswith(b"Z2 BAD")
    # Still uncompressed, still serving.
    assert await in_thread(client.command, b"N1", b"NOOP") == [b"N1 OK nothing done"]


async def test_compressed_commands_pipelined_after_compress(imap: ImapEnv) -> None:
    await imap.deliver(message("squeezed"))
    client = await in_thread(plain, imap)
    await in_thread(login, client)
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    squeezed = deflater.compress(b"N1 NOOP\r\nS1 SELECT INBOX\r\n") + deflater.flush(zlib.Z_SYNC_FLUSH)
    # One write: the command in plaintext, then at once commands already compressed.
    client.sock.sendall(b"Z1 COMPRESS DEFLATE\r\n" + squeezed)
    assert await in_thread(client.line) == b"Z1 OK DEFLATE active"
    client.start_compression()
    client.deflater = deflater
    assert await in_thread(client.line) == b"N1 OK nothing done"
    lines = [await in_thread(client.line)]
    while not lines[-1].startswith(b"S1 ") and not client.eof:
        lines.append(await in_thread(client.line))
    assert b"* 1 EXISTS" in lines and lines[-1].startswith(b"S1 OK")


async def test_corrupt_stream_closes_only_that_connection(imap: ImapEnv) -> None:
    client = await in_thread(plain, imap)
    await in_thread(login, client)
    await in_thread(compress, client)
    client.sock.sendall(b"\xff\xff\xff\xff not deflate at all")
    assert await in_thread(client.closed)
    other = await in_thread(imap.raw)
    assert await in_thread(other.command, b"N1", b"NOOP") == [b"N1 OK nothing done"]


async def test_compressed_flood_hits_the_line_limit(imap: ImapEnv) -> None:
    """50 MB of one line squeezed into ~50 KB: inflated in bounded pieces, refused by the line limit, closed."""
    client = await in_thread(plain, imap)
    await in_thread(login, client)
    await in_thread(compress, client)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = deflater.compress(b"X1 NOOP " + b"a" * 50_000_000) + deflater.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 100_000
    try:
        client.sock.sendall(bomb)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert (await in_thread(client.line)).startswith(b"* BYE")
    assert await in_thread(client.closed)
    other = await in_thread(imap.raw)
    assert await in_thread(other.command, b"N1", b"NOOP") == [b"N1 OK nothing done"]
