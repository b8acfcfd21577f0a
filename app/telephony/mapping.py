"""Pure mappings from pjsua2's numbers (invite states, media status, codes) to our own enums.

Nothing here imports pjsua2: the constants below mirror the library's values (a unit test
checks they still match), so the rules are testable without a SIP stack.
"""

from __future__ import annotations

import enum

from app.core.calls import LEGAL_TRANSITIONS, CallState, HangupSide, TransferState


class InvState(enum.IntEnum):
    """pjsip_inv_state (PJSIP_INV_STATE_*)."""

    NULL = 0
    CALLING = 1
    INCOMING = 2
    EARLY = 3
    CONNECTING = 4
    CONFIRMED = 5
    DISCONNECTED = 6


class MediaStatus(enum.IntEnum):
    """pjsua_call_media_status (PJSUA_CALL_MEDIA_*)."""

    NONE = 0
    ACTIVE = 1
    LOCAL_HOLD = 2
    REMOTE_HOLD = 3
    ERROR = 4


# Final codes that mean "nobody ended this call; the network or a timer did".
_NETWORK_CODES = frozenset({408, 502, 503, 504})


def state_for_inv(inv_state: int, outgoing: bool) -> CallState | None:
    """Our CallState for a PJSIP_INV_STATE_* value; None when it has no meaning for us."""
    try:
        inv = InvState(inv_state)
    except ValueError:
        return None
    if inv is InvState.NULL:
        return None
    if inv is InvState.CALLING:
        return CallState.DIALING
    if inv is InvState.INCOMING:
        return CallState.RINGING
    if inv is InvState.EARLY:
        return CallState.ALERTING if outgoing else CallState.RINGING
    if inv is InvState.CONNECTING:
        return CallState.CONNECTING
    if inv is InvState.CONFIRMED:
        return CallState.CONNECTED
    return CallState.ENDED


def next_state(current: CallState, new: CallState | None) -> CallState | None:
    """The state to report after `current`, or None when nothing (legal) changed.

    pjsua2 repeats EARLY for every 18x and reports CONFIRMED again after a re-INVITE;
    those are not transitions. A CONFIRMED while we are HELD keeps us HELD.
    """
    if new is None or new is current:
        return None
    if current is CallState.HELD and new is CallState.CONNECTED:
        return None
    if new not in LEGAL_TRANSITIONS[current]:
        return None
    return new


def hangup_side(*, local_request: bool, sip_code: int, remote_message: bool,
                outgoing: bool) -> HangupSide:
    """Who ended the call.

    `local_request`: we hung up, declined or cancelled. `remote_message`: the disconnect
    was caused by a message from the far end (BYE, a final error response), as opposed to
    a timer or a transport error. An incoming call ending with 487 was cancelled by the
    caller: pjsip reports that as our own 487 going out, not as the CANCEL coming in.
    """
    if local_request:
        return HangupSide.LOCAL
    if not outgoing and sip_code == 487:
        return HangupSide.REMOTE
    if sip_code in _NETWORK_CODES or not remote_message:
        return HangupSide.NONE
    return HangupSide.REMOTE


def held_state(current: CallState, media_status: int) -> CallState | None:
    """HELD/CONNECTED transitions driven by the audio media status after a re-INVITE."""
    if current is CallState.CONNECTED and media_status == MediaStatus.LOCAL_HOLD:
        return CallState.HELD
    if current is CallState.HELD and media_status in (MediaStatus.ACTIVE,
                                                      MediaStatus.REMOTE_HOLD):
        return CallState.CONNECTED
    return None


def early_media(sip_code: int, media_status: int) -> bool:
    """An outgoing call has early media when the 18x carried SDP and audio is active."""
    return sip_code == 183 or (100 < sip_code < 200 and media_status == MediaStatus.ACTIVE)


def transfer_state(sip_code: int, final: bool) -> TransferState:
    """Our TransferState for onCallTransferStatus (a NOTIFY's sipfrag status, or the REFER's
    own response). pjsua reports the REFER's 202 as 100 "Accepted"; a subscription that
    ends on a provisional status (or pjsua's 500 when it ends without a NOTIFY) never
    reached the target, so the customer is still ours: FAILED."""
    if 200 <= sip_code < 300:
        return TransferState.ACCEPTED
    if sip_code >= 300 or sip_code < 100 or final:
        return TransferState.FAILED
    return TransferState.RINGING if sip_code >= 180 else TransferState.TRYING


def retry_delay(attempt: int, lo: float, hi: float) -> float:
    """Registration retry delay: lo, 2·lo, 4·lo, … capped at hi (attempt counts from 0)."""
    if attempt < 0:
        attempt = 0
    lo = max(lo, 0.0)
    hi = max(hi, lo)
    # Cap the exponent so huge attempt counts never overflow a float.
    return min(hi, lo * (2 ** min(attempt, 60)))


__all__ = [
    "InvState",
    "MediaStatus",
    "early_media",
    "hangup_side",
    "held_state",
    "next_state",
    "retry_delay",
    "state_for_inv",
    "transfer_state",
]
