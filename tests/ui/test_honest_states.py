"""Honest states on the call card (issue 10): a hold or resume the far end refused is said
on the card, the Hold button keeps telling the truth, and the note goes once the call's
hold state changes. The whole app from the composition root; the engine is the
ScriptedEngine (the refusal itself, from SIPp: tests/integration/test_sipp_hold_refused.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app import config
from app.application import SwitchboardApp
from app.compose import build_app
from app.core.calls import CallState, HoldFailed, MediaChanged
from app.core.history import MEMORY, History
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine


class RefusingFarEnd(ScriptedEngine):
    """A far end that answers every hold and resume re-INVITE with 488."""

    def set_hold(self, handle: int, held: bool) -> None:
        self.commands.append(("hold", handle, held))
        self.emit(HoldFailed(handle, held, 488, "Not Acceptable Here"))


@pytest.fixture
def app(qtbot: QtBot) -> Iterator[SwitchboardApp]:
    settings = config.Settings()
    settings.phone.audio = "null"  # a UI test: no sound card in the way
    built = build_app(None, settings, secrets=MemorySecretStore(),
                      history=History(MEMORY),
                      engine_factory=lambda sip, **kw: RefusingFarEnd(sip, **kw))
    qtbot.addWidget(built.window)
    built.start(show=True)
    qtbot.waitUntil(lambda: built.engine_running)
    yield built
    built.shutdown()


def test_a_refused_hold_and_resume_are_said_on_the_card(qtbot: QtBot,
                                                        app: SwitchboardApp) -> None:
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    handle = engine.ring()
    cards = app.window.call_panel.cards
    qtbot.waitUntil(lambda: handle in cards)
    card = cards[handle]
    qtbot.waitUntil(card.answer_button.isVisible)
    qtbot.mouseClick(card.answer_button, Qt.MouseButton.LeftButton)
    engine.remote_answers(handle)
    qtbot.waitUntil(lambda: card.hold_button.isEnabled())
    assert not card.hold_error_label.isVisible()

    qtbot.mouseClick(card.hold_button, Qt.MouseButton.LeftButton)
    assert ("hold", handle, True) in engine.commands
    qtbot.waitUntil(card.hold_error_label.isVisible)
    assert card.hold_error_label.text() == ("The other side refused the hold (488 Not "
                                            "Acceptable Here): the call is not on hold.")
    assert card.hold_button.text() == "Hold" and not card.hold_button.isChecked()
    assert card.status_label.text().startswith("Connected")

    # A hold that works (the media says held) takes the note away.
    engine.emit(MediaChanged(handle, active=False, muted=False, held_locally=True,
                             held_remotely=False))
    qtbot.waitUntil(lambda: not card.hold_error_label.isVisible())
    call = app.session.get(handle)
    assert call is not None and call.state is CallState.HELD

    qtbot.mouseClick(card.hold_button, Qt.MouseButton.LeftButton)  # "Resume"
    assert ("hold", handle, False) in engine.commands
    qtbot.waitUntil(card.hold_error_label.isVisible)
    assert card.hold_error_label.text() == ("The other side refused to resume (488 Not "
                                            "Acceptable Here): the call is still on hold.")
    engine.emit(HoldFailed(handle, False, 0))  # a resume that timed out
    qtbot.waitUntil(lambda: card.hold_error_label.text() == (
        "The other side did not answer the resume: the call is still on hold."))
    assert card.hold_button.text() == "Resume" and card.hold_button.isChecked()
