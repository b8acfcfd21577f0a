"""Connects the phone session, the main window and the audio settings page to the audio
controller, the call path and the tone player. Builds nothing and decides nothing: which
sound fits is app.core.tones, which device is the controller's business.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject

from app.audio.controller import KINDS, AudioController
from app.audio.devices import device_name
from app.core.calls import Call, CallRecord
from app.core.phone import PhoneSession
from app.core.tones import needs_audio, tone_after, tone_for
from app.ui.audio_settings import AudioSettingsDialog, AudioSettingsPage
from app.ui.main_window import MainWindow


class AudioDialog(Protocol):
    """Where the page is shown: its own AudioSettingsDialog, or the settings dialog's tab."""

    @property
    def page(self) -> object: ...

    def show(self) -> None: ...

    def raise_(self) -> None: ...

    def activateWindow(self) -> None: ...


class AudioWiring(QObject):
    def __init__(self, controller: AudioController, session: PhoneSession, window: MainWindow,
                 dialog: AudioDialog | AudioSettingsDialog,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.window = window
        self.dialog = dialog
        page = dialog.page
        assert isinstance(page, AudioSettingsPage), "audio wiring needs the audio page"
        self.page = page
        session.subscribe(on_call_updated=self._call_updated, on_call_ended=self._call_ended)
        window.dtmf_requested.connect(self._key)
        window.audio_settings_requested.connect(self._show_settings)
        controller.notice.connect(window.show_problem)
        controller.devices_changed.connect(self._show_devices)
        controller.mic_test_state.connect(page.show_mic_test)
        page.device_chosen.connect(controller.choose)
        page.volume_changed.connect(controller.set_volume)
        page.keypad_tones_changed.connect(controller.set_keypad_tones)
        page.echo_cancellation_changed.connect(controller.set_echo_cancellation)
        page.test_requested.connect(self._test)
        page.set_level_source(lambda: controller.mic_level)

    def start(self) -> None:
        self.controller.apply()
        s = self.controller.settings
        self.page.set_volumes({k: getattr(s, f"{k}_volume") for k in KINDS})
        self.page.set_keypad_tones(s.keypad_tones)
        self.page.set_echo_cancellation(s.echo_cancellation == "system")

    def stop(self) -> None:
        self.controller.tones.stop()
        self.controller.path.shutdown()
        self.controller.devices.close()

    def _call_updated(self, _call: Call) -> None:
        calls = self.session.calls
        self.controller.tones.play(tone_for(calls))
        if needs_audio(calls):
            self.controller.path.open()
        else:
            self.controller.path.close()

    def _call_ended(self, record: CallRecord) -> None:
        self.controller.log_counters(record.call_id)
        if not any(not c.ended for c in self.session.calls):
            self.controller.path.close()
        # Also with the customer held: a colleague who is busy is heard as busy.
        tone = tone_after(record)
        if tone is not None and self.controller.tones.playing is None:
            self.controller.tones.play(tone)

    def _key(self, _handle: int, digits: str) -> None:
        if self.controller.settings.keypad_tones and digits:
            self.controller.tones.key(digits[-1])

    def _test(self, kind: str) -> None:
        {"microphone": self.controller.test_microphone,
         "speaker": self.controller.test_speaker,
         "ringer": self.controller.test_ringer}[kind]()

    def _show_devices(self) -> None:
        c, s = self.controller, self.controller.settings
        self.page.set_devices(
            [device_name(d) for d in c.devices.inputs()],
            [device_name(d) for d in c.devices.outputs()],
            {k: getattr(s, k) for k in KINDS},
            {k: device_name(r.device) for k, r in c.resolved.items() if not r.device.isNull()})

    def _show_settings(self) -> None:
        self._show_devices()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()


__all__ = ["AudioWiring"]
