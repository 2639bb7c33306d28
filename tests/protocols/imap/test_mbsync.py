"""isync's mbsync (Debian package isync, a real IMAP client) syncing the INBOX both ways with a local Maildir over
imaps, trusting the server's self-signed certificate through CertificateFile: server messages are pulled into the
Maildir, a message added to the Maildir is pushed to the server, flags go both ways, and a second run changes
nothing on either side. mbsync uses COMPRESS=DEFLATE when the server offers it; the debug trace shows it did.

The test fails (it does not skip) when mbsync is missing: CI installs it (.ci/run)."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

from tests.protocols.imap.conftest import ADDRESS, PASSWORD, ImapEnv, in_thread, message


def config(imap: ImapEnv, root: Path) -> Path:
    # isync 1.4 spells the TLS option SSLType (1.5 renamed it TLSType); `mbsync --version` says which.
    (root / "mail").mkdir()
    path = root / "mbsyncrc"
    path.write_text(f"""IMAPAccount yizhan
Host 127.0.0.1
Port {imap.tls_port}
User {ADDRESS}
Pass {PASSWORD}
SSLType IMAPS
SystemCertificates no
CertificateFile {imap.data_dir / "tls" / "cert.pem"}
AuthMechs PLAIN LOGIN

IMAPStore yizhan-remote
Account yizhan

MaildirStore local
Path {root}/mail/
Inbox {root}/mail/INBOX
SubFolders Verbatim

Channel inbox
Far :yizhan-remote:
Near :local:
Patterns INBOX
Create Both
Expunge Both
SyncState *
Sync All
""")
    return path


async def mbsync(cfg: Path, *flags: str) -> tuple[int, str]:
    binary = shutil.which("mbsync")
    assert binary is not None, "mbsync (Debian package isync) is not installed; CI installs it"
    process = await asyncio.create_subprocess_exec(
        binary, "-c", str(cfg), *flags, "-a", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={"HOME": str(cfg.parent), "PATH": "/usr/bin:/bin"})
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode("utf-8", "replace")


def same(raw: bytes) -> bytes:
    """A message as both sides should agree on it: mbsync stores LF line ends locally and adds an X-TUID header
    to messages it propagates (to find them again, isync's design)."""
    return re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", raw.replace(b"\r\n", b"\n"))


def changes(trace: str) -> set[str]:
    """The IMAP commands that change the server found in an `mbsync -D` trace (lines `>>> TAG COMMAND ...`)."""
    found = re.findall(r">>> \d+ (APPEND|UID STORE|UID EXPUNGE|EXPUNGE|UID MOVE|UID COPY|CREATE|DELETE)\b", trace)
    return set(found)


def maildir(root: Path) -> dict[str, bytes]:
    """File name (in cur/ or new/) → content (see `same`), for the local INBOX."""
    box = root / "mail" / "INBOX"
    return {f"{sub}/{path.name}": same(path.read_bytes()) for sub in ("cur", "new")
            for path in sorted((box / sub).iterdir())}


def server_state(imap: ImapEnv) -> list[tuple[int, bytes, bytes]]:
    """(UID, flags, body) of every message in the server's INBOX."""
    client = imap.login()
    typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK"
    client.logout()
    state = []
    for item in data:
        if isinstance(item, tuple):
            head, body = item
            uid = int(head.split(b"UID ")[1].split()[0]) if b"UID " in head else 0
            flags = head.split(b"FLAGS (")[1].split(b")")[0]
            state.append((uid, b" ".join(sorted(flags.split())), same(body)))
    return sorted(state)


async def test_mbsync_both_ways_and_second_sync_changes_nothing(imap: ImapEnv, tmp_path: Path) -> None:
    first, second = message("from the server", "pulled body"), message("second", "second body")
    first_lf, second_lf = same(first), same(second)
    await imap.deliver(first)
    await imap.deliver(second)
    cfg = config(imap, tmp_path)

    # Pull: the server's messages appear in the Maildir; the trace shows COMPRESS in use.
    code, output = await mbsync(cfg, "-D")
    assert code == 0, output
    assert "COMPRESS DEFLATE" in output and "OK DEFLATE active" in output, output[-3000:]
    local = maildir(tmp_path)
    assert sorted(local.values()) == sorted([first_lf, second_lf])

    # Local changes: a new message written into the Maildir, one pulled message marked seen (the S info flag).
    pushed = message("from the maildir", "pushed body")
    (tmp_path / "mail" / "INBOX" / "new" / "1700000000.test.host").write_bytes(pushed)
    box = tmp_path / "mail" / "INBOX"
    seen_name = next(name for name, body in local.items() if body == first_lf)
    seen_path = box / seen_name
    target = box / "cur" / (seen_path.name.split(":2,")[0] + ":2,S")
    seen_path.rename(target)
    # A server-side change: the second message flagged by another client.
    client = await in_thread(imap.login)
    await in_thread(client.uid, "STORE", "2", "+FLAGS", "(\\Flagged)")
    await in_thread(client.logout)

    code, output = await mbsync(cfg, "-D")
    assert code == 0, output
    # The trace shows the push (APPEND) and the flag (STORE): the check below for "no change" can fail.
    assert changes(output) >= {"APPEND", "UID STORE"}, output[-3000:]
    state = await in_thread(server_state, imap)
    assert [(body, flags) for _uid, flags, body in state] == [
        (first_lf, b"\\Seen"), (second_lf, b"\\Flagged"), (same(pushed), b"")]
    local = maildir(tmp_path)
    assert sorted(local.values()) == sorted([first_lf, second_lf, same(pushed)])
    flagged = next(name for name, body in local.items() if body == second_lf)
    assert flagged.split(":2,")[1] == "F"

    # A second run with nothing new changes nothing on either side.
    code, output = await mbsync(cfg, "-D")
    assert code == 0, output
    assert changes(output) == set(), output[-3000:]
    assert await in_thread(server_state, imap) == state
    assert maildir(tmp_path) == local
