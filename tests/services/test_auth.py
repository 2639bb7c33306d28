"""AuthService: right and wrong passwords, lockout per account-and-address, per address and per account, the
credential cache and its invalidation by a password change or a disabled account."""

from __future__ import annotations

import pytest

from yizhan.config.settings import AuthConfig
from yizhan.services.auth import AuthService
from yizhan.services.runtime import Services
from yizhan.util.errors import AuthenticationFailed, LockedOut, PermissionDenied, TemporaryFailure


class FakeClock:
    """Seconds that the test moves forward (a clock, not a mock of a component)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_auth(mailbox: Services, clock: FakeClock, **config: object) -> AuthService:
    values: dict[str, object] = {"max_failures_per_account": 3, "max_failures_per_ip": 5, "failure_window": 60,
                                 "lockout": 120, "failure_delay": 0, "cache_ttl": 300}
    values.update(config)
    return AuthService(mailbox.directory, AuthConfig.model_validate(values), clock=clock)


async def test_right_password_returns_the_account(mailbox: Services) -> None:
    auth = make_auth(mailbox, FakeClock())
    account = await auth.login("Alice@Example.com", "password1", client="127.0.0.1", protocol="imap")
    assert account.address == "alice@example.com"


@pytest.mark.parametrize("address,password", [("alice@example.com", "wrong-password"),
                                              ("nobody@example.com", "password1"),
                                              ("not an address", "password1"),
                                              ("alice@example.com", "")])
async def test_wrong_credentials_fail_with_one_message(mailbox: Services, address: str, password: str) -> None:
    auth = make_auth(mailbox, FakeClock())
    with pytest.raises(AuthenticationFailed) as failure:
        await auth.login(address, password, client="127.0.0.1", protocol="imap")
    assert str(failure.value) == "authentication failed: wrong address or password"
    assert isinstance(failure.value, PermissionDenied)


async def test_repeated_failures_lock_the_account_from_that_address_even_for_the_right_password(
        mailbox: Services) -> None:
    clock = FakeClock()
    auth = make_auth(mailbox, clock)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await auth.login("alice@example.com", "guess", client="127.0.0.9", protocol="smtp")
    with pytest.raises(LockedOut) as locked:
        await auth.login("alice@example.com", "password1", client="127.0.0.9", protocol="smtp")
    assert isinstance(locked.value, TemporaryFailure)
    assert 0 < locked.value.retry_after <= 121
    assert "try again in" in str(locked.value)
    # The real user elsewhere still logs in.
    await auth.login("alice@example.com", "password1", client="127.0.0.2", protocol="imap")
    # After the lockout the right password works again from the locked address.
    clock.now += 121
    await auth.login("alice@example.com", "password1", client="127.0.0.9", protocol="smtp")


async def test_failures_outside_the_window_do_not_add_up(mailbox: Services) -> None:
    clock = FakeClock()
    auth = make_auth(mailbox, clock)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            await auth.login("alice@example.com", "guess", client="127.0.0.9", protocol="smtp")
        clock.now += 31
    await auth.login("alice@example.com", "password1", client="127.0.0.9", protocol="smtp")


async def test_one_address_guessing_many_accounts_is_locked(mailbox: Services) -> None:
    await mailbox.directory.add_account("bob@example.com", "password2")
    auth = make_auth(mailbox, FakeClock())
    for index in range(5):
        with pytest.raises(AuthenticationFailed):
            await auth.login(f"user{index}@example.com", "guess", client="127.0.0.7", protocol="pop3")
    with pytest.raises(LockedOut):
        await auth.login("bob@example.com", "password2", client="127.0.0.7", protocol="pop3")
    await auth.login("bob@example.com", "password2", client="127.0.0.8", protocol="pop3")


async def test_guessing_one_account_from_many_addresses_locks_the_account(mailbox: Services) -> None:
    auth = make_auth(mailbox, FakeClock(), max_failures_per_account=2, max_failures_per_ip=1000)
    for index in range(20):
        with pytest.raises((AuthenticationFailed, LockedOut)):
            await auth.login("alice@example.com", "guess", client=f"127.0.1.{index}", protocol="imap")
    with pytest.raises(LockedOut):
        await auth.login("alice@example.com", "password1", client="127.0.2.1", protocol="imap")


async def test_cached_login_sees_a_password_change_and_a_disabled_account(mailbox: Services) -> None:
    auth = make_auth(mailbox, FakeClock())
    await auth.login("alice@example.com", "password1", client="127.0.0.1", protocol="imap")
    await auth.login("alice@example.com", "password1", client="127.0.0.1", protocol="imap")
    await mailbox.directory.set_password("alice@example.com", "password-two")
    with pytest.raises(AuthenticationFailed):
        await auth.login("alice@example.com", "password1", client="127.0.0.1", protocol="imap")
    await auth.login("alice@example.com", "password-two", client="127.0.0.1", protocol="imap")
    await mailbox.directory.update_account("alice@example.com", disabled=True)
    with pytest.raises(AuthenticationFailed):
        await auth.login("alice@example.com", "password-two", client="127.0.0.1", protocol="imap")


async def test_cache_does_not_accept_a_different_password(mailbox: Services) -> None:
    auth = make_auth(mailbox, FakeClock())
    await auth.login("alice@example.com", "password1", client="127.0.0.1", protocol="imap")
    with pytest.raises(AuthenticationFailed):
        await auth.login("alice@example.com", "password1x", client="127.0.0.1", protocol="imap")
