"""Call recording with real audio: the engine under test records a call with a far pjsua2
agent to a stereo WAV, and the file is checked by FFT.

The far agent plays 1 kHz (its --capture-file), our engine plays 440 Hz (its
capture_file, the microphone's stand-in), so each side of the call has its own tone:
the far end must be on the left channel only, the agent on the right only. A pause must
be exact digital silence on both channels for as long as it lasted, with the timeline
kept, and the announcement must reach the far end.
"""

from __future__ import annotations

import random
import wave
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.calls import (
    CallState,
    CallStateChanged,
    OutgoingCallStarted,
    RecordingChanged,
    RecordingState,
)
from app.core.recording import BUILTIN_ANNOUNCEMENT
from tests.integration.conftest import Agent, EngineUnderTest, until
from tests.sound_card import analyse, level_at, write_tone

pytestmark = pytest.mark.sip

RATE = 8000  # the engine's bridge without a sound path
RTP_BASE = 24_000 + random.randrange(0, 500) * 20  # away from other tests' streams
SOUNDS = Path(__file__).resolve().parents[2] / "app" / "resources" / "sounds"


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rec-tones")
    # Long files: pjmedia's player leaves a 20 ms gap each time it loops.
    return {"far": write_tone(folder / "1k.wav", 1000, 30, rate=RATE),
            "ours": write_tone(folder / "440.wav", 440, 30, rate=RATE)}


def frames_in(path: Path) -> int:
    """How many frames the WAV holds now (its header is patched as it is written)."""
    try:
        with wave.open(str(path)) as f:
            return f.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


def channels(path: Path) -> tuple[bytes, bytes, int]:
    with wave.open(str(path)) as f:
        assert (f.getnchannels(), f.getsampwidth()) == (2, 2)
        rate, raw = f.getframerate(), f.readframes(f.getnframes())
    samples = array("h")
    samples.frombytes(raw)
    return samples[0::2].tobytes(), samples[1::2].tobytes(), rate


def cut(pcm: bytes, rate: int, start: float, end: float) -> bytes:
    return pcm[int(start * rate) * 2:int(end * rate) * 2]


def zero_runs(pcm: bytes, min_samples: int) -> list[tuple[int, int]]:
    """(start, length) of each run of exact zeros of at least `min_samples` samples."""
    samples = array("h")
    samples.frombytes(pcm)
    runs, start = [], None
    for i, value in enumerate(samples):
        if value == 0 and start is None:
            start = i
        elif value != 0 and start is not None:
            if i - start >= min_samples:
                runs.append((start, i - start))
            start = None
    if start is not None and len(samples) - start >= min_samples:
        runs.append((start, len(samples) - start))
    return runs


def connected_call(make_engine: Callable[..., EngineUnderTest],
                   agent: Callable[..., Agent], tones: dict[str, Path],
                   *far_args: str) -> tuple[EngineUnderTest, Agent, int]:
    far = agent("--auto-answer", "--capture-file", str(tones["far"]), "--rtp-port",
                str(RTP_BASE + 10), *far_args)
    ours = make_engine(capture_file=str(tones["ours"]), rtp_port=RTP_BASE,
                       rtp_port_range=8, codecs=["PCMA"])
    handle = ours.engine.dial(far.ready["local_uri"])
    ours.events.wait(OutgoingCallStarted, handle=handle)
    ours.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)
    return ours, far, handle


def test_each_side_on_its_own_channel_and_a_pause_is_silence_of_its_length(
        make_engine: Callable[..., EngineUnderTest], agent: Callable[..., Agent],
        tones: dict[str, Path], tmp_path: Path) -> None:
    ours, _far, h = connected_call(make_engine, agent, tones)
    engine, events = ours.engine, ours.events
    path = tmp_path / "recordings" / "call.wav"
    engine.start_recording(h, str(path), None)
    started = events.wait(RecordingChanged, handle=h, state=RecordingState.RECORDING)
    assert started.path == str(path) and started.position < 0.5
    until(lambda: frames_in(path), lambda n: n >= 3 * RATE)

    engine.pause_recording(h, True)
    paused = events.wait(RecordingChanged, handle=h, state=RecordingState.PAUSED)
    until(lambda: frames_in(path), lambda n: n >= (paused.position + 2.0) * RATE)
    engine.pause_recording(h, False)
    resumed = events.wait(RecordingChanged, handle=h, state=RecordingState.RECORDING,
                          where=lambda e: e.position > paused.position)
    until(lambda: frames_in(path), lambda n: n >= (resumed.position + 2.0) * RATE)
    engine.stop_recording(h)
    stopped = events.wait(RecordingChanged, handle=h, state=RecordingState.STOPPED)
    assert stopped.position >= resumed.position + 2.0

    left, right, rate = channels(path)
    assert rate == RATE
    assert len(left) // 2 == pytest.approx(stopped.position * RATE, abs=2 * 160)
    before = (0.5, paused.position - 0.3)
    after = (resumed.position + 0.3, stopped.position - 0.3)
    for span in (before, after):
        far_part, our_part = cut(left, rate, *span), cut(right, rate, *span)
        far_sig, our_sig = analyse(far_part, rate, trim=0), analyse(our_part, rate, trim=0)
        assert far_sig.peak_hz == pytest.approx(1000, abs=15), span
        assert our_sig.peak_hz == pytest.approx(440, abs=15), span
        # Each tone on its own channel: the other one's is far below (40 dB or more).
        assert level_at(far_part, 440, rate) < level_at(far_part, 1000, rate) / 100
        assert level_at(our_part, 1000, rate) < level_at(our_part, 440, rate) / 100

    # The pause: exact zeros on both channels, starting and ending where the events
    # said (±1 frame of 20 ms), so the length of the silence is the length of the pause.
    paused_for = resumed.position - paused.position
    assert paused_for >= 2.0
    for pcm in (left, right):
        runs = zero_runs(pcm, min_samples=int(0.5 * rate))
        assert len(runs) == 1, runs
        start, length = runs[0]
        assert start / rate == pytest.approx(paused.position, abs=0.021)
        assert length / rate == pytest.approx(paused_for, abs=0.041)


def test_the_announcement_is_played_to_the_far_end_and_recorded_on_our_side(
        make_engine: Callable[..., EngineUnderTest], agent: Callable[..., Agent],
        tones: dict[str, Path], tmp_path: Path) -> None:
    heard = tmp_path / "far-heard.wav"
    ours, far, h = connected_call(make_engine, agent, tones, "--record-file", str(heard))
    beep = SOUNDS / BUILTIN_ANNOUNCEMENT
    path = tmp_path / "call.wav"
    ours.engine.start_recording(h, str(path), str(beep))
    ours.events.wait(RecordingChanged, handle=h, state=RecordingState.RECORDING)
    until(lambda: frames_in(path), lambda n: n >= 2 * RATE)
    ours.engine.stop_recording(h)
    ours.events.wait(RecordingChanged, handle=h, state=RecordingState.STOPPED)
    far.send("quit")  # the far agent's recorder completes its file when it stops
    far.wait("Stopped", timeout=15)
    far.proc.wait(15)

    _left, right, rate = channels(path)
    first, later = cut(right, rate, 0.0, 1.2), cut(right, rate, 1.4, 2.0)
    assert level_at(first, 1400, rate) > 20 * level_at(later, 1400, rate) + 1
    with wave.open(str(heard)) as f:
        far_rate, far_pcm = f.getframerate(), f.readframes(f.getnframes())
    assert level_at(far_pcm, 1400, far_rate) > 100  # the customer heard the beeps
