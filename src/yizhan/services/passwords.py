"""Password hashing with Argon2id (argon2-cffi's RFC 9106 low-memory profile).

Hashing and verifying cost tens of milliseconds of CPU by design, so both run in a thread, never on the event
loop. Plain passwords are never stored nor logged.
"""

from __future__ import annotations

import asyncio
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 8


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def generate_password(length: int = 20) -> str:
    """A random password of letters and digits, for first administrators and resets."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
