"""The app killed with SIGKILL after a call ended still logs that call once restarted.

The real app runs as a subprocess (`python -m app --profile DIR --log-format json run`,
offscreen) and the test follows its structured log lines. SIPp rings it and gives up
(a missed call, which is logged too); the CRM file is held locked by the test meanwhile,
so the call log can only be in the outbox when the app is killed. The lock is released,
the app restarted, and the activity lands exactly once.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app import config
from app.crm.base import NewContact
from app.crm.local.store import LocalStore
from app.paths import Profile
from tests.integration.conftest import ROOT, Sipp, free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
]

WAIT = 60.0  # the first Chromium start on a busy machine is slow


class AppProcess:
    """`python -m app run` with its JSON log lines collected from stderr."""

    def __init__(self, profile: Path) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        if os.geteuid() == 0:
            env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--profile", str(profile), "--log-format", "json",
             "run"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                continue  # Chromium and pjsip write plain text to stderr too

    def wait_event(self, event: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for seen in self.seen:
            if seen.get("event") == event and all(seen.get(k) == v for k, v in match.items()):
                return seen
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"no {event} {match} (exit {self.proc.poll()}); "
                                     f"events: {[s.get('event') for s in self.seen]}")
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.get("event") == event and all(line.get(k) == v for k, v in match.items()):
                return line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def run_app() -> Iterator[Callable[[Path], AppProcess]]:
    started: list[AppProcess] = []

    def start(profile: Path) -> AppProcess:
        started.append(AppProcess(profile))
        return started[-1]

    yield start
    for app in started:
        app.stop()


def make_profile(root: Path, port: int) -> Profile:
    profile = Profile.at(root).ensure()
    settings = config.Settings()
    sip = settings.sip
    sip.mode, sip.username, sip.listen_address, sip.port = "direct", "agent", "127.0.0.1", port
    sip.srtp = "disabled"
    settings.phone.audio = "null"
    settings.crm.workflow = "contact_account"
    settings.crm.outbox_retry_min_seconds = 0.2
    settings.crm.outbox_retry_max_seconds = 1.0
    settings.ui.start_hidden = True
    config.save(settings, profile.config_path)
    with LocalStore(profile.db_path("crm")) as store:
        store.create_contact(NewContact("Aino", "Virtanen", phones=("040 123 4567",)))
    return profile


def test_call_log_survives_sigkill_and_lands_after_restart(
        tmp_path: Path, sipp: Callable[..., Sipp],
        run_app: Callable[[Path], AppProcess]) -> None:
    port = free_port()
    profile = make_profile(tmp_path / "profile", port)
    app = run_app(profile.root)
    app.wait_event("registration")  # the engine is up

    locker = sqlite3.connect(profile.db_path("crm"), isolation_level=None)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("UPDATE contacts SET title = title")
    try:
        peer = sipp(scenario(tmp_path, "uac_cancel", HOLD_MS="1000"), f"127.0.0.1:{port}")
        ringing = app.wait_event("ringing")
        assert peer.wait() == 0, peer.output()
        app.wait_event("ended")
        # On disk in the outbox: from here on nothing may lose the call.
        queued = app.wait_event("crm_queued", call_id=ringing["call_id"])
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait(10)
        assert app.proc.returncode == -signal.SIGKILL
        assert not any(s.get("event") == "crm_logged" for s in app.seen)
    finally:
        locker.close()
    assert queued["regarding"] == []  # the CRM was locked: nobody identified

    again = run_app(profile.root)
    logged = again.wait_event("crm_logged", call_id=ringing["call_id"])
    conn = sqlite3.connect(profile.db_path("crm"))
    try:
        rows = conn.execute("SELECT id, call_id, result, caller_number FROM activities"
                            ).fetchall()
    finally:
        conn.close()
    assert rows == [(int(logged["activity"]), ringing["call_id"], "missed", "+358401234567")]
