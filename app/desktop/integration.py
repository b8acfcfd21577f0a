"""Everything desktop-facing in one object for the composition root to connect.

`Desktop` owns the tray icon, the incoming-call toasts and (when given) the listening
`SingleInstance`, takes macOS link events when the QApplication is a
`LinkAwareApplication`, and looks after the main window's show/hide/raise. It turns what
arrives from outside (forwarded arguments, FileOpen events) into intents after parsing
them again, because they are untrusted. It holds no rules: state comes in through
methods, intents go out as signals.

    desktop = Desktop(window, statuses=[...], instance=claim_instance(...), region="FI")
    desktop.dial_requested.connect(switchboard.dial)
    desktop.answer_requested.connect(...); desktop.decline_requested.connect(...)
    desktop.status_requested.connect(...); desktop.quit_requested.connect(app.quit)
    desktop.problem.connect(window.show_problem)
    note = desktop.start()   # None, or why there is no tray icon
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from app.core.availability import StatusType
from app.core.calls import RegistrationState
from app.core.links import LinkRefused, parse_link
from app.desktop.launch import Dial, LinkAwareApplication, Refused, ShowWindow, forwarded_request
from app.desktop.notifications import Notifier, windows_can_be_raised
from app.desktop.single_instance import SingleInstance
from app.desktop.tray import Tray

log = logging.getLogger(__name__)


class Desktop(QObject):
    """Tray + toasts + single instance + link events around one main window."""

    dial_requested = Signal(str)  # E.164 number or SIP URI, already validated
    answer_requested = Signal(int)
    decline_requested = Signal(int)
    status_requested = Signal(str)
    missed_calls_requested = Signal()
    quit_requested = Signal()
    problem = Signal(str)  # a refused link etc., for the window to show

    def __init__(self, window: QWidget, *, statuses: Sequence[str] = (),
                 instance: SingleInstance | None = None, region: str = "FI",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.region = region
        self.tray = Tray(statuses, self)
        self.notifier = Notifier(region, self.tray.geometry, self)
        self.instance = instance

        self.tray.show_window_requested.connect(self.show_window)
        self.tray.hide_window_requested.connect(self.hide_window)
        self.tray.status_requested.connect(self.status_requested)
        self.tray.missed_calls_requested.connect(self._on_missed_calls_requested)
        self.tray.quit_requested.connect(self.quit_requested)
        self.notifier.answer_requested.connect(self.answer_requested)
        self.notifier.decline_requested.connect(self.decline_requested)
        self.notifier.show_window_requested.connect(self.show_window)
        self.notifier.missed_count_changed.connect(self.tray.set_missed_count)
        app = QCoreApplication.instance()
        if isinstance(app, LinkAwareApplication):  # macOS: links arrive as FileOpen events
            app.link_opened.connect(self.open_link)
        if instance is not None:
            instance.message_received.connect(self.handle_forwarded)
        window.installEventFilter(self)

    def start(self) -> str | None:
        """Show the tray icon and start listening for links; None or why there is no tray."""
        self.tray.set_window_visible(self.window.isVisible())
        return self.tray.start()

    def shutdown(self) -> None:
        self.notifier.close_all()
        self.tray.stop()
        if self.instance is not None:
            self.instance.close()

    # -- the window --------------------------------------------------------------------

    def show_window(self) -> None:
        window = self.window
        if window.isMinimized():
            window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        if windows_can_be_raised():
            window.raise_()
            window.activateWindow()

    def hide_window(self) -> None:
        if self.tray.available:  # never hide the only way back to the app
            self.window.hide()
        else:
            self.window.showMinimized()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() in (QEvent.Type.Show, QEvent.Type.Hide):
            self.tray.set_window_visible(event.type() == QEvent.Type.Show)
        return False

    # -- state in ----------------------------------------------------------------------

    def set_registration(self, state: RegistrationState) -> None:
        self.tray.set_registration(state)

    def set_availability(self, name: str, kind: StatusType) -> None:
        self.tray.set_availability(name, kind)

    def set_statuses(self, names: Sequence[str]) -> None:
        self.tray.set_statuses(names)

    def incoming_call(self, call_id: int, name: str, number: str, queue: str = "") -> None:
        self.notifier.incoming_call(call_id, name, number, queue)

    def call_stopped_ringing(self, call_id: int, *, missed: bool = False) -> None:
        if missed:
            self.notifier.call_missed(call_id)
        else:
            self.notifier.withdraw(call_id)

    # -- from outside: untrusted ---------------------------------------------------------

    def handle_forwarded(self, args: list[str]) -> None:
        request = forwarded_request(args, self.region)
        if isinstance(request, ShowWindow):
            self.show_window()
        elif isinstance(request, Dial):
            self.show_window()
            self.dial_requested.emit(request.target.value)
        elif isinstance(request, Refused):
            log.warning("refused a forwarded request: %s", request.message)
            self.problem.emit(request.message)

    def open_link(self, link: str) -> None:
        try:
            target = parse_link(link, self.region)
        except LinkRefused as exc:
            self.problem.emit(exc.text(QCoreApplication.translate))
            return
        self.show_window()
        self.dial_requested.emit(target.value)

    def _on_missed_calls_requested(self) -> None:
        self.show_window()
        self.missed_calls_requested.emit()
