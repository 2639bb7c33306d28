"""The `yizhan` command: assembles the sub-commands. `serve` is added by the composition root (yizhan.app)."""

from __future__ import annotations

import typer

from yizhan import __version__
from yizhan.cli.config_cmd import config_app
from yizhan.cli.directory import alias_app, domain_app, user_app
from yizhan.cli.dns_cmd import dkim_app, dns_command
from yizhan.cli.mailbox import check_command, export_command, import_command, search_command
from yizhan.cli.queue_cmd import queue_app

cli = typer.Typer(
    name="yizhan",
    help="Yizhan (驿站): a complete mail system in one process.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cli.add_typer(domain_app, name="domain")
cli.add_typer(user_app, name="user")
cli.add_typer(alias_app, name="alias")
cli.add_typer(config_app, name="config")
cli.command("import")(import_command)
cli.command("export")(export_command)
cli.command("search")(search_command)
cli.command("check")(check_command)
cli.add_typer(dkim_app, name="dkim")
cli.command("dns")(dns_command)
cli.add_typer(queue_app, name="queue")


@cli.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
