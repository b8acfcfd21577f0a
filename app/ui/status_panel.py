"""The agent's status as a compact badge above the calls; "Select your status" opens from it.

The badge shows the status in force in its colour (and "Ready" during wrap-up, so the
agent ends it with one click); clicking it opens the StatusMenu (statuses with durations,
"Receive pool calls", upcoming availabilities) in a popup, as in the modelled product. The
calls stay at the top of the column instead of under a panel.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPoint, Qt, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QToolButton, QVBoxLayout, QWidget

from app.ui.status_menu import StatusMenu


def _tr(text: str) -> str:
    # The context these words had when the availability wiring laid the panel out.
    return QCoreApplication.translate("AvailabilityWiring", text)


class StatusPanel(QWidget):
    """A badge that opens `menu` in a popup, plus the schedule toggle inside the popup."""

    def __init__(self, menu: StatusMenu, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusPanel")
        self.menu = menu
        self._upcoming = 0
        self.badge = QToolButton(self)
        self.badge.setObjectName("status_badge")
        self.badge.setToolTip(_tr("Select your status"))
        self.badge.setAccessibleName(_tr("Select your status"))
        self.badge.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.badge.clicked.connect(self.open_popup)
        self.ready_button = QPushButton(_tr("Ready"), self)
        self.ready_button.setObjectName("ready_button")
        self.ready_button.setToolTip(_tr("End wrap-up now"))
        self.ready_button.clicked.connect(menu.wrap_up_end_requested)
        self.ready_button.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.badge)
        row.addWidget(self.ready_button)
        row.addStretch(1)

        self.popup = QFrame(self, Qt.WindowType.Popup)
        self.popup.setObjectName("status_popup")
        self.popup.setFrameShape(QFrame.Shape.StyledPanel)
        self.schedule_toggle = QToolButton(self.popup)
        self.schedule_toggle.setObjectName("scheduleToggle")
        self.schedule_toggle.setCheckable(True)
        self.schedule_toggle.setAutoRaise(True)
        self.schedule_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.schedule_toggle.toggled.connect(self._show_schedule)
        layout = QVBoxLayout(self.popup)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(0)
        menu.setParent(self.popup)
        layout.addWidget(menu)
        layout.addWidget(self.schedule_toggle)
        menu.shown_changed.connect(self._show_badge)
        self._show_schedule(False)
        self._show_badge("", "")

    def show_upcoming_count(self, count: int) -> None:
        """How many availabilities are scheduled (shown on the toggle)."""
        self._upcoming = count
        self._show_schedule(self.schedule_toggle.isChecked())

    @Slot()
    def open_popup(self) -> None:
        """"Select your status", under the badge (kept on the badge's screen)."""
        self.popup.adjustSize()
        where = self.badge.mapToGlobal(QPoint(0, self.badge.height()))
        screen = self.badge.screen().availableGeometry() if self.badge.screen() else None
        if screen is not None:
            where.setX(max(screen.left(), min(where.x(), screen.right() - self.popup.width())))
            if where.y() + self.popup.height() > screen.bottom():
                where.setY(max(screen.top(), screen.bottom() - self.popup.height()))
        self.popup.move(where)
        self.popup.show()

    @Slot(str, str)
    def _show_badge(self, text: str, colour: str) -> None:
        self.badge.setText(f"●  {text or _tr('Status')}  ▾")
        self.badge.setStyleSheet(
            f"QToolButton {{ font-weight: bold; color: white; background: "
            f"{colour or '#605e5c'}; border-radius: 10px; padding: 3px 10px; }}")
        self.ready_button.setVisible(self.menu.end_wrap_up.isVisibleTo(self.menu))

    @Slot(bool)
    def _show_schedule(self, shown: bool) -> None:
        self.menu.upcoming_box.setVisible(shown)
        self.schedule_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)
        count = self._upcoming
        text = _tr("Upcoming availabilities") + (f" ({count})" if count else "")
        self.schedule_toggle.setText(text)
        if self.popup.isVisible():
            self.popup.adjustSize()


__all__ = ["StatusPanel"]
