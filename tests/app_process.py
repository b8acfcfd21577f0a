"""The real app as a subprocess, followed through its JSON log lines.

End-to-end tests start `python -m app --profile DIR --log-format json run` offscreen with
a temporary profile in direct SIP mode on 127.0.0.1, and wait on its structured log
lines (`event` fields from app/logs.py) instead of sleeping.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app import config
from app.core.crm import NewContact
from app.crm.local.store import LocalStore
from app.paths import Profile


def needs_sipp(test: Callable[..., None]) -> Callable[..., None]:
    marks = [pytest.mark.sip,
             pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
             pytest.mark.skipif(sys.platform != "linux", reason="xdg and Xvfb are Linux tools")]
    for mark in marks:
        test = mark(test)
    return test


REPO = Path(__file__).resolve().parents[1]
WAIT = 60.0  # the first Chromium start on a busy machine is slow
NUMBER = "+358401234567"


def app_env(**extra: str) -> dict[str, str]:
    # PYTHONFAULTHANDLER: a crash of the app prints every thread's Python stack to stderr,
    # which the test shows when it fails.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO),
           "PYTHONFAULTHANDLER": "1", **extra}
    if os.geteuid() == 0:
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
    return env


def make_profile(root: Path, *, port: int, sipp_port: int = 0, language: str = "en",
                 start_hidden: bool = True,
                 configure: Callable[[config.Settings], None] | None = None) -> Profile:
    """Direct SIP mode on 127.0.0.1:port; numbers are dialled to SIPp at sipp_port.

    The built-in CRM holds one contact, Aino Virtanen at NUMBER; `configure` may change
    the settings before they are saved."""
    profile = Profile.at(root).ensure()
    settings = config.Settings()
    sip = settings.sip
    sip.mode, sip.username, sip.listen_address, sip.port = "direct", "agent", "127.0.0.1", port
    sip.domain = f"127.0.0.1:{sipp_port}" if sipp_port else ""
    sip.srtp = "disabled"
    settings.phone.audio = "null"
    settings.ui.language = language
    settings.ui.start_hidden = start_hidden
    if configure is not None:
        configure(settings)
    config.save(settings, profile.config_path)
    with LocalStore(profile.db_path("crm")) as store:
        store.create_contact(NewContact("Aino", "Virtanen", phones=("040 123 4567",)))
    return profile


class Lines:
    """JSON lines of one stream, read on a thread; `wait` finds one matching fields."""

    def __init__(self, stream: Any) -> None:
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.text: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.text.append(line)
            try:
                value = json.loads(line)
            except ValueError:
                continue  # Chromium and pjsip write plain text too
            if isinstance(value, dict):
                self.queue.put(value)

    def wait(self, proc: subprocess.Popen[str], key: str, value: str,
             timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        def ok(line: dict[str, Any]) -> bool:
            return line.get(key) == value and all(line.get(k) == v for k, v in match.items())

        for line in self.seen:
            if ok(line):
                return line
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.queue.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        f"no {key}={value} {match} (exit {proc.poll()}); seen "
                        f"{[s.get(key) for s in self.seen]}\n{''.join(self.text[-40:])}"
                    ) from None
                continue
            self.seen.append(line)
            if ok(line):
                return line


class AppProcess:
    """The real app (`python -m app ... run`, or the driver below) with its log lines."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.log = Lines(self.proc.stderr)
        self.out = Lines(self.proc.stdout)

    def event(self, name: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        return self.log.wait(self.proc, "event", name, timeout, **match)

    def phase(self, name: str, timeout: float = WAIT) -> dict[str, Any]:
        return self.out.wait(self.proc, "phase", name, timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # The readers end at EOF once the process is gone; then the pipes are closed
        # (left to the garbage collector they are a ResourceWarning, an error here).
        for lines, stream in ((self.log, self.proc.stderr), (self.out, self.proc.stdout)):
            lines.reader.join(15)
            if stream is not None and not lines.reader.is_alive():
                stream.close()


@pytest.fixture
def processes() -> Iterator[Callable[..., AppProcess]]:
    started: list[AppProcess] = []

    def start(cmd: list[str], env: dict[str, str]) -> AppProcess:
        started.append(AppProcess(cmd, env))
        return started[-1]

    yield start
    for proc in started:
        proc.stop()


def run_cmd(profile: Profile) -> list[str]:
    return [sys.executable, "-m", "app", "--profile", str(profile.root), "--log-format",
            "json", "run"]
