"""The real app process doing what a test orders: what the agent would click.

Some app-process tests need the agent's hand in the middle of a call: a choice in the CRM
dialog, the call card's Hang up or Transfer. `driver_cmd` starts `run_app` (as
`python -m app run` calls it) with a timer that reads the test's orders: each one a
<inbox>/do-*.json file, written whole and then renamed so it is never read half-written.
Each order goes to `act(window, order, inbox)`, a function the test module names; it
returns False when its moment has not come (it is asked again on the next tick), else the
order is done and never handed over again.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Act = Callable[[Any, dict[str, Any], Path], bool]  # (MainWindow, order, inbox) -> done


def driver_cmd(profile_root: Path, inbox: Path, act: str, *, tick_ms: int = 100) -> list[str]:
    """The command for an app process driven by `act` ("module:function")."""
    return [sys.executable, "-m", "tests.app_driver", json.dumps(
        {"profile": str(profile_root), "inbox": str(inbox), "act": act, "tick_ms": tick_ms})]


def order(inbox: Path, name: str, /, **fields: Any) -> None:
    """Give the driver an order (whole, then renamed: never read half-written)."""
    tmp = inbox / f"{name}.tmp"
    tmp.write_text(json.dumps(fields))
    tmp.replace(inbox / f"do-{name}.json")


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    from app import config, logs
    from app.desktop.launch import LinkAwareApplication
    from app.paths import Profile
    from app.ui.screenpop import register_schemes

    register_schemes()  # before the QApplication exists
    qapp = LinkAwareApplication([argv[0]])
    from PySide6.QtCore import QTimer

    from app.compose import run_app
    from app.ui.main_window import MainWindow

    module, name = args["act"].split(":")
    act: Act = getattr(importlib.import_module(module), name)
    profile = Profile.at(Path(args["profile"]))
    settings, problems = config.load(profile.config_path)
    logs.setup(profile.log_dir, level="info", fmt="json", stderr=True)
    inbox = Path(args["inbox"])
    done: set[str] = set()

    def tick() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows:
            return
        for path in sorted(inbox.glob("do-*.json")):
            if path.name not in done and act(windows[0], json.loads(path.read_text()), inbox):
                done.add(path.name)

    timer = QTimer()
    timer.setInterval(int(args.get("tick_ms", 100)))
    timer.timeout.connect(tick)
    timer.start()
    return run_app(profile, settings, problems=problems, argv=[argv[0]])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
