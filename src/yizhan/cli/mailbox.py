"""`yizhan import|export|search|check`: whole mailboxes in and out, finding mail, and the store's integrity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from yizhan.cli.common import ConfigOption, DataOption, console, fail, run
from yizhan.services.runtime import Services
from yizhan.services.transfer import ExportSummary, ImportSummary
from yizhan.store.integrity import CheckReport
from yizhan.store.records import MessageSummary
from yizhan.util.clock import from_seconds

UserOption = Annotated[str, typer.Option("--user", "-u", help="The account's address")]
FolderOption = Annotated[
    str | None, typer.Option("--folder", "-f", help="Folder name (the command's description gives the default)")
]


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=False, disable=not console.is_terminal)


def import_command(
    path: Annotated[Path, typer.Argument(help="An mbox file, a Maildir, or a folder of .eml files")],
    user: UserOption, folder: FolderOption = None, data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Import mail into an account (INBOX unless --folder; Maildir++ subfolders keep their names)."""

    async def action(services: Services) -> ImportSummary:
        with _progress() as bar:
            task = bar.add_task(f"importing {path.name}", total=None)

            def report(done: int, total: int | None, unit: str) -> None:
                bar.update(task, completed=done, total=total)

            return await services.transfer.import_path(user, path, folder, report)

    summary = run(data, config, action)
    console.print(f"imported {summary.imported}, skipped {summary.skipped} (already present), "
                  f"malformed but kept {summary.malformed}, failed {summary.failed} — {summary.read} read")
    for name, count in summary.folders.items():
        console.print(f"  {name}: {count}")
    for failure in summary.failures[:20]:
        console.print(f"  [red]failed[/] {failure}")
    if summary.failed:
        raise typer.Exit(1)


def export_command(
    path: Annotated[Path, typer.Argument(help="Output: an mbox file or Maildir (or a directory for all folders)")],
    user: UserOption, folder: FolderOption = None,
    fmt: Annotated[str, typer.Option("--format", help="mbox or maildir")] = "mbox",
    data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Export one folder (--folder) or every folder of an account."""
    if fmt not in ("mbox", "maildir"):
        raise fail("--format must be mbox or maildir")
    chosen: Literal["mbox", "maildir"] = "mbox" if fmt == "mbox" else "maildir"

    async def action(services: Services) -> ExportSummary:
        with _progress() as bar:
            task = bar.add_task(f"exporting to {path.name}", total=None)

            def report(done: int, total: int | None, unit: str) -> None:
                bar.update(task, completed=done, total=total)

            return await services.transfer.export(user, path, chosen, folder, report)

    summary = run(data, config, action)
    console.print(f"exported {summary.exported} messages")
    for name, count in summary.folders.items():
        console.print(f"  {name}: {count}")


def search_command(
    query: Annotated[str, typer.Argument(help='Words (Chinese too), "phrases", from: to: subject: in: '
                                               "before:YYYY-MM-DD after: has:attachment is:unread is:flagged")],
    user: UserOption, folder: FolderOption = None,
    limit: Annotated[int, typer.Option(help="Results per page")] = 50,
    page: Annotated[int, typer.Option(help="Page number, from 1")] = 1,
    data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Find messages of an account, newest first."""
    if page < 1:
        raise fail("--page starts at 1")

    async def action(services: Services) -> list[MessageSummary]:
        account = await services.directory.account(user)
        return await services.search.search(account.id, query, folder, limit=limit, offset=(page - 1) * limit)

    results = run(data, config, action)
    table = Table("date", "from", "subject", "folder", "uid")
    for item in results:
        sender = f"{item.from_name} <{item.from_addr}>" if item.from_name else item.from_addr
        table.add_row(from_seconds(item.date).strftime("%Y-%m-%d %H:%M"), sender, item.subject, item.folder,
                      str(item.uid))
    console.print(table)
    console.print(f"{len(results)} message(s)" + (f" on page {page}" if page > 1 else ""))


def check_command(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what can be fixed")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="Check that blobs exist without hashing them")] = False,
    data: DataOption = None, config: ConfigOption = None,
) -> None:
    """Check the store's integrity: blobs, counters, UIDs, orphans."""
    report: CheckReport = run(data, config, lambda s: s.store.check(repair=repair, quick=quick))
    console.print(f"checked {report.messages} messages and {report.blobs_checked} blobs")
    for problem in report.problems:
        state = "[green]repaired[/]" if problem.repaired else "[red]problem[/]"
        console.print(f"  {state} {problem.kind}: {problem.detail}", highlight=False)
    if report.ok:
        console.print("[green]store is consistent[/]" if not report.problems else "[green]all problems repaired[/]")
    else:
        raise typer.Exit(1)
