"""Writing the delivery log from the delivery paths (services/deliver.py, queue/runner.py) without slowing them.

`DeliveryLogWriter.submit` never waits and never raises: the record is normalised and bounded here (lowercase
addresses, Message-ID without <>, field lengths as services/audit.py's `DeliveryLogService.record` does) and
handed to one background task that appends everything waiting in one transaction (store/deliverylog.py) every
`LINGER` seconds at most, so under load many deliveries share one commit, and a delivery is acknowledged without
waiting for its log line.

Invariants:
- A failure to log (database busy, a bug, the store closing) is logged and dropped: it never fails, delays or
  repeats a delivery. The log is a record for administrators, not part of what was acknowledged, so entries still
  waiting when the process stops may be lost.
- At most `MAX_PENDING` records wait; beyond that new ones are dropped (and counted in the process log).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from yizhan.mail.addresses import normalize_address
from yizhan.store.deliverylog import DeliveryLog, DeliveryRecord
from yizhan.store.schema import DELIVERY_DIRECTIONS
from yizhan.store.store import Store
from yizhan.util.clock import now_seconds

log = logging.getLogger(__name__)

MAX_PENDING = 10_000
MAX_BATCH = 500
MAX_RECIPIENTS = 1000
# Seconds a batch of lines waits for more before they are written together.
LINGER = 0.1


def make_record(direction: str, sender: str, recipients: Sequence[str], message_id: str, size: int, result: str,
                detail: str = "", at: int | None = None) -> DeliveryRecord:
    rcpts = tuple(dict.fromkeys(normalize_address(r)[:320] for r in recipients[:MAX_RECIPIENTS] if r))
    return DeliveryRecord(at if at is not None else now_seconds(),
                          direction if direction in DELIVERY_DIRECTIONS else "local",
                          normalize_address(sender)[:320], rcpts, message_id.strip().strip("<>")[:500],
                          max(0, int(size)), result[:20], detail[:2000])


class DeliveryLogWriter:
    def __init__(self, store: Store) -> None:
        self.log = DeliveryLog(store.db)
        self._pending: list[DeliveryRecord] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def submit(self, direction: str, sender: str, recipients: Sequence[str], message_id: str, size: int,
               result: str, detail: str = "") -> None:
        """Queue one log line; returns at once (see the module docstring)."""
        try:
            record = make_record(direction, sender, recipients, message_id, size, result, detail)
            if len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("delivery log is behind: %d entries dropped", self.dropped)
                return
            self._pending.append(record)
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._drain(), name="delivery-log-writer")
        except Exception:
            log.exception("delivery log entry dropped")

    async def _drain(self) -> None:
        # Each batch waits `LINGER` for more lines: under load one transaction then holds the lines of many
        # deliveries, instead of a commit of its own after every group of deliveries, which took the database
        # writer from the next group (measured with bench/smtp.py: half the writer's commits were log lines).
        while self._pending:
            await asyncio.sleep(LINGER)
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self.log.append(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("delivery log: %d entries not written: %s", len(batch), exc)

    async def flush(self) -> None:
        """Wait until every submitted record is written (or dropped); for tests and clean stops."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
