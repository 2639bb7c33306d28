"""Password hashing with Argon2id (argon2-cffi's RFC 9106 low-memory profile).

Hashing and verifying cost tens of milliseconds of CPU and 64 MiB of memory each by design, so both run on a
small pool of threads of their own, never on the event loop: a burst of logins (or of guesses) queues there
instead of taking the memory of one hash per connection at once (ten at once had cost 640 MiB), and never holds up
the threads deliveries use. Plain passwords are never stored nor logged.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import string
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from yizhan.util.threads import name_this_thread

_hasher = PasswordHasher()

# Hashes computed at once: one per core, at most four (each takes 64 MiB while it runs).
HASH_CONCURRENCY = max(1, min(4, os.cpu_count() or 1))
_pool = ThreadPoolExecutor(max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2", initializer=name_this_thread)

MIN_LENGTH = 8


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(_pool, verify)


def generate_password(length: int = 20) -> str:
    """A random password of letters and digits, for first administrators and resets."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
