"""A hold the far end refuses (issue 10): SIPp answers our hold re-INVITE with 488; the
engine reports HoldFailed, the call is never shown held, and it goes on to a clean BYE."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.calls import CallState, CallStateChanged, HoldFailed, IncomingCall, MediaChanged
from tests.integration.conftest import scenario

pytestmark = pytest.mark.sip


def test_a_refused_hold_is_reported_and_the_call_goes_on(make_engine, sipp,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_hold_refused"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    handle = incoming.handle
    eut.engine.answer(handle)
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)
    eut.engine.set_hold(handle, True)
    failed = eut.events.wait(HoldFailed, handle=handle)
    assert (failed.held, failed.sip_code, failed.reason) == (True, 488, "Not Acceptable Here")
    assert not any(e.state is CallState.HELD for e in eut.events.of(CallStateChanged,
                                                                     handle=handle))
    assert not any(e.held_locally for e in eut.events.of(MediaChanged, handle=handle))
    eut.engine.hangup(handle)
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert peer.wait() == 0, peer.output()
