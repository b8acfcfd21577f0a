"""The CRM's name for a caller (app/core/crm_caller.py), carried by the call into history,
and a refused call's reason kept in history (issue 10: the card, toast and Recent calls)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from app.config import Settings
from app.core.calls import (
    Call,
    CallRefused,
    CallResult,
    CallState,
    CallStateChanged,
    Direction,
    HangupSide,
    IncomingCall,
)
from app.core.crm import Account, Contact, IdentifyResult, Lead
from app.core.crm_caller import caller_name
from app.core.history import MEMORY, History
from app.core.phone import PhoneSession

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
NUMBER = "+358401234567"
AINO = Contact("1", "Aino", "Virtanen", account_id="10", account_name="Virtanen Oy")
PEKKA = Contact("2", "Pekka", "Virtanen")
FIRM = Account("10", "Virtanen Oy")
OTHER = Account("11", "Muu Oy")
LEAD = Lead("5", "Liisa", "Laine")


def test_one_contact_is_named() -> None:
    assert caller_name(IdentifyResult(NUMBER, contacts=(AINO,))) == "Aino Virtanen"


def test_a_contact_and_its_own_account_are_one_caller() -> None:
    found = IdentifyResult(NUMBER, contacts=(AINO,), accounts=(FIRM,))
    assert caller_name(found) == "Aino Virtanen"


def test_one_lead_or_one_account_is_named() -> None:
    assert caller_name(IdentifyResult(NUMBER, leads=(LEAD,))) == "Liisa Laine"
    assert caller_name(IdentifyResult(NUMBER, accounts=(FIRM,))) == "Virtanen Oy"


def test_nobody_several_or_too_many_give_no_name() -> None:
    assert caller_name(IdentifyResult(NUMBER)) == ""
    assert caller_name(IdentifyResult(NUMBER, contacts=(AINO, PEKKA))) == ""
    assert caller_name(IdentifyResult(NUMBER, contacts=(AINO,), accounts=(OTHER,))) == ""
    assert caller_name(IdentifyResult(NUMBER, contacts=(AINO,), leads=(LEAD,))) == ""
    assert caller_name(IdentifyResult(NUMBER, contacts=(AINO,), truncated=True)) == ""


class Control:
    """The engine's commands, not needed here."""

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kw: 1


def test_the_crm_name_reaches_the_call_its_listeners_and_history() -> None:
    history = History(MEMORY)
    session = PhoneSession(Control(), history, Settings())  # type: ignore[arg-type]
    updates: list[Call] = []
    session.subscribe(on_call_updated=updates.append)
    session.handle(IncomingCall(handle=1, call_id="c1", remote_uri=f"sip:{NUMBER}@pbx",
                                remote_number=NUMBER, display_name="+358401234567",
                                queue="Sales", local_number="201", auto_answer_after=None,
                                waiting=False, at=T0))
    session.set_crm_caller(1, "Aino Virtanen", "local", 1)
    call = updates[-1]
    assert (call.handle, call.crm_name, call.crm, call.crm_matches) == (
        1, "Aino Virtanen", "local", 1)
    session.set_crm_caller(99, "Nobody", "local", 1)  # a call that is gone: ignored
    session.handle(CallStateChanged(1, CallState.ENDED, sip_code=487,
                                    hangup_side=HangupSide.REMOTE, at=T0))
    stored = history.get("c1")
    assert stored is not None and (stored.crm_name, stored.crm) == ("Aino Virtanen", "local")


def test_a_refused_call_keeps_its_reason_in_history() -> None:
    history = History(MEMORY)
    session = PhoneSession(Control(), history, Settings())  # type: ignore[arg-type]
    session.handle(CallRefused("r1", NUMBER, "", "Sales", 480, "Wrap up", at=T0))
    stored = history.get("r1")
    assert stored is not None
    assert stored.result is CallResult.DECLINED and stored.refused_reason == "Wrap up"


def test_history_from_before_gets_the_new_columns_empty(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    History(path).close()
    db = sqlite3.connect(path)  # as the version before issue 10 left it, with one call
    for column in ("crm_name", "crm", "refused_reason"):
        db.execute(f"ALTER TABLE calls DROP COLUMN {column}")
    db.execute("INSERT INTO calls (call_id, direction, local_number, remote_number, "
               "remote_digits, display_name, queue, arrived_at, answered_at, ended_at, "
               "result, hangup_side, sip_code, sip_reason) VALUES ('old', 'inbound', '201', "
               "?, '358401234567', 'Maija', NULL, ?, NULL, ?, 'missed', 'remote', 487, '')",
               (NUMBER, T0.isoformat(), T0.isoformat()))
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    history = History(path)
    try:
        old = history.get("old")
        assert old is not None and (old.crm_name, old.crm, old.refused_reason) == ("", "", "")
    finally:
        history.close()


def test_a_record_chosen_for_the_call_names_it_in_the_notes() -> None:
    from app.core.crm_call import CrmCallTracker, ShowCall
    from app.core.workflows import Workflow

    tracker = CrmCallTracker(Workflow("contact_account"), region="FI",
                             log_missed_calls=True, save_on_case=False)
    tracker.call_updated(Call(handle=1, call_id="c1", direction=Direction.INBOUND,
                              local_number="201", remote_number=NUMBER, arrived_at=T0))
    tracker.identified("c1", IdentifyResult(NUMBER, contacts=(AINO, PEKKA)))
    assert tracker.named("c1", "Pekka Virtanen") == [ShowCall("Pekka Virtanen", "")]
    state = tracker.get("c1")
    assert state is not None and state.who == "Pekka Virtanen"
    assert tracker.named("c1", "  ") == [] and tracker.named("gone", "X") == []
