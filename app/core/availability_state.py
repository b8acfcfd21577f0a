"""The agent's availability as saved between runs: JSON text in, JSON text out (pure).

Only the agent's choice is kept (status, its end, what it returns to, pool calls, the
upcoming schedule), never a call or wrap-up; `Availability.restore` applies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.availability import Availability

STATE_VERSION = 1


class SavedStateError(ValueError):
    """Saved availability that cannot be read (not JSON, wrong shape, unknown version)."""


@dataclass(frozen=True)
class SavedAvailability:
    """What `dump_state` keeps of an Availability: the agent's choice, never a call."""

    status: str
    until: datetime | None
    returns_to: str | None  # what comes back at `until`
    returns_until: datetime | None  # when that one ends in turn
    pool_calls: bool
    schedule: tuple[tuple[datetime, str, datetime | None], ...]  # (start, status, end)
    saved_at: datetime


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def dump_state(a: Availability, now: datetime) -> str:
    """JSON text of the agent's choice (the status under any call or wrap-up)."""
    back = a.returns_to
    previous_until = a._previous.until if a._previous is not None and a.until else None
    data = {
        "version": STATE_VERSION,
        "saved_at": now.isoformat(),
        "status": a.status.name,
        "until": _iso(a.until),
        "returns_to": back.name if back is not None else None,
        "returns_until": _iso(previous_until),
        "pool_calls": a.pool_calls,
        "schedule": [{"start": s.start.isoformat(), "status": s.status.name,
                      "end": _iso(s.end)} for s in a.upcoming],
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def _when(value: Any, key: str, *, optional: bool = True) -> datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise SavedStateError(f"{key}: expected a date and time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise SavedStateError(f"{key}: {value!r} is not a date and time") from None
    if parsed.tzinfo is None:
        raise SavedStateError(f"{key}: {value!r} has no time zone")
    return parsed


def _text(value: Any, key: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise SavedStateError(f"{key}: expected a status name, got {value!r}")
    return value


def load_state(text: str) -> SavedAvailability:
    """Parse what `dump_state` wrote; raises SavedStateError, naming what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SavedStateError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SavedStateError("expected a JSON object")
    if data.get("version") != STATE_VERSION:
        raise SavedStateError(f"unknown version {data.get('version')!r}")
    pool_calls = data.get("pool_calls")
    if not isinstance(pool_calls, bool):
        raise SavedStateError(f"pool_calls: expected true or false, got {pool_calls!r}")
    entries = data.get("schedule", [])
    if not isinstance(entries, list):
        raise SavedStateError("schedule: expected a list")
    schedule = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SavedStateError(f"schedule[{i}]: expected an object")
        start = _when(entry.get("start"), f"schedule[{i}].start", optional=False)
        end = _when(entry.get("end"), f"schedule[{i}].end")
        assert start is not None
        if end is not None and end <= start:
            raise SavedStateError(f"schedule[{i}]: ends before it starts")
        schedule.append((start, str(_text(entry.get("status"), f"schedule[{i}].status")),
                         end))
    saved_at = _when(data.get("saved_at"), "saved_at", optional=False)
    assert saved_at is not None
    return SavedAvailability(
        status=str(_text(data.get("status"), "status")),
        until=_when(data.get("until"), "until"),
        returns_to=_text(data.get("returns_to"), "returns_to", optional=True),
        returns_until=_when(data.get("returns_until"), "returns_until"),
        pool_calls=pool_calls, schedule=tuple(schedule), saved_at=saved_at)


__all__ = ["STATE_VERSION", "SavedAvailability", "SavedStateError", "dump_state", "load_state"]
