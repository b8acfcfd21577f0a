"""SIPp calls the engine: answer, decline, caller gives up, caller hangs up, DTMF, bad INVITEs."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.calls import (
    CallOffer,
    CallRefused,
    CallState,
    CallStateChanged,
    DtmfReceived,
    HangupSide,
    IncomingCall,
    RingDecision,
)
from tests.integration.conftest import scenario

pytestmark = pytest.mark.sip


def states(events, handle):  # type: ignore[no-untyped-def]
    return [e.state for e in events.of(CallStateChanged, handle=handle)]


def test_answered_call_hung_up_by_caller(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_remote_bye"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    assert incoming.remote_number == "+358401234567"
    assert incoming.display_name == "Test Caller"
    assert incoming.queue == "Sales"
    assert incoming.waiting is False
    assert incoming.auto_answer_after is None
    eut.engine.answer(incoming.handle)
    ended = eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert ended.hangup_side is HangupSide.REMOTE
    assert states(eut.events, incoming.handle) == [
        CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED]


def test_answered_call_hung_up_by_agent(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_local_bye"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.answer(incoming.handle)
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.CONNECTED)
    eut.engine.hangup(incoming.handle)
    ended = eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert ended.hangup_side is HangupSide.LOCAL


@pytest.mark.parametrize("code", [486, 603])
def test_agent_declines(make_engine, sipp, tmp_path: Path, code: int) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_refused", CODE=str(code)),
                f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.decline(incoming.handle, code)
    ended = eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()  # SIPp saw exactly `code`
    assert ended.sip_code == code
    assert ended.hangup_side is HangupSide.LOCAL


def test_policy_refuses_before_ringing(make_engine, sipp, tmp_path: Path) -> None:
    offers: list[CallOffer] = []

    def dnd(offer: CallOffer) -> RingDecision:
        offers.append(offer)
        return RingDecision(False, 480, "Do not disturb")

    eut = make_engine(policy=dnd)
    peer = sipp(scenario(tmp_path, "uac_refused", CODE="480",
                         HEADERS="      X-Queue-Name: Support"),
                f"127.0.0.1:{eut.engine.local_port}")
    refused = eut.events.wait(CallRefused)
    assert peer.wait() == 0, peer.output()
    assert refused.sip_code == 480
    assert refused.queue == "Support"
    assert offers == [CallOffer("+358401234567", "Test Caller", "Support", 0)]
    assert eut.events.of(IncomingCall) == []
    assert eut.events.of(CallStateChanged) == []


def test_caller_cancels_while_ringing(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_cancel"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    ended = eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert ended.sip_code == 487
    assert ended.hangup_side is HangupSide.REMOTE
    assert states(eut.events, incoming.handle) == [CallState.ENDED]


def test_dtmf_received_as_rfc4733_and_sip_info(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_dtmf"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.answer(incoming.handle)
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    digits = [(d.digit, d.method) for d in eut.events.of(DtmfReceived, handle=incoming.handle)]
    assert digits == [("1", "rfc4733"), ("5", "info")]


@pytest.mark.parametrize("broken", ["bad_sdp", "bad_header"])
def test_malformed_invite_is_rejected_and_engine_keeps_working(
        make_engine, sipp, tmp_path: Path, broken: str) -> None:
    eut = make_engine()
    bad = sipp(scenario(tmp_path, f"uac_{broken}", CODE="400"),
               f"127.0.0.1:{eut.engine.local_port}")
    assert bad.wait() == 0, bad.output()  # SIPp got the error response it expects
    assert eut.events.of(IncomingCall) == []
    good = sipp(scenario(tmp_path, "uac_remote_bye"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.answer(incoming.handle)
    assert good.wait() == 0, good.output()


def test_auto_answer_after_a_delay(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(auto_answer=True, auto_answer_delay=0.3)
    peer = sipp(scenario(tmp_path, "uac_remote_bye"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    assert incoming.auto_answer_after == 0.3
    assert peer.wait() == 0, peer.output()  # it got its 200 OK without an answer() call
    assert states(eut.events, incoming.handle) == [
        CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED]
