"""The `yizhan` entry point: the CLI plus `yizhan serve`, which runs the whole mail system until Ctrl-C/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer
from rich.table import Table

from yizhan.app.server import Server
from yizhan.cli.common import ConfigOption, DataOption, console, fail, settings_for
from yizhan.cli.main import cli
from yizhan.util.errors import YizhanError
from yizhan.util.threads import name_this_thread

PortOption = Annotated[int | None, typer.Option(show_default=False)]


@cli.command("serve")
def serve(
    data: DataOption = None,
    config: ConfigOption = None,
    domain: Annotated[str | None, typer.Option(help="First domain, created at the first start")] = None,
    hostname: Annotated[str | None, typer.Option(help="Server host name")] = None,
    bind: Annotated[str | None, typer.Option(help="Address to listen on [default: 127.0.0.1]")] = None,
    smtp_port: PortOption = None, submission_port: PortOption = None, smtps_port: PortOption = None,
    lmtp_port: PortOption = None, imap_port: PortOption = None, imaps_port: PortOption = None,
    pop3_port: PortOption = None, pop3s_port: PortOption = None, http_port: PortOption = None,
) -> None:
    """Start the mail system (creates the data directory, database, certificate and first admin if needed)."""
    overrides: dict[str, Any] = {}
    server_keys = {"domain": domain, "hostname": hostname, "bind": bind}
    if any(v is not None for v in server_keys.values()):
        overrides["server"] = {k: v for k, v in server_keys.items() if v is not None}
    ports = {"smtp": smtp_port, "submission": submission_port, "smtps": smtps_port, "lmtp": lmtp_port,
             "imap": imap_port, "imaps": imaps_port, "pop3": pop3_port, "pop3s": pop3s_port, "http": http_port}
    if any(v is not None for v in ports.values()):
        overrides["listen"] = {k: v for k, v in ports.items() if v is not None}
    settings, paths = settings_for(data, config, overrides)
    logging.basicConfig(level=settings.log.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiosmtpd logs every command and reply at INFO (its "mail.log" logger), and Alembic every migration step:
    # protocol transcripts only at DEBUG, so a busy server's log stays readable and cheap.
    if settings.log.level != "DEBUG":
        for noisy in ("mail.log", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        asyncio.run(_serve(Server(settings, paths)))
    except (YizhanError, OSError) as exc:
        raise fail(f"cannot start: {exc}") from exc


async def _serve(server: Server) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # asyncio's own threads (parsing, file reads) under a name `top -H` shows (util/threads.py).
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio", initializer=name_this_thread))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        _print_table(server)
        await stop.wait()
        console.print("stopping…")
    finally:
        await server.stop()
    console.print("stopped cleanly")


def _print_table(server: Server) -> None:
    console.print(f"[bold]Yizhan 驿站[/] — data directory {server.paths.root}", highlight=False)
    table = Table("service", "listening on", "TLS", "state")
    for item in server.listening:
        table.add_row(item.spec.description, f"{item.host}:{item.port}", item.spec.tls, item.state)
    console.print(table)
    if server.first_admin:
        address, password = server.first_admin
        console.print(f"first administrator: [bold]{address}[/]  password: [bold]{password}[/]", highlight=False)
        console.print("(shown only this once: write it down, or change it with `yizhan user passwd`)")
    console.print("ready — press Ctrl-C to stop", highlight=False)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
