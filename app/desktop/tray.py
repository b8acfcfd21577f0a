"""The system-tray icon: registration and availability at a glance, and a small menu.

`Tray` only shows state and emits intents; the composition root connects them:
`show_window_requested`, `hide_window_requested`, `status_requested(name)`,
`missed_calls_requested`, `quit_requested`. Where the desktop has no tray
(`QSystemTrayIcon.isSystemTrayAvailable()` is False: offscreen, some Wayland
compositors, a bare X server) `start()` returns a sentence saying so, once, and the app
carries on with its window; every setter keeps working so callers need no checks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.core.availability import StatusType
from app.core.calls import RegistrationState
from app.core.calls import can_ring as reaches_agent
from app.desktop.icons import tray_icon

log = logging.getLogger(__name__)


class Tray(QObject):
    """QSystemTrayIcon plus its menu; state in through setters, intents out as signals."""

    show_window_requested = Signal()
    hide_window_requested = Signal()
    status_requested = Signal(str)
    missed_calls_requested = Signal()
    quit_requested = Signal()

    def __init__(self, statuses: Sequence[str] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._registration = RegistrationState.REGISTERING
        self._status_name = ""
        self._status_type: StatusType | None = None
        self._missed = 0
        self._window_visible = True
        self._available: bool | None = None

        self.menu = QMenu()
        self.window_action = QAction(self.tr("Hide window"), self)
        self.window_action.triggered.connect(self._toggle_window)
        self.menu.addAction(self.window_action)
        self.missed_action = QAction("", self)
        self.missed_action.triggered.connect(lambda: self.missed_calls_requested.emit())
        self.missed_action.setVisible(False)
        self.menu.addAction(self.missed_action)
        self.menu.addSeparator()
        self.status_menu = self.menu.addMenu(self.tr("Status"))
        self._status_group = QActionGroup(self)
        self._status_group.setExclusive(True)
        self._status_actions: dict[str, QAction] = {}
        self.menu.addSeparator()
        self.state_action = QAction("", self)
        self.state_action.setEnabled(False)  # a label: the registration state in words
        self.menu.addAction(self.state_action)
        self.quit_action = QAction(self.tr("Quit Switchboard"), self)
        self.quit_action.triggered.connect(lambda: self.quit_requested.emit())
        self.menu.addAction(self.quit_action)

        self.icon = QSystemTrayIcon(self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.set_statuses(statuses)
        self._refresh()

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> str | None:
        """Show the icon. Returns None, or (once) why there is no tray icon."""
        available = QSystemTrayIcon.isSystemTrayAvailable()
        first_time = self._available is None
        self._available = available
        if available:
            self.icon.show()
            return None
        if not first_time:
            return None
        message = self.tr("There is no system tray on this desktop, so Switchboard has no tray "
                      "icon; the window stays open and shows everything instead.")
        log.info("no system tray: %s", message)
        return message

    @property
    def available(self) -> bool:
        """True once `start()` found a tray and showed the icon."""
        return bool(self._available) and self.icon.isVisible()

    def geometry(self) -> QRect:
        """Where the icon is on screen (empty when unknown or there is no tray)."""
        return self.icon.geometry() if self.available else QRect()

    def stop(self) -> None:
        self.icon.hide()

    # -- state in ------------------------------------------------------------------------

    def set_statuses(self, names: Sequence[str]) -> None:
        """The statuses the agent may choose from, in menu order."""
        for action in self._status_actions.values():
            self._status_group.removeAction(action)
            self.status_menu.removeAction(action)
            action.deleteLater()
        self._status_actions = {}
        for name in names:
            action = QAction(name, self)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, n=name: self._on_status_chosen(n))
            self._status_group.addAction(action)
            self.status_menu.addAction(action)
            self._status_actions[name] = action
        self.status_menu.setEnabled(bool(names))
        self._check_current_status()

    def set_registration(self, state: RegistrationState) -> None:
        self._registration = state
        self._refresh()

    def set_availability(self, name: str, kind: StatusType) -> None:
        """The status now in force (after the phone system accepted it)."""
        self._status_name = name
        self._status_type = kind
        self._check_current_status()
        self._refresh()

    def set_missed_count(self, count: int) -> None:
        self._missed = max(0, count)
        self._refresh()

    def set_window_visible(self, visible: bool) -> None:
        self._window_visible = visible
        self.window_action.setText(self.tr("Hide window") if visible else self.tr("Show window"))

    # -- what is shown -------------------------------------------------------------------

    def registration_text(self, state: RegistrationState) -> str:
        # self.tr() with literal text so pyside6-lupdate finds it (context "Tray").
        return {
            RegistrationState.REGISTERED: self.tr("connected"),
            RegistrationState.DISABLED: self.tr("direct calls only"),
            RegistrationState.REGISTERING: self.tr("connecting…"),
            RegistrationState.FAILED: self.tr("not connected"),
            RegistrationState.UNREGISTERED: self.tr("offline"),
        }[state]

    @property
    def missed_count(self) -> int:
        return self._missed

    def tooltip(self) -> str:
        lines = ["Switchboard"]
        if self._status_name:
            lines.append(self._status_name)
        lines.append(self.registration_text(self._registration))
        if self._missed:
            lines.append(self._missed_text())
        return " — ".join(lines[:2]) + ("\n" + "\n".join(lines[2:]) if lines[2:] else "")

    def _missed_text(self) -> str:
        if self._missed == 1:
            return self.tr("1 missed call")
        return self.tr("%n missed calls", "", self._missed)

    def _refresh(self) -> None:
        self.icon.setIcon(tray_icon(self._status_type, self._registration, self._missed > 0))
        self.icon.setToolTip(self.tooltip())
        self.missed_action.setVisible(self._missed > 0)
        self.missed_action.setText(self._missed_text())
        self.state_action.setText(self.registration_text(self._registration).capitalize())
        self.status_menu.setEnabled(bool(self._status_actions))

    @property
    def can_ring(self) -> bool:
        return reaches_agent(self._registration)

    def _check_current_status(self) -> None:
        # The check mark follows what is in force, not what was clicked: a refused change
        # must not look accepted.
        for name, action in self._status_actions.items():
            action.setChecked(name == self._status_name)
        if self._status_name not in self._status_actions:
            checked = self._status_group.checkedAction()
            if checked is not None:
                self._status_group.setExclusive(False)
                checked.setChecked(False)
                self._status_group.setExclusive(True)

    # -- intents out ---------------------------------------------------------------------

    def _on_status_chosen(self, name: str) -> None:
        self._check_current_status()
        self.status_requested.emit(name)

    def _toggle_window(self) -> None:
        if self._window_visible:
            self.hide_window_requested.emit()
        else:
            self.show_window_requested.emit()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window_requested.emit()
