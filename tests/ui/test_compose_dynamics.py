"""The composition root with `crm.backend = "dynamics"`: built for the network lane without
going online, its record pages in a web profile of its own, the sign-in bar, and what a
missing setting says. The engine is the ScriptedEngine; no Dynamics answers here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app, choose_crm
from app.config import Settings, SipSettings
from app.core.history import MEMORY, History
from app.crm.dynamics.backend import DynamicsBackend
from app.paths import Profile
from app.threads import Lane
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine

ORG = "http://127.0.0.1:9"  # nothing answers there: nothing may ask before a call
CONTACT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def dynamics_settings() -> Settings:
    settings = Settings()
    settings.crm.backend = "dynamics"
    settings.crm.workflow = "phone_call"
    settings.phone.audio = "null"  # a UI test: no sound card in the way
    settings.dynamics.org_url = ORG
    settings.dynamics.client_id = "11111111-2222-4333-8444-555555555555"
    settings.dynamics.authority_host = "127.0.0.1:9"
    return settings


def test_dynamics_is_built_for_the_network_lane_without_going_online(tmp_path: Path) -> None:
    choice = choose_crm(dynamics_settings(), None, data_dir=tmp_path)
    assert choice.problem is None
    assert isinstance(choice.backend, DynamicsBackend)
    assert choice.lane is Lane.NETWORK
    assert choice.web is not None and choice.web.name == "dynamics"
    assert choice.web.dirty_in_main_world  # Xrm lives in the page's own world
    assert choice.web.record_of(f"{ORG}/main.aspx?pagetype=entityrecord&etn=contact"
                                f"&id={CONTACT}") == f"contact/{CONTACT}"
    assert choice.call_form is not None


@pytest.mark.parametrize("key", ["org_url", "client_id"])
def test_dynamics_without_its_address_or_client_id_says_what_is_missing(
        tmp_path: Path, key: str) -> None:
    settings = dynamics_settings()
    setattr(settings.dynamics, key, "")
    choice = choose_crm(settings, None, data_dir=tmp_path)
    assert choice.backend is None
    assert choice.problem is not None and f"dynamics.{key}" in choice.problem


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path) -> Iterator[SwitchboardApp]:
    profile = Profile.at(tmp_path / "profile").ensure()

    def factory(sip: SipSettings, **kw: object) -> ScriptedEngine:
        return ScriptedEngine(sip, **kw)

    built = build_app(profile, dynamics_settings(), secrets=MemorySecretStore(),
                      engine_factory=factory, history=History(MEMORY))
    qtbot.addWidget(built.window)
    yield built
    built.shutdown()


def test_the_dynamics_app_has_its_own_persistent_web_page_and_asks_to_sign_in(
        qtbot: QtBot, app: SwitchboardApp, tmp_path: Path) -> None:
    assert app.crm is not None
    web = app.crm.view.web_page
    assert web is not None
    profile = web.profile()
    assert profile.storageName() == "dynamics"
    assert not profile.isOffTheRecord()
    assert profile.persistentStoragePath().startswith(str(tmp_path / "profile"))
    assert profile.persistentCookiesPolicy() is \
        QWebEngineProfile.PersistentCookiesPolicy.ForcePersistentCookies
    assert app.crm.tracker.call_form  # the PhoneCall workflow ends in Dynamics' own form
    app.start(show=False)
    # No account in the token cache: the bar asks, the phone starts anyway.
    qtbot.waitUntil(lambda: app.crm is not None and app.crm.pane.sign_in_bar.isVisibleTo(
        app.crm.pane), timeout=20_000)
    assert app.crm.pane.sign_in_button.text() == "Sign in to Dynamics 365"
    qtbot.waitUntil(lambda: app.engine_running)
