"""Tray icon: offscreen (no tray: say so once, keep working) and under Xvfb with trayer."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from app.core.availability import StatusType
from app.core.calls import RegistrationState
from app.desktop.icons import draw, tray_icon
from app.desktop.tray import Tray

REPO = Path(__file__).resolve().parents[2]
STATUSES = ["Available", "Busy", "Lunch", "Off work"]


# -- offscreen (the default for every Qt test) ------------------------------------------

@pytest.fixture
def tray(qtbot: QtBot) -> Iterator[Tray]:
    t = Tray(STATUSES)
    yield t
    t.stop()


def test_no_tray_is_said_once_and_nothing_breaks(tray: Tray) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    message = tray.start()
    assert message is not None and "no system tray" in message
    assert tray.start() is None  # once
    assert not tray.available
    assert not tray.geometry().isValid()
    tray.set_registration(RegistrationState.REGISTERED)
    tray.set_availability("Busy", StatusType.BUSY)
    tray.set_missed_count(2)
    assert "2 missed calls" in tray.tooltip()


def test_status_menu_emits_intent_and_checks_only_what_is_in_force(
        qtbot: QtBot, tray: Tray) -> None:
    tray.set_availability("Available", StatusType.AVAILABLE)
    names = [a.text() for a in tray.status_menu.actions()]
    assert names == STATUSES
    lunch = tray.status_menu.actions()[2]
    with qtbot.waitSignal(tray.status_requested, timeout=1000) as blocker:
        lunch.trigger()
    assert blocker.args == ["Lunch"]
    checked = [a.text() for a in tray.status_menu.actions() if a.isChecked()]
    assert checked == ["Available"]  # not yet accepted by the phone system
    tray.set_availability("Lunch", StatusType.OFFWORK)
    assert [a.text() for a in tray.status_menu.actions() if a.isChecked()] == ["Lunch"]


def test_statuses_can_be_replaced(tray: Tray) -> None:
    tray.set_statuses(["Available", "Training"])
    assert [a.text() for a in tray.status_menu.actions()] == ["Available", "Training"]
    tray.set_statuses([])
    assert not tray.status_menu.isEnabled()


def test_window_action_toggles_show_and_hide(qtbot: QtBot, tray: Tray) -> None:
    assert tray.window_action.text() == "Hide window"
    with qtbot.waitSignal(tray.hide_window_requested, timeout=1000):
        tray.window_action.trigger()
    tray.set_window_visible(False)
    assert tray.window_action.text() == "Show window"
    with qtbot.waitSignal(tray.show_window_requested, timeout=1000):
        tray.window_action.trigger()


def test_clicking_the_icon_shows_the_window(qtbot: QtBot, tray: Tray) -> None:
    with qtbot.waitSignal(tray.show_window_requested, timeout=1000):
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)


def test_quit_and_missed_entries(qtbot: QtBot, tray: Tray) -> None:
    assert not tray.missed_action.isVisible()
    tray.set_missed_count(1)
    assert tray.missed_action.isVisible()
    assert tray.missed_action.text() == "1 missed call"
    assert "1 missed call" in tray.icon.toolTip()
    with qtbot.waitSignal(tray.missed_calls_requested, timeout=1000):
        tray.missed_action.trigger()
    with qtbot.waitSignal(tray.quit_requested, timeout=1000):
        tray.quit_action.trigger()
    tray.set_missed_count(0)
    assert not tray.missed_action.isVisible()


def test_tooltip_says_status_and_registration(tray: Tray) -> None:
    tray.set_availability("Available", StatusType.AVAILABLE)
    tray.set_registration(RegistrationState.FAILED)
    assert tray.tooltip() == "Switchboard — Available\nnot connected"
    assert not tray.can_ring
    assert tray.state_action.text() == "Not connected"


def test_icon_differs_by_availability_and_registration(qtbot: QtBot) -> None:
    def image(status: StatusType | None, reg: RegistrationState) -> QImage:
        return draw(32, status, reg).toImage()

    reg, failed = RegistrationState.REGISTERED, RegistrationState.FAILED
    available = image(StatusType.AVAILABLE, reg)
    assert available != image(StatusType.BUSY, reg)
    assert available != image(StatusType.AVAILABLE, failed)
    assert image(StatusType.AVAILABLE, failed) != image(StatusType.AVAILABLE,
                                                        RegistrationState.REGISTERING)
    assert image(StatusType.AVAILABLE, RegistrationState.DISABLED) == available
    icon = tray_icon(StatusType.AVAILABLE, reg)
    assert {s.width() for s in icon.availableSizes()} >= {16, 22, 32, 64}


# -- a real tray: Xvfb with trayer as the system-tray host --------------------------------

XCB_CHILD = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
from app.core.availability import StatusType
from app.core.calls import RegistrationState
from app.desktop.notifications import Notifier
from app.desktop.tray import Tray

app = QApplication(sys.argv)
out = {"platform": app.platformName()}
deadline = 0
def wait_tray():
    global deadline
    if QSystemTrayIcon.isSystemTrayAvailable() or deadline > 100:
        QTimer.singleShot(0, run)
    else:
        deadline += 1
        QTimer.singleShot(100, wait_tray)

def run():
    tray = Tray(["Available", "Busy"])
    out["message"] = tray.start()
    tray.set_availability("Available", StatusType.AVAILABLE)
    tray.set_registration(RegistrationState.REGISTERED)
    tray.set_missed_count(3)
    def check():
        out["available"] = tray.available
        g = tray.geometry()
        out["geometry"] = [g.x(), g.y(), g.width(), g.height()]
        out["tooltip"] = tray.icon.toolTip()
        notifier = Notifier("FI", tray.geometry)
        notifier.incoming_call(1, "Aino", "+358401234567", "Sales")
        t = notifier.toast(1)
        out["toast"] = [t.x(), t.y(), t.width(), t.height(), t.isVisible()]
        screen = app.primaryScreen().geometry()
        out["screen"] = [screen.width(), screen.height()]
        notifier.close_all()
        tray.stop()
        print(json.dumps(out), flush=True)
        app.quit()
    QTimer.singleShot(1500, check)  # trayer docks the icon asynchronously

QTimer.singleShot(0, wait_tray)
sys.exit(app.exec())
"""


def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(
                f"/tmp/.X{number}-lock").exists():
            return number
    pytest.skip("no free X display number")


def _wait_for_socket(number: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    path = f"/tmp/.X11-unix/X{number}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Xvfb exited with {proc.returncode}")
        if os.path.exists(path):
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(path)
                    return
                except OSError:
                    pass
        time.sleep(0.05)
    pytest.fail("Xvfb did not start")


@pytest.fixture(scope="module")
def xvfb_with_tray() -> Iterator[str]:
    if sys.platform != "linux":
        pytest.skip("Xvfb and trayer are Linux tools")
    missing = [tool for tool in ("Xvfb", "trayer") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install xvfb trayer)")
    number = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    trayer = None
    try:
        _wait_for_socket(number, xvfb, 20)
        env = dict(os.environ, DISPLAY=f":{number}")
        trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right",
                                   "--widthtype", "request", "--height", "24"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        if trayer.poll() is not None:
            pytest.fail(f"trayer exited with {trayer.returncode}")
        yield f":{number}"
    finally:
        for proc in (trayer, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_real_tray_shows_the_icon_and_toast_sits_under_it(xvfb_with_tray: str) -> None:
    # A QApplication's platform is fixed for the process (offscreen here), so the xcb
    # part runs in a child process on the Xvfb display.
    env = dict(os.environ, DISPLAY=xvfb_with_tray, QT_QPA_PLATFORM="xcb",
               PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", XCB_CHILD], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["platform"] == "xcb"
    assert out["message"] is None
    assert out["available"] is True
    x, y, w, h = out["geometry"]
    assert w > 0 and h > 0
    assert y < 100 and x > out["screen"][0] // 2  # trayer sits at the top right
    assert "Available" in out["tooltip"] and "3 missed calls" in out["tooltip"]
    tx, ty, tw, _th, visible = out["toast"]
    assert visible
    assert ty >= y + h  # below a tray at the top edge
    assert tx + tw <= out["screen"][0]


# -- macOS hands links over as FileOpen events to the application object ----------------

FILE_OPEN_CHILD = r"""
import json, sys
from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QWidget
from app.desktop.integration import Desktop
from app.desktop.launch import LinkAwareApplication

app = LinkAwareApplication(sys.argv)
window = QWidget()
desktop = Desktop(window, region="FI")
got = {"links": [], "dials": [], "problems": []}
app.link_opened.connect(got["links"].append)
desktop.dial_requested.connect(got["dials"].append)
desktop.problem.connect(got["problems"].append)
for url in ("tel:040%201234567", "file:///etc/passwd", "sip:bob@example.com?Route=x"):
    QCoreApplication.sendEvent(app, QFileOpenEvent(QUrl(url)))
desktop.shutdown()
print(json.dumps(got))
"""


def test_file_open_links_reach_desktop_through_the_application() -> None:
    # The test session's QApplication is a plain one; this needs our subclass.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", FILE_OPEN_CHILD], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["links"] == ["tel:040 1234567", "sip:bob@example.com?Route=x"]  # QUrl decodes
    assert got["dials"] == ["+358401234567"]
    assert len(got["problems"]) == 1 and "headers" in got["problems"][0]


# -- Desktop: the pieces together around a window -------------------------------------------

@pytest.fixture
def desktop(qtbot: QtBot) -> Iterator[object]:
    from PySide6.QtWidgets import QWidget

    from app.desktop.integration import Desktop

    window = QWidget()
    qtbot.addWidget(window)
    d = Desktop(window, statuses=STATUSES, region="FI")
    d.start()
    yield d
    d.shutdown()


def test_forwarded_dial_is_parsed_again_and_shows_the_window(qtbot: QtBot,
                                                              desktop: object) -> None:
    from app.desktop.integration import Desktop

    assert isinstance(desktop, Desktop)
    with qtbot.waitSignal(desktop.dial_requested, timeout=1000) as blocker:
        desktop.handle_forwarded(["dial", "tel:040 1234567"])
    assert blocker.args == ["+358401234567"]
    assert desktop.window.isVisible()
    with qtbot.assertNotEmitted(desktop.dial_requested), \
            qtbot.waitSignal(desktop.problem, timeout=1000) as problem:
        desktop.handle_forwarded(["dial", "sip:a@b.example?Route=x"])
    assert "headers" in problem.args[0]


def test_plain_second_start_brings_the_window_back(qtbot: QtBot, desktop: object) -> None:
    from app.desktop.integration import Desktop

    assert isinstance(desktop, Desktop)
    desktop.window.hide()
    assert desktop.tray.window_action.text() == "Show window"
    desktop.handle_forwarded([])
    assert desktop.window.isVisible()
    assert desktop.tray.window_action.text() == "Hide window"


def test_toast_and_tray_meet_in_desktop(qtbot: QtBot, desktop: object) -> None:
    from app.desktop.integration import Desktop

    assert isinstance(desktop, Desktop)
    desktop.incoming_call(4, "Aino", "+358401234567", "Sales")
    toast = desktop.notifier.toast(4)
    assert toast is not None
    with qtbot.waitSignal(desktop.answer_requested, timeout=1000) as blocker:
        toast.answer_button.click()
    assert blocker.args == [4]
    desktop.incoming_call(5, "", "+358401234568")
    desktop.call_stopped_ringing(5, missed=True)
    assert desktop.tray.missed_count == 1
    assert "1 missed call" in desktop.tray.icon.toolTip()
    with qtbot.waitSignal(desktop.status_requested, timeout=1000) as status:
        desktop.tray.status_menu.actions()[1].trigger()
    assert status.args == ["Busy"]
