"""What `yizhan serve` prints once it serves (one process or a supervisor of workers): the data directory, the
listeners, the first administrator's generated password (only at the very first start) and "ready"."""

from __future__ import annotations

from rich.table import Table

from yizhan.app.server import Listening
from yizhan.cli.common import console
from yizhan.config.paths import DataPaths


def print_table(paths: DataPaths, listening: list[Listening], first_admin: tuple[str, str] | None,
                note: str = "") -> None:
    """What `yizhan serve` prints once it serves: the listeners, the first administrator's password, "ready"."""
    console.print(f"[bold]Yizhan 驿站[/] — data directory {paths.root}{note}", highlight=False)
    table = Table("service", "listening on", "TLS", "state")
    for item in listening:
        table.add_row(item.spec.description, f"{item.host}:{item.port}", item.spec.tls, item.state)
    console.print(table)
    if first_admin:
        address, password = first_admin
        console.print(f"first administrator: [bold]{address}[/]  password: [bold]{password}[/]", highlight=False)
        console.print("(shown only this once: write it down, or change it with `yizhan user passwd`)")
    console.print("ready — press Ctrl-C to stop", highlight=False)
