"""Which addresses an account may send as (submission: the envelope sender and the From header).

Rule: an account may use its own address, and the source address of any alias whose targets include the account
directly. A catch-all (`@domain`) does not let its target send as every address of the domain, and an alias
reaching the account only through another alias does not count either: sending-as must be granted explicitly.

Invariants: addresses are compared normalised (lowercase, IDNA domains as Unicode); the empty address (the null
reverse-path) is never owned by anyone; the check only reads the directory, so changes apply at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from yizhan.mail.addresses import is_valid_address, normalize_address
from yizhan.store.records import AccountRecord
from yizhan.store.store import Store
from yizhan.util.errors import PermissionDenied


class SenderPolicy:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def owned(self, account: AccountRecord, addresses: Iterable[str]) -> dict[str, bool]:
        """For each address, whether `account` may send as it."""
        mine = normalize_address(account.address)
        wanted = {address: normalize_address(address) for address in addresses}
        others = [n for a, n in wanted.items() if n != mine and is_valid_address(a.strip())]
        targets = await self.store.directory.alias_targets(sorted(set(others))) if others else {}
        result = {}
        for address, normalized in wanted.items():
            if not normalized or not is_valid_address(address.strip()):
                result[address] = False
            elif normalized == mine:
                result[address] = True
            else:
                result[address] = mine in {normalize_address(t) for t in targets.get(normalized, [])}
        return result

    async def check(self, account: AccountRecord, addresses: Iterable[str]) -> None:
        """PermissionDenied naming the first address `account` may not send as."""
        items = list(addresses)
        if not items:
            raise PermissionDenied("the message must name its sender")
        for address, ok in (await self.owned(account, items)).items():
            if not ok:
                raise PermissionDenied(f"{account.address} may not send as <{address}>")
