"""Scheduling for the two threads that move call audio: the bridge's clock and audio-io.

On a loaded machine a thread that is ready to run can wait tens of milliseconds for a
core, longer than the audio path's buffers last. Sound servers (PulseAudio, PipeWire) and
JACK clients run their audio threads with real-time scheduling for that reason; this gives
our two the same, at a priority below PulseAudio's own threads (5), so the sound server
is still served first. Both threads block every 5-20 ms; neither can hold a core.

Linux: `SCHED_RR` where the process may (root, `CAP_SYS_NICE`, or an `rtprio` limit such
as the one Debian gives the `audio` group); otherwise a raised priority (`nice` -11) where
that is allowed; otherwise the thread stays as it is. Windows and macOS: Qt's
`TimeCriticalPriority` for audio-io and pjmedia's highest priority for its clock thread
already do this there.
"""

from __future__ import annotations

import os
import sys
import threading

RT_PRIORITY = 4  # SCHED_RR, below PulseAudio's 5
NICE = -11  # what PulseAudio gives its own threads without real-time
NOT_PERMITTED = "normal (not permitted)"


def raise_priority(tid: int) -> str:
    """Raise thread `tid` of this process; returns what it got, for the log. System calls
    only (no logging, nothing that waits), so a thread may raise itself from an audio
    callback."""
    if not sys.platform.startswith("linux"):
        return "left to the OS"
    return _realtime(tid) or _nice(tid) or NOT_PERMITTED


def _realtime(tid: int) -> str | None:
    try:
        os.sched_setscheduler(tid, os.SCHED_RR, os.sched_param(RT_PRIORITY))
    except (OSError, AttributeError):
        return None
    return f"real-time (SCHED_RR {RT_PRIORITY})"


def _nice(tid: int) -> str | None:
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) > NICE:
            os.setpriority(os.PRIO_PROCESS, tid, NICE)
    except (OSError, AttributeError):
        return None
    return f"raised (nice {NICE})"


def probe() -> str:
    """What the audio threads of this process would get: a short-lived thread is raised."""
    got: list[str] = []
    thread = threading.Thread(target=lambda: got.append(raise_priority(threading.get_native_id())),
                              name="priority-probe")
    thread.start()
    thread.join()
    return got[0]


__all__ = ["NOT_PERMITTED", "probe", "raise_priority"]
