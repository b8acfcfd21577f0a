"""A ringing call never pins the phone: sip.max_ring_seconds, and auto-answer after call waiting.

SIPp plays callers that never send CANCEL; the engine must end them itself with 480 so
pjsua2's four call slots come free, and the calls are logged as missed. With auto-answer
on, calls that arrive while the agent is in a call are answered one by one as the line
frees (the rule in app.core.calls.next_auto_answer, documented in the README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.calls import (
    CallRefused,
    CallResult,
    CallState,
    CallStateChanged,
    HangupSide,
    IncomingCall,
)
from tests.integration.conftest import scenario, until
from tests.integration.desk import replayed

pytestmark = pytest.mark.sip


def test_callers_that_never_cancel_do_not_keep_the_next_call_from_ringing(
        make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(max_ring_seconds=2.0)
    target = f"127.0.0.1:{eut.engine.local_port}"
    stuck = sipp(scenario(tmp_path, "uac_never_cancels"), target, calls=4,
                 extra=("-l", "4"))
    until(lambda: len(eut.events.of(IncomingCall)), lambda n: n == 4)
    # The engine, not the callers, ends all four: SIPp expects exactly 480 and gets it.
    assert stuck.wait() == 0, stuck.output()
    for ring in eut.events.of(IncomingCall):
        ended = eut.events.wait(CallStateChanged, handle=ring.handle, state=CallState.ENDED)
        assert (ended.sip_code, ended.hangup_side) == (480, HangupSide.NONE)

    fifth = sipp(scenario(tmp_path, "uac_remote_bye"), target)
    call = eut.events.wait(IncomingCall, where=lambda e: e.handle not in
                           {r.handle for r in eut.events.of(IncomingCall)[:4]})
    assert call.waiting is False
    eut.engine.answer(call.handle)
    assert fifth.wait() == 0, fifth.output()
    eut.events.wait(CallStateChanged, handle=call.handle, state=CallState.ENDED)

    assert eut.events.of(CallRefused) == []
    until(eut.engine.call_handles, lambda handles: handles == [])
    desk = replayed(eut)
    session, history = desk.session, desk.history
    assert session.calls == []
    missed, answered = history.records[:4], history.records[4:]
    assert [(r.result, r.sip_code) for r in missed] == [(CallResult.MISSED, 480)] * 4
    assert [r.result for r in answered] == [CallResult.ANSWERED]


def test_waiting_calls_are_auto_answered_one_by_one_as_the_line_frees(
        make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(auto_answer=True, auto_answer_delay=0.0)
    callers = sipp(scenario(tmp_path, "uac_remote_bye", HOLD_MS="1000"),
                   f"127.0.0.1:{eut.engine.local_port}", calls=3,
                   extra=("-l", "3", "-r", "100"))
    assert callers.wait() == 0, callers.output()  # all three answered, none left ringing
    rings = eut.events.of(IncomingCall)
    assert [r.waiting for r in rings] == [False, True, True]
    assert [r.auto_answer_after for r in rings] == [0.0, None, None]
    for ring in rings:
        eut.events.wait(CallStateChanged, handle=ring.handle, state=CallState.ENDED)

    # Each waiting call was answered only after the call before it had ended.
    order = [(type(e).__name__, e.handle, getattr(e, "state", None)) for e in eut.events.events
             if isinstance(e, CallStateChanged)
             and e.state in (CallState.CONNECTING, CallState.ENDED)]
    handles = [r.handle for r in rings]
    assert order == [("CallStateChanged", h, s) for h in handles
                     for s in (CallState.CONNECTING, CallState.ENDED)]
    desk = replayed(eut)
    session, history = desk.session, desk.history
    assert session.calls == []
    assert [r.result for r in history.records] == [CallResult.ANSWERED] * 3


def test_a_waiting_call_is_not_auto_answered_while_the_agent_holds_a_call(
        make_engine, sipp, agent, tmp_path: Path) -> None:
    """Held is still busy: the waiting call rings until max_ring_seconds and is missed."""
    eut = make_engine(auto_answer=True, auto_answer_delay=0.0, max_ring_seconds=2.0)
    customer = agent()  # a second pjsua2 agent: it takes our hold re-INVITE properly
    customer.send(f"dial {eut.engine.local_uri}")
    talking = eut.events.wait(IncomingCall)
    eut.events.wait(CallStateChanged, handle=talking.handle, state=CallState.CONNECTED)
    eut.engine.set_hold(talking.handle, True)
    eut.events.wait(CallStateChanged, handle=talking.handle, state=CallState.HELD)
    waiting = sipp(scenario(tmp_path, "uac_never_cancels"),
                   f"127.0.0.1:{eut.engine.local_port}")
    ring = eut.events.wait(IncomingCall, waiting=True)
    assert waiting.wait() == 0, waiting.output()  # it got 480, never 200
    assert not eut.events.of(CallStateChanged, handle=ring.handle, state=CallState.CONNECTING)
    eut.engine.hangup(talking.handle)
    customer.wait("CallStateChanged", state="ended")
    desk = replayed(eut)
    session, history = desk.session, desk.history
    assert session.calls == []
    assert [r.result for r in history.records] == [CallResult.MISSED, CallResult.ANSWERED]
