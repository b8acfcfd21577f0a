"""The whole app against the fake Salesforce org: every workflow by none/one/many matches,
inbound and outbound, with the exact Task written and the exact page popped (issue 12).

The app is built by the composition root (`build_app`) in this process with
`crm.backend = "salesforce"`: the real SalesforceBackend talks HTTP to
tests/fakes/salesforce.py, the real outbox writes the Task, the real web view loads the
org's Lightning pages (the fake's stand-in pages) in the Salesforce web profile, and our
dialog is rendered from the org's API answers. Only SIP is scripted (ScriptedEngine:
`ring`, `remote_answers`, `remote_hangs_up`); the subprocess tests with SIPp are in
test_app_salesforce.py. A pick in the dialog loads the dialog's own
`switchboard://action/…` link in the built-in page, the path a click takes (the page
runs no script, so the test cannot click by script).

Per workflow (app/core/workflows.py): one match pops its Lightning page; none or several
open our dialog (none: search and new records; several: the picker); the Case workflow
creates a Case on answer and pops it; the Case dialog offers the contact's latest cases.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from PySide6.QtCore import Qt, QUrl
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings
from app.core import numbers
from app.core.calls import CallState
from app.core.history import MEMORY, History
from app.crm.salesforce.factory import secret_key
from app.paths import Profile
from app.ui.screenpop import ScreenPopView
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.salesforce import CLIENT_ID, FakeSalesforce
from tests.fakes.scripted_engine import ScriptedEngine as _ScriptedEngine
from tests.integration.conftest import free_port

WAIT_MS = 30_000  # the first Chromium start on a busy machine is slow
ONE, MANY, NONE = "+358401111111", "+358402222222", "+358403333333"


class ScriptedEngine(_ScriptedEngine):
    """Also notes the handle of each call the app dials."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dialled: list[tuple[int, str]] = []

    def dial(self, target: str, *, caller_id: str | None = None,
             headers: dict[str, str] | None = None) -> int:
        handle = super().dial(target, caller_id=caller_id, headers=headers)
        self.dialled.append((handle, target))
        return handle


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce().start()
    yield fake
    fake.stop()


def salesforce_settings(org: FakeSalesforce, workflow: str) -> Settings:
    settings = Settings()
    settings.crm.backend = "salesforce"
    settings.crm.workflow = workflow
    settings.crm.outbox_retry_min_seconds = 0.2
    settings.crm.outbox_retry_max_seconds = 1.0
    settings.phone.audio = "null"
    settings.availability.wrap_up_seconds = 0  # the next call rings at once
    sf = settings.salesforce
    sf.login_url, sf.client_id, sf.redirect_port = org.login_url, CLIENT_ID, free_port()
    sf.timeout_seconds = 5.0
    org.callback_urls.add(f"http://localhost:{sf.redirect_port}/callback")
    return settings


@pytest.fixture
def start_app(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., SwitchboardApp]]:
    """build_app with the given settings and secret store, started; shut down after."""
    built: list[SwitchboardApp] = []

    def start(settings: Settings, secrets: MemorySecretStore) -> SwitchboardApp:
        app = build_app(Profile.at(tmp_path / "profile").ensure(), settings, secrets=secrets,
                        engine_factory=ScriptedEngine,  # type: ignore[arg-type]
                        history=History(MEMORY))
        built.append(app)
        qtbot.addWidget(app.window)
        app.start(show=True)
        qtbot.waitUntil(lambda: app.engine_running, timeout=WAIT_MS)
        return app

    yield start
    for app in built:
        app.shutdown()


def signed_in(org: FakeSalesforce, settings: Settings) -> MemorySecretStore:
    """The keyring as after `switchboard crm login`."""
    return MemorySecretStore({secret_key(settings.salesforce): org.issue_refresh_token()})


# -- driving one call -----------------------------------------------------------------------


@dataclass
class Call:
    handle: int
    call_id: str
    pops: list[str]  # page_shown paths, in order: "dialog" or a Lightning URL


class Agent:
    """Plays the far end (ScriptedEngine) and the agent (answer, pick in the dialog)."""

    def __init__(self, qtbot: QtBot, app: SwitchboardApp) -> None:
        self.qtbot, self.app = qtbot, app
        assert app.crm is not None
        self.crm = app.crm
        self.engine: ScriptedEngine = app.engine.current  # type: ignore[attr-defined]
        self.shown: list[tuple[str, str]] = []
        self.landed: dict[str, str] = {}
        self.crm.page_shown.connect(lambda c, p: self.shown.append((c, p)))
        self.crm.activity_landed.connect(lambda c, a: self.landed.__setitem__(c, a))

    def pops_of(self, call_id: str) -> list[str]:
        return [p for c, p in self.shown if c == call_id]

    def wait_pop(self, call: Call) -> str:
        """The next page popped for the call (waits for it)."""
        self.qtbot.waitUntil(lambda: len(self.pops_of(call.call_id)) > len(call.pops),
                             timeout=WAIT_MS)
        call.pops = self.pops_of(call.call_id)
        return call.pops[-1]

    def inbound(self, number: str) -> Call:
        handle = self.engine.ring(number, "Test Caller", "Sales")
        return Call(handle, f"in-{handle}", [])

    def outbound(self, number: str) -> Call:
        self.app.dial(number)
        assert self.engine.dialled and self.engine.dialled[-1][1] == number
        return self.outbound_call(self.engine.dialled[-1][0])

    @staticmethod
    def outbound_call(handle: int) -> Call:
        """The call the app dialled with `handle` (ScriptedEngine's call ids)."""
        return Call(handle, f"out-{handle}", [])

    def answer(self, call: Call) -> None:
        if call.call_id.startswith("in-"):
            cards = self.app.window.call_panel.cards
            self.qtbot.waitUntil(lambda: call.handle in cards, timeout=WAIT_MS)
            card = cards[call.handle]
            self.qtbot.waitUntil(card.answer_button.isVisible, timeout=WAIT_MS)
            self.qtbot.mouseClick(card.answer_button, Qt.MouseButton.LeftButton)
        else:
            self.engine.remote_answers(call.handle)
        self.qtbot.waitUntil(lambda: (c := self.app.session.get(call.handle)) is not None
                             and c.state is CallState.CONNECTED, timeout=WAIT_MS)

    def hang_up_and_wait_for_the_task(self, call: Call) -> str:
        self.engine.remote_hangs_up(call.handle)
        self.qtbot.waitUntil(lambda: call.call_id in self.landed, timeout=WAIT_MS)
        return self.landed[call.call_id]

    def dialog_html(self) -> str:
        assert not self.crm.view.showing_web
        return self._page_read(self.crm.view.builtin_page.toHtml)

    def dialog_text(self) -> str:
        return self._page_read(self.crm.view.builtin_page.toPlainText)

    def _page_read(self, read: Callable[[Any], None]) -> str:
        """The page's HTML or text, once it has some. A page read while it is still
        loading is empty: in a CI run toHtml gave '' right after the pop, and
        toPlainText a moment later had the names."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while True:
            with self.qtbot.waitCallback(timeout=WAIT_MS) as got:
                read(got)
            if got.args[0] or time.monotonic() > deadline:
                return str(got.args[0])
            self.qtbot.wait(50)

    def click(self, href: str) -> None:
        """Follow a link of the dialog in the built-in page (as a click would)."""
        self.crm.view.builtin_page.load(QUrl(href))


def links(html: str, action: str) -> list[dict[str, str]]:
    """The parameters of each `switchboard://action/<action>` link in the dialog
    (`dialog`: the dialog's links to itself, such as "Choose" in the Case dialog)."""
    host = "crm" if action == "dialog" else "action"
    found = []
    for href in re.findall(r'href="([^"]+)"', html):
        href = href.replace("&amp;", "&")
        parts = urlsplit(href)
        if (parts.scheme, parts.netloc, parts.path.strip("/")) == ("switchboard", host, action):
            found.append({"href": href, **dict(parse_qsl(parts.query))})
    return found


def task_of(org: FakeSalesforce, call_id: str) -> dict[str, Any]:
    [task] = [t for t in org.all("Task") if t["CallObject"] == call_id]
    return task


def call_fields(task: dict[str, Any]) -> dict[str, Any]:
    return {k: task.get(k) for k in ("TaskSubtype", "Subject", "Status", "CallType",
                                     "CallObject", "CallDisposition", "WhoId", "WhatId",
                                     "Description")}


def check_times(app: SwitchboardApp, task: dict[str, Any]) -> None:
    """CallDurationInSeconds and ActivityDate are the call's, as the history has it."""
    record = app.history.get(task["CallObject"])
    assert record is not None
    assert task["CallDurationInSeconds"] == round(record.talk_seconds)
    assert task["ActivityDate"] == record.arrived_at.date().isoformat()


def expected_task(call: Call, number: str, who: str | None, what: str | None,
                  notes: str | None = None) -> dict[str, Any]:
    inbound = call.call_id.startswith("in-")
    return {"TaskSubtype": "Call",
            "Subject": "Call from Test Caller via Sales" if inbound else f"Call to {number}",
            "Status": "Completed", "CallType": "Inbound" if inbound else "Outbound",
            "CallObject": call.call_id, "CallDisposition": "answered",
            "WhoId": who, "WhatId": what, "Description": notes}


def lightning(org: FakeSalesforce, sobject: str, ident: str) -> str:
    return f"{org.instance_url}/lightning/r/{sobject}/{ident}/view"


def start_call(agent: Agent, direction: str, number: str) -> Call:
    return agent.inbound(number) if direction == "inbound" else agent.outbound(number)


def pages_loaded(org: FakeSalesforce) -> list[str]:
    """The Lightning pages the app's web view asked the org for."""
    with org.lock:
        return [r.path for r in org.requests if r.path.startswith("/lightning/")]


DIRECTIONS = ["inbound", "outbound"]

# workflow → (the one match, the two matches, the pick's action and which of the two)
RECORD_WORKFLOWS = {
    "contact_account": (("Account", {"Name": "Virtanen Oy"}),
                        (("Contact", {"FirstName": "Liisa", "LastName": "Mäkinen"}),
                         ("Contact", {"FirstName": "Jussi", "LastName": "Mäkinen"})), "open"),
    "contact_lead": (("Lead", {"FirstName": "Aino", "LastName": "Virtanen",
                               "Company": "Virtanen Oy"}),
                     (("Contact", {"FirstName": "Liisa", "LastName": "Mäkinen"}),
                      ("Lead", {"FirstName": "Jussi", "LastName": "Mäkinen",
                                "Company": "Mäkinen Oy"})), "open"),
    "phone_call": (("Contact", {"FirstName": "Aino", "LastName": "Virtanen"}),
                   (("Contact", {"FirstName": "Liisa", "LastName": "Mäkinen"}),
                    ("Account", {"Name": "Mäkinen Oy"})), "regarding"),
}
WHO_KINDS = ("Contact", "Lead")


def who_what(sobject: str, ident: str) -> tuple[str | None, str | None]:
    return (ident, None) if sobject in WHO_KINDS else (None, ident)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("workflow", sorted(RECORD_WORKFLOWS))
def test_record_workflows_pop_one_match_and_ask_about_none_or_several(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp],
        workflow: str, direction: str) -> None:
    (one_kind, one_fields), many, pick_action = RECORD_WORKFLOWS[workflow]
    one = org.add(one_kind, Phone=ONE, **one_fields)
    many_ids = [org.add(kind, Phone=MANY, **fields) for kind, fields in many]
    settings = salesforce_settings(org, workflow)
    agent = Agent(qtbot, start_app(settings, signed_in(org, settings)))

    # One match: its Lightning page, and the Task regarding it.
    call = start_call(agent, direction, ONE)
    assert agent.wait_pop(call) == lightning(org, one_kind, one)
    assert f"/lightning/r/{one_kind}/{one}/view" in pages_loaded(org)
    agent.answer(call)
    qtbot.keyClicks(agent.crm.notes.edit, "Wants a quote <by Friday>")
    agent.hang_up_and_wait_for_the_task(call)
    task = task_of(org, call.call_id)
    assert call_fields(task) == expected_task(call, ONE, *who_what(one_kind, one),
                                              notes="Wants a quote <by Friday>")
    check_times(agent.app, task)

    # Nobody: our dialog with search and new records; nobody picked, a Task about nobody.
    call = start_call(agent, direction, NONE)
    assert agent.wait_pop(call) == "dialog"
    text = agent.dialog_text()
    assert "No record has this number" in text and "Search the CRM" in text
    news = {"contact_account": ["New contact", "New account"],
            "contact_lead": ["New contact", "New lead"], "phone_call": []}[workflow]
    assert all(n in text for n in news)
    agent.answer(call)
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, NONE, None, None)

    # Several: the picker lists both; the agent picks the second; its page pops.
    call = start_call(agent, direction, MANY)
    assert agent.wait_pop(call) == "dialog"
    html = agent.dialog_html()
    assert "2 matches" in agent.dialog_text()
    choices = links(html, pick_action)
    refs = {c["ref"] for c in choices}
    kinds = [kind for kind, _ in many]
    assert refs == {f"{k.lower()}/{i}" for k, i in zip(kinds, many_ids, strict=True)}
    [picked] = [c for c in choices if c["ref"].endswith(many_ids[1])]
    assert picked["call"] == call.call_id
    agent.answer(call)
    agent.click(picked["href"])
    assert agent.wait_pop(call) == lightning(org, kinds[1], many_ids[1])
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(
        call, MANY, *who_what(kinds[1], many_ids[1]))

    assert len(org.all("Task")) == 3  # one per call, nothing else written
    assert all(len(org.all(s)) == n for s, n in (
        ("Case", 0), ("Contact", [one_kind, *kinds].count("Contact")),
        ("Account", [one_kind, *kinds].count("Account")),
        ("Lead", [one_kind, *kinds].count("Lead"))))


def case_fields(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case.get(k) for k in ("Subject", "Origin", "Status", "ContactId")}


def who_of(call: Call, number: str, only_match: str = "") -> str:
    """How the app names the caller: the one record found (of any kind), else the SIP
    display name, else the number (national form)."""
    if only_match:
        return only_match
    return "Test Caller" if call.call_id.startswith("in-") else numbers.display(number, "FI")


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_case_workflow_makes_a_case_on_answer_and_logs_the_call_on_it(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp],
        direction: str) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    for first in ("Liisa", "Jussi"):
        org.add("Contact", FirstName=first, LastName="Mäkinen", Phone=MANY)
    org.add("Account", Name="Virtanen Oy", Phone=NONE)  # an account does not count here
    settings = salesforce_settings(org, "case")
    agent = Agent(qtbot, start_app(settings, signed_in(org, settings)))

    for number, contact, name in ((ONE, aino, "Aino Virtanen"), (NONE, None, "Virtanen Oy"),
                                  (MANY, None, "")):
        cases_before = {c["Id"] for c in org.all("Case")}
        call = start_call(agent, direction, number)
        agent.answer(call)  # the case workflow does its work on answer
        popped = agent.wait_pop(call)
        assert call.pops == [popped]  # nothing popped while it rang
        [case] = [c for c in org.all("Case") if c["Id"] not in cases_before]
        assert popped == lightning(org, "Case", case["Id"])
        assert case_fields(case) == {"Subject": f"Phone call from {who_of(call, number, name)}",
                                     "Origin": "Phone", "Status": "New", "ContactId": contact}
        agent.hang_up_and_wait_for_the_task(call)
        assert call_fields(task_of(org, call.call_id)) == expected_task(
            call, number, contact, case["Id"]), number
    assert len(org.all("Task")) == 3 and len(org.all("Case")) == 3


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_case_dialog_offers_the_callers_cases_or_who_it_is_and_logs_on_the_chosen_case(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp],
        direction: str) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    router = org.add("Case", Subject="Broken router", Status="Working", Origin="Web",
                     ContactId=aino)
    liisa, jussi = (org.add("Contact", FirstName=first, LastName="Mäkinen", Phone=MANY)
                    for first in ("Liisa", "Jussi"))
    settings = salesforce_settings(org, "case_dialog")
    agent = Agent(qtbot, start_app(settings, signed_in(org, settings)))

    # One contact: its latest cases to choose from; the agent takes the existing one.
    call = start_call(agent, direction, ONE)
    assert agent.wait_pop(call) == "dialog"
    text = agent.dialog_text()
    assert "Aino Virtanen" in text and "Broken router" in text
    [choose] = links(agent.dialog_html(), "choose-case")
    assert (choose["case"], choose["contact"], choose["call"]) == (router, aino, call.call_id)
    agent.answer(call)
    agent.click(choose["href"])
    assert agent.wait_pop(call) == lightning(org, "Case", router)
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, ONE, aino, router)

    # Nobody: search and "New case"; the new case has no contact.
    call = start_call(agent, direction, NONE)
    assert agent.wait_pop(call) == "dialog"
    assert "Search the CRM" in agent.dialog_text()
    [new] = links(agent.dialog_html(), "new-case")
    assert "contact" not in new
    agent.answer(call)
    agent.click(new["href"])
    popped = agent.wait_pop(call)
    [case] = [c for c in org.all("Case") if c["Id"] != router]
    assert popped == lightning(org, "Case", case["Id"])
    assert case_fields(case) == {"Subject": f"Phone call from {who_of(call, NONE)}",
                                 "Origin": "Phone", "Status": "New", "ContactId": None}
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, NONE, None,
                                                                    case["Id"])

    # Several: the picker of contacts; Jussi chosen, then a new case for him.
    call = start_call(agent, direction, MANY)
    assert agent.wait_pop(call) == "dialog"
    chooses = links(agent.dialog_html(), "dialog")
    assert {c["chosen"] for c in chooses} == {f"contact/{liisa}", f"contact/{jussi}"}
    agent.answer(call)
    agent.click(next(c["href"] for c in chooses if c["chosen"].endswith(jussi)))
    qtbot.waitUntil(lambda: "This contact has no cases." in agent.dialog_text(),
                    timeout=WAIT_MS)
    [new_for_jussi] = [n for n in links(agent.dialog_html(), "new-case") if "contact" in n]
    assert new_for_jussi["contact"] == jussi
    done = {c["Id"] for c in org.all("Case")}
    agent.click(new_for_jussi["href"])
    popped = agent.wait_pop(call)
    [case] = [c for c in org.all("Case") if c["Id"] not in done]
    assert popped == lightning(org, "Case", case["Id"])
    assert case_fields(case)["ContactId"] == jussi
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, MANY, jussi,
                                                                    case["Id"])
    assert len(org.all("Task")) == 3


def test_call_info_saved_on_the_chosen_case_is_one_task_on_it_with_the_summary(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    router = org.add("Case", Subject="Broken router", Status="Working", ContactId=aino)
    settings = salesforce_settings(org, "case_dialog")
    settings.crm.save_call_info_on_case = True
    agent = Agent(qtbot, start_app(settings, signed_in(org, settings)))

    call = agent.inbound(ONE)
    assert agent.wait_pop(call) == "dialog"
    [choose] = links(agent.dialog_html(), "choose-case")
    agent.answer(call)
    agent.click(choose["href"])
    assert agent.wait_pop(call) == lightning(org, "Case", router)
    qtbot.keyClicks(agent.crm.notes.edit, "Router replaced")
    agent.hang_up_and_wait_for_the_task(call)
    [task] = org.all("Task")
    fields = call_fields(task)
    summary = fields.pop("Description")
    assert fields == {k: v for k, v in expected_task(call, ONE, aino, router).items()
                      if k != "Description"}
    assert summary.splitlines()[0] == "Call from Test Caller via Sales"
    assert {"Direction: inbound", "Result: answered", f"Number: {ONE}", "Queue: Sales",
            "Notes: Router replaced"} <= set(summary.splitlines())
    assert org.record(router)["Status"] == "Working"  # the case itself is left as it is


OTHER, FIFTH = "+358404444444", "+358405555555"


def test_the_dialog_makes_new_records_with_the_callers_number_and_updates_a_phone(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    settings = salesforce_settings(org, "contact_account")
    agent = Agent(qtbot, start_app(settings, signed_in(org, settings)))

    def form(action: str, call: Call, number: str, **fields: str) -> str:
        """What the dialog's form for `action` submits (its hidden call and number too)."""
        assert f'action="switchboard://action/{action}"' in agent.dialog_html()
        return str(ScreenPopView.crm_url("x", {"call": call.call_id, "number": number,
                                               **fields}).toString()).replace(
            "switchboard://crm/x", f"switchboard://action/{action}")

    # Nobody has the number: the agent makes a new contact; it carries the number.
    call = agent.inbound(NONE)
    assert agent.wait_pop(call) == "dialog"
    agent.answer(call)
    agent.click(form("new-contact", call, NONE, first_name="Pekka", last_name="Koski",
                     email="pekka@example.com", company=""))
    popped = agent.wait_pop(call)
    [pekka] = [c for c in org.all("Contact") if c["LastName"] == "Koski"]
    assert popped == lightning(org, "Contact", pekka["Id"])
    assert (pekka["FirstName"], pekka["Phone"], pekka["Email"]) == (
        "Pekka", NONE, "pekka@example.com")
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, NONE, pekka["Id"],
                                                                    None)

    # A new account, likewise.
    call = agent.inbound(FIFTH)
    assert agent.wait_pop(call) == "dialog"
    agent.answer(call)
    agent.click(form("new-account", call, FIFTH, name="Koski Oy", email=""))
    popped = agent.wait_pop(call)
    [koski] = org.all("Account")
    assert popped == lightning(org, "Account", koski["Id"])
    assert (koski["Name"], koski["Phone"]) == ("Koski Oy", FIFTH)
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, FIFTH, None,
                                                                    koski["Id"])

    # Aino calls from a new number: found by a search, her record gets the number.
    call = agent.inbound(OTHER)
    assert agent.wait_pop(call) == "dialog"
    agent.answer(call)
    agent.crm.view.builtin_page.load(ScreenPopView.crm_url("dialog", {
        "kind": "contact_account", "number": OTHER, "call": call.call_id,
        "direction": "inbound", "queue": "Sales", "q": "Virtanen"}))
    qtbot.waitUntil(lambda: any(a.get("ref") == f"contact/{aino}" for a in links(
        agent.dialog_html(), "attach-number")), timeout=WAIT_MS)
    [update] = [a for a in links(agent.dialog_html(), "attach-number")
                if a["ref"] == f"contact/{aino}"]
    agent.click(update["href"])
    assert agent.wait_pop(call) == lightning(org, "Contact", aino)
    assert (org.record(aino)["Phone"], org.record(aino)["MobilePhone"]) == (ONE, OTHER)
    assert [r.body for r in org.rest_requests("PATCH", f"/sobjects/Contact/{aino}")] == [
        {"MobilePhone": OTHER}]
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, OTHER, aino, None)


def test_a_missed_call_is_a_task_and_notes_after_a_call_update_its_task(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    settings = salesforce_settings(org, "contact_account")
    agent = Agent(qtbot, start_app(settings, signed_in(org, settings)))

    missed = agent.inbound(ONE)
    agent.wait_pop(missed)
    agent.hang_up_and_wait_for_the_task(missed)  # the caller gave up while it rang
    task = task_of(org, missed.call_id)
    assert {**call_fields(task), "CallDurationInSeconds": task["CallDurationInSeconds"]} == {
        **expected_task(missed, ONE, aino, None), "Subject": "Missed call from Test Caller",
        "CallDisposition": "missed", "CallDurationInSeconds": 0}

    call = agent.inbound(ONE)
    agent.wait_pop(call)
    agent.answer(call)
    qtbot.keyClicks(agent.crm.notes.edit, "Wants an offer")
    task_id = agent.hang_up_and_wait_for_the_task(call)
    assert org.record(task_id)["Description"] == "Wants an offer"
    # The agent finishes the notes after hanging up: the same Task gets them.
    qtbot.keyClicks(agent.crm.notes.edit, "; send it by Friday")
    qtbot.waitUntil(lambda: org.record(task_id)["Description"] ==
                    "Wants an offer; send it by Friday", timeout=WAIT_MS)
    assert [t["Id"] for t in org.all("Task")] == [task["Id"], task_id]
    assert org.rest_requests("PATCH", f"/sobjects/Task/{task_id}")
