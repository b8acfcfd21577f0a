"""No sound system at all (a server, CI, a broken PulseAudio): the real app, set to use
sound (`phone.audio = "auto"`), starts, says once that there is no microphone or speaker,
and a call still connects.

The app runs as a subprocess whose `PULSE_SERVER` points at nothing, so Qt Multimedia
finds no devices; SIPp calls it and the app answers by itself (`sip.auto_answer`).
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app import config
from tests.app_process import AppProcess, app_env, make_profile, needs_sipp, run_cmd
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.integration.conftest import free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here


def every_line(app: AppProcess) -> list[dict[str, Any]]:
    """All JSON log lines of a process that has exited."""
    assert app.proc.poll() is not None
    with contextlib.suppress(queue.Empty):
        while True:  # the reader thread hands over what is left in the pipe, then stops
            app.log.seen.append(app.log.queue.get(timeout=2))
    return app.log.seen


@needs_sipp
def test_without_a_sound_system_the_app_says_so_once_and_calls_still_connect(
        tmp_path: Path, processes: Callable[..., AppProcess],
        sipp: Callable[..., Any]) -> None:
    port = free_port()

    def with_sound(settings: config.Settings) -> None:
        settings.phone.audio = "auto"
        settings.sip.auto_answer = True

    profile = make_profile(tmp_path / "profile", port=port, configure=with_sound)
    app = processes(run_cmd(profile), app_env(PULSE_SERVER="unix:/nonexistent"))
    app.event("audio_devices_missing")
    devices = app.event("audio_devices")
    assert (devices["microphone"], devices["speaker"], devices["ringer"]) == (None, None, None)
    app.event("registration", state="disabled")

    peer = sipp(scenario(tmp_path, "uac_remote_bye", HOLD_MS="2000"), f"127.0.0.1:{port}")
    ringing = app.event("ringing")
    assert app.event("answered", handle=ringing["handle"])["code"] == 200
    assert peer.wait() == 0, peer.output()
    assert app.event("ended", handle=ringing["handle"])["side"] == "remote"
    app.stop()

    lines = every_line(app)
    events = [line.get("event") for line in lines]
    assert events.count("audio_devices_missing") == 1  # not again when the call came
    stats = [line for line in lines if line.get("event") == "audio_stats"]
    assert len(stats) == 1 and stats[0]["call_id"]  # the call's counters are still logged
