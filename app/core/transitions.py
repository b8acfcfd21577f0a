"""What PhoneSession publishes about its calls: transitions, and the calls as a UI shows them.

Transitions are facts that happen once per call, so a listener needs no copy of the calls
of its own to tell a new call from an old one:

- `CallStarted`: an inbound call started ringing, or an outbound call is being dialled;
- `RingingStopped`: an inbound call stopped ringing (answered, declined, or `missed`: it
  ended unanswered and its record says MISSED);
- `CallAnswered`: the call was connected for the first time (resuming is not answering);
- `CallEnded`: the call is over; `record` is its CallRecord, already in history.

`calls_view` is the rule for what the call panel shows and what its keyboard shortcuts act
on: which ringing calls are call waiting, the other call of a consultation pair, the call
Answer/Decline act on (the oldest ringing), the call Hang up and Mute act on (the one in
progress), and what Hold does (holds the call in progress, or resumes the one held call
when nothing else is in progress). Pure: no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.core.calls import LIVE_STATES, Call, CallRecord, CallState, Direction


@dataclass(frozen=True)
class CallStarted:
    """A call joined the agent's calls: ringing (inbound) or being dialled (outbound)."""

    handle: int
    call_id: str
    direction: Direction
    remote_number: str
    display_name: str
    queue: str | None
    arrived_at: datetime

    @property
    def ringing(self) -> bool:
        return self.direction is Direction.INBOUND


@dataclass(frozen=True)
class RingingStopped:
    """An inbound call no longer rings; `missed` when it ended unanswered as MISSED."""

    handle: int
    call_id: str
    missed: bool = False


@dataclass(frozen=True)
class CallAnswered:
    """The call is connected for the first time (the agent or the far end answered)."""

    handle: int
    call_id: str
    direction: Direction
    at: datetime


@dataclass(frozen=True)
class CallEnded:
    """The call is over; `record` is what went to history."""

    handle: int
    record: CallRecord


CallTransition = CallStarted | RingingStopped | CallAnswered | CallEnded


def started(call: Call) -> CallStarted:
    return CallStarted(call.handle, call.call_id, call.direction, call.remote_number,
                       call.display_name, call.queue, call.arrived_at)


# -- the calls as a UI shows them -----------------------------------------------------------


def waiting(calls: Sequence[Call]) -> list[Call]:
    """Ringing calls that arrived while the agent already had a call (call waiting)."""
    busy = any(c.state is not CallState.RINGING for c in calls)
    return [c for c in calls if c.state is CallState.RINGING] if busy else []


def active(calls: Sequence[Call]) -> Call | None:
    """The call the agent is talking on (or dialling): not held, not ringing; the newest."""
    live = [c for c in calls if c.state in LIVE_STATES]
    return live[-1] if live else None


def peer_of(call: Call, calls: Sequence[Call]) -> Call | None:
    """The other call of the consultation pair `call` belongs to, if any."""
    if call.consultation_for is not None:
        return next((c for c in calls if c.handle == call.consultation_for), None)
    return next((c for c in calls if c.consultation_for == call.handle), None)


@dataclass(frozen=True)
class ShownCall:
    call: Call
    waiting: bool = False  # ringing while the agent is on another call
    peer: Call | None = None  # the other call of its consultation pair


@dataclass(frozen=True)
class CallsView:
    """The agent's calls, oldest first, and the call each shortcut acts on."""

    calls: tuple[ShownCall, ...] = ()
    answer: int | None = None  # Answer and Decline: the oldest ringing call
    hangup: int | None = None  # Hang up: the call in progress
    mute: tuple[int, bool] | None = None  # Mute: (call, muted wanted)
    hold: tuple[int, bool] | None = None  # Hold: (call, held wanted)


def calls_view(calls: Sequence[Call]) -> CallsView:
    """`calls` (not ended, oldest first) as the call panel shows them."""
    calls = [c for c in calls if not c.ended]
    ringing = [c for c in calls if c.state is CallState.RINGING]
    now_waiting = {c.handle for c in waiting(calls)}
    on = active(calls)
    mute = hold = None
    if on is not None and on.state is CallState.CONNECTED:
        mute, hold = (on.handle, not on.muted), (on.handle, True)
    held = [c for c in calls if c.state is CallState.HELD]
    if on is None and len(held) == 1:
        hold = (held[0].handle, False)
    return CallsView(
        tuple(ShownCall(c, c.handle in now_waiting, peer_of(c, calls)) for c in calls),
        answer=ringing[0].handle if ringing else None,
        hangup=on.handle if on is not None else None, mute=mute, hold=hold)


__all__ = ["CallAnswered", "CallEnded", "CallStarted", "CallTransition", "CallsView",
           "RingingStopped", "ShownCall", "active", "calls_view", "peer_of", "started",
           "waiting"]
