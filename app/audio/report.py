"""What `switchboard doctor` says about sound: the devices the OS offers, what each saved
choice resolves to, and the audio path's counters from the last call in the log."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

from app.config import AudioSettings

COUNTERS = ("speaker_underruns", "speaker_overruns", "late_frames", "missed_frames",
            "mic_underruns", "mic_overruns", "drift_samples")


def device_report(audio: AudioSettings) -> tuple[list[str], bool]:
    """Lines for the doctor and whether a call can carry sound. Needs a Qt application."""
    from app.audio.devices import AudioDevices, device_name

    devices = AudioDevices()
    outputs = [device_name(d) for d in devices.outputs()]
    inputs = [device_name(d) for d in devices.inputs()]
    lines = [f"speakers: {', '.join(outputs) or 'none'}",
             f"mics:     {', '.join(inputs) or 'none'}"]
    for kind, resolved in (("microphone", devices.input(audio.microphone)),
                           ("speaker", devices.output(audio.speaker)),
                           ("ringer", devices.output(audio.ringer))):
        chosen = getattr(audio, kind) or "system default"
        using = device_name(resolved.device) if not resolved.device.isNull() else "nothing"
        note = " (not connected: the system default is used)" if resolved.missing else ""
        lines.append(f"{kind + ':':<12}{chosen} -> {using}{note}")
    lines.append(f"audio threads: {_scheduling()}")
    ok = bool(outputs) and bool(inputs)
    if not ok:
        lines.append("no sound device: calls connect but are silent; plug in a headset or "
                     "check that the sound system (PulseAudio/PipeWire, Windows audio) runs")
    return lines, ok


def _scheduling() -> str:
    from app.audio.realtime import NOT_PERMITTED, probe

    got = probe()
    if got == NOT_PERMITTED:
        return (f"{got}: on a busy computer call sound may break up; allow real-time "
                "scheduling (e.g. an rtprio limit for your user or the audio group in "
                "/etc/security/limits.d)")
    return got


def probe_devices(audio: AudioSettings, timeout: float = 20.0) -> tuple[list[str], bool]:
    """`device_report` in a child process: Qt Multimedia needs a Qt application, and the
    process that asks (the CLI, a test run) may later need a different one, or none."""
    import subprocess

    settings = json.dumps(dataclasses.asdict(audio))
    try:
        done = subprocess.run([sys.executable, "-m", "app.audio.report", settings],
                              capture_output=True, text=True, timeout=timeout)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return list(result["lines"]), bool(result["ok"])
    except (OSError, ValueError, IndexError, KeyError, subprocess.TimeoutExpired) as exc:
        return [f"could not list the sound devices ({type(exc).__name__}); calls may be "
                "silent"], False


def _main(argv: list[str]) -> int:
    from PySide6.QtCore import QCoreApplication

    _app = QCoreApplication([])  # Qt Multimedia needs one
    audio = AudioSettings(**json.loads(argv[0]))
    lines, ok = device_report(audio)
    print(json.dumps({"lines": lines, "ok": ok}))
    return 0


_TEXT_FIELD = re.compile(r"(\w+)=(\d+)")


def last_counters(log_file: Path) -> dict[str, Any] | None:
    """The counters of the last `audio_stats` line in the log (JSON or text format)."""
    try:
        text = log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(text.splitlines()):
        if "audio_stats" not in line:
            continue
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("event") == "audio_stats":
                return {k: obj[k] for k in ("ts", *COUNTERS) if k in obj}
            continue
        fields = dict(_TEXT_FIELD.findall(line))
        if "speaker_underruns" in fields:
            return {"ts": line[:23], **{k: int(fields[k]) for k in COUNTERS if k in fields}}
    return None


__all__ = ["COUNTERS", "device_report", "last_counters", "probe_devices"]

if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
