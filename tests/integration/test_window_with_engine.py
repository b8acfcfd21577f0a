"""The real window with the real engine: SIPp calls the app (and is called) on 127.0.0.1.

Everything is real except the sound card (null audio): the composition root builds the
pjsua2 Engine, the bridge carries its events from the engine thread, and the test clicks
the window's buttons.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings
from app.core.calls import CallState
from app.core.history import MEMORY, History
from app.ui.call_panel import CallCard
from tests.fakes.memory_secrets import MemorySecretStore
from tests.integration.conftest import Sipp, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
]

WAIT_MS = 10_000


@pytest.fixture
def real_app(qtbot: QtBot) -> Iterator[SwitchboardApp]:
    settings = Settings()
    sip = settings.sip
    sip.mode, sip.username, sip.listen_address, sip.port = "direct", "agent", "127.0.0.1", 0
    sip.srtp = "disabled"
    settings.phone.audio = "null"
    app = build_app(None, settings, secrets=MemorySecretStore(), history=History(MEMORY))
    qtbot.addWidget(app.window)
    app.start()
    try:
        qtbot.waitUntil(lambda: app.engine_running or app.window.problem_banner.isVisible(),
                        timeout=WAIT_MS)
        assert app.engine_running, app.window.problem_label.text()
        yield app
    finally:
        app.shutdown()


def only_card(qtbot: QtBot, app: SwitchboardApp) -> CallCard:
    qtbot.waitUntil(lambda: len(app.window.call_panel.cards) == 1, timeout=WAIT_MS)
    return next(iter(app.window.call_panel.cards.values()))


def click(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def history_texts(app: SwitchboardApp) -> list[tuple[str, str]]:
    tree = app.window.history_view.tree
    return [(tree.topLevelItem(i).text(1), tree.topLevelItem(i).text(2))
            for i in range(tree.topLevelItemCount())]


def test_sipp_calls_the_agent_answers_mutes_and_hangs_up(
        qtbot: QtBot, real_app: SwitchboardApp, sipp: Callable[..., Sipp],
        tmp_path: Path) -> None:
    app = real_app
    peer = sipp(scenario(tmp_path, "uac_local_bye"), f"127.0.0.1:{app.engine.local_port}")
    card = only_card(qtbot, app)
    assert card.call.state is CallState.RINGING
    assert card.name_label.text() == "Test Caller"
    assert card.number_label.text() == "040 1234567"
    assert card.queue_label.text() == "Direct"
    click(qtbot, card.answer_button)
    qtbot.waitUntil(lambda: card.call.state is CallState.CONNECTED, timeout=WAIT_MS)
    click(qtbot, card.mute_button)
    qtbot.waitUntil(card.mute_button.isChecked, timeout=WAIT_MS)
    click(qtbot, card.hangup_button)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards, timeout=WAIT_MS)
    assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: history_texts(app) == [("Test Caller\n040 1234567", "Answered")])


def test_caller_hangs_up_while_the_agent_talks(
        qtbot: QtBot, real_app: SwitchboardApp, sipp: Callable[..., Sipp],
        tmp_path: Path) -> None:
    app = real_app
    peer = sipp(scenario(tmp_path, "uac_remote_bye", HOLD_MS="800"),
                f"127.0.0.1:{app.engine.local_port}")
    card = only_card(qtbot, app)
    assert card.queue_label.text() == "Queue: Sales"
    qtbot.keyClick(app.window.history_view.tree, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)  # answer by shortcut
    qtbot.waitUntil(lambda: card.call.state is CallState.CONNECTED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards, timeout=WAIT_MS)
    assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: history_texts(app) == [("Test Caller\n040 1234567", "Answered")])


def test_agent_dials_sipp_from_the_dial_pad(
        qtbot: QtBot, real_app: SwitchboardApp, sipp: Callable[..., Sipp],
        tmp_path: Path) -> None:
    app = real_app
    peer = sipp(scenario(tmp_path, "uas_answer"))
    pad = app.window.dialpad
    qtbot.keyClicks(pad.number_edit, f"sip:answer@127.0.0.1:{peer.port}")
    click(qtbot, pad.call_button)
    assert not pad.error_label.isVisible(), pad.error_label.text()
    card = only_card(qtbot, app)
    qtbot.waitUntil(lambda: card.call.state is CallState.CONNECTED, timeout=WAIT_MS)
    click(qtbot, card.hangup_button)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards, timeout=WAIT_MS)
    assert peer.wait() == 0, peer.output()
    tree = app.window.history_view.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1)
    assert tree.topLevelItem(0).text(0) == "↗"
    assert tree.topLevelItem(0).text(2) == "Answered"
