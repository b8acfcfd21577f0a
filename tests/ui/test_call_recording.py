"""Recording and call quality on the call card, the history's Play, and the CRM link: the
real composition root with a profile on disk, offscreen.

`RecordingEngine` (the ScriptedEngine of test_main_window.py with transfer and recording
commands) answers Record / Pause / Stop with the RecordingChanged events a real engine
sends, writes a real stereo WAV when the recording ends, and reports quality as a real
engine does (QualityReport every few seconds).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtMultimedia import QMediaPlayer
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings, SipSettings
from app.core.calls import CallState, QualityReport, RecordingChanged, RecordingState
from app.core.history import MEMORY, History
from app.core.quality import estimate_mos
from app.paths import Profile
from tests.fakes.memory_secrets import MemorySecretStore
from tests.ui.test_call_transfer import TransferEngine, answered_call, card, click


def write_call_wav(path: Path, seconds: float = 2.0, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(
            struct.pack("<hh", int(8000 * math.sin(2 * math.pi * 1000 * n / rate)),
                        int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
            for n in range(int(seconds * rate))))


class RecordingEngine(TransferEngine):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.recording: dict[int, str] = {}

    def start_recording(self, handle: int, path: str, announcement: str | None) -> None:
        self.commands.append(("start_recording", handle, path, announcement))
        self.recording[handle] = path
        self.emit(RecordingChanged(handle, RecordingState.RECORDING, path, 0.0))

    def pause_recording(self, handle: int, paused: bool) -> None:
        self.commands.append(("pause_recording", handle, paused))
        self.emit(RecordingChanged(handle, RecordingState.PAUSED if paused
                                   else RecordingState.RECORDING, self.recording[handle], 1.0))

    def stop_recording(self, handle: int) -> None:
        self.commands.append(("stop_recording", handle))
        self._finish(handle)

    def _finish(self, handle: int) -> None:
        path = self.recording.pop(handle, None)
        if path is not None:
            write_call_wav(Path(path))
            self.emit(RecordingChanged(handle, RecordingState.STOPPED, path, 2.0))

    def hangup(self, handle: int) -> None:
        self._finish(handle)  # the engine completes the file before the call ends
        super().hangup(handle)

    def quality(self, handle: int, loss: float) -> QualityReport:
        mos, r = estimate_mos(rtt_ms=40, jitter_ms=3, loss_percent=loss, codec="PCMA/8000/1")
        report = QualityReport(handle, mos, r, loss, 3.0, 40.0, "PCMA/8000/1",
                               int(250 * (1 - loss / 100)), int(250 * loss / 100), 0.0)
        self.emit(report)
        return report


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path) -> Iterator[SwitchboardApp]:
    settings = Settings()
    settings.sip.caller_ids = ["+358912345"]
    settings.crm.workflow = "phone_call"
    settings.phone.audio = "null"  # the recording is the engine's; no sound card needed

    def factory(sip: SipSettings, **kw: Any) -> RecordingEngine:
        return RecordingEngine(sip, **kw)

    made = build_app(Profile.at(tmp_path / "profile").ensure(), settings,
                     secrets=MemorySecretStore(), engine_factory=factory,
                     history=History(MEMORY))
    qtbot.addWidget(made.window)
    made.start()
    qtbot.waitExposed(made.window)
    qtbot.waitUntil(lambda: made.engine_running)
    yield made
    made.shutdown()


def test_record_pause_resume_then_the_history_plays_it_and_the_crm_links_it(
        qtbot: QtBot, app: SwitchboardApp, tmp_path: Path) -> None:
    engine: RecordingEngine = app.engine  # type: ignore[assignment]
    h = answered_call(qtbot, app)
    c = card(app, h)
    bar = c.recording_bar
    assert bar.record_button.isVisible() and not bar.pause_button.isVisible()
    assert bar.indicator.text() == ""
    click(qtbot, bar.record_button)
    name, handle, path, announcement = engine.commands[-1]
    assert (name, handle) == ("start_recording", h)
    recordings = tmp_path / "profile" / "data" / "recordings"
    assert Path(path).parent == recordings and path.endswith(".wav")
    assert announcement is not None and Path(announcement).name == "recording-beep.wav"
    qtbot.waitUntil(lambda: bar.indicator.text() == "● Recording")
    assert not bar.record_button.isVisible()

    click(qtbot, bar.pause_button)
    qtbot.waitUntil(lambda: bar.indicator.text() == "❚❚ Recording paused")
    assert engine.commands[-1] == ("pause_recording", h, True)
    assert bar.pause_button.text() == "Resume recording" and bar.pause_button.isChecked()
    click(qtbot, bar.pause_button)
    qtbot.waitUntil(lambda: bar.indicator.text() == "● Recording")
    assert engine.commands[-1] == ("pause_recording", h, False)

    click(qtbot, c.hangup_button)
    tree = app.window.history_view.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1)
    item = tree.topLevelItem(0)
    assert item.text(0).endswith("●") and "Recorded" in item.toolTip(1)
    history = app.window.history_view
    assert not history.play_button.isEnabled()
    tree.setCurrentItem(item)
    click(qtbot, history.play_button)
    player = history.findChild(QMediaPlayer)
    assert player is not None
    # Plays in the app: loaded (its length known) and playing, or at least its length
    # known where the test machine has no sound output at all.
    qtbot.waitUntil(lambda: player.duration() > 0, timeout=10_000)
    assert player.duration() == pytest.approx(2000, abs=100)
    assert player.playbackState() is QMediaPlayer.PlaybackState.PlayingState or \
        player.error() is not QMediaPlayer.Error.NoError

    # The built-in CRM's activity for the call links the file.
    crm = tmp_path / "profile" / "data" / "crm.sqlite3"

    def link() -> str | None:
        with sqlite3.connect(crm) as db:
            row = db.execute("SELECT recording_url FROM activities").fetchone()
        return row[0] if row else None

    qtbot.waitUntil(lambda: link() is not None, timeout=10_000)
    assert link() == Path(path).as_uri()


def test_stop_is_final_and_a_second_call_records_into_its_own_file(
        qtbot: QtBot, app: SwitchboardApp) -> None:
    engine: RecordingEngine = app.engine  # type: ignore[assignment]
    h = answered_call(qtbot, app)
    bar = card(app, h).recording_bar
    click(qtbot, bar.record_button)
    qtbot.waitUntil(lambda: bar.stop_button.isVisible())
    click(qtbot, bar.stop_button)
    qtbot.waitUntil(lambda: bar.indicator.text() == "Recorded")
    assert not bar.record_button.isVisible()  # one recording per call
    assert engine.commands[-1] == ("stop_recording", h)


def test_auto_recording_of_queue_calls(qtbot: QtBot, tmp_path: Path) -> None:
    settings = Settings()
    settings.recording.auto = "queue"
    settings.recording.announcement = "none"
    settings.crm.workflow = "phone_call"
    settings.phone.audio = "null"
    made = build_app(Profile.at(tmp_path / "p").ensure(), settings,
                     secrets=MemorySecretStore(),
                     engine_factory=lambda sip, **kw: RecordingEngine(sip, **kw),
                     history=History(MEMORY))
    qtbot.addWidget(made.window)
    try:
        made.start(show=False)
        qtbot.waitUntil(lambda: made.engine_running)
        engine: RecordingEngine = made.engine  # type: ignore[assignment]
        queue_call = engine.ring(queue="Sales")
        qtbot.waitUntil(lambda: made.session.get(queue_call) is not None)
        made.session.answer(queue_call)
        qtbot.waitUntil(lambda: made.session.get(queue_call) is not None and
                        made.session.get(queue_call).recording is RecordingState.RECORDING)
        assert engine.commands[-1][0] == "start_recording" and engine.commands[-1][3] is None
        made.session.hangup(queue_call)
        direct = engine.ring(queue=None)
        qtbot.waitUntil(lambda: made.session.get(direct) is not None)
        made.session.answer(direct)
        qtbot.waitUntil(lambda: made.session.get(direct) is not None and
                        made.session.get(direct).state is CallState.CONNECTED)
        assert [c[0] for c in engine.commands].count("start_recording") == 1
    finally:
        made.shutdown()


def test_the_quality_badge_follows_the_reports_with_the_figures_on_hover(
        qtbot: QtBot, app: SwitchboardApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="switchboard.calls")
    engine: RecordingEngine = app.engine  # type: ignore[assignment]
    h = answered_call(qtbot, app)
    badge = card(app, h).quality_badge
    assert not badge.isVisible()
    good = engine.quality(h, 0.0)
    qtbot.waitUntil(lambda: badge.isVisible())
    assert badge.text() == f"MOS {good.mos:.1f}" and badge.property("grade") == "good"
    assert "Jitter: 3.0 ms" in badge.toolTip() and "Round trip: 40 ms" in badge.toolTip()
    bad = engine.quality(h, 10.0)
    qtbot.waitUntil(lambda: badge.text() == f"MOS {bad.mos:.1f}")
    assert badge.property("grade") == "fair"
    assert "Packets lost: 10.0 % received" in badge.toolTip()
    engine.quality(h, 0.0)
    qtbot.waitUntil(lambda: badge.property("grade") == "good")

    click(qtbot, card(app, h).hangup_button)
    tree = app.window.history_view.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1)
    stored = app.window.history_view.records()[0].quality
    assert stored is not None and stored.reports == 3
    assert stored.mos_min == round(bad.mos, 2)
    assert f"MOS {stored.mos_avg:.1f} (lowest {stored.mos_min:.1f})" in \
        tree.topLevelItem(0).toolTip(1)
    # Written to the log when the call ends, the same figures as history keeps, so
    # support staff can find the bad calls.
    logged = [r.fields for r in caplog.records  # type: ignore[attr-defined]
              if getattr(r, "event", None) == "call_quality"]
    assert len(logged) == 1
    assert logged[0]["mos_min"] == stored.mos_min and logged[0]["reports"] == 3
    assert logged[0]["mos_avg"] == stored.mos_avg
    assert logged[0]["loss_percent"] == stored.loss_percent
    assert logged[0]["call_id"] == app.window.history_view.records()[0].call_id
