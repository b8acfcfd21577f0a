"""PJSIP invite states → CallState, hangup side, hold, early media and backoff rules."""

from __future__ import annotations

import pytest

from app.core.calls import LEGAL_TRANSITIONS, CallState, HangupSide, TransferState
from app.telephony.mapping import (
    InvState,
    MediaStatus,
    early_media,
    hangup_side,
    held_state,
    next_state,
    retry_delay,
    state_for_inv,
    transfer_state,
)


def test_constants_match_pjsua2() -> None:
    pj = pytest.importorskip("pjsua2")
    for state in InvState:
        assert getattr(pj, f"PJSIP_INV_STATE_{state.name}") == state.value
    for status in MediaStatus:
        assert getattr(pj, f"PJSUA_CALL_MEDIA_{status.name}") == status.value


@pytest.mark.parametrize(("inv", "outgoing", "expected"), [
    (InvState.NULL, True, None),
    (InvState.CALLING, True, CallState.DIALING),
    (InvState.INCOMING, False, CallState.RINGING),
    (InvState.EARLY, True, CallState.ALERTING),
    (InvState.EARLY, False, CallState.RINGING),
    (InvState.CONNECTING, True, CallState.CONNECTING),
    (InvState.CONNECTING, False, CallState.CONNECTING),
    (InvState.CONFIRMED, False, CallState.CONNECTED),
    (InvState.DISCONNECTED, True, CallState.ENDED),
    (99, True, None),
])
def test_state_for_inv(inv: int, outgoing: bool, expected: CallState | None) -> None:
    assert state_for_inv(inv, outgoing) is expected


def test_outgoing_sequence_is_legal() -> None:
    state = CallState.DIALING
    seen = []
    for inv in (InvState.CALLING, InvState.EARLY, InvState.EARLY, InvState.CONNECTING,
                InvState.CONFIRMED, InvState.DISCONNECTED):
        new = next_state(state, state_for_inv(inv, outgoing=True))
        if new is not None:
            assert new in LEGAL_TRANSITIONS[state]
            seen.append(new)
            state = new
    assert seen == [CallState.ALERTING, CallState.CONNECTING, CallState.CONNECTED,
                    CallState.ENDED]


def test_incoming_sequence_repeats_are_not_transitions() -> None:
    state = CallState.RINGING
    seen = []
    for inv in (InvState.INCOMING, InvState.EARLY, InvState.CONNECTING, InvState.CONFIRMED,
                InvState.CONFIRMED, InvState.DISCONNECTED):
        new = next_state(state, state_for_inv(inv, outgoing=False))
        if new is not None:
            seen.append(new)
            state = new
    assert seen == [CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED]


def test_next_state_drops_illegal_and_keeps_hold() -> None:
    assert next_state(CallState.CONNECTED, CallState.ALERTING) is None
    assert next_state(CallState.ENDED, CallState.CONNECTED) is None
    assert next_state(CallState.HELD, CallState.CONNECTED) is None  # re-INVITE CONFIRMED
    assert next_state(CallState.HELD, CallState.ENDED) is CallState.ENDED


@pytest.mark.parametrize(("local", "code", "remote", "outgoing", "side"), [
    (True, 200, False, True, HangupSide.LOCAL),  # we sent BYE
    (True, 487, True, True, HangupSide.LOCAL),  # we cancelled, far end said 487
    (True, 603, False, False, HangupSide.LOCAL),  # we declined
    (False, 200, True, False, HangupSide.REMOTE),  # far end sent BYE
    (False, 486, True, True, HangupSide.REMOTE),  # far end busy
    (False, 487, False, False, HangupSide.REMOTE),  # caller cancelled while ringing
    (False, 408, False, True, HangupSide.NONE),  # timeout
    (False, 503, True, True, HangupSide.NONE),  # network said unavailable
    (False, 500, False, True, HangupSide.NONE),  # transport error
])
def test_hangup_side(local: bool, code: int, remote: bool, outgoing: bool,
                     side: HangupSide) -> None:
    assert hangup_side(local_request=local, sip_code=code, remote_message=remote,
                       outgoing=outgoing) is side


def test_held_state() -> None:
    assert held_state(CallState.CONNECTED, MediaStatus.LOCAL_HOLD) is CallState.HELD
    assert held_state(CallState.HELD, MediaStatus.ACTIVE) is CallState.CONNECTED
    assert held_state(CallState.HELD, MediaStatus.REMOTE_HOLD) is CallState.CONNECTED
    assert held_state(CallState.CONNECTED, MediaStatus.REMOTE_HOLD) is None
    assert held_state(CallState.CONNECTING, MediaStatus.LOCAL_HOLD) is None
    assert held_state(CallState.HELD, MediaStatus.LOCAL_HOLD) is None


def test_early_media() -> None:
    assert early_media(183, MediaStatus.NONE)
    assert early_media(180, MediaStatus.ACTIVE)
    assert not early_media(180, MediaStatus.NONE)


def test_retry_delay_doubles_and_caps() -> None:
    assert [retry_delay(n, 2.0, 300.0) for n in range(10)] == [
        2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert retry_delay(10_000, 2.0, 300.0) == 300.0
    assert retry_delay(-1, 2.0, 300.0) == 2.0
    assert retry_delay(3, 5.0, 1.0) == 5.0  # a max below the min never shortens the wait


@pytest.mark.parametrize(("code", "final", "expected"), [
    (100, False, TransferState.TRYING),  # pjsua's "100 Accepted" for the REFER's 202
    (183, False, TransferState.RINGING),
    (180, False, TransferState.RINGING),
    (200, True, TransferState.ACCEPTED),
    (200, False, TransferState.ACCEPTED),  # NOTIFY 200 with the subscription still active
    (486, True, TransferState.FAILED),
    (603, False, TransferState.FAILED),
    (405, True, TransferState.FAILED),  # the REFER itself was refused
    (100, True, TransferState.FAILED),  # ended without ever reaching the target
    (180, True, TransferState.FAILED),
])
def test_transfer_state(code: int, final: bool, expected: TransferState) -> None:
    assert transfer_state(code, final) is expected
