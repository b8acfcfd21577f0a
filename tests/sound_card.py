"""A virtual sound card for the whole test session: PulseAudio with null sinks.

Started once from tests/conftest.py before anything loads Qt Multimedia, so the app and
every subprocess see real devices through `PULSE_SERVER`:

- outputs "Headset" (`headset`), "Laptop speakers" (`laptop`) and "USB headset" (`usb`);
  what the app plays to one is recorded from its monitor (`record`);
- input "Headset microphone" (`micsrc`): whatever a test plays into the `mic` sink
  (`play_into_mic`) is what the app's microphone hears.

A null sink is clocked by a timer whose period follows the lowest latency any client asks
for and starts at 2 s: on its own it renders in bursts no real card has. A silent 10 ms
stream held on each sink keeps them ticking like hardware (measured: without it a new
low-latency stream stalls ~2 s, then runs at real time).

Also the signal checks the audio tests share: FFT peak, SNR and dropout counting.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

RATE = 16_000
SINKS = {"headset": "Headset", "laptop": "Laptop speakers", "usb": "USB headset",
         "mic": "Virtual microphone feed"}
MIC_SOURCE, MIC_NAME = "micsrc", "Headset microphone"

needs_sound_card = pytest.mark.skipif(shutil.which("pulseaudio") is None,
                                      reason="PulseAudio is not installed (./dev setup)")


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the process that started it dies (Linux)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class SoundCard:
    """The running PulseAudio; `start()` returns None where PulseAudio is not installed."""

    def __init__(self, runtime: Path, daemon_pid: int, keepers: list[subprocess.Popen[bytes]]):
        self.runtime = runtime
        self.pid = daemon_pid
        self.keepers = keepers

    @classmethod
    def start(cls) -> SoundCard | None:
        if shutil.which("pulseaudio") is None:
            return None
        runtime = Path(tempfile.mkdtemp(prefix="sb-pulse-"))
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)}
        env.pop("PULSE_SERVER", None)
        loads = ["--load=module-native-protocol-unix"]
        # PulseAudio's module arguments take a quoted property list this way only.
        for name, desc in SINKS.items():
            loads.append(f"--load=module-null-sink sink_name={name} "
                         f"sink_properties='device.description=\"{desc}\"'")
        loads.append(f"--load=module-remap-source master=mic.monitor source_name={MIC_SOURCE} "
                     f"source_properties='device.description=\"{MIC_NAME}\"'")
        # It exits by itself a few seconds after its last client (the keepers below, which
        # die with this process) is gone, so a test run that is killed leaves nothing.
        subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=5",
                        "--system=false", "-n", "--disallow-exit", *loads],
                       env=env, check=True, capture_output=True, timeout=30)
        server = f"unix:{runtime}/pulse/native"
        os.environ["PULSE_SERVER"] = server
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("PulseAudio did not come up")
            time.sleep(0.05)
        pid = int((runtime / "pulse" / "pid").read_text().strip())
        keepers = [subprocess.Popen(["pacat", "-p", "--latency-msec=10", f"--device={sink}",
                                     f"--rate={RATE}", "--channels=1", "/dev/zero"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    preexec_fn=_die_with_parent)
                   for sink in SINKS]
        return cls(runtime, pid, keepers)

    def stop(self) -> None:
        for keeper in self.keepers:
            keeper.kill()
            keeper.wait()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 15)
        os.environ.pop("PULSE_SERVER", None)
        shutil.rmtree(self.runtime, ignore_errors=True)


# -- recording and playing ------------------------------------------------------------------

class Recording:
    """`parec` of a sink's monitor (or a source) into raw 16 kHz mono PCM."""

    def __init__(self, device: str, path: Path) -> None:
        self.path = path
        self._proc = subprocess.Popen(
            ["parec", f"--device={device}", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=10", "--raw", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = time.monotonic()

    def stop(self) -> bytes:
        self._proc.terminate()
        self._proc.wait(10)
        return self.path.read_bytes()


def record(sink: str, path: Path) -> Recording:
    return Recording(f"{sink}.monitor", path)


def play_into_mic(wav: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["paplay", "--device=mic", "--latency-msec=10", str(wav)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_tone(path: Path, freq: float, seconds: float, *, rate: int = RATE,
               level: float = 0.4) -> Path:
    import numpy as np

    t = np.arange(int(rate * seconds)) / rate
    samples = (level * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path)) as f:
        return f.readframes(f.getnframes()), f.getframerate()


# -- the signal ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signal:
    seconds: float  # of the analysed (sounding) part
    peak_hz: float
    snr_db: float  # energy within ±20 Hz of the peak against everything else
    dropouts: int  # 10 ms blocks below 30 % of the median level
    rms: float


def analyse(pcm: bytes, rate: int = RATE, *, trim: float = 0.2) -> Signal:
    """Find where the signal sounds, drop `trim` s at both ends, and measure it."""
    import numpy as np

    a = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(float)
    block = rate // 100
    if len(a) < block * 10:
        return Signal(0.0, 0.0, -99.0, 0, 0.0)
    blocks = np.sqrt((a[: len(a) // block * block].reshape(-1, block) ** 2).mean(axis=1))
    loud = np.nonzero(blocks > max(0.2 * blocks.max(), 30))[0]
    if len(loud) == 0:
        return Signal(0.0, 0.0, -99.0, 0, float(np.sqrt((a**2).mean())))
    cut = int(trim * 100)
    first, last = loud[0] + cut, loud[-1] - cut
    if last <= first:
        return Signal(0.0, 0.0, -99.0, 0, 0.0)
    seg = a[first * block:(last + 1) * block]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    peak = int(spectrum[1:].argmax()) + 1
    band = np.abs(freqs - freqs[peak]) <= 20
    snr = 10 * np.log10(spectrum[band].sum() / max(spectrum[~band].sum(), 1e-9))
    levels = blocks[first:last + 1]
    dropouts = int((levels < 0.3 * np.median(levels)).sum())
    return Signal(len(seg) / rate, float(freqs[peak]), float(snr), dropouts,
                  float(np.sqrt((seg**2).mean())))


def level_at(pcm: bytes, freq: float, rate: int = RATE) -> float:
    """RMS amplitude of `freq` (±20 Hz) in the PCM: how much of one tone is in there."""
    import numpy as np

    a = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(float)
    if len(a) < rate // 10:
        return 0.0
    spectrum = np.fft.rfft(a)
    freqs = np.fft.rfftfreq(len(a), 1 / rate)
    band = np.abs(freqs - freq) <= 20
    return float(np.sqrt(2 * (np.abs(spectrum[band]) ** 2).sum()) / len(a))


__all__ = ["MIC_NAME", "SINKS", "SoundCard", "analyse", "level_at", "needs_sound_card",
           "play_into_mic", "read_wav", "record", "write_tone"]
