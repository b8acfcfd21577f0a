"""The agent's desk in integration tests: a PhoneSession fed from a real engine's events.

The app feeds PhoneSession on the GUI thread; here the test's own thread does it by
`pump()`ing the events the engine has logged so far, in their order, so the session is
only ever touched by one thread and its intents go to the real engine.
"""

from __future__ import annotations

from typing import Any, TypeVar

from app.config import Settings
from app.core.calls import CallRecord
from app.core.phone import PhoneSession

E = TypeVar("E")


class RecordedHistory:
    """A history store that keeps what it is given."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def add(self, record: CallRecord) -> bool:
        self.records.append(record)
        return True


class Desk:
    """PhoneSession + history over an EngineUnderTest (tests/integration/conftest.py)."""

    def __init__(self, eut: Any, settings: Settings | None = None) -> None:
        self.events = eut.events
        self.history = RecordedHistory()
        self.session = PhoneSession(eut.engine, self.history, settings or Settings())
        self._seen = 0

    def pump(self) -> None:
        """Hand the session every engine event it has not seen yet."""
        new = self.events.events[self._seen:]
        self._seen += len(new)
        for event in new:
            self.session.handle(event)

    def wait(self, kind: type[E], **match: Any) -> E:
        """Wait for an engine event (see EventLog.wait), then pump up to it and beyond."""
        event = self.events.wait(kind, **match)
        self.pump()
        return event


def replayed(eut: Any) -> Desk:
    """A desk that has seen everything the engine reported (the engine may be stopped)."""
    desk = Desk(eut)
    desk.pump()
    return desk
