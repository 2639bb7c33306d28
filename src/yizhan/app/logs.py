"""The server's logging: one format for the single process, the supervisor and each worker (named in each line)."""

from __future__ import annotations

import logging

from yizhan.config.settings import Settings


def configure_logging(settings: Settings, process: str | None = None) -> None:
    """Log at `log.level` to stderr; `process` (e.g. "worker-1") names the process in every line."""
    named = f"{process} " if process else ""
    logging.basicConfig(level=settings.log.level, format=f"%(asctime)s %(levelname)s {named}%(name)s: %(message)s")
    # aiosmtpd logs every command and reply at INFO (its "mail.log" logger), and Alembic every migration step:
    # protocol transcripts only at DEBUG, so a busy server's log stays readable and cheap.
    if settings.log.level != "DEBUG":
        for noisy in ("mail.log", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
