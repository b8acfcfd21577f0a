"""Quitting never runs inside another handler (issue 9: the quit-while-ringing bug).

Qt 6 emits aboutToQuit inside `quit()` itself, and a Python signal handler runs between
any two bytecodes of whatever the GUI thread is doing. The app used to stop from
aboutToQuit and its SIGTERM handler called `quit()` at once, so a SIGTERM that arrived
while a call's IncomingCall was being handled stopped the engine right there: the call's
end was handled before its start ("state ended for unknown call") and nothing recorded
it as missed. Here the signal arrives at exactly that point (after the event is logged,
before the session has the call), and the whole app runs with the ScriptedEngine under
`run_until_quit`, as `run_app` runs it.

Run by tests/ui/test_quit_while_handling.py in a Python of their own: quitting emits
aboutToQuit, on which QtWebEngine tears down its process-wide state, and the web views of
the tests before and after would be left on it (a segfault in a whole-suite run).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QMetaObject, Qt
from pytestqt.qtbot import QtBot

from app import application
from app.application import SwitchboardApp, quit_on_signals, run_until_quit
from app.compose import build_app
from app.config import Settings, SipSettings
from app.core.calls import (
    CallRecord,
    CallResult,
    CallState,
    CallStateChanged,
    HangupSide,
    IncomingCall,
)
from app.core.history import MEMORY, History
from app.logs import log_engine_event
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine


class HangsUpOnStop(ScriptedEngine):
    """Stopping ends every call still up, as the real engine's stop does (a ringing one
    with 603, our side)."""

    def __init__(self, settings: SipSettings, **kw: Any) -> None:
        super().__init__(settings, **kw)
        self.up: list[int] = []

    def ring(self, *args: Any, **kw: Any) -> int:
        self.up.append(super().ring(*args, **kw))
        return self.up[-1]

    def stop(self) -> None:
        super().stop()
        for handle in self.up:
            self.emit(CallStateChanged(handle, CallState.ENDED, 603, "Decline",
                                       HangupSide.LOCAL))
        self.up.clear()


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """quit_on_signals replaces the process's SIGTERM/SIGINT handlers: pytest's go back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


Phone = tuple[SwitchboardApp, HangsUpOnStop, list[CallRecord]]


@pytest.fixture
def phone(qtbot: QtBot) -> Iterator[Phone]:
    """The app started on the ScriptedEngine; the records of calls as they end."""
    engines: list[HangsUpOnStop] = []

    def factory(sip: SipSettings, **kw: Any) -> HangsUpOnStop:
        engines.append(HangsUpOnStop(sip, **kw))
        return engines[-1]

    settings = Settings()
    settings.phone.audio = "null"  # no sound card in the way
    app = build_app(None, settings, secrets=MemorySecretStore(), engine_factory=factory,
                    history=History(MEMORY))
    ended: list[CallRecord] = []
    app.session.subscribe(on_call_ended=ended.append)
    qtbot.addWidget(app.window)
    app.start(show=False)
    qtbot.waitUntil(lambda: app.engine_running)
    yield app, engines[0], ended
    app.shutdown()


def _missed_and_nothing_left(app: SwitchboardApp, ended: list[CallRecord],
                             call_id: str) -> None:
    assert [(r.call_id, r.result) for r in ended] == [(call_id, CallResult.MISSED)]
    assert app.session.calls == []


def test_sigterm_while_a_call_starts_ringing_quits_once_that_is_handled(
        qapp: QCoreApplication, phone: Phone,
        monkeypatch: pytest.MonkeyPatch, signal_handlers: None) -> None:
    app, engine, ended = phone
    seen: dict[str, Any] = {"handling": False, "quit_while_handling": None}

    def log_then_sigterm(event: object) -> None:
        log_engine_event(event)
        if isinstance(event, IncomingCall):
            seen["handling"] = True
            signal.raise_signal(signal.SIGTERM)  # its Python handler runs before the next line
            seen["stopped_while_handling"] = engine.stopped
            seen["handling"] = False

    def about_to_quit() -> None:
        seen["quit_while_handling"] = seen["handling"]

    monkeypatch.setattr(application, "log_engine_event", log_then_sigterm)
    qapp.aboutToQuit.connect(about_to_quit)
    wake = quit_on_signals(qapp)
    engine.ring()  # posted: handled once the loop runs
    try:
        assert run_until_quit(qapp, [app.shutdown]) == 0
    finally:
        qapp.aboutToQuit.disconnect(about_to_quit)
        shiboken6.delete(wake)

    assert seen["quit_while_handling"] is False  # the quit came once the handler returned
    assert seen["stopped_while_handling"] is False
    _missed_and_nothing_left(app, ended, "in-1")


def test_a_quit_asked_for_inside_a_handler_stops_the_app_only_after_the_loop(
        qapp: QCoreApplication, phone: Phone) -> None:
    # The tray's Quit and closing the window call quit() from inside a handler.
    app, engine, ended = phone
    stopped_inside: list[bool] = []

    def quit_now(_call: object) -> None:
        if not stopped_inside:
            QCoreApplication.quit()
            stopped_inside.append(engine.stopped)

    app.session.subscribe(on_call_updated=quit_now)
    engine.ring()
    assert run_until_quit(qapp, [app.shutdown]) == 0

    assert stopped_inside == [False]
    _missed_and_nothing_left(app, ended, "in-1")


def test_a_stop_that_fails_does_not_keep_the_others_from_running(
        qapp: QCoreApplication) -> None:
    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise RuntimeError("a stop failed")

    stops: list[Callable[[], None]] = [broken, lambda: ran.append("next")]
    QMetaObject.invokeMethod(qapp, "quit", Qt.ConnectionType.QueuedConnection)
    assert run_until_quit(qapp, stops) == 0
    assert ran == ["broken", "next"]
