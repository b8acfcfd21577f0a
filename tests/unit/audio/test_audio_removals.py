"""Unplugging a device in use: PulseAudio's removal events (app.audio.removals) reach the
controller, which checks the device it uses, falls back and says so once.

The watcher runs against the session's virtual sound card (tests/sound_card.py); the
controller's rule runs with the removal and the device's presence under the test's
control, since Qt 6.11 lists a removed PulseAudio device as if it were still there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QAudioDevice
from pytestqt.qtbot import QtBot

from app.audio.controller import AudioController
from app.audio.devices import AudioDevices
from app.audio.path import AudioPath
from app.audio.removals import RemovalWatch
from app.audio.tones import TonePlayer
from app.config import AudioSettings
from tests.sound_card import SINKS, needs_sound_card

pytestmark = needs_sound_card


class Removals(QObject):
    """RemovalWatch's face, driven by the test."""

    removed = Signal(str)

    def close(self) -> None:
        pass


class Unpluggable(AudioDevices):
    """The real device list, with `present()` answering from `unplugged`."""

    def __init__(self, removals: Removals) -> None:
        super().__init__(removals=removals)  # type: ignore[arg-type]
        self.unplugged: set[str] = set()
        self.asked: list[str] = []

    def present(self, device: QAudioDevice, direction: str) -> bool:
        self.asked.append(device.description())
        return device.description() not in self.unplugged


@pytest.fixture
def rig(qtbot: QtBot) -> Iterator[tuple[AudioController, Unpluggable, Removals, list[str]]]:
    removals = Removals()
    devices = Unpluggable(removals)
    path = AudioPath()
    settings = AudioSettings()
    settings.echo_cancellation = "off"
    controller = AudioController(settings, devices, path, TonePlayer())
    said: list[str] = []
    controller.notice.connect(said.append)
    yield controller, devices, removals, said
    path.shutdown()
    devices.close()


def test_an_unplugged_speaker_in_use_falls_back_to_the_default_and_is_announced_once(
        rig: tuple[AudioController, Unpluggable, Removals, list[str]]) -> None:
    controller, devices, removals, said = rig
    controller.choose("speaker", SINKS["usb"])
    assert controller.resolved["speaker"].device.description() == SINKS["usb"]
    devices.unplugged.add(SINKS["usb"])

    removals.removed.emit("output")
    removals.removed.emit("output")  # its monitor, or a second event for the same device

    default = controller.devices.output("").device.description()
    assert controller.resolved["speaker"].device.description() == default
    assert said == [f"Speaker \"{SINKS['usb']}\" was unplugged; using {default}."]
    assert controller.settings.speaker == SINKS["usb"]  # still the agent's choice


def test_a_removal_of_another_device_changes_nothing_and_says_nothing(
        rig: tuple[AudioController, Unpluggable, Removals, list[str]]) -> None:
    controller, devices, removals, said = rig
    controller.choose("speaker", SINKS["usb"])
    devices.unplugged.add(SINKS["laptop"])

    removals.removed.emit("output")
    removals.removed.emit("input")  # the microphone is the system default: not asked

    assert controller.resolved["speaker"].device.description() == SINKS["usb"]
    assert said == []
    assert devices.asked == [SINKS["usb"]]


def test_the_system_default_is_not_checked_pulseaudio_follows_it_itself(
        rig: tuple[AudioController, Unpluggable, Removals, list[str]]) -> None:
    controller, devices, removals, said = rig
    controller.apply()
    removals.removed.emit("output")
    assert devices.asked == [] and said == []


def test_pulseaudio_reports_a_removed_sink(qtbot: QtBot) -> None:
    watch = RemovalWatch()
    try:
        assert watch.watching
        heard: list[str] = []
        watch.removed.connect(heard.append)
        module = subprocess.run(["pactl", "load-module", "module-null-sink",
                                 "sink_name=removal_probe"],
                                capture_output=True, text=True, check=True).stdout.strip()
        qtbot.wait(100)
        assert heard == []  # an added device is Qt's to report
        subprocess.run(["pactl", "unload-module", module], check=True)
        qtbot.waitUntil(lambda: "output" in heard, timeout=5000)
    finally:
        watch.close()
    watch.close()  # twice is harmless
