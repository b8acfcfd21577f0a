"""The one way across threads (app/threads.py): the GUI poster and the task runner's lanes."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QThread
from pytestqt.qtbot import QtBot

from app.threads import GuiPoster, Lane, TaskRunner


def test_poster_delivers_on_the_gui_thread_in_order_and_nothing_after_close(
        qtbot: QtBot) -> None:
    poster = GuiPoster()
    got: list[tuple[object, bool]] = []
    gui = QThread.currentThread()
    poster.received.connect(lambda item: got.append((item, QThread.currentThread() is gui)))
    worker = threading.Thread(target=lambda: [poster.post(i) for i in range(50)])
    worker.start()
    worker.join()
    assert got == []  # nothing runs on the posting thread
    qtbot.waitUntil(lambda: len(got) == 50)
    assert got == [(i, True) for i in range(50)]
    poster.post("queued")
    poster.close()
    poster.post("late")
    poster.flush()
    assert len(got) == 50  # closed: neither the queued item nor the late one arrives


def test_flush_delivers_what_is_queued_at_once(qtbot: QtBot) -> None:
    poster = GuiPoster()
    got: list[object] = []
    poster.received.connect(got.append)
    poster.post("last words of a stopping engine")
    assert got == []
    poster.flush()
    assert got == ["last words of a stopping engine"]


def test_thousands_of_emits_do_not_exhaust_true(qtbot: QtBot) -> None:
    # PySide6 6.12.0 on Python 3.11 drops a reference to True per emit() and aborts the
    # interpreter (bool_dealloc); pyproject.toml pins PySide6 below it.
    poster = GuiPoster()
    for i in range(5000):
        poster.received.emit(i)
    assert sys.getrefcount(True) > 1000


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown(5)


@pytest.mark.parametrize("lane", list(Lane))
def test_a_task_runs_off_the_gui_thread_and_its_result_comes_back_on_it(
        qtbot: QtBot, tasks: TaskRunner, lane: Lane) -> None:
    gui = threading.get_ident()
    seen: list[tuple[str, bool]] = []

    def work() -> str:
        seen.append(("work", threading.get_ident() == gui))
        return threading.current_thread().name

    tasks.run(lane, work, succeeded=lambda name: seen.append((name, threading.get_ident()
                                                                == gui)))
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert seen[0] == ("work", False)
    name, on_gui = seen[1]
    assert name.startswith(f"{lane.value}-lane") and on_gui


def test_a_failure_comes_back_to_failed_on_the_gui_thread(
        qtbot: QtBot, tasks: TaskRunner) -> None:
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("the CRM said no")

    tasks.run(Lane.NETWORK, boom, succeeded=lambda _r: errors.append(AssertionError()),
              failed=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert [str(e) for e in errors] == ["the CRM said no"]


def test_a_slow_network_task_does_not_hold_up_the_database_lane(
        qtbot: QtBot) -> None:
    runner = TaskRunner(workers={Lane.NETWORK: 1, Lane.DB: 1})
    release = threading.Event()
    done: list[str] = []
    runner.run(Lane.NETWORK, lambda: release.wait(10), succeeded=lambda _r: done.append("net"))
    runner.run(Lane.DB, lambda: "db", succeeded=done.append)
    qtbot.waitUntil(lambda: done == ["db"])
    release.set()
    qtbot.waitUntil(lambda: done == ["db", "net"])
    runner.shutdown(5)


def test_shutdown_drops_queued_work_bounds_the_wait_and_delivers_nothing_after(
        qtbot: QtBot) -> None:
    runner = TaskRunner(workers={Lane.DB: 1})
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []
    delivered: list[object] = []

    def blocker() -> str:
        started.set()
        release.wait(10)
        ran.append("blocker")
        return "blocker"

    late = runner.run(Lane.DB, blocker, succeeded=delivered.append)
    runner.run(Lane.DB, lambda: ran.append("queued"), succeeded=delivered.append)
    assert started.wait(10) and late is not None
    assert runner.shutdown(0.05) is False  # the blocker is still running: it said so
    assert runner.run(Lane.DB, lambda: ran.append("late")) is None
    # The blocker ends after shutdown, on its worker, maybe while the app deletes the
    # runner: it must not emit on the runner at all (a crash at exit that hung on timing).
    emitted: list[object] = []
    runner._finished.connect(emitted.append, Qt.ConnectionType.DirectConnection)
    after = threading.Event()
    late.add_done_callback(lambda _f: after.set())  # runs after the runner's own callback
    release.set()
    assert after.wait(10)
    assert emitted == []
    qtbot.wait(0)  # and nothing is on its way to the GUI thread either
    assert ran == ["blocker"] and delivered == []  # queued one never ran; nothing delivered
