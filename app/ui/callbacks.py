"""Callback requests seen this session, each with a one-click "Call back" (a dial intent).

Shows each request as it is told (and, later, what became of it in the CRM); it decides
nothing and knows no backend: app/wiring/callbacks.py feeds it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.callbacks import CallbackRequest, Outcome


class CallbackList(QWidget):
    """Callback requests seen this session, each with a one-click "Call back"."""

    dial_requested = Signal(str)
    count_changed = Signal(int)  # rows listed; the composition shows the list from 1 on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callbackList")
        self.list = QListWidget(self)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.rows: dict[str, tuple[QListWidgetItem, QLabel, QPushButton]] = {}

    def show_request(self, request: CallbackRequest, outcome: Outcome | None = None) -> None:
        when = request.requested_at.astimezone()
        text = f"<b>{escape(request.number) or self.tr('unknown number')}</b>  ·  " \
               f"{escape(request.queue)}  ·  {when:%d.%m. %H:%M}"
        if request.message:
            text += f"<br>“{escape(request.message)}”"
        if outcome is not None and outcome.created:
            kind, _, ident = outcome.created.partition("/")
            done = self.tr("Task %1 in the CRM") if kind == "task" else \
                self.tr("Case %1 in the CRM")
            text += "<br><i>" + escape(done.replace("%1", ident)) + "</i>"
        elif outcome is not None and outcome.error:
            text += "<br><i>" + escape(self.tr("Not saved yet: %1").replace(
                "%1", outcome.error)) + "</i>"
        if request.id in self.rows:
            item, label, _button = self.rows[request.id]
            label.setText(text)
            item.setSizeHint(self.list.itemWidget(item).sizeHint())
            return
        row = QWidget(self.list)
        label = QLabel(text, row)
        label.setTextFormat(Qt.TextFormat.RichText)  # everything from outside is escaped
        label.setWordWrap(True)
        button = QPushButton(self.tr("Call back"), row)
        button.setObjectName("callBack")
        button.setEnabled(bool(request.number))
        button.clicked.connect(lambda _=False, n=request.number: self.dial_requested.emit(n))
        box = QHBoxLayout(row)
        box.setContentsMargins(6, 4, 6, 4)
        box.addWidget(label, 1)
        box.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        item = QListWidgetItem(self.list)
        item.setSizeHint(row.sizeHint())
        self.list.setItemWidget(item, row)
        self.rows[request.id] = (item, label, button)
        self.count_changed.emit(len(self.rows))


__all__ = ["CallbackList"]
