"""The OS's sound devices as Qt Multimedia sees them, chosen by name, with hot-plug.

Choices are saved by the device's name (its description: "Jabra Evolve 40", "Built-in
Audio Analog Stereo"), never by index, which changes whenever something is plugged in;
the OS's stable id is accepted too. An empty name means "system default", which follows
the OS default as it changes. Lives on the GUI thread.

Qt 6.11 never reports a PulseAudio device that goes away (it stays listed), so removals
come from PulseAudio itself (app.audio.removals) as `removed`, and `present()` asks the
sound system whether a device can still be opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QAudioDevice, QAudioSink, QAudioSource, QMediaDevices

from app.audio.path import pcm_format
from app.audio.removals import RemovalWatch

SYSTEM_DEFAULT = ""


@dataclass(frozen=True)
class Resolved:
    """The device to use for a saved choice; `missing` when the choice is not plugged in."""

    device: QAudioDevice  # null (isNull()) when the machine has no device of that kind
    missing: bool


def device_name(device: QAudioDevice) -> str:
    return device.description() or bytes(device.id().data()).decode(errors="replace")


def _resolve(devices: list[QAudioDevice], default: QAudioDevice, name: str) -> Resolved:
    if name == SYSTEM_DEFAULT:
        return Resolved(default, missing=False)
    for device in devices:
        if device.description() == name:
            return Resolved(device, missing=False)
    for device in devices:
        if bytes(device.id().data()).decode(errors="replace") == name:
            return Resolved(device, missing=False)
    return Resolved(default, missing=True)


class AudioDevices(QObject):
    """Lists inputs and outputs, resolves saved names, and says when the list changes."""

    changed = Signal()  # something was plugged in or out, or the OS default moved
    removed = Signal(str)  # an "output" or "input" went away (it may still be listed)

    def __init__(self, parent: QObject | None = None, *,
                 removals: RemovalWatch | None = None) -> None:
        super().__init__(parent)
        self._media = QMediaDevices(self)
        self._media.audioInputsChanged.connect(self.changed)
        self._media.audioOutputsChanged.connect(self.changed)
        self._removals = removals if removals is not None else RemovalWatch(self)
        self._removals.removed.connect(self.removed)

    def present(self, device: QAudioDevice, direction: str) -> bool:
        """The sound system can still open `device` ("output" or "input"). Opens and
        closes a stream: called only when something was removed."""
        if device.isNull():
            return False
        stream = QAudioSink(device, pcm_format()) if direction == "output" else \
            QAudioSource(device, pcm_format())
        try:
            return stream.start() is not None
        finally:
            stream.stop()
            stream.deleteLater()

    def close(self) -> None:
        """Stop watching for changes and removals (the app is shutting down): its
        windows may be gone while this object still lives."""
        self._media.blockSignals(True)
        self._removals.close()

    def outputs(self) -> list[QAudioDevice]:
        return list(QMediaDevices.audioOutputs())

    def inputs(self) -> list[QAudioDevice]:
        return list(QMediaDevices.audioInputs())

    def output(self, name: str) -> Resolved:
        return _resolve(self.outputs(), QMediaDevices.defaultAudioOutput(), name)

    def input(self, name: str) -> Resolved:
        return _resolve(self.inputs(), QMediaDevices.defaultAudioInput(), name)

    def have_sound(self) -> bool:
        """A call can carry sound: there is at least one output and one input."""
        return bool(self.outputs()) and bool(self.inputs())


__all__ = ["SYSTEM_DEFAULT", "AudioDevices", "Resolved", "device_name"]
