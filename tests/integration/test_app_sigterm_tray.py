"""SIGTERM quits the real app even while a tray icon would hide its window (issue 10).

Qt 6's `QCoreApplication.quit()` first closes every window and gives up when one refuses;
the main window refuses a close while a tray icon exists (it hides to the tray). So the
signal handler goes through the tray's Quit (DesktopWiring.quit). Under Xvfb with trayer
as the tray host: the app starts with its window shown and the icon docked, SIGTERM, and
a close of the window hides it to the tray, the window is shown again, SIGTERM, and
`run_app` returns 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from tests.app_process import WAIT, AppProcess, app_env, make_profile
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.integration.conftest import free_port
from tests.ui.test_tray import xvfb_with_tray as xvfb_with_tray  # Xvfb + trayer fixture

# run_app on the Xvfb display; a timer says once the window is shown and the tray is up.
DRIVER = r"""
import gc, json, sys
from pathlib import Path

args = json.loads(sys.argv[1])
from app import config, logs
from app.desktop.launch import LinkAwareApplication
from app.paths import Profile
from app.ui.screenpop import register_schemes

register_schemes()
qapp = LinkAwareApplication([sys.argv[0]])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QSystemTrayIcon
from app.compose import run_app
from app.desktop.tray import Tray
from app.ui.main_window import MainWindow

profile = Profile.at(Path(args["profile"]))
settings, problems = config.load(profile.config_path)
logs.setup(profile.log_dir, level="info", fmt="json", stderr=True)

def say(**kw):
    print(json.dumps(kw), flush=True)

state = {"step": "wait"}
def tick():
    windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)]
    if not windows:
        return
    window, step = windows[0], state["step"]
    trays = [o for o in gc.get_objects() if isinstance(o, Tray)]  # the app's own
    if step == "wait" and window.isVisible() and QSystemTrayIcon.isSystemTrayAvailable() \
            and trays and trays[0].available and trays[0].can_ring:
        window.close()  # hides to the tray (the quit below must not)
        state["step"] = "closed"
    elif step == "closed":
        hidden = not window.isVisible()
        window.show()
        state["step"] = "shown"
        say(phase="up", hidden_to_tray=hidden)

timer = QTimer()
timer.setInterval(100)
timer.timeout.connect(tick)
timer.start()
code = run_app(profile, settings, problems=problems, argv=[sys.argv[0]])
say(phase="exit", code=code)
sys.exit(code)
"""


def test_sigterm_quits_even_with_a_tray_host(
        tmp_path: Path, processes: Callable[..., AppProcess], xvfb_with_tray: str) -> None:
    profile = make_profile(tmp_path / "profile", port=free_port(), start_hidden=False)
    env = app_env(DISPLAY=xvfb_with_tray, QT_QPA_PLATFORM="xcb")
    app = processes([sys.executable, "-c", DRIVER,
                     json.dumps({"profile": str(profile.root)})], env)
    app.event("registration")
    assert app.phase("up")["hidden_to_tray"] is True  # a close hides; the window is back
    app.proc.terminate()  # SIGTERM, as `kill` or a session logout sends
    assert app.phase("exit")["code"] == 0
    assert app.proc.wait(WAIT) == 0
