"""The `yizhan` entry point: the CLI plus `yizhan serve`, which runs the whole mail system until Ctrl-C/SIGTERM."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from yizhan.app.banner import print_table
from yizhan.app.eventloop import run_server, serving_loop
from yizhan.app.logs import configure_logging
from yizhan.app.server import Server
from yizhan.app.supervisor import supervise
from yizhan.cli.common import ConfigOption, DataOption, console, fail, settings_for
from yizhan.cli.main import cli
from yizhan.util.errors import YizhanError

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
    workers: Annotated[int | None, typer.Option(help="Worker processes sharing the listeners [default: 1]",
                                                show_default=False)] = None,
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
    if workers is not None:
        overrides.setdefault("server", {})["workers"] = workers
    settings, paths = settings_for(data, config, overrides)
    if settings.server.workers > 1:
        configure_logging(settings, "supervisor")
        try:
            supervise(settings, paths)
        except (YizhanError, OSError) as exc:
            raise fail(f"cannot start: {exc}") from exc
        return
    configure_logging(settings)
    try:
        run_server(settings.server.event_loop, _serve(Server(settings, paths)))
    except (YizhanError, OSError) as exc:
        raise fail(f"cannot start: {exc}") from exc


async def _serve(server: Server) -> None:
    stop = serving_loop()
    await server.start()
    try:
        _print_table(server)
        await stop.wait()
        console.print("stopping…")
    finally:
        await server.stop()
    console.print("stopped cleanly")


def _print_table(server: Server) -> None:
    print_table(server.paths, server.listening, server.first_admin)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
