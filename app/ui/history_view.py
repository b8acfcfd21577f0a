"""Recent calls: direction and result, who, when, how long; double-click or Call back redials.

Who: the CRM's name for the caller (else the SIP display name) with the number; the
tooltip says which CRM named them. A call refused before it rang says so and why
("Refused: in wrap-up"), never "Declined".

A recorded call is marked ● and Play asks for its recording (`play_requested(path)`);
the call's quality figures, when it had audio, are in the row's tooltip.

The view shows the records it is given. Filtering and searching are asked for with
`filter_requested(key)` / `search_requested(text)` and answered by the composition root
through `set_records`, so the history store stays the one place that knows the data.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.calls import CallRecord, CallResult, Direction
from app.core.duration import format_duration
from app.core.numbers import display
from app.ui.crm_names import crm_title, refusal_text
from app.ui.widgets import NoWheelComboBox

RECORD_ROLE = Qt.ItemDataRole.UserRole
FILTERS = ("all", "missed", "inbound", "outbound")

_GREEN, _RED, _BLUE, _GREY, _AMBER = "#1a7f37", "#cf222e", "#1f6feb", "#6e7781", "#bf8700"


def _tr(text: str) -> str:
    return QCoreApplication.translate("HistoryView", text)


def result_text(result: CallResult) -> str:
    return {
        CallResult.ANSWERED: _tr("Answered"),
        CallResult.MISSED: _tr("Missed"),
        CallResult.DECLINED: _tr("Declined"),
        CallResult.FAILED: _tr("Failed"),
        CallResult.BUSY: _tr("Busy"),
        CallResult.NO_ANSWER: _tr("No answer"),
    }[result]


def _glyph(record: CallRecord) -> tuple[str, str]:
    """(symbol, colour): the arrow says the direction, the colour says how it went."""
    inbound = record.direction is Direction.INBOUND
    arrow = "↙" if inbound else "↗"
    if record.result is CallResult.ANSWERED:
        return arrow, _GREEN if inbound else _BLUE
    if record.result is CallResult.MISSED:
        return arrow, _RED
    if record.result is CallResult.DECLINED:
        return "⊘", _GREY
    return arrow, _AMBER


def _when(at: datetime, now: datetime) -> str:
    local = at.astimezone()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    return local.strftime("%d.%m. %H:%M")


def _length(seconds: float) -> str:
    """A call's talk time, blank for a call nobody talked on."""
    seconds = round(seconds)
    return format_duration(seconds) if seconds > 0 else ""


class HistoryView(QWidget):
    """A list of recent calls; emits `redial_requested(number)` to call one back."""

    redial_requested = Signal(str)
    filter_requested = Signal(str)  # one of FILTERS
    search_requested = Signal(str)
    play_requested = Signal(str)  # a recording's path

    def __init__(self, region: str = "FI", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history_view")
        self.region = region

        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("history_search")
        self.search_edit.setPlaceholderText(self.tr("Search number or name"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.search_requested)

        self.filter_box = NoWheelComboBox(self)
        self.filter_box.setObjectName("history_filter")
        for key, label in zip(FILTERS, (self.tr("All calls"), self.tr("Missed"),
                                        self.tr("Incoming"), self.tr("Outgoing")), strict=True):
            self.filter_box.addItem(label, key)
        self.filter_box.currentIndexChanged.connect(
            lambda i: self.filter_requested.emit(str(self.filter_box.itemData(i))))

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("history_list")
        self.tree.setColumnCount(5)
        self.tree.setHeaderLabels(["", self.tr("Caller"), self.tr("Result"), self.tr("When"),
                                   self.tr("Length")])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(False)  # a named caller takes two lines
        self.tree.setAlternatingRowColors(True)
        self.tree.setAllColumnsShowFocus(True)
        self._glyph_font = QFont(self.tree.font())
        self._glyph_font.setPointSizeF(self._glyph_font.pointSizeF() * 1.25)
        self._glyph_font.setBold(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Double-click only: itemActivated also fires on double-click on some platforms
        # and would dial twice.
        self.tree.itemDoubleClicked.connect(self._item_activated)
        self.tree.currentItemChanged.connect(self._selection_changed)

        self.redial_button = QPushButton(self.tr("Call back"), self)
        self.redial_button.setObjectName("redial_button")
        self.redial_button.setEnabled(False)
        self.redial_button.clicked.connect(self._redial_selected)
        self.play_button = QPushButton(self.tr("Play recording"), self)
        self.play_button.setObjectName("play_recording_button")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self._play_selected)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.filter_box)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.play_button)
        bottom.addWidget(self.redial_button)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bottom)

    # -- state in --------------------------------------------------------------------

    def set_records(self, records: list[CallRecord]) -> None:
        self.tree.clear()
        now = datetime.now().astimezone()
        for record in records:
            self.tree.addTopLevelItem(self._item(record, now))
        self.redial_button.setEnabled(False)
        self.play_button.setEnabled(False)

    def set_player(self, player: QWidget) -> None:
        """Show the recording player under the list."""
        self._layout.addWidget(player)

    def records(self) -> list[CallRecord]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item.data(0, RECORD_ROLE) for item in items if item is not None]

    def current_filter(self) -> str:
        return str(self.filter_box.currentData())

    def current_search(self) -> str:
        return self.search_edit.text()

    def _item(self, record: CallRecord, now: datetime) -> QTreeWidgetItem:
        number = display(record.remote_number, self.region) if record.remote_number else ""
        name = record.crm_name.strip() or record.display_name.strip()
        if name in (number, record.remote_number):
            name = ""
        # The CRM's name over the number, as on the call card and the toast: on one line
        # the narrow column cut the number off.
        who = f"{name}\n{number}" if name and number else name or number or self.tr(
            "Unknown")
        symbol, colour = _glyph(record)
        direction = (self.tr("Incoming") if record.direction is Direction.INBOUND
                     else self.tr("Outgoing"))
        # A call turned away before it rang (wrap-up, do not disturb) is no decline.
        result = (refusal_text(record.refused_reason) if record.refused_reason
                  else result_text(record.result))
        item = QTreeWidgetItem(["", who, result, _when(record.ended_at, now),
                                _length(record.talk_seconds)])
        item.setText(0, symbol + (" ●" if record.recording_path else ""))
        item.setForeground(0, QBrush(QColor(colour)))
        item.setFont(0, self._glyph_font)
        if record.result is CallResult.MISSED:
            item.setForeground(2, QBrush(QColor(_RED)))
        item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        details = [f"{direction}, {result.lower()}", number]
        details.append(self.tr("Queue: %s") % record.queue if record.queue else
                       self.tr("Direct") if record.direction is Direction.INBOUND else "")
        if record.crm and record.crm_name:
            details.append(self.tr("%s in %s") % (record.crm_name, crm_title(record.crm)))
        if record.recording_path:
            details.append(self.tr("Recorded"))
        if record.quality is not None:
            q = record.quality
            details.append(self.tr("Quality: MOS %.1f (lowest %.1f), %.1f %% lost, jitter "
                                   "up to %.0f ms") % (q.mos_avg, q.mos_min, q.loss_percent,
                                                      q.jitter_ms_max))
        tip = "\n".join(d for d in details if d)
        for col in range(5):
            item.setToolTip(col, tip)
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{direction}, {result}")
        item.setData(0, RECORD_ROLE, record)
        return item

    # -- intents out -----------------------------------------------------------------

    @Slot(QTreeWidgetItem, int)
    def _item_activated(self, item: QTreeWidgetItem, column: int = 0) -> None:
        record: CallRecord | None = item.data(0, RECORD_ROLE)
        if record is not None and record.remote_number:
            self.redial_requested.emit(record.remote_number)

    @Slot()
    def _redial_selected(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self._item_activated(item)

    @Slot()
    def _play_selected(self) -> None:
        item = self.tree.currentItem()
        record: CallRecord | None = item.data(0, RECORD_ROLE) if item is not None else None
        if record is not None and record.recording_path:
            self.play_requested.emit(record.recording_path)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _selection_changed(self, current: QTreeWidgetItem | None,
                           previous: QTreeWidgetItem | None) -> None:
        self.redial_button.setEnabled(current is not None)
        record: CallRecord | None = current.data(0, RECORD_ROLE) if current is not None \
            else None
        self.play_button.setEnabled(record is not None and bool(record.recording_path))
