"""Sound devices: the real card when there is one, else pjsua2's null device (silent calls).

Runs on the engine thread only. Connecting a call's audio to the capture/playback ports
is done here too, so mute is simply "capture does not transmit to this call".
"""

from __future__ import annotations

import contextlib
import logging

import pjsua2 as pj

log = logging.getLogger(__name__)

NO_DEVICE_MESSAGE = ("No sound device found; calls will be silent. Connect a headset or "
                     "check the system sound settings, then restart Switchboard.")


def choose_device(ep: pj.Endpoint, null_audio: bool) -> str | None:
    """Select the sound device; return a message for the agent when we fell back to null."""
    adm = ep.audDevManager()
    if null_audio:
        adm.setNullDev()
        return None
    try:
        count = adm.getDevCount()
        has_capture = has_playback = False
        for index in range(count):
            info = adm.getDevInfo(index)
            has_capture = has_capture or info.inputCount > 0
            has_playback = has_playback or info.outputCount > 0
        if not (has_capture and has_playback):
            raise RuntimeError(f"{count} devices, none with both input and output")
        # Opening the default devices proves they work; pjsua would otherwise only
        # find out when the first call connects.
        adm.setCaptureDev(adm.getCaptureDev())
        adm.setPlaybackDev(adm.getPlaybackDev())
    except (pj.Error, RuntimeError) as exc:
        reason = exc.info() if isinstance(exc, pj.Error) else str(exc)
        log.warning("no usable sound device (%s); using the null device", reason)
        adm.setNullDev()
        return NO_DEVICE_MESSAGE
    return None


class AudioRouter:
    """Connects and disconnects call audio to the sound device ports.

    `capture_file` (a WAV file, looped) replaces the microphone: `switchboard demo` uses
    it for the simulated caller's voice, tests use a tone to see mute on the media path.
    """

    def __init__(self, ep: pj.Endpoint, capture_file: str | None = None) -> None:
        adm = ep.audDevManager()
        self._player: pj.AudioMediaPlayer | None = None
        self._capture: pj.AudioMedia = adm.getCaptureDevMedia()
        if capture_file:
            self._player = pj.AudioMediaPlayer()
            self._player.createPlayer(capture_file, 0)  # 0: loop
            self._capture = self._player
        self._playback = adm.getPlaybackDevMedia()

    def connect(self, call_audio: pj.AudioMedia, *, muted: bool) -> None:
        call_audio.startTransmit(self._playback)
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

    def close(self) -> None:
        # Drop the wrappers before libDestroy; they do not own the ports.
        del self._capture
        del self._playback
        self._player = None


__all__ = ["NO_DEVICE_MESSAGE", "AudioRouter", "choose_device"]
