"""One SMTP client connection to a remote MX or the smarthost (aiosmtplib), and per-recipient replies.

- To MX hosts TLS is opportunistic (RFC 3207): STARTTLS when offered, certificates not verified (RFC 7435, there is
  no way to know which name to expect without DANE or MTA-STS); when the TLS handshake fails the host is tried again
  in plain text rather than not at all.
- To a smarthost TLS is what the settings say (STARTTLS required, implicit TLS, or none) and AUTH uses the
  configured credentials, only after TLS (or on loopback).
- `send` returns one `Reply` per recipient: 2xx delivered, 4xx try later, 5xx give up (RFC 5321 §4.2.1). A reply to
  MAIL or DATA applies to every recipient concerned. A connection-level failure raises `ConnectionLost`, so the
  caller can try the message on the next host. After a failed transaction the connection is RSET and reused.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

TlsMode = Literal["opportunistic", "starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600

    @property
    def status(self) -> str:
        """The RFC 3463 enhanced status code in the text, or one derived from the reply code."""
        match = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})\b", self.text)
        if match:
            return match.group(1)
        return "2.0.0" if self.ok else ("5.0.0" if self.permanent else "4.0.0")

    def __str__(self) -> str:
        return f"{self.code} {' '.join(self.text.split())}"


class ConnectFailed(Exception):
    """The host could not be reached or refused the session (greeting, EHLO, TLS or AUTH)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(str(reply))
        self.reply = reply


class ConnectionLost(Exception):
    """The connection broke during a transaction; the message's outcome is unknown, so it is tried again."""


def _reply(exc: aiosmtplib.SMTPResponseException) -> Reply:
    return Reply(exc.code, exc.message)


def _client_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


async def _authenticate(smtp: aiosmtplib.SMTP, host: str, username: str, password: str) -> None:
    """AUTH with one mechanism (RFC 4954): PLAIN, else LOGIN, else CRAM-MD5. Refused credentials are a problem of
    our configuration, never of the message: they give a temporary failure, so mail waits for the fix."""
    methods = smtp.supported_auth_methods
    for name, method in (("plain", smtp.auth_plain), ("login", smtp.auth_login), ("cram-md5", smtp.auth_crammd5)):
        if name in methods:
            try:
                await method(username, password)
            except aiosmtplib.SMTPResponseException as exc:
                raise ConnectFailed(Reply(454, f"4.7.0 {host} refused our credentials: {_reply(exc)}")) from exc
            return
    raise ConnectFailed(Reply(454, f"4.7.0 {host} offers no AUTH mechanism we support"))


class Connection:
    """An open SMTP session, ready for transactions."""

    def __init__(self, smtp: aiosmtplib.SMTP, host: str, address: str, tls: bool) -> None:
        self.smtp = smtp
        self.host = host
        self.address = address
        self.tls = tls

    @classmethod
    async def open(cls, host: str, address: str, port: int, *, helo_name: str, tls: TlsMode,
                   connect_timeout: float, command_timeout: float, verify: bool = False,
                   username: str = "", password: str = "", source_address: str = "") -> Connection:
        """Connect to `address` (of MX or smarthost `host`), greet, secure and authenticate as configured."""
        try:
            return await cls._open(host, address, port, helo_name=helo_name, tls=tls, connect_timeout=connect_timeout,
                                   command_timeout=command_timeout, verify=verify, username=username,
                                   password=password, source_address=source_address)
        except _TlsFailed as exc:
            if tls != "opportunistic":
                raise ConnectFailed(Reply(421, f"4.7.0 TLS with {host} failed: {exc}")) from exc
            # RFC 7435 §3: opportunistic security falls back to plain text rather than not delivering.
            return await cls._open(host, address, port, helo_name=helo_name, tls="none",
                                   connect_timeout=connect_timeout, command_timeout=command_timeout, verify=verify,
                                   username=username, password=password, source_address=source_address)

    @classmethod
    async def _open(cls, host: str, address: str, port: int, *, helo_name: str, tls: TlsMode, connect_timeout: float,
                    command_timeout: float, verify: bool, username: str, password: str,
                    source_address: str) -> Connection:
        context = _client_context(verify)
        smtp = aiosmtplib.SMTP(hostname=address, port=port, local_hostname=helo_name, timeout=command_timeout,
                               use_tls=tls == "tls", start_tls=False, validate_certs=verify, tls_context=context,
                               source_address=(source_address, 0) if source_address else None)
        secured = tls == "tls"
        try:
            try:
                await smtp.connect(timeout=connect_timeout)
            except aiosmtplib.SMTPConnectResponseError as exc:
                raise ConnectFailed(_reply(exc)) from exc
            except ssl.SSLError as exc:
                raise _TlsFailed(str(exc)) from exc
            await smtp.ehlo()
            if tls in ("opportunistic", "starttls"):
                if smtp.supports_extension("starttls"):
                    # A failure anywhere from STARTTLS to the EHLO after it counts as a TLS failure: with TLS 1.3
                    # a server that rejects the handshake may only say so when the client next reads.
                    try:
                        await smtp.starttls(server_hostname=host, validate_certs=verify, tls_context=context)
                        await smtp.ehlo()
                    except (ssl.SSLError, aiosmtplib.SMTPException, OSError) as exc:
                        raise _TlsFailed(str(exc) or type(exc).__name__) from exc
                    secured = True
                elif tls == "starttls":
                    raise ConnectFailed(Reply(421, f"4.7.0 {host} does not offer STARTTLS, which is required"))
            if username:
                if not secured and not _is_loopback(address):
                    raise ConnectFailed(Reply(421, "4.7.0 not sending credentials without TLS"))
                await _authenticate(smtp, host, username, password)
        except (ConnectFailed, _TlsFailed):
            smtp.close()
            raise
        except aiosmtplib.SMTPResponseException as exc:
            smtp.close()
            raise ConnectFailed(_reply(exc)) from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            reason = str(exc) or type(exc).__name__
            raise ConnectFailed(Reply(421, f"4.4.1 cannot talk to {host} [{address}]: {reason}")) from exc
        return cls(smtp, host, address, secured)

    async def send(self, mail_from: str, recipients: Sequence[str], data: bytes) -> dict[str, Reply]:
        """One mail transaction; a reply for every recipient. Raises ConnectionLost if the connection breaks."""
        options = []
        if self.smtp.supports_extension("size"):
            options.append(f"SIZE={len(data)}")
        if not data.isascii() and self.smtp.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")  # RFC 6152 §3
        needs_utf8 = not mail_from.isascii() or any(not r.isascii() for r in recipients)
        if needs_utf8:
            if not self.smtp.supports_extension("smtputf8"):
                # RFC 6531 §3.2: without SMTPUTF8 at the server, such a message cannot be delivered.
                reply = Reply(553, "5.6.7 the receiving server does not support internationalised addresses")
                return dict.fromkeys(recipients, reply)
            options.append("SMTPUTF8")
        encoding = "utf-8" if needs_utf8 else "ascii"
        try:
            try:
                await self.smtp.mail(mail_from, options=options, encoding=encoding)
            except aiosmtplib.SMTPResponseException as exc:
                await self._reset()
                return dict.fromkeys(recipients, _reply(exc))
            replies: dict[str, Reply] = {}
            accepted: list[str] = []
            for recipient in recipients:
                try:
                    response = await self.smtp.rcpt(recipient, encoding=encoding)
                    replies[recipient] = Reply(response.code, response.message)
                    accepted.append(recipient)
                except aiosmtplib.SMTPResponseException as exc:
                    replies[recipient] = _reply(exc)
            if not accepted:
                await self._reset()
                return replies
            try:
                response = await self.smtp.data(data)
                final = Reply(response.code, response.message)
            except aiosmtplib.SMTPResponseException as exc:
                final = _reply(exc)
                await self._reset()
            for recipient in accepted:
                replies[recipient] = final
            return replies
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            self.smtp.close()
            raise ConnectionLost(f"connection to {self.host} [{self.address}] lost: {exc}") from exc

    async def _reset(self) -> None:
        try:
            await self.smtp.rset()
        except aiosmtplib.SMTPResponseException:
            pass

    @property
    def usable(self) -> bool:
        return self.smtp.is_connected

    async def close(self) -> None:
        if not self.smtp.is_connected:
            return
        try:
            await self.smtp.quit(timeout=10)
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            self.smtp.close()


class _TlsFailed(Exception):
    pass
