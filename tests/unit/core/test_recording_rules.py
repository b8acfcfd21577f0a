"""Recording rules: when a call is recorded, the file's name, retention, the history link."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.core.activity import call_log
from app.core.calls import (
    CallRecord,
    CallState,
    CallStateChanged,
    HangupSide,
    IncomingCall,
    OutgoingCallStarted,
    QualityReport,
    RecordingChanged,
    RecordingState,
)
from app.core.history import MEMORY, History
from app.core.phone import PhoneSession
from app.core.recording import (
    Recordings,
    announcement_file,
    file_name,
    prune,
    records_automatically,
)

T0 = datetime(2026, 11, 24, 9, 1, 2, tzinfo=timezone.utc)


class Engine:
    """Our own engine interface (call control + recording commands), recorded."""

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kw: self.commands.append((name, *args))


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def session(engine: Engine) -> PhoneSession:
    return PhoneSession(engine, History(MEMORY), Settings())  # type: ignore[arg-type]


def ring(session: PhoneSession, handle: int = 1, queue: str | None = "Sales") -> None:
    session.handle(IncomingCall(handle, f"call-{handle}@pbx", "sip:x@pbx", "+358401234567",
                                "Maija", queue, "201", None, waiting=False, at=T0))


def answer(session: PhoneSession, handle: int = 1) -> None:
    session.handle(CallStateChanged(handle, CallState.CONNECTED, 200, "OK", at=T0))


def recordings(session: PhoneSession, engine: Engine, tmp_path: Path,
               auto: str = "off", announcement: Path | None = None) -> Recordings:
    rec = Recordings(engine, session, tmp_path / "recordings", auto=auto,  # type: ignore[arg-type]
                     announcement=announcement, clock=lambda: T0)
    session.subscribe(on_transition=rec.on_transition)
    return rec


def test_file_names_are_sortable_and_safe_whatever_the_caller_sends(
        session: PhoneSession) -> None:
    ring(session)
    call = session.get(1)
    assert call is not None
    assert file_name(call, T0) == "2026-11-24_090102_+358401234567_" + \
        __import__("hashlib").sha1(b"call-1@pbx").hexdigest()[:8] + ".wav"
    call.remote_number = "../../etc/passwd"
    assert "/" not in file_name(call, T0) and ".." not in file_name(call, T0)


@pytest.mark.parametrize(("mode", "queue", "recorded"), [
    ("off", "Sales", False), ("all", None, True), ("all", "Sales", True),
    ("queue", "Sales", True), ("queue", None, False)])
def test_auto_recording_rule(session: PhoneSession, engine: Engine, tmp_path: Path,
                             mode: str, queue: str | None, recorded: bool) -> None:
    recordings(session, engine, tmp_path, auto=mode)
    ring(session, queue=queue)
    call = session.get(1)
    assert call is not None and records_automatically(mode, call) is recorded
    answer(session)
    starts = [c for c in engine.commands if c[0] == "start_recording"]
    assert len(starts) == int(recorded)
    if recorded:
        assert starts[0][1] == 1 and starts[0][2].startswith(str(tmp_path / "recordings"))


def test_auto_recording_starts_once_even_when_the_call_is_held_and_resumed(
        session: PhoneSession, engine: Engine, tmp_path: Path) -> None:
    recordings(session, engine, tmp_path, auto="all")
    ring(session)
    answer(session)
    session.handle(CallStateChanged(1, CallState.HELD))
    session.handle(CallStateChanged(1, CallState.CONNECTED))
    assert [c[0] for c in engine.commands].count("start_recording") == 1


def test_record_pause_resume_stop_follow_the_engine_reports(
        session: PhoneSession, engine: Engine, tmp_path: Path) -> None:
    rec = recordings(session, engine, tmp_path)
    ring(session)
    assert rec.start(1) == "Only a call in progress can be recorded"
    answer(session)
    assert rec.start(1) == ""
    path = engine.commands[-1][2]
    assert not rec.pause(1, True)  # not recording until the engine says so
    session.handle(RecordingChanged(1, RecordingState.RECORDING, path))
    call = session.get(1)
    assert call is not None and call.recording is RecordingState.RECORDING
    assert rec.start(1).startswith("This call is already recorded")
    assert rec.pause(1, True) and engine.commands[-1] == ("pause_recording", 1, True)
    session.handle(RecordingChanged(1, RecordingState.PAUSED, path, 3.0))
    assert not rec.pause(1, True)
    assert rec.pause(1, False) and engine.commands[-1] == ("pause_recording", 1, False)
    session.handle(RecordingChanged(1, RecordingState.RECORDING, path, 5.0))
    assert rec.stop(1) and engine.commands[-1] == ("stop_recording", 1)
    session.handle(RecordingChanged(1, RecordingState.STOPPED, path, 9.0))
    assert not rec.stop(1)


def test_the_announcement_is_passed_only_when_the_file_exists(
        session: PhoneSession, engine: Engine, tmp_path: Path) -> None:
    beep = tmp_path / "beep.wav"
    beep.write_bytes(b"RIFF")
    rec = recordings(session, engine, tmp_path, announcement=beep)
    ring(session)
    answer(session)
    rec.start(1)
    assert engine.commands[-1][3] == str(beep)
    session.handle(RecordingChanged(1, RecordingState.FAILED, "", 0, "disk full"))
    beep.unlink()
    rec.start(1)  # a failed recording may be tried again
    assert engine.commands[-1][3] is None


def test_announcement_setting(tmp_path: Path) -> None:
    assert announcement_file("beep", tmp_path) == tmp_path / "recording-beep.wav"
    assert announcement_file("none", tmp_path) is None
    assert announcement_file("", tmp_path) is None
    assert announcement_file("/srv/notice.wav", tmp_path) == Path("/srv/notice.wav")


def test_retention_deletes_only_recordings_older_than_the_limit(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    now = 1_800_000_000.0
    ages = {"old.wav": 31, "edge.wav": 29.9, "new.wav": 1, "notes.txt": 400}
    for name, days in ages.items():
        path = folder / name
        path.write_bytes(b"x")
        os.utime(path, (now - days * 86400, now - days * 86400))
    assert prune(folder, 30, now) == [folder / "old.wav"]
    assert sorted(p.name for p in folder.iterdir()) == ["edge.wav", "new.wav", "notes.txt"]
    assert prune(folder, 0, now) == []  # 0 keeps everything
    assert prune(tmp_path / "missing", 30, now) == []


def test_recording_and_quality_reach_history_and_the_crm_activity(
        session: PhoneSession, tmp_path: Path) -> None:
    ended: list[CallRecord] = []
    session.subscribe(on_call_ended=ended.append)
    ring(session)
    answer(session)
    path = str(tmp_path / "recordings" / "call.wav")
    session.handle(RecordingChanged(1, RecordingState.RECORDING, path))
    for mos, lost in ((4.4, 0), (3.4, 25)):
        session.handle(QualityReport(1, mos, 0, lost / 2.5, 2.0, 0, "PCMA", 250 - lost, lost))
    session.handle(RecordingChanged(1, RecordingState.STOPPED, path, 60.0))
    session.handle(CallStateChanged(1, CallState.ENDED, 200, "", HangupSide.REMOTE))
    record = ended[0]
    assert record.recording_path == path
    assert record.quality is not None and record.quality.mos_min == 3.4
    stored = session._history.get(record.call_id)  # type: ignore[union-attr]
    assert stored == record  # the path and the figures survive the database
    activity = call_log(record).activity
    assert activity.recording_url == Path(path).as_uri()


def test_a_call_without_recording_or_audio_stores_none(session: PhoneSession) -> None:
    ended: list[CallRecord] = []
    session.subscribe(on_call_ended=ended.append)
    session.handle(OutgoingCallStarted(5, "out-5", "sip:x@pbx", "+358401234567", "201"))
    session.handle(CallStateChanged(5, CallState.ENDED, 486, "Busy", HangupSide.REMOTE))
    assert ended[0].recording_path == "" and ended[0].quality is None
    assert call_log(ended[0]).activity.recording_url == ""
