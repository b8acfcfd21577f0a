"""The parts of a call card beyond answer and hang up: transfer, recording, call quality.

Each widget shows what it is given and emits what the agent asks for; CallCard
(app/ui/call_panel.py) places them and turns their requests into its own intents.
`QualityBadge` shows the latest MOS estimate with the raw figures on hover; the grade
and its limits are app.core.quality's.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.calls import Call, CallState, RecordingState, TransferState
from app.core.quality import QualityReport, grade
from app.ui.widgets import NoWheelComboBox


def button(parent: QWidget, text: str, name: str, role: str, *,
           checkable: bool = False) -> QPushButton:
    widget = QPushButton(text, parent)
    widget.setObjectName(name)
    widget.setProperty("role", role)
    widget.setCheckable(checkable)
    return widget


class TransferBox(QWidget):
    """Where to transfer to: a number or SIP address typed in, or a colleague or queue
    picked from the list. Blind mode says "Transfer", consult mode "Call"."""

    submitted = Signal(str, bool)  # target, consult (False: blind transfer)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transfer_box")
        self.consult = False
        self.heading = QLabel(self)
        self.heading.setObjectName("transfer_heading")
        self.target_box = NoWheelComboBox(self)
        self.target_box.setObjectName("transfer_target")
        self.target_box.setEditable(True)
        self.target_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        edit = self.target_box.lineEdit()
        assert edit is not None  # an editable combo box always has one
        edit.setPlaceholderText(self.tr("Number, SIP address, colleague or queue"))
        edit.returnPressed.connect(self._submit)
        self.go_button = button(self, "", "transfer_go", "answer")
        self.go_button.clicked.connect(self._submit)
        self.close_button = button(self, self.tr("Close"), "transfer_close", "plain")
        self.close_button.clicked.connect(self.closed)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("transfer_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.target_box, 1)
        row.addWidget(self.go_button)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        self.set_mode(consult=False)

    def set_targets(self, targets: list[tuple[str, str]]) -> None:
        """(name, number or SIP address) of colleagues and queues, in the order given."""
        text = self.target_box.currentText()
        self.target_box.clear()
        for name, target in targets:
            self.target_box.addItem(f"{name} — {target}" if name else target, target)
        self.target_box.setCurrentIndex(-1)
        self.target_box.setEditText(text)

    def set_mode(self, *, consult: bool) -> None:
        self.consult = consult
        self.heading.setText(self.tr("Talk to the colleague first, then hand the call over:")
                             if consult else self.tr("Transfer the caller straight to:"))
        self.go_button.setText(self.tr("Call") if consult else self.tr("Transfer"))
        self.error_label.hide()

    def target(self) -> str:
        """What was picked (the item's number or address) or typed."""
        index = self.target_box.currentIndex()
        text = self.target_box.currentText().strip()
        if index >= 0 and text == self.target_box.itemText(index):
            return str(self.target_box.itemData(index))
        return text

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def reset(self) -> None:
        self.target_box.setCurrentIndex(-1)
        self.target_box.setEditText("")
        self.error_label.hide()

    @Slot()
    def _submit(self) -> None:
        target = self.target()
        if not target:
            self.show_error(self.tr("Type a number or pick a colleague."))
            return
        self.error_label.hide()
        self.submitted.emit(target, self.consult)


def _tr(text: str) -> str:
    return QCoreApplication.translate("CallCard", text)


def transfer_text(call: Call) -> tuple[str, str]:
    """(line for the card, kind for its style) about a transfer of `call`, or ("", "")."""
    target = call.transfer_target
    if call.replaced_by is not None:
        return _tr("Taken over by the colleague's call"), "good"
    if call.transferred_to:
        return _tr("The caller moved this call to %s") % call.transferred_to, "info"
    if call.transfer is TransferState.TRYING:
        return _tr("Transferring to %s…") % target, "pending"
    if call.transfer is TransferState.RINGING:
        return _tr("%s is ringing…") % target, "pending"
    if call.transfer is TransferState.ACCEPTED:
        return _tr("Transferred to %s") % target, "good"
    if call.transfer is TransferState.FAILED:
        reason = f" ({call.transfer_reason})" if call.transfer_reason else ""
        if call.state is CallState.HELD:
            return _tr("Transfer to %s failed%s. The caller is on hold.") % (target, reason), \
                "bad"
        return _tr("Transfer to %s failed%s. You are talking to the caller again.") % (
            target, reason), "bad"
    return "", ""


class RecordingBar(QWidget):
    """Record / Pause / Stop and the recording indicator of one call."""

    record_clicked = Signal()
    pause_clicked = Signal(bool)  # True: pause, False: resume
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recording_bar")
        self.state: RecordingState | None = None
        self.indicator = QLabel(self)
        self.indicator.setObjectName("recording_indicator")
        self.indicator.setTextFormat(Qt.TextFormat.PlainText)
        self.indicator.setWordWrap(True)
        self.record_button = button(self, self.tr("Record"), "record_button", "plain")
        self.pause_button = button(self, self.tr("Pause recording"), "recording_pause_button",
                                   "toggle", checkable=True)
        self.stop_button = button(self, self.tr("Stop recording"), "recording_stop_button",
                                  "plain")
        self.record_button.clicked.connect(self.record_clicked)
        self.pause_button.clicked.connect(self._pause_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.indicator, 1)
        row.addWidget(self.record_button)
        row.addWidget(self.pause_button)
        row.addWidget(self.stop_button)

    def show_state(self, state: RecordingState | None, *, can_record: bool,
                   error: str = "") -> None:
        self.state = state
        recording = state in (RecordingState.RECORDING, RecordingState.PAUSED)
        self.record_button.setVisible(can_record and state in (None, RecordingState.FAILED))
        self.pause_button.setVisible(recording)
        self.stop_button.setVisible(recording)
        self.pause_button.setChecked(state is RecordingState.PAUSED)
        self.pause_button.setText(self.tr("Resume recording") if state is
                                  RecordingState.PAUSED else self.tr("Pause recording"))
        text = {RecordingState.RECORDING: self.tr("● Recording"),
                RecordingState.PAUSED: self.tr("❚❚ Recording paused"),
                RecordingState.STOPPED: self.tr("Recorded"),
                RecordingState.FAILED: self.tr("Recording failed: %s") % error}.get(
                    state, "") if state is not None else ""
        self.indicator.setText(text)
        self.indicator.setProperty("state", state.value if state is not None else "")
        self.indicator.style().unpolish(self.indicator)
        self.indicator.style().polish(self.indicator)
        self.setVisible(can_record or state is not None)

    def show_error(self, message: str) -> None:
        self.indicator.setText(message)
        self.indicator.setProperty("state", "failed")
        self.indicator.style().unpolish(self.indicator)
        self.indicator.style().polish(self.indicator)

    @Slot(bool)
    def _pause_clicked(self, checked: bool) -> None:
        paused = self.state is RecordingState.PAUSED
        self.pause_button.setChecked(paused)  # follows the call, not the click
        self.pause_clicked.emit(not paused)


class QualityBadge(QLabel):
    """"MOS 4.4" in the grade's colour; the raw figures on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quality_badge")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.hide()

    def show_report(self, report: QualityReport | None) -> None:
        if report is None:
            self.hide()
            return
        self.setText(self.tr("MOS %.1f") % report.mos)
        self.setProperty("grade", grade(report.mos).value)
        self.setToolTip(self.tr(
            "Estimated call quality (E-model, 1–4.5): %.2f\n"
            "Packets lost: %.1f %% received, %.1f %% sent (far end's report)\n"
            "Jitter: %.1f ms\nRound trip: %s\nCodec: %s") % (
            report.mos, report.loss_percent, report.tx_loss_percent, report.jitter_ms,
            f"{report.rtt_ms:.0f} ms" if report.rtt_ms > 0 else self.tr("not measured yet"),
            report.codec))
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()


__all__ = ["QualityBadge", "RecordingBar", "TransferBox", "button", "transfer_text"]
