"""The `yizhan` command as an administrator uses it: a real subprocess per command, over a data directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import clean_environment, yizhan_command
from tests.mailfactory import make_message
from yizhan.services.archive import ArchivedMessage, read_mbox, write_mbox


def yz(data: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*yizhan_command(), *args], capture_output=True, text=True, timeout=120, input=input,
                          env=env or clean_environment(data))


def ok(data: Path, *args: str, **kw: object) -> str:
    result = yz(data, *args, **kw)  # type: ignore[arg-type]
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_help_for_every_command(data_dir: Path) -> None:
    for args in (["--help"], ["domain", "--help"], ["user", "add", "--help"], ["alias", "add", "--help"],
                 ["import", "--help"], ["export", "--help"], ["search", "--help"], ["check", "--help"],
                 ["config", "show", "--help"], ["serve", "--help"]):
        assert "Usage" in ok(data_dir, *args)
    assert not data_dir.exists()


def test_domains_users_and_aliases(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "Example.COM")
    assert "example.com" in ok(data_dir, "domain", "list")
    ok(data_dir, "user", "add", "alice@example.com", "--password", "s3cret-pass", "--quota", "1G",
       "--name", "Alice")
    ok(data_dir, "user", "add", "root@example.com", "--password", "s3cret-pass", "--role", "admin")
    listing = ok(data_dir, "user", "list")
    assert "alice@example.com" in listing and "1.0 GiB" in listing and "admin" in listing
    ok(data_dir, "alias", "add", "team@example.com", "alice@example.com", "root@example.com")
    ok(data_dir, "alias", "add", "@example.com", "alice@example.com")
    aliases = ok(data_dir, "alias", "list")
    assert "team@example.com" in aliases and "@example.com" in aliases
    ok(data_dir, "alias", "remove", "team@example.com", "root@example.com")
    assert "root@example.com" not in ok(data_dir, "alias", "list")
    ok(data_dir, "user", "passwd", "alice@example.com", "--password", "another-pass")
    ok(data_dir, "user", "remove", "root@example.com", "--yes")
    assert "root@example.com" not in ok(data_dir, "user", "list")


def test_password_is_prompted_when_left_out(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    ok(data_dir, "user", "add", "bob@example.com", input="prompted-pw\nprompted-pw\n")
    assert "bob@example.com" in ok(data_dir, "user", "list")


@pytest.mark.parametrize(("args", "message"), [
    (["user", "add", "x@nowhere.example", "--password", "longenough"], "not hosted"),
    (["user", "add", "not-an-address", "--password", "longenough"], "not a valid mail address"),
    (["user", "add", "a@example.com", "--password", "short"], "at least 8"),
    (["user", "add", "a@example.com", "--password", "longenough", "--role", "king"], "role must be"),
    (["user", "add", "a@example.com", "--password", "longenough", "--quota", "lots"], "not a size"),
    (["domain", "add", "example.com"], "already exists"),
    (["domain", "remove", "nowhere.example"], "not hosted"),
    (["alias", "remove", "ghost@example.com"], "no alias"),
    (["search", "--user", "ghost@example.com", "x"], "no account"),
    (["import", "--user", "ghost@example.com", "/nonexistent"], "no account"),
])
def test_refusals_are_clear_and_exit_non_zero(data_dir: Path, args: list[str], message: str) -> None:
    ok(data_dir, "domain", "add", "example.com")
    result = yz(data_dir, *args)
    assert result.returncode != 0
    assert message in (result.stderr + result.stdout)
    assert "Traceback" not in result.stderr


def test_domain_with_accounts_needs_force(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    ok(data_dir, "user", "add", "a@example.com", "--password", "longenough")
    refused = yz(data_dir, "domain", "remove", "example.com")
    assert refused.returncode == 1 and "still has 1 account" in refused.stderr
    ok(data_dir, "domain", "remove", "example.com", "--force")
    assert "example.com" not in ok(data_dir, "domain", "list")


def test_config_show_masks_secrets_and_reports_bad_keys(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "yizhan.toml").write_text(
        '[listen]\nsmtp = 2626\n[store]\ndatabase_url = "postgresql+asyncpg://u:hunter2@127.0.0.1/db"\n')
    env = clean_environment(data_dir) | {"YIZHAN_LISTEN__IMAP": "2244"}
    shown = ok(data_dir, "config", "show", env=env)
    assert "smtp = 2626" in shown and "imap = 2244" in shown
    assert "hunter2" not in shown and "********" in shown
    (data_dir / "yizhan.toml").write_text("[listen]\nsmpt = 25\n")
    bad = yz(data_dir, "config", "show")
    assert bad.returncode == 2 and "unknown key 'listen.smpt'" in bad.stderr
    (data_dir / "yizhan.toml").write_text("[listen]\nsmtp = 'twenty-five'\n")
    bad = yz(data_dir, "config", "show")
    assert bad.returncode == 2 and "listen.smtp" in bad.stderr
    bad_env = yz(data_dir, "config", "show", env=clean_environment(data_dir) | {"YIZHAN_LISTEN__HTTP": "-5"})
    (data_dir / "yizhan.toml").write_text("")
    bad_env = yz(data_dir, "config", "show", env=clean_environment(data_dir) | {"YIZHAN_LISTEN__HTTP": "-5"})
    assert bad_env.returncode == 2 and "listen.http" in bad_env.stderr


def test_import_search_export_check(data_dir: Path, tmp_path: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    ok(data_dir, "user", "add", "alice@example.com", "--password", "longenough")
    source = tmp_path / "old.mbox"
    messages = [ArchivedMessage(make_message(subject=f"北京会议 {i}" if i % 2 else f"Budget {i}"),
                                flags=frozenset({"\\Seen"})) for i in range(30)]
    write_mbox(source, messages)
    out = ok(data_dir, "import", "--user", "alice@example.com", "--folder", "Old", str(source))
    assert "imported 30" in out and "failed 0" in out
    found = ok(data_dir, "search", "--user", "alice@example.com", "会议")
    assert "15 message(s)" in found and "Old" in found
    assert "1 message(s)" in ok(data_dir, "search", "--user", "alice@example.com", "budget 4", "--folder", "Old")
    target = tmp_path / "out.mbox"
    ok(data_dir, "export", "--user", "alice@example.com", "--folder", "Old", "--format", "mbox", str(target))
    assert [m.raw for m in read_mbox(target)] == [m.raw for m in messages]
    assert "store is consistent" in ok(data_dir, "check")


def test_check_reports_and_repairs(data_dir: Path, tmp_path: Path) -> None:
    import sqlite3

    ok(data_dir, "domain", "add", "example.com")
    ok(data_dir, "user", "add", "alice@example.com", "--password", "longenough")
    source = tmp_path / "in.mbox"
    write_mbox(source, [ArchivedMessage(make_message(subject=f"m{i}")) for i in range(3)])
    ok(data_dir, "import", "--user", "alice@example.com", str(source))
    with sqlite3.connect(data_dir / "yizhan.db") as db:
        db.execute("UPDATE folders SET exists_count = 99, uidnext = 2 WHERE name = 'INBOX'")
    blob = next(p for p in (data_dir / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(b"corrupted")
    report = yz(data_dir, "check")
    assert report.returncode == 1
    assert "folder counters" in report.stdout and "blob corrupt" in report.stdout
    repaired = yz(data_dir, "check", "--repair")
    assert "repaired" in repaired.stdout
    with sqlite3.connect(data_dir / "yizhan.db") as db:
        assert db.execute("SELECT exists_count, uidnext FROM folders WHERE name = 'INBOX'").fetchone() == (3, 4)
    # A corrupt blob cannot be repaired: it stays reported.
    assert yz(data_dir, "check").returncode == 1


def test_check_removes_old_unreferenced_and_temporary_blob_files(data_dir: Path) -> None:
    import os

    ok(data_dir, "domain", "add", "example.com")
    stray_dir = data_dir / "blobs" / "ab"
    stray_dir.mkdir(parents=True)
    stray = stray_dir / ("ab" + "0" * 62)
    leftover = stray_dir / ".tmp-interrupted"
    young = stray_dir / ("ab" + "1" * 62)
    for path in (stray, leftover, young):
        path.write_bytes(b"x")
    for path in (stray, leftover):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    report = yz(data_dir, "check")
    assert report.returncode == 1
    assert "unreferenced blobs" in report.stdout and "temporary files" in report.stdout
    ok(data_dir, "check", "--repair")
    assert not stray.exists() and not leftover.exists()
    # A recent file may belong to a delivery not yet committed: it is left alone.
    assert young.exists()
    assert "store is consistent" in ok(data_dir, "check")
