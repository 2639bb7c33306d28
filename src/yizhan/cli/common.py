"""What every CLI command shares: the --data/--config options, opening the services, and turning expected
failures into a clear message and a non-zero exit (1 for refused requests, 2 for bad configuration)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from yizhan.config.paths import DataPaths
from yizhan.config.settings import ConfigError, Settings, load_settings
from yizhan.services.archive import ArchiveError
from yizhan.services.runtime import Services
from yizhan.util.errors import YizhanError

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)

DataOption = Annotated[
    Path | None,
    typer.Option("--data", envvar="YIZHAN_DATA", help="Data directory [default: ./yizhan-data]",
                 show_default=False),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="YIZHAN_CONFIG", help="Configuration file [default: DATA/yizhan.toml]",
                 show_default=False),
]


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def settings_for(data: Path | None, config: Path | None, overrides: dict[str, Any] | None = None
                 ) -> tuple[Settings, DataPaths]:
    paths = DataPaths.resolve(data)
    if config is not None and not config.exists():
        raise fail(f"configuration file {config} does not exist", 2)
    try:
        return load_settings(config or paths.config_file, overrides=overrides), paths
    except ConfigError as exc:
        raise fail(str(exc), 2) from exc


@contextlib.asynccontextmanager
async def open_services(data: Path | None, config: Path | None) -> AsyncIterator[Services]:
    settings, paths = settings_for(data, config)
    services = await Services.open(settings, paths)
    try:
        yield services
    finally:
        await services.close()


def run(data: Path | None, config: Path | None, action: Callable[[Services], Awaitable[T]]) -> T:
    """Open the services, run `action`, close; expected failures become a message and exit code 1."""

    async def main() -> T:
        async with open_services(data, config) as services:
            return await action(services)

    try:
        return asyncio.run(main())
    except (YizhanError, ArchiveError) as exc:
        raise fail(str(exc)) from exc


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'500M', '2G', '1024', '1.5GiB' → bytes; 0 means unlimited."""
    match = _SIZE.match(text)
    if not match:
        raise fail(f"'{text}' is not a size (examples: 0, 500M, 2G)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " kmgt".index(unit.lower() or " "))


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
