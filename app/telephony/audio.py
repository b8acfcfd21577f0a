"""The audio path on pjsua2's side: one AudioMediaPort on the conference bridge.

The `pjsua2-python` wheel is built without sound devices (`PJMEDIA_HAS_SOUND 0`), so the
bridge runs on the null device, which only gives it a clock. Sound goes through
`BridgePort`, an `AudioMediaPort` (mono, 16-bit, 20 ms frames at the bridge's clock rate):
every call transmits to it, so `onFrameReceived` gets the far ends' mixed audio, and it
transmits to every call, so `onFrameRequested` gives them the microphone. Both callbacks
run on a pjmedia thread: they only copy bytes into or out of the two rings given in (see
`AudioPipe`) and return; the OS side (app/audio/) plays and captures them.

Without a pipe (`phone.audio = "null"`, or no sound system) calls connect to the null
device and are silent, as before.

Everything else here runs on the engine thread. Mute is "the microphone does not transmit
to this call".
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys
import threading
from typing import Protocol

import pjsua2 as pj

log = logging.getLogger(__name__)

FRAME_MS = 20


class FrameRing(Protocol):
    """What a ring of app/audio offers: bytes in, bytes out, from any thread."""

    def write(self, data: bytes) -> None: ...

    def read(self, size: int) -> bytes: ...


class AudioPipe(Protocol):
    """The two rings between the bridge and the OS sound system, and their clock rate."""

    rate: int
    playback: FrameRing  # far end → speaker
    capture: FrameRing  # microphone → far end

    def bridge_thread(self, tid: int) -> None:
        """Called once from the bridge's clock thread (`tid`, the OS's id for it), on the
        first frame: the audio side may raise its scheduling."""


def choose_device(ep: pj.Endpoint) -> None:
    """The wheel has no sound devices: the null device drives the bridge's clock."""
    ep.audDevManager().setNullDev()


def _vector_reader() -> object:
    """The fastest correct way to copy a pjsua2 ByteVector into bytes.

    SWIG copies a `std::vector<unsigned char>` element by element (~0.35 ms per 20 ms
    frame here, 2 % of a core for one direction). The vector's first field is its data
    pointer in libstdc++, libc++ and MSVC alike, so ctypes can copy it in one go; this is
    checked once against the slow path and used only when they agree.
    """

    def slow(vec: pj.ByteVector) -> bytes:
        return bytes(bytearray(vec))

    def fast(vec: pj.ByteVector) -> bytes:
        size = vec.size()
        if not size:
            return b""
        start = ctypes.c_void_p.from_address(int(vec.this)).value
        return ctypes.string_at(start, size) if start else slow(vec)

    try:
        probe = pj.ByteVector(bytes(range(256)) * 3)
        if fast(probe) == slow(probe) and fast(pj.ByteVector()) == b"":
            return fast
    except Exception:  # any surprise in the layout: stay on the slow, safe path
        log.info("ByteVector fast copy unavailable on %s", sys.platform)
    return slow


class BridgePort(pj.AudioMediaPort):
    """The conference-bridge end of the audio path; see the module docstring."""

    def __init__(self, pipe: AudioPipe) -> None:
        super().__init__()
        self._pipe = pipe
        self._playback = pipe.playback
        self._capture = pipe.capture
        self._frame_bytes = pipe.rate * FRAME_MS // 1000 * 2
        self._copy = _vector_reader()
        self._silence = bytes(self._frame_bytes)
        self.received = 0  # frames from the bridge
        self.requested = 0  # frames given to the bridge
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.clockRate = pipe.rate
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = FRAME_MS * 1000
        self.createPort("switchboard-sound", fmt)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        # pjmedia thread: copy and return. Never raise into the bridge.
        try:
            self.received += 1
            if self.received == 1:
                self._pipe.bridge_thread(threading.get_native_id())
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                self._playback.write(self._copy(frame.buf))  # type: ignore[operator]
            else:
                self._playback.write(self._silence)
        except Exception:  # pragma: no cover - a bug here must not kill the bridge
            pass

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        try:
            self.requested += 1
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(self._capture.read(self._frame_bytes))
            frame.size = self._frame_bytes
        except Exception:  # pragma: no cover
            pass


class AudioRouter:
    """Connects and disconnects call audio to the microphone and the speaker.

    With a pipe both are the `BridgePort`; without one, the null device (silence).
    `capture_file` (a WAV file, looped) replaces the microphone: `switchboard demo` uses
    it for the simulated caller's voice, tests use it to play a tone. `record_file` (WAV)
    receives what every call hears from its far end; its header is complete once the
    engine stops (pjmedia writes it when the recorder is destroyed).
    """

    def __init__(self, ep: pj.Endpoint, pipe: AudioPipe | None = None,
                 capture_file: str | None = None, record_file: str | None = None) -> None:
        adm = ep.audDevManager()
        self._pipe = pipe
        self._player: pj.AudioMediaPlayer | None = None
        # The port exists only while a call does: the bridge calls into Python 50 times
        # a second for it even when nothing is connected.
        self.port: BridgePort | None = None
        self._null_capture: pj.AudioMedia = adm.getCaptureDevMedia()
        self._null_playback: pj.AudioMedia = adm.getPlaybackDevMedia()
        if capture_file:
            self._player = pj.AudioMediaPlayer()
            self._player.createPlayer(capture_file, 0)  # 0: loop
        self._recorder: pj.AudioMediaRecorder | None = None
        if record_file:
            self._recorder = pj.AudioMediaRecorder()
            self._recorder.createRecorder(record_file)

    @property
    def _capture(self) -> pj.AudioMedia:
        return self._player or self.port or self._null_capture

    @property
    def microphone(self) -> pj.AudioMedia:
        """What calls hear from us: the capture file, the sound port, or the null device
        (a call recording takes the agent's side from here)."""
        return self._capture

    @property
    def _playback(self) -> pj.AudioMedia:
        return self.port or self._null_playback

    def connect(self, call_audio: pj.AudioMedia, *, muted: bool) -> None:
        if self._pipe is not None and self.port is None:
            self.port = BridgePort(self._pipe)
        call_audio.startTransmit(self._playback)
        if self._recorder is not None:
            call_audio.startTransmit(self._recorder)
        if muted:
            self.mute(call_audio)
        else:
            self._capture.startTransmit(call_audio)

    def mute(self, call_audio: pj.AudioMedia) -> None:
        # Not connected (media not up yet) raises: then there is nothing to stop.
        with contextlib.suppress(pj.Error):
            self._capture.stopTransmit(call_audio)

    def unmute(self, call_audio: pj.AudioMedia) -> None:
        self._capture.startTransmit(call_audio)

    def idle(self) -> None:
        """No call is left: take the port off the bridge (destroyed with its wrapper)."""
        self.port = None

    def close(self) -> None:
        # Drop the wrappers before libDestroy; they do not own the null device's port.
        del self._null_capture
        del self._null_playback
        self._player = None
        self._recorder = None
        self.port = None


__all__ = ["AudioPipe", "AudioRouter", "BridgePort", "FrameRing", "choose_device"]
