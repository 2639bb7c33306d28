"""A raw POP3 line client over a real socket, for what poplib will not send (bad input, pipelining, STLS races)."""

from __future__ import annotations

import socket
import ssl


class RawClient:
    def __init__(self, port: int, timeout: float = 30) -> None:
        self.sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        """One reply line without CRLF; b"" when the server closed."""
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                rest, self.buffer = self.buffer, b""
                return rest
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def multiline(self) -> list[bytes]:
        """The lines of a multi-line body up to the terminating ".", unstuffed."""
        lines = []
        while (line := self.line()) != b".":
            lines.append(line[1:] if line.startswith(b".") else line)
        return lines

    def command(self, text: bytes) -> bytes:
        self.send(text + b"\r\n")
        return self.line()

    def start_tls(self, context: ssl.SSLContext) -> None:
        assert not self.buffer
        self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")

    def closed(self) -> bool:
        """True when the server has closed the connection (reads end of file)."""
        try:
            return self.sock.recv(1) == b"" and True
        except (ConnectionResetError, ssl.SSLEOFError):
            return True

    def close(self) -> None:
        self.sock.close()
