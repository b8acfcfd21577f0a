"""Colleagues' presence: one row per colleague with a coloured dot and their status note.

Shows what it is given and emits one intent, `dial_requested(uri)`, when a colleague is
clicked (as on a desk phone's busy-lamp field). Which colleagues, and what their presence
means, is decided by the composition root (app/compose.py) and app.wiring.colleagues.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

AVAILABLE, BUSY, UNKNOWN = "available", "busy", "unknown"
# The same colours as the agent's own status badge (app.ui.status_menu).
DOT_COLOURS = {AVAILABLE: "#107c10", BUSY: "#a4262c", UNKNOWN: "#a19f9d"}
URI_ROLE = Qt.ItemDataRole.UserRole
STATE_ROLE = Qt.ItemDataRole.UserRole + 1
DOT_SIZE = 12


def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(DOT_SIZE, DOT_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, DOT_SIZE - 2, DOT_SIZE - 2)
    painter.end()
    return QIcon(pixmap)


class ColleagueList(QWidget):
    """`set_colleagues` once, then `show_presence` per update; emits `dial_requested`."""

    dial_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("colleagues")
        self._items: dict[str, QListWidgetItem] = {}
        self._names: dict[str, str] = {}
        self._dots = {state: _dot(colour) for state, colour in DOT_COLOURS.items()}
        self.list = QListWidget(self)
        self.list.setObjectName("colleague_list")
        self.list.setIconSize(QSize(DOT_SIZE, DOT_SIZE))
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(self._on_clicked)
        self._last_click: tuple[str, float] = ("", 0.0)
        self.empty = QLabel(self.tr("No colleagues are listed in the settings."), self)
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.set_colleagues([])

    def set_colleagues(self, colleagues: Sequence[tuple[str, str]]) -> None:
        """(name, SIP URI) pairs, shown in this order; each starts as unknown."""
        self.list.clear()
        self._items.clear()
        self._names = dict((uri, name) for name, uri in colleagues)
        for name, uri in colleagues:
            item = QListWidgetItem()
            item.setData(URI_ROLE, uri)
            item.setToolTip(self.tr("Click to call %1").replace("%1", uri))
            self.list.addItem(item)
            self._items[uri] = item
            self._render(item, name, UNKNOWN, "")
        self.list.setVisible(bool(colleagues))
        self.empty.setVisible(not colleagues)

    def show_presence(self, uri: str, available: bool | None, note: str = "") -> None:
        """`available`: PIDF basic open (True), closed (False) or not known (None)."""
        item = self._items.get(uri)
        if item is None:
            return
        state = UNKNOWN if available is None else AVAILABLE if available else BUSY
        self._render(item, self._names.get(uri, uri), state, note)

    def state_of(self, uri: str) -> tuple[str, str]:
        """(state, shown text) of a colleague's row."""
        item = self._items[uri]
        return str(item.data(STATE_ROLE)), item.text()

    def _render(self, item: QListWidgetItem, name: str, state: str, note: str) -> None:
        if not note:
            note = {AVAILABLE: self.tr("Available"), BUSY: self.tr("Not available"),
                    UNKNOWN: self.tr("Presence not known")}[state]
        item.setText(f"{name} — {note}")
        item.setIcon(self._dots[state])
        item.setData(STATE_ROLE, state)

    @Slot(QListWidgetItem)
    def _on_clicked(self, item: QListWidgetItem) -> None:
        uri, now = str(item.data(URI_ROLE)), time.monotonic()
        # A double-click out of habit is one call, not two.
        last_uri, last_at = self._last_click
        self._last_click = (uri, now)
        if uri == last_uri and now - last_at < QApplication.doubleClickInterval() / 1000:
            return
        self.dial_requested.emit(uri)


__all__ = ["AVAILABLE", "BUSY", "UNKNOWN", "ColleagueList"]
