"""The settings dialog and the first-run assistant in the built app (ScriptedEngine, a
MemorySecretStore, a real profile and config.toml): checks like the loader, the password
into the secret store only, config.toml keeps what the agent wrote, and what applies now."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from app import config
from app.application import SwitchboardApp
from app.compose import build_app
from app.config import SipSettings
from app.core.account_check import ProbeOutcome, ProbeResult
from app.core.history import MEMORY, History
from app.i18n import install_translator, remove_translators
from app.paths import Profile
from app.ui.settings_dialog import AccountForm, FirstRunAssistant, SettingsDialog
from app.ui.widgets import NoWheelComboBox
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine

AGENT_FILE = """\
# Set up by IT, 2024
[sip]
server = "pbx.example.com"   # the office PBX
username = "1001"
listen_address = "127.0.0.1"
future_key = "kept"

[phone]
audio = "null"

[telephony_extras]
anything = 1
"""


class Built:
    def __init__(self, app: SwitchboardApp, engines: list[ScriptedEngine],
                 secrets: MemorySecretStore, profile: Profile) -> None:
        self.app, self.engines, self.secrets, self.profile = app, engines, secrets, profile

    @property
    def dialog(self) -> SettingsDialog:
        assert self.app.settings_wiring is not None
        return self.app.settings_wiring.dialog

    @property
    def assistant(self) -> FirstRunAssistant:
        assert self.app.settings_wiring is not None
        return self.app.settings_wiring.assistant

    def text(self) -> str:
        return self.profile.config_path.read_text(encoding="utf-8")


class FailingSecrets(MemorySecretStore):
    def set(self, key: str, value: str) -> None:
        raise RuntimeError("No system keyring is available, so the SIP password cannot be "
                           "stored safely.")


@pytest.fixture
def build(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., Built]]:
    made: list[SwitchboardApp] = []

    def make(text: str | None = AGENT_FILE, *, secrets: MemorySecretStore | None = None,
             first_run: bool = False) -> Built:
        profile = Profile.at(tmp_path / "profile").ensure()
        if text is not None:
            profile.config_path.write_text(text, encoding="utf-8")
        settings, problems = config.load(profile.config_path)
        engines: list[ScriptedEngine] = []

        def factory(sip: SipSettings, **kw: Any) -> ScriptedEngine:
            engines.append(ScriptedEngine(sip, **kw))
            engines[-1].sip = sip  # type: ignore[attr-defined]
            return engines[-1]

        store = secrets if secrets is not None else MemorySecretStore()
        app = build_app(profile, settings, secrets=store, engine_factory=factory,
                        history=History(MEMORY), problems=problems)
        qtbot.addWidget(app.window)
        made.append(app)
        app.start(phone=not first_run)
        assert app.settings_wiring is not None
        app.settings_wiring.start(first_run=first_run)
        if not first_run:
            qtbot.waitUntil(lambda: app.engine_running)
        return Built(app, engines, store, profile)

    yield make
    for app in made:
        app.shutdown()


def field(form_owner: SettingsDialog | FirstRunAssistant, key: str) -> Any:
    for form in form_owner.forms.values():
        if key in form.fields:
            return form.fields[key]
    raise KeyError(key)


def type_into(qtbot: QtBot, widget: QLineEdit, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_settings(qtbot: QtBot, built: Built) -> SettingsDialog:
    click(qtbot, built.app.window.settings_button)
    qtbot.waitUntil(built.dialog.isVisible)
    return built.dialog


def test_the_dialog_shows_the_settings_in_force(qtbot: QtBot,
                                                 build: Callable[..., Built]) -> None:
    built = build()
    dialog = open_settings(qtbot, built)
    assert field(dialog, "sip.server").text() == "pbx.example.com"
    assert field(dialog, "sip.username").text() == "1001"
    assert field(dialog, "sip.transport").currentData() == "udp"
    assert field(dialog, "crm.backend").currentData() == "local"
    assert field(dialog, "ui.language").currentData() == "system"
    assert dialog.account.password_edit.text() == ""  # never read back into a widget
    # Every choice in the dialog ignores a wheel that passes over it unfocused.
    combos = dialog.findChildren(NoWheelComboBox)
    assert len(combos) >= 4


def test_saving_writes_the_changed_keys_keeps_the_agents_lines_and_stores_the_password(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build()
    dialog = open_settings(qtbot, built)
    type_into(qtbot, field(dialog, "sip.server"), "pbx2.example.com:5070")
    type_into(qtbot, field(dialog, "sip.display_name"), "Aino Agent")
    type_into(qtbot, dialog.account.password_edit, "s3cret")
    field(dialog, "sip.transport").setCurrentIndex(
        field(dialog, "sip.transport").findData("tcp"))
    click(qtbot, dialog.save_button)

    text = built.text()
    for kept in ("# Set up by IT, 2024", 'future_key = "kept"', "[telephony_extras]",
                 "anything = 1", 'listen_address = "127.0.0.1"'):
        assert kept in text
    assert 'server = "pbx2.example.com:5070"   # the office PBX' in text
    assert "s3cret" not in text
    loaded, problems = config.load(built.profile.config_path)
    assert loaded.sip.server == "pbx2.example.com:5070" and loaded.sip.transport == "tcp"
    assert loaded.sip.display_name == "Aino Agent"
    assert {p.key for p in problems} == {"sip.future_key", "telephony_extras"}  # as before
    assert built.secrets.values == {"1001@pbx2.example.com": "s3cret"}
    # Applied now: a new engine with the new account and the password from the store.
    qtbot.waitUntil(lambda: len(built.engines) == 2 and built.engines[1].started)
    assert built.engines[0].stopped
    assert built.engines[1].sip.server == "pbx2.example.com:5070"  # type: ignore[attr-defined]
    assert built.app.settings.sip.transport == "tcp"
    assert "The phone restarts with the new account." in dialog.notice.text()


@pytest.mark.parametrize(("key", "value", "words"), [
    ("sip.server", "sip:pbx.example.com", "without sip:"),
    ("sip.server", "pbx.example.com:99999", "not a number from 1 to 65535"),
    ("sip.server", "", "address is empty"),
    ("sip.username", "1001@pbx.example.com", "only the part before @"),
    ("sip.caller_ids", "hello", "Not a phone number"),
])
def test_invalid_input_is_shown_at_its_field_and_nothing_is_saved(
        qtbot: QtBot, build: Callable[..., Built], key: str, value: str,
        words: str) -> None:
    built = build()
    dialog = open_settings(qtbot, built)
    widget = field(dialog, key)
    if isinstance(widget, QPlainTextEdit):
        widget.setPlainText(value)
    else:
        type_into(qtbot, widget, value)
    type_into(qtbot, dialog.account.password_edit, "s3cret")
    click(qtbot, dialog.save_button)
    problem = dialog.forms[next(n for n, f in dialog.forms.items()
                                if key in f.fields)].problems[key]
    assert problem.isVisible() and words in problem.text()
    assert dialog.tabs.currentWidget() is problem.parentWidget()  # its tab is in front
    assert "Not saved" in dialog.notice.text()
    assert built.text() == AGENT_FILE
    assert built.secrets.values == {}
    assert len(built.engines) == 1


def test_caller_ids_are_checked_like_numbers_and_offered_at_once(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build()
    dialog = open_settings(qtbot, built)
    dialog.show_tab("caller_ids")
    field(dialog, "sip.caller_ids").setPlainText("09 1234567\n+358 40 765 4321\n")
    click(qtbot, dialog.save_button)
    loaded, _ = config.load(built.profile.config_path)
    assert loaded.sip.caller_ids == ["+35891234567", "+358407654321"]
    assert built.app.session.caller_ids == ["+35891234567", "+358407654321"]
    assert len(built.engines) == 1  # numbers need no new registration
    assert "restarts" not in dialog.notice.text()


def test_an_account_changed_during_a_call_applies_once_the_calls_have_ended(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build()
    engine = built.engines[0]
    handle = engine.ring()
    qtbot.waitUntil(lambda: built.app.session.get(handle) is not None)
    engine.answer(handle)
    engine.remote_answers(handle)
    dialog = open_settings(qtbot, built)
    type_into(qtbot, field(dialog, "sip.server"), "pbx2.example.com")
    click(qtbot, dialog.save_button)
    assert "The phone account applies when your calls have ended." in dialog.notice.text()
    assert "restarts" not in dialog.notice.text()
    assert len(built.engines) == 1 and not engine.stopped  # the call is not cut off

    engine.remote_hangs_up(handle)
    qtbot.waitUntil(lambda: len(built.engines) == 2 and built.engines[1].started)
    assert engine.stopped
    assert built.engines[1].sip.server == "pbx2.example.com"  # type: ignore[attr-defined]


def test_crm_phone_system_and_language_say_they_apply_after_a_restart(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build()
    dialog = open_settings(qtbot, built)
    language = field(dialog, "ui.language")
    language.setCurrentIndex(language.findData("fi"))
    backend = field(dialog, "contactcenter.backend")
    backend.setCurrentIndex(backend.findData("sip_presence"))
    click(qtbot, dialog.save_button)
    assert "Restart Switchboard to apply the phone system, the language." \
        in dialog.notice.text()
    loaded, _ = config.load(built.profile.config_path)
    assert (loaded.ui.language, loaded.contactcenter.backend) == ("fi", "sip_presence")
    assert len(built.engines) == 1


def test_without_a_keyring_the_password_is_refused_with_the_reason_and_nothing_saved(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build(secrets=FailingSecrets())
    dialog = open_settings(qtbot, built)
    type_into(qtbot, field(dialog, "sip.server"), "pbx2.example.com")
    type_into(qtbot, dialog.account.password_edit, "s3cret")
    click(qtbot, dialog.save_button)
    problem = dialog.account.problems["password"]
    assert problem.isVisible() and "No system keyring" in problem.text()
    assert built.text() == AGENT_FILE


def test_test_connection_says_in_words_that_nothing_answers(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    built = build()
    dialog = open_settings(qtbot, built)
    type_into(qtbot, field(dialog, "sip.server"), f"127.0.0.1:{port}")
    transport = field(dialog, "sip.transport")
    transport.setCurrentIndex(transport.findData("tcp"))
    click(qtbot, dialog.account.test_button)
    result = dialog.account.test_result
    qtbot.waitUntil(lambda: "could not be reached" in result.text(), timeout=10_000)
    assert "firewall" in result.text()
    assert built.text() == AGENT_FILE  # a test saves nothing


def test_the_audio_button_opens_the_audio_tab(qtbot: QtBot,
                                              build: Callable[..., Built]) -> None:
    built = build()
    click(qtbot, built.app.window.audio_button)
    qtbot.waitUntil(built.dialog.isVisible)
    assert built.dialog.tabs.currentIndex() == built.dialog.tabs.indexOf(
        built.dialog.tabs.widget(1))
    assert built.dialog.tabs.tabText(built.dialog.tabs.currentIndex()) == "Audio"


def test_a_first_start_shows_the_assistant_not_a_failure(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build('[phone]\naudio = "null"\n', first_run=True)
    window = built.app.window
    qtbot.waitUntil(built.assistant.isVisible)
    assert "Phone not set up" in window.registration_label.text()
    assert not window.status_area.isVisible()  # no "Available" without a phone
    assert not window.problem_banner.isVisible()  # no "edit sip.server" banner
    assert window.setup_button.isVisible()
    assert not built.engines[0].started

    assistant = built.assistant
    click(qtbot, assistant.finish_button)  # nothing typed yet
    assert assistant.account.problems["sip.server"].isVisible()
    assert assistant.account.problems["password"].isVisible()
    type_into(qtbot, field(assistant, "sip.server"), "pbx.example.com")
    type_into(qtbot, field(assistant, "sip.username"), "1001")
    type_into(qtbot, assistant.account.password_edit, "s3cret")
    click(qtbot, assistant.finish_button)
    qtbot.waitUntil(lambda: not assistant.isVisible())
    qtbot.waitUntil(lambda: len(built.engines) == 2 and built.engines[1].started)
    assert built.secrets.values == {"1001@pbx.example.com": "s3cret"}
    assert 'server = "pbx.example.com"' in built.text()
    assert window.status_area.isVisible() and not window.setup_button.isVisible()


def test_later_leaves_a_way_back_to_the_assistant(qtbot: QtBot,
                                                  build: Callable[..., Built]) -> None:
    built = build(None, first_run=True)
    qtbot.waitUntil(built.assistant.isVisible)
    click(qtbot, built.assistant.later_button)
    assert not built.assistant.isVisible()
    click(qtbot, built.app.window.setup_button)
    qtbot.waitUntil(built.assistant.isVisible)


def test_an_outside_crm_shows_and_saves_only_its_own_settings(
        qtbot: QtBot, build: Callable[..., Built]) -> None:
    built = build()
    dialog = open_settings(qtbot, built)
    dialog.show_tab("crm")
    sf_key, dyn_url = field(dialog, "salesforce.client_id"), field(dialog, "dynamics.org_url")
    assert not sf_key.isVisible() and not dyn_url.isVisible()  # the built-in CRM needs none
    backend = field(dialog, "crm.backend")
    backend.setCurrentIndex(backend.findData("salesforce"))
    assert sf_key.isVisible() and not dyn_url.isVisible()
    assert field(dialog, "salesforce.login_url").text() == "https://login.salesforce.com"
    type_into(qtbot, sf_key, "3MVG9consumer.key")
    click(qtbot, dialog.save_button)
    assert "Restart Switchboard to apply the CRM." in dialog.notice.text()
    loaded, problems = config.load(built.profile.config_path)
    assert not [p for p in problems if p.key.startswith(("crm.", "salesforce."))]
    assert (loaded.crm.backend, loaded.salesforce.client_id) == ("salesforce",
                                                                 "3MVG9consumer.key")
    assert "[dynamics]" not in built.text()  # untouched sections are not written
    backend.setCurrentIndex(backend.findData("dynamics"))
    assert dyn_url.isVisible() and not sf_key.isVisible()


@pytest.mark.parametrize("language", ["en", "fi"])
def test_every_connection_test_outcome_is_said_in_its_own_words(
        qtbot: QtBot, qapp: QApplication, language: str) -> None:
    # Only "no answer" (here) and "registered"/"wrong password" (against Kamailio) were
    # seen in a test; each outcome must read differently, name the SIP answer when there
    # is one, and be in Finnish in the Finnish UI.
    if language == "fi":
        install_translator(qapp, "fi")
    try:
        form = AccountForm()
        qtbot.addWidget(form)
        said = {}
        for outcome in ProbeOutcome:
            result = ProbeResult(outcome, 403 if outcome is ProbeOutcome.WRONG_PASSWORD
                                 else 404 if outcome is ProbeOutcome.UNKNOWN_USER
                                 else 401 if outcome is ProbeOutcome.NO_PASSWORD
                                 else 488 if outcome is ProbeOutcome.REFUSED else 0,
                                 "Why", "the detail")
            form.show_test_result(result)
            said[outcome] = form.test_result.text()
            assert form.test_result.property("kind") == \
                ("good" if outcome is ProbeOutcome.REGISTERED else "bad")
            if result.code:
                assert f"({result.code} Why)" in said[outcome], said[outcome]
        assert len(set(said.values())) == len(ProbeOutcome), said
        english = [text for text in said.values()
                   if text.startswith(("The ", "Registered as", "Fix the settings"))]
        assert len(english) == (len(ProbeOutcome) if language == "en" else 0), english
    finally:
        remove_translators(qapp)
