"""The real app process against the fake Salesforce org: every workflow by none/one/many
matches, inbound and outbound, asserted from outside the process (issue 12).

One app process per workflow (`crm.workflow` is read at start), offscreen, signed in as
after `switchboard crm login` (the refresh token in the file keyring; the login itself is
tested in test_app_salesforce.py), with tests/fakes/salesforce.py as the org on
127.0.0.1. Inbound: SIPp calls from a number that matches one record, none or two, and the
app answers by itself. Outbound: `python -m app dial tel:…` hands the number to the
running app, which calls a SIPp that answers. The test follows the app's JSON log lines
(ringing/dialing, popped, crm_queued, crm_logged) and the org's state: the exact Task
(TaskSubtype, Subject, Status, CallType, CallObject, CallDisposition, WhoId, WhatId,
CallDurationInSeconds and ActivityDate as the app's own call history has them), the Case
the case workflow creates, and the Lightning page the web view asked the org for.

The app runs through tests/app_driver.py (`run_app`, as `python -m app run` does) so the test
can act as the agent's eyes and hand: on an order file it writes down the text of the
built-in page (our dialog) and hangs a call up (the call card's hang-up intent) once it
has been answered for 1.5 s. The calls therefore end after the test has seen what it
asserts, not after a fixed time, and each Task has a duration to check. Nobody
picks in a dialog here: the call with several matches shows the picker and, unpicked, is
logged about nobody (app/core/workflows.py: the single match, else nothing); picking is
covered in-process by test_app_salesforce_matrix.py.

Per workflow (app/core/workflows.py): contact_account, contact_lead and phone_call pop
the one match's Lightning page and open our dialog for none or several; case pops
nothing while ringing and, on answer, creates a Case (on the contact when exactly one
matched) and pops it; case_dialog opens the dialog for all three (one contact: her cases).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app import config
from app.core import numbers
from app.core.history import History
from app.paths import Profile
from tests.app_driver import driver_cmd
from tests.app_driver import order as give_order
from tests.app_process import AppProcess, app_env, make_profile, needs_sipp
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.fakes.salesforce import CLIENT_ID, FakeSalesforce
from tests.integration.conftest import Sipp, free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

REPO = Path(__file__).resolve().parents[2]
WAIT = 60.0  # the first Chromium start on a busy machine is slow
ONE, MANY, NONE = "+358401111111", "+358402222222", "+358403333333"
SCENARIO_NUMBER = "+358401234567"  # the From of the SIPp scenarios, replaced per call
TALK_SECONDS = 1.5  # each call's talk time before the agent hangs up

def act(window: Any, order: dict[str, Any], inbox: Path) -> bool:
    """The agent's hand (tests/app_driver.py). "dump" writes the built-in page's text (and
    whether the web view shows instead) to <inbox>/<name>; "hangup" is the call card's
    hang-up, once the call has been answered for `talk` seconds (so each Task has a
    duration to check)."""
    from datetime import datetime, timezone

    from app.logs import call_event
    from app.ui.screenpop import ScreenPopView

    if order["do"] == "dump":
        view = window.findChild(ScreenPopView)

        def write(text: str, name: str = order["name"], web: bool = view.showing_web) -> None:
            tmp = inbox / (name + ".tmp")
            tmp.write_text(json.dumps({"web": web, "text": text}))
            tmp.replace(inbox / name)
            call_event("driver_dumped", dump=name)  # the test waits for this log line

        view.builtin_page.toPlainText(write)
    elif order["do"] == "hangup":
        card = window.call_panel.cards.get(order["handle"])
        answered = card.call.answered_at if card is not None else None
        if answered is None or \
                (datetime.now(timezone.utc) - answered).total_seconds() < order["talk"]:
            return False
        window.call_panel.hangup_requested.emit(order["handle"])
    return True

# The far end of the outbound calls: answers each after a ring and waits for the app's BYE.
ANSWERS = "uas_answer"


def far_end(sipp: Callable[..., Sipp], tmp_path: Path, calls: int) -> Sipp:
    """One SIPp answering the app's `calls` outbound calls, started before the app so its
    port is in the profile and held by it from the start (a port chosen early and bound
    later was once taken meanwhile by another process on this shared machine: SIPp could
    not bind it and the app's INVITE timed out). The scenario's 30 s limit is lifted: it
    serves the whole test. Retried on another port if the one it got is someone else's."""
    for _ in range(5):
        try:
            peer = sipp(scenario(tmp_path, ANSWERS), calls=calls, extra=("-timeout", "300s"))
        except AssertionError:  # it exited before anyone listened there: bind failed
            continue
        if owns_udp_port(peer.proc.pid, peer.port):
            return peer
        peer.proc.kill()
        peer.proc.wait()
    raise AssertionError("SIPp could not bind a port of its own")


def owns_udp_port(pid: int, port: int) -> bool:
    """Whether process `pid` holds the UDP socket bound to `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) in inodes for fd in fd_dir.iterdir())
    except OSError:  # gone: it could not bind and exited
        return False


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce().start()
    yield fake
    fake.stop()


@dataclass
class Records:
    """What the org holds for one workflow: the one match and the two matches."""

    one: tuple[str, str]  # (sObject, Id) at ONE
    one_name: str
    many: list[tuple[str, str]]  # at MANY
    many_names: list[str]
    cases: dict[str, str] = field(default_factory=dict)  # subject → Id, existing cases


def seed(org: FakeSalesforce, workflow: str) -> Records:
    """One record at ONE, two at MANY, nothing at NONE (of the kinds the workflow counts)."""
    if workflow == "contact_account":
        one = ("Account", org.add("Account", Name="Virtanen Oy", Phone=ONE))
        names = ("Virtanen Oy", ["Liisa Mäkinen", "Jussi Mäkinen"])
        many = [("Contact", org.add("Contact", FirstName="Liisa", LastName="Mäkinen",
                                    Phone=MANY)),
                ("Contact", org.add("Contact", FirstName="Jussi", LastName="Mäkinen",
                                    Phone=MANY))]
    elif workflow == "contact_lead":
        one = ("Lead", org.add("Lead", FirstName="Aino", LastName="Virtanen",
                               Company="Virtanen Oy", Phone=ONE))
        names = ("Aino Virtanen", ["Liisa Mäkinen", "Jussi Mäkinen"])
        many = [("Contact", org.add("Contact", FirstName="Liisa", LastName="Mäkinen",
                                    Phone=MANY)),
                ("Lead", org.add("Lead", FirstName="Jussi", LastName="Mäkinen",
                                 Company="Mäkinen Oy", Phone=MANY))]
    elif workflow == "phone_call":
        one = ("Contact", org.add("Contact", FirstName="Aino", LastName="Virtanen",
                                  Phone=ONE))
        names = ("Aino Virtanen", ["Liisa Mäkinen", "Mäkinen Oy"])
        many = [("Contact", org.add("Contact", FirstName="Liisa", LastName="Mäkinen",
                                    Phone=MANY)),
                ("Account", org.add("Account", Name="Mäkinen Oy", Phone=MANY))]
    else:  # case, case_dialog: contacts count
        one = ("Contact", org.add("Contact", FirstName="Aino", LastName="Virtanen",
                                  Phone=ONE))
        names = ("Aino Virtanen", ["Liisa Mäkinen", "Jussi Mäkinen"])
        many = [("Contact", org.add("Contact", FirstName="Liisa", LastName="Mäkinen",
                                    Phone=MANY)),
                ("Contact", org.add("Contact", FirstName="Jussi", LastName="Mäkinen",
                                    Phone=MANY))]
    records = Records(one, names[0], many, names[1])
    if workflow == "case_dialog":
        records.cases["Broken router"] = org.add(
            "Case", Subject="Broken router", Status="Working", Origin="Web", ContactId=one[1])
    return records


def env_for(tmp_path: Path, org: FakeSalesforce) -> dict[str, str]:
    """The app's environment, its file keyring holding a refresh token from the org."""
    keyring = tmp_path / "keyring.json"
    keyring.write_text(json.dumps(
        {f"switchboard/salesforce:{CLIENT_ID}": org.issue_refresh_token()}))
    return app_env(PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                   SWITCHBOARD_TEST_KEYRING=str(keyring), BROWSER="true")


def salesforce_profile(tmp_path: Path, org: FakeSalesforce, workflow: str, port: int,
                       far_port: int) -> Profile:
    redirect = free_port()
    org.callback_urls.add(f"http://localhost:{redirect}/callback")

    def configure(settings: config.Settings) -> None:
        settings.crm.backend = "salesforce"
        settings.crm.workflow = workflow
        settings.crm.outbox_retry_min_seconds = 0.2
        settings.crm.outbox_retry_max_seconds = 1.0
        sf = settings.salesforce
        sf.login_url, sf.client_id, sf.redirect_port = org.login_url, CLIENT_ID, redirect
        sf.timeout_seconds = 5.0
        settings.sip.auto_answer = True
        settings.availability.wrap_up_seconds = 0  # calls back to back are not refused

    return make_profile(tmp_path / "profile", port=port, sipp_port=far_port,
                        configure=configure)


def caller(tmp_path: Path, number: str) -> Path:
    """SIPp's scenario that calls from `number` via the Sales queue and waits for a BYE."""
    path = scenario(tmp_path, "uac_local_bye")
    text = path.read_text().replace(SCENARIO_NUMBER, number)
    text = text.replace("CSeq: 1 INVITE\n", "CSeq: 1 INVITE\n      X-Queue-Name: Sales\n")
    path.write_text(text)
    return path


class Desk:
    """The app process, the org and SIPp, one call at a time."""

    def __init__(self, tmp_path: Path, app: AppProcess, sipp: Callable[..., Sipp],
                 profile: Profile, env: dict[str, str], port: int) -> None:
        self.tmp_path, self.app, self.sipp = tmp_path, app, sipp
        self.profile, self.env, self.port = profile, env, port
        self.inbox = tmp_path / "inbox"
        self.orders = 0
        self.seen: set[str] = set()

    def order(self, **order: Any) -> None:
        self.orders += 1
        give_order(self.inbox, f"{self.orders:04d}", **order)

    def page(self) -> dict[str, Any]:
        """What the pane shows: {"web": the org's page is up, "text": our page's text}."""
        name = f"page-{self.orders + 1}.json"
        self.order(do="dump", name=name)
        self.app.event("driver_dumped", dump=name)  # written on the driver's next tick
        return dict(json.loads((self.inbox / name).read_text()))

    def _new(self, event: str) -> dict[str, Any]:
        line = self.app.log.wait(self.app.proc, "event", event, WAIT,
                                 call_id=_Not(self.seen))
        self.seen.add(line["call_id"])
        return line

    def inbound(self, number: str) -> tuple[dict[str, Any], Sipp | None]:
        peer = self.sipp(caller(self.tmp_path, number), f"127.0.0.1:{self.port}")
        return self._new("ringing"), peer

    def outbound(self, number: str) -> tuple[dict[str, Any], Sipp | None]:
        """`switchboard dial` hands the number to the app, which calls the far end."""
        dial = subprocess_run([sys.executable, "-m", "app", "--profile",
                               str(self.profile.root), "dial", f"tel:{number}"], self.env)
        assert dial.returncode == 0, dial.stderr
        return self._new("dialing"), None

    def hang_up(self, call: dict[str, Any], peer: Sipp | None) -> dict[str, Any]:
        """The agent hangs up; returns the crm_logged line once the Task landed."""
        self.order(do="hangup", handle=call["handle"], talk=TALK_SECONDS)
        if peer is not None:
            assert peer.wait() == 0, peer.output()
        self.app.event("ended", handle=call["handle"])
        return self.app.event("crm_logged", call_id=call["call_id"])


def subprocess_run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)


class _Not:
    """Compares unequal to the values given: "any call id but these"."""

    def __init__(self, values: set[str]) -> None:
        self.values = set(values)

    def __eq__(self, other: object) -> bool:
        return other not in self.values

    def __hash__(self) -> int:
        return 0


def lightning(org: FakeSalesforce, sobject: str, ident: str) -> str:
    return f"{org.instance_url}/lightning/r/{sobject}/{ident}/view"


def pages_loaded(org: FakeSalesforce) -> list[str]:
    """The Lightning pages the app's web view asked the org for, in order."""
    with org.lock:
        return [r.path for r in org.requests if r.path.startswith("/lightning/")]


def who_what(sobject: str, ident: str) -> tuple[str | None, str | None]:
    return (ident, None) if sobject in ("Contact", "Lead") else (None, ident)


TASK_KEYS = ("TaskSubtype", "Subject", "Status", "CallType", "CallObject", "CallDisposition",
             "WhoId", "WhatId", "Description")
WORKFLOWS = ["case", "case_dialog", "contact_account", "contact_lead", "phone_call"]
POPS_ONE = {"contact_account", "contact_lead", "phone_call"}  # one match: its own page
# The dialog's button beside each listed record, and what it offers when nobody matched.
PICK = {"contact_account": "Open", "contact_lead": "Open", "phone_call": "Log call here",
        "case_dialog": "Choose"}
NEW = {"contact_account": ("No record has this number", "New contact", "New account"),
       "contact_lead": ("No record has this number", "New contact", "New lead"),
       "phone_call": ("No record has this number",), "case_dialog": ("New case",)}


@needs_sipp
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_call_of_the_workflow_pops_and_logs_exactly_in_the_org(
        tmp_path: Path, org: FakeSalesforce, processes: Callable[..., AppProcess],
        sipp: Callable[..., Sipp], workflow: str) -> None:
    records = seed(org, workflow)
    far = far_end(sipp, tmp_path, calls=3)
    port = free_port()
    profile = salesforce_profile(tmp_path, org, workflow, port, far.port)
    env = env_for(tmp_path, org)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = processes(driver_cmd(profile.root, inbox, f"{__name__}:act", tick_ms=50), env)
    app.event("registration")
    desk = Desk(tmp_path, app, sipp, profile, env, port)

    logged: list[tuple[str, dict[str, Any]]] = []  # (call id, its Task)
    for direction in ("inbound", "outbound"):
        for match, number in (("one", ONE), ("none", NONE), ("many", MANY)):
            where = f"{workflow} {direction} {match}"
            cases_before = {c["Id"] for c in org.all("Case")}
            call, peer = (desk.inbound if direction == "inbound" else desk.outbound)(number)
            call_id = call["call_id"]
            popped = app.event("popped", call_id=call_id)
            regarding: set[str] = set()  # what the app queues the Task about
            who: str | None = None
            what: str | None = None
            if workflow == "case":
                # Nothing pops while it rings; the answer makes a Case and pops it.
                [case] = [c for c in org.all("Case") if c["Id"] not in cases_before]
                contact = records.one[1] if match == "one" else None
                name = records.one_name if match == "one" else (
                    "Test Caller" if direction == "inbound" else numbers.display(number, "FI"))
                assert {k: case.get(k) for k in ("Subject", "Origin", "Status",
                                                 "ContactId")} == {
                    "Subject": f"Phone call from {name}", "Origin": "Phone",
                    "Status": "New", "ContactId": contact}, where
                assert popped["path"] == lightning(org, "Case", case["Id"]), where
                assert f"/lightning/r/Case/{case['Id']}/view" in pages_loaded(org), where
                assert desk.page()["web"] is True, where
                who, what = contact, case["Id"]
                regarding = {f"case/{what}"} | ({f"contact/{who}"} if who else set())
            elif workflow in POPS_ONE and match == "one":
                sobject, ident = records.one
                assert popped["path"] == lightning(org, sobject, ident), where
                assert f"/lightning/r/{sobject}/{ident}/view" in pages_loaded(org), where
                assert desk.page()["web"] is True, where
                who, what = who_what(sobject, ident)
                regarding = {f"{sobject.lower()}/{ident}"}
            else:
                # Our dialog, built from the org's answers; nobody picks.
                assert popped["path"] == "dialog", where
                page = desk.page()
                assert page["web"] is False, where
                text = page["text"]
                if match == "many":  # the picker: both, each with its button
                    assert "2 matches" in text and "Who is calling?" in text, (where, text)
                    assert all(n in text for n in records.many_names), (where, text)
                    assert text.count(f"\n{PICK[workflow]}\n") == 2, (where, text)
                elif match == "none":  # search and the workflow's new records
                    assert "Unknown caller" in text and "Search the CRM" in text, (where,
                                                                                   text)
                    assert all(n in text for n in NEW[workflow]), (where, text)
                    assert records.one_name not in text, (where, text)
                else:  # case_dialog, one contact: her cases to choose from
                    assert records.one_name in text and "Broken router" in text, (where,
                                                                                  text)
                    who = records.one[1]  # unpicked, the call is on the one match
                    regarding = {f"contact/{who}"}
            assert app.event("answered", handle=call["handle"])
            landed = desk.hang_up(call, peer)
            queued = app.event("crm_queued", call_id=call_id)
            assert set(queued["regarding"]) == regarding, where
            expected = {
                "TaskSubtype": "Call",
                "Subject": "Call from Test Caller via Sales" if direction == "inbound"
                else f"Call to {number}",
                "Status": "Completed",
                "CallType": "Inbound" if direction == "inbound" else "Outbound",
                "CallObject": call_id, "CallDisposition": "answered",
                "WhoId": who, "WhatId": what, "Description": None}
            [task] = [t for t in org.all("Task") if t["CallObject"] == call_id]
            assert landed["activity"] == task["Id"], where
            assert {k: task.get(k) for k in TASK_KEYS} == expected, where
            logged.append((call_id, task))

    assert far.wait() == 0, far.output()  # it answered all three outbound calls
    app.stop()
    # Durations and dates as the app's own call history has them (its database, on disk).
    history = History(profile.db_path("history"))
    for call_id, task in logged:
        record = history.get(call_id)
        assert record is not None and record.answered_at is not None, call_id
        assert task["CallDurationInSeconds"] == round(record.talk_seconds), call_id
        assert task["CallDurationInSeconds"] >= 1, call_id  # talked 1.5 s at least
        assert task["ActivityDate"] == record.arrived_at.date().isoformat(), call_id
    assert len(org.all("Task")) == 6  # exactly one per call, nothing else logged
    made = 6 if workflow == "case" else 0
    assert len(org.all("Case")) == made + len(records.cases)
