"""NeoMutt (a real IMAP client) driven in tmux (send-keys / capture-pane): it opens the INBOX over imaps, trusting
the server's self-signed certificate through `certificate_file` with no prompt, shows the subject in the index and
the body in the pager. (Debian's neomutt 20220429 is built without zlib, so it has no `imap_deflate`; mbsync is
the real client that exercises COMPRESS, test_mbsync.py.) Its debug log shows the IMAP conversation.

The test fails (it does not skip) when neomutt or tmux is missing: CI installs them (.ci/run)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

from tests.protocols.imap.conftest import ADDRESS, PASSWORD, ImapEnv, message


class Tmux:
    """A tmux server of our own (its own socket file), one session running a command."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        binary = shutil.which("tmux")
        assert binary is not None, "tmux is not installed; CI installs it"
        self.binary = binary
        self.socket = socket
        self.env = env

    async def run(self, *args: str, check: bool = True) -> str:
        # A thread rather than the loop's subprocess support: tmux's server, which `new-session` starts, keeps
        # inheriting uvloop's pipe, so reading to EOF on the loop would never end.
        process = await asyncio.to_thread(subprocess.run, [self.binary, "-S", str(self.socket), *args],
                                          env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, timeout=30, check=False)
        assert process.returncode == 0 or not check, process.stdout
        return process.stdout.decode("utf-8", "replace")

    async def screen(self) -> str:
        return await self.run("capture-pane", "-p", "-t", "client")

    async def wait_for(self, text: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        screen = ""
        while time.monotonic() < deadline:
            screen = await self.screen()
            if text in screen:
                return screen
            await asyncio.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared on the screen:\n{screen}")


def muttrc(imap: ImapEnv, root: Path) -> Path:
    # The server's certificate in certificate_file is trusted as is: no "(r)eject, accept (o)nce" prompt.
    certificates = root / "certificates"
    certificates.write_bytes((imap.data_dir / "tls" / "cert.pem").read_bytes())
    path = root / "muttrc"
    path.write_text(f"""set folder = "imaps://127.0.0.1:{imap.tls_port}/"
set spoolfile = "+INBOX"
set imap_user = "{ADDRESS}"
set imap_pass = "{PASSWORD}"
set certificate_file = "{certificates}"
set ssl_verify_host = no
set ssl_force_tls = yes
set imap_idle = yes
set header_cache = ""
set message_cachedir = ""
set mail_check_stats = no
set sort = date
set pager_index_lines = 0
set pager_stop = yes
set confirmappend = no
set quit = yes
set wait_key = no
""")
    return path


def read_logs(root: Path) -> str:
    return "\n".join(path.read_text("utf-8", "replace") for path in root.glob("neomutt.log*"))


async def test_neomutt_opens_inbox_and_reads_a_message(imap: ImapEnv, tmp_path: Path) -> None:
    binary = shutil.which("neomutt")
    assert binary is not None, "neomutt is not installed; CI installs it"
    await imap.deliver(message("Hello from Yizhan 驿站", "The body neomutt must show: 北京会议 at ten."))
    rc = muttrc(imap, tmp_path)
    log = tmp_path / "neomutt.log"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8"}
    tmux = Tmux(tmp_path / "tmux.sock", env)
    await tmux.run("new-session", "-d", "-s", "client", "-x", "160", "-y", "40",
                   f"{binary} -n -F {rc} -d 2 -l {log}")
    try:
        index = await tmux.wait_for("Hello from Yizhan")
        assert "驿站" in index
        await tmux.run("send-keys", "-t", "client", "Enter")
        pager = await tmux.wait_for("The body neomutt must show")
        assert "北京会议" in pager and "Subject: Hello from Yizhan" in pager
        await tmux.run("send-keys", "-t", "client", "q")
        await tmux.wait_for("Hello from Yizhan")
        await tmux.run("send-keys", "-t", "client", "q")
        # With `quit = yes` neomutt leaves at once and the session (so our tmux server) ends with it.
        for _ in range(50):
            if "no server running" in await tmux.run("has-session", "-t", "client", check=False):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("neomutt did not quit")
    finally:
        # Ours only: this tmux server has its own socket; it is normally gone already.
        await tmux.run("kill-server", check=False)
    trace = read_logs(tmp_path)
    assert "SELECT" in trace and "UID FETCH 1 BODY.PEEK[]" in trace and " IDLE" in trace, trace[-3000:]
