"""The data directory layout. Everything Yizhan keeps lives below one directory:

    DATA/yizhan.toml      the configuration file (optional)
    DATA/yizhan.db        SQLite metadata (WAL mode), unless a database URL is configured
    DATA/blobs/ab/<sha256> message bytes, content-addressed, immutable
    DATA/tls/             the self-signed certificate and key made at first start
    DATA/dkim/<domain>/<selector>.pem  DKIM signing keys (mode 0600)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "yizhan-data"


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def resolve(cls, data: Path | str | None) -> DataPaths:
        """`--data`, else YIZHAN_DATA, else ./yizhan-data."""
        chosen = data or os.environ.get("YIZHAN_DATA") or DEFAULT_DATA_DIR
        return cls(Path(chosen).expanduser().absolute())

    @property
    def config_file(self) -> Path:
        return self.root / "yizhan.toml"

    @property
    def database(self) -> Path:
        return self.root / "yizhan.db"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def dkim(self) -> Path:
        return self.root / "dkim"

    def create(self) -> None:
        """Make the directories (private to the owner)."""
        for directory in (self.root, self.blobs, self.tls):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
