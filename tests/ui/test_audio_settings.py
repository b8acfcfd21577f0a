"""The audio settings page on the virtual sound card (tests/sound_card.py), through the real
AudioController, AudioDevices, AudioPath and TonePlayer, wired by app/wiring/audio.py.

Everything is done as the agent would: keys and clicks on the page. The results are read
where they land: the settings, config.toml in a temporary profile, and the sound itself,
recorded from the sinks' monitors and checked by its spectrum.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QWidget
from pytestqt.qtbot import QtBot

from app import config
from app.audio.controller import AudioController
from app.audio.devices import AudioDevices
from app.audio.path import AudioPath
from app.audio.tones import TonePlayer
from app.core.phone import CallControl, PhoneSession
from app.core.tones import Tone
from app.i18n import install_translator, remove_translators
from app.paths import Profile
from app.ui.audio_settings import AudioSettingsDialog, AudioSettingsPage
from app.ui.main_window import MainWindow
from app.wiring.audio import AudioWiring
from tests.sound_card import (
    MIC_NAME,
    SINKS,
    analyse,
    level_at,
    needs_sound_card,
    play_into_mic,
    record,
    write_tone,
)

pytestmark = [needs_sound_card,
              # Opening the dialog raises it; the offscreen platform cannot, and says so.
              pytest.mark.qt_log_ignore("This plugin does not support raise")]

WAIT_MS = 15_000
HEADSET, LAPTOP, USB = SINKS["headset"], SINKS["laptop"], SINKS["usb"]


class NoCalls:
    """The engine's command side; these tests make no calls."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the audio page must not touch the engine ({name})")


@dataclass
class Audio:
    settings: config.Settings
    profile: Profile
    controller: AudioController
    wiring: AudioWiring
    window: MainWindow

    @property
    def page(self) -> AudioSettingsPage:
        return self.wiring.page

    def saved(self) -> config.AudioSettings:
        settings, problems = config.load(self.profile.config_path)
        assert problems == []
        return settings.audio


MicFeed = Callable[[Path], subprocess.Popen[bytes]]
Make = Callable[..., Audio]


@pytest.fixture
def make_audio(qtbot: QtBot, tmp_path: Path) -> Iterator[Make]:
    made: list[Audio] = []

    def make(**audio: object) -> Audio:
        profile = Profile.at(tmp_path / "profile").ensure()
        settings = config.Settings()
        settings.audio.echo_cancellation = "off"  # PULSE_PROP would outlive this test
        for key, value in audio.items():
            setattr(settings.audio, key, value)
        config.save(settings, profile.config_path)

        def save() -> None:  # as the composition root does (app/compose/)
            config.save_section(settings, "audio", profile.config_path)

        controller = AudioController(settings.audio, AudioDevices(), AudioPath(),
                                     TonePlayer(), save=save)
        window = MainWindow()
        qtbot.addWidget(window)
        session = PhoneSession(cast(CallControl, NoCalls()), None, settings)
        dialog = AudioSettingsDialog(AudioSettingsPage(), window)
        wiring = AudioWiring(controller, session, window, dialog)
        wiring.start()
        made.append(Audio(settings, profile, controller, wiring, window))
        window.audio_button.click()  # "Audio…" in the status bar
        qtbot.waitExposed(dialog)
        return made[-1]

    yield make
    for audio in made:
        audio.wiring.dialog.close()
        audio.wiring.stop()
        # Qt's device list outlives the test: a device a later test plugs in must not
        # reach this test's deleted page.
        audio.controller.devices.changed.disconnect()


@pytest.fixture
def mic_feed() -> Iterator[MicFeed]:
    """Plays a WAV file into the virtual microphone."""
    feeds: list[subprocess.Popen[bytes]] = []

    def feed(wav: Path) -> subprocess.Popen[bytes]:
        feeds.append(play_into_mic(wav))
        return feeds[-1]

    yield feed
    for proc in feeds:
        proc.kill()
        proc.wait()


def items(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def wheel(widget: QComboBox, clicks: int) -> None:
    """Turn the mouse wheel over `widget` (negative: towards the agent, down the list)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * clicks), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def focus(qtbot: QtBot, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=WAIT_MS)


# -- the device lists ------------------------------------------------------------------------

def test_each_list_offers_the_system_default_first_naming_what_it_is_then_every_device(
        make_audio: Make) -> None:
    audio = make_audio()
    combos = audio.page.combos
    assert items(combos["microphone"]) == [f"System default ({MIC_NAME})", MIC_NAME]
    outputs = [HEADSET, LAPTOP, USB, SINKS["mic"]]
    # Qt 6.11 keeps a PulseAudio sink in its list after it is removed (an earlier test
    # in this process may have unplugged one), so only what was never removed is exact.
    for kind in ("speaker", "ringer"):
        shown = items(combos[kind])
        assert shown[0] == f"System default ({HEADSET})"
        assert shown[1:5] == outputs
        assert combos[kind].currentIndex() == 0  # nothing chosen: the system default


def test_the_saved_devices_are_selected(make_audio: Make) -> None:
    audio = make_audio(speaker=USB, ringer=LAPTOP, microphone=MIC_NAME)
    combos = audio.page.combos
    assert combos["speaker"].currentText() == USB
    assert combos["ringer"].currentText() == LAPTOP
    assert combos["microphone"].currentText() == MIC_NAME


def test_a_saved_device_that_is_not_plugged_in_shows_as_not_connected_and_the_default_plays(
        make_audio: Make) -> None:
    audio = make_audio(speaker="Jabra Evolve 40")
    combo = audio.page.combos["speaker"]
    assert items(combo)[-1] == "Jabra Evolve 40 (not connected)"
    assert combo.currentText() == "Jabra Evolve 40 (not connected)"
    assert audio.controller.resolved["speaker"].device.description() == HEADSET
    problem = audio.window.problem_label.text()
    assert "Jabra Evolve 40" in problem and HEADSET in problem
    # It stays the agent's choice until the agent picks another.
    assert audio.saved().speaker == "Jabra Evolve 40"


# -- choosing ----------------------------------------------------------------------------------

def test_choosing_a_device_uses_it_at_once_and_saves_it_by_name(
        make_audio: Make, qtbot: QtBot) -> None:
    audio = make_audio(ringer_volume=0.7)
    combo = audio.page.combos["ringer"]
    focus(qtbot, combo)
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # System default → Headset
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # → Laptop speakers
    assert combo.currentText() == LAPTOP
    assert audio.controller.settings.ringer == LAPTOP
    assert audio.controller.resolved["ringer"].device.description() == LAPTOP
    saved = audio.profile.config_path.read_text(encoding="utf-8")
    assert f'ringer = "{LAPTOP}"' in saved.split("[audio]")[1]
    assert audio.saved().ringer == LAPTOP and audio.saved().ringer_volume == 0.7
    assert audio.saved().speaker == ""  # the other choices are left as they were

    qtbot.keyClick(combo, Qt.Key.Key_Home)  # back to the system default
    assert audio.saved().ringer == ""
    assert audio.controller.resolved["ringer"].device.description() == HEADSET


def test_the_wheel_over_a_device_list_without_focus_scrolls_past_it(
        make_audio: Make, qtbot: QtBot) -> None:
    audio = make_audio()
    combo = audio.page.combos["speaker"]
    focus(qtbot, audio.page.keypad)  # the agent scrolls the page, not the list
    wheel(combo, -1)
    wheel(combo, -1)
    assert combo.currentIndex() == 0
    assert audio.controller.settings.speaker == ""
    assert audio.saved().speaker == ""
    focus(qtbot, combo)  # once the agent has clicked into it, the wheel chooses
    wheel(combo, -1)
    assert combo.currentText() == HEADSET
    assert audio.saved().speaker == HEADSET


def test_volume_sliders_show_the_saved_volumes_and_save_what_the_agent_sets(
        make_audio: Make, qtbot: QtBot) -> None:
    audio = make_audio(microphone_volume=0.8, speaker_volume=0.5, ringer_volume=0.25)
    sliders = audio.page.sliders
    assert {k: s.value() for k, s in sliders.items()} == \
        {"microphone": 80, "speaker": 50, "ringer": 25}
    focus(qtbot, sliders["speaker"])
    qtbot.keyClick(sliders["speaker"], Qt.Key.Key_PageDown)  # one page: 10 %
    assert sliders["speaker"].value() == 40
    assert audio.controller.settings.speaker_volume == pytest.approx(0.4)
    assert audio.saved().speaker_volume == pytest.approx(0.4)
    focus(qtbot, sliders["ringer"])
    qtbot.keyClick(sliders["ringer"], Qt.Key.Key_End)
    assert audio.saved().ringer_volume == 1.0
    assert audio.saved().microphone_volume == pytest.approx(0.8)


def test_the_keypad_tones_box_shows_and_saves_the_agents_choice(
        make_audio: Make, qtbot: QtBot) -> None:
    audio = make_audio(keypad_tones=True)
    box = audio.page.keypad
    assert box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert audio.controller.settings.keypad_tones is False
    assert audio.saved().keypad_tones is False
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert audio.saved().keypad_tones is True


# -- the device tests --------------------------------------------------------------------------

def test_test_ringer_rings_on_the_ringer_device_only_and_stops_by_itself(
        make_audio: Make, qtbot: QtBot, tmp_path: Path) -> None:
    audio = make_audio(speaker=HEADSET, ringer=LAPTOP)
    ringer = record("laptop", tmp_path / "ringer.raw")
    headset = record("headset", tmp_path / "headset.raw")
    qtbot.mouseClick(audio.page.tests["ringer"], Qt.MouseButton.LeftButton)
    assert audio.controller.tones.playing is Tone.RING
    qtbot.waitUntil(lambda: audio.controller.tones.playing is None, timeout=WAIT_MS)
    rang, elsewhere = ringer.stop(), headset.stop()

    assert level_at(rang, 660) > 500 and level_at(rang, 880) > 500
    assert level_at(elsewhere, 660) < level_at(rang, 660) / 100


def test_test_microphone_records_the_chosen_microphone_and_plays_it_back_on_the_speaker(
        make_audio: Make, qtbot: QtBot, tmp_path: Path, mic_feed: MicFeed) -> None:
    audio = make_audio(microphone=MIC_NAME, speaker=USB)
    page = audio.page
    button = page.tests["microphone"]
    states: list[str] = []
    audio.controller.mic_test_state.connect(states.append)
    mic_feed(write_tone(tmp_path / "a440.wav", 440, 4.0))
    while_recording = record("usb", tmp_path / "while_recording.raw")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "Recording" in page.mic_test_label.text() and not button.isEnabled()
    with qtbot.waitSignal(audio.controller.mic_test_state, timeout=WAIT_MS):
        pass  # "playing"
    quiet = while_recording.stop()
    assert "Playing back" in page.mic_test_label.text()
    played = record("usb", tmp_path / "played.raw")
    qtbot.waitUntil(lambda: states[-1:] == ["done"], timeout=WAIT_MS)
    heard = analyse(played.stop())

    assert states == ["recording", "playing", "done"]
    assert abs(heard.peak_hz - 440) <= 5 and heard.seconds >= 2, heard
    assert level_at(quiet, 440) < heard.rms / 100  # played back after, not passed through
    assert page.mic_test_label.text() == "" and button.isEnabled()


def test_the_level_meter_rises_while_the_microphone_hears_a_tone(
        make_audio: Make, qtbot: QtBot, tmp_path: Path, mic_feed: MicFeed) -> None:
    audio = make_audio(microphone=MIC_NAME)
    meter = audio.page.meter
    audio.controller.path.open()  # as for a call: the meter shows the call's microphone
    qtbot.wait(500)
    assert meter.value() <= 2
    mic_feed(write_tone(tmp_path / "a440.wav", 440, 3.0, level=0.5))
    qtbot.waitUntil(lambda: meter.value() >= 30, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: meter.value() <= 2, timeout=WAIT_MS)  # the tone ended
    audio.controller.path.close()


def test_the_page_speaks_finnish(make_audio: Make, qapp: QApplication) -> None:
    assert install_translator(qapp, "fi") == "fi"
    try:
        audio = make_audio(speaker="Jabra Evolve 40")
    finally:
        remove_translators(qapp)
    page = audio.page
    assert audio.wiring.dialog.windowTitle() == "Ääniasetukset"
    assert page.tests["microphone"].text() == "Testaa mikrofoni"
    assert items(page.combos["ringer"])[0] == f"Järjestelmän oletus ({HEADSET})"
    assert items(page.combos["speaker"])[-1] == "Jabra Evolve 40 (ei kytkettynä)"
    assert audio.window.audio_button.text() == "Ääni…"
    assert 'Kaiutin "Jabra Evolve 40" ei ole kytkettynä' in audio.window.problem_label.text()
