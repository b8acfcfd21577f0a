"""Transfers against SIPp: the engine transfers a caller (REFER out), is transferred (REFER
in), and is taken over by an INVITE with Replaces.

As transferor the engine holds the caller, sends REFER once the hold is answered, reports
the transferee's NOTIFY sipfrags as TransferStatus events, hangs up only after the final
NOTIFY, and keeps the call when the transfer fails. As transferee it honours an incoming
REFER with a new call of its own. As the consulted party it answers an INVITE with Replaces
by itself and ends the replaced call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.calls import (
    CallState,
    CallStateChanged,
    HangupSide,
    IncomingCall,
    OutgoingCallStarted,
    TransferRequested,
    TransferState,
    TransferStatus,
)
from tests.integration.conftest import scenario, until
from tests.integration.desk import replayed

pytestmark = pytest.mark.sip

ENGINE_HANGS_UP = """  <recv request="BYE"/>
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

CALLER_HANGS_UP = """  <pause milliseconds="300"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Test Caller" <sip:+358401234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 5 BYE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>"""  # noqa: E501 - a SIP header line as SIPp sends it


def transfers(events, handle: int) -> list[tuple[TransferState, int, bool]]:  # type: ignore[no-untyped-def]
    return [(t.state, t.sip_code, t.final) for t in events.of(TransferStatus, handle=handle)]


def answered_call(eut, sipp, tmp_path: Path, name: str, **subs: str):  # type: ignore[no-untyped-def]
    peer = sipp(scenario(tmp_path, name, **subs), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.answer(incoming.handle)
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.CONNECTED)
    return peer, incoming.handle


def test_blind_transfer_to_a_number_completes_and_then_we_hang_up(
        make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(domain="pbx.example.com")
    peer, handle = answered_call(eut, sipp, tmp_path, "uac_transferee",
                                 FINAL="200 OK", AFTER=ENGINE_HANGS_UP)
    eut.engine.transfer(handle, "040 123 4567")  # a written number, as the agent types it
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()  # it got our BYE after its final NOTIFY
    assert "Refer-To: sip:+358401234567@pbx.example.com" in peer.output()
    assert ended.hangup_side is HangupSide.LOCAL
    # Held (the re-INVITE answered) before the REFER went out.
    held = eut.events.wait(CallStateChanged, handle=handle, state=CallState.HELD)
    assert held.at <= eut.events.of(TransferStatus, handle=handle)[0].at
    assert transfers(eut.events, handle) == [
        (TransferState.TRYING, 100, False),  # the REFER's 202
        (TransferState.TRYING, 100, False),
        (TransferState.RINGING, 180, False),
        (TransferState.ACCEPTED, 200, True),
    ]
    assert {t.target for t in eut.events.of(TransferStatus)} == {
        "sip:+358401234567@pbx.example.com"}
    # The BYE went out after the final NOTIFY was handled, never before.
    kinds = [e for e in eut.events.events if getattr(e, "handle", None) == handle
             and isinstance(e, (TransferStatus, CallStateChanged))]
    assert kinds[-2].state is TransferState.ACCEPTED and kinds[-1].state is CallState.ENDED


def test_failed_blind_transfer_leaves_the_caller_with_us(make_engine, sipp,
                                                        tmp_path: Path) -> None:
    eut = make_engine()
    peer, handle = answered_call(eut, sipp, tmp_path, "uac_transferee",
                                 FINAL="486 Busy Here", AFTER=CALLER_HANGS_UP)
    eut.engine.transfer(handle, "sip:colleague@127.0.0.1:5999")
    failed = eut.events.wait(TransferStatus, handle=handle, state=TransferState.FAILED)
    assert (failed.sip_code, failed.reason, failed.final) == (486, "Busy Here", True)
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert "Refer-To: sip:colleague@127.0.0.1:5999" in peer.output()
    assert ended.hangup_side is HangupSide.REMOTE  # the caller was still ours to talk to
    assert not eut.events.of(TransferStatus, handle=handle, state=TransferState.ACCEPTED)


def test_transfer_of_a_ringing_call_fails_at_once(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_cancel", HOLD_MS="2000"),
                f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.transfer(incoming.handle, "sip:colleague@127.0.0.1")
    failed = eut.events.wait(TransferStatus, handle=incoming.handle)
    assert failed.state is TransferState.FAILED
    assert "ringing" in failed.reason
    with pytest.raises(ValueError):
        eut.engine.transfer(incoming.handle, "not a number")
    assert peer.wait() == 0, peer.output()


def test_incoming_refer_places_a_new_call_to_the_target(make_engine, sipp,
                                                        tmp_path: Path) -> None:
    eut = make_engine()
    target = sipp(scenario(tmp_path, "uas_answer"))
    peer, handle = answered_call(eut, sipp, tmp_path, "uac_transferor",
                                 TARGET=f"sip:colleague@127.0.0.1:{target.port}")
    requested = eut.events.wait(TransferRequested, handle=handle)
    assert requested.target_uri == f"sip:colleague@127.0.0.1:{target.port}"
    assert requested.new_handle != handle
    started = eut.events.wait(OutgoingCallStarted, handle=requested.new_handle)
    assert started.call_id and started.remote_uri == requested.target_uri
    eut.events.wait(CallStateChanged, handle=requested.new_handle, state=CallState.CONNECTED)
    # The transferor saw our NOTIFYs through to "terminated" and then hung up on us.
    old = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
    assert old.hangup_side is HangupSide.REMOTE
    assert "NOTIFY terminated: SIP/2.0 200" in peer.output()
    eut.engine.hangup(requested.new_handle)
    assert target.wait() == 0, target.output()
    # The new call is a call of its own: announced before its first state, and legal.
    new_events = [e for e in eut.events.events
                  if getattr(e, "handle", None) == requested.new_handle]
    assert isinstance(new_events[0], OutgoingCallStarted)
    assert [e.state for e in new_events if isinstance(e, CallStateChanged)][-1] \
        is CallState.ENDED


def test_invite_with_replaces_takes_over_a_call(make_engine, sipp, tmp_path: Path) -> None:
    """We were consulted (SIPp 1); the consulting agent completed the transfer, so the
    customer (SIPp 2) sends INVITE with Replaces for our call: answered by itself, and
    the replaced call is ended by us."""
    eut = make_engine()
    target = f"127.0.0.1:{eut.engine.local_port}"
    consulting = sipp(scenario(tmp_path, "uac_replaced"), target)
    first = eut.events.wait(IncomingCall)
    eut.engine.answer(first.handle)
    eut.events.wait(CallStateChanged, handle=first.handle, state=CallState.CONNECTED)
    actions = consulting.log_dir / "actions.log"
    line = until(lambda: actions.read_text() if actions.exists() else "",
                 lambda text: "our dialog: tag=" in text)
    our_tag = line.split("our dialog: tag=", 1)[1].split()[0]
    # RFC 3891: to-tag is the tag of the dialog at the UA receiving the Replaces (ours).
    replaces = (f"{first.call_id};to-tag={our_tag};"
                f"from-tag={consulting.proc.pid}SIPpTag001")
    customer = sipp(scenario(tmp_path, "uac_replaces", REPLACES=replaces, HOLD_MS="500"),
                    target)

    takeover = eut.events.wait(IncomingCall, replaces=first.handle)
    assert takeover.remote_number == "+358409876543"
    # Nobody calls answer(): the engine takes the replacing call by itself.
    eut.events.wait(CallStateChanged, handle=takeover.handle, state=CallState.CONNECTED)
    old = eut.events.wait(CallStateChanged, handle=first.handle, state=CallState.ENDED)
    assert old.hangup_side is HangupSide.LOCAL
    assert consulting.wait() == 0, consulting.output()  # it got our BYE
    assert customer.wait() == 0, customer.output()  # answered, then it hung up
    eut.events.wait(CallStateChanged, handle=takeover.handle, state=CallState.ENDED)
    desk = replayed(eut)
    assert desk.session.calls == []
    assert [r.remote_number for r in desk.history.records] == ["+358401234567",
                                                               "+358409876543"]

