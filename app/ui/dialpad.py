"""Dial pad: a number field (typing and pasting any human-written number), 12 keys, Call,
and the one chooser of the number shown on outbound calls ("Show as").

It only emits `dial_requested(text)` with what the agent typed; whether that is a number
is the session's decision, and its message comes back through `show_error`. The chooser
shows the choices app.core.display_number makes and emits the agent's pick as
`caller_id_selected(value)`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.display_number import DisplayChoice
from app.core.numbers import display
from app.ui.widgets import NoWheelComboBox

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
MAX_TEXT = 256  # enough for a SIP URI; the session refuses anything odd


class DialPad(QWidget):
    """Number entry and the Call button; shows the session's reason when a number is bad."""

    dial_requested = Signal(str)
    caller_id_selected = Signal(str)  # a DisplayChoice value: "", "hidden" or a number

    def __init__(self, parent: QWidget | None = None, region: str = "FI") -> None:
        super().__init__(parent)
        self.setObjectName("dialpad")
        self.region = region

        self.number_edit = QLineEdit(self)
        self.number_edit.setObjectName("dial_input")
        self.number_edit.setPlaceholderText(self.tr("Number or SIP address"))
        self.number_edit.setAccessibleName(self.tr("Number to call"))
        self.number_edit.setMaxLength(MAX_TEXT)
        self.number_edit.setClearButtonEnabled(True)
        self.number_edit.returnPressed.connect(self._request_dial)
        self.number_edit.textEdited.connect(self.clear_error)

        self.call_button = QPushButton(self.tr("Call"), self)
        self.call_button.setObjectName("call_button")
        self.call_button.setProperty("role", "answer")
        self.call_button.setToolTip(self.tr("Call this number (Enter)"))
        self.call_button.clicked.connect(self._request_dial)

        # The twelve keys fold away so a ringing call and the recent calls fit a small
        # screen; typing and pasting need no keys.
        self.keypad_toggle = QToolButton(self)
        self.keypad_toggle.setObjectName("keypad_toggle")
        self.keypad_toggle.setText(self.tr("Keypad"))
        self.keypad_toggle.setCheckable(True)
        self.keypad_toggle.setToolTip(self.tr("Show or hide the number keys"))

        entry = QHBoxLayout()
        entry.setSpacing(6)
        entry.addWidget(self.number_edit, 1)
        entry.addWidget(self.keypad_toggle)
        entry.addWidget(self.call_button)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("dial_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # the message quotes input
        self.error_label.hide()

        self.caller_id_box = NoWheelComboBox(self)
        self.caller_id_box.setObjectName("caller_id_box")
        self.caller_id_box.setAccessibleName(self.tr("Number shown to the callee"))
        # Only the agent's own pick counts (`activated`), never a refill of the list.
        self.caller_id_box.activated.connect(self._caller_id_changed)
        self.caller_id_label = QLabel(self.tr("Show as"), self)
        self.caller_id_label.setBuddy(self.caller_id_box)
        caller_row = QHBoxLayout()
        caller_row.addWidget(self.caller_id_label)
        caller_row.addWidget(self.caller_id_box, 1)

        self.keypad_area = QWidget(self)
        grid = QGridLayout(self.keypad_area)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        self.keys: dict[str, QPushButton] = {}
        for i, key in enumerate(KEYS):
            button = QPushButton(key, self)
            button.setObjectName(f"key_{key}")
            button.setProperty("role", "key")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the field
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, k=key: self._press(k))
            grid.addWidget(button, i // 3, i % 3)
            self.keys[key] = button

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(entry)
        layout.addWidget(self.error_label)
        layout.addLayout(caller_row)
        layout.addWidget(self.keypad_area)
        self.keypad_area.hide()
        self.keypad_toggle.toggled.connect(self.keypad_area.setVisible)

    # -- state in --------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.number_edit.setProperty("invalid", True)
        self._repolish()

    @Slot()
    def clear_error(self) -> None:
        if self.error_label.isHidden():
            return
        self.error_label.clear()
        self.error_label.hide()
        self.number_edit.setProperty("invalid", False)
        self._repolish()

    def set_number(self, text: str) -> None:
        self.number_edit.setText(text)
        self.clear_error()

    def clear(self) -> None:
        self.number_edit.clear()
        self.clear_error()

    def focus_input(self) -> None:
        self.number_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.number_edit.selectAll()

    def set_display_numbers(self, choices: list[DisplayChoice], current: str) -> None:
        """The numbers the callee may be shown; `current` the value in force."""
        box = self.caller_id_box
        box.blockSignals(True)
        box.clear()
        for choice in choices:
            box.addItem(self._label(choice), choice.value)
        box.setCurrentIndex(max(0, box.findData(current)))
        box.blockSignals(False)

    def _label(self, choice: DisplayChoice) -> str:
        number = display(choice.value, self.region) if choice.value.startswith("+") \
            else choice.value
        if choice.kind == "work":
            return self.tr("Work number (%1)").replace("%1", number)
        if choice.kind == "queue":
            return f"{choice.name} ({number})"
        if choice.kind == "default":
            return self.tr("Phone system's default")
        if choice.kind == "hidden":
            return self.tr("Don't show number")
        return number

    # -- intents out -----------------------------------------------------------------

    @Slot()
    def _request_dial(self) -> None:
        self.dial_requested.emit(self.number_edit.text())

    def _press(self, key: str) -> None:
        self.number_edit.insert(key)
        self.clear_error()
        self.number_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(int)
    def _caller_id_changed(self, index: int) -> None:
        if index >= 0:
            self.caller_id_selected.emit(str(self.caller_id_box.itemData(index) or ""))

    def _repolish(self) -> None:
        style = self.number_edit.style()
        style.unpolish(self.number_edit)
        style.polish(self.number_edit)
