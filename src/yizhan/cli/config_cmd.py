"""`yizhan config show`: the effective configuration (file, environment, defaults) with secrets masked."""

from __future__ import annotations

import json

import typer

from yizhan.cli.common import ConfigOption, DataOption, console, settings_for
from yizhan.config.settings import masked

config_app = typer.Typer(help="The configuration.", no_args_is_help=True)


def _toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@config_app.command("show")
def show(data: DataOption = None, config: ConfigOption = None) -> None:
    """Print the effective configuration as TOML (secrets masked)."""
    settings, paths = settings_for(data, config)
    console.print(f"# data directory: {paths.root}", highlight=False)
    for section, values in masked(settings).items():
        console.print(f"\n[{section}]", highlight=False, markup=False)
        for key, value in values.items():
            console.print(f"{key} = {_toml_value(value)}", highlight=False, markup=False)
