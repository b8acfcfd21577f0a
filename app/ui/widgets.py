"""Small widgets every view uses, so no control changes by accident."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QComboBox, QWidget


class NoWheelComboBox(QComboBox):
    """A combo box the mouse wheel changes only once the agent has focused it.

    Scrolling a column past an unfocused combo box would otherwise change its choice
    (it once turned "Display number" into "Don't show number"); the wheel then scrolls
    the column instead.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the scroll area around it scrolls


__all__ = ["NoWheelComboBox"]
