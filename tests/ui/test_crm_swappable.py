"""Any CrmBackend plugs in: the whole app, built by the composition root, runs an inbound call
(ring → pop → answer → hang up → log) against a CRM built in the test (tests/fakes/
memory_crm.py), with no change to the wiring, the tracker, the outbox or the UI.

The engine is the ScriptedEngine (no SIP); the pop is the real web view loading the record
page rendered from the in-memory CRM; the log goes through the real outbox on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import CrmChoice, build_app
from app.config import Settings
from app.core.calls import CallResult, CallState
from app.core.crm import NewContact
from app.core.history import MEMORY, History
from app.paths import Profile
from app.threads import Lane
from tests.fakes.memory_crm import MemoryCrm
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine

WAIT_MS = 30_000  # the first Chromium start on a busy machine is slow
CALLER = "+358401234567"


@pytest.fixture
def crm() -> MemoryCrm:
    return MemoryCrm(region="FI")


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path, crm: MemoryCrm) -> Iterator[SwitchboardApp]:
    settings = Settings()
    settings.crm.workflow = "contact_account"
    settings.phone.audio = "null"
    built = build_app(Profile.at(tmp_path / "profile").ensure(), settings,
                      secrets=MemorySecretStore(),
                      engine_factory=ScriptedEngine,  # type: ignore[arg-type]  # no transfer
                      history=History(MEMORY), crm_choice=CrmChoice(crm, Lane.NETWORK))
    qtbot.addWidget(built.window)
    built.start(show=True)
    qtbot.waitUntil(lambda: built.engine_running)
    yield built
    built.shutdown()


def test_a_whole_inbound_call_runs_against_a_crm_built_in_the_test(
        qtbot: QtBot, app: SwitchboardApp, crm: MemoryCrm, tmp_path: Path) -> None:
    aino = crm.create_contact(NewContact("Aino", "Virtanen", phones=("040 123 4567",)))
    engine: ScriptedEngine = app.engine.current  # type: ignore[attr-defined]
    assert app.crm is not None and app.crm.backend is crm

    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as popped:
        handle = engine.ring(CALLER, "", None)
    call_id = f"in-{handle}"
    assert popped.args == [call_id, f"contact/{aino.id}"]  # the one match, popped
    assert ("identify", CALLER) in crm.calls

    card = app.window.call_panel.cards[handle]
    qtbot.waitUntil(card.answer_button.isVisible)
    qtbot.mouseClick(card.answer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (call := app.session.get(handle)) is not None
                    and call.state is CallState.CONNECTED)
    qtbot.keyClicks(app.crm.notes.edit, "Wants a callback on Friday")

    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS) as landed:
        engine.remote_hangs_up(handle)
    assert landed.args[0] == call_id
    activity = crm.activities[landed.args[1]]
    assert (activity.call_id, activity.direction, activity.result, activity.caller_number,
            activity.regarding, activity.notes) == (
        call_id, "inbound", CallResult.ANSWERED.value, CALLER, (aino.ref,),
        "Wants a callback on Friday")
    assert [r.call_id for r in app.history.recent()] == [call_id]
    # Only the CRM given was used: the built-in one was never opened.
    assert not Profile.at(tmp_path / "profile").db_path("crm").exists()
