"""The status panel at the top of the left column: the StatusMenu, its schedule folded away.

The calls stay in view below it; the toggle's text counts the upcoming availabilities.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from app.ui.status_menu import StatusMenu


def _tr(text: str) -> str:
    # The context these words had when the availability wiring laid the panel out.
    return QCoreApplication.translate("AvailabilityWiring", text)


class StatusPanel(QWidget):
    """`menu` plus a toggle that shows or folds its schedule."""

    def __init__(self, menu: StatusMenu, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusPanel")
        self.menu = menu
        self._upcoming = 0
        self.schedule_toggle = QToolButton(self)
        self.schedule_toggle.setObjectName("scheduleToggle")
        self.schedule_toggle.setCheckable(True)
        self.schedule_toggle.setAutoRaise(True)
        self.schedule_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.schedule_toggle.toggled.connect(self._show_schedule)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(menu)
        layout.addWidget(self.schedule_toggle)
        self._show_schedule(False)

    def show_upcoming_count(self, count: int) -> None:
        """How many availabilities are scheduled (shown on the toggle)."""
        self._upcoming = count
        self._show_schedule(self.schedule_toggle.isChecked())

    @Slot(bool)
    def _show_schedule(self, shown: bool) -> None:
        self.menu.upcoming_box.setVisible(shown)
        self.schedule_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)
        count = self._upcoming
        text = _tr("Upcoming availabilities") + (f" ({count})" if count else "")
        self.schedule_toggle.setText(text)


__all__ = ["StatusPanel"]
