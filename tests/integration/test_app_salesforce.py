"""The real app and `switchboard crm login` against the fake Salesforce org (issue 12).

Everything runs as it does for an agent: `python -m app … crm login` and `python -m app …
run` are subprocesses (offscreen), the org is tests/fakes/salesforce.py on 127.0.0.1
(login and instance URLs point there), SIPp rings the app, which answers by itself, and
the test follows the JSON log lines. The test plays the agent's browser: it follows the
authorize URL the CLI prints and sends the redirect to the CLI's loopback listener. The
"system keyring" of both subprocesses is tests/fakes/file_keyring.py (a file outside the
profile), so the test can check the refresh token went there and nowhere else.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app import config
from app.paths import Profile
from tests.app_process import AppProcess, app_env, make_profile, needs_sipp, run_cmd
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.fakes.salesforce import CLIENT_ID, FakeSalesforce
from tests.integration.conftest import free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

REPO = Path(__file__).resolve().parents[2]
CALLER = "+358401234567"  # the From of the SIPp scenarios


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce().start()
    yield fake
    fake.stop()


def env_for(tmp_path: Path) -> dict[str, str]:
    return app_env(PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                   SWITCHBOARD_TEST_KEYRING=str(tmp_path / "keyring.json"),
                   BROWSER="true")  # "opening the browser" runs `true URL`: the test is it


def salesforce_profile(tmp_path: Path, org: FakeSalesforce, port: int, *, sipp_port: int = 0,
                       **crm: Any) -> Profile:
    redirect = free_port()
    org.callback_urls.add(f"http://localhost:{redirect}/callback")

    def configure(settings: config.Settings) -> None:
        settings.crm.backend = "salesforce"
        settings.crm.workflow = "contact_account"
        settings.crm.outbox_retry_min_seconds = 0.2
        settings.crm.outbox_retry_max_seconds = 1.0
        for key, value in crm.items():
            setattr(settings.crm, key, value)
        sf = settings.salesforce
        sf.login_url, sf.client_id, sf.redirect_port = org.login_url, CLIENT_ID, redirect
        sf.timeout_seconds = 5.0
        settings.sip.auto_answer = True
        settings.availability.wrap_up_seconds = 0  # calls back to back are not refused

    return make_profile(tmp_path / "profile", port=port, sipp_port=sipp_port,
                        configure=configure)


def cli_login(profile: Profile, env: dict[str, str]) -> str:
    """`switchboard crm login`, with the test as the browser; returns its output."""
    proc = subprocess.Popen([sys.executable, "-m", "app", "--profile", str(profile.root),
                             "crm", "login"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("http"):
            authorize = line.strip()
            break
    else:
        raise AssertionError("".join(lines))
    # The browser: the org's authorize page redirects to the loopback callback.
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    assert callback.startswith("http://localhost:")
    landed = requests.get(callback, timeout=10)
    assert landed.status_code == 200 and "Signed in" in landed.text
    out, _ = proc.communicate(timeout=60)
    lines.append(out)
    assert proc.returncode == 0, "".join(lines)
    return "".join(lines)


def scan_for(root: Path, secrets: set[str]) -> list[str]:
    """Files under `root` holding any of `secrets` (config, logs, SQLite files, web storage)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(root)}" for s in secrets if s.encode() in data]
    return found


@needs_sipp
def test_pkce_login_then_a_call_pops_the_lightning_page_and_logs_one_exact_task(
        tmp_path: Path, org: FakeSalesforce, processes: Callable[..., AppProcess],
        sipp: Callable[..., Any]) -> None:
    port = free_port()
    profile = salesforce_profile(tmp_path, org, port)
    env = env_for(tmp_path)
    contact = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=CALLER)
    org.add("Contact", FirstName="Other", LastName="Person", Phone="+358409999999")

    out = cli_login(profile, env)
    assert "Signed in to Salesforce" in out
    assert org.grants[:1] == ["authorization_code"]  # PKCE checked by the fake
    [refresh] = org.refresh_tokens()
    assert refresh in (tmp_path / "keyring.json").read_text()  # in the keyring only
    # The first Task POST lands in the org but its answer is lost: still one Task.
    org.inject("lost", method="POST", path="/sobjects/Task")

    app = processes(run_cmd(profile), env)
    app.event("registration")
    # The call outlasts the pop: the pop is reported (`popped`) only while its call is on,
    # and on a busy machine the identify (a token refresh and a search) plus the first
    # page of a fresh web profile took longer than a 1.5 s call (1 run in 5: no popped
    # line, the Task fine; reproduced by slowing the Lightning page down).
    peer = sipp(scenario(tmp_path, "uac_remote_bye", HOLD_MS="6000"), f"127.0.0.1:{port}")
    ringing = app.event("ringing")
    lightning = f"{org.instance_url}/lightning/r/Contact/{contact}/view"
    popped = app.event("popped", call_id=ringing["call_id"])
    assert popped["path"] == lightning
    assert any(r.path == f"/lightning/r/Contact/{contact}/view" for r in org.requests)
    assert peer.wait() == 0, peer.output()
    logged = app.event("crm_logged", call_id=ringing["call_id"])

    [task] = org.all("Task")
    assert logged["activity"] == task["Id"]
    assert {k: task[k] for k in ("TaskSubtype", "Subject", "Status", "CallType",
                                 "CallDurationInSeconds", "CallObject", "CallDisposition",
                                 "Description", "WhoId", "WhatId")} == {
        "TaskSubtype": "Call", "Subject": "Call from Test Caller via Sales",
        "Status": "Completed", "CallType": "Inbound",
        "CallDurationInSeconds": task["CallDurationInSeconds"],
        "CallObject": ringing["call_id"], "CallDisposition": "answered",
        "Description": None,  # no notes: the field is left empty, not sent
        "WhoId": contact, "WhatId": None}
    assert 5 <= task["CallDurationInSeconds"] <= 8  # SIPp held the call 6 s
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", task["ActivityDate"])
    assert all(r.call_options == "client=Switchboard" for r in org.rest_requests())
    app.stop()

    tokens = org.tokens_used() | org.refresh_tokens()
    assert tokens
    assert scan_for(profile.root, tokens) == []
    assert not any(t in "".join(app.log.text + app.out.text) for t in tokens)


@needs_sipp
def test_a_hundred_calls_during_an_outage_land_as_a_hundred_tasks_once_after_a_refresh(
        tmp_path: Path, org: FakeSalesforce, processes: Callable[..., AppProcess],
        sipp: Callable[..., Any]) -> None:
    port = free_port()
    profile = salesforce_profile(tmp_path, org, port)
    env = env_for(tmp_path)
    org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=CALLER)
    cli_login(profile, env)
    app = processes(run_cmd(profile), env)
    app.event("registration")

    # The org is down (503 asking for 1 s) for everything the app asks.
    org.inject("unavailable", times=10**6, path="/services/data/v", retry_after=1)
    peer = sipp(scenario(tmp_path, "uac_remote_bye", HOLD_MS="100"), f"127.0.0.1:{port}",
                calls=100, extra=("-r", "5", "-l", "2"))
    assert peer.wait(timeout=240) == 0, peer.output()
    queued = [app.event("crm_queued", timeout=120, call_id=c) for c in (
        line["call_id"] for line in _all(app, "ringing", 100))]
    assert len({q["call_id"] for q in queued}) == 100
    assert org.all("Task") == []
    # The sessions ran out meanwhile: the first answer after the outage is a 401.
    org.expire_sessions()
    refreshes = org.grants.count("refresh_token")
    org.clear_faults()
    for q in queued:
        app.event("crm_logged", timeout=180, call_id=q["call_id"])
    tasks = org.all("Task")
    assert sorted(t["CallObject"] for t in tasks) == sorted(q["call_id"] for q in queued)
    assert org.grants.count("refresh_token") == refreshes + 1  # one refresh, not one per call


@needs_sipp
def test_an_outbound_call_from_the_dial_command_is_an_outbound_task_on_the_contact(
        tmp_path: Path, org: FakeSalesforce, processes: Callable[..., AppProcess],
        sipp: Callable[..., Any]) -> None:
    contact = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=CALLER)
    far = sipp(scenario(tmp_path, "uas_busy"))
    profile = salesforce_profile(tmp_path, org, free_port(), sipp_port=far.port)
    env = env_for(tmp_path)
    cli_login(profile, env)
    app = processes(run_cmd(profile), env)
    app.event("registration")

    dial = subprocess.run([sys.executable, "-m", "app", "--profile", str(profile.root),
                           "dial", f"tel:{CALLER}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert dial.returncode == 0, dial.stderr
    logged = app.event("crm_logged")
    assert far.wait() == 0, far.output()
    [task] = org.all("Task")
    assert logged["activity"] == task["Id"] and logged["call_id"] == task["CallObject"]
    assert {k: task[k] for k in ("TaskSubtype", "Status", "CallType", "CallDisposition",
                                 "CallDurationInSeconds", "WhoId", "WhatId")} == {
        "TaskSubtype": "Call", "Status": "Completed", "CallType": "Outbound",
        "CallDisposition": "busy", "CallDurationInSeconds": 0, "WhoId": contact,
        "WhatId": None}
    assert task["Subject"] == f"Call to {CALLER} (busy)"
    app.stop()
    tokens = org.tokens_used() | org.refresh_tokens()
    assert scan_for(profile.root, tokens) == []
    assert not any(t in "".join(app.log.text + app.out.text) for t in tokens)


def _all(app: AppProcess, event: str, count: int) -> list[dict[str, Any]]:
    """The first `count` lines of `event` (waiting for them)."""
    seen: list[dict[str, Any]] = []
    while len(seen) < count:
        line = app.log.wait(app.proc, "event", event, 120,
                            call_id=_Not({s["call_id"] for s in seen}))
        seen.append(line)
    return seen


class _Not:
    """Compares unequal to the values given: "any call id but these"."""

    def __init__(self, values: set[str]) -> None:
        self.values = values

    def __eq__(self, other: object) -> bool:
        return other not in self.values

    def __hash__(self) -> int:
        return 0

