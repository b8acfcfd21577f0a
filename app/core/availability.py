"""The agent's availability: statuses, durations, schedule, wrap-up, and who may ring us.

Pure Python: no Qt, no pjsua2, and no clock of its own: every method that can change
something takes `now`. The composition root calls `tick(now)` from a timer and pushes
each returned `Change` to the UI and to the phone system's backend.

What the agent chose survives a restart: `dump_state` turns it into JSON text (the chosen
status, when it ends and what returns then, pool calls, the upcoming schedule; never a
call or wrap-up), `load_state` reads it back (`SavedStateError` for anything broken), and
`Availability.restore` takes it in at start, resolving what ran out while the app was shut.

`ring_policy` runs on the telephony engine's thread for every incoming INVITE. It reads
one immutable `_Gate` that the Qt thread replaces as a whole on every change, so it never
sees half an update and never takes a lock.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.core.calls import CallOffer, RingDecision, basic_policy

if TYPE_CHECKING:
    from app.core.availability_state import SavedAvailability

if TYPE_CHECKING:
    from app.config import AvailabilitySettings


class StatusType(enum.Enum):
    AVAILABLE = "available"  # pool and direct calls ring
    BUSY = "busy"  # pool and direct calls ring; others see the agent as busy
    DND = "dnd"  # nothing rings; the agent may still call out
    OFFWORK = "offwork"  # direct calls ring, pool calls do not


class Phase(enum.Enum):
    """What the telephone is doing on top of the chosen status."""

    IDLE = "idle"
    IN_CALL = "in_call"  # a call is ringing or up
    WRAP_UP = "wrap_up"  # after an answered call, for `wrap_up_seconds`


class Actor(enum.Enum):
    """Who or what made a change (kept in the history)."""

    AGENT = "agent"
    SCHEDULE = "schedule"
    TIMER = "timer"  # a chosen duration ran out
    WRAP_UP = "wrap_up"
    CALL = "call"
    BACKEND = "backend"  # the phone system told us (an admin, another device)
    RESTORE = "restore"  # taken back from the last session at start


@dataclass(frozen=True)
class Status:
    name: str
    type: StatusType


@dataclass(frozen=True)
class ScheduledAvailability:
    id: int
    start: datetime
    status: Status
    end: datetime | None  # None: stays until changed


@dataclass(frozen=True)
class Change:
    """One visible change of availability, as kept in the history."""

    at: datetime
    by: Actor
    status: Status  # the chosen status underneath any call or wrap-up
    phase: Phase
    until: datetime | None  # when the status (or the wrap-up) ends by itself
    pool_calls: bool
    note: str = ""

    @property
    def shown(self) -> str:
        """What the agent and colleagues see: the phase wins over the chosen status."""
        if self.phase is Phase.IN_CALL:
            return IN_A_CALL
        if self.phase is Phase.WRAP_UP:
            return WRAP_UP
        return self.status.name


IN_A_CALL = "In a Call"
WRAP_UP = "Wrap Up"


@dataclass(frozen=True)
class _Gate:
    """Everything `ring_policy` needs, replaced as a whole (atomic for other threads)."""

    type: StatusType
    pool_calls: bool
    wrap_up: bool
    call_waiting: bool


def parse_statuses(entries: Iterable[str]) -> list[Status]:
    """`Name=type` lines from settings; bad lines are skipped (config already checked types)."""
    out: list[Status] = []
    seen: set[str] = set()
    for entry in entries:
        name, sep, kind = entry.rpartition("=")
        name = name.strip()
        try:
            status_type = StatusType(kind.strip().lower())
        except ValueError:
            continue
        if sep and name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(Status(name, status_type))
    if not any(s.type is StatusType.AVAILABLE for s in out):
        out.insert(0, Status("Available", StatusType.AVAILABLE))
    return out


def parse_durations(entries: Iterable[str]) -> list[timedelta]:
    out = []
    for entry in entries:
        try:
            minutes = float(entry)
        except ValueError:
            continue
        if minutes > 0:
            out.append(timedelta(minutes=minutes))
    return sorted(set(out))


@dataclass
class _Saved:
    status: Status
    until: datetime | None


class Availability:
    """The agent's availability state machine. Not thread-safe except `ring_policy`."""

    def __init__(self, statuses: list[Status], now: datetime, *, wrap_up_seconds: float = 30.0,
                 pool_calls: bool = True, call_waiting: bool = True,
                 durations: list[timedelta] | None = None) -> None:
        self.statuses = list(statuses) or [Status("Available", StatusType.AVAILABLE)]
        self.wrap_up_seconds = wrap_up_seconds
        self.pool_calls = pool_calls
        self.call_waiting = call_waiting
        self.durations = list(durations or [])
        self.history: list[Change] = []
        self.status: Status = self.statuses[0]
        self.until: datetime | None = None
        self.phase = Phase.IDLE
        self.wrap_up_until: datetime | None = None
        self._previous: _Saved | None = None  # returns when `until` passes
        self._calls: set[int] = set()
        self._answered = False
        self._upcoming: list[ScheduledAvailability] = []
        self._ids = itertools.count(1)
        self._gate = self._make_gate()
        self._record(now, Actor.AGENT, "start")

    @classmethod
    def from_settings(cls, settings: AvailabilitySettings, now: datetime, *,
                      call_waiting: bool = True) -> Availability:
        return cls(parse_statuses(settings.statuses), now,
                   wrap_up_seconds=float(settings.wrap_up_seconds),
                   pool_calls=settings.receive_pool_calls, call_waiting=call_waiting,
                   durations=parse_durations(settings.durations_minutes))

    # -- reading ---------------------------------------------------------------------

    def find(self, name: str) -> Status:
        for status in self.statuses:
            if status.name.casefold() == name.casefold():
                return status
        raise KeyError(f"no status named {name!r}")

    @property
    def current(self) -> Change:
        return self.history[-1]

    @property
    def upcoming(self) -> list[ScheduledAvailability]:
        return list(self._upcoming)

    @property
    def returns_to(self) -> Status | None:
        """The status that comes back when the chosen duration runs out (None: none ends)."""
        if self.until is None:
            return None
        return (self._previous or _Saved(self.statuses[0], None)).status

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left on what is shown (wrap-up, or a status chosen for a while)."""
        end = self.wrap_up_until if self.phase is Phase.WRAP_UP else self.until
        if end is None or self.phase is Phase.IN_CALL:
            return None
        return max(timedelta(0), end - now)

    # -- the agent (or the backend) changes things --------------------------------------

    def set_status(self, name: str, now: datetime, *, duration: timedelta | None = None,
                   by: Actor = Actor.AGENT, note: str = "") -> Change:
        """Choose a status, for a while (then the one before returns) or until changed."""
        self.tick(now)
        status = self.find(name)
        if duration is not None and duration > timedelta(0):
            # The one to return to is what was chosen before, not a temporary one in turn;
            # choosing the same status again for a while returns to the one before it.
            if status == self.status and self.until is None:
                before = next((c.status for c in reversed(self.history)
                               if c.status != status), self.statuses[0])
                self._previous = _Saved(before, None)
            elif self._previous is None or self.until is None:
                self._previous = _Saved(self.status, self.until)
            self.until = now + duration
        else:
            self._previous = None
            self.until = None
        self.status = status
        if self.phase is Phase.WRAP_UP and by is Actor.AGENT:
            self.phase, self.wrap_up_until = Phase.IDLE, None  # choosing ends wrap-up
        return self._record(now, by, note)

    def set_pool_calls(self, on: bool, now: datetime, *, by: Actor = Actor.AGENT) -> Change:
        self.tick(now)
        self.pool_calls = on
        return self._record(now, by, "pool calls on" if on else "pool calls off")

    def schedule(self, start: datetime, name: str, end: datetime | None,
                 now: datetime) -> ScheduledAvailability:
        if end is not None and end <= start:
            raise ValueError("a scheduled availability must end after it starts")
        item = ScheduledAvailability(next(self._ids), start, self.find(name), end)
        self._upcoming.append(item)
        self._upcoming.sort(key=lambda s: (s.start, s.id))
        self.tick(now)
        return item

    def restore(self, saved: SavedAvailability, now: datetime) -> list[str]:
        """Take back the last session's choice; call it before anything else happens.

        The history starts again with one RESTORE entry at the time it was saved; what ran
        out or began while the app was shut (a duration, a schedule entry) is then applied
        by `tick`, each at its own time. Schedule entries already over are dropped. Names
        no longer configured are skipped; returns what was skipped, for the log.
        """
        skipped: list[str] = []

        def known(name: str | None) -> Status | None:
            if name is None:
                return None
            try:
                return self.find(name)
            except KeyError:
                skipped.append(f"status {name!r} is no longer configured")
                return None

        status = known(saved.status)
        if status is not None:
            self.status, self.until = status, saved.until
            back = known(saved.returns_to) if saved.until is not None else None
            self._previous = _Saved(back or self.statuses[0], saved.returns_until) \
                if saved.until is not None else None
        self.pool_calls = saved.pool_calls
        self._upcoming = []
        for start, name, end in saved.schedule:
            item_status = known(name)
            if item_status is not None and (end is None or end > now):
                self._upcoming.append(
                    ScheduledAvailability(next(self._ids), start, item_status, end))
        self._upcoming.sort(key=lambda s: (s.start, s.id))
        self.phase, self.wrap_up_until, self._calls = Phase.IDLE, None, set()
        self.history.clear()
        self._record(min(saved.saved_at, now), Actor.RESTORE, "restored")
        self.tick(now)
        return skipped

    def unschedule(self, item_id: int) -> bool:
        before = len(self._upcoming)
        self._upcoming = [s for s in self._upcoming if s.id != item_id]
        return len(self._upcoming) != before

    # -- calls -----------------------------------------------------------------------------

    def call_started(self, handle: int, now: datetime) -> Change | None:
        """A call rings or is dialled: show In a Call (also ends a running wrap-up)."""
        self.tick(now)
        self._calls.add(handle)
        if self.phase is Phase.IN_CALL:
            return None
        self.phase, self.wrap_up_until = Phase.IN_CALL, None
        return self._record(now, Actor.CALL)

    def call_answered(self, handle: int, now: datetime) -> None:
        self._calls.add(handle)
        self._answered = True

    def call_ended(self, handle: int, now: datetime) -> Change | None:
        """The last call ended: wrap up after an answered call, else straight back."""
        self.tick(now)
        self._calls.discard(handle)
        if self._calls or self.phase is not Phase.IN_CALL:
            return None
        answered, self._answered = self._answered, False
        if answered and self.wrap_up_seconds > 0:
            self.phase = Phase.WRAP_UP
            self.wrap_up_until = now + timedelta(seconds=self.wrap_up_seconds)
            return self._record(now, Actor.WRAP_UP)
        self.phase = Phase.IDLE
        return self._record(now, Actor.CALL)

    def end_wrap_up(self, now: datetime) -> Change | None:
        """The agent is ready before the wrap-up time is over."""
        self.tick(now)
        if self.phase is not Phase.WRAP_UP:
            return None
        self.phase, self.wrap_up_until = Phase.IDLE, None
        return self._record(now, Actor.AGENT, "wrap-up ended early")

    # -- time ------------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Change]:
        """Apply everything due by `now`, each at its own time, oldest first."""
        changes: list[Change] = []
        while True:
            due = self._next_due(now)
            if due is None:
                return changes
            at, kind = due
            if kind == "wrap_up":
                self.phase, self.wrap_up_until = Phase.IDLE, None
                changes.append(self._record(at, Actor.WRAP_UP, "wrap-up over"))
            elif kind == "until":
                saved = self._previous or _Saved(self.statuses[0], None)
                self._previous = None
                self.status = saved.status
                self.until = saved.until if saved.until and saved.until > at else None
                changes.append(self._record(at, Actor.TIMER, "duration over"))
            else:
                # Applied at its own start even when `now` is past its end (the app was
                # asleep): the end is then applied next, so history shows both.
                item = self._upcoming.pop(0)
                if self._previous is None or self.until is None:
                    self._previous = _Saved(self.status, self.until)
                self.status, self.until = item.status, item.end
                if item.end is None:
                    self._previous = None
                changes.append(self._record(at, Actor.SCHEDULE, f"scheduled #{item.id}"))

    def _next_due(self, now: datetime) -> tuple[datetime, str] | None:
        candidates: list[tuple[datetime, str]] = []
        if self.phase is Phase.WRAP_UP and self.wrap_up_until is not None:
            candidates.append((self.wrap_up_until, "wrap_up"))
        if self.until is not None:
            candidates.append((self.until, "until"))
        if self._upcoming:
            candidates.append((self._upcoming[0].start, "schedule"))
        due = [c for c in candidates if c[0] <= now]
        return min(due, key=lambda c: c[0]) if due else None

    # -- the engine asks --------------------------------------------------------------------

    def ring_policy(self, offer: CallOffer) -> RingDecision:
        """May this INVITE ring? Called on the engine thread; reads one immutable gate."""
        gate = self._gate
        queue_call = offer.queue is not None
        if gate.type is StatusType.DND:
            if queue_call:
                return RingDecision(False, 480, "Do not disturb")
            return RingDecision(False, 486, "Do not disturb")
        if queue_call:
            if gate.type is StatusType.OFFWORK:
                return RingDecision(False, 480, "Off work")
            if not gate.pool_calls:
                return RingDecision(False, 480, "Not receiving pool calls")
            if gate.wrap_up:
                return RingDecision(False, 480, "Wrap up")
        return basic_policy(offer, call_waiting=gate.call_waiting)

    # -- internals ----------------------------------------------------------------------------

    def _make_gate(self) -> _Gate:
        return _Gate(self.status.type, self.pool_calls, self.phase is Phase.WRAP_UP,
                     self.call_waiting)

    def _record(self, at: datetime, by: Actor, note: str = "") -> Change:
        until = self.wrap_up_until if self.phase is Phase.WRAP_UP else self.until
        change = Change(at, by, self.status, self.phase, until, self.pool_calls, note)
        self.history.append(change)
        self._gate = self._make_gate()
        return change


__all__ = [
    "IN_A_CALL",
    "WRAP_UP",
    "Actor",
    "Availability",
    "Change",
    "Phase",
    "ScheduledAvailability",
    "Status",
    "StatusType",
    "parse_durations",
    "parse_statuses",
]
