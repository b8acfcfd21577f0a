"""Generate the call-progress sounds in app/resources/sounds/ (run once; output committed).

Every sound is synthesised here from sine waves, so it is ours to ship under the
project's licence. Tones follow ETSI ES 201 970 (425 Hz ringback, busy and congestion);
the keypad uses the DTMF pairs of ITU-T Q.23.
    python scripts/make_sounds.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
OUT = Path(__file__).resolve().parents[1] / "app" / "resources" / "sounds"

DTMF = {"1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
        "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
        "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
        "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633)}
FILE_NAMES = {"*": "star", "#": "hash"}


def tone(freqs: tuple[float, ...], seconds: float, level: float = 0.35) -> list[float]:
    n = int(RATE * seconds)
    fade = min(int(RATE * 0.005), n // 2)  # 5 ms ramps: no clicks at the edges
    out = []
    for i in range(n):
        v = sum(math.sin(2 * math.pi * f * i / RATE) for f in freqs) / len(freqs)
        ramp = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
        out.append(level * v * ramp)
    return out


def silence(seconds: float) -> list[float]:
    return [0.0] * int(RATE * seconds)


def write(name: str, samples: list[float]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / f"{name}.wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32767))
                               for s in samples))


def main() -> None:
    ring = tone((660, 880), 0.4) + silence(0.2) + tone((660, 880), 0.4) + silence(1.5)
    write("ring", ring)
    write("ringback", tone((425,), 1.0, 0.25) + silence(4.0))
    write("busy", (tone((425,), 0.5, 0.25) + silence(0.5)) * 3)
    write("failed", (tone((425,), 0.25, 0.25) + silence(0.25)) * 4)
    write("waiting", tone((425,), 0.2, 0.2) + silence(0.2) + tone((425,), 0.2, 0.2)
          + silence(3.0))
    # The demo's simulated customer "talks" in a little tune, so a new user hears the far
    # end of a call (pjmedia plays it at 8-16 kHz; keep it in the telephone band).
    notes = (523, 659, 784, 659, 587, 698, 880, 698)
    tune: list[float] = []
    for f in notes:
        tune += tone((f,), 0.25, 0.25) + silence(0.05)
    write("demo-caller", tune + silence(1.0))
    for key, pair in DTMF.items():
        write(f"dtmf-{FILE_NAMES.get(key, key.lower())}", tone(pair, 0.12, 0.2))
    # Played to the far end when a recording starts (recording.announcement = "beep"):
    # the 1400 Hz of the recorder warning tone long used on US lines (47 CFR 64.501),
    # three short beeps so it is not mistaken for call waiting (425 Hz).
    write("recording-beep", (tone((1400,), 0.18, 0.3) + silence(0.12)) * 3)


if __name__ == "__main__":
    main()
