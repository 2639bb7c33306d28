"""A real POP3 client: getmail6 (Debian package getmail6, installed by .ci/run) downloading over implicit TLS with
UIDL into a Maildir — once leaving mail on the server (a second run downloads nothing new), once deleting it.
If getmail is missing this fails, it does not skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread


def maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # getmail refuses to deliver as root; it delivers as `nobody` then, who must reach and write the Maildir.
        for path in (root, *(root / sub for sub in ("cur", "new", "tmp"))):
            path.chmod(0o777)
    return root


@pytest.fixture
def work() -> Iterator[Path]:
    """getmail's directory; outside pytest's private (0700) tree, so that `nobody` can reach it under root."""
    path = Path(tempfile.mkdtemp(prefix="yizhan-getmail-"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_getmail(pop3: Pop3Env, work: Path, delete: bool) -> str:
    destination = maildir(work / "Maildir")
    rc = work / "getmailrc"
    rc.write_text(f"""[retriever]
type = SimplePOP3SSLRetriever
server = 127.0.0.1
port = {pop3.tls_port}
username = {ADDRESS}
password = {PASSWORD}
ca_certs = {pop3.data_dir / "tls" / "cert.pem"}

[destination]
type = Maildir
path = {destination}/

{"user = nobody" if os.geteuid() == 0 else ""}

[options]
verbose = 2
read_all = false
delete = {"true" if delete else "false"}
delivered_to = false
received = false
""")
    done = subprocess.run(["getmail", "--getmaildir", str(work), "--rcfile", str(rc)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def downloaded(work: Path) -> list[bytes]:
    """The messages getmail wrote, without the Return-Path it adds (POP3 carries no envelope sender)."""
    prefix = b"Return-Path: <unknown>\n"
    files = [path.read_bytes() for path in (work / "Maildir" / "new").iterdir()]
    assert all(data.startswith(prefix) for data in files)
    return sorted(data[len(prefix):] for data in files)


def lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


async def test_getmail_leaves_mail_and_fetches_only_new_mail(pop3: Pop3Env, work: Path) -> None:
    first = [make_message(subject=f"leave {i}", body=f"text {i}\n.dot\n") for i in range(3)]
    for raw in first:
        await pop3.deliver(raw)

    await in_thread(run_getmail, pop3, work, False)
    assert downloaded(work) == sorted(lf(raw) for raw in first)
    assert len(await pop3.inbox_uids()) == 3

    await in_thread(run_getmail, pop3, work, False)
    assert len(downloaded(work)) == 3  # UIDL: nothing new, nothing fetched twice

    later = make_message(subject="later")
    await pop3.deliver(later)
    await in_thread(run_getmail, pop3, work, False)
    assert downloaded(work) == sorted(lf(raw) for raw in [*first, later])
    assert len(await pop3.inbox_uids()) == 4


async def test_getmail_deletes_what_it_downloaded(pop3: Pop3Env, work: Path) -> None:
    messages = [make_message(subject=f"take {i}") for i in range(4)]
    for raw in messages:
        await pop3.deliver(raw)

    await in_thread(run_getmail, pop3, work, True)
    assert downloaded(work) == sorted(lf(raw) for raw in messages)
    assert await pop3.inbox_uids() == []
