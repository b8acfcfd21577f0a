"""The app killed with SIGKILL after a call ended still logs that call once restarted.

The real app runs as a subprocess (`python -m app --profile DIR --log-format json run`,
offscreen) and the test follows its structured log lines. SIPp rings it and gives up
(a missed call, which is logged too); the CRM file is held locked by the test meanwhile,
so the call log can only be in the outbox when the app is killed. The lock is released,
the app restarted, and the activity lands exactly once.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from app.config import Settings
from tests.app_process import AppProcess, app_env, make_profile, run_cmd
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.integration.conftest import Sipp, free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
]


def fast_outbox(settings: Settings) -> None:
    settings.crm.workflow = "contact_account"
    settings.crm.outbox_retry_min_seconds = 0.2
    settings.crm.outbox_retry_max_seconds = 1.0


def test_call_log_survives_sigkill_and_lands_after_restart(
        tmp_path: Path, sipp: Callable[..., Sipp],
        processes: Callable[..., AppProcess]) -> None:
    port = free_port()
    profile = make_profile(tmp_path / "profile", port=port, configure=fast_outbox)
    app = processes(run_cmd(profile), app_env())
    app.event("registration")  # the engine is up

    locker = sqlite3.connect(profile.db_path("crm"), isolation_level=None)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("UPDATE contacts SET title = title")
    try:
        peer = sipp(scenario(tmp_path, "uac_cancel", HOLD_MS="1000"), f"127.0.0.1:{port}")
        ringing = app.event("ringing")
        assert peer.wait() == 0, peer.output()
        app.event("ended")
        # On disk in the outbox: from here on nothing may lose the call.
        queued = app.event("crm_queued", call_id=ringing["call_id"])
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait(10)
        assert app.proc.returncode == -signal.SIGKILL
        assert not any(s.get("event") == "crm_logged" for s in app.log.seen)
    finally:
        locker.close()
    assert queued["regarding"] == []  # the CRM was locked: nobody identified

    again = processes(run_cmd(profile), app_env())
    logged = again.event("crm_logged", call_id=ringing["call_id"])
    conn = sqlite3.connect(profile.db_path("crm"))
    try:
        rows = conn.execute("SELECT id, call_id, result, caller_number FROM activities"
                            ).fetchall()
    finally:
        conn.close()
    assert rows == [(int(logged["activity"]), ringing["call_id"], "missed", "+358401234567")]
