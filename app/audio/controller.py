"""The agent's audio choices made real: devices for the call path and the tones, volumes,
hot-plug, and the device tests of the audio settings page. GUI thread.

A saved device that is not plugged in falls back to the system default and says so once;
when it comes back, calls move back to it. With no microphone or speaker at all the app
still runs and calls still connect: the agent is told once, in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QObject,
    QTimer,
    Signal,
)
from PySide6.QtMultimedia import QAudioSink, QAudioSource

from app.audio.devices import AudioDevices, Resolved, device_name
from app.audio.path import AudioPath, pcm_format, peak_level
from app.audio.tones import TonePlayer
from app.config import AudioSettings
from app.core.tones import Tone
from app.logs import call_event

log = logging.getLogger(__name__)

KINDS = ("microphone", "speaker", "ringer")
MIC_TEST_MS = 3000


def _tr(text: str) -> str:
    return QCoreApplication.translate("AudioController", text)


class AudioController(QObject):
    """See the module docstring. `save` persists the settings after the agent changed them."""

    notice = Signal(str)  # a sentence for the agent (fallbacks, missing devices)
    devices_changed = Signal()  # the lists or the chosen devices changed
    mic_test_state = Signal(str)  # "recording", "playing", "done"

    def __init__(self, settings: AudioSettings, devices: AudioDevices, path: AudioPath,
                 tones: TonePlayer, *, save: Callable[[], None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.devices = devices
        self.path = path
        self.tones = tones
        self._save = save
        self._missing: set[str] = set()  # names already reported missing
        self._gone: dict[str, str] = {}  # kind → name of a device that stopped working
        self._said_no_sound = False
        self._test_source: QAudioSource | None = None
        self._test_sink: QAudioSink | None = None
        self._test_buffer: QBuffer | None = None
        self._test_level = 0.0
        self.resolved: dict[str, Resolved] = {}
        devices.changed.connect(self._plugged)
        devices.removed.connect(self._removed)
        path.failed.connect(self._device_failed)

    # -- devices ------------------------------------------------------------------------

    def _plugged(self) -> None:
        self._gone.clear()  # something came (back): try the agent's choices again
        self.apply()

    def _removed(self, direction: str) -> None:
        """Something was unplugged: if it was a device in use, fall back and say so once.
        (PulseAudio has already moved our stream to its default; Qt still lists the
        device, so whether it is still there is asked of the sound system.)"""
        kinds = ("speaker", "ringer") if direction == "output" else ("microphone",)
        unplugged = []
        for kind in kinds:
            name, resolved = str(getattr(self.settings, kind)), self.resolved.get(kind)
            if not name or resolved is None or resolved.missing or \
                    self._gone.get(kind) == name:
                continue  # the system default, or already not in use
            if not self.devices.present(resolved.device, direction):
                unplugged.append((kind, name))
        if not unplugged:
            return
        for kind, name in unplugged:
            log.warning("%s %r was unplugged", kind, name)
            self._gone[kind] = name
            self._missing.add(name)  # said here, not again as "not connected" by apply
        # PulseAudio has moved the call to its default, the device this falls back to.
        self.apply(moved_by_system=True)
        labels = self._labels()
        for kind, name in unplugged:
            now = self.resolved[kind].device
            fallback = device_name(now) if not now.isNull() else _tr("none")
            self.notice.emit(_tr("%1 \"%2\" was unplugged; using %3.")
                             .replace("%1", labels[kind]).replace("%2", name)
                             .replace("%3", fallback))

    @staticmethod
    def _labels() -> dict[str, str]:
        return {"microphone": _tr("Microphone"), "speaker": _tr("Speaker"),
                "ringer": _tr("Ringer")}

    def _device_failed(self, kind: str, error: str) -> None:
        resolved = self.resolved.get(kind)
        name = device_name(resolved.device) if resolved and not resolved.device.isNull() \
            else ""
        log.warning("%s %r failed (%s)", kind, name, error)
        if name:
            self._gone[kind] = name
        self.apply()

    def _choice(self, kind: str) -> str:
        """The agent's choice; while that device has gone away, one that matches nothing
        (so the system default is used and the agent is told)."""
        name = str(getattr(self.settings, kind))
        return "\0gone" if name and self._gone.get(kind) == name else name

    def apply(self, *, moved_by_system: bool = False) -> None:
        """Resolve the three choices against what is plugged in and use the result.
        `moved_by_system`: the sound system already moved the call's stream to the
        speaker this resolves to (so it is not restarted, which would leave a gap)."""
        self.resolved = {"microphone": self.devices.input(self._choice("microphone")),
                         "speaker": self.devices.output(self._choice("speaker")),
                         "ringer": self.devices.output(self._choice("ringer"))}
        s = self.settings
        for kind in KINDS:
            self._report(kind, getattr(s, kind), self.resolved[kind])
        mic, speaker = self.resolved["microphone"].device, self.resolved["speaker"].device
        self.path.set_devices(speaker, mic, reopen_output=not moved_by_system)
        self.path.set_volumes(s.speaker_volume, s.microphone_volume)
        self.tones.set_devices(self.resolved["ringer"].device, speaker)
        self.tones.set_volumes(s.ringer_volume, s.speaker_volume)
        call_event("audio_devices", **{k: device_name(r.device) if not r.device.isNull()
                                          else None for k, r in self.resolved.items()})
        if not self.devices.have_sound():
            if not self._said_no_sound:
                self._said_no_sound = True
                call_event("audio_devices_missing")
                self.notice.emit(_tr(
                    "No microphone or speaker found. Calls still connect, but you will not "
                    "hear the caller. Plug in a headset; Switchboard picks it up at once."))
        else:
            self._said_no_sound = False
        self.devices_changed.emit()

    def _persist(self) -> None:
        try:
            self._save()
        except OSError as exc:  # config.ConfigSaveError says what to do
            log.warning("audio settings not saved: %s", exc)
            self.notice.emit(_tr("Your audio choice works now but was not saved: %s") % exc)

    def _report(self, kind: str, name: str, resolved: Resolved) -> None:
        if not resolved.missing:
            if name in self._missing:
                self._missing.discard(name)
                log.info("%s %r is back", kind, name)
            return
        if name in self._missing:
            return
        self._missing.add(name)
        fallback = device_name(resolved.device) if not resolved.device.isNull() else ""
        log.warning("%s %r is not connected; using %r", kind, name, fallback)
        labels = self._labels()
        self.notice.emit(_tr("%1 \"%2\" is not connected; using the system default "
                             "(%3) until it is back.").replace("%1", labels[kind])
                         .replace("%2", name).replace("%3", fallback or _tr("none")))

    def choose(self, kind: str, name: str) -> None:
        """The agent picked a device ("" = system default); takes effect mid-call."""
        if kind not in KINDS:
            raise ValueError(f"unknown device kind {kind!r}")
        setattr(self.settings, kind, name)
        self._missing.discard(name)
        self.apply()
        self._persist()

    def set_volume(self, kind: str, value: float) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown device kind {kind!r}")
        setattr(self.settings, f"{kind}_volume", max(0.0, min(1.0, value)))
        s = self.settings
        self.path.set_volumes(s.speaker_volume, s.microphone_volume)
        self.tones.set_volumes(s.ringer_volume, s.speaker_volume)
        self._persist()

    def set_keypad_tones(self, on: bool) -> None:
        self.settings.keypad_tones = on
        self._persist()

    def set_echo_cancellation(self, on: bool) -> None:
        """Saved for the next start: the sound system reads the request when we connect."""
        self.settings.echo_cancellation = "system" if on else "off"
        self._persist()

    def log_counters(self, call_id: str) -> None:
        """What the audio path went through so far: in the log for support staff."""
        c = self.path.counters
        call_event("audio_stats", call_id=call_id,
                   speaker_underruns=c.playback.underruns,
                   speaker_overruns=c.playback.overruns,
                   late_frames=c.playback.late_writes,
                   missed_frames=c.playback.missed_frames,
                   mic_underruns=c.capture.underruns, mic_overruns=c.capture.overruns,
                   drift_samples=c.playback.dropped_samples + c.playback.inserted_samples,
                   bridge_scheduling=self.path.scheduling["bridge"],
                   audio_io_scheduling=self.path.scheduling["audio-io"])

    @property
    def mic_level(self) -> float:
        """0.0-1.0 while a call or the microphone test captures, else 0."""
        if self._test_source is not None:
            return self._test_level
        return self.path.mic_level if self.path.active else 0.0

    # -- tests on the settings page -----------------------------------------------------

    def test_speaker(self) -> None:
        self.tones.play(Tone.BUSY)

    def test_ringer(self) -> None:
        self.tones.play(Tone.RING)
        QTimer.singleShot(2500, self._end_ringer_test)

    def _end_ringer_test(self) -> None:
        if self.tones.playing is Tone.RING:
            self.tones.play(None)

    def test_microphone(self) -> None:
        """Record MIC_TEST_MS from the chosen microphone, then play it on the speaker."""
        if self._test_source is not None or self._test_sink is not None:
            return
        mic = self.resolved.get("microphone") or self.devices.input(self.settings.microphone)
        if mic.device.isNull():
            self.notice.emit(_tr("No microphone to test."))
            return
        self._test_level = 0.0
        self._test_buffer = QBuffer(self)
        self._test_buffer.open(QIODevice.OpenModeFlag.ReadWrite)
        source = QAudioSource(mic.device, pcm_format(), self)
        source.setVolume(self.settings.microphone_volume)
        self._test_source = source
        io = source.start()
        io.readyRead.connect(lambda: self._test_chunk(io))
        self.mic_test_state.emit("recording")
        QTimer.singleShot(MIC_TEST_MS, self._play_test)

    def _test_chunk(self, io: QIODevice) -> None:
        data = bytes(io.readAll().data())
        if self._test_buffer is not None and data:
            self._test_buffer.write(QByteArray(data))
            self._test_level = peak_level(data)

    def _play_test(self) -> None:
        source, buffer = self._test_source, self._test_buffer
        if source is None or buffer is None:
            return
        source.stop()
        source.deleteLater()
        self._test_source = None
        buffer.seek(0)
        speaker = self.resolved.get("speaker") or self.devices.output(self.settings.speaker)
        sink = QAudioSink(speaker.device, pcm_format(), self)
        sink.setVolume(self.settings.speaker_volume)
        self._test_sink = sink
        sink.start(buffer)
        self.mic_test_state.emit("playing")
        QTimer.singleShot(MIC_TEST_MS + 500, self._end_test)

    def _end_test(self) -> None:
        if self._test_sink is not None:
            self._test_sink.stop()
            self._test_sink.deleteLater()
        self._test_sink = None
        if self._test_buffer is not None:
            self._test_buffer.close()
            self._test_buffer.deleteLater()
        self._test_buffer = None
        self.mic_test_state.emit("done")


__all__ = ["KINDS", "AudioController"]
