"""Secrets through keyring only: never in config files, logs or databases."""

from __future__ import annotations

import keyring
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


def sip_key(sip: SipSettings) -> str:
    if sip.keyring_key:
        return sip.keyring_key
    return address_of_record(sip)


def _backend_usable() -> bool:
    backend = keyring.get_keyring()
    # keyring's placeholder backends say "no keyring" through a negative priority; and
    # keyrings.alt falls back to a plain-text file without pycryptodome: refuse both.
    return (getattr(backend, "priority", 0) > 0
            and "fail" not in type(backend).__module__
            and "plaintext" not in type(backend).__name__.lower())


def get_password(key: str) -> str | None:
    if not key:
        return None
    try:
        return keyring.get_password(SERVICE, key)
    except keyring.errors.NoKeyringError as exc:
        raise SecretStoreUnavailable(NO_BACKEND_HELP) from exc
    except keyring.errors.KeyringError as exc:
        raise SecretStoreUnavailable(f"The keyring refused to give the password ({exc}).") \
            from exc


def set_password(key: str, password: str) -> None:
    if not _backend_usable():
        raise SecretStoreUnavailable(NO_BACKEND_HELP)
    try:
        keyring.set_password(SERVICE, key, password)
    except keyring.errors.KeyringError as exc:
        raise SecretStoreUnavailable(f"The keyring refused to store the password ({exc}).") \
            from exc


def get_sip_password(sip: SipSettings) -> str | None:
    """The SIP password, or None when none is stored (direct mode needs none)."""
    if sip.mode == "direct" or not sip.username:
        return None
    return get_password(sip_key(sip))
