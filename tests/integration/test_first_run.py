"""The first-run assistant against a real registrar: the real app (real pjsua2 engine, a
profile with nothing but IT's preset of no sound), Kamailio on 127.0.0.1 with digest auth.
The agent types the account, tests it (a wrong password, then the right one), starts the
phone, and the window says Registered; config.toml and the secret store hold the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLineEdit
from pytestqt.qtbot import QtBot

from app import config
from app.application import SwitchboardApp
from app.compose import build_app
from app.core.account_check import setup_needed
from app.core.history import MEMORY, History
from app.paths import Profile
from tests.fakes.memory_secrets import MemorySecretStore
from tests.integration.conftest import Kamailio
from tests.integration.conftest import kamailio as kamailio  # the fixture, re-exported

pytestmark = pytest.mark.sip

WAIT_MS = 15_000
PRESET = '# Preset by IT: no sound card on this test desk\n[phone]\naudio = "null"\n\n' \
         '[sip]\nlisten_address = "127.0.0.1"\n'


@pytest.fixture
def first_start(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[SwitchboardApp, Profile,
                                                               MemorySecretStore]]:
    profile = Profile.at(tmp_path / "profile").ensure()
    profile.config_path.write_text(PRESET, encoding="utf-8")
    settings, problems = config.load(profile.config_path)
    assert problems == [] and setup_needed(settings)
    secrets = MemorySecretStore()
    app = build_app(profile, settings, secrets=secrets, history=History(MEMORY))
    qtbot.addWidget(app.window)
    app.start(phone=False)  # as run_app does when setup_needed(settings)
    assert app.settings_wiring is not None
    app.settings_wiring.start(first_run=True)
    try:
        yield app, profile, secrets
    finally:
        app.shutdown()


def type_into(qtbot: QtBot, widget: QLineEdit, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_assistant_tests_the_account_and_reaches_a_registered_phone(
        qtbot: QtBot, first_start: tuple[SwitchboardApp, Profile, MemorySecretStore],
        kamailio: Kamailio) -> None:
    app, profile, secrets = first_start
    assert app.settings_wiring is not None
    assistant = app.settings_wiring.assistant
    qtbot.waitUntil(assistant.isVisible)
    assert "Phone not set up" in app.window.registration_label.text()
    form = assistant.account
    type_into(qtbot, form.fields["sip.server"], kamailio.server)  # type: ignore[arg-type]
    type_into(qtbot, form.fields["sip.username"], "alice")  # type: ignore[arg-type]

    type_into(qtbot, form.password_edit, "not-the-password")
    click(qtbot, form.test_button)
    qtbot.waitUntil(lambda: form.test_button.isEnabled(), timeout=WAIT_MS)
    assert form.test_result.text().startswith("The phone system refused the user or "
                                              "password (401 Unauthorized)")

    type_into(qtbot, form.password_edit, kamailio.password)
    click(qtbot, form.test_button)
    qtbot.waitUntil(lambda: form.test_button.isEnabled(), timeout=WAIT_MS)
    assert form.test_result.text() == ("Registered as alice@127.0.0.1. The phone system "
                                       "accepts this account.")
    assert secrets.values == {}  # a test stores nothing
    assert profile.config_path.read_text(encoding="utf-8") == PRESET

    click(qtbot, assistant.finish_button)
    qtbot.waitUntil(lambda: not assistant.isVisible())
    qtbot.waitUntil(lambda: app.window.registration_label.text() == "●  Registered",
                    timeout=WAIT_MS)
    assert app.engine_running
    assert secrets.values == {"alice@127.0.0.1": kamailio.password}
    saved, problems = config.load(profile.config_path)
    assert problems == []
    assert (saved.sip.server, saved.sip.username) == (kamailio.server, "alice")
    assert saved.phone.audio == "null" and saved.sip.listen_address == "127.0.0.1"
    text = profile.config_path.read_text(encoding="utf-8")
    assert text.startswith("# Preset by IT: no sound card on this test desk\n")
    assert kamailio.password not in text
    assert app.window.status_area.isVisible()
