"""Transfer to the consultation: the customer goes to the consulted colleague at once, as a
semi-attended transfer while the colleague's phone still rings (CANCEL, then a blind REFER
with the blind path's context) and as the consulted complete once the colleague answered.
Driven through ScriptedEngine (tests/fakes/scripted_engine.py), which answers commands with
engine events as the real engine does."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings, SipSettings
from app.core.calls import (
    CallState,
    CallStateChanged,
    EngineEvent,
    HangupSide,
    TransferState,
    TransferStatus,
)
from app.core.crm import RecordKind, RecordRef
from app.core.phone import PhoneSession
from app.core.transfer_context import TransferContext, decode
from tests.fakes.scripted_engine import ScriptedEngine

NUMBER = "+358401234567"
COLLEAGUE = "+358501112222"
SENT = TransferContext("local", RecordRef(RecordKind.CONTACT, "42"), "17", NUMBER)


class Phone:
    """A session on a scripted engine, with the calls that ended."""

    def __init__(self, *, context: bool = True) -> None:
        self.session: PhoneSession | None = None
        self.engine = ScriptedEngine(SipSettings(), password=None, policy=None,
                                     on_event=self._event)
        settings = Settings()
        settings.sip.caller_ids = ["+358912345"]
        self.session = PhoneSession(self.engine, None, settings)
        if context:
            self.session.set_transfer_context(
                lambda call: SENT if call.remote_number == NUMBER else None)
        self.ended: list[Any] = []
        self.session.subscribe(on_call_ended=self.ended.append)

    def _event(self, event: EngineEvent) -> None:
        assert self.session is not None
        self.session.handle(event)

    def consulting(self) -> tuple[int, int]:
        """The customer answered, then a consultation dialled: it rings, unanswered."""
        assert self.session is not None
        customer = self.engine.ring(NUMBER)
        self.session.answer(customer)
        outcome = self.session.consult(customer, "050 111 2222")
        assert outcome.ok and outcome.handle is not None
        self.engine.commands.clear()
        return customer, outcome.handle

    def progress(self, handle: int, st: TransferState, code: int, reason: str) -> None:
        self._event(TransferStatus(handle, st, code, reason, st in (TransferState.ACCEPTED,
                                                                    TransferState.FAILED),
                                   f"sip:{COLLEAGUE}@pbx"))


@pytest.fixture
def phone() -> Phone:
    return Phone()


def _session(phone: Phone) -> PhoneSession:
    assert phone.session is not None
    return phone.session


def test_a_ringing_consultation_is_cancelled_and_the_customer_blind_transferred(
        phone: Phone) -> None:
    session = _session(phone)
    customer, consultation = phone.consulting()
    assert session.get(customer).state is CallState.HELD  # type: ignore[union-attr]
    assert session.get(consultation).state is CallState.ALERTING  # type: ignore[union-attr]

    outcome = session.transfer_to_consultation(consultation)

    assert outcome.ok and outcome.target == COLLEAGUE
    # CANCEL the ringing call first, then REFER the customer to what was dialled, with
    # the context a blind transfer sends; no REFER with Replaces, no resume between them.
    assert [c[:3] for c in phone.engine.commands] == [
        ("hangup", consultation), ("transfer", customer, COLLEAGUE)]
    assert decode(phone.engine.commands[-1][3]) == TransferContext(
        SENT.crm, SENT.record, SENT.case_id, SENT.number, "blind")
    call = session.get(customer)
    assert call is not None and call.state is CallState.HELD
    assert (call.transfer, call.transfer_kind, call.transfer_target) == (
        TransferState.TRYING, "blind", COLLEAGUE)
    assert session.get(consultation) is None


def test_the_colleague_answering_the_transfer_ends_the_customer_call_in_the_record(
        phone: Phone) -> None:
    session = _session(phone)
    customer, consultation = phone.consulting()
    session.transfer_to_consultation(consultation)
    phone.progress(customer, TransferState.RINGING, 180, "Ringing")
    phone.progress(customer, TransferState.ACCEPTED, 200, "OK")
    # The engine hangs up our leg once the transfer is accepted.
    phone._event(CallStateChanged(customer, CallState.ENDED, 200, "", HangupSide.LOCAL))

    assert session.calls == []
    records = {r.call_id: r for r in phone.ended}
    assert (records[f"in-{customer}"].transferred_to, records[f"in-{customer}"].transfer_kind) == (
        COLLEAGUE, "blind")
    assert records[f"in-{customer}"].transferred_at is not None
    assert records[f"out-{consultation}"].transferred_to == ""  # the cancelled call moved no one


def test_a_failed_transfer_gives_the_customer_back_off_hold(phone: Phone) -> None:
    session = _session(phone)
    customer, consultation = phone.consulting()
    session.transfer_to_consultation(consultation)
    phone.engine.commands.clear()

    phone.progress(customer, TransferState.FAILED, 486, "Busy Here")

    assert phone.engine.commands == [("hold", customer, False)]
    call = session.get(customer)
    assert call is not None and call.state is CallState.CONNECTED
    assert call.transfer is TransferState.FAILED and call.transfer_reason == "486 Busy Here"


def test_once_the_colleague_answered_it_is_the_consulted_complete(phone: Phone) -> None:
    session = _session(phone)
    customer, consultation = phone.consulting()
    phone.engine.remote_answers(consultation)
    phone.engine.commands.clear()

    outcome = session.transfer_to_consultation(consultation)

    assert outcome.ok
    assert phone.engine.commands == [("transfer_to_call", customer, consultation)]
    call = session.get(customer)
    assert call is not None and call.transfer_kind == "consulted"
    assert session.get(consultation) is not None  # the colleague's answer ends it


def test_without_a_context_the_refer_carries_none() -> None:
    phone = Phone(context=False)
    session = _session(phone)
    customer, consultation = phone.consulting()
    assert session.transfer_to_consultation(consultation).ok
    assert phone.engine.commands[-1] == ("transfer", customer, COLLEAGUE, "")


def test_only_a_consultation_can_be_transferred_to(phone: Phone) -> None:
    session = _session(phone)
    customer, consultation = phone.consulting()
    assert session.transfer_to_consultation(customer).error
    assert session.transfer_to_consultation(42).error
    assert phone.engine.commands == []
    assert session.transfer_to_consultation(consultation).ok
    # Pressed twice (the card redraws a moment late): the consultation is gone.
    assert session.transfer_to_consultation(consultation).error
    assert [c[0] for c in phone.engine.commands] == ["hangup", "transfer"]


def test_an_engine_that_refuses_the_refer_gives_the_customer_back(phone: Phone) -> None:
    session = _session(phone)
    customer, consultation = phone.consulting()

    def refuse(handle: int, target: str, context: str = "") -> None:
        raise RuntimeError("engine is not running")

    phone.engine.transfer = refuse  # type: ignore[method-assign]
    outcome = session.transfer_to_consultation(consultation)

    assert outcome.error.startswith("The call could not be transferred")
    assert phone.engine.commands == [("hangup", consultation), ("hold", customer, False)]
    call = session.get(customer)
    assert call is not None and call.state is CallState.CONNECTED and call.transfer is None


def test_the_colleague_answering_meanwhile_leaves_the_cancel_to_the_engine(
        phone: Phone) -> None:
    """pjsua2 reports CONNECTING when the 200 OK came: too late to cancel."""
    session = _session(phone)
    _customer, consultation = phone.consulting()
    phone._event(CallStateChanged(consultation, CallState.CONNECTING, 200, "OK"))
    assert session.transfer_to_consultation(consultation).error
    assert phone.engine.commands == []
