"""Plays the call-progress sounds of app/resources/sounds/ on the right device.

The ringtone goes to the ringer device (the laptop's speakers while the agent talks on a
headset); ringback, busy, failure, the call-waiting beep and keypad feedback go to the
speaker device the call uses. Which sound fits the calls is decided in app.core.tones;
this only plays what it is told. GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtMultimedia import QAudioDevice, QSoundEffect

from app.core.tones import Tone

log = logging.getLogger(__name__)

SOUNDS = Path(__file__).resolve().parents[1] / "resources" / "sounds"
_LOOPED = {Tone.RING, Tone.WAITING, Tone.RINGBACK}
_KEY_FILES = {"*": "star", "#": "hash"}


def sound_path(name: str) -> Path:
    return SOUNDS / f"{name}.wav"


class TonePlayer(QObject):
    """One sound at a time in the headset, the ringtone on the ringer, key clicks on top."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._effects: dict[str, QSoundEffect] = {}
        self._ringer = QAudioDevice()
        self._speaker = QAudioDevice()
        self._ringer_volume = 1.0
        self._speaker_volume = 1.0
        self.playing: Tone | None = None  # the looping tone now, for the UI and tests
        for tone in Tone:  # load now: the first ring must not wait for a file
            self._effect(tone.value)

    def _effect(self, name: str) -> QSoundEffect:
        effect = self._effects.get(name)
        if effect is None:
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(sound_path(name))))
            self._effects[name] = effect
        return effect

    def set_devices(self, ringer: QAudioDevice, speaker: QAudioDevice) -> None:
        self._ringer, self._speaker = ringer, speaker
        for name, effect in self._effects.items():
            was_playing = effect.isPlaying()
            effect.stop()
            effect.setAudioDevice(ringer if name == Tone.RING.value else speaker)
            if was_playing:
                effect.play()

    def set_volumes(self, ringer: float, speaker: float) -> None:
        self._ringer_volume, self._speaker_volume = ringer, speaker
        for name, effect in self._effects.items():
            effect.setVolume(ringer if name == Tone.RING.value else speaker)

    def play(self, tone: Tone | None) -> None:
        """Loop `tone` (RING, WAITING, RINGBACK) or play it once (BUSY, FAILED); None stops."""
        if tone is self.playing and tone in _LOOPED:
            return
        self.stop()
        if tone is None:
            return
        effect = self._effect(tone.value)
        ring = tone is Tone.RING
        effect.setAudioDevice(self._ringer if ring else self._speaker)
        effect.setVolume(self._ringer_volume if ring else self._speaker_volume)
        effect.setLoopCount(QSoundEffect.Loop.Infinite.value if tone in _LOOPED else 1)
        effect.play()
        self.playing = tone if tone in _LOOPED else None

    def stop(self) -> None:
        for tone in Tone:
            effect = self._effects.get(tone.value)
            if effect is not None:
                # Also when not playing yet: a play() asked for while the file was still
                # loading would otherwise start after this stop.
                effect.stop()
        self.playing = None

    def key(self, digit: str) -> None:
        """Keypad feedback for one digit (0-9, *, #, A-D) in the headset."""
        name = f"dtmf-{_KEY_FILES.get(digit, digit.lower())}"
        if not sound_path(name).exists():
            return
        effect = self._effect(name)
        effect.setAudioDevice(self._speaker)
        effect.setVolume(self._speaker_volume)
        effect.setLoopCount(1)
        effect.play()


__all__ = ["SOUNDS", "TonePlayer", "sound_path"]
