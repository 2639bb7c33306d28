"""`yizhan queue list|show|retry|delete`: the outbound delivery queue, for administrators.

These act on the database the running server uses: `retry` makes recipients due now (a running server picks them
up within its poll interval), `delete` removes a message without sending it and without a bounce.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import typer
from rich.table import Table

from yizhan.cli.common import ConfigOption, DataOption, console, fail, human_size, run
from yizhan.store.outbound import QueuedMessage

queue_app = typer.Typer(help="The outbound delivery queue.", no_args_is_help=True)


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _sender(message: QueuedMessage) -> str:
    return f"<{message.mail_from}>" if message.mail_from else "<> (bounce)"


@queue_app.command("list")
def queue_list(data: DataOption = None, config: ConfigOption = None) -> None:
    """List queued messages with their recipients' states."""
    messages = run(data, config, lambda s: s.outbound.list())
    if not messages:
        console.print("the queue is empty")
        return
    table = Table("id", "queued (UTC)", "size", "kind", "from", "recipients", "next attempt (UTC)")
    for m in messages:
        pending = [r for r in m.recipients if r.status == "pending"]
        recipients = ", ".join(f"{r.address} ({r.status})" for r in m.recipients)
        next_at = min((r.next_attempt_at for r in pending), default=None)
        table.add_row(m.queue_id, _when(m.created_at), human_size(m.size), m.kind, _sender(m), recipients,
                      _when(next_at))
    console.print(table)
    console.print(f"{len(messages)} message(s)")


@queue_app.command("show")
def queue_show(queue_id: str,
               body: Annotated[bool, typer.Option("--body", help="Also print the message's headers")] = False,
               data: DataOption = None, config: ConfigOption = None) -> None:
    """Show one queued message: envelope, and each recipient's attempts and last reply."""
    message, raw = run(data, config, lambda s: s.outbound.show(queue_id))
    console.print(f"id:        {message.queue_id}", highlight=False)
    console.print(f"queued:    {_when(message.created_at)} UTC", highlight=False)
    console.print(f"from:      {_sender(message)}", highlight=False)
    console.print(f"size:      {human_size(message.size)}", highlight=False)
    console.print(f"kind:      {message.kind}", highlight=False)
    console.print(f"DKIM:      {'signed for ' + (message.sign_domain or '') if message.signed else 'not signed'}",
                  highlight=False)
    table = Table("recipient", "status", "attempts", "last attempt (UTC)", "next attempt (UTC)", "last reply")
    for r in message.recipients:
        table.add_row(r.address, r.status, str(r.attempts), _when(r.last_attempt_at),
                      _when(r.next_attempt_at) if r.status == "pending" else "-", r.last_reply)
    console.print(table)
    if body:
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        console.print(head.decode("utf-8", "replace"), highlight=False, markup=False)


@queue_app.command("retry")
def queue_retry(queue_id: Annotated[str | None, typer.Argument(help="A queued message's id")] = None,
                all_: Annotated[bool, typer.Option("--all", help="Every queued message")] = False,
                data: DataOption = None, config: ConfigOption = None) -> None:
    """Try a message (or all of them) again now."""
    if (queue_id is None) == (not all_):
        raise fail("give a queue id or --all (not both)")
    count = run(data, config, lambda s: s.outbound.retry(None if all_ else queue_id))
    console.print(f"{count} recipient(s) due now")


@queue_app.command("delete")
def queue_delete(queue_id: str, data: DataOption = None, config: ConfigOption = None) -> None:
    """Remove a message from the queue without sending it (no bounce is sent)."""
    run(data, config, lambda s: s.outbound.delete(queue_id))
    console.print(f"deleted [bold]{queue_id}[/] from the queue")
