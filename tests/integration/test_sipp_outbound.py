"""The engine calls SIPp: busy, no answer (we cancel), answered, DTMF by SIP INFO, caller id."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.calls import (
    Call,
    CallResult,
    CallState,
    CallStateChanged,
    HangupSide,
    OutgoingCallStarted,
)
from tests.integration.conftest import scenario

pytestmark = pytest.mark.sip

INFO_DTMF = """  <recv request="INFO">
    <action>
      <ereg regexp="Signal=7" search_in="body" check_it="true" assign_to="sig"/>
      <log message="dtmf: [$sig]"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>"""


def record_of(events, handle: int) -> Call:  # type: ignore[no-untyped-def]
    """Replay the engine's events through the core state machine (checks legality too)."""
    call = Call.outbound(events.wait(OutgoingCallStarted, handle=handle))
    for ev in events.of(CallStateChanged, handle=handle):
        call.apply(ev)
    return call


def test_busy(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uas_busy"))
    handle = eut.engine.dial(f"sip:busy@127.0.0.1:{peer.port}")
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert ended.sip_code == 486
    assert ended.hangup_side is HangupSide.REMOTE
    assert record_of(eut.events, handle).result() is CallResult.BUSY


def test_no_answer_we_cancel(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uas_no_answer"))
    handle = eut.engine.dial(f"sip:nobody@127.0.0.1:{peer.port}")
    alerting = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ALERTING)
    assert alerting.sip_code == 180
    assert alerting.early_media is False
    eut.engine.hangup(handle)
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()  # SIPp saw CANCEL, answered 487, got ACK
    assert ended.sip_code == 487
    assert ended.hangup_side is HangupSide.LOCAL
    assert record_of(eut.events, handle).result() is CallResult.NO_ANSWER


def test_answered_then_dtmf_by_sip_info_then_hangup(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(dtmf_method="info")
    peer = sipp(scenario(tmp_path, "uas_answer", INFO=INFO_DTMF))
    handle = eut.engine.dial(f"sip:answer@127.0.0.1:{peer.port}")
    started = eut.events.wait(OutgoingCallStarted, handle=handle)
    assert started.remote_uri == f"sip:answer@127.0.0.1:{peer.port}"
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)
    eut.engine.send_dtmf(handle, "7")  # SIPp checks the INFO body says Signal=7
    eut.engine.hangup(handle)
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert ended.hangup_side is HangupSide.LOCAL
    call = record_of(eut.events, handle)
    assert [e.state for e in eut.events.of(CallStateChanged, handle=handle)] == [
        CallState.ALERTING, CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED]
    assert call.result() is CallResult.ANSWERED


@pytest.mark.parametrize(("method", "header", "expected"), [
    ("p-preferred-identity", "P-Preferred-Identity:", "<sip:+358501112222@example.test>"),
    ("from-user", "From:", "<sip:+358501112222@example.test>"),
])
def test_caller_id(make_engine, sipp, tmp_path: Path, method: str, header: str,
                   expected: str) -> None:
    eut = make_engine(caller_id_method=method, domain="example.test")
    peer = sipp(scenario(tmp_path, "uas_busy", CHECK="true", CHECK_HEADER=header))
    handle = eut.engine.dial(f"sip:busy@127.0.0.1:{peer.port}", caller_id="+358501112222",
                             headers={"X-Campaign": "spring"})
    started = eut.events.wait(OutgoingCallStarted, handle=handle)
    assert started.local_number == "+358501112222"
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    logged = (peer.log_dir / "actions.log").read_text()
    assert expected in logged


def test_dial_number_uses_domain_and_e164(make_engine, sipp, tmp_path: Path) -> None:
    peer = sipp(scenario(tmp_path, "uas_busy", CHECK="true", CHECK_HEADER="To:"))
    eut = make_engine(domain=f"127.0.0.1:{peer.port}")
    handle = eut.engine.dial("040 123 4567")
    started = eut.events.wait(OutgoingCallStarted, handle=handle)
    assert started.remote_number == "+358401234567"
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert "sip:+358401234567@127.0.0.1" in \
        (peer.log_dir / "actions.log").read_text()


def test_undiallable_target_is_refused_at_once(make_engine) -> None:
    eut = make_engine(domain="example.test")
    with pytest.raises(ValueError):
        eut.engine.dial("call me maybe")
    assert eut.events.of(OutgoingCallStarted) == []


def test_early_media_is_flagged(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uas_early_media"))
    handle = eut.engine.dial(f"sip:early@127.0.0.1:{peer.port}")
    alerting = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ALERTING)
    assert alerting.sip_code == 183
    assert alerting.early_media is True
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)
    eut.engine.hangup(handle)
    assert peer.wait() == 0, peer.output()


def test_anonymous_caller_id_hides_the_number(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(domain="example.test")  # direct mode: From itself goes anonymous
    peer = sipp(scenario(tmp_path, "uas_busy", CHECK="true", CHECK_HEADER="Privacy:"))
    handle = eut.engine.dial(f"sip:busy@127.0.0.1:{peer.port}", caller_id="anonymous")
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()  # SIPp found a Privacy header
    assert "id" in (peer.log_dir / "actions.log").read_text()


def test_unroutable_uri_ends_the_call_instead_of_raising(make_engine) -> None:
    eut = make_engine()
    handle = eut.engine.dial("sip:nobody@no-such-host.invalid")  # dns lookup fails
    started = eut.events.wait(OutgoingCallStarted, handle=handle)
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert started.call_id
    assert ended.sip_code >= 400
    assert ended.hangup_side is HangupSide.NONE
