"""Keyring backends for tests: an in-memory one, and a guard that fails a test touching it.

Both follow the `keyring.backend.KeyringBackend` interface documented at
https://keyring.readthedocs.io/en/latest/ (get_password / set_password / delete_password).
`MemoryKeyring` is passed to `app.secrets.KeyringSecretStore(backend=...)`; the process-wide
keyring is never swapped by a test. `GuardKeyring` is installed once for the whole test
session (tests/conftest.py) in place of the machine's keyring: the app under test gets its
secrets from an injected store, so any call that reaches the process keyring is a bug.
"""

from __future__ import annotations

import keyring.backend
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self._store[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


class KeyringTouched(AssertionError):
    """A test reached the process-wide keyring instead of an injected secret store."""


class GuardKeyring(keyring.backend.KeyringBackend):
    """Records and refuses every use; tests/conftest.py fails the test that made one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.touched: list[str] = []

    def _refuse(self, what: str, username: str) -> KeyringTouched:
        self.touched.append(f"{what} {username}")
        return KeyringTouched(f"the process keyring was asked to {what} {username!r}: "
                              "pass a secret store instead")

    def get_password(self, service: str, username: str) -> str | None:
        raise self._refuse("get", username)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self._refuse("set", username)

    def delete_password(self, service: str, username: str) -> None:
        raise self._refuse("delete", username)
