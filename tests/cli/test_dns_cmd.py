"""`yizhan dkim genkey|show` and `yizhan dns` as an administrator runs them: real subprocesses over a data directory.
The printed DKIM record, published on the project's DNS server, must verify mail signed with the stored key."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path

import pytest

from tests.cli.test_cli import ok, yz
from tests.conftest import clean_environment
from tests.mailfactory import make_message
from tests.support.dnsserver import DnsTestServer
from yizhan.authn.dkim import sign, verify
from yizhan.dns.resolver import Resolver
from yizhan.store.dkimkeys import DkimKeys


def _published_value(output: str) -> tuple[str, str]:
    name = re.search(r"name:\s+(\S+)", output)
    value = re.search(r"value:\s+(v=DKIM1; k=rsa; p=\S+)", output)
    assert name and value, output
    return name.group(1), value.group(1)


def test_genkey_prints_a_record_that_verifies(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    out = ok(data_dir, "dkim", "genkey", "example.com", "--selector", "s1", "--bits", "1024")
    name, value = _published_value(out)
    assert name == "s1._domainkey.example.com"
    key_file = data_dir / "dkim" / "example.com" / "s1.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The private key is never printed.
    assert "PRIVATE KEY" not in out
    # The zone-file form splits the long value into strings of at most 255 characters.
    zone = [line for line in out.splitlines() if line.startswith("s1._domainkey.example.com.")]
    assert zone and all(len(s) <= 255 for s in re.findall(r'"([^"]*)"', zone[0]))
    assert "".join(re.findall(r'"([^"]*)"', zone[0])) == value

    async def round_trip() -> list[str]:
        key = await DkimKeys(data_dir / "dkim").get("example.com")
        assert key is not None and key.selector == "s1"
        raw = make_message(sender="alice@example.com")
        async with DnsTestServer() as dns:
            dns.add(name, "TXT", value)
            results = await verify(sign(raw, "example.com", "s1", key.private_pem) + raw,
                                   Resolver([dns.address], timeout=2.0))
        return [r.result for r in results]

    assert asyncio.run(round_trip()) == ["pass"]


def test_show_and_dns_list_every_record(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    env_args = ("--config", str(data_dir.parent / "yizhan.toml"))
    (data_dir.parent / "yizhan.toml").write_text('[server]\nhostname = "mail.example.com"\n')
    before = ok(data_dir, "dns", "example.com", *env_args)
    assert "yizhan dkim genkey example.com" in before
    ok(data_dir, "dkim", "genkey", "example.com", "--selector", "old", "--bits", "1024")
    ok(data_dir, "dkim", "genkey", "example.com", "--selector", "new", "--bits", "1024")
    shown = ok(data_dir, "dkim", "show", "example.com")
    assert "selector old (older, no longer signing)" in shown and "selector new (signing)" in shown
    out = ok(data_dir, "dns", "example.com", *env_args)
    records = {tuple(line.split(None, 3)[:3]) for line in out.splitlines() if not line.startswith(";")}
    assert ("example.com.", "IN", "MX") in records
    assert re.search(r"^example\.com\.\s+IN MX\s+10 mail\.example\.com\.$", out, re.MULTILINE)
    assert re.search(r'^example\.com\.\s+IN TXT\s+"v=spf1 mx -all"$', out, re.MULTILINE)
    assert re.search(r'^new\._domainkey\.example\.com\.\s+IN TXT\s+(\( )?"v=DKIM1; k=rsa; p=', out, re.MULTILINE)
    assert "old._domainkey" not in out
    assert re.search(r'^_dmarc\.example\.com\.\s+IN TXT\s+"v=DMARC1; p=quarantine; '
                     r'rua=mailto:postmaster@example\.com"$', out, re.MULTILINE)


def test_dns_warns_about_a_local_hostname(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    result = yz(data_dir, "dns", "example.com")
    assert result.returncode == 0 and "server.hostname is 'localhost'" in result.stderr
    assert "IN MX" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["dkim", "genkey", "nowhere.example"], "not hosted"),
    (["dkim", "genkey", "example.com", "--bits", "512"], "1024 to 4096"),
    (["dkim", "genkey", "example.com", "--selector", "../etc"], "not a DKIM selector"),
    (["dkim", "show", "example.com"], "has no DKIM key"),
    (["dkim", "show", "nowhere.example"], "not hosted"),
    (["dns", "nowhere.example"], "not hosted"),
    (["dns", "bad domain"], "not a valid domain"),
])
def test_refusals_are_clear(data_dir: Path, args: list[str], message: str) -> None:
    ok(data_dir, "domain", "add", "example.com")
    result = yz(data_dir, *args)
    assert result.returncode == 1
    assert message in " ".join((result.stderr + result.stdout).split())
    assert "Traceback" not in result.stderr


def test_existing_selector_is_not_overwritten(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    ok(data_dir, "dkim", "genkey", "example.com", "--selector", "s1", "--bits", "1024")
    key_file = data_dir / "dkim" / "example.com" / "s1.pem"
    before = key_file.read_bytes()
    result = yz(data_dir, "dkim", "genkey", "example.com", "--selector", "s1")
    assert result.returncode == 1 and "already has a DKIM key" in result.stderr
    assert key_file.read_bytes() == before


def test_dns_check_against_published_records(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    (data_dir / "yizhan.toml").write_text('[server]\nhostname = "mail.example.com"\n')
    ok(data_dir, "dkim", "genkey", "example.com", "--selector", "s1", "--bits", "1024")
    key = asyncio.run(DkimKeys(data_dir / "dkim").get("example.com"))
    assert key is not None
    with DnsTestServer() as dns:
        env = clean_environment(data_dir)
        env["YIZHAN_DNS__NAMESERVERS"] = dns.address
        dns.add("example.com", "MX", "10 mail.example.com.")
        dns.add("example.com", "TXT", "v=spf1 mx -all")
        dns.add("_dmarc.example.com", "TXT", "v=DMARC1; p=quarantine")
        missing = yz(data_dir, "dns", "example.com", "--check", env=env)
        assert missing.returncode == 1
        lines = missing.stdout.splitlines()
        assert any(line.startswith("ok") and "MX of example.com: mail.example.com" in line for line in lines)
        assert any(line.startswith("FAIL") and "addresses of mail.example.com: none" in line for line in lines)
        assert any(line.startswith("FAIL") and "DKIM key at s1._domainkey.example.com: none" in line
                   for line in lines)
        assert any(line.startswith("ok") and "DMARC of example.com: p=quarantine" in line for line in lines)
        dns.add("mail.example.com", "A", "127.0.0.1")
        dns.add("s1._domainkey.example.com", "TXT", key.public_txt)
        complete = yz(data_dir, "dns", "example.com", "--check", env=env)
        assert complete.returncode == 0, complete.stdout + complete.stderr
        assert all(line.startswith("ok") for line in complete.stdout.splitlines())
        dns.add("example.com", "TXT", "v=spf1 a -all")
        twice = yz(data_dir, "dns", "example.com", "--check", env=env)
        assert twice.returncode == 1 and "several records" in twice.stdout


def test_internationalised_domain_records_use_a_labels(data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "例子.中国")
    ok(data_dir, "dkim", "genkey", "例子.中国", "--selector", "s1", "--bits", "1024")
    assert (data_dir / "dkim" / "xn--fsqu00a.xn--fiqs8s" / "s1.pem").exists()
    out = ok(data_dir, "dns", "例子.中国")
    assert re.search(r"^xn--fsqu00a\.xn--fiqs8s\.\s+IN MX", out, re.MULTILINE)
    assert re.search(r"^s1\._domainkey\.xn--fsqu00a\.xn--fiqs8s\.\s+IN TXT", out, re.MULTILINE)
    assert "_dmarc.xn--fsqu00a.xn--fiqs8s." in out
