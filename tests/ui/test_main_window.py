"""The main window driven offscreen through whole calls, wired by the real composition root.

The engine is replaced by `ScriptedEngine` (tests/fakes/scripted_engine.py), a stand-in for
our own Engine interface: it records commands and answers them with the events a real
engine would send, posted through the real GuiPoster (app/threads.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings, SipSettings
from app.core.calls import (
    CallState,
    EngineProblem,
    RegistrationChanged,
    RegistrationState,
)
from app.core.history import MEMORY, History
from app.ui.call_panel import CallCard
from app.ui.main_window import MainWindow
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine


@pytest.fixture
def settings() -> Settings:
    s = Settings()
    s.sip.caller_ids = ["+358912345", "+358987654"]
    s.phone.audio = "null"  # a UI test: no sound card in the way
    return s


@pytest.fixture
def make_app(qtbot: QtBot, settings: Settings) -> Iterator[Callable[..., SwitchboardApp]]:
    made: list[SwitchboardApp] = []

    def make(*, start_error: Exception | None = None) -> SwitchboardApp:
        def factory(sip: SipSettings, **kw: Any) -> ScriptedEngine:
            engine = ScriptedEngine(sip, **kw)
            engine.start_error = start_error
            return engine

        app = build_app(None, settings, secrets=MemorySecretStore(), engine_factory=factory,
                        history=History(MEMORY))
        qtbot.addWidget(app.window)
        made.append(app)
        app.start()
        qtbot.waitExposed(app.window)
        if start_error is None:
            qtbot.waitUntil(lambda: app.engine_running)
        return app

    yield make
    for app in made:
        app.shutdown()


def card(app: SwitchboardApp, handle: int) -> CallCard:
    return app.window.call_panel.cards[handle]


def click(qtbot: QtBot, button: QPushButton) -> None:
    # A card added to the shown panel appears on the layout's next pass, not at once.
    qtbot.waitUntil(button.isVisible)
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_inbound_call_answer_mute_hold_dtmf_hangup_and_redial(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    window = app.window
    engine.emit(RegistrationChanged(RegistrationState.REGISTERED, 200, "OK"))
    qtbot.waitUntil(lambda: "Registered" in window.registration_label.text())

    h = engine.ring()
    qtbot.waitUntil(lambda: h in window.call_panel.cards)
    c = card(app, h)
    assert c.name_label.text() == "Maija Meikäläinen"
    assert c.number_label.text() == "040 1234567"
    assert c.queue_label.text() == "Queue: Sales"
    assert c.status_label.text().startswith("Incoming call")
    assert c.answer_button.isVisible() and c.decline_button.isVisible()
    assert not c.hangup_button.isVisible()

    click(qtbot, c.answer_button)
    qtbot.waitUntil(lambda: c.call.state is CallState.CONNECTED)
    assert engine.commands == [("answer", h)]
    assert c.hangup_button.isVisible() and not c.answer_button.isVisible()
    assert c.status_label.text().startswith("Connected")

    click(qtbot, c.mute_button)
    qtbot.waitUntil(lambda: c.mute_button.isChecked())
    assert c.mute_button.text() == "Unmute"
    assert engine.commands[-1] == ("mute", h, True)
    click(qtbot, c.mute_button)
    qtbot.waitUntil(lambda: not c.mute_button.isChecked())

    click(qtbot, c.hold_button)
    qtbot.waitUntil(lambda: c.call.state is CallState.HELD)
    assert c.hold_button.text() == "Resume" and c.hold_button.isChecked()
    assert c.status_label.text().startswith("On hold")
    assert not c.keypad_button.isEnabled()  # no DTMF into a held call
    click(qtbot, c.hold_button)
    qtbot.waitUntil(lambda: c.call.state is CallState.CONNECTED)
    assert engine.commands[-2:] == [("hold", h, True), ("hold", h, False)]

    click(qtbot, c.keypad_button)
    assert c.keypad.isVisible()
    for key in ("1", "#"):
        click(qtbot, c.keypad.findChild(QPushButton, f"dtmf_{key}"))
    assert engine.commands[-2:] == [("dtmf", h, "1"), ("dtmf", h, "#")]

    click(qtbot, c.hangup_button)
    qtbot.waitUntil(lambda: not window.call_panel.cards)
    assert window.call_panel.idle_label.isVisible()
    tree = window.history_view.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1)
    item = tree.topLevelItem(0)
    assert item.text(1) == "Maija Meikäläinen\n040 1234567"  # name over number (issue 10)
    assert item.text(2) == "Answered"
    assert "040 1234567" in item.toolTip(1) and "Queue: Sales" in item.toolTip(1)

    rect = tree.visualItemRect(item)
    # A real double-click is press, release, double-click; the view wants the press.
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.history_view.redial_button.isEnabled()
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: engine.commands[-1][0] == "dial")
    assert engine.commands[-1] == ("dial", "+358401234567", "+358912345")
    assert [cmd for cmd in engine.commands if cmd[0] == "dial"] == [engine.commands[-1]]


def test_outbound_call_from_the_dialpad(qtbot: QtBot,
                                        make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    pad = app.window.dialpad
    assert pad.caller_id_box.isVisible()
    second = pad.caller_id_box.findData("+358987654")
    pad.caller_id_box.setCurrentIndex(second)
    pad.caller_id_box.activated.emit(second)
    qtbot.keyClicks(pad.number_edit, "(040) 123 45 67")
    click(qtbot, pad.keypad_toggle)  # the keys are folded away until asked for
    click(qtbot, pad.keys["8"])  # the keys type into the same field
    assert pad.number_edit.text() == "(040) 123 45 678"
    qtbot.keyClick(pad.number_edit, Qt.Key.Key_Backspace)
    click(qtbot, pad.call_button)
    assert engine.commands == [("dial", "+358401234567", "+358987654")]
    assert pad.number_edit.text() == ""  # accepted: the field is cleared
    qtbot.waitUntil(lambda: bool(app.window.call_panel.cards))
    c = next(iter(app.window.call_panel.cards.values()))
    qtbot.waitUntil(lambda: c.call.state is CallState.ALERTING)
    assert c.status_label.text() == "Ringing…"
    assert c.hangup_button.text() == "Cancel"
    assert c.queue_label.text() == "Outbound, shown as +358987654"
    engine.remote_answers(c.handle)
    qtbot.waitUntil(lambda: c.call.state is CallState.CONNECTED)
    assert c.hangup_button.text() == "Hang up"
    engine.remote_hangs_up(c.handle)
    tree = app.window.history_view.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1)
    assert tree.topLevelItem(0).text(0) == "↗"


def test_pasted_number_is_dialled(qtbot: QtBot,
                                  make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    pad = app.window.dialpad
    QApplication.clipboard().setText("+358 (0)40 123 4567")
    pad.number_edit.setFocus()
    qtbot.keyClick(pad.number_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert pad.number_edit.text() == "+358 (0)40 123 4567"
    qtbot.keyClick(pad.number_edit, Qt.Key.Key_Return)
    assert engine.commands == [("dial", "+358401234567", "+358912345")]


@pytest.mark.parametrize("text", ["hello", "040 123 4567 ext 5", "++358", "sip:a b@c"])
def test_unparseable_number_shows_the_message_and_dials_nothing(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], text: str) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    pad = app.window.dialpad
    qtbot.keyClicks(pad.number_edit, text)
    click(qtbot, pad.call_button)
    assert engine.commands == []
    assert pad.error_label.isVisible()
    assert pad.error_label.text()
    assert pad.number_edit.text() == text  # kept, so the agent can fix it
    qtbot.keyClick(pad.number_edit, Qt.Key.Key_Backspace)
    assert not pad.error_label.isVisible()  # editing clears the message


def test_call_waiting_holds_the_first_call(qtbot: QtBot,
                                           make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    first = engine.ring()
    qtbot.waitUntil(lambda: first in app.window.call_panel.cards)
    click(qtbot, card(app, first).answer_button)
    qtbot.waitUntil(lambda: card(app, first).call.state is CallState.CONNECTED)
    second = engine.ring("+46812345678", "Sven Svensson", None)
    qtbot.waitUntil(lambda: second in app.window.call_panel.cards)
    c2 = card(app, second)
    assert c2.status_label.text().startswith("Call waiting")
    assert c2.queue_label.text() == "Direct"
    assert c2.number_label.text() == "+46 8 123 456 78"
    click(qtbot, c2.answer_button)
    qtbot.waitUntil(lambda: c2.call.state is CallState.CONNECTED)
    assert engine.commands[-2:] == [("hold", first, True), ("answer", second)]
    qtbot.waitUntil(lambda: card(app, first).call.state is CallState.HELD)
    click(qtbot, c2.hangup_button)
    qtbot.waitUntil(lambda: second not in app.window.call_panel.cards)
    c1 = card(app, first)
    assert c1.call.state is CallState.HELD  # left held: the agent resumes it
    click(qtbot, c1.hold_button)
    qtbot.waitUntil(lambda: c1.call.state is CallState.CONNECTED)


def test_keyboard_shortcuts(qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    window: MainWindow = app.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)

    def press(key: Qt.Key, mods: Qt.KeyboardModifier) -> None:
        qtbot.keyClick(window.history_view.tree, key, mods)

    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    h = engine.ring()
    qtbot.waitUntil(lambda: h in window.call_panel.cards)
    press(Qt.Key.Key_Return, ctrl)
    qtbot.waitUntil(lambda: card(app, h).call.state is CallState.CONNECTED)
    press(Qt.Key.Key_M, ctrl)
    qtbot.waitUntil(lambda: card(app, h).call.muted)
    press(Qt.Key.Key_P, ctrl | shift)
    qtbot.waitUntil(lambda: card(app, h).call.state is CallState.HELD)
    press(Qt.Key.Key_P, ctrl | shift)
    qtbot.waitUntil(lambda: card(app, h).call.state is CallState.CONNECTED)
    second = engine.ring()
    qtbot.waitUntil(lambda: second in window.call_panel.cards)
    press(Qt.Key.Key_D, ctrl | shift)
    qtbot.waitUntil(lambda: second not in window.call_panel.cards)
    press(Qt.Key.Key_H, ctrl | shift)
    qtbot.waitUntil(lambda: not window.call_panel.cards)
    assert [c[0] for c in engine.commands] == [
        "answer", "mute", "hold", "hold", "decline", "hangup"]
    press(Qt.Key.Key_L, ctrl)
    qtbot.waitUntil(window.dialpad.number_edit.hasFocus)
    history = window.history_view
    qtbot.waitUntil(lambda: history.tree.topLevelItemCount() == 2)
    assert sorted(history.tree.topLevelItem(i).text(2) for i in range(2)) == [
        "Answered", "Declined"]


def test_history_filter_and_search(qtbot: QtBot,
                                   make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    missed = engine.ring("+358401234567", "Maija", "Sales")
    qtbot.waitUntil(lambda: missed in app.window.call_panel.cards)
    engine.remote_hangs_up(missed)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards)
    app.dial("+46 8 123 456 78")
    history = app.window.history_view
    qtbot.waitUntil(lambda: bool(app.window.call_panel.cards))
    engine.remote_hangs_up(next(iter(app.window.call_panel.cards)))
    qtbot.waitUntil(lambda: history.tree.topLevelItemCount() == 2)
    history.filter_box.setCurrentIndex(history.filter_box.findData("missed"))
    assert [r.result.value for r in history.records()] == ["missed"]
    assert history.tree.topLevelItem(0).text(2) == "Missed"
    history.filter_box.setCurrentIndex(history.filter_box.findData("all"))
    qtbot.keyClicks(history.search_edit, "040 123")
    assert [r.remote_number for r in history.records()] == ["+358401234567"]


def test_registration_states_in_the_status_bar(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    label = app.window.registration_label
    engine.emit(RegistrationChanged(RegistrationState.REGISTERING))
    qtbot.waitUntil(lambda: label.text().endswith("Registering…"))
    engine.emit(RegistrationChanged(RegistrationState.FAILED, 503, "Service Unavailable", 5))
    qtbot.waitUntil(lambda: "Not registered — retrying in 5 s (503 Service Unavailable)"
                    in label.text())
    qtbot.waitUntil(lambda: "retrying in 4 s" in label.text(), timeout=2500)
    engine.emit(EngineProblem("No sound card found; calls are silent"))
    qtbot.waitUntil(app.window.problem_banner.isVisible)
    assert "No sound card" in app.window.problem_label.text()
    click(qtbot, app.window.problem_banner.findChild(QPushButton, "dismiss_problem"))
    assert not app.window.problem_banner.isVisible()


def test_engine_start_failure_is_shown_not_raised(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app(start_error=RuntimeError("could not open SIP UDP port 5060"))
    window = app.window
    qtbot.waitUntil(window.problem_banner.isVisible)
    assert "The phone could not start: could not open SIP UDP port 5060" in \
        window.problem_label.text()
    assert "Phone not running" in window.registration_label.text()
    assert not app.engine_running
    app.shutdown()
    assert app.engine.stopped  # type: ignore[attr-defined]


def test_a_later_problem_does_not_hide_an_earlier_one(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    # No sound device, then no tray: the agent must still read the first.
    window = make_app().window
    window.show_problem("No microphone or speaker found")
    window.show_problem("There is no system tray")
    window.show_problem("No microphone or speaker found")  # said again: still once
    assert window.problem_label.text() == \
        "There is no system tray\nNo microphone or speaker found"
    for n in range(5):
        window.show_problem(f"note {n}")
    assert window.problem_label.text() == "note 2\nnote 3\nnote 4"
    click(qtbot, window.problem_banner.findChild(QPushButton, "dismiss_problem"))
    window.show_problem("afterwards")
    assert window.problem_label.text() == "afterwards"
