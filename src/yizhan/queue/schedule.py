"""When to try again, when to give up, when to tell the sender: the retry schedule from `QueueConfig`.

Defaults: retries after 5 min, 15 min, 1 h, 3 h, then every 6 h; a delay notice after 4 h; expiry after 5 days
(RFC 5321 §4.5.4.1 asks for at least 4–5 days before giving up). Pure arithmetic on epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from yizhan.config.settings import QueueConfig


@dataclass(frozen=True, slots=True)
class Schedule:
    delays: tuple[int, ...]
    expire_after: int
    delay_notice_after: int

    @classmethod
    def from_config(cls, config: QueueConfig) -> Schedule:
        return cls(tuple(config.retry_schedule), config.expire_after, config.delay_notice_after)

    def delay(self, attempts: int) -> int:
        """Seconds to wait after the `attempts`-th failed attempt (1 for the first); the last delay repeats."""
        index = max(0, min(attempts - 1, len(self.delays) - 1))
        return self.delays[index]

    def expires_at(self, created_at: int) -> int:
        return created_at + self.expire_after

    def next_attempt(self, created_at: int, attempts: int, now: int) -> int | None:
        """When to try again after a temporary failure; None when the message has expired.

        The last attempt is made at the expiry instant itself, so a message is never given up before its time."""
        expires = self.expires_at(created_at)
        if now >= expires:
            return None
        return min(now + self.delay(attempts), expires)

    def delay_notice_due(self, created_at: int, now: int, already_notified: bool) -> bool:
        if already_notified or self.delay_notice_after <= 0:
            return False
        return now - created_at >= self.delay_notice_after
