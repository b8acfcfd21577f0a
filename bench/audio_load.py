"""Benchmark the call audio path on a busy computer (issue 8): what the threads' scheduling
and the collector's freeze during calls (app/audio/realtime.py, app/audio/collector.py)
are worth, each against the same call without them, side by side in one run.

    python bench/audio_load.py [--seconds 8] [--turns 3] [--hogs 6] [--heap 400000]

One call from the app (in this process, as `switchboard run` builds it; speaker
"Headset" on the PulseAudio virtual card of tests/sound_card.py) to a far pjsua2 agent
that plays a 1 kHz tone. The conditions take turns of `--seconds` each, `--turns` times,
so all meet the same machine:

- quiet: the call alone, as shipped;
- hogs, raised / hogs, normal: `--hogs` busy processes (one per core is a busy machine;
  more is one where other work competes for every core), with the two audio threads
  scheduled as shipped (real-time where permitted) or put back to normal scheduling;
- GC, frozen / GC, unfrozen: the process holds `--heap` more objects (a long shift, a big
  import) and the GUI thread runs a full garbage collection every second (the test suite
  measured one every 9 s); as shipped the heap is frozen while the call has sound,
  unfrozen is what the app did before.

Per condition: 10 ms blocks of the tone missing on the headset monitor (below 30 % of its
usual level), the rings' under- and overruns and late bridge frames per 10,000 frames,
the longest full collection, and the tone's SNR. Asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium's sandbox refuses root
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (
        os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "") + " --no-sandbox").strip()

from bench.audio_path import (
    Observer,
    call_settings,
    gaps,
    rtp_base,
    say,
    snapshot,
    snr_of,
    tone,
    wait,
    write_wav,
)
from bench.screenpop_latency import run_until

CONDITIONS = ("quiet", "hogs, raised", "hogs, normal", "GC, frozen", "GC, unfrozen")


@dataclass
class Result:
    gaps: list[int] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    frames: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    snr: list[float] = field(default_factory=list)
    gc_ms: list[float] = field(default_factory=list)


class GcTimer:
    """The longest collection while on."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.longest = max(self.longest, (time.perf_counter() - self._began) * 1000)


def normal(tid: int) -> None:
    os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, tid, 0)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Result]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.audio.realtime import raise_priority
    from app.compose import build_app
    from app.core.calls import CallState
    from app.paths import Profile
    from app.ui.screenpop import register_schemes
    from tests.fakes.memory_secrets import MemorySecretStore
    from tests.integration.conftest import start_agent, stop_agent

    register_schemes()
    _qapp = QApplication.instance() or QApplication([sys.argv[0]])  # kept alive
    app = build_app(Profile.at(tmp / "app").ensure(), call_settings(),
                    secrets=MemorySecretStore())
    assert app.audio is not None
    path = app.audio.controller.path
    far_wav = write_wav(tmp / "1k.wav", tone(1000, 600, 8000), 8000)
    far = start_agent("--rtp-port", str(rtp_base()), "--auto-answer",
                      "--capture-file", str(far_wav))
    ballast = [{"n": k} for k in range(args.heap)]  # lives as long as the call
    timer = GcTimer()
    results = {name: Result() for name in CONDITIONS}
    try:
        app.start(show=True)
        run_until(lambda: app.engine_running, 60)
        app.dial(far.ready["local_uri"])
        run_until(lambda: any(c.state is CallState.CONNECTED for c in app.session.calls), 30)
        run_until(lambda: path.speaker_running and all(path.thread_ids.values()), 30)
        if not path.speaker_running:
            raise RuntimeError("the call's audio did not start")
        say(f"audio threads: {path.scheduling}")
        wait(1.0)
        collect = QTimer()
        collect.timeout.connect(gc.collect)
        for turn in range(args.turns):
            for name in CONDITIONS:
                say(f"turn {turn + 1}/{args.turns}: {name}")
                hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                        for _ in range(args.hogs if name.startswith("hogs") else 0)]
                if name == "hogs, normal":
                    for tid in path.thread_ids.values():
                        normal(tid)
                if name == "GC, unfrozen":
                    gc.unfreeze()
                if name.startswith("GC"):
                    collect.start(1000)
                timer.longest = 0.0
                before = snapshot(path)
                obs = Observer("headset.monitor")
                wait(args.seconds)
                pcm = obs.stop().pcm
                after = snapshot(path)
                collect.stop()
                for hog in hogs:
                    hog.kill()
                    hog.wait()
                for tid in path.thread_ids.values():
                    raise_priority(tid)
                if name == "GC, unfrozen":
                    gc.collect()
                    gc.freeze()
                r = results[name]
                g, n = gaps(pcm, 16_000, trim=0.3)
                r.gaps.append(g)
                r.blocks.append(n)
                r.snr.append(snr_of(pcm))
                r.gc_ms.append(timer.longest)
                r.frames += after["frames"] - before["frames"]
                for key in ("late_writes", "spk_underruns", "spk_overruns", "mic_underruns",
                            "mic_overruns"):
                    r.counts[key] = r.counts.get(key, 0) + after[key] - before[key]
                wait(0.5)
    finally:
        del ballast
        for call in list(app.session.calls):
            app.session.hangup(call.handle)
        app.shutdown()
        stop_agent(far)
    return results


def print_table(results: dict[str, Result], args: argparse.Namespace) -> None:
    print(f"\none call, {args.turns} turns of {args.seconds:.0f} s per condition; "
          f"{os.cpu_count()} cores; hogs: {args.hogs}; heap: {args.heap:,} more objects")
    print(f"{'condition':<13} | {'speaker gaps':>13} | {'late':>5} | {'spk under':>9} | "
          f"{'spk over':>8} | {'mic under':>9} | {'longest GC':>10} | {'SNR, median':>11}")
    print("-" * 96)
    for name, r in results.items():
        per = {k: round(v * 10_000 / max(r.frames, 1)) for k, v in r.counts.items()}
        print(f"{name:<13} | {f'{sum(r.gaps)}/{sum(r.blocks)}':>13} | "
              f"{per['late_writes']:>5} | {per['spk_underruns']:>9} | "
              f"{per['spk_overruns']:>8} | {per['mic_underruns']:>9} | "
              f"{max(r.gc_ms):>7.1f} ms | {statistics.median(r.snr):>8.1f} dB")
    print("speaker gaps: missing 10 ms blocks of the tone / blocks; late, under, over: per "
          "10,000 bridge frames (a frame > 30 ms after the one before; a ring ran dry and "
          "played silence; a ring was full and dropped old audio)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--hogs", type=int, default=6)
    parser.add_argument("--heap", type=int, default=400_000)
    args = parser.parse_args(argv)
    from tests.sound_card import SoundCard

    sys.stdout.flush()
    sys.stdout = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # pjlib writes its console to fd 1
    card = SoundCard.start()
    if card is None:
        print("PulseAudio is not installed (./dev setup)")
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="audio-load-") as tmp:
            results = run(args, Path(tmp))
    finally:
        card.stop()
    print_table(results, args)
    os._exit(0)  # see bench/audio_path.py: PySide6 can trip at interpreter teardown


if __name__ == "__main__":
    raise SystemExit(main())
