"""Call recording rules: when a call is recorded, where the file goes, how long it is kept.

`Recordings` turns the agent's Record / Pause / Stop and the `recording.auto` setting
into engine commands; the engine (app/telephony/recording.py) writes one stereo WAV per
call (far end on the left channel, the agent on the right) and reports back with
RecordingChanged events, which PhoneSession puts on the call. One recording per call:
Stop ends it, Pause leaves silence in the file for as long as it lasts.

`prune` deletes recordings older than `recording.retention_days`. Pure Python (files
only), no Qt, no pjsua2.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from app.core.calls import Call, CallState, RecordingState
from app.core.transitions import CallAnswered, CallTransition

log = logging.getLogger(__name__)

AUTO_MODES = ("off", "all", "queue")
BUILTIN_ANNOUNCEMENT = "recording-beep.wav"


class RecordingControl(Protocol):
    """The engine's recording commands."""

    def start_recording(self, handle: int, path: str, announcement: str | None) -> None: ...
    def pause_recording(self, handle: int, paused: bool) -> None: ...
    def stop_recording(self, handle: int) -> None: ...


class CallLookup(Protocol):
    def get(self, handle: int) -> Call | None: ...


def file_name(call: Call, at: datetime) -> str:
    """`2026-11-24_090102_+358401234567_1a2b3c4d.wav`: sortable, the number readable, and
    unique per call (a hash of the SIP Call-ID); nothing from the caller is trusted as a
    path."""
    number = re.sub(r"[^0-9A-Za-z+]", "_", call.remote_number or "unknown")[:32]
    digest = hashlib.sha1(call.call_id.encode("utf-8", "replace")).hexdigest()[:8]
    return f"{at.astimezone(timezone.utc):%Y-%m-%d_%H%M%S}_{number}_{digest}.wav"


def records_automatically(mode: str, call: Call) -> bool:
    """`recording.auto`: off, every call, or queue calls only."""
    if mode == "all":
        return True
    return mode == "queue" and call.queue is not None


def announcement_file(setting: str, sounds_dir: Path) -> Path | None:
    """`recording.announcement`: `beep` (the built-in pattern), `none`, or a WAV path."""
    value = setting.strip()
    if not value or value.lower() == "none":
        return None
    if value.lower() == "beep":
        return sounds_dir / BUILTIN_ANNOUNCEMENT
    return Path(value).expanduser()


def prune(folder: Path, days: int, now: float | None = None) -> list[Path]:
    """Delete the recordings in `folder` last written more than `days` days ago (0: keep
    all); returns what was deleted. A file that cannot be deleted is logged and kept."""
    if days <= 0 or not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    deleted: list[Path] = []
    for path in sorted(folder.glob("*.wav")):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted.append(path)
        except OSError as exc:
            log.warning("could not delete the old recording %s: %s", path, exc)
    return deleted


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Recordings:
    """Record / Pause / Stop of the calls in a session, and automatic recording."""

    def __init__(self, control: RecordingControl, calls: CallLookup, folder: Path, *,
                 auto: str = "off", announcement: Path | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        if auto not in AUTO_MODES:
            raise ValueError(f"recording.auto must be one of {AUTO_MODES}, not {auto!r}")
        self._control = control
        self._calls = calls
        self.folder = folder
        self.auto = auto
        self.announcement = announcement
        self._clock = clock

    def on_transition(self, transition: CallTransition) -> None:
        """Session listener: a call that is answered is recorded when `auto` says so."""
        if not isinstance(transition, CallAnswered):
            return
        call = self._calls.get(transition.handle)
        if call is not None and call.recording is None and \
                records_automatically(self.auto, call):
            self.start(call.handle)

    def start(self, handle: int) -> str:
        """Start recording the call; returns "" or why not (for the agent)."""
        call = self._calls.get(handle)
        if call is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            return "Only a call in progress can be recorded"
        if call.recording is not None and call.recording is not RecordingState.FAILED:
            return "This call is already recorded; one recording per call"
        path = self.folder / file_name(call, self._clock())
        announcement = self.announcement
        if announcement is not None and not announcement.is_file():
            log.warning("recording announcement %s not found; recording without it",
                        announcement)
            announcement = None
        try:
            self._control.start_recording(handle, str(path),
                                          str(announcement) if announcement else None)
        except Exception as exc:  # engine not running
            log.warning("recording call %d could not start: %s", handle, exc)
            return f"The recording could not start: {exc}"
        return ""

    def pause(self, handle: int, paused: bool) -> bool:
        call = self._calls.get(handle)
        want = RecordingState.RECORDING if paused else RecordingState.PAUSED
        if call is None or call.recording is not want:
            return False
        self._control.pause_recording(handle, paused)
        return True

    def stop(self, handle: int) -> bool:
        call = self._calls.get(handle)
        if call is None or call.recording not in (RecordingState.RECORDING,
                                                  RecordingState.PAUSED):
            return False
        self._control.stop_recording(handle)
        return True


__all__ = ["AUTO_MODES", "BUILTIN_ANNOUNCEMENT", "CallLookup", "RecordingControl",
           "Recordings", "announcement_file", "file_name", "prune",
           "records_automatically"]
