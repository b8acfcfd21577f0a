"""Dial pad: a number field (typing and pasting any human-written number), 12 keys, Call.

It only emits `dial_requested(text)` with what the agent typed; whether that is a number
is the session's decision, and its message comes back through `show_error`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
MAX_TEXT = 256  # enough for a SIP URI; the session refuses anything odd


class DialPad(QWidget):
    """Number entry and the Call button; shows the session's reason when a number is bad."""

    dial_requested = Signal(str)
    caller_id_selected = Signal(str)  # "" means the phone system's default

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dialpad")

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

        entry = QHBoxLayout()
        entry.setSpacing(6)
        entry.addWidget(self.number_edit, 1)
        entry.addWidget(self.call_button)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("dial_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # the message quotes input
        self.error_label.hide()

        self.caller_id_box = QComboBox(self)
        self.caller_id_box.setObjectName("caller_id_box")
        self.caller_id_box.setAccessibleName(self.tr("Number shown to the callee"))
        self.caller_id_box.currentIndexChanged.connect(self._caller_id_changed)
        self.caller_id_label = QLabel(self.tr("Show as"), self)
        self.caller_id_label.setBuddy(self.caller_id_box)
        caller_row = QHBoxLayout()
        caller_row.addWidget(self.caller_id_label)
        caller_row.addWidget(self.caller_id_box, 1)
        self.caller_id_label.hide()
        self.caller_id_box.hide()

        grid = QGridLayout()
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
        layout.addLayout(grid)

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

    def set_caller_ids(self, numbers: list[str], current: str | None) -> None:
        """Offer these numbers to show on outbound calls (hidden when there are none)."""
        self.caller_id_box.blockSignals(True)
        self.caller_id_box.clear()
        for number in numbers:
            self.caller_id_box.addItem(number, number)
        if current in numbers:
            self.caller_id_box.setCurrentIndex(numbers.index(current))
        self.caller_id_box.blockSignals(False)
        visible = bool(numbers)
        self.caller_id_box.setVisible(visible)
        self.caller_id_label.setVisible(visible)

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
            self.caller_id_selected.emit(str(self.caller_id_box.itemData(index)))

    def _repolish(self) -> None:
        style = self.number_edit.style()
        style.unpolish(self.number_edit)
        style.polish(self.number_edit)
