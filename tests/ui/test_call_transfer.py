"""Transfer and consultation from the call card, offscreen, through the real composition root.

The engine is `TransferEngine`, the ScriptedEngine of test_main_window.py taught the
transfer commands: it records them and the test plays the far end's answers (the
NOTIFY progress as TransferStatus events), as a real engine would send them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings, SipSettings
from app.core.calls import CallState, CallStateChanged, HangupSide, TransferState, TransferStatus
from app.core.history import MEMORY, History
from app.ui.call_panel import CallCard
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine


class TransferEngine(ScriptedEngine):
    """ScriptedEngine plus blind and consulted transfer (the customer is held first)."""

    def transfer(self, handle: int, target: str, context: str = "") -> None:
        self.commands.append(("transfer", handle, target))
        self.emit(CallStateChanged(handle, CallState.HELD))

    def transfer_to_call(self, handle: int, other: int) -> None:
        self.commands.append(("transfer_to_call", handle, other))

    def progress(self, handle: int, state: TransferState, code: int, reason: str = "",
                 *, final: bool = False, target: str = "") -> None:
        self.emit(TransferStatus(handle, state, code, reason, final, target))


@pytest.fixture
def app(qtbot: QtBot) -> Iterator[SwitchboardApp]:
    settings = Settings()
    settings.sip.caller_ids = ["+358912345"]
    settings.phone.audio = "null"  # a UI test: no sound card in the way
    settings.contactcenter.colleagues = ["Anna Agent=sip:anna@pbx.example"]
    settings.contactcenter.queue_numbers = ["Support=+358201234567"]

    def factory(sip: SipSettings, **kw: Any) -> TransferEngine:
        return TransferEngine(sip, **kw)

    made = build_app(None, settings, secrets=MemorySecretStore(), engine_factory=factory,
                     history=History(MEMORY))
    qtbot.addWidget(made.window)
    made.start()
    qtbot.waitExposed(made.window)
    qtbot.waitUntil(lambda: made.engine_running)
    yield made
    made.shutdown()


def engine_of(app: SwitchboardApp) -> TransferEngine:
    return app.engine  # type: ignore[return-value]


def card(app: SwitchboardApp, handle: int) -> CallCard:
    return app.window.call_panel.cards[handle]


def click(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def answered_call(qtbot: QtBot, app: SwitchboardApp) -> int:
    engine = engine_of(app)
    h = engine.ring()
    # The card is laid out on a later turn of the event loop than it is added.
    qtbot.waitUntil(lambda: h in app.window.call_panel.cards
                    and card(app, h).answer_button.isVisible())
    click(qtbot, card(app, h).answer_button)
    qtbot.waitUntil(lambda: card(app, h).call.state is CallState.CONNECTED)
    engine.commands.clear()
    return h


def test_blind_transfer_shows_its_progress_until_the_call_is_gone(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    c = card(app, h)
    assert c.transfer_button.isVisible() and c.consult_button.isVisible()
    assert not c.transfer_box.isVisible()
    click(qtbot, c.transfer_button)
    assert c.transfer_box.isVisible() and c.transfer_box.go_button.text() == "Transfer"
    qtbot.keyClicks(c.transfer_box.target_box.lineEdit(), "050 111 2222")
    click(qtbot, c.transfer_box.go_button)

    assert engine.commands == [("transfer", h, "+358501112222")]
    qtbot.waitUntil(lambda: c.call.state is CallState.HELD)
    assert not c.transfer_box.isVisible()  # accepted: the field closes
    assert not c.transfer_button.isVisible()  # one transfer at a time
    assert c.transfer_status.text() == "Transferring to +358501112222…"
    engine.progress(h, TransferState.RINGING, 180, "Ringing")
    qtbot.waitUntil(lambda: "is ringing" in c.transfer_status.text())
    assert c.transfer_status.text() == "+358501112222 is ringing…"
    assert not c.resume_button.isVisible()
    engine.progress(h, TransferState.ACCEPTED, 200, "OK", final=True)
    qtbot.waitUntil(lambda: c.transfer_status.text() == "Transferred to +358501112222")
    engine.hangup(h)  # the engine hangs up once the target answered
    qtbot.waitUntil(lambda: not app.window.call_panel.cards)


def test_a_failed_transfer_gives_the_caller_back_and_says_why(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    c = card(app, h)
    click(qtbot, c.transfer_button)
    qtbot.keyClicks(c.transfer_box.target_box.lineEdit(), "050 111 2222")
    qtbot.keyClick(c.transfer_box.target_box.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.call.state is CallState.HELD)
    engine.progress(h, TransferState.FAILED, 486, "Busy Here", final=True)
    # The session takes the caller off hold by itself (nothing else is going on).
    qtbot.waitUntil(lambda: c.call.state is CallState.CONNECTED)
    assert engine.commands[-1] == ("hold", h, False)
    assert c.transfer_status.text() == ("Transfer to +358501112222 failed (486 Busy Here). "
                                        "You are talking to the caller again.")
    assert c.transfer_button.isVisible()  # may try again


def test_after_a_failed_transfer_of_a_held_call_resume_is_one_click(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    c = card(app, h)
    click(qtbot, c.hold_button)  # held by the agent: it stays held when the transfer fails
    qtbot.waitUntil(lambda: c.call.state is CallState.HELD)
    click(qtbot, c.transfer_button)
    qtbot.keyClicks(c.transfer_box.target_box.lineEdit(), "sip:bob@pbx.example")
    click(qtbot, c.transfer_box.go_button)
    engine.progress(h, TransferState.FAILED, 404, "Not Found", final=True)
    qtbot.waitUntil(lambda: c.resume_button.isVisible())
    assert "failed (404 Not Found). The caller is on hold." in c.transfer_status.text()
    click(qtbot, c.resume_button)
    qtbot.waitUntil(lambda: c.call.state is CallState.CONNECTED)
    assert engine.commands[-1] == ("hold", h, False)
    assert not c.resume_button.isVisible()


def test_colleagues_and_queues_are_offered_and_a_bad_number_is_refused_on_the_card(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    c = card(app, h)
    click(qtbot, c.transfer_button)
    box = c.transfer_box.target_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "Anna Agent — sip:anna@pbx.example", "Support — +358201234567"]
    qtbot.keyClicks(box.lineEdit(), "12ab")
    click(qtbot, c.transfer_box.go_button)
    assert c.transfer_box.error_label.isVisible() and c.transfer_box.error_label.text()
    assert engine.commands == []  # nothing was sent
    box.setCurrentIndex(1)
    click(qtbot, c.transfer_box.go_button)
    assert engine.commands == [("transfer", h, "+358201234567")]


def test_consult_swap_and_complete(qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    customer = card(app, h)
    click(qtbot, customer.consult_button)
    assert customer.transfer_box.go_button.text() == "Call"
    customer.transfer_box.target_box.setCurrentIndex(0)  # Anna, from the list
    click(qtbot, customer.transfer_box.go_button)
    consult_handle = h + 1  # ScriptedEngine hands out handles in order
    assert engine.commands == [("dial", "sip:anna@pbx.example", "+358912345"),
                               ("hold", h, True)]
    qtbot.waitUntil(lambda: consult_handle in app.window.call_panel.cards)
    colleague = card(app, consult_handle)
    engine.remote_answers(consult_handle)
    qtbot.waitUntil(lambda: colleague.call.state is CallState.CONNECTED)
    assert colleague.consult_label.text() == "Consulting about Maija Meikäläinen (on hold)"
    assert customer.consult_label.text() == "Consulting sip:anna@pbx.example"
    assert not customer.transfer_button.isVisible()  # the colleague's card has the controls
    assert not colleague.transfer_button.isVisible()

    engine.commands.clear()
    click(qtbot, colleague.swap_button)  # back to the caller
    qtbot.waitUntil(lambda: customer.call.state is CallState.CONNECTED)
    assert engine.commands == [("hold", consult_handle, True), ("hold", h, False)]
    click(qtbot, colleague.swap_button)  # and to the colleague again
    qtbot.waitUntil(lambda: colleague.call.state is CallState.CONNECTED)

    engine.commands.clear()
    click(qtbot, colleague.complete_button)
    assert engine.commands == [("transfer_to_call", h, consult_handle)]
    qtbot.waitUntil(lambda: customer.transfer_status.text().startswith("Transferring to"))
    assert not colleague.consult_controls.isVisible()  # no second completion
    engine.progress(h, TransferState.ACCEPTED, 200, "OK", final=True)
    qtbot.waitUntil(lambda: customer.transfer_status.text().startswith("Transferred to"))
    engine.emit(CallStateChanged(consult_handle, CallState.ENDED, 200, "",
                                 HangupSide.REMOTE))
    engine.hangup(h)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards)


def test_cancelling_a_consultation_returns_to_the_caller(qtbot: QtBot,
                                                         app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    customer = card(app, h)
    click(qtbot, customer.consult_button)
    qtbot.keyClicks(customer.transfer_box.target_box.lineEdit(), "050 111 3333")
    click(qtbot, customer.transfer_box.go_button)
    consult_handle = h + 1
    qtbot.waitUntil(lambda: consult_handle in app.window.call_panel.cards)
    colleague = card(app, consult_handle)
    qtbot.waitUntil(colleague.cancel_consult_button.isVisible)  # also while it still rings
    engine.commands.clear()
    click(qtbot, colleague.cancel_consult_button)
    qtbot.waitUntil(lambda: consult_handle not in app.window.call_panel.cards)
    qtbot.waitUntil(lambda: customer.call.state is CallState.CONNECTED)
    assert engine.commands == [("hangup", consult_handle), ("hold", h, False)]
    assert not customer.consult_label.isVisible()
    assert customer.transfer_button.isVisible()


def test_transfer_to_the_consultation_while_it_rings_then_complete_once_answered(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    customer = card(app, h)
    click(qtbot, customer.consult_button)
    customer.transfer_box.target_box.setCurrentIndex(0)  # Anna, from the list
    click(qtbot, customer.transfer_box.go_button)
    consult_handle = h + 1
    qtbot.waitUntil(lambda: consult_handle in app.window.call_panel.cards)
    colleague = card(app, consult_handle)
    qtbot.waitUntil(colleague.consult_controls.isVisible)
    # Ringing: Transfer now in Complete's place.
    assert colleague.call.state is CallState.ALERTING
    assert colleague.transfer_now_button.isVisible()
    assert not colleague.complete_button.isVisible()
    assert colleague.transfer_now_button.text() == "Transfer now"

    engine.commands.clear()
    click(qtbot, colleague.transfer_now_button)
    # The ringing consultation is cancelled and the caller blind-transferred to Anna.
    assert engine.commands == [("hangup", consult_handle), ("transfer", h,
                                                            "sip:anna@pbx.example")]
    qtbot.waitUntil(lambda: consult_handle not in app.window.call_panel.cards)
    qtbot.waitUntil(lambda: customer.transfer_status.text().startswith("Transferring to"))
    assert customer.call.state is CallState.HELD  # not resumed when the consultation ended
    assert not customer.transfer_button.isVisible()
    assert ("hold", h, False) not in engine.commands
    engine.progress(h, TransferState.ACCEPTED, 200, "OK", final=True)
    qtbot.waitUntil(lambda: customer.transfer_status.text().startswith("Transferred to"))
    engine.hangup(h)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards)


def test_transfer_now_becomes_complete_when_the_colleague_answers(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine, h = engine_of(app), answered_call(qtbot, app)
    customer = card(app, h)
    click(qtbot, customer.consult_button)
    qtbot.keyClicks(customer.transfer_box.target_box.lineEdit(), "050 111 3333")
    click(qtbot, customer.transfer_box.go_button)
    consult_handle = h + 1
    qtbot.waitUntil(lambda: consult_handle in app.window.call_panel.cards)
    colleague = card(app, consult_handle)
    qtbot.waitUntil(colleague.transfer_now_button.isVisible)
    engine.remote_answers(consult_handle)
    qtbot.waitUntil(lambda: colleague.complete_button.isVisible())
    assert not colleague.transfer_now_button.isVisible()
    engine.commands.clear()
    click(qtbot, colleague.complete_button)
    assert engine.commands == [("transfer_to_call", h, consult_handle)]


def test_being_moved_by_the_far_end_is_shown(qtbot: QtBot, app: SwitchboardApp) -> None:
    from app.core.calls import OutgoingCallStarted, TransferRequested

    engine, h = engine_of(app), answered_call(qtbot, app)
    engine.emit(TransferRequested(h, 50, "sip:+358509999999@pbx", "+358509999999"))
    engine.emit(OutgoingCallStarted(50, "out-50", "sip:+358509999999@pbx", "+358509999999",
                                    "201"))
    qtbot.waitUntil(lambda: "moved this call" in card(app, h).transfer_status.text())
    assert card(app, h).transfer_status.text() == \
        "The caller moved this call to +358509999999"

