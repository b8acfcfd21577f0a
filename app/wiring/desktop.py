"""The tray, toasts, single instance and links (app.desktop.Desktop) wired into the app.

`DesktopWiring` connects a `Desktop` to the phone it belongs to; every collaborator is
passed in (the composition root builds them):

- intents from the desktop: a link or a forwarded `switchboard dial` → `dial`, the toast's
  Answer/Decline → the session, a status from the tray menu → `request_status` (the same
  intent the window's status menu sends), Quit → `quit`;
- state to the desktop: the session's transitions (app/core/transitions.py) make a toast
  of each call that starts ringing, withdrawn when it stops ringing or counted when it
  was missed; the CRM's name for the caller, once looked up, is added to the toast;
  registration and availability colour the tray icon;
- the window: closing it hides it to the tray while the phone can ring and a tray icon
  exists; otherwise (or after Quit) closing it quits.

The availability reaches the tray through `show_availability(change)`, connected by the
composition root to `AvailabilityWiring.changed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Slot
from PySide6.QtWidgets import QApplication, QWidget

from app.core.availability import Change
from app.core.calls import Call, CallState, RegistrationChanged
from app.core.phone import PhoneSession
from app.core.transitions import CallStarted, CallTransition, RingingStopped
from app.desktop.integration import Desktop
from app.desktop.notifications import windows_can_be_raised
from app.ui.crm_names import crm_line
from app.ui.main_window import MainWindow
from app.ui.status_menu import status_label

log = logging.getLogger(__name__)


def show_missed_calls(window: MainWindow) -> None:
    """The tray's "N missed calls": the history, filtered to missed calls."""
    box = window.history_view.filter_box
    index = box.findData("missed")
    if index >= 0:
        box.setCurrentIndex(index)  # emits filter_requested → the history is reloaded


class DesktopWiring(QObject):
    """See the module docstring. Build it, `start()` it after the window, `shutdown()`."""

    def __init__(self, desktop: Desktop, window: QWidget, session: PhoneSession, *,
                 dial: Callable[[str], None],
                 statuses: Sequence[str] = (),
                 request_status: Callable[[str], None] | None = None,
                 show_missed: Callable[[], None] | None = None,
                 quit: Callable[[], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.desktop = desktop
        self.window = window
        self._session = session
        self._request_status = request_status
        self._show_missed = show_missed
        self._quit = quit or QCoreApplication.quit
        self._shown_status: tuple[str, object] | None = None
        self._quitting = False
        self._started = False
        self.tray_note: str | None = None

        desktop.set_statuses([status_label(n) for n in statuses])
        self._status_names = {status_label(n): n for n in statuses}
        desktop.dial_requested.connect(dial)
        desktop.answer_requested.connect(session.answer)
        desktop.decline_requested.connect(session.decline)
        desktop.status_requested.connect(self._on_status_requested)
        desktop.missed_calls_requested.connect(self._on_missed_calls_requested)
        desktop.quit_requested.connect(self.quit)
        self._crm_shown: dict[int, tuple[str, str]] = {}  # toast handle → (name, line) shown
        session.subscribe(on_transition=self._transition, on_registration=self._registration,
                          on_call_updated=self._call_updated)
        window.installEventFilter(self)  # only the main window: Close → hide to tray

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> str | None:
        """Show the tray icon; None, or (once) why there is none. Without a tray the
        window is the only way in, so it is shown even when the app starts hidden."""
        self._started = True
        app = QCoreApplication.instance()
        if isinstance(app, QApplication):
            # A toast closing while the window sits in the tray must not end the app.
            app.setQuitOnLastWindowClosed(False)
        self.tray_note = self.desktop.start()
        if self.tray_note is not None:
            log.info("desktop: %s", self.tray_note)
            if not self.window.isVisible() and windows_can_be_raised():
                self.desktop.show_window()
        return self.tray_note

    def shutdown(self) -> None:
        """Withdraw toasts, hide the icon, stop listening for other starts. Safe twice."""
        if not self._started:
            return
        self._started = False
        self.window.removeEventFilter(self)
        self.desktop.shutdown()

    @Slot()
    def quit(self) -> None:
        """Quit for real (tray menu): closing the window no longer hides it."""
        self._quitting = True
        log.info("quit requested from the desktop")
        self._quit()

    # -- the window ----------------------------------------------------------------------

    def hides_to_tray(self) -> bool:
        """Whether closing the window now hides it instead of quitting."""
        tray = self.desktop.tray
        return not self._quitting and tray.available and tray.can_ring

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            if self.hides_to_tray():
                event.ignore()
                self.desktop.hide_window()
                log.info("window closed: hidden to the tray")
                return True
            # The app does not quit on its own when its last window closes (see start),
            # so a real close of the main window quits explicitly (QApplication.quit
            # leaves the event loop once this event is done).
            self.quit()
        return False

    # -- state to the desktop ------------------------------------------------------------

    def _transition(self, transition: CallTransition) -> None:
        if isinstance(transition, CallStarted) and transition.ringing:
            self.desktop.incoming_call(transition.handle, transition.display_name,
                                       transition.remote_number, transition.queue or "")
        elif isinstance(transition, RingingStopped):
            self._crm_shown.pop(transition.handle, None)
            self.desktop.call_stopped_ringing(transition.handle, missed=transition.missed)

    def _call_updated(self, call: Call) -> None:
        """The CRM's name for a ringing caller reaches its toast (once per change)."""
        if call.state is not CallState.RINGING or not call.crm:
            return
        shown = (call.crm_name, crm_line(call.crm, call.crm_name, call.crm_matches))
        if self._crm_shown.get(call.handle) != shown:
            self._crm_shown[call.handle] = shown
            self.desktop.notifier.show_crm(call.handle, *shown)

    def _registration(self, ev: RegistrationChanged) -> None:
        self.desktop.set_registration(ev.state)

    @Slot(object)
    def show_availability(self, change: Change) -> None:
        """The availability in force (app.core.availability.Change) → the tray."""
        # The chosen status (not "In a Call"): the tray menu's check mark follows it.
        shown = (status_label(change.status.name), change.status.type)
        if shown != self._shown_status:
            self._shown_status = shown
            self.desktop.set_availability(shown[0], change.status.type)

    # -- intents from the desktop ----------------------------------------------------------

    @Slot(str)
    def _on_status_requested(self, label: str) -> None:
        if self._request_status is not None:
            self._request_status(self._status_names.get(label, label))

    @Slot()
    def _on_missed_calls_requested(self) -> None:
        self.desktop.notifier.clear_missed()
        if self._show_missed is not None:
            self._show_missed()
