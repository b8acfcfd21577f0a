"""The composition root: builds the engine, bridge, session, history and window, and wires them.

Nothing else creates these objects or reaches them through globals. The engine is started
off the GUI thread so a slow start never freezes the window; a failure to start becomes a
message in the window, not a crash. Quitting stops the engine before Qt goes away.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from app import config
from app.config import ConfigProblem, Settings, SipSettings
from app.core.calls import (
    Call,
    CallRecord,
    CallResult,
    Direction,
    EngineEvent,
    EngineProblem,
    RegistrationChanged,
    RingPolicy,
)
from app.core.history import MEMORY, History, HistoryError
from app.core.phone import CallControl, PhoneSession
from app.logs import call_event, log_engine_event
from app.paths import Profile
from app.ui.bridge import EngineBridge
from app.ui.main_window import MainWindow
from app.wiring.availability import AvailabilityWiring, Clock, utc_now
from app.wiring.crm import crm_wiring

if TYPE_CHECKING:
    from app.audio.controller import AudioController
    from app.wiring.audio import AudioWiring

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
START_TIMEOUT = 10.0


class EngineLike(CallControl, Protocol):
    """What the composition root needs of app.telephony.engine.Engine."""

    def start(self, timeout: float = 10.0) -> None: ...
    def stop(self) -> None: ...


EngineFactory = Callable[..., EngineLike]  # called like Engine(sip, password=..., ...)


@dataclass(frozen=True)
class EngineStartFinished:
    """Posted through the bridge by the starter thread (None: the engine runs)."""

    error: str | None


def _tr(text: str) -> str:
    return QCoreApplication.translate("SwitchboardApp", text)


def _real_engine(sip: SipSettings, **kw: Any) -> EngineLike:
    from app.telephony.engine import Engine  # pjsua2 loads only when a real phone is wanted

    return Engine(sip, **kw)


class SwitchboardApp(QObject):
    """Owns every long-lived object of a running phone; `start()` then `shutdown()`."""

    def __init__(self, profile: Profile | None, settings: Settings, *,
                 engine_factory: EngineFactory = _real_engine,
                 history: History | None = None,
                 policy: RingPolicy | None = None,
                 clock: Clock = utc_now,
                 problems: Sequence[ConfigProblem] = ()) -> None:
        super().__init__()
        self.profile = profile
        self.settings = settings
        region = settings.phone.default_region
        self.window = MainWindow(region)
        self.bridge = EngineBridge(self)
        self.history = history if history is not None else self._open_history()
        self._history_filter = "all"
        self._history_search = ""
        self._starter: threading.Thread | None = None
        self._stopped = False
        self.engine_running = False
        self._pending_dials: list[str] = []  # links that arrived before the engine ran

        # Availability decides who may ring, so it exists before the engine does.
        self.availability = AvailabilityWiring(settings, self.window, profile, clock=clock,
                                               parent=self)
        password = self._password()
        audio = self._build_audio() if settings.phone.audio != "null" else None
        self.engine = engine_factory(
            settings.sip, password=password,
            policy=policy or self.availability.ring_policy,
            on_event=self.bridge.post, region=region,
            audio=audio.path if audio else None, log_sip=settings.log.sip_trace)
        self.session = PhoneSession(self.engine, self.history, settings)
        self._connect()
        self.audio = self._wire_audio(audio) if audio else None
        self.window.set_caller_ids(self.session.caller_ids, self.session.caller_id)
        self.availability.attach(self.engine, self.session, dial=self.redial)
        # CRM lookups, page actions and the outbox run here, never on the GUI thread.
        self.crm_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="crm")
        self.crm = crm_wiring(settings, profile, self.session, self.window, self.crm_pool,
                              parent=self)
        self.refresh_history()
        for problem in problems:
            self.window.show_problem(_tr("Setting ignored: %s") % problem)

    # -- building ----------------------------------------------------------------------

    def _open_history(self) -> History:
        if self.profile is None:
            return History(MEMORY)
        path = self.profile.db_path("history")
        try:
            return History(path)
        except HistoryError as exc:
            log.error("call history unavailable: %s", exc)
            self.window.show_problem(
                _tr("Call history is not being saved this session: %s") % exc)
            return History(MEMORY)

    def _build_audio(self) -> AudioController:
        from app.audio.controller import AudioController
        from app.audio.devices import AudioDevices
        from app.audio.path import AudioPath
        from app.audio.tones import TonePlayer

        if self.settings.audio.echo_cancellation == "system":
            # PulseAudio and PipeWire load their echo canceller for streams of role
            # "phone"; the client's properties come from this variable, read when Qt
            # Multimedia first connects (below), so it must be set before.
            os.environ.setdefault("PULSE_PROP", "media.role=phone filter.want=echo-cancel")
        profile, settings = self.profile, self.settings

        def save() -> None:
            if profile is not None:
                config.save_section(settings, "audio", profile.config_path)

        return AudioController(settings.audio, AudioDevices(self), AudioPath(self),
                               TonePlayer(self), save=save, parent=self)

    def _wire_audio(self, controller: AudioController) -> AudioWiring:
        from app.ui.audio_settings import AudioSettingsDialog, AudioSettingsPage
        from app.wiring.audio import AudioWiring

        dialog = AudioSettingsDialog(AudioSettingsPage(), self.window)
        return AudioWiring(controller, self.session, self.window, dialog, parent=self)

    def _password(self) -> str | None:
        from app import secrets

        try:
            return secrets.get_sip_password(self.settings.sip)
        except secrets.SecretStoreUnavailable as exc:
            self.window.show_problem(str(exc))
            return None

    def _connect(self) -> None:
        w, s = self.window, self.session
        self.bridge.event_received.connect(self._on_event)
        s.subscribe(on_call_updated=self._call_updated, on_call_ended=self._call_ended,
                    on_registration=self._registration, on_problem=w.show_problem)
        w.dial_requested.connect(self.dial)
        w.redial_requested.connect(self.redial)
        w.answer_requested.connect(s.answer)
        w.decline_requested.connect(s.decline)
        w.hangup_requested.connect(s.hangup)
        w.mute_requested.connect(s.set_mute)
        w.hold_requested.connect(s.set_hold)
        w.dtmf_requested.connect(s.send_dtmf)
        w.caller_id_selected.connect(lambda n: s.choose_caller_id(n or None))
        w.history_filter_requested.connect(self._set_history_filter)
        w.history_search_requested.connect(self._set_history_search)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, *, show: bool = True) -> None:
        """Show the window and start the engine on a helper thread."""
        if show:
            self.window.show()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.availability.start()
        if self.audio is not None:
            self.audio.start()
        self._starter = threading.Thread(target=self._start_engine, name="engine-start",
                                         daemon=True)
        self._starter.start()
        if self.crm is not None:
            self.crm.start()

    def _start_engine(self) -> None:
        try:
            self.engine.start(START_TIMEOUT)
        except Exception as exc:  # any start failure is shown, never raised into Qt
            # EngineError says what to fix; a traceback only helps for anything else.
            log.error("engine start failed: %s", exc,
                      exc_info=not isinstance(exc, (RuntimeError, ValueError)))
            self.bridge.post(EngineStartFinished(str(exc) or type(exc).__name__))
        else:
            self.bridge.post(EngineStartFinished(None))

    @Slot()
    def shutdown(self) -> None:
        """Stop the engine (ends calls), then close history. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._starter is not None:
            self._starter.join(START_TIMEOUT + 1)
        try:
            self.engine.stop()
        except Exception:
            log.exception("engine stop failed")
        # Stopping hangs up live calls; deliver those last events so each call still
        # reaches history and the CRM outbox before anything closes.
        QCoreApplication.sendPostedEvents(self.bridge, 0)
        if self.audio is not None:
            self.audio.stop()
        self.availability.stop()
        if self.crm is not None:
            self.crm.stop()
        self.crm_pool.shutdown(wait=False, cancel_futures=True)
        self.bridge.close()
        self.history.close()

    # -- engine → session → window -----------------------------------------------------

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

    def _call_updated(self, call: Call) -> None:
        if call.ended:
            self.window.remove_call(call.handle)
        else:
            self.window.show_call(call)

    def _call_ended(self, record: CallRecord) -> None:
        call_event("recorded", call_id=record.call_id, result=record.result.value,
                   direction=record.direction.value, remote=record.remote_number,
                   wait=round(record.wait_seconds, 3), talk=round(record.talk_seconds, 3))
        self.refresh_history()

    def _registration(self, ev: RegistrationChanged) -> None:
        self.window.show_registration(ev)

    # -- intents -------------------------------------------------------------------------

    @Slot(str)
    def dial(self, text: str) -> None:
        outcome = self.session.dial(text)
        if outcome.ok:
            self.window.dial_accepted()
        else:
            self.window.show_dial_error(outcome.error)

    @Slot(str)
    def dial_when_running(self, target: str) -> None:
        """Dial `target` (a link from outside) now, or as soon as the engine runs."""
        if self.engine_running:
            self.dial(target)
        elif not self._stopped:
            self._pending_dials.append(target)

    @Slot(str)
    def redial(self, number: str) -> None:
        self.window.dialpad.set_number(number)
        self.dial(number)

    # -- history -------------------------------------------------------------------------

    def _set_history_filter(self, key: str) -> None:
        self._history_filter = key
        self.refresh_history()

    def _set_history_search(self, text: str) -> None:
        self._history_search = text
        self.refresh_history()

    def refresh_history(self) -> None:
        key = self._history_filter
        result = CallResult.MISSED if key == "missed" else None
        direction = {"inbound": Direction.INBOUND,
                     "outbound": Direction.OUTBOUND}.get(key)
        try:
            if self._history_search.strip():
                records = [r for r in self.history.search(
                    self._history_search, HISTORY_LIMIT,
                    region=self.settings.phone.default_region)
                    if (result is None or r.result is result)
                    and (direction is None or r.direction is direction)]
            else:
                records = self.history.recent(HISTORY_LIMIT, result=result,
                                              direction=direction)
        except HistoryError as exc:
            self.window.show_problem(str(exc))
            return
        self.window.set_history(records)


def quit_on_signals(app: QCoreApplication) -> QTimer:
    """SIGTERM / SIGINT quit like the tray's Quit, so calls are hung up (BYE) and the
    engine stops cleanly. Python runs signal handlers only between bytecodes, so a
    timer wakes the interpreter while Qt's loop runs."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.quit())
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def run_app(profile: Profile, settings: Settings, *, argv: Sequence[str],
            problems: Sequence[ConfigProblem] = (), dial: str | None = None) -> int:
    """Run the phone until the agent quits; returns the process exit code.

    `dial`: a link (`tel:`, `sip:`, `callto:`) to call once the engine runs. When another
    Switchboard already runs on this profile, the start (and `dial`) is handed to it and
    this returns 0 at once.
    """
    from app.core.links import parse_link
    from app.desktop.integration import Desktop
    from app.desktop.launch import LinkAwareApplication, claim_instance
    from app.i18n import install_translator
    from app.ui.screenpop import register_schemes
    from app.wiring.desktop import DesktopWiring, show_missed_calls

    register_schemes()  # Qt wants custom URL schemes declared before the QApplication
    app = QApplication.instance() or LinkAwareApplication(list(argv))
    app.setApplicationName("Switchboard")
    app.setOrganizationName("Switchboard")
    profile.ensure()
    instance = claim_instance(profile.config_dir, ["dial", dial] if dial else [])
    if instance is None:
        log.info("handed over to the running Switchboard")
        return 0
    install_translator(app, settings.ui.language)  # before any widget is built
    region = settings.phone.default_region
    switchboard = SwitchboardApp(profile, settings, problems=problems)
    availability = switchboard.availability
    desktop = DesktopWiring(
        Desktop(switchboard.window, instance=instance, region=region, parent=switchboard),
        switchboard.window, switchboard.session, dial=switchboard.dial_when_running,
        statuses=[s.name for s in availability.availability.statuses],
        request_status=availability.request_status,
        show_missed=lambda: show_missed_calls(switchboard.window),
        quit=app.quit, parent=switchboard)
    availability.changed.connect(desktop.show_availability)
    desktop.show_availability(availability.availability.current)
    desktop.desktop.problem.connect(switchboard.window.show_problem)
    switchboard.start(show=not settings.ui.start_hidden)
    note = desktop.start()
    if note is not None:
        switchboard.window.show_problem(note)
    if dial:
        switchboard.dial_when_running(parse_link(dial, region).value)
    quit_on_signals(app)
    try:
        return int(app.exec())
    finally:
        desktop.shutdown()
        switchboard.shutdown()
