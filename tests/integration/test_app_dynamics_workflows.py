"""The whole app (build_app, real engine, real web view) against the fake Dataverse and Entra ID.

Every workflow by a caller matching nobody, one contact, or several records, inbound (SIPp
calls) and outbound (the app dials SIPp), with the exact Dataverse records asserted: the
phone call's regarding, parties (From = 1, To = 2) and Made/Received, the cases created.
Then what the agent does in the pane: picking a caller during the call, adding the caller
as a contact before a case (Dynamics requires a case's customer), a pop held by a Dynamics
form with unsaved edits until the call is answered, and the sign-in from the pane's bar
(device code on the fake authority) after which the held call logs are written.

The sign-in for most tests is `switchboard crm login --device-code` (tests/integration/
test_app_dynamics.py), so the app starts with the token cache on disk as an agent's would.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWebEngineCore import QWebEngineScript
from pytestqt.qtbot import QtBot

from app import config
from app.application import SwitchboardApp
from app.compose import build_app
from app.core.calls import CallState
from app.crm.dynamics import records
from app.paths import Profile
from tests.fakes.dataverse import FakeDataverse
from tests.fakes.entra_id import FakeEntraId
from tests.fakes.memory_secrets import MemorySecretStore
from tests.integration.conftest import Sipp, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here
from tests.integration.test_app_dynamics import dataverse as dataverse  # fixtures
from tests.integration.test_app_dynamics import (
    dynamics_profile,
    form_values,
    pages,
    secrets_in,
    sign_in,
)
from tests.integration.test_app_dynamics import entra as entra

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
    # Headless: no GPU. Chromium and Qt say so, then render in software.
    pytest.mark.qt_log_ignore(r"QRhiGles2", r"Failed to create RHI",
                              r"createPlatformVulkanInstance", r"QVulkanInstance",
                              r"GBM is not supported", r"GPUInfo not initialized",
                              r"Uncaught", r"js:"),
]

WAIT_MS = 30_000
SCENARIO_CALLER = "+358401234567"  # the From of the SIPp scenarios, replaced per call
ONE = "+358401234567"  # Aino Virtanen, a contact with a case
MANY = "+358501112233"  # two contacts, an account and a lead
NONE = "+358451234999"  # nobody


@pytest.fixture
def apps(qtbot: QtBot) -> Iterator[list[SwitchboardApp]]:
    made: list[SwitchboardApp] = []
    yield made
    for app in made:
        app.shutdown()
        app.window.close()
    qtbot.wait(10)


@pytest.fixture
def seeded(dataverse: FakeDataverse) -> dict[str, str]:
    """The CRM's records: name → id."""
    ids = {"Aino": dataverse.add_contact("Aino", "Virtanen", ONE)}
    ids["Aino's case"] = dataverse.add_incident("Broken router", ids["Aino"])
    ids["Liisa"] = dataverse.add_contact("Liisa", "Mäkinen", MANY)
    ids["Jussi"] = dataverse.add_contact("Jussi", "Mäkinen", "+35891234567", MANY)
    ids["Mäkinen Oy"] = dataverse.add_account("Mäkinen Oy", MANY)
    ids["Pekka"] = dataverse.add_lead("Pekka", "Mäkinen", "Mäkinen Oy", MANY)
    return ids


@pytest.fixture
def make(qtbot: QtBot, tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
         apps: list[SwitchboardApp], monkeypatch: pytest.MonkeyPatch
         ) -> Callable[..., SwitchboardApp]:
    # requests (msal's and ours) trusts the fake authority's certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(entra.cert_path))

    def build(workflow: str, *, signed_in: bool = True, sipp_port: int = 0,
              auto_answer: bool = True, retry_max: float = 1.0) -> SwitchboardApp:
        def settings(s: config.Settings) -> None:
            s.sip.auto_answer, s.sip.auto_answer_delay = auto_answer, 1.0
            s.crm.outbox_retry_max_seconds = retry_max

        profile = dynamics_profile(tmp_path / "profile", entra, dataverse, workflow=workflow,
                                   sipp_port=sipp_port, configure=settings)
        if signed_in:
            sign_in(profile, entra)
        loaded = config.load(profile.config_path)[0]
        app = build_app(profile, loaded, secrets=MemorySecretStore())
        apps.append(app)
        app.start(show=True)
        # (The banner shows at once that the token cache is a 0600 file: no secret service.)
        qtbot.waitUntil(lambda: app.engine_running, timeout=WAIT_MS)
        return app

    return build


def ring(sipp: Callable[..., Sipp], tmp_path: Path, app: SwitchboardApp, number: str,
         name: str = "uac_remote_bye", hold_ms: int = 5000) -> Sipp:
    path = scenario(tmp_path, name, HOLD_MS=str(hold_ms))
    path.write_text(path.read_text().replace(SCENARIO_CALLER, number))
    return sipp(path, f"127.0.0.1:{app.engine.local_port}")


def js(qtbot: QtBot, app: SwitchboardApp, script: str) -> Any:
    """Run `script` in Qt's isolated world of the built-in page (page script is off)."""
    box: list[Any] = []
    assert app.crm is not None
    app.crm.view.page().runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld,
                                      box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT_MS)
    return box[0]


def page_text(qtbot: QtBot, app: SwitchboardApp) -> str:
    box: list[str] = []
    assert app.crm is not None
    app.crm.view.page().toPlainText(box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT_MS)
    return box[0]


def shows(qtbot: QtBot, app: SwitchboardApp, text: str) -> None:
    """The pane's built-in page shows `text` (polled: the page may load once more)."""
    qtbot.waitUntil(lambda: text in page_text(qtbot, app), timeout=WAIT_MS)


def phone_call(dataverse: FakeDataverse, call_id: str) -> dict[str, Any]:
    """The call's phone call, with its parties as {"entity/id": mask}."""
    row = dataverse.records("phonecalls")[records.activity_id(call_id)]
    with dataverse.lock:
        parties = list(dataverse.parties.get(row["activityid"], []))
    row["parties"] = {f"{p['entity']}/{p['partyid']}": p["participationtypemask"]
                      for p in parties}
    return row


def logged(qtbot: QtBot, app: SwitchboardApp, peer: Sipp | None, call_id: str) -> str:
    """Wait for the call's log to land in Dynamics (SIPp done first); its id there."""
    assert app.crm is not None
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS,
                          check_params_cb=lambda c, _id: c == call_id) as landed:
        if peer is not None:
            assert peer.wait() == 0, peer.output()
    return str(landed.args[1])


def call_form_opened(qtbot: QtBot, app: SwitchboardApp, peer: Sipp | None,
                     dataverse: FakeDataverse, call_id: str) -> dict[str, str]:
    """Wait for the pre-filled phone call form of the ended call; its values."""
    if peer is not None:
        assert peer.wait() == 0, peer.output()

    def form() -> list[dict[str, str]]:
        return [form_values(q) for q in pages(dataverse, "phonecall")
                if call_id in form_values(q).get("description", "")]
    qtbot.waitUntil(lambda: bool(form()), timeout=WAIT_MS)
    assert app.crm is not None
    qtbot.waitUntil(lambda: app.crm is not None and app.crm.notes.state_label.text()
                    == "Complete and save the phone call form", timeout=WAIT_MS)
    [values] = form()
    return values


def popped(qtbot: QtBot, app: SwitchboardApp, start: Callable[[], Any]) -> tuple[str, str, Any]:
    """Run `start` and wait for the pane's pop: (call_id, path, what start returned)."""
    assert app.crm is not None
    box: list[Any] = []
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as shown:
        box.append(start())
    call_id, path = shown.args
    return call_id, path, box[0]


def record_page(path: str, etn: str, rid: str) -> bool:
    return "/main.aspx?" in path and f"etn={etn}" in path and f"id={rid}" in path


def connected(qtbot: QtBot, app: SwitchboardApp) -> int:
    qtbot.waitUntil(lambda: bool(app.session.calls)
                    and app.session.calls[0].state is CallState.CONNECTED, timeout=WAIT_MS)
    return app.session.calls[0].handle


# -- the matrix --------------------------------------------------------------------------------

# What the pane shows for each caller: a record page (kind) or our dialog; and what the call
# is logged regarding at the end ("form": the PhoneCall workflow's pre-filled form instead).
INBOUND: dict[str, dict[str, tuple[str, str | None]]] = {
    "phone_call": {"none": ("dialog", "form"), "one": ("contact", "contact"),
                   "many": ("dialog", "form")},
    "contact_account": {"none": ("dialog", None), "one": ("contact", "contact"),
                        "many": ("dialog", None)},
    "contact_lead": {"none": ("dialog", None), "one": ("contact", "contact"),
                     "many": ("dialog", None)},
    # One contact: its cases to choose from; the call is about the contact meanwhile.
    "case_dialog": {"none": ("dialog", None), "one": ("dialog", "contact"),
                    "many": ("dialog", None)},
    # On answer a case for the one contact; with none or several, the dialog that asks for
    # the customer a Dynamics case needs (nothing is created behind the agent's back).
    "case": {"none": ("dialog", None), "one": ("incident", "incident"),
             "many": ("dialog", None)},
}
NUMBERS = {"none": NONE, "one": ONE, "many": MANY}


def check_log(dataverse: FakeDataverse, seeded: dict[str, str], call_id: str,
              regarding: str | None, *, outbound: bool) -> dict[str, Any]:
    call = phone_call(dataverse, call_id)
    agent = f"systemuser/{dataverse.user_id}"
    assert call["directioncode"] is outbound
    assert (call["statecode"], call["statuscode"]) == (1, 2 if outbound else 4)
    if regarding is None:
        assert call["_regardingobjectid_value"] is None
        assert call["parties"] == {agent: 1 if outbound else 2}
        return call
    aino = f"contact/{seeded['Aino']}"
    assert call["parties"] == ({agent: 1, aino: 2} if outbound else {aino: 1, agent: 2})
    if regarding == "contact":
        assert call["_regardingobjectid_value"] == seeded["Aino"]
    else:  # the case created for the call, whose customer is Aino
        case = dataverse.records("incidents")[call["_regardingobjectid_value"]]
        assert case["_customerid_value"] == seeded["Aino"]
    return call


@pytest.mark.parametrize("workflow", list(INBOUND))
def test_every_workflow_for_nobody_one_and_several_inbound_and_outbound(
        workflow: str, qtbot: QtBot, tmp_path: Path, dataverse: FakeDataverse,
        seeded: dict[str, str], make: Callable[..., SwitchboardApp],
        sipp: Callable[..., Sipp]) -> None:
    # SIPp answers the two outbound calls; started first so that its port stays its own.
    far = sipp(scenario(tmp_path, "uas_answer"), calls=2, extra=("-timeout", "300s"))
    app = make(workflow, sipp_port=far.port)
    cases_before = set(dataverse.records("incidents"))
    for match, (shown, regarding) in INBOUND[workflow].items():
        call_id, path, peer = popped(qtbot, app, lambda m=match: ring(  # type: ignore[misc]
            sipp, tmp_path, app, NUMBERS[m]))
        where = f"{workflow}, inbound, {match}"
        if shown == "dialog":
            assert path == "dialog", where
        elif shown == "contact":
            assert record_page(path, "contact", seeded["Aino"]), where
        else:
            assert record_page(path, "incident", ""), where
        if workflow == "case" and match != "one":
            shows(qtbot, app, "A case in this CRM needs a customer")
        if regarding == "form":
            values = call_form_opened(qtbot, app, peer, dataverse, call_id)
            assert (values["phonenumber"], values["directioncode"]) == (NUMBERS[match], "0")
            assert records.activity_id(call_id) not in dataverse.records("phonecalls")
            continue
        logged(qtbot, app, peer, call_id)
        check_log(dataverse, seeded, call_id, regarding, outbound=False)

    for match in ("one", "none"):  # the agent dials from the dial pad (no record)
        shown, regarding = INBOUND[workflow][match]
        call_id, path, outcome = popped(qtbot, app, lambda m=match: app.session.dial(
            NUMBERS[m]))
        where = f"{workflow}, outbound, {match}"
        assert outcome.ok, where
        if shown == "contact":
            assert record_page(path, "contact", seeded["Aino"]), where
        elif shown == "incident":
            assert record_page(path, "incident", ""), where
        else:
            assert path == "dialog", where
        app.session.hangup(connected(qtbot, app))
        if regarding == "form":
            values = call_form_opened(qtbot, app, None, dataverse, call_id)
            assert (values["phonenumber"], values["directioncode"]) == (NUMBERS[match], "1")
            continue
        logged(qtbot, app, None, call_id)
        check_log(dataverse, seeded, call_id, regarding, outbound=True)
    assert far.wait() == 0, far.output()

    created = {k: v for k, v in dataverse.records("incidents").items()
               if k not in cases_before}
    # A case only where a customer was known: the case workflow's two calls of Aino.
    assert [c["_customerid_value"] for c in created.values()] == (
        [seeded["Aino"]] * 2 if workflow == "case" else [])


# -- what the agent does in the pane -----------------------------------------------------------


def test_a_caller_picked_during_the_call_gets_the_phone_call_with_the_typed_notes(
        qtbot: QtBot, tmp_path: Path, dataverse: FakeDataverse, seeded: dict[str, str],
        make: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp]) -> None:
    app = make("phone_call")
    assert app.crm is not None
    call_id, path, peer = popped(qtbot, app, lambda: ring(sipp, tmp_path, app, MANY,
                                                          hold_ms=6000))
    assert path == "dialog"
    shows(qtbot, app, "Pekka Mäkinen")
    connected(qtbot, app)
    qtbot.keyClicks(app.crm.notes.edit, "Wants the Friday offer")
    # The agent picks the lead: a real click on its "Log call here" link.
    js(qtbot, app, "[...document.querySelectorAll('li')].find(li => li.textContent"
                   ".includes('Pekka')).querySelector('a.primary').click(); true")
    qtbot.waitUntil(lambda: bool(pages(dataverse, "lead")), timeout=WAIT_MS)
    assert pages(dataverse, "lead")[-1]["id"] == seeded["Pekka"]
    logged(qtbot, app, peer, call_id)
    call = phone_call(dataverse, call_id)
    assert call["_regardingobjectid_value"] == seeded["Pekka"]
    assert call["parties"] == {f"lead/{seeded['Pekka']}": 1,
                               f"systemuser/{dataverse.user_id}": 2}
    assert records.parse_description(call["description"])[0] == "Wants the Friday offer"
    assert pages(dataverse, "phonecall") == []  # picked: no form at the end
    assert len(dataverse.records("phonecalls")) == 1


def test_an_unknown_caller_is_added_as_a_contact_then_the_case_is_made_for_them(
        qtbot: QtBot, tmp_path: Path, dataverse: FakeDataverse, seeded: dict[str, str],
        make: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp]) -> None:
    app = make("case")
    call_id, path, peer = popped(qtbot, app, lambda: ring(sipp, tmp_path, app, NONE,
                                                          hold_ms=8000))
    assert path == "dialog"
    shows(qtbot, app, "A case in this CRM needs a customer")
    js(qtbot, app, "const f = document.querySelector('form.new');"
                   "f.first_name.value = 'Ville'; f.last_name.value = 'Uusi';"
                   "f.querySelector('button').click(); true")
    shows(qtbot, app, "Ville Uusi")  # the case dialog again, with the new contact chosen
    [(ville, contact)] = [(k, v) for k, v in dataverse.records("contacts").items()
                          if v["firstname"] == "Ville"]
    assert contact["telephone1"] == NONE  # the caller's number, as E.164
    js(qtbot, app, "[...document.querySelectorAll('a')].find(a => a.textContent"
                   " === 'New case').click(); true")
    qtbot.waitUntil(lambda: bool(pages(dataverse, "incident")), timeout=WAIT_MS)
    case_id = pages(dataverse, "incident")[-1]["id"]
    assert dataverse.records("incidents")[case_id]["_customerid_value"] == ville
    logged(qtbot, app, peer, call_id)
    call = phone_call(dataverse, call_id)
    assert call["_regardingobjectid_value"] == case_id
    assert call["parties"] == {f"contact/{ville}": 1, f"systemuser/{dataverse.user_id}": 2}


def test_a_form_with_unsaved_edits_holds_the_next_pop_until_the_call_is_answered(
        qtbot: QtBot, tmp_path: Path, dataverse: FakeDataverse, seeded: dict[str, str],
        make: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp]) -> None:
    app = make("contact_account", auto_answer=False)
    assert app.crm is not None
    # The agent is in the middle of editing Liisa's form in Dynamics.
    app.crm.pane.show_url(f"{dataverse.org_url}/main.aspx?pagetype=entityrecord&etn=contact"
                          f"&id={seeded['Liisa']}")
    qtbot.waitUntil(lambda: bool(pages(dataverse, "contact")), timeout=WAIT_MS)
    dataverse.dirty_forms = True
    peer = ring(sipp, tmp_path, app, ONE, hold_ms=1500)
    qtbot.waitUntil(lambda: len(app.session.ringing) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: app.crm is not None and app.crm.pane.hold_bar.isVisible(),
                    timeout=WAIT_MS)
    assert [q["id"] for q in pages(dataverse, "contact")] == [seeded["Liisa"]]  # not left
    dataverse.dirty_forms = False  # the agent saved the form
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as shown:
        app.session.answer(app.session.ringing[0].handle)
    assert record_page(shown.args[1], "contact", seeded["Aino"])
    assert [q["id"] for q in pages(dataverse, "contact")] == [seeded["Liisa"], seeded["Aino"]]
    logged(qtbot, app, peer, shown.args[0])


def test_signing_in_from_the_bar_lets_lookups_run_and_writes_the_held_call_logs(
        qtbot: QtBot, tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        seeded: dict[str, str], make: Callable[..., SwitchboardApp],
        sipp: Callable[..., Sipp]) -> None:
    app = make("contact_account", signed_in=False)
    assert app.crm is not None
    pane = app.crm.pane
    qtbot.waitUntil(lambda: pane.sign_in_bar.isVisible(), timeout=WAIT_MS)
    # A call while signed out rings, is answered and ends; its log waits in the outbox.
    peer = ring(sipp, tmp_path, app, ONE, hold_ms=1500)
    assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: app.crm is not None and app.crm.outbox.pending_count() == 1,
                    timeout=WAIT_MS)
    assert dataverse.records("phonecalls") == {}

    pane.sign_in_button.click()  # device code: the banner shows the code to enter
    banner = app.window.problem_label
    qtbot.waitUntil(lambda: "enter the code" in banner.text(), timeout=WAIT_MS)
    codes = re.findall(r"enter the code (\w+)", banner.text())  # the newest is last
    assert codes, banner.text()
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS) as landed:
        entra.approve_device_code(codes[-1])  # the agent, on another device
    qtbot.waitUntil(lambda: not pane.sign_in_bar.isVisible(), timeout=WAIT_MS)
    call = phone_call(dataverse, landed.args[0])  # nobody was looked up for it
    assert call["_regardingobjectid_value"] is None
    assert call["parties"] == {f"systemuser/{dataverse.user_id}": 2}

    # And the next caller is looked up and popped.
    call_id, path, peer = popped(qtbot, app, lambda: ring(sipp, tmp_path, app, ONE,
                                                          hold_ms=1500))
    assert record_page(path, "contact", seeded["Aino"])
    logged(qtbot, app, peer, call_id)
    # The sign-in made in the app left no token in the profile's config, logs, databases
    # or web profile (only in the token cache).
    assert secrets_in(Profile.at(tmp_path / "profile"), entra) == []


def outbox_items(app: SwitchboardApp) -> list[tuple[str, int, float, str]]:
    """(state, attempts, next_at, last_error) of every outbox item, read from its file."""
    assert app.crm is not None
    conn = sqlite3.connect(app.crm.outbox.path)
    try:
        return list(conn.execute("SELECT state, attempts, next_at, last_error FROM items"))
    finally:
        conn.close()


def test_a_sign_in_revoked_mid_shift_holds_every_call_log_until_the_agent_signs_in(
        qtbot: QtBot, tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        seeded: dict[str, str], make: Callable[..., SwitchboardApp],
        sipp: Callable[..., Sipp]) -> None:
    app = make("contact_account", retry_max=600)
    assert app.crm is not None
    pane = app.crm.pane
    entra.expire_access_tokens()
    entra.revoke_refresh_tokens()  # IT revoked the agent's sessions
    for _ in range(3):  # callers give up after ringing: missed calls, logged as any other
        peer = ring(sipp, tmp_path, app, NONE, hold_ms=300, name="uac_cancel")
        assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: pane.sign_in_bar.isVisible(), timeout=WAIT_MS)

    def held() -> bool:
        items = outbox_items(app)
        return len(items) == 3 and all(
            state == "pending" and attempts == 0 and next_at > time.time() + 300
            for state, attempts, next_at, _error in items) and any(
            "Sign in to Dynamics 365 again" in error for *_rest, error in items)
    # The first refusal stops the round; then no log is due until the sign-in (retry_max,
    # 10 minutes here): no outbox tick asks Dynamics or the authority again meanwhile.
    try:
        qtbot.waitUntil(held, timeout=WAIT_MS)
    except qtbot.TimeoutError:
        raise AssertionError(f"outbox: {outbox_items(app)}, now {time.time()}") from None
    assert dataverse.records("phonecalls") == {}

    pane.sign_in_button.click()
    banner = app.window.problem_label
    qtbot.waitUntil(lambda: "enter the code" in banner.text(), timeout=WAIT_MS)
    codes = re.findall(r"enter the code (\w+)", banner.text())  # the newest is last
    assert codes, banner.text()
    entra.approve_device_code(codes[-1])
    qtbot.waitUntil(lambda: len(dataverse.records("phonecalls")) == 3, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: [i[0] for i in outbox_items(app)] == ["done"] * 3,
                    timeout=WAIT_MS)
    assert not pane.sign_in_bar.isVisible()


def test_a_403_parks_the_call_log_with_words_for_it_until_the_agent_retries(
        qtbot: QtBot, tmp_path: Path, dataverse: FakeDataverse, seeded: dict[str, str],
        make: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp]) -> None:
    app = make("contact_account")
    assert app.crm is not None
    status = app.crm.outbox_status
    dataverse.fail_next("forbidden_policy", method="PATCH", path_contains="/phonecalls(")
    call_id, _path, peer = popped(qtbot, app, lambda: ring(sipp, tmp_path, app, ONE,
                                                           hold_ms=1500))
    assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: status.label.text() == "1 call log refused by the CRM",
                    timeout=WAIT_MS)
    assert "Pass this message to your IT" in status.toolTip()
    assert status.retry_button.isVisible()
    assert [i[:2] for i in outbox_items(app)] == [("failed", 1)]
    assert dataverse.records("phonecalls") == {}
    # IT allowed the app; the agent presses Retry and the same call is logged once.
    assert logged_after(qtbot, app, call_id, status.retry_button.click)
    assert phone_call(dataverse, call_id)["_regardingobjectid_value"] == seeded["Aino"]
    qtbot.waitUntil(lambda: not status.isVisible(), timeout=WAIT_MS)


def logged_after(qtbot: QtBot, app: SwitchboardApp, call_id: str,
                 act: Callable[[], Any]) -> str:
    assert app.crm is not None
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS,
                          check_params_cb=lambda c, _id: c == call_id) as landed:
        act()
    return str(landed.args[1])


def test_notes_typed_after_the_call_update_the_same_phone_call(
        qtbot: QtBot, tmp_path: Path, dataverse: FakeDataverse, seeded: dict[str, str],
        make: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp]) -> None:
    app = make("contact_account")
    assert app.crm is not None
    notes = app.crm.notes
    call_id, _path, peer = popped(qtbot, app, lambda: ring(sipp, tmp_path, app, ONE,
                                                           hold_ms=2500))
    connected(qtbot, app)
    qtbot.keyClicks(notes.edit, "Asked about the invoice")
    first = logged(qtbot, app, peer, call_id)
    qtbot.waitUntil(lambda: notes.state_label.text() == "Logged", timeout=WAIT_MS)
    assert not notes.edit.isReadOnly()  # wrap-up: the agent may add to the notes
    qtbot.keyClicks(notes.edit, "; sent a copy")
    want = "Asked about the invoice; sent a copy"

    def updated() -> bool:
        call = phone_call(dataverse, call_id)  # reopened, changed, then closed again
        return bool(records.parse_description(call["description"])[0] == want
                    and call["statecode"] == 1)
    qtbot.waitUntil(updated, timeout=WAIT_MS)
    [(key, call)] = dataverse.records("phonecalls").items()
    assert key == first == records.activity_id(call_id)  # the same phone call, changed
    assert (call["statecode"], call["statuscode"]) == (1, 4)  # and closed again
    assert records.parse_description(call["description"])[1]["Call-ID"] == call_id
    with dataverse.lock:
        assert len(dataverse.parties[key]) == 2
