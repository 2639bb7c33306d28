"""Fixtures for the IMAP server tests: a running server on port 0 with alice@example.com, imaplib clients (plain
on loopback, STARTTLS, implicit TLS) and a raw line client for what imaplib will not send (IDLE, bad input)."""

from __future__ import annotations

import asyncio
import imaplib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import make_settings
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services

ADDRESS = "alice@example.com"
PASSWORD = "password1"
T = TypeVar("T")


class RawClient:
    """IMAP over a real socket, line by line."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.eof = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        """One response line without CRLF; b"" when the server closed."""
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.eof = True
                rest, self.buffer = self.buffer, b""
                return rest
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def until(self, tag: bytes) -> list[bytes]:
        """Lines up to and including the tagged response of `tag` (or the end of the connection)."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if self.eof or line.startswith(tag + b" "):
                return lines

    def command(self, tag: bytes, text: bytes) -> list[bytes]:
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def closed(self) -> bool:
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionResetError, ssl.SSLEOFError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@dataclass
class ImapEnv:
    server: Server
    data_dir: Path

    @property
    def services(self) -> Services:
        assert self.server.services is not None
        return self.server.services

    @property
    def port(self) -> int:
        return self.server.port("imap")

    @property
    def tls_port(self) -> int:
        return self.server.port("imaps")

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.data_dir / "tls" / "cert.pem"))

    def plain(self) -> imaplib.IMAP4:
        return imaplib.IMAP4("127.0.0.1", self.port, timeout=30)

    def implicit(self) -> imaplib.IMAP4_SSL:
        return imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=self.context(), timeout=30)

    def login(self, select: str | None = "INBOX") -> imaplib.IMAP4:
        client = self.plain()
        client.login(ADDRESS, PASSWORD)
        if select is not None:
            typ, _ = client.select(select)
            assert typ == "OK"
        return client

    def raw(self, login: bool = True, select: str | None = "INBOX") -> RawClient:
        client = RawClient(self.port)
        assert client.line().startswith(b"* OK ")
        if login:
            assert client.command(b"L1", b"LOGIN alice@example.com password1")[-1].startswith(b"L1 OK")
            if select is not None:
                assert client.command(b"S1", b"SELECT " + select.encode())[-1].startswith(b"S1 OK")
        return client

    async def deliver(self, raw: bytes, to: str = ADDRESS) -> None:
        report = await self.services.delivery.deliver(raw, "sender@example.org", [to])
        assert all(outcome.ok for outcome in report.outcomes)

    async def account_id(self) -> int:
        account = await self.services.store.directory.get_account(ADDRESS)
        assert account is not None
        return account.id


def message(subject: str = "hello", body: str = "body text") -> bytes:
    return (f"From: Bob <bob@example.org>\r\nTo: alice@example.com\r\nSubject: {subject}\r\n"
            f"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <{subject}@example.org>\r\n\r\n{body}\r\n").encode()


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking client while the server keeps serving on this loop."""
    return await asyncio.to_thread(function, *args)


def imap_settings(**imap: object) -> dict[str, object]:
    return {"auth": {"failure_delay": 0, "max_failures_per_account": 5}, "imap": imap}


@pytest.fixture
def imap_overrides() -> dict[str, object]:
    """Override in a test module to change the server's settings."""
    return imap_settings()


@pytest.fixture
async def imap(data_dir: Path, imap_overrides: dict[str, object]) -> AsyncIterator[ImapEnv]:
    server = Server(make_settings(**imap_overrides), DataPaths(data_dir))
    await server.start()
    try:
        assert server.services is not None
        await server.services.directory.add_domain("example.com")
        await server.services.directory.add_account(ADDRESS, PASSWORD)
        yield ImapEnv(server, data_dir)
    finally:
        await server.stop()
