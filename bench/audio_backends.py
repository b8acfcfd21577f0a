"""Benchmark the OS side of the speaker path: Qt Multimedia against PortAudio, side by side.

    python bench/audio_backends.py [--turns 2] [--seconds 10] [--portaudio-latency low]

Issue 8 asks to choose the OS audio library by measurement. This plays the same signal
through both, in the same run, on the same PulseAudio virtual sound card
(tests/sound_card.py), in alternating turns so both meet the same machine:

- **Qt Multimedia**: the app's own `app.audio.path.AudioPath` (its audio-io thread feeds a
  push-mode QAudioSink from the playback ring), exactly as in a call;
- **PortAudio** (`sounddevice`, Debian `libportaudio2`): a callback stream (pull mode) that
  reads the same kind of ring (`app.audio.ring.AudioRing`, the app's playback ring
  settings) on PortAudio's own thread. Debian's PortAudio 19.6 reaches PulseAudio through
  ALSA's pulse plugin (`libasound2-plugins`); the stream goes to the "Headset" sink by
  `PULSE_SINK`.

A Python thread stands in for the conference bridge: it writes a 20 ms frame into the ring
on an ideal 20 ms schedule (as pjmedia's clock calls BridgePort), so the bridge thread too
needs the GIL, as in the app. The signal is 1 kHz clicks 400 ms apart, then a 1 kHz tone.
`parec` on the sink's monitor times the clicks (the method of bench/audio_path.py: from the
frame's scheduled tick to the sink rendering it) and checks the tone for gaps and SNR
(tests/sound_card.py `analyse`, the speaker test's measure). Each backend runs with the
interpreter otherwise idle, and with another Python thread busy (a stand-in for a busy GUI
thread: it holds the GIL but for the interpreter's switch interval). CPU is this process's
user + system time during the turn (the bridge thread included, the same for both).
Asserts nothing; prints a table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from bench.audio_path import CLICK_GAP, Observer, Timeline, click_train, delays, gaps, tone
from bench.crm_lookup import pct

RATE = 16_000
FRAME = RATE // 50  # samples in the bridge's 20 ms frame
SINK = "headset"


@dataclass
class Turn:
    backend: str
    load: str
    latency_ms: list[float]
    clicks: int
    cpu_pct: float
    frames: int
    underruns: int  # the ring ran dry: silence played
    bridge_late: int  # bridge frames written > 10 ms after their tick (GIL waits)
    gap_blocks: tuple[int, int]
    snr_db: float
    device_underflows: int | None = None  # PortAudio's own flag; Qt does not report one


@dataclass
class Bridge:
    """Writes `pcm` into `ring` one 20 ms frame per tick, on an ideal schedule."""

    ring: Any
    pcm: np.ndarray
    start: float = 0.0
    late: int = 0
    _thread: threading.Thread | None = field(default=None, repr=False)

    def run(self) -> None:
        self.start = time.monotonic() + 0.05
        self._thread = threading.Thread(target=self._loop, name="bridge", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        for k in range(len(self.pcm) // FRAME):
            due = self.start + k * FRAME / RATE
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            elif pause < -0.010:
                self.late += 1
            self.ring.write(self.pcm[k * FRAME:(k + 1) * FRAME].tobytes())

    def join(self) -> None:
        assert self._thread is not None
        self._thread.join()

    def timeline(self) -> Timeline:
        return Timeline(self.pcm, lambda i: self.start + i / RATE)


def busy_until(stop: threading.Event) -> None:
    """A GUI thread at work in Python: it holds the GIL but for the interpreter's
    switch interval."""
    while not stop.is_set():
        sum(i * i for i in range(20_000))


# -- the two backends -------------------------------------------------------------------------

class QtBackend:
    name = "Qt Multimedia"

    def __init__(self) -> None:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtMultimedia import QMediaDevices

        from app.audio.path import AudioPath

        self._app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
        self._path = AudioPath()
        device = next(d for d in QMediaDevices.audioOutputs()
                      if bytes(d.id().data()).decode() == SINK)
        self._path.set_output(device)

    @property
    def ring(self) -> Any:
        return self._path.playback

    def start(self) -> None:
        self._path.open()
        wait_for(lambda: self._path.speaker_running, 20)

    def stop(self) -> int | None:
        self._path.close()
        return None

    def close(self) -> None:
        self._path.shutdown()


class PortAudioBackend:
    name = "PortAudio"

    def __init__(self, latency: str | float) -> None:
        os.environ["PULSE_SINK"] = SINK  # libpulse reads it when the stream connects
        import sounddevice

        from app.audio import path
        from app.audio.ring import AudioRing

        self._sd = sounddevice
        self._latency = latency
        self.ring = AudioRing(RATE, prefill_ms=path.PLAYBACK_PREFILL_MS,
                              target_ms=path.PLAYBACK_TARGET_MS,
                              max_ms=path.PLAYBACK_MAX_MS, writer_period_ms=20)
        self._stream: Any = None
        self.callbacks = self.underflows = 0

    def _callback(self, out: Any, frames: int, _time: Any, status: Any) -> None:
        # PortAudio's thread: copy from the ring and return, as the app's callbacks do.
        self.callbacks += 1
        if status.output_underflow:
            self.underflows += 1
        out[:] = self.ring.read(frames * 2)

    def start(self) -> None:
        self.ring.set_open(True)
        self.callbacks = self.underflows = 0
        self._stream = self._sd.RawOutputStream(
            samplerate=RATE, channels=1, dtype="int16", device="pulse",
            latency=self._latency, blocksize=RATE // 200, callback=self._callback)
        self._stream.start()
        wait_for(lambda: self.callbacks > 20, 20)

    def stop(self) -> int | None:
        self._stream.stop()
        self._stream.close()
        self.ring.set_open(False)
        return self.underflows

    def close(self) -> None:
        pass


def wait_for(done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the sound device did not start")
        time.sleep(0.01)


# -- one turn ---------------------------------------------------------------------------------

def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def turn(backend: Any, load: str, seconds: float) -> Turn:
    from tests.sound_card import analyse

    clicks = int(seconds * 0.6 / CLICK_GAP)
    clicks_pcm = click_train(clicks, RATE, lead=0.2, tail=0.2)
    tone_pcm = tone(1000, seconds - len(clicks_pcm) / RATE, RATE)
    pcm = np.concatenate([clicks_pcm, tone_pcm]).astype("<i2")
    backend.start()
    time.sleep(1.0)  # the stream settles (a PulseAudio stream starts in bursts here)
    before = backend.ring.counters
    observer = Observer(f"{SINK}.monitor")
    stop = threading.Event()
    worker = threading.Thread(target=busy_until, args=(stop,), daemon=True)
    time.sleep(0.3)
    cpu0 = own_cpu()
    t0 = time.monotonic()
    bridge = Bridge(backend.ring, pcm)
    bridge.run()
    if load == "busy":
        worker.start()
    bridge.join()
    time.sleep(0.3)
    stop.set()
    if load == "busy":
        worker.join()
    cpu = own_cpu() - cpu0
    wall = time.monotonic() - t0
    heard = observer.stop()
    after = backend.ring.counters
    underflows = backend.stop()
    sent = bridge.timeline()
    latency = delays(Timeline(sent.pcm[:len(clicks_pcm)], sent.time_of), heard)
    # The tone's part of the recording, from where it was due (plus the latency) to its end.
    shift = (statistics.median(latency) if latency else 80.0) / 1000
    base = heard.time_of(0)
    first = int((bridge.start + len(clicks_pcm) / RATE + shift - base) * RATE) + RATE // 5
    last = int((bridge.start + len(pcm) / RATE + shift - base) * RATE) - RATE // 10
    part = heard.pcm[max(0, first):max(0, last)]
    return Turn(backend.name, load, latency, clicks, 100 * cpu / wall,
                after.written_frames - before.written_frames,
                after.underruns - before.underruns, bridge.late,
                gaps(part, RATE, trim=0.0), analyse(part.tobytes(), RATE, trim=0.0).snr_db,
                underflows)


# -- table ------------------------------------------------------------------------------------

def print_table(turns: list[Turn]) -> None:
    print()
    print("speaker path, bridge tick → headset sink render (ms), per backend and load; "
          "all turns pooled")
    head = (f"{'backend':<14} | {'load':<5} | {'n':>3} | {'median':>6} | {'p90':>6} | "
            f"{'max':>6} | {'CPU %':>5} | {'ring under':>10} | {'bridge late':>11} | "
            f"{'gaps':>8} | {'SNR dB':>9} | device underflows")
    print(head)
    print("-" * len(head))
    for name in dict.fromkeys(t.backend for t in turns):
        for load in ("idle", "busy"):
            group = [t for t in turns if t.backend == name and t.load == load]
            if not group:
                continue
            lat = [x for t in group for x in t.latency_ms]
            frames = sum(t.frames for t in group)
            under = sum(t.underruns for t in group)
            late = sum(t.bridge_late for t in group)
            g = (sum(t.gap_blocks[0] for t in group), sum(t.gap_blocks[1] for t in group))
            snr = [t.snr_db for t in group]
            flows = [t.device_underflows for t in group if t.device_underflows is not None]
            stats = (f"{statistics.median(lat):>6.1f} | {pct(lat, 90):>6.1f} | "
                     f"{max(lat):>6.1f}") if lat else f"{'-':>6} | {'-':>6} | {'-':>6}"
            print(f"{name:<14} | {load:<5} | {len(lat):>3} | {stats} | "
                  f"{statistics.mean(t.cpu_pct for t in group):>5.1f} | "
                  f"{10_000 * under / max(frames, 1):>10.0f} | "
                  f"{10_000 * late / max(frames, 1):>11.0f} | {g[0]:>3}/{g[1]:<4} | "
                  f"{min(snr):>3.0f}-{max(snr):<3.0f}  | "
                  f"{sum(flows) if flows else 'not reported'}")
    print("ring under / bridge late: per 10,000 bridge frames; gaps: 10 ms blocks of the "
          "tone below 30 % of its usual level / blocks; SNR: range over the turns; CPU %: "
          "this process, of one core, the bridge thread (and the busy loop) included")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2, help="turns of each backend and load")
    parser.add_argument("--seconds", type=float, default=10.0, help="signal per turn")
    parser.add_argument("--portaudio-latency", default="low",
                        help="PortAudio's suggested latency: low, high or seconds")
    args = parser.parse_args(argv)
    for tool in ("pulseaudio", "parec"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (./dev setup)")
            return 1
    import importlib.util

    # Imported only once the card runs: PortAudio looks for devices when it is loaded.
    if importlib.util.find_spec("sounddevice") is None:
        print("sounddevice is not installed: ./dev bench installs it (and libportaudio2)")
        return 1
    from tests.sound_card import SoundCard

    latency: str | float = args.portaudio_latency
    if latency not in ("low", "high"):
        latency = float(latency)
    card = SoundCard.start()  # sets PULSE_SERVER before anything loads a sound library
    assert card is not None
    began, load_before = time.monotonic(), os.getloadavg()[0]
    backends: list[Any] = []
    turns: list[Turn] = []
    try:
        backends = [QtBackend(), PortAudioBackend(latency)]
        for k in range(args.turns):
            for load in ("idle", "busy"):
                for backend in backends if k % 2 == 0 else backends[::-1]:
                    print(f"[audio backends] turn {k + 1}: {backend.name}, {load}",
                          file=sys.stderr, flush=True)
                    turns.append(turn(backend, load, args.seconds))
    finally:
        for backend in backends:
            backend.close()
        card.stop()
    print_table(turns)
    print(f"machine: {os.cpu_count()} cores, 1-minute load average {load_before:.1f} at the "
          f"start, {os.getloadavg()[0]:.1f} at the end; {time.monotonic() - began:.0f} s; "
          f"PortAudio latency {latency!r}, 5 ms callbacks", flush=True)
    os._exit(0)  # PySide6 can trip over its own teardown (see bench/audio_path.py)


if __name__ == "__main__":
    raise SystemExit(main())
