"""Secrets: the keyring store refuses unsafe keyrings, and tests never reach the real one."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from app.config import SipSettings
from app.secrets import KeyringSecretStore, SecretStoreUnavailable, get_sip_password
from tests.fakes.memory_keyring import GuardKeyring, KeyringTouched, MemoryKeyring


def test_the_process_keyring_is_the_guard_and_refuses_every_use(
        keyring_guard: GuardKeyring) -> None:
    """The guard test: if this fails, some test could be reading a real keyring."""
    assert keyring.get_keyring() is keyring_guard
    with pytest.raises(KeyringTouched):
        KeyringSecretStore().get("agent@pbx")  # the default store reaches the process keyring
    assert keyring_guard.touched == ["get agent@pbx"]
    keyring_guard.touched.clear()  # this test touched it on purpose


def test_the_keyring_store_reads_and_writes_under_switchboards_service() -> None:
    backend = MemoryKeyring()
    store = KeyringSecretStore(backend)
    store.set("agent@pbx", "pw")
    assert backend.get_password("switchboard", "agent@pbx") == "pw"
    assert store.get("agent@pbx") == "pw"
    store.delete("agent@pbx")
    store.delete("agent@pbx")  # already gone: signed out, not an error
    assert store.get("agent@pbx") is None
    assert store.get("") is None


def test_a_plain_text_keyring_is_refused() -> None:
    class PlaintextKeyring(MemoryKeyring):  # the shape of keyrings.alt's fallback
        pass

    with pytest.raises(SecretStoreUnavailable, match="never saves passwords"):
        KeyringSecretStore(PlaintextKeyring()).set("agent@pbx", "pw")


def test_no_keyring_backend_says_what_to_do() -> None:
    store = KeyringSecretStore(fail.Keyring())
    with pytest.raises(SecretStoreUnavailable, match=r"keyrings\.alt"):
        store.set("agent@pbx", "pw")
    with pytest.raises(SecretStoreUnavailable, match="never saves passwords"):
        get_sip_password(store, SipSettings(username="agent", server="pbx"))


def test_direct_mode_needs_no_password_and_asks_no_store() -> None:
    store = KeyringSecretStore(fail.Keyring())  # would raise if it were asked
    assert get_sip_password(store, SipSettings(mode="direct", username="agent")) is None
