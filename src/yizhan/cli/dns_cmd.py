"""`yizhan dkim genkey|show DOMAIN` and `yizhan dns DOMAIN`: the DNS records a hosted domain needs.

The records are printed in zone-file syntax, ready to paste; TXT values longer than 255 bytes are split into quoted
strings (RFC 1035 §3.3.14, RFC 7208 §3.3), which every DNS server joins back. Only hosted domains are accepted.
`yizhan dns DOMAIN --check` looks the records up through `dns.nameservers` and reports each as ok or FAIL.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from yizhan.authn.dmarc import a_label, parse_record
from yizhan.cli.common import ConfigOption, DataOption, errors, run
from yizhan.dns.resolver import Resolver
from yizhan.services.directory import normalize_domain
from yizhan.services.runtime import Services
from yizhan.store.dkimkeys import DkimKey
from yizhan.util.errors import NotFound, TemporaryFailure

dkim_app = typer.Typer(help="DKIM signing keys of hosted domains.", no_args_is_help=True)

_CHUNK = 255


def quoted_txt(value: str) -> str:
    """A TXT value in zone-file syntax: one quoted string per 255 bytes."""
    chunks = [value[i:i + _CHUNK] for i in range(0, len(value), _CHUNK)] or [""]
    quoted = ['"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks]
    return quoted[0] if len(quoted) == 1 else "( " + " ".join(quoted) + " )"


def _line(name: str, rtype: str, value: str) -> str:
    return f"{name + '.':<40} IN {rtype:<5} {value}"


def dkim_line(key: DkimKey) -> str:
    return _line(key.record_name, "TXT", quoted_txt(key.public_txt))


async def _hosted(services: Services, domain: str) -> str:
    name = normalize_domain(domain)
    if await services.store.directory.get_domain(name) is None:
        raise NotFound(f"domain {name} is not hosted here (add it with `yizhan domain add {name}`)")
    return name


def _print_key(key: DkimKey, data_root: str) -> None:
    typer.echo(f"DKIM key for {key.domain}, selector {key.selector}: {data_root}/dkim/{key.domain}/"
               f"{key.selector}.pem")
    typer.echo("Publish this TXT record:")
    typer.echo(f"  name:  {key.record_name}")
    typer.echo(f"  value: {key.public_txt}")
    typer.echo("In a zone file:")
    typer.echo(dkim_line(key))


@dkim_app.command("genkey")
def dkim_genkey(
    domain: str,
    selector: Annotated[str | None, typer.Option(help="Selector [default: yz<YEAR><MONTH>]")] = None,
    bits: Annotated[int, typer.Option(help="RSA key size, 1024 to 4096")] = 2048,
    data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Create a DKIM key for a hosted domain and print the TXT record to publish. The newest key signs."""

    async def create(s: Services) -> tuple[DkimKey, str]:
        name = await _hosted(s, domain)
        return await s.store.dkim_keys.create(name, selector, bits), str(s.paths.root)

    key, root = run(data, config, create)
    _print_key(key, root)


@dkim_app.command("show")
def dkim_show(domain: str, data: DataOption = None, config: ConfigOption = None) -> None:
    """Print a hosted domain's DKIM keys and their TXT records (the newest one signs)."""

    async def show(s: Services) -> list[DkimKey]:
        name = await _hosted(s, domain)
        keys = await s.store.dkim_keys.list(name)
        if not keys:
            raise NotFound(f"{name} has no DKIM key (create one with `yizhan dkim genkey {name}`)")
        return keys

    keys = run(data, config, show)
    for key in keys:
        state = "signing" if key is keys[-1] else "older, no longer signing"
        typer.echo(f"; selector {key.selector} ({state})")
        typer.echo(dkim_line(key))


async def check_published(resolver: Resolver, name: str, host: str, key: DkimKey | None) -> list[tuple[bool, str]]:
    """Each needed record as DNS answers it now: (published as it should be, what was found)."""
    checks: list[tuple[bool, str]] = []
    try:
        mx = await resolver.mx(name)
        hosts = [h for _, h in mx.hosts] if not mx.implicit else []
        checks.append((host in hosts, f"MX of {name}: {', '.join(hosts) or 'none'} (expected {host})"))
        addresses = await resolver.addresses(host)
        checks.append((bool(addresses), f"addresses of {host}: {', '.join(addresses) or 'none'}"))
        spf = [t for t in await resolver.txt(name) if t.lower().startswith("v=spf1")]
        # RFC 7208 §4.5: more than one SPF record is a permanent error for every receiver.
        checks.append((len(spf) == 1, f"SPF of {name}: {' | '.join(spf) or 'none'}"
                       + (" (several records: receivers treat this as an error)" if len(spf) > 1 else "")))
        if key is None:
            checks.append((False, f"DKIM: {name} has no key (run `yizhan dkim genkey {name}`)"))
        else:
            wanted = key.public_txt.partition("p=")[2]
            published = [re.sub(r"\s+", "", t).partition("p=")[2].partition(";")[0]
                         for t in await resolver.txt(key.record_name)]
            checks.append((wanted in published, f"DKIM key at {key.record_name}: "
                           + ("matches" if wanted in published else "published key differs" if published
                              else "none")))
        records = [r for r in (parse_record(t, name) for t in await resolver.txt(f"_dmarc.{name}")) if r]
        checks.append((len(records) == 1, f"DMARC of {name}: "
                       + (f"p={records[0].p}" if len(records) == 1 else f"{len(records)} records")))
    except TemporaryFailure as exc:
        checks.append((False, f"cannot check now: {exc}"))
    return checks


def dns_command(domain: str,
                check: Annotated[bool, typer.Option("--check", help="Look the records up (dns.nameservers) and "
                                                    "say which are missing or wrong; exit 1 if any")] = False,
                data: DataOption = None, config: ConfigOption = None) -> None:
    """Print every DNS record a hosted domain needs: MX, SPF, DKIM, DMARC, and client-setup hints."""

    async def gather(s: Services) -> tuple[str, str, DkimKey | None, list[tuple[bool, str]]]:
        name = a_label(await _hosted(s, domain))  # zone files hold internationalised names as A-labels
        host = a_label(s.settings.server.hostname)
        key = await s.store.dkim_keys.get(name)
        found = await check_published(Resolver.from_settings(s.settings), name, host, key) if check else []
        return name, host, key, found

    name, host, key, found = run(data, config, gather)
    if check:
        for ok, text in found:
            typer.echo(f"{'ok' if ok else 'FAIL':<5} {text}")
        if not all(ok for ok, _ in found):
            raise typer.Exit(1)
        return
    if "." not in host:
        errors.print(f"[bold yellow]warning:[/] server.hostname is '{host}': set it to this server's public name "
                     f"(e.g. mail.{name}) before publishing these records", highlight=False)
    typer.echo(f"; DNS records for {name}, served by {host}")
    typer.echo("; Mail for the domain goes to this server (RFC 5321 §5.1):")
    typer.echo(_line(name, "MX", f"10 {host}."))
    typer.echo(f"; {host} needs A/AAAA records with this server's public addresses, and matching PTR records.")
    typer.echo("; Only this server sends for the domain (SPF, RFC 7208):")
    typer.echo(_line(name, "TXT", quoted_txt("v=spf1 mx -all")))
    if key is None:
        typer.echo(f"; DKIM: no key yet. Create one with `yizhan dkim genkey {name}`, then run this again.")
    else:
        typer.echo(f"; Outgoing mail is signed with selector {key.selector} (DKIM, RFC 6376):")
        typer.echo(dkim_line(key))
    typer.echo("; What receivers should do with mail failing SPF and DKIM, and where to report (DMARC, RFC 7489):")
    typer.echo(_line(f"_dmarc.{name}", "TXT", quoted_txt(f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{name}")))
    typer.echo("; Optional, for mail clients finding their settings (RFC 6186, RFC 8314; Thunderbird autoconfig):")
    typer.echo(_line(f"_submissions._tcp.{name}", "SRV", f"0 1 465 {host}."))
    typer.echo(_line(f"_imaps._tcp.{name}", "SRV", f"0 1 993 {host}."))
    typer.echo(_line(f"autoconfig.{name}", "CNAME", f"{host}."))
