"""The audio settings page: devices, volumes, a live microphone meter and device tests.

A view only: it shows the names and values it is given and emits what the agent asked
for; the audio controller decides and does. The meter polls a level function (0.0-1.0)
while the page is visible.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets import NoWheelComboBox

KINDS = ("microphone", "speaker", "ringer")


class AudioSettingsPage(QWidget):
    """See the module docstring."""

    device_chosen = Signal(str, str)  # kind, device name ("" = system default)
    volume_changed = Signal(str, float)  # kind, 0.0-1.0
    test_requested = Signal(str)  # kind
    keypad_tones_changed = Signal(bool)
    echo_cancellation_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audio_settings")
        self._level: Callable[[], float] = lambda: 0.0
        self.combos: dict[str, QComboBox] = {}
        self.sliders: dict[str, QSlider] = {}
        self.tests: dict[str, QPushButton] = {}
        labels = {"microphone": self.tr("Microphone"), "speaker": self.tr("Speaker"),
                  "ringer": self.tr("Ringer")}
        tests = {"microphone": self.tr("Test microphone"), "speaker": self.tr("Test speaker"),
                 "ringer": self.tr("Test ringer")}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for kind in KINDS:
            combo = NoWheelComboBox(self)
            combo.setObjectName(f"{kind}_device")
            combo.setMinimumContentsLength(24)
            combo.activated.connect(lambda _i, k=kind: self._chosen(k))
            slider = QSlider(Qt.Orientation.Horizontal, self)
            slider.setObjectName(f"{kind}_volume")
            slider.setRange(0, 100)
            slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            slider.valueChanged.connect(
                lambda v, k=kind: self.volume_changed.emit(k, v / 100.0))
            test = QPushButton(tests[kind], self)
            test.setObjectName(f"test_{kind}")
            test.clicked.connect(lambda _c=False, k=kind: self.test_requested.emit(k))
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(test)
            self.combos[kind], self.sliders[kind], self.tests[kind] = combo, slider, test
            form.addRow(labels[kind], combo)
            form.addRow(self.tr("Volume"), row)
            if kind == "microphone":
                self.meter = QProgressBar(self)
                self.meter.setObjectName("mic_meter")
                self.meter.setRange(0, 100)
                self.meter.setTextVisible(False)
                self.meter.setMaximumHeight(10)
                form.addRow(self.tr("Level"), self.meter)
                self.mic_test_label = QLabel("", self)
                self.mic_test_label.setObjectName("mic_test_state")
                form.addRow("", self.mic_test_label)
        self.keypad = QCheckBox(self.tr("Play a tone for each key pressed in a call"), self)
        self.keypad.setObjectName("keypad_tones")
        self.keypad.toggled.connect(self.keypad_tones_changed)
        form.addRow("", self.keypad)
        self.echo = QCheckBox(self.tr("Cancel echo from laptop speakers (after a restart)"),
                              self)
        self.echo.setObjectName("echo_cancellation")
        self.echo.setToolTip(self.tr("Uses the sound system's own echo canceller. A "
                                     "headset needs none."))
        self.echo.toggled.connect(self.echo_cancellation_changed)
        form.addRow("", self.echo)
        width = max(b.sizeHint().width() for b in self.tests.values())
        for button in self.tests.values():
            button.setMinimumWidth(width)  # the sliders line up
        self.note = QLabel("", self)
        self.note.setObjectName("audio_note")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(lambda: self.meter.setValue(int(self._level() * 100)))

    # -- state in ------------------------------------------------------------------------

    def set_devices(self, inputs: list[str], outputs: list[str], chosen: dict[str, str],
                    using: dict[str, str]) -> None:
        """Names to offer; `chosen` the saved names, `using` what each kind really uses."""
        for kind in KINDS:
            combo = self.combos[kind]
            names = inputs if kind == "microphone" else outputs
            combo.blockSignals(True)
            combo.clear()
            default = self.tr("System default")
            if using.get(kind):
                default += f" ({using[kind]})"
            combo.addItem(default, "")
            for name in dict.fromkeys(names):
                combo.addItem(name, name)
            saved = chosen.get(kind, "")
            if saved and saved not in names:
                combo.addItem(self.tr("%s (not connected)") % saved, saved)
            combo.setCurrentIndex(max(0, combo.findData(saved)))
            combo.blockSignals(False)

    def set_volumes(self, volumes: dict[str, float]) -> None:
        for kind, value in volumes.items():
            slider = self.sliders[kind]
            slider.blockSignals(True)
            slider.setValue(round(value * 100))
            slider.blockSignals(False)

    def set_keypad_tones(self, on: bool) -> None:
        self.keypad.blockSignals(True)
        self.keypad.setChecked(on)
        self.keypad.blockSignals(False)

    def set_echo_cancellation(self, on: bool) -> None:
        self.echo.blockSignals(True)
        self.echo.setChecked(on)
        self.echo.blockSignals(False)

    def set_level_source(self, level: Callable[[], float]) -> None:
        self._level = level

    def set_note(self, text: str) -> None:
        self.note.setText(text)

    def show_mic_test(self, state: str) -> None:
        texts = {"recording": self.tr("Recording… speak now (3 s)"),
                 "playing": self.tr("Playing back what was recorded…"), "done": ""}
        self.mic_test_label.setText(texts.get(state, ""))
        self.tests["microphone"].setEnabled(state == "done")

    # -- Qt --------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._timer.stop()
        self.meter.setValue(0)
        super().hideEvent(event)

    def _chosen(self, kind: str) -> None:
        self.device_chosen.emit(kind, str(self.combos[kind].currentData() or ""))


class AudioSettingsDialog(QDialog):
    """The page in a window of its own (the settings dialog will hold it as a tab)."""

    def __init__(self, page: AudioSettingsPage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audio_settings_dialog")
        self.setWindowTitle(self.tr("Audio settings"))
        self.page = page
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(page)
        layout.addWidget(buttons)


__all__ = ["AudioSettingsDialog", "AudioSettingsPage", "NoWheelComboBox"]
