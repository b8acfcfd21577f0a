"""The agent's availability on disk: `availability.json` in the profile's data directory.

Only file handling lives here; what is saved and how it is read back are the pure
`dump_state` / `load_state` of app.core.availability_state. Writes are atomic (a temporary file
in the same directory, flushed, then renamed over the old one), so a crash mid-write
leaves the previous choice. A file that cannot be read or understood is never fatal: it
is logged, renamed to `availability.json.broken` for support, and the app starts at the
default status.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from app.core.availability import Availability
from app.core.availability_state import (
    SavedAvailability,
    SavedStateError,
    dump_state,
    load_state,
)

log = logging.getLogger(__name__)

FILE_NAME = "availability.json"


class AvailabilityStore:
    """Reads and writes one availability file; never raises into the caller."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: str | None = None
        self._choice: object = None

    def restore(self, availability: Availability, now: datetime) -> None:
        """Start `availability` where the last session left off (if it saved anything)."""
        saved = self.load()
        if saved is not None:
            for problem in availability.restore(saved, now):
                log.warning("saved availability: %s (skipped)", problem)

    def save_choice(self, availability: Availability, now: datetime) -> None:
        """Write the agent's choice when it changed (calls and wrap-up are not a choice)."""
        a = availability
        choice = (a.status, a.until, a.returns_to, a.pool_calls, tuple(a.upcoming))
        if choice != self._choice:
            self._choice = choice
            self.save(dump_state(a, now))

    @property
    def broken_path(self) -> Path:
        return self.path.with_name(self.path.name + ".broken")

    def load(self) -> SavedAvailability | None:
        """The saved choice, or None (no file yet, or a broken one set aside)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"cannot be read ({exc})")
            return None
        try:
            saved = load_state(text)
        except SavedStateError as exc:
            self._set_aside(f"is not valid ({exc})")
            return None
        self._written = text
        return saved

    def save(self, text: str) -> bool:
        """Write `text` unless it is what the file already holds; False when it failed."""
        if text == self._written:
            return True
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("availability not saved to %s: %s; it will start at the default "
                        "status next time", self.path, exc)
            return False
        self._written = text
        return True

    def _set_aside(self, problem: str) -> None:
        try:
            os.replace(self.path, self.broken_path)
            kept = f"kept as {self.broken_path}"
        except OSError as exc:
            kept = f"could not be set aside ({exc})"
        log.warning("saved availability %s %s; starting at the default status (the file "
                    "is %s)", self.path, problem, kept)


__all__ = ["FILE_NAME", "AvailabilityStore"]
