"""Which call-progress sound an agent should hear now: a pure rule over the live calls.

- An incoming call rings on the ringer device, unless the agent is already in a call:
  then a short call-waiting beep plays in the headset instead of a second ringtone.
- An outgoing call that alerts (180) with no early media plays ringback; with early
  media the far end's own audio (ringback, announcements) is heard instead. A held call
  does not silence it: dialling a colleague holds the customer first.
- An outgoing call that ends unanswered plays a busy tone (486/600) or a failure tone
  (any other error) once; not when nobody answered (408/480/487) nor after the agent's
  own hang-up or cancel.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from app.core.calls import Call, CallRecord, CallResult, CallState, Direction, HangupSide


class Tone(enum.Enum):
    RING = "ring"  # on the ringer device, looped
    WAITING = "waiting"  # call-waiting beep in the headset, repeated
    RINGBACK = "ringback"  # in the headset, looped
    BUSY = "busy"  # once, after an outgoing call met busy
    FAILED = "failed"  # once, after an outgoing call failed


_IN_CALL = (CallState.CONNECTING, CallState.CONNECTED, CallState.HELD)
_TALKING = (CallState.CONNECTING, CallState.CONNECTED)


def tone_for(calls: Iterable[Call]) -> Tone | None:
    """The looping sound that fits these calls right now (None: silence)."""
    live = [c for c in calls if not c.ended]
    ringing = any(c.direction is Direction.INBOUND and c.state is CallState.RINGING
                  for c in live)
    in_call = any(c.state in _IN_CALL for c in live)
    if ringing:
        return Tone.WAITING if in_call else Tone.RING
    if any(c.state in _TALKING for c in live):
        return None
    if any(c.direction is Direction.OUTBOUND and c.state is CallState.ALERTING
           and not c.early_media for c in live):
        return Tone.RINGBACK
    return None


def needs_audio(calls: Iterable[Call]) -> bool:
    """Should the call's sound path be open: while any call is live. It opens when a call
    starts ringing or dialling, because a sound card takes most of a second to start
    playing and the first words after answering must not be lost."""
    return any(not c.ended for c in calls)


def tone_after(record: CallRecord) -> Tone | None:
    """The one-shot sound after a call ended (None: none)."""
    if record.direction is not Direction.OUTBOUND or record.hangup_side is HangupSide.LOCAL:
        return None
    if record.result is CallResult.BUSY:
        return Tone.BUSY
    if record.result is CallResult.FAILED:
        return Tone.FAILED
    return None


__all__ = ["Tone", "needs_audio", "tone_after", "tone_for"]
