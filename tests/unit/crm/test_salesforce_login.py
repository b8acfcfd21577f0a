"""`switchboard crm login` / `logout` for Salesforce on a machine without a usable keyring."""

from __future__ import annotations

import io
from pathlib import Path

from app import config
from app.crm.salesforce import login
from app.secrets import NO_BACKEND_HELP, SecretStoreUnavailable
from tests.unit.crm.salesforce_helpers import DictStore

# Nothing listens here: a test that reached the network would fail, not hang.
SETTINGS, _ = config.from_dict({"crm": {"backend": "salesforce"},
                                "salesforce": {"client_id": "consumer-key",
                                               "login_url": "http://127.0.0.1:9",
                                               "timeout_seconds": 1.0}})


class NoKeyring:
    """A SecretStore like KeyringSecretStore where the system offers no keyring."""

    def get(self, key: str) -> str | None:
        raise SecretStoreUnavailable(NO_BACKEND_HELP)

    def set(self, key: str, value: str) -> None:
        raise SecretStoreUnavailable(NO_BACKEND_HELP)

    def delete(self, key: str) -> None:
        raise SecretStoreUnavailable(NO_BACKEND_HELP)


def test_login_without_keyring_says_so_before_the_browser_opens() -> None:
    out, opened = io.StringIO(), list[str]()
    code = login.login(SETTINGS, NoKeyring(), device=False, out=out, open_url=opened.append)
    assert code == 1
    assert opened == []  # the agent is not sent through the sign-in for nothing
    assert "kept only in the system keyring" in out.getvalue()
    assert "Install and unlock one" in out.getvalue()


def test_logout_without_keyring_says_so_and_still_deletes_the_web_profile(
        tmp_path: Path) -> None:
    web = tmp_path / "web" / "salesforce"
    web.mkdir(parents=True)
    (web / "cache").write_text("page")
    out = io.StringIO()
    assert login.logout(SETTINGS, NoKeyring(), out=out, web_dir=web) == 1
    assert "kept only in the system keyring" in out.getvalue()
    assert not web.exists()


def test_doctor_says_whether_a_sign_in_is_stored() -> None:
    store = DictStore()
    assert login.sign_in_state(SETTINGS, store).startswith(
        "not signed in: run `switchboard crm login`")
    store.set("salesforce:consumer-key", "refresh-token")  # the factory's default key
    assert login.sign_in_state(SETTINGS, store).startswith("signed in")
    assert "refresh-token" not in login.sign_in_state(SETTINGS, store)
    assert "keyring" in login.sign_in_state(SETTINGS, NoKeyring())


def test_login_without_client_id_names_the_setting() -> None:
    settings, _ = config.from_dict({"crm": {"backend": "salesforce"}})
    out = io.StringIO()
    assert login.login(settings, NoKeyring(), device=True, out=out) == 2
    assert "salesforce.client_id" in out.getvalue()
