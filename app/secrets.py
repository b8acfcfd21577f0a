"""Secrets through an injected `SecretStore`: the system keyring in production, never files.

Nothing secret is kept in config files, logs or databases. The composition root (and the
command line) make one `KeyringSecretStore` and pass it to whatever needs a secret; tests
pass a store of their own, so no test swaps the process-wide keyring.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors

from app.config import SipSettings
from app.core.sip_domain import address_of_record

SERVICE = "switchboard"

NO_BACKEND_HELP = (
    "No system keyring is available, so the SIP password cannot be stored safely. "
    "Install and unlock one (GNOME Keyring or KWallet on Linux; on a headless machine "
    "`pip install keyrings.alt pycryptodome` gives an encrypted file keyring), then run "
    "`switchboard set-password`. Switchboard never saves passwords in plain text."
)


class SecretStoreUnavailable(RuntimeError):
    """There is no usable keyring backend; the message says what to do."""


class SecretStore(Protocol):
    """Where secrets are kept, by key (the SIP password, refresh tokens, API secrets)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class KeyringSecretStore:
    """The production SecretStore: a keyring backend, under Switchboard's service name.

    `backend` defaults to the keyring the system offers (looked up on first use).
    """

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None,
                 service: str = SERVICE) -> None:
        self._backend = backend
        self._service = service

    def _keyring(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    def usable(self) -> bool:
        backend = self._keyring()
        # keyring's placeholder backends say "no keyring" through a negative priority; and
        # keyrings.alt falls back to a plain-text file without pycryptodome: refuse both.
        return (getattr(backend, "priority", 0) > 0
                and "fail" not in type(backend).__module__
                and "plaintext" not in type(backend).__name__.lower())

    def get(self, key: str) -> str | None:
        if not key:
            return None
        try:
            return self._keyring().get_password(self._service, key)
        except keyring.errors.NoKeyringError as exc:
            raise SecretStoreUnavailable(NO_BACKEND_HELP) from exc
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(
                f"The keyring refused to give the password ({exc}).") from exc

    def set(self, key: str, value: str) -> None:
        if not self.usable():
            raise SecretStoreUnavailable(NO_BACKEND_HELP)
        try:
            self._keyring().set_password(self._service, key, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(
                f"The keyring refused to store the password ({exc}).") from exc

    def delete(self, key: str) -> None:
        # Nothing stored means already signed out.
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self._keyring().delete_password(self._service, key)


def sip_key(sip: SipSettings) -> str:
    if sip.keyring_key:
        return sip.keyring_key
    return address_of_record(sip)


def get_sip_password(store: SecretStore, sip: SipSettings) -> str | None:
    """The SIP password, or None when none is stored (direct mode needs none)."""
    if sip.mode == "direct" or not sip.username:
        return None
    return store.get(sip_key(sip))


__all__ = ["KeyringSecretStore", "SecretStore", "SecretStoreUnavailable", "get_sip_password",
           "sip_key"]
