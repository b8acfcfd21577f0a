"""Benchmark the call audio path (issue 8): latency it adds, CPU per call, frames lost to pops.

    python bench/audio_path.py [--impulses 24] [--cpu-seconds 20] [--pops 100]
                               [--quiet-seconds 15] [--turns 5] [--keep DIR]

Starts its own PulseAudio virtual sound card (tests/sound_card.py: sinks "Headset",
"Laptop speakers", the `mic` feed remapped to "Headset microphone") and a far pjsua2 agent
(tests/integration/agent.py, a child process), and prints one table per measurement and a
summary. Asserts nothing.

1. One-way latency the path adds. The app (SwitchboardApp, in this process, offscreen,
   speaker "Headset", microphone "Headset microphone") calls the far agent, which plays a
   WAV of 1 kHz clicks (5 ms Hann bursts, 400 ms apart); a second WAV of clicks is played
   into the `mic` sink. The reference is the conference bridge itself: the engine is built
   through the app's `engine_factory` (app.compose) with the AudioPath's rings wrapped so
   each frame BridgePort hands over or takes is timestamped (CLOCK_MONOTONIC). That is
   exactly where a `phone.audio = "null"` call hands its audio to the null device, so the
   null path adds 0 here by definition, and network, jitter buffer and codec (the same on
   both paths) are left out. The far ends of the path are observed with `parec` on the
   sinks' monitors, each chunk timestamped on arrival in the same clock (lower envelope of
   arrival - samples/rate over ±1 s, so a late wake-up does not count):
   - speaker: bridge frame → headset sink renders the click. A frame counts from the
     bridge's 20 ms tick (the lower envelope of the frame times), so a BridgePort callback
     kept waiting (GIL) is counted. Includes the playback ring (target 30 ms), the
     audio-io thread's 5 ms feed, Qt's PulseAudio stream (kept 30 ms full) and the sink;
   - microphone: `mic` sink renders the click (that instant it is in the "Headset
     microphone" source) → the bridge takes the frame holding it. A sample counts from the
     end of its frame, as from an ideal capture device that hands over each 20 ms frame the
     moment it is complete. Includes PulseAudio's source fragments, Qt's capture stream and
     the capture ring (target 40 ms).
   A real card adds its own hardware buffer on top; on the null sinks the monitor sees a
   block when it is rendered, up to one 10 ms block before its notional play time, so
   read the figures as ±5 ms. The clicks sent are also counted in the far agent's
   recording (`--record-file`).
2. CPU per active call: `python -m app --profile DIR --log-format json run` in a child
   process, alone, for `--cpu-seconds`: idle (audio "auto", no call), one call with
   `phone.audio = "null"`, one call with real audio (the far agent dials, the app
   auto-answers; a 1 kHz tone from the far end, checked on the headset monitor). CPU time
   is utime + stime of the app process from /proc (all its threads; Chromium's own
   processes are not counted).
3. Late or missing frames while the window pops records: during the call of part 1, the
   CRM pane loads `--pops` contact pages one after the other (each waits for its
   loadFinished), against the same call left alone for `--quiet-seconds`; the two take
   `--turns` turns each, so that both meet the same machine (on a shared one, other work
   comes and goes within seconds). The counters are `app.audio.controller.path.counters`,
   per 10,000 bridge frames; bridge ticks that never came are counted from the wall clock.
   A tone both ways is checked for gaps on the headset monitor and in the far recording.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium's sandbox refuses root
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (
        os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "") + " --no-sandbox").strip()

import numpy as np

from bench.crm_lookup import pct
from bench.screenpop_latency import free_port, run_until
from bench.sip_latency import wait_bound

RATE = 16_000
CLICK_GAP = 0.4  # s between clicks: far above any latency measured, so pairs are unique
CLICK_MS = 5
FAR_CLICK_SECONDS = 16.0  # the far WAV: clicks for this long, then a 1 kHz tone
CLK_TCK = os.sysconf("SC_CLK_TCK")
HEADSET, LAPTOP, MIC = "Headset", "Laptop speakers", "Headset microphone"


# -- signals ---------------------------------------------------------------------------------

def click_train(count: int, rate: int, *, lead: float = 0.3, then_tone: float = 0.0,
                tail: float = 0.3) -> np.ndarray:
    """`count` 1 kHz Hann-windowed bursts CLICK_GAP apart, then optionally a 1 kHz tone."""
    n = int(CLICK_MS * rate / 1000)
    t = np.arange(n) / rate
    burst = 0.6 * 32767 * np.hanning(n) * np.sin(2 * np.pi * 1000 * t)
    out = np.zeros(int((lead + count * CLICK_GAP + tail) * rate))
    for k in range(count):
        start = int((lead + k * CLICK_GAP) * rate)
        out[start:start + n] = burst
    if then_tone:
        t = np.arange(int(then_tone * rate)) / rate
        out = np.concatenate([out, 0.4 * 32767 * np.sin(2 * np.pi * 1000 * t)])
    return out.astype("<i2")


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def onsets(pcm: np.ndarray, rate: int = RATE) -> list[int]:
    """Sample index where each click starts: the envelope (1 ms running max of |x|) first
    reaches half that click's peak. The same rule on both ends of the path, so the shape
    the codec gives a click cancels out."""
    a = np.abs(pcm.astype(float))
    w = rate // 1000
    if len(a) < 4 * w:
        return []
    env = np.lib.stride_tricks.sliding_window_view(np.pad(a, (0, w - 1)), w).max(axis=1)
    top = env.max()
    if top < 1000:
        return []
    found: list[int] = []
    span, gap = rate // 100, int(CLICK_GAP * rate / 2)
    for k in np.flatnonzero(env >= 0.3 * top):
        if found and k - found[-1] < gap:
            continue
        lo = max(0, int(k) - span // 2)
        seg = env[lo:int(k) + span]
        found.append(lo + int(np.argmax(seg >= 0.5 * seg.max())))
    return found


# -- the two clocks ----------------------------------------------------------------------------

class TimedRing:
    """A ring of app/audio seen from the bridge: every frame in or out, with its time."""

    def __init__(self, ring: Any) -> None:
        self._ring = ring
        self.frames: list[tuple[float, bytes]] = []

    def write(self, data: bytes) -> None:  # bridge → speaker: stamped as it arrives
        self.frames.append((time.monotonic(), data))
        self._ring.write(data)

    def read(self, size: int) -> bytes:  # microphone → bridge: stamped when taken
        data = self._ring.read(size)
        self.frames.append((time.monotonic(), data))
        return data


class TimedPipe:
    """The AudioPath as BridgePort sees it (rate, playback, capture), with timed rings."""

    def __init__(self, path: Any) -> None:
        self.rate = path.rate
        self.playback = TimedRing(path.playback)
        self.capture = TimedRing(path.capture)
        self.bridge_thread = getattr(path, "bridge_thread", lambda _tid: None)


@dataclass
class Timeline:
    """Samples, and the time (CLOCK_MONOTONIC) at which each of them was where measured."""

    pcm: np.ndarray
    time_of: Callable[[int], float]


def tick_grid(times: np.ndarray, period: float) -> np.ndarray:
    """The bridge's tick for each frame: one is due every `period`; a late callback sits
    above the lower envelope of (time - index x period) over ±200 ms. (pjmedia's clock
    catches up on late ticks with a burst of callbacks, and skips them only when it is
    more than 500 ms behind: then the ten frames either side are counted late.)"""
    off = times - np.arange(len(times)) * period
    pad = 10
    padded = np.pad(off, pad, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * pad + 1).min(axis=1) \
        + np.arange(len(times)) * period


def bridge_timeline(frames: list[tuple[float, bytes]], start: float, end: float, *,
                    output: bool) -> tuple[Timeline, np.ndarray]:
    """Frames the bridge gave (`output`) or took, as one stream with sample times; and how
    late each callback ran behind the bridge's tick (ms)."""
    sel = [(t, d) for t, d in frames if start <= t <= end]
    times = np.array([t for t, _ in sel])
    n = len(sel[0][1]) // 2 if sel else 320
    pcm = np.frombuffer(b"".join(d for _, d in sel), dtype="<i2")
    grid = tick_grid(times, n / RATE)
    late = (times - grid) * 1000
    if output:
        # Counted from the tick: a callback kept waiting (the GIL) delays the audio.
        return Timeline(pcm, lambda i: float(grid[i // n]) + (i % n) / RATE), late
    return Timeline(pcm, lambda i: float(times[i // n]) - (n - i % n) / RATE), late


class Observer:
    """`parec` of a PulseAudio source; each chunk is timestamped when it arrives."""

    def __init__(self, device: str) -> None:
        self._proc = subprocess.Popen(
            ["parec", f"--device={device}", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=10", "--raw"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._chunks: list[tuple[float, bytes]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while data := os.read(fd, 65536):
            self._chunks.append((time.monotonic(), data))

    def stop(self) -> Timeline:
        self._proc.terminate()
        self._proc.wait(10)
        self._thread.join(5)
        raw = b"".join(d for _, d in self._chunks)
        pcm = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
        ends = np.cumsum([len(d) for _, d in self._chunks]) // 2
        offsets = np.array([t for t, _ in self._chunks]) - ends / RATE

        def time_of(i: int) -> float:
            near = np.abs(ends - i) <= RATE
            return float(offsets[near].min() if near.any() else offsets.min()) + i / RATE
        return Timeline(pcm, time_of)


def delays(src: Timeline, dst: Timeline) -> list[float]:
    """For each click in `src`, ms until the same click in `dst` (within CLICK_GAP)."""
    there = [dst.time_of(i) for i in onsets(dst.pcm)]
    out = []
    for i in onsets(src.pcm):
        t = src.time_of(i)
        later = [u - t for u in there if 0 <= u - t < CLICK_GAP * 0.9]
        if later:
            out.append(min(later) * 1000)
    return out


# -- processes ---------------------------------------------------------------------------------

def say(text: str) -> None:
    """Progress on stderr, so the tables on stdout stay clean."""
    print(f"[audio bench] {text}", file=sys.stderr, flush=True)


def rtp_base() -> int:
    # Ports of our own, away from the tests' 20000-40000, so no stray stream mixes in.
    return 41_000 + random.randrange(0, 400) * 20


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    return proc_cpu_path(Path(f"/proc/{pid}/stat"))


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process, keyed "name/tid"."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            name = (task / "comm").read_text().strip()
            out[f"{name}/{task.name}"] = proc_cpu_path(task / "stat")
    return out


def proc_cpu_path(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def busiest(before: dict[str, float], after: dict[str, float], seconds: float,
            top: int = 4) -> str:
    """The threads that used most CPU between two `thread_cpu` readings, by name."""
    by_name: dict[str, float] = {}
    for key, cpu in after.items():
        name = key.rsplit("/", 1)[0]
        by_name[name] = by_name.get(name, 0.0) + cpu - before.get(key, 0.0)
    ranked = sorted(by_name.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {100 * cpu / seconds:.1f}%" for name, cpu in ranked)


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def record_for(device: str, seconds: float) -> np.ndarray:
    """`seconds` of a source, as samples (waits for them)."""
    obs = Observer(device)
    time.sleep(seconds)
    return obs.stop().pcm


def gaps(pcm: np.ndarray, rate: int, *, trim: float) -> tuple[int, int]:
    """(gap blocks, blocks): 10 ms blocks of a steady tone below 30 % of its usual level
    (the 90th percentile block), leaving out `trim` seconds at each end."""
    block, cut = rate // 100, int(trim * rate)
    a = pcm[cut:len(pcm) - cut].astype(float)
    n = len(a) // block
    if n < 10:
        return 0, n
    rms = np.sqrt((a[: n * block].reshape(n, block) ** 2).mean(axis=1))
    return int((rms < 0.3 * np.percentile(rms, 90)).sum()), n


def level_at(pcm: np.ndarray, freq: float) -> float:
    from tests.sound_card import level_at as level

    return level(pcm.tobytes(), freq)


# -- 2. CPU ------------------------------------------------------------------------------------

@dataclass
class CpuRun:
    kind: str
    cpu_s: float
    wall_s: float
    heard_1k: float | None = None  # RMS of 1 kHz on the headset monitor (audio call only)
    threads: str = ""  # the busiest threads


def cpu_run(kind: str, seconds: float, tmp: Path, far_wav: Path) -> CpuRun:
    from app import config
    from tests.app_process import AppProcess, app_env, make_profile, run_cmd
    from tests.integration.conftest import start_agent, stop_agent

    port = free_port()

    def configure(s: config.Settings) -> None:
        s.sip.auto_answer = True
        s.sip.rtp_port, s.sip.rtp_port_range = rtp_base(), 8
        s.phone.audio = "null" if kind == "null call" else "auto"
        s.audio.speaker, s.audio.ringer, s.audio.microphone = HEADSET, LAPTOP, MIC
        s.audio.keypad_tones = False

    profile = make_profile(tmp / kind.replace(" ", "-"), port=port, configure=configure)
    say(f"CPU: {kind}")
    app = AppProcess(run_cmd(profile), app_env())
    far = None
    try:
        wait_bound(port, app.proc, timeout=60)  # type: ignore[arg-type]
        if kind != "idle":
            far = start_agent("--rtp-port", str(rtp_base()), "--capture-file", str(far_wav))
            far.send(f"dial sip:agent@127.0.0.1:{port}")
            far.wait("CallStateChanged", timeout=30, state="connected")
        time.sleep(3)  # the call's media and the sound devices settle; Chromium starts
        before, t0 = proc_cpu(app.proc.pid), time.monotonic()
        threads = thread_cpu(app.proc.pid)
        heard = None
        if kind == "audio call":
            time.sleep(max(0.0, seconds - 1.5))
            heard = level_at(record_for("headset.monitor", 1.0), 1000)
            time.sleep(max(0.0, seconds - (time.monotonic() - t0)))
        else:
            time.sleep(seconds)
        after, t1 = proc_cpu(app.proc.pid), time.monotonic()
        top = busiest(threads, thread_cpu(app.proc.pid), t1 - t0)
        return CpuRun(kind, after - before, t1 - t0, heard, top)
    finally:
        if far is not None:
            stop_agent(far)
        app.stop()


# -- 1 and 3: the app in this process ---------------------------------------------------------

@dataclass
class Phase:
    name: str
    seconds: float
    cpu_s: float
    counters: dict[str, int]
    frames: int  # bridge frames to the speaker
    mic_frames: int  # bridge frames from the microphone
    pops: int = 0
    load: float = 0.0  # mean 1-minute load average of the machine over its turns
    spk_gaps: tuple[int, int] = (0, 0)  # gap blocks, blocks: headset monitor
    far_gaps: tuple[int, int] = (0, 0)  # the same in the far agent's recording
    snr_db: list[float] | None = None  # of the 1 kHz on the headset monitor, per turn


COUNTERS = ("late_writes", "spk_underruns", "spk_overruns", "mic_underruns", "mic_overruns",
            "drift_samples")


def snapshot(path: Any) -> dict[str, int]:
    c = path.counters
    return {"late_writes": c.playback.late_writes, "spk_underruns": c.playback.underruns,
            "spk_overruns": c.playback.overruns, "mic_underruns": c.capture.underruns,
            "mic_overruns": c.capture.overruns,
            "drift_samples": c.playback.dropped_samples + c.playback.inserted_samples,
            "frames": c.playback.written_frames, "mic_frames": c.capture.read_frames}


@dataclass
class Segment:
    """One turn of one condition of part 3."""

    t0: float
    t1: float
    cpu_s: float
    deltas: dict[str, int]
    pops: int
    load: float


@dataclass
class InProcess:
    speaker_ms: list[float]
    mic_ms: list[float]
    clicks_sent: int
    clicks_at_far: int
    lateness_ms: list[float]
    phases: list[Phase]


def call_settings() -> Any:
    """The app's settings for a bench call: direct SIP on 127.0.0.1, the virtual card's
    Headset and microphone, the built-in CRM."""
    from app.config import Settings

    settings = Settings()
    sip = settings.sip
    sip.mode, sip.username, sip.listen_address, sip.port = "direct", "agent", "127.0.0.1", 0
    sip.srtp, sip.rtp_port, sip.rtp_port_range = "disabled", rtp_base(), 8
    settings.phone.audio = "auto"
    a = settings.audio
    a.speaker, a.ringer, a.microphone, a.keypad_tones = HEADSET, LAPTOP, MIC, False
    a.echo_cancellation = "off"  # nothing to cancel on null sinks; keeps PULSE_PROP unset
    settings.crm.backend = "local"
    return settings


def in_process(args: argparse.Namespace, tmp: Path, far_wav: Path, mic_wav: Path,
               mic_tone: Path) -> InProcess:
    from PySide6.QtWidgets import QApplication

    from app.core.calls import CallState
    from app.core.crm import NewContact
    from app.crm.local.store import LocalStore
    from app.paths import Profile
    from app.telephony.engine import Engine
    from app.ui.screenpop import register_schemes
    from tests.integration.conftest import start_agent, stop_agent
    from tests.sound_card import play_into_mic, read_wav

    profile = Profile.at(tmp / "app").ensure()
    with LocalStore(profile.db_path("crm")) as store:
        contacts = [store.create_contact(NewContact(f"Bench{k}", f"Caller{k}",
                                                    phones=(f"+35840{k:07d}",))).id
                    for k in range(args.pops)]
    register_schemes()
    _qapp = QApplication.instance() or QApplication([sys.argv[0]])  # kept alive
    settings = call_settings()
    import app.audio.path as audio_path

    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(audio_path, name):
            raise SystemExit(f"app/audio/path.py has no {name}")
        kind = type(getattr(audio_path, name))
        setattr(audio_path, name, value.lower() in ("1", "true", "yes") if kind is bool
                else kind(value))
    pipes: list[TimedPipe] = []

    def engine(sip_settings: Any, **kw: Any) -> Engine:
        pipes.append(TimedPipe(kw.pop("audio")))
        return Engine(sip_settings, audio=pipes[-1], **kw)  # type: ignore[arg-type]

    app = build_app(profile, settings, engine)
    assert app.audio is not None and app.crm is not None
    path = app.audio.controller.path
    far_rec = tmp / "far-heard.wav"
    far = start_agent("--rtp-port", str(rtp_base()), "--auto-answer",
                      "--capture-file", str(far_wav), "--record-file", str(far_rec))
    feeds: list[subprocess.Popen[bytes]] = []
    try:
        app.start(show=True)
        run_until(lambda: app.engine_running, 60)
        app.dial(far.ready["local_uri"])
        run_until(lambda: any(c.state is CallState.CONNECTED for c in app.session.calls), 30)
        # The far agent's player and recorder start with its CONNECTED, within ~0.2 s of
        # ours: far-side times below are counted from here.
        connected = time.monotonic()
        run_until(lambda: path.speaker_running, 30)
        if not path.speaker_running:
            raise RuntimeError("the call's audio did not start")
        pipe = pipes[0]
        say("latency: clicks both ways")

        # 1. latency: clicks both ways at once (independent directions)
        spk_obs, mic_obs = Observer("headset.monitor"), Observer("mic.monitor")
        wait(0.5)
        start = time.monotonic()
        feeds.append(play_into_mic(mic_wav))
        clicks_seconds = args.impulses * CLICK_GAP + 0.8
        wait(clicks_seconds)
        end = time.monotonic()
        spk, mic = spk_obs.stop(), mic_obs.stop()
        played, late = bridge_timeline(pipe.playback.frames, start - 0.5, end, output=True)
        taken, _ = bridge_timeline(pipe.capture.frames, start - 0.5, end + 0.3, output=False)
        speaker_ms, mic_ms = delays(played, spk), delays(mic, taken)
        lateness = [float(x) for x in late]
        if time.monotonic() - connected > FAR_CLICK_SECONDS - 1:
            print("warning: the far agent's clicks ended before part 1 did; speaker figures "
                  "may be short", file=sys.stderr)
        wait(max(0.0, connected + FAR_CLICK_SECONDS + 1 - time.monotonic()))  # tone now

        # 3. the same call left alone and with the window popping records, in turns, so
        # that both see the same machine (other work on it comes and goes)
        feeds.append(play_into_mic(mic_tone))
        wait(1.0)
        heard = Observer("headset.monitor")
        wait(0.5)
        segments: dict[str, list[Segment]] = {"call alone": [], "pops": []}
        for turn in range(args.turns):
            say(f"frames: turn {turn + 1} of {args.turns}")
            for name, part in segments.items():
                before, cpu0, t0 = snapshot(path), own_cpu(), time.monotonic()
                popped = 0
                if name == "call alone":
                    wait(args.quiet_seconds / args.turns)
                else:
                    popped = pop_records(app, contacts[turn::args.turns])
                after, cpu1, t1 = snapshot(path), own_cpu(), time.monotonic()
                part.append(Segment(t0, t1, cpu1 - cpu0,
                                    {k: after[k] - before[k] for k in after}, popped,
                                    os.getloadavg()[0]))
        heard_line = heard.stop()
        handle = app.session.calls[0].handle
        app.session.hangup(handle)
        run_until(lambda: not app.session.calls, 10)
    finally:
        for feed in feeds:
            feed.kill()
            feed.wait()
        if far.proc.poll() is None:
            far.send("quit")  # the recorder writes its WAV header when the agent stops
            with contextlib.suppress(subprocess.TimeoutExpired):
                far.proc.wait(30)
        stop_agent(far)
        app.shutdown()
    pcm, far_rate = read_wav(far_rec)
    far_pcm = np.frombuffer(pcm, dtype="<i2")
    at_far = onsets(far_pcm[: int(FAR_CLICK_SECONDS * far_rate)], far_rate)
    base = heard_line.time_of(0)
    phases = []
    for name, part in segments.items():
        popped = sum(seg.pops for seg in part)
        phase = Phase(f"{popped} pops" if popped else name, sum(g.t1 - g.t0 for g in part),
                      sum(g.cpu_s for g in part),
                      {k: sum(g.deltas[k] for g in part) for k in COUNTERS},
                      sum(g.deltas["frames"] for g in part),
                      sum(g.deltas["mic_frames"] for g in part), pops=popped,
                      load=statistics.mean(g.load for g in part))
        for g in part:
            ours = heard_line.pcm[int((g.t0 - base) * RATE):int((g.t1 - base) * RATE)]
            # The far recorder's clock starts within ~0.2 s of our CONNECTED.
            theirs = far_pcm[int((g.t0 - connected) * far_rate):
                             int((g.t1 - connected) * far_rate)]
            phase.spk_gaps = add(phase.spk_gaps, gaps(ours, RATE, trim=0.1))
            phase.far_gaps = add(phase.far_gaps, gaps(theirs, far_rate, trim=0.25))
            # The same SNR the speaker test asserts (tests/sound_card.py analyse).
            phase.snr_db = (phase.snr_db or []) + [snr_of(ours)]
        phases.append(phase)
    return InProcess(speaker_ms, mic_ms, args.impulses, len(at_far), lateness, phases)


def snr_of(pcm: np.ndarray) -> float:
    from tests.sound_card import analyse

    return analyse(pcm.tobytes(), RATE, trim=0.1).snr_db


def snr_range(values: list[float] | None) -> str:
    if not values:
        return "-"
    return f"{min(values):.0f}-{max(values):.0f} dB (median {statistics.median(values):.0f})"


def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def build_app(profile: Any, settings: Any, engine_factory: Callable[..., Any]) -> Any:
    """The whole app as `switchboard run` builds it, with our engine factory."""
    try:
        from app.compose import build_app as build
        from app.secrets import KeyringSecretStore
    except ImportError:  # before the composition root (app/compose.py) existed
        from app.application import SwitchboardApp

        return SwitchboardApp(profile, settings,  # type: ignore[call-arg]
                              engine_factory=engine_factory)
    return build(profile, settings, secrets=KeyringSecretStore(),  # direct mode: unused
                 engine_factory=engine_factory)


def wait(seconds: float) -> None:
    until = time.monotonic() + seconds
    run_until(lambda: time.monotonic() >= until, seconds + 5)


def pop_records(app: Any, contacts: list[str]) -> int:
    """Load each contact page in the screen-pop pane, one after the other."""
    loaded: list[str] = []

    def done(path: str) -> None:
        loaded.append(path)

    def at_least(n: int) -> Callable[[], bool]:
        return lambda: len(loaded) >= n

    pane = app.crm.pane
    pane.loaded.connect(done)
    try:
        for k, cid in enumerate(contacts):
            pane.show_page(f"contact/{cid}")
            run_until(at_least(k + 1), 5)
    finally:
        pane.loaded.disconnect(done)
    return len(loaded)


# -- tables ----------------------------------------------------------------------------------

def stats_row(name: str, values: list[float], note: str) -> str:
    if not values:
        return f"{name:<22} | {'-':>3} | {'-':>7} | {'-':>7} | {'-':>7} | {'-':>7} | {note}"
    return (f"{name:<22} | {len(values):>3} | {statistics.median(values):>7.1f} | "
            f"{pct(values, 90):>7.1f} | {min(values):>7.1f} | {max(values):>7.1f} | {note}")


def print_latency(res: InProcess) -> None:
    print()
    print("1. one-way latency the audio path adds (ms; bridge frame ↔ PulseAudio sink render)")
    print(f"{'direction':<22} | {'n':>3} | {'median':>7} | {'p90':>7} | {'min':>7} | "
          f"{'max':>7} | clicks")
    print("-" * 92)
    print(stats_row("far end → speaker", res.speaker_ms,
                    "bridge tick → headset sink"))
    print(stats_row("microphone → far end", res.mic_ms,
                    f"mic sink → bridge; {res.clicks_at_far}/{res.clicks_sent} at the far "
                    "agent"))
    late = res.lateness_ms
    if late:
        print(f"BridgePort write lateness behind the bridge's tick: median "
              f"{statistics.median(late):.2f} ms, p90 {pct(late, 90):.2f} ms, max "
              f"{max(late):.2f} ms (included above)")


def print_cpu(runs: list[CpuRun]) -> None:
    print()
    print("2. CPU of the app process (python -m app run, alone, utime + stime from /proc)")
    print(f"{'case':<12} | {'seconds':>7} | {'CPU s':>6} | {'% core':>6} | "
          f"{'over idle':>9} | note")
    print("-" * 72)
    idle = next((r for r in runs if r.kind == "idle"), None)
    for r in runs:
        share = 100 * r.cpu_s / r.wall_s
        over = "" if idle is None or r is idle else \
            f"{share - 100 * idle.cpu_s / idle.wall_s:+8.1f}%"
        note = "" if r.heard_1k is None else \
            f"1 kHz on headset: RMS {r.heard_1k:.0f}"
        print(f"{r.kind:<12} | {r.wall_s:>7.1f} | {r.cpu_s:>6.2f} | {share:>5.1f}% | "
              f"{over:>9} | {note}")
    print("busiest threads (% of a core):")
    for r in runs:
        print(f"  {r.kind:<12} {r.threads}")


def ratio(pair: tuple[int, int]) -> str:
    return f"{pair[0]}/{pair[1]}"


def print_frames(phases: list[Phase]) -> None:
    print()
    print("3. audio counters per 10,000 bridge frames, one call with real audio")
    cols = ("skipped", "late", "spk under", "spk over", "mic under", "mic over")
    print(f"{'phase':<12} | {'s':>5} | {'frames':>6} | " + " | ".join(f"{c:>9}" for c in cols)
          + f" | {'drift':>6} | {'CPU %':>5} | {'spk gaps':>9} | {'far gaps':>9} | load")
    print("-" * 139)
    keys = ("late_writes", "spk_underruns", "spk_overruns", "mic_underruns", "mic_overruns")
    for p in phases:
        # Frames the bridge never produced: pjmedia's clock skips ticks it is more than
        # 500 ms behind on, and nothing counts those.
        due = round(p.seconds * 50)
        per = [f"{max(0, due - p.frames):>3} ={10_000 * max(0, due - p.frames) / due:>4.0f}"]
        for key in keys:
            frames = p.mic_frames if key.startswith("mic") else p.frames
            n = p.counters[key]
            per.append(f"{n:>3} ={10_000 * n / max(frames, 1):>4.0f}")
        print(f"{p.name:<12} | {p.seconds:>5.1f} | {p.frames:>6} | " + " | ".join(
            f"{x:>9}" for x in per) + f" | {p.counters['drift_samples']:>6} | "
            f"{100 * p.cpu_s / p.seconds:>5.0f} | {ratio(p.spk_gaps):>9} | "
            f"{ratio(p.far_gaps):>9} | {p.load:.1f}")
    print("cells: count =per 10,000 frames (skipped: 20 ms ticks of the phase with no bridge "
          "frame; late: a bridge frame > 30 ms after the previous; under: a ring ran dry, "
          "silence played or sent; over: a ring was full, old audio dropped);")
    print("drift: samples left out or repeated; CPU %: this process (app + bench); gaps: "
          "10 ms blocks of the tone below 30 % of its usual level / blocks (1 kHz on the "
          "headset monitor, 440 Hz in the far agent's recording); load: the machine's "
          "1-minute load average, mean over the turns")
    for p in phases:
        print(f"SNR of the 1 kHz on the headset monitor, {p.name}, per turn: "
              f"{snr_range(p.snr_db)} (the speaker test asks for 15 dB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impulses", type=int, default=24, help="clicks each way")
    parser.add_argument("--cpu-seconds", type=float, default=20.0,
                        help="0 leaves out part 2 (CPU)")
    parser.add_argument("--pops", type=int, default=100)
    parser.add_argument("--quiet-seconds", type=float, default=15.0,
                        help="the call alone, to compare with the pops")
    parser.add_argument("--turns", type=int, default=5,
                        help="part 3 alternates alone / pops this many times")
    parser.add_argument("--keep", type=Path, help="keep the profiles and recordings here")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a constant of app/audio/path.py in parts 1 and 3 "
                        "(e.g. DEVICE_FILL_MS=20), to compare settings")
    args = parser.parse_args(argv)
    for tool in ("pulseaudio", "parec", "paplay"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (./dev setup)")
            return 1
    from tests.sound_card import SoundCard

    # pjlib writes its console to fd 1: send that to stderr, keep stdout for the tables.
    sys.stdout.flush()
    sys.stdout = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    card = SoundCard.start()  # sets PULSE_SERVER before anything loads Qt Multimedia
    assert card is not None
    began, load_before = time.monotonic(), os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="audio-bench-") as tmpdir:
            tmp = args.keep or Path(tmpdir)
            tmp.mkdir(parents=True, exist_ok=True)
            far_wav = write_wav(tmp / "far-clicks.wav", click_train(
                int(FAR_CLICK_SECONDS / CLICK_GAP) - 1, 8000, then_tone=90), 8000)
            mic_wav = write_wav(tmp / "mic.wav", click_train(args.impulses, RATE), RATE)
            mic_tone = write_wav(tmp / "440.wav", tone(440, 120, RATE), RATE)
            tone_wav = write_wav(tmp / "1k.wav", tone(1000, 60, 8000), 8000)
            runs = [cpu_run(kind, args.cpu_seconds, tmp, tone_wav)
                    for kind in ("idle", "null call", "audio call")
                    if args.cpu_seconds > 0]
            res = in_process(args, tmp, far_wav, mic_wav, mic_tone)
    finally:
        card.stop()
    if args.set:
        print("app/audio/path.py constants changed for parts 1 and 3: " + ", ".join(args.set))
    print_latency(res)
    if runs:
        print_cpu(runs)
    print_frames(res.phases)
    alone, popping = res.phases
    print()
    print("summary:")
    if res.speaker_ms and res.mic_ms:
        print(f"- the path adds {statistics.median(res.speaker_ms):.0f} ms (p90 "
              f"{pct(res.speaker_ms, 90):.0f}) far end → speaker and "
              f"{statistics.median(res.mic_ms):.0f} ms (p90 {pct(res.mic_ms, 90):.0f}) "
              "microphone → far end, on top of network, jitter buffer and codec")
    if runs:
        _idle, null, audio = runs
        per_call = 100 * (audio.cpu_s / audio.wall_s - null.cpu_s / null.wall_s)
        print(f"- real audio costs {per_call:+.1f} % of a core per call over a silent "
              f"(null-device) call")
    for p in (alone, popping):
        lost = sum(p.counters[k] for k in ("spk_underruns", "spk_overruns", "mic_underruns",
                                             "mic_overruns"))
        skipped = max(0, round(p.seconds * 50) - p.frames)
        print(f"- {p.name}: {skipped} skipped, {p.counters['late_writes']} late and {lost} "
              f"under/overrun frames in {p.frames} bridge frames; "
              f"{p.spk_gaps[0]} of {p.spk_gaps[1]} 10 ms blocks missing on the speaker, "
              f"{p.far_gaps[0]} of {p.far_gaps[1]} at the far end")
    print(f"- machine: {os.cpu_count()} cores, 1-minute load average {load_before:.1f} at "
          f"the start, {os.getloadavg()[0]:.1f} at the end (other work shares it; a load "
          f"above the core count shows up as late frames); {time.monotonic() - began:.0f} s "
          "in all", flush=True)
    # Skip interpreter teardown: PySide6 6.12.0 can trip over None's refcount there.
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
