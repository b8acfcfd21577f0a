"""DesktopWiring (app.compose.build_desktop) between a real Desktop and the app, in-process
(offscreen, no tray; the engine is the ScriptedEngine, tests/fakes/scripted_engine.py):
toast Answer reaches the engine, a caller giving up counts as missed, the tray's status
menu sets the availability, a link that arrives before the engine runs is dialled once it
does, and closing the window without a tray quits. With real processes and SIP:
tests/integration/test_app_desktop.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app import config
from app.application import EngineStartFinished, SwitchboardApp
from app.compose import build_app, build_desktop
from app.core.history import MEMORY, History
from app.wiring.desktop import DesktopWiring
from tests.app_process import NUMBER
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine


@pytest.fixture
def wired(qtbot: QtBot) -> Iterator[tuple[SwitchboardApp, DesktopWiring, list[str]]]:
    quits: list[str] = []
    settings = config.Settings()
    settings.phone.audio = "null"  # a UI test: no sound card in the way
    app = build_app(None, settings, secrets=MemorySecretStore(),
                    history=History(MEMORY),
                    engine_factory=lambda sip, **kw: ScriptedEngine(sip, **kw))
    qtbot.addWidget(app.window)
    wiring = build_desktop(app, quit=lambda: quits.append("quit"))
    app.window.show()
    assert wiring.start() is not None  # offscreen: no tray, said once
    app.start()
    yield app, wiring, quits
    wiring.shutdown()
    app.shutdown()


def test_toast_answer_missed_count_and_tray_status(
        qtbot: QtBot, wired: tuple[SwitchboardApp, DesktopWiring, list[str]]) -> None:
    app, wiring, _ = wired
    desktop = wiring.desktop
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    qtbot.waitUntil(lambda: app.engine_running)

    first = engine.ring(name="Aino Virtanen", queue="Myynti")
    qtbot.waitUntil(lambda: desktop.notifier.toast(first) is not None)
    toast = desktop.notifier.toast(first)
    assert toast is not None and toast.queue_label.text() == "Queue: Myynti"
    toast.answer_button.click()
    assert ("answer", first) in engine.commands
    qtbot.waitUntil(lambda: desktop.notifier.toast(first) is None)
    engine.remote_hangs_up(first)

    second = engine.ring()
    qtbot.waitUntil(lambda: desktop.notifier.toast(second) is not None)
    engine.remote_hangs_up(second)  # the caller gave up while it rang
    qtbot.waitUntil(lambda: desktop.tray.missed_count == 1)
    assert desktop.notifier.toast(second) is None
    desktop.tray.missed_action.trigger()
    assert app.window.history_view.current_filter() == "missed"
    assert desktop.tray.missed_count == 0

    busy = next(a for a in desktop.tray.status_menu.actions() if a.text() == "Busy")
    busy.trigger()
    qtbot.waitUntil(lambda: app.availability.availability.current.status.name == "Busy")
    assert [a.text() for a in desktop.tray.status_menu.actions() if a.isChecked()] == ["Busy"]
    assert "Busy" in desktop.tray.tooltip()


def test_link_before_the_engine_runs_is_dialled_once_it_does(
        qtbot: QtBot, wired: tuple[SwitchboardApp, DesktopWiring, list[str]]) -> None:
    app, wiring, _ = wired
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    app.engine_running = False  # as if the start were still under way
    wiring.desktop.handle_forwarded(["dial", "tel:+358-40-123 4567"])
    assert not any(c[0] == "dial" for c in engine.commands)
    app._on_event(EngineStartFinished(None))
    assert ("dial", NUMBER, None) in engine.commands


def test_closing_the_window_without_a_tray_quits(
        qtbot: QtBot, wired: tuple[SwitchboardApp, DesktopWiring, list[str]]) -> None:
    app, wiring, quits = wired
    assert not wiring.hides_to_tray()  # offscreen has no tray
    app.window.close()
    qtbot.waitUntil(lambda: quits == ["quit"])
