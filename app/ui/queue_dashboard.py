"""The queue dashboard: one row per queue with live numbers, join/leave, and a backend banner.

Shows what the ContactCenter backend reports and turns clicks into intents
(`join_requested`, `leave_requested`); it decides nothing and subscribes to nothing:
app/wiring/contactcenter.py brings the backend's events across to the GUI thread and
hands them to `on_event`.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from app.core.contactcenter import (
    BackendState,
    BackendStatus,
    QueuesChanged,
    QueueStatus,
    StatusChanged,
)
from app.core.duration import format_duration

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

COL_NAME, COL_NUMBER, COL_SERVING, COL_FREE, COL_ACTIVE, COL_CALLS, COL_LENGTH, COL_WAIT = \
    range(8)


class QueueTableModel(QAbstractTableModel):
    """Rows exactly as the backend reported them; a tick in Active is only a request."""

    membership_requested = Signal(str, bool)  # queue name, join (True) or leave

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[QueueStatus] = []
        self._headers = [self.tr("Queue"), self.tr("Number"), self.tr("Serving"),
                         self.tr("Free"), self.tr("Active"), self.tr("Active calls"),
                         self.tr("Queue length"), self.tr("Max wait time")]

    def set_rows(self, rows: list[QueueStatus] | tuple[QueueStatus, ...]) -> None:
        rows = list(rows)
        if [r.key for r in rows] == [r.key for r in self._rows]:
            self._rows = rows  # same queues: update cells in place (keeps the selection)
            if rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(rows) - 1, len(self._headers) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_of(self, name: str) -> QueueStatus | None:
        return next((r for r in self._rows if r.name == name), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        q, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.CheckStateRole and col == COL_ACTIVE:
            return Qt.CheckState.Checked if q.active else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in (COL_NAME, COL_NUMBER):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_ACTIVE:
            return self.tr("Untick to stop taking this queue's calls") if q.active else \
                self.tr("Tick to take this queue's calls")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return {COL_NAME: q.name, COL_NUMBER: q.number, COL_SERVING: q.serving,
                COL_FREE: q.free, COL_ACTIVE: None,
                COL_CALLS: q.active_calls, COL_LENGTH: q.queue_length,
                COL_WAIT: format_duration(q.max_wait_seconds)}[col]

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == COL_ACTIVE:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != COL_ACTIVE:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(
            value, Qt.CheckState) else value == Qt.CheckState.Checked
        self.membership_requested.emit(self._rows[index.row()].name, checked)
        return False  # the tick follows when the backend confirms


class QueueDashboard(QWidget):
    join_requested = Signal(str)
    leave_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueDashboard")
        self.banner = QLabel(self)
        self.banner.setObjectName("backendBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel#backendBanner { background: #fff4ce; color: #3b2f00;"
                                  " border: 1px solid #e0c060; padding: 6px; }")
        self.banner.hide()
        self.model = QueueTableModel(self)
        self.model.membership_requested.connect(self._on_membership)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(self.tr("No queues"), self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.table)
        layout.addWidget(self.empty)
        self.status = BackendStatus(BackendState.CLOSED)
        self._update_empty()

    # -- showing state -----------------------------------------------------------------------

    @Slot(object)
    def on_event(self, event: object) -> None:
        if isinstance(event, QueuesChanged):
            self.show_queues(event.queues)
        elif isinstance(event, StatusChanged):
            self.show_status(event.status)

    def show_queues(self, rows: list[QueueStatus] | tuple[QueueStatus, ...]) -> None:
        self.model.set_rows(rows)
        self._update_empty()

    def show_status(self, status: BackendStatus) -> None:
        self.status = status
        text = self._banner_text(status)
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        # Rows from before the connection dropped are shown greyed: they may be stale.
        self.table.setEnabled(status.state in (BackendState.CONNECTED, BackendState.DISABLED))

    def _banner_text(self, s: BackendStatus) -> str:
        retry = self.tr(" Retrying in %n s.", "", round(s.retry_in)) if s.retry_in else ""
        if s.state is BackendState.UNREACHABLE:
            return self.tr("The phone system cannot be reached (%1).").replace(
                "%1", s.message.rstrip(".")) + retry
        if s.state is BackendState.CREDENTIALS_REFUSED:
            return self.tr("The phone system refused our sign-in: %1. Check the user and "
                           "secret in the settings.").replace("%1", s.message.rstrip("."))
        if s.state is BackendState.CONNECTING:
            return self.tr("Connecting to the phone system…")
        if s.state is BackendState.CLOSED:
            return self.tr("Not connected to the phone system.")
        return ""  # connected, or no backend: nothing to warn about

    def _update_empty(self) -> None:
        has_rows = self.model.rowCount() > 0
        self.table.setVisible(has_rows)
        self.empty.setVisible(not has_rows)

    @Slot(str, bool)
    def _on_membership(self, name: str, join: bool) -> None:
        (self.join_requested if join else self.leave_requested).emit(name)


__all__ = ["QueueDashboard", "QueueTableModel"]
