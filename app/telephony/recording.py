"""Recording one call to a stereo WAV: a bridge port per side, both on the bridge's clock.

Why not two AudioMediaRecorders merged afterwards: a pjmedia WAV recorder writes nothing
while nothing transmits to it, so a pause (or a stretch of hold) would shift one side
against the other, and the merge would have to guess where. Instead each side has its
own `SidePort` (an AudioMediaPort) that the conference bridge calls once per 20 ms tick
whether or not anything transmits to it: the far end's audio goes to the left port, the
agent's microphone (and the announcement) to the right one, and a paused, muted or held
side is written as silence of exactly the length it lasted. The callbacks only copy into
a deque (they run on pjmedia's clock thread); the engine thread interleaves the two
sides into the WAV twice a second, so the file is valid (its header patched by `wave`)
while the call goes on, and complete the moment the recording stops.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import wave
from array import array
from pathlib import Path

import pjsua2 as pj

from app.core.calls import RecordingChanged, RecordingState
from app.telephony.audio import FRAME_MS, _vector_reader

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5


class SidePort(pj.AudioMediaPort):
    """One side of the recording: every bridge tick adds one 20 ms frame to `chunks`."""

    def __init__(self, name: str, rate: int) -> None:
        super().__init__()
        self.frame_bytes = rate * FRAME_MS // 1000 * 2
        self._silence = bytes(self.frame_bytes)
        self._copy = _vector_reader()
        self.silent = False  # paused (or, on our side, muted or held): write silence
        self.chunks: collections.deque[bytes] = collections.deque()
        self.frames = 0
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.clockRate = rate
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = FRAME_MS * 1000
        self.createPort(name, fmt)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        # pjmedia's clock thread: copy and return, never raise into the bridge.
        try:
            data = self._silence
            if not self.silent and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                data = self._copy(frame.buf)  # type: ignore[operator]
                if len(data) != self.frame_bytes:
                    data = (data + self._silence)[:self.frame_bytes]
            self.chunks.append(data)
            self.frames += 1
        except Exception:  # pragma: no cover - a bug here must not kill the bridge
            pass


def interleave(left: bytes, right: bytes) -> bytes:
    """Two mono 16-bit sample runs of equal length → one stereo run (L R L R …)."""
    samples_l, samples_r = array("h"), array("h")
    samples_l.frombytes(left)
    samples_r.frombytes(right)
    out = array("h", bytes(4 * len(samples_l)))
    out[0::2] = samples_l
    out[1::2] = samples_r
    return out.tobytes()


class CallRecording:
    """The recording of one call; every method runs on the engine thread."""

    def __init__(self, handle: int, path: str, rate: int) -> None:
        self.handle = handle
        self.path = path
        self.rate = rate
        self.paused = False
        self.near_active = True  # the agent's side is heard (not muted, not held)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._wav: wave.Wave_write | None = wave.open(path, "wb")  # noqa: SIM115
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self.far = SidePort(f"rec-far-{handle}", rate)
        self.near = SidePort(f"rec-near-{handle}", rate)
        self._announcement: pj.AudioMediaPlayer | None = None
        self._sources: list[tuple[pj.AudioMedia, pj.AudioMedia]] = []

    @property
    def position(self) -> float:
        """Seconds of the call the file holds (written or about to be)."""
        return self.far.frames * FRAME_MS / 1000

    @property
    def open(self) -> bool:
        return self._wav is not None

    def event(self, state: RecordingState, error: str = "") -> RecordingChanged:
        return RecordingChanged(self.handle, state, self.path, round(self.position, 3),
                                error)

    # -- connections ----------------------------------------------------------------

    def _connect(self, source: pj.AudioMedia, sink: pj.AudioMedia) -> None:
        source.startTransmit(sink)
        self._sources.append((source, sink))

    def attach(self, call_audio: pj.AudioMedia, microphone: pj.AudioMedia,
               announcement: str | None) -> None:
        """Far end → left, microphone → right; the announcement to the far end and right."""
        self._connect(call_audio, self.far)
        self._connect(microphone, self.near)
        if announcement:
            try:
                player = pj.AudioMediaPlayer()
                player.createPlayer(announcement, pj.PJMEDIA_FILE_NO_LOOP)
                player.startTransmit(call_audio)
                player.startTransmit(self.near)
                self._announcement = player
            except pj.Error as exc:  # a broken WAV must not stop the recording
                log.warning("recording announcement %s not played: %s", announcement,
                            exc.reason)

    def reattach(self, call_audio: pj.AudioMedia) -> None:
        """The call's media came back (after hold, a re-INVITE): keep the far end."""
        with contextlib.suppress(pj.Error):
            call_audio.startTransmit(self.far)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._silence()

    def set_near_active(self, active: bool) -> None:
        self.near_active = active
        self._silence()

    def _silence(self) -> None:
        self.far.silent = self.paused
        self.near.silent = self.paused or not self.near_active

    # -- the file -------------------------------------------------------------------

    def flush(self, *, final: bool = False) -> None:
        """Write what both sides have in common (all of it, padded, when `final`)."""
        wav = self._wav
        if wav is None:
            return
        far, near = self.far.chunks, self.near.chunks
        count = max(len(far), len(near)) if final else min(len(far), len(near))
        if not count:
            return
        silence = bytes(self.far.frame_bytes)
        left = b"".join(far.popleft() if far else silence for _ in range(count))
        right = b"".join(near.popleft() if near else silence for _ in range(count))
        wav.writeframes(interleave(left, right))

    def close(self) -> None:
        """Stop listening, write the rest, close the file. Safe to call twice."""
        for source, sink in self._sources:
            with contextlib.suppress(pj.Error):
                source.stopTransmit(sink)
        self._sources.clear()
        self._announcement = None
        try:
            self.flush(final=True)
        finally:
            wav, self._wav = self._wav, None
            if wav is not None:
                wav.close()


__all__ = ["FLUSH_SECONDS", "CallRecording", "SidePort", "interleave"]
