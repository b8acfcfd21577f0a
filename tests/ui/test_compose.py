"""The composition root: which CRM backend `crm.backend` gives, secrets from the store passed
in, every store opened once, and a clean stop. The engine is the ScriptedEngine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app, choose_crm
from app.config import Settings, SipSettings
from app.core.history import MEMORY, History
from app.crm.local.store import LocalStore
from app.paths import Profile
from app.threads import Lane
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine

REFUSED = "The {} CRM is not supported yet; calls are not looked up or logged."


@pytest.fixture
def built(qtbot: QtBot) -> Iterator[Callable[..., tuple[SwitchboardApp, dict[str, Any]]]]:
    made: list[SwitchboardApp] = []

    def build(profile: Profile | None, settings: Settings,
              secrets: MemorySecretStore | None = None
              ) -> tuple[SwitchboardApp, dict[str, Any]]:
        given: dict[str, Any] = {}

        def factory(sip: SipSettings, **kw: Any) -> ScriptedEngine:
            given.update(kw)
            return ScriptedEngine(sip, **kw)

        settings.phone.audio = "null"  # composition, not sound
        app = build_app(profile, settings, secrets=secrets or MemorySecretStore(),
                        engine_factory=factory, history=History(MEMORY))
        qtbot.addWidget(app.window)
        made.append(app)
        return app, given

    yield build
    for app in made:
        app.shutdown()


def test_the_built_in_crm_runs_on_the_database_lane(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "crm.sqlite3")
    choice = choose_crm(Settings(), store)
    assert (choice.backend, choice.lane, choice.problem) == (store, Lane.DB, None)
    store.close()


@pytest.mark.parametrize("name", ["sugarcrm"])
def test_a_crm_without_an_adapter_is_refused_with_a_message(name: str) -> None:
    settings = Settings()
    settings.crm.backend = name
    choice = choose_crm(settings, None)
    assert choice.backend is None
    assert choice.problem == REFUSED.format(name)


def salesforce_settings() -> Settings:
    settings = Settings()
    settings.crm.backend = "salesforce"
    settings.salesforce.client_id = "3MVG9.test"
    settings.salesforce.login_url = "http://127.0.0.1:9"  # nothing answers: nothing asks
    return settings


def test_salesforce_is_built_for_the_network_lane_without_going_online() -> None:
    from app.crm.salesforce.backend import SalesforceBackend

    choice = choose_crm(salesforce_settings(), None, secrets=MemorySecretStore())
    assert choice.problem is None
    assert isinstance(choice.backend, SalesforceBackend)
    assert choice.lane is Lane.NETWORK
    assert choice.web is not None and choice.web.name == "salesforce"
    assert not choice.web.signed_in()  # no refresh token in the store
    assert choice.web.record_of("http://127.0.0.1:9/lightning/r/Contact/003000000000001AAA"
                                "/view") == "contact/003000000000001AAA"


def test_salesforce_without_a_client_id_says_what_is_missing() -> None:
    settings = salesforce_settings()
    settings.salesforce.client_id = ""
    choice = choose_crm(settings, None, secrets=MemorySecretStore())
    assert choice.backend is None
    assert choice.problem is not None and "salesforce.client_id" in choice.problem


def test_the_salesforce_app_has_its_web_page_and_asks_the_agent_to_sign_in(
        qtbot: QtBot, built: Callable[..., tuple[SwitchboardApp, dict[str, Any]]],
        tmp_path: Path) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    app, _ = built(profile, salesforce_settings())
    assert app.crm is not None
    assert app.crm.view.web_page is not None
    assert app.crm.view.web_page.profile().persistentStoragePath().startswith(
        str(profile.data_dir))
    assert not profile.db_path("crm").exists()  # the built-in CRM is not opened for it
    app.start(show=False)
    qtbot.waitUntil(lambda: app.crm is not None and app.crm.pane.sign_in_bar.isVisibleTo(
        app.crm.pane))
    assert app.crm.pane.sign_in_button.text() == "Sign in to Salesforce"


def test_without_a_browser_the_salesforce_sign_in_shows_a_code_instead(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    from tests.fakes.salesforce import CLIENT_ID, FakeSalesforce

    # webbrowser.open says False when no browser is known here or none would open.
    monkeypatch.setattr(webbrowser, "open", lambda *_a, **_kw: False)
    fake = FakeSalesforce().start()
    try:
        settings = salesforce_settings()
        settings.salesforce.login_url, settings.salesforce.client_id = fake.login_url, CLIENT_ID
        shown: list[str] = []

        def notify(text: str) -> None:  # the bar's banner; the agent types the code
            shown.append(text)
            fake.approve_device(text.rstrip(".").rsplit(" ", 1)[-1])

        secrets = MemorySecretStore()
        choice = choose_crm(settings, None, secrets=secrets, notify=notify)
        assert choice.web is not None
        choice.web.sign_in()  # blocking, as on the network lane

        assert len(shown) == 1 and fake.login_url in shown[0] and "code" in shown[0]
        assert choice.web.signed_in()
    finally:
        fake.stop()


def test_a_refused_crm_is_shown_and_the_phone_works_without_it(
        qtbot: QtBot, built: Callable[..., tuple[SwitchboardApp, dict[str, Any]]],
        tmp_path: Path) -> None:
    settings = Settings()
    settings.crm.backend = "dynamics"
    app, _ = built(Profile.at(tmp_path / "profile").ensure(), settings)
    assert app.crm is None
    app.start(show=False)
    qtbot.waitUntil(lambda: app.engine_running)
    # Dynamics without its address: said, and the phone works without a CRM.
    assert "dynamics.org_url" in app.window.problem_label.text()


def test_the_built_in_crm_is_opened_once_and_closed_at_shutdown(
        qtbot: QtBot, built: Callable[..., tuple[SwitchboardApp, dict[str, Any]]],
        tmp_path: Path) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    app, _ = built(profile, Settings())
    assert app.crm is not None
    stores = [c for c in app._closables if isinstance(c, LocalStore)]
    assert stores == [app.crm.backend] == [app.crm.actions.store]
    assert profile.db_path("crm").exists()  # first run: an empty CRM, made once
    app.start(show=False)
    qtbot.waitUntil(lambda: app.engine_running)
    app.shutdown()
    assert app.tasks.stopped
    assert app.engine.stopped  # type: ignore[attr-defined]


def test_the_sip_password_comes_from_the_secret_store_passed_in(
        built: Callable[..., tuple[SwitchboardApp, dict[str, Any]]]) -> None:
    settings = Settings()
    sip = settings.sip
    sip.mode, sip.username, sip.server = "registrar", "agent7", "pbx.example.com"
    _, given = built(None, settings,
                     MemorySecretStore({"agent7@pbx.example.com": "s3cret"}))
    assert given["password"] == "s3cret"  # and the process keyring was never asked
