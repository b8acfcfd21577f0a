"""The running phone: starts and stops what app/compose.py built, and routes engine events.

`SwitchboardApp` owns every long-lived object of a running phone once the composition
root has built and connected them; nothing reaches them through globals. The engine is
started on the task runner's network lane so a slow start never freezes the window; a
failure to start becomes a message in the window, not a crash. Quitting stops the engine
before anything it reports to is closed, then the task runner (bounded waits), then the
files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Slot

from app.config import Settings
from app.core.calls import EngineEvent, EngineProblem
from app.core.history import History
from app.core.phone import CallControl, PhoneSession
from app.logs import log_engine_event
from app.paths import Profile
from app.threads import GuiPoster, Lane, TaskRunner
from app.ui.main_window import MainWindow
from app.wiring.availability import AvailabilityWiring
from app.wiring.phone import PhoneWiring

if TYPE_CHECKING:
    from app.wiring.audio import AudioWiring
    from app.wiring.contactcenter import ContactCenterWiring
    from app.wiring.crm import CrmWiring
    from app.wiring.settings import SettingsWiring

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
TASKS_TIMEOUT = 5.0  # at quit, running CRM/phone-system work gets this long in all


class EngineLike(CallControl, Protocol):
    """What the app needs of app.telephony.engine.Engine."""

    def start(self, timeout: float = 10.0) -> None: ...
    def stop(self) -> None: ...


EngineFactory = Callable[..., EngineLike]  # called like Engine(sip, password=..., ...)


class EngineSlot:
    """The engine in use, behind one object that everyone holds (the session, recordings,
    presence): an Engine cannot be started twice, so a changed phone account means a new
    one (`renew`, built by the composition root's `build`) in the same slot."""

    def __init__(self, build: Callable[[], EngineLike]) -> None:
        self._build = build
        self.current: EngineLike = build()

    def renew(self) -> EngineLike:
        """Build the next engine (not started) and put it in the slot; returns the old."""
        old, self.current = self.current, self._build()
        return old

    def __getattr__(self, name: str) -> Any:
        # Only names the slot itself lacks arrive here: every command and property of
        # the engine (dial, answer, local_port, …) goes to the current one.
        return getattr(self.current, name)


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class EngineStartFinished:
    """The engine's start is over (None: the engine runs)."""

    error: str | None


def _tr(text: str) -> str:
    return QCoreApplication.translate("SwitchboardApp", text)


class SwitchboardApp(QObject):
    """The composed phone; `start()` then `shutdown()`. Built by app.compose.build_app."""

    def __init__(self, profile: Profile | None, settings: Settings, *, window: MainWindow,
                 engine: EngineLike, session: PhoneSession, history: History,
                 poster: GuiPoster, tasks: TaskRunner, phone: PhoneWiring,
                 availability: AvailabilityWiring,
                 contactcenter: ContactCenterWiring | None = None,
                 crm: CrmWiring | None = None, audio: AudioWiring | None = None,
                 closables: list[Closable] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.profile = profile
        self.settings = settings
        self.window = window
        self.engine = engine
        self.session = session
        self.history = history
        self.poster = poster  # the engine's events, from its thread to this one
        self.tasks = tasks
        self.phone = phone
        self.availability = availability
        self.contactcenter = contactcenter
        self.crm = crm
        self.audio = audio
        self.settings_wiring: SettingsWiring | None = None  # set by the composition root
        self._closables = closables or []  # stores, closed last (after the task runner)
        self._starting: Future[Any] | None = None
        self._stopped = False
        self.engine_running = False
        self._pending_dials: list[str] = []  # links that arrived before the engine ran
        poster.received.connect(self._on_event)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, *, show: bool = True, phone: bool = True) -> None:
        """Show the window and start the engine on the network lane (`phone` False: not
        yet, there is no phone account; `restart_engine` starts it once there is)."""
        if show:
            self.window.show()
        # Not connected to aboutToQuit: Qt 6 emits it inside quit() itself, so shutdown()
        # would run in the middle of whichever handler asked to quit (a signal handler
        # interrupts any of them), and the calls' last events would overtake the one that
        # handler was handling. `run_until_quit` stops the app once the loop has returned.
        self.availability.start()
        if self.contactcenter is not None:
            self.contactcenter.start()
        if self.audio is not None:
            self.audio.start()
        if phone:
            self._starting = self.tasks.run(
                Lane.NETWORK, lambda: self.engine.start(START_TIMEOUT),
                succeeded=lambda _none: self._on_event(EngineStartFinished(None)),
                failed=self._start_failed)
        if self.crm is not None:
            self.crm.start()

    def restart_engine(self) -> bool:
        """Replace the engine with one built from the settings as they are now (the phone
        account changed) and start it; the old one unregisters first. False (nothing
        done) while a call is up, or when the engine is not in an EngineSlot."""
        slot = self.engine
        if self._stopped or not isinstance(slot, EngineSlot) or \
                any(not c.ended for c in self.session.calls):
            return False
        previous, old = self._starting, slot.renew()
        new = slot.current
        self.engine_running = False
        self.window.show_starting()

        def replace() -> None:
            self.tasks.wait(previous, START_TIMEOUT + 1)
            old.stop()
            new.start(START_TIMEOUT)

        self._starting = self.tasks.run(
            Lane.NETWORK, replace,
            succeeded=lambda _none: self._on_event(EngineStartFinished(None)),
            failed=self._start_failed)
        log.info("phone restarting with the changed account")
        return True

    def _start_failed(self, exc: BaseException) -> None:
        # EngineError says what to fix; a traceback only helps for anything else.
        log.error("engine start failed: %s", exc,
                  exc_info=None if isinstance(exc, (RuntimeError, ValueError)) else exc)
        self._on_event(EngineStartFinished(str(exc) or type(exc).__name__))

    @Slot()
    def shutdown(self) -> None:
        """Stop the engine (ends calls), then the rest, then the files. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.tasks.wait(self._starting, START_TIMEOUT + 1)
        try:
            self.engine.stop()
        except Exception:
            log.exception("engine stop failed")
        # Stopping hangs up live calls; deliver those last events so each call still
        # reaches history and the CRM outbox before anything closes.
        self.poster.flush()
        if self.audio is not None:
            self.audio.stop()
        if self.contactcenter is not None:
            self.contactcenter.stop()
        self.availability.stop()
        if self.crm is not None:
            self.crm.stop()
        self.poster.close()
        self.tasks.shutdown(TASKS_TIMEOUT)
        for closable in self._closables:
            try:
                closable.close()
            except Exception:
                log.exception("closing %r failed", closable)
        self.history.close()

    # -- engine → session --------------------------------------------------------------

    @Slot(object)
    def _on_event(self, event: EngineEvent | EngineStartFinished) -> None:
        if isinstance(event, EngineStartFinished):
            self.engine_running = event.error is None
            pending, self._pending_dials = self._pending_dials, []
            for target in pending if self.engine_running else ():
                self.dial(target)
            if event.error is not None:
                self.window.show_stopped()
                self.window.show_problem(_tr("The phone could not start: %s") % event.error,
                                         fatal=True)
            return
        log_engine_event(event)
        self.session.handle(event)
        if isinstance(event, EngineProblem) and event.fatal:
            self.window.show_problem(event.message, fatal=True)

    # -- intents -------------------------------------------------------------------------

    @Slot(str)
    def dial(self, text: str) -> None:
        self.phone.dial(text)

    @Slot(str)
    def dial_when_running(self, target: str) -> None:
        """Dial `target` (a link from outside) now, or as soon as the engine runs."""
        if self.engine_running:
            self.dial(target)
        elif not self._stopped:
            self._pending_dials.append(target)

    @Slot(str)
    def redial(self, number: str) -> None:
        self.phone.redial(number)

    def refresh_history(self) -> None:
        self.phone.refresh_history()


def quit_on_signals(app: QCoreApplication,
                    quit: Callable[[], None] | None = None) -> QTimer:
    """SIGTERM / SIGINT quit like the tray's Quit, so calls are hung up (BYE) and the
    engine stops cleanly. Python runs signal handlers only between bytecodes, so a
    timer wakes the interpreter while Qt's loop runs. `quit`: the tray's Quit
    (DesktopWiring.quit); a bare `app.quit()` would let a window that hides to the tray
    refuse to close, and Qt 6 then cancels the quit.

    The handler only posts the quit: it runs between any two bytecodes of whatever the
    GUI thread is doing (handling a call's event, a screen-pop page's navigation), and
    quitting right there closes windows inside that handler. Posted, the quit runs from
    the event loop once the current handler has returned."""
    import signal

    stop = quit or app.quit
    wake = QTimer(app)
    requests = GuiPoster(wake)
    requests.received.connect(lambda _signum: stop())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: requests.post(signum))
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def run_until_quit(app: QCoreApplication, stops: Sequence[Callable[[], None]]) -> int:
    """Run Qt's event loop until the app quits, then call `stops` in order; returns the
    loop's exit code.

    The stops run here, once exec() has returned, so no other handler is half done: each
    call's events are handled to the end, in order, before the engine's last ones. What
    they release with deleteLater (the screen-pop page's profile) goes right after, as
    Qt does for deletions made before exec() returns.
    """
    try:
        return int(app.exec())
    finally:
        for stop in stops:
            try:
                stop()
            except Exception:
                log.exception("stopping %r failed", stop)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


__all__ = [
    "START_TIMEOUT",
    "EngineFactory",
    "EngineLike",
    "EngineStartFinished",
    "SwitchboardApp",
    "quit_on_signals",
    "run_until_quit",
]
