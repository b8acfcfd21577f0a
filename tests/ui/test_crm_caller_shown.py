"""The CRM's name for the caller on the ringing card, the toast and Recent calls, and a call
refused in wrap-up shown as refused (issue 10), with the whole app from the composition root.

The CRM is tests/fakes/memory_crm.py under `crm.backend = "dynamics"` (so the card names
"Dynamics 365"); the engine is the ScriptedEngine (no SIP); the toast is the real Desktop's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import CrmChoice, build_app, build_desktop
from app.config import Settings
from app.core.calls import CallOffer, CallRefused, CallState
from app.core.crm import NewContact
from app.core.history import MEMORY, History
from app.paths import Profile
from app.threads import Lane
from app.ui.call_panel import CallCard
from app.wiring.desktop import DesktopWiring
from tests.fakes.memory_crm import MemoryCrm
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine

WAIT_MS = 30_000  # the first Chromium start on a busy machine is slow
CALLER = "+358401234567"


@pytest.fixture
def crm() -> MemoryCrm:
    return MemoryCrm(region="FI")


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path,
        crm: MemoryCrm) -> Iterator[tuple[SwitchboardApp, DesktopWiring]]:
    settings = Settings()
    settings.crm.backend = "dynamics"  # the name shown; the backend is the one given
    settings.crm.workflow = "contact_account"
    settings.phone.audio = "null"
    settings.availability.wrap_up_seconds = 60
    built = build_app(Profile.at(tmp_path / "profile").ensure(), settings,
                      secrets=MemorySecretStore(),
                      engine_factory=ScriptedEngine,  # type: ignore[arg-type]
                      history=History(MEMORY), crm_choice=CrmChoice(crm, Lane.NETWORK))
    qtbot.addWidget(built.window)
    desktop = build_desktop(built, quit=lambda: None)
    built.start(show=True)
    desktop.start()
    qtbot.waitUntil(lambda: built.engine_running)
    yield built, desktop
    desktop.shutdown()
    built.shutdown()


def card_of(qtbot: QtBot, app: SwitchboardApp, handle: int) -> CallCard:
    """The call's card, once the engine's event has reached the window."""
    cards = app.window.call_panel.cards
    qtbot.waitUntil(lambda: handle in cards)
    return cards[handle]


def _caller_cells(app: SwitchboardApp) -> list[tuple[str, str, str]]:
    tree = app.window.history_view.tree
    items = (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))
    return [(i.text(1), i.text(2), i.toolTip(1)) for i in items if i is not None]


def test_the_crm_name_is_on_the_card_the_toast_and_in_recent_calls(
        qtbot: QtBot, app: tuple[SwitchboardApp, DesktopWiring], crm: MemoryCrm) -> None:
    built, desktop = app
    crm.create_contact(NewContact("Aino", "Virtanen", phones=("040 123 4567",)))
    engine: ScriptedEngine = built.engine.current  # type: ignore[attr-defined]

    handle = engine.ring(CALLER, CALLER, "Myynti")  # the phone sent only its number
    card = card_of(qtbot, built, handle)
    qtbot.waitUntil(lambda: card.name_label.text() == "Aino Virtanen", timeout=WAIT_MS)
    assert card.number_label.text() == "040 1234567" and card.number_label.isVisible()
    assert card.crm_label.text() == "From Dynamics 365"
    assert card.queue_label.text() == "Queue: Myynti"
    toast = desktop.desktop.notifier.toast(handle)
    assert toast is not None
    assert (toast.name_label.text(), toast.number_label.text(), toast.crm_label.text()) == (
        "Aino Virtanen", "040 1234567", "From Dynamics 365")

    engine.remote_hangs_up(handle)  # missed
    qtbot.waitUntil(lambda: bool(_caller_cells(built)))
    who, result, tip = _caller_cells(built)[0]
    assert who == "Aino Virtanen\n040 1234567" and result == "Missed"
    assert "Aino Virtanen in Dynamics 365" in tip


def test_several_matches_and_none_are_said_as_such(
        qtbot: QtBot, app: tuple[SwitchboardApp, DesktopWiring], crm: MemoryCrm) -> None:
    built, _ = app
    for first in ("Aino", "Pekka"):
        crm.create_contact(NewContact(first, "Virtanen", phones=("040 123 4567",)))
    engine: ScriptedEngine = built.engine.current  # type: ignore[attr-defined]
    handle = engine.ring(CALLER, "Reception", None)
    card = card_of(qtbot, built, handle)
    qtbot.waitUntil(lambda: card.crm_label.text() == "2 matches in Dynamics 365",
                    timeout=WAIT_MS)
    assert card.name_label.text() == "Reception"  # no one name: the SIP display name stays
    engine.remote_hangs_up(handle)
    unknown = engine.ring("+358501112223", "", None)
    card = card_of(qtbot, built, unknown)
    qtbot.waitUntil(lambda: card.crm_label.text() == "Not in Dynamics 365", timeout=WAIT_MS)
    assert card.name_label.text() == "050 1112223"


def test_a_queue_call_refused_in_wrap_up_is_refused_not_declined(
        qtbot: QtBot, app: tuple[SwitchboardApp, DesktopWiring], crm: MemoryCrm) -> None:
    built, _ = app
    engine: ScriptedEngine = built.engine.current  # type: ignore[attr-defined]
    handle = engine.ring(CALLER, "", "Myynti")
    card = card_of(qtbot, built, handle)
    qtbot.waitUntil(card.answer_button.isVisible)
    qtbot.mouseClick(card.answer_button, Qt.MouseButton.LeftButton)
    engine.remote_answers(handle)
    qtbot.waitUntil(lambda: (call := built.session.get(handle)) is not None
                    and call.state is CallState.CONNECTED)
    engine.remote_hangs_up(handle)
    availability = built.availability.availability
    qtbot.waitUntil(lambda: availability.current.shown == "Wrap Up")

    # The ring rule the engine asks for the next queue call, and what it answers.
    decision = availability.ring_policy(CallOffer("+358501112223", "", "Myynti", 0))
    assert not decision.ring
    engine.emit(CallRefused("refused-1", "+358501112223", "", "Myynti",
                            decision.sip_code, decision.reason))
    qtbot.waitUntil(lambda: len(_caller_cells(built)) == 2)
    who, result, _ = _caller_cells(built)[0]
    assert who == "050 1112223" and result == "Refused: in wrap-up"
    assert "Declined" not in [r for _, r, _ in _caller_cells(built)]
