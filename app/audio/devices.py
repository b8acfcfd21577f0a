"""The OS's sound devices as Qt Multimedia sees them, chosen by name, with hot-plug.

Choices are saved by the device's name (its description: "Jabra Evolve 40", "Built-in
Audio Analog Stereo"), never by index, which changes whenever something is plugged in;
the OS's stable id is accepted too. An empty name means "system default", which follows
the OS default as it changes. Lives on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QAudioDevice, QMediaDevices

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

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._media = QMediaDevices(self)
        self._media.audioInputsChanged.connect(self.changed)
        self._media.audioOutputsChanged.connect(self.changed)

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
