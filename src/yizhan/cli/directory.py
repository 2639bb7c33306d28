"""`yizhan domain|user|alias ...`: the directory of who receives mail here."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from yizhan.cli.common import ConfigOption, DataOption, console, fail, human_size, parse_size, run
from yizhan.services.directory import ROLES
from yizhan.services.runtime import Services

domain_app = typer.Typer(help="Hosted domains.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts (mailboxes).", no_args_is_help=True)
alias_app = typer.Typer(help="Aliases, one-to-many, and catch-alls (@domain).", no_args_is_help=True)


@domain_app.command("add")
def domain_add(name: str, data: DataOption = None, config: ConfigOption = None) -> None:
    """Host a new domain."""
    record = run(data, config, lambda s: s.directory.add_domain(name))
    console.print(f"added domain [bold]{record.name}[/]")


@domain_app.command("list")
def domain_list(data: DataOption = None, config: ConfigOption = None) -> None:
    """List hosted domains."""
    rows = run(data, config, lambda s: s.directory.list_domains())
    table = Table("domain", "accounts", "aliases")
    for record, n_accounts, n_aliases in rows:
        table.add_row(record.name, str(n_accounts), str(n_aliases))
    console.print(table)


@domain_app.command("remove")
def domain_remove(name: str, force: Annotated[bool, typer.Option(
        "--force", help="Also delete the domain's accounts and all their mail")] = False,
        data: DataOption = None, config: ConfigOption = None) -> None:
    """Stop hosting a domain."""
    run(data, config, lambda s: s.directory.remove_domain(name, force=force))
    console.print(f"removed domain [bold]{name}[/]")


def _ask_password(password: str | None) -> str:
    if password is not None:
        return password
    try:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    except typer.Abort as exc:
        raise fail("no password given (use --password or type one at the prompt)") from exc


@user_app.command("add")
def user_add(
    address: str,
    password: Annotated[str | None, typer.Option(help="Password (prompted for when left out)")] = None,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")] = "user",
    quota: Annotated[str, typer.Option(help="Mailbox quota, e.g. 2G or 500M; 0 is unlimited")] = "0",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Create an account with its standard folders."""
    secret = _ask_password(password)
    size = parse_size(quota)
    record = run(data, config, lambda s: s.directory.add_account(address, secret, role, size, name))
    console.print(f"added {record.role} [bold]{record.address}[/]")


@user_app.command("list")
def user_list(domain: Annotated[str | None, typer.Option(help="Only this domain")] = None,
              data: DataOption = None, config: ConfigOption = None) -> None:
    """List accounts with role, quota and usage."""
    rows = run(data, config, lambda s: s.directory.list_accounts(domain))
    table = Table("address", "name", "role", "used", "quota", "state")
    for r in rows:
        table.add_row(r.address, r.display_name, r.role, human_size(r.used_bytes),
                      human_size(r.quota_bytes) if r.quota_bytes else "unlimited",
                      "disabled" if r.disabled else "active")
    console.print(table)


@user_app.command("passwd")
def user_passwd(address: str, password: Annotated[str | None, typer.Option(help="New password")] = None,
                data: DataOption = None, config: ConfigOption = None) -> None:
    """Change an account's password."""
    secret = _ask_password(password)
    run(data, config, lambda s: s.directory.set_password(address, secret))
    console.print(f"password of [bold]{address}[/] changed")


@user_app.command("set")
def user_set(
    address: str,
    role: Annotated[str | None, typer.Option(help=f"One of: {', '.join(ROLES)}")] = None,
    quota: Annotated[str | None, typer.Option(help="e.g. 2G; 0 is unlimited")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    disabled: Annotated[bool | None, typer.Option("--disable/--enable", help="Refuse logins and mail")] = None,
    data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Change an account's role, quota, name or state."""
    size = parse_size(quota) if quota is not None else None
    run(data, config, lambda s: s.directory.update_account(address, role=role, quota_bytes=size,
                                                           display_name=name, disabled=disabled))
    console.print(f"updated [bold]{address}[/]")


@user_app.command("remove")
def user_remove(address: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
                data: DataOption = None, config: ConfigOption = None) -> None:
    """Delete an account and all its mail."""
    if not yes and not typer.confirm(f"Delete {address} and all its mail?", default=False):
        raise fail("not removed")
    run(data, config, lambda s: s.directory.remove_account(address))
    console.print(f"removed [bold]{address}[/]")


@alias_app.command("add")
def alias_add(source: Annotated[str, typer.Argument(help="Address, or @domain for a catch-all")],
              targets: Annotated[list[str], typer.Argument(help="One or more target addresses")],
              data: DataOption = None, config: ConfigOption = None) -> None:
    """Deliver mail for SOURCE to every TARGET."""
    records = run(data, config, lambda s: s.directory.add_alias(source, targets))
    for record in records:
        console.print(f"added alias {record.source} → {record.target}")


@alias_app.command("list")
def alias_list(domain: Annotated[str | None, typer.Option(help="Only this domain")] = None,
               data: DataOption = None, config: ConfigOption = None) -> None:
    """List aliases."""
    rows = run(data, config, lambda s: s.directory.list_aliases(domain))
    table = Table("source", "target")
    for r in rows:
        table.add_row(r.source, r.target)
    console.print(table)


@alias_app.command("remove")
def alias_remove(source: str, target: Annotated[str | None, typer.Argument(help="Only this target")] = None,
                 data: DataOption = None, config: ConfigOption = None) -> None:
    """Remove an alias (every target, or one)."""

    async def remove(s: Services) -> int:
        return await s.directory.remove_alias(source, target)

    count = run(data, config, remove)
    console.print(f"removed {count} alias target(s) of {source}")
