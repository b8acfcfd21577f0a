"""`switchboard doctor` on sound: devices from the virtual sound card, counters from the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.audio.report import last_counters
from tests.sound_card import needs_sound_card

REPO = Path(__file__).resolve().parents[3]


def test_the_last_audio_stats_line_wins_in_json_logs(tmp_path: Path) -> None:
    log = tmp_path / "switchboard.log"
    lines = [{"ts": "2026-12-01T10:00:00", "event": "audio_stats", "speaker_underruns": 9,
              "speaker_overruns": 0, "late_frames": 1, "mic_underruns": 0,
              "mic_overruns": 0, "drift_samples": 3},
             {"ts": "2026-12-01T10:05:00", "event": "ended"},
             {"ts": "2026-12-01T10:06:00", "event": "audio_stats", "speaker_underruns": 2,
              "speaker_overruns": 1, "late_frames": 0, "mic_underruns": 4,
              "mic_overruns": 0, "drift_samples": 12}]
    log.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    assert last_counters(log) == {"ts": "2026-12-01T10:06:00", "speaker_underruns": 2,
                                  "speaker_overruns": 1, "late_frames": 0,
                                  "mic_underruns": 4, "mic_overruns": 0,
                                  "drift_samples": 12}


def test_text_logs_are_read_too_and_no_call_means_none(tmp_path: Path) -> None:
    log = tmp_path / "switchboard.log"
    assert last_counters(log) is None  # no log yet
    log.write_text("2026-12-01 10:06:00,123 INFO    switchboard.calls: audio_stats "
                   "call_id='x' speaker_underruns=5 speaker_overruns=0 late_frames=2 "
                   "mic_underruns=0 mic_overruns=1 drift_samples=7\n")
    counters = last_counters(log)
    assert counters is not None
    assert counters["speaker_underruns"] == 5 and counters["late_frames"] == 2
    assert counters["mic_overruns"] == 1
    log.write_text("2026-12-01 10:06:00,123 INFO    x: nothing about sound\n")
    assert last_counters(log) is None


def _doctor(profile: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "--profile", str(profile), "doctor"],
                          capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env})


@needs_sound_card
def test_doctor_lists_the_devices_and_what_each_choice_uses(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[audio]\nspeaker = "USB headset"\n'
                                          'ringer = "Gone headset"\n')
    out = _doctor(tmp_path).stdout
    assert "Headset, Laptop speakers, USB headset" in out
    assert "speaker:    USB headset -> USB headset" in out
    assert "ringer:     Gone headset -> Headset (not connected" in out
    assert "no call with sound logged yet" in out
    assert "audio threads: real-time" in out or "audio threads: raised" in out \
        or "allow real-time scheduling" in out


def test_doctor_fails_with_the_fix_when_there_is_no_sound_system(tmp_path: Path) -> None:
    result = _doctor(tmp_path, PULSE_SERVER="unix:/nonexistent")
    assert result.returncode == 1
    assert "no sound device: calls connect but are silent; plug in a headset" in \
        result.stdout


def test_doctor_does_not_look_for_devices_when_audio_is_off(tmp_path: Path) -> None:
    # A phone that can start otherwise (issue 10's doctor also checks the account and the
    # keyring): direct mode, and the test keyring in a file.
    (tmp_path / "config.toml").write_text('[phone]\naudio = "null"\n[sip]\nmode = "direct"\n')
    result = _doctor(tmp_path, PULSE_SERVER="unix:/nonexistent",
                     PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                     SWITCHBOARD_TEST_KEYRING=str(tmp_path / "keyring.json"))
    assert "audio:    off" in result.stdout
    assert result.returncode == 0, result.stdout


def test_doctor_in_this_process_leaves_no_qt_application_behind(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A QCoreApplication made here would make every later QApplication abort (pytest runs
    the widget tests in the same process): the device probe runs in a child."""
    from PySide6.QtCore import QCoreApplication

    from app import cli
    from tests.fakes.memory_secrets import MemorySecretStore

    if QCoreApplication.instance() is not None:
        pytest.skip("a Qt application already exists in this test process")
    cli.main(["--profile", str(tmp_path), "doctor"], secrets=MemorySecretStore())
    assert "audio:" in capsys.readouterr().out
    assert QCoreApplication.instance() is None
