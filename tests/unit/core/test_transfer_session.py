"""PhoneSession and the CRM tracker around a transfer: the context sent and received, and
the transfer in the finished call's record and activity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.config import Settings
from app.core.activity import call_log, case_note
from app.core.calls import CallState, HangupSide, IncomingCall, TransferState
from app.core.crm import Case, Contact, RecordKind, RecordRef
from app.core.crm_call import CrmCallTracker, Identify, Resolve, SaveLog, ShowRecord
from app.core.phone import PhoneSession
from app.core.transfer_context import HEADER, TransferContext, decode
from app.core.workflows import Workflow
from tests.unit.core.test_phone import (
    T0,
    RecordingControl,
    connected,
    consulting,
    progress,
    ring,
    state,
)

NUMBER = "+358401234567"
AINO = Contact("42", "Aino", "Virtanen", phones=(NUMBER,))
HER_CASE = Case("17", "00017", "Router keeps dropping", contact_id="42")
C42 = RecordRef(RecordKind.CONTACT, "42")
CASE17 = RecordRef(RecordKind.CASE, "17")
SENT = TransferContext("local", C42, "17", NUMBER)


class ContextControl(RecordingControl):
    """Records the context of transfers and the headers of dials too."""

    def dial(self, target: str, *, caller_id: str | None = None,
             headers: dict[str, str] | None = None) -> int:
        self.commands.append(("dial", target, caller_id, headers))
        self.next_handle += 1
        return self.next_handle - 1

    def transfer(self, handle: int, target: str, context: str = "") -> None:
        self.commands.append(("transfer", handle, target, context))


@pytest.fixture
def control() -> ContextControl:
    return ContextControl()


@pytest.fixture
def session(control: ContextControl) -> PhoneSession:
    settings = Settings()
    settings.sip.caller_ids = ["+358912345"]
    phone = PhoneSession(control, None, settings)
    phone.set_transfer_context(lambda call: SENT if call.handle == 1 else None)
    return phone


def test_blind_transfer_sends_the_context_and_the_record_says_so(
        session: PhoneSession, control: ContextControl) -> None:
    ended: list[Any] = []
    session.subscribe(on_call_ended=ended.append)
    connected(session)
    assert session.transfer(1, "050 111 2222").ok
    (_cmd, handle, target, value) = control.commands[-1]
    assert (handle, target) == (1, "+358501112222")
    assert decode(value) == TransferContext("local", C42, "17", NUMBER, "blind")

    progress(session, 1, TransferState.ACCEPTED, 200, "OK", final=True)
    state(session, 1, CallState.ENDED, t=10, code=200, side=HangupSide.LOCAL)
    (record,) = ended
    assert (record.transferred_to, record.transfer_kind) == ("+358501112222", "blind")
    assert record.transferred_at is not None

    entry = call_log(record, notes="Wants a new router", regarding=(C42, CASE17))
    activity = entry.activity
    assert (activity.transferred_to, activity.transfer_kind) == ("+358501112222", "blind")
    assert activity.transferred_at == record.transferred_at.isoformat(timespec="seconds")
    assert activity.notes.splitlines() == [
        "Wants a new router",
        f"Transferred (blind) to +358501112222 at {activity.transferred_at}"]
    assert "Transferred (blind)" in case_note(activity)


def test_a_failed_transfer_is_not_in_the_record(session: PhoneSession) -> None:
    ended: list[Any] = []
    session.subscribe(on_call_ended=ended.append)
    connected(session)
    session.transfer(1, "050 111 2222")
    progress(session, 1, TransferState.FAILED, 486, "Busy Here", final=True)
    state(session, 1, CallState.ENDED, t=10)
    assert (ended[0].transferred_to, ended[0].transfer_kind) == ("", "")
    assert "Transferred" not in call_log(ended[0]).activity.notes


def test_without_a_context_the_transfer_goes_as_before(control: ContextControl) -> None:
    session = PhoneSession(control, None, Settings())
    connected(session)
    session.transfer(1, "050 111 2222")
    assert control.commands[-1] == ("transfer", 1, "+358501112222", "")
    broken = PhoneSession(control, None, Settings())
    broken.set_transfer_context(lambda call: 1 / 0)  # type: ignore[arg-type,return-value]
    connected(broken, 2)
    assert broken.transfer(2, "050 111 2222").ok  # the transfer matters more
    assert control.commands[-1] == ("transfer", 2, "+358501112222", "")


def test_consultation_carries_the_context_and_completing_records_it(
        session: PhoneSession, control: ContextControl) -> None:
    ended: list[Any] = []
    session.subscribe(on_call_ended=ended.append)
    consult = consulting(session, control)  # type: ignore[arg-type]
    dial = next(c for c in control.commands if c[0] == "dial")
    assert decode(dial[3][HEADER]) == TransferContext("local", C42, "17", NUMBER,
                                                      "consulted")
    assert session.complete_transfer(consult)
    progress(session, 1, TransferState.ACCEPTED, 200, "OK", final=True)
    state(session, consult, CallState.ENDED, t=9, code=200, side=HangupSide.REMOTE)
    state(session, 1, CallState.ENDED, t=10, code=200, side=HangupSide.LOCAL)
    customer = next(r for r in ended if r.call_id == "c1")
    assert (customer.transferred_to, customer.transfer_kind) == ("+358501112222",
                                                                 "consulted")


def incoming(session: PhoneSession, handle: int, context: str, *,
             replaces: int | None = None, number: str = NUMBER) -> None:
    session.handle(IncomingCall(
        handle=handle, call_id=f"c{handle}", remote_uri=f"sip:{number}@pbx",
        remote_number=number, display_name="", queue=None, local_number="201",
        auto_answer_after=None, waiting=False, at=T0 + timedelta(seconds=handle),
        replaces=replaces, context=context))


def test_a_received_context_is_on_the_call_and_a_malformed_one_is_not(
        session: PhoneSession, caplog: pytest.LogCaptureFixture) -> None:
    incoming(session, 1, "v=1;crm=local;record=contact/42;case=17;kind=blind")
    call = session.get(1)
    assert call is not None and call.context == TransferContext("local", C42, "17", "",
                                                                "blind")
    incoming(session, 2, "v=1;crm=local;record=contact/42\r\nX: <script>")
    assert session.get(2).context is None  # type: ignore[union-attr]
    assert "malformed X-Switchboard-Context" in caplog.text
    ring(session, 3)
    assert session.get(3).context is None  # type: ignore[union-attr]


def test_the_call_that_replaces_a_consultation_takes_its_context(
        session: PhoneSession) -> None:
    # We are the consulted colleague: the consultation came from the agent with the
    # customer's context; the customer's INVITE with Replaces carries none.
    incoming(session, 1, "v=1;crm=local;record=contact/42;number=+358401234567",
             number="+358201")
    incoming(session, 2, "", replaces=1)
    assert session.get(2).context == session.get(1).context  # type: ignore[union-attr]


# -- the CRM tracker -----------------------------------------------------------------


def tracker(workflow: Workflow = Workflow.CASE) -> CrmCallTracker:
    return CrmCallTracker(workflow, region="FI", log_missed_calls=True, save_on_case=False)


def transferred_call(session: PhoneSession, handle: int = 1, *,
                     context: str = "v=1;crm=local;record=contact/42;case=17;"
                                    "number=+358401234567;kind=consulted",
                     number: str = "+358201"):  # type: ignore[no-untyped-def]
    incoming(session, handle, context, number=number)
    call = session.get(handle)
    assert call is not None
    return call


def test_a_transferred_call_is_resolved_not_looked_up_and_pops_the_case(
        session: PhoneSession) -> None:
    crm = tracker()
    call = transferred_call(session)
    actions = crm.call_updated(call)
    assert Resolve("c1", call.context) in actions  # type: ignore[arg-type]
    assert not any(isinstance(a, Identify) for a in actions)
    # The consultation comes from the agent's number: the customer's is the context's.
    assert crm.get("c1").number == NUMBER  # type: ignore[union-attr]

    shown = crm.resolved("c1", (AINO, HER_CASE))
    assert ShowRecord("c1", CASE17) in shown
    assert crm.get("c1").who == "Aino Virtanen"  # type: ignore[union-attr]
    state(session, 1, CallState.CONNECTED)
    assert crm.call_updated(session.get(1)) == []  # type: ignore[arg-type]  # no new case
    state(session, 1, CallState.ENDED, t=5)
    logged = [a for a in crm.call_ended(session_record(session, call)) if
              isinstance(a, SaveLog)]
    assert set(logged[0].log.activity.regarding) == {C42, CASE17}
    # Transferring it on carries the same records.
    assert crm.context_for("c1", "local") is None  # logged and gone


def session_record(session: PhoneSession, call: Any) -> Any:
    return call.record()


def test_records_that_are_not_the_callers_fall_back_to_a_number_lookup(
        session: PhoneSession) -> None:
    crm = tracker()
    call = transferred_call(session)
    crm.call_updated(call)
    someone_else = Contact("42", "Matti", "M", phones=("+358501112222",))
    assert crm.resolved("c1", (someone_else, HER_CASE)) == [Identify("c1", NUMBER)]
    assert crm.context_unknown("c1") == []  # already looking the number up


def test_a_context_unknown_here_falls_back_to_the_customers_number(
        session: PhoneSession) -> None:
    crm = tracker()
    crm.call_updated(transferred_call(session))
    assert crm.context_unknown("c1") == [Identify("c1", NUMBER)]


def test_a_case_only_the_other_crm_has_leaves_the_record_and_the_workflow(
        session: PhoneSession) -> None:
    crm = tracker(Workflow.CASE)
    call = transferred_call(session)
    crm.call_updated(call)
    crm.resolved("c1", (AINO,))
    state(session, 1, CallState.CONNECTED)
    answered = crm.call_updated(session.get(1))  # type: ignore[arg-type]
    assert [type(a).__name__ for a in answered] == ["CreateCallCase"]  # a case of our own


def test_a_number_only_context_is_looked_up_by_that_number(session: PhoneSession) -> None:
    crm = tracker()
    call = transferred_call(session, context="v=1;crm=local;number=+358401234567;"
                                             "kind=consulted")
    assert Identify("c1", NUMBER) in crm.call_updated(call)


def test_what_a_transfer_carries(session: PhoneSession) -> None:
    crm = tracker(Workflow.CONTACT_ACCOUNT)
    ring(session, 1)
    call = session.get(1)
    assert call is not None
    crm.call_updated(call)
    assert crm.context_for("c1", "local") == TransferContext("local", None, "", NUMBER)
    from app.core.crm import IdentifyResult
    crm.identified("c1", IdentifyResult(NUMBER, contacts=(AINO,)))
    assert crm.context_for("c1", "local") == TransferContext("local", C42, "", NUMBER)
    crm.link("c1", CASE17)
    crm.also_regarding("c1", C42)
    assert crm.context_for("c1", "salesforce") == TransferContext("salesforce", C42, "17",
                                                                  NUMBER)
    ring(session, 2, number="alice")  # not a number: nothing to carry but records
    crm.call_updated(session.get(2))  # type: ignore[arg-type]
    assert crm.context_for("c2", "local") is None
    assert crm.context_for("nope", "local") is None


def test_a_blind_context_from_another_number_is_not_believed(session: PhoneSession) -> None:
    crm = tracker()
    call = transferred_call(session, context="v=1;crm=local;record=contact/42;case=17;"
                                             "number=+358401234567;kind=blind",
                            number="+358501112222")
    actions = crm.call_updated(call)
    assert Identify("c1", "+358501112222") in actions  # the caller's own number
    assert not any(isinstance(a, Resolve) for a in actions)
