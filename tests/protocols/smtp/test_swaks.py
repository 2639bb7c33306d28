"""swaks (Debian's package) as a real SMTP client against the running server: STARTTLS, AUTH PLAIN and LOGIN,
implicit TLS, 8-bit mail with a Chinese subject and body, a 20 MB attachment, pipelining, and open-relay refusals.

swaks 20201014 (Debian 12) cannot put the SMTPUTF8 parameter on MAIL FROM, so the SMTPUTF8 case with a Chinese
address is sent with Python's smtplib (also a real client) at the end of this file.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import smtplib
import ssl
from collections.abc import AsyncIterator
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.conftest import make_settings
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths

PASSWORD = "swaks-pass-1"


@pytest.fixture
async def smtp_server(data_dir: Path) -> AsyncIterator[Server]:
    server = Server(make_settings(auth={"failure_delay": 0}), DataPaths(data_dir))
    await server.start()
    services = server.services
    assert services is not None
    await services.directory.add_domain("example.com")
    await services.directory.add_account("alice@example.com", PASSWORD)
    await services.directory.add_account("bob@example.com", PASSWORD)
    try:
        yield server
    finally:
        await server.stop()


async def swaks(*args: str) -> tuple[int, str]:
    """Run swaks (it must be installed: CI installs Debian's package) and return its exit code and transcript."""
    program = shutil.which("swaks")
    assert program, "swaks is not installed (apt-get install swaks)"
    process = await asyncio.create_subprocess_exec(
        program, "--server", "127.0.0.1", "--helo", "client.example.org", "--timeout", "60", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return process.returncode, output.decode("utf-8", "replace")


async def inbox(server: Server, address: str) -> list[bytes]:
    services = server.services
    assert services is not None
    account = await services.directory.account(address)
    folder = await services.store.folders.get(account.id, "INBOX")
    items = await services.store.messages.page(folder.id, 0, 100, newest_first=False)
    return [await asyncio.to_thread(services.store.blobs.read, item.blob) for item in items]


def subject_of(raw: bytes) -> str:
    message = BytesParser(policy=default_policy).parsebytes(raw)
    return str(make_header(decode_header(str(message["Subject"]))))


async def test_starttls_auth_plain_8bit_chinese_subject_and_body(smtp_server: Server) -> None:
    code, transcript = await swaks(
        "--port", str(smtp_server.port("submission")), "--tls", "--auth", "PLAIN",
        "--auth-user", "alice@example.com", "--auth-password", PASSWORD,
        "--from", "alice@example.com", "--to", "bob@example.com",
        "--header", "Subject: 关于北京会议的通知",
        "--add-header", "Content-Type: text/plain; charset=utf-8",
        "--add-header", "Content-Transfer-Encoding: 8bit",
        "--body", "各位同事：会议在北京举行。")
    assert code == 0, transcript
    assert "STARTTLS" in transcript and "250-8BITMIME" in transcript
    assert "235 " in transcript  # authenticated
    messages = await inbox(smtp_server, "bob@example.com")
    assert len(messages) == 1
    assert subject_of(messages[0]) == "关于北京会议的通知"
    assert "会议在北京举行".encode() in messages[0]
    assert b"Received: " in messages[0]


async def test_auth_login_over_implicit_tls(smtp_server: Server) -> None:
    code, transcript = await swaks(
        "--port", str(smtp_server.port("smtps")), "--tls-on-connect", "--auth", "LOGIN",
        "--auth-user", "alice@example.com", "--auth-password", PASSWORD,
        "--from", "alice@example.com", "--to", "bob@example.com", "--header", "Subject: over implicit TLS")
    assert code == 0, transcript
    assert [subject_of(raw) for raw in await inbox(smtp_server, "bob@example.com")] == ["over implicit TLS"]


async def test_wrong_password_is_refused(smtp_server: Server) -> None:
    code, transcript = await swaks(
        "--port", str(smtp_server.port("submission")), "--tls", "--auth", "PLAIN",
        "--auth-user", "alice@example.com", "--auth-password", "not-the-password",
        "--from", "alice@example.com", "--to", "bob@example.com")
    assert code != 0
    assert "535 5.7.8" in transcript
    assert await inbox(smtp_server, "bob@example.com") == []


async def test_twenty_megabyte_attachment_arrives_byte_exact(smtp_server: Server, tmp_path: Path) -> None:
    payload = os.urandom(20 * 1024 * 1024)
    attachment = tmp_path / "大文件.bin"
    attachment.write_bytes(payload)
    code, transcript = await swaks(
        "--port", str(smtp_server.port("submission")), "--tls", "--auth", "PLAIN",
        "--auth-user", "alice@example.com", "--auth-password", PASSWORD,
        "--from", "alice@example.com", "--to", "bob@example.com", "--header", "Subject: big attachment",
        "--attach", f"@{attachment}", "--suppress-data")
    assert code == 0, transcript[-2000:]
    [raw] = await inbox(smtp_server, "bob@example.com")
    message = BytesParser(policy=default_policy).parsebytes(raw)
    parts = [part for part in message.walk() if part.get_content_disposition() == "attachment"]
    assert len(parts) == 1
    assert parts[0].get_payload(decode=True) == payload


async def test_pipelining(smtp_server: Server) -> None:
    code, transcript = await swaks(
        "--port", str(smtp_server.port("submission")), "--tls", "--pipeline", "--auth", "PLAIN",
        "--auth-user", "alice@example.com", "--auth-password", PASSWORD,
        "--from", "alice@example.com", "--to", "bob@example.com,alice@example.com",
        "--header", "Subject: pipelined")
    assert code == 0, transcript
    assert "250-PIPELINING" in transcript
    for address in ("bob@example.com", "alice@example.com"):
        assert [subject_of(raw) for raw in await inbox(smtp_server, address)] == ["pipelined"]


@pytest.mark.parametrize("recipient", ["victim@gmail.com", "someone@example.net", "bob@example.com.evil.test",
                                       "\"bob@example.com\"@elsewhere.test", "bob%example.com@relay.test"])
async def test_unauthenticated_relay_is_refused(smtp_server: Server, recipient: str) -> None:
    code, transcript = await swaks("--port", str(smtp_server.port("smtp")), "--from", "spammer@example.org",
                                   "--to", recipient)
    assert code != 0
    # Refused at RCPT with a permanent reply (relay denied, or an address we will not take at all).
    assert re.search(r"RCPT TO:.*\n<\*\* 5\d\d 5\.\d\.\d+ ", transcript), transcript
    services = smtp_server.services
    assert services is not None
    assert await services.outbound.list() == []


async def test_inbound_mx_accepts_mail_for_a_hosted_user(smtp_server: Server) -> None:
    code, transcript = await swaks("--port", str(smtp_server.port("smtp")), "--from", "friend@example.org",
                                   "--to", "bob@example.com", "--header", "Subject: from outside")
    assert code == 0, transcript
    [raw] = await inbox(smtp_server, "bob@example.com")
    assert b"Authentication-Results: " in raw
    assert subject_of(raw) == "from outside"


async def test_sending_as_someone_else_is_refused(smtp_server: Server) -> None:
    code, transcript = await swaks(
        "--port", str(smtp_server.port("submission")), "--tls", "--auth", "PLAIN",
        "--auth-user", "alice@example.com", "--auth-password", PASSWORD,
        "--from", "bob@example.com", "--to", "bob@example.com")
    assert code != 0
    assert "553 5.7.1" in transcript
    assert await inbox(smtp_server, "bob@example.com") == []


async def test_smtputf8_chinese_address_and_subject_with_smtplib(smtp_server: Server) -> None:
    services = smtp_server.services
    assert services is not None
    await services.directory.add_account("张三@example.com", PASSWORD)
    raw = ("From: alice@example.com\r\nTo: 张三@example.com\r\nSubject: 你好，张三\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n内容\r\n").encode()

    def send() -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", smtp_server.port("submission"), timeout=30) as client:
            client.starttls(context=context)
            client.login("alice@example.com", PASSWORD)
            assert client.has_extn("smtputf8")
            client.sendmail("alice@example.com", ["张三@example.com"], raw,
                            mail_options=["SMTPUTF8", "BODY=8BITMIME"])

    await asyncio.to_thread(send)
    [stored] = await inbox(smtp_server, "张三@example.com")
    assert subject_of(stored) == "你好，张三"
    assert stored.endswith("\r\n\r\n内容\r\n".encode())
    assert "To: 张三@example.com".encode() in stored
