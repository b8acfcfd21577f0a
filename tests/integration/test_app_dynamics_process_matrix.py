"""Every workflow by a caller matching nobody, one contact or several records, in the real app.

One app process per workflow (`crm.workflow` is read at start): `python -m app run` against
the fake Dataverse and the fake Entra ID, signed in beforehand with `switchboard crm login
--device-code` (tests/integration/test_app_dynamics.py). In each process SIPp places three
inbound calls (from a number matching nobody, Aino Virtanen alone, and two contacts, an
account and a lead), then the app dials the same three numbers (`switchboard dial tel:…`,
handed to the running instance) and SIPp answers and hangs up. Nobody picks anything in
the pane: for several matches the test asserts what the product does without a pick.

Everything is asserted from outside the process: the page popped (the `popped` log line,
and the model-driven app page the fake served), the exact phone call create (the JSON body
of the `PATCH …/phonecalls(<id>)` with `If-None-Match: *`: columns, the phone-call-specific
regarding bind, activity parties From = 1 / To = 2 swapped for outbound), its close
(Received 4 inbound, Made 2 outbound), the cases created (only for a known customer:
Dynamics needs one on a case, so the Case workflow opens the case dialog instead), and for
the PhoneCall workflow the pre-filled phone call form opened at the end instead of a log.

Then what the agent does in the pane, in the real process (a small driver around
`run_app` runs the click's JavaScript in the pane's page and presses Hang up, on order
files the test writes once the log says the page is up): picking the lead among several
matches (the phone call is then on the lead, and no form opens), and, in the Case workflow,
adding an unknown caller as a contact in the dialog that asks for a customer, then the case
for them.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app.crm.dynamics import records
from tests.app_driver import driver_cmd
from tests.app_driver import order as give_order
from tests.app_process import REPO, AppProcess
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.fakes.dataverse import FakeDataverse
from tests.fakes.entra_id import FakeEntraId
from tests.integration.conftest import Sipp
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here
from tests.integration.test_app_dynamics import (
    answering,
    dynamics_profile,
    env,
    form_values,
    inbound,
    pages,
    party_masks,
    running,
    secrets_in,
    sign_in,
    wait_for,
)
from tests.integration.test_app_dynamics import dataverse as dataverse  # fixtures
from tests.integration.test_app_dynamics import entra as entra

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
]

WAIT = 60.0
ONE = "+358401234567"  # Aino Virtanen, a contact with a case
MANY = "+358501112233"  # two contacts, an account and a lead
NONE = "+358451234999"  # nobody
NUMBERS = {"none": NONE, "one": ONE, "many": MANY}
HOLD_MS = "1500"  # how long each call talks before the far end hangs up

# SIPp answers the app's call and, after HOLD_MS, hangs up itself (a BYE in the dialog the
# INVITE made: our tag and the app's From tag, sent to the app's Contact).
UAS_ANSWER_THEN_BYE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="uas_answer_then_bye">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" check_it="true"
            assign_to="contact"/>
      <ereg regexp="tag=[^;]*" search_in="hdr" header="From:" check_it="true"
            assign_to="app_tag"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]>
  </send>
  <recv request="ACK"/>
  <pause milliseconds="{hold}"/>
  <send retrans="500">
    <![CDATA[

      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To: <sip:agent@127.0.0.1>;[$app_tag]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"""


# -- what each workflow does with each caller (nobody picks anything in the pane) -------------

# Per workflow and match: the page popped ("dialog": our dialog; "contact" / "incident": the
# model-driven app's record page), and how the call ends: "form" (the PhoneCall workflow's
# pre-filled phone call form, nothing written), "contact" (logged regarding Aino), "incident"
# (logged regarding the case made for Aino on answer), None (logged regarding nobody).
# The same for both directions: the app dials the number (no record to dial from).
EXPECTED: dict[str, dict[str, tuple[str, str | None]]] = {
    "phone_call": {"none": ("dialog", "form"), "one": ("contact", "contact"),
                   "many": ("dialog", "form")},
    "contact_account": {"none": ("dialog", None), "one": ("contact", "contact"),
                        "many": ("dialog", None)},
    "contact_lead": {"none": ("dialog", None), "one": ("contact", "contact"),
                     "many": ("dialog", None)},
    # One contact: the case dialog with her chosen (her cases to pick); the call is about
    # her meanwhile. Several contacts: the dialog to choose one.
    "case_dialog": {"none": ("dialog", None), "one": ("dialog", "contact"),
                    "many": ("dialog", None)},
    # On answer a case for the one contact, popped; with nobody or several contacts, the
    # case dialog that asks for the customer Dynamics requires (crm_case_needs_customer).
    "case": {"none": ("dialog", None), "one": ("incident", "incident"),
             "many": ("dialog", None)},
}


def seed(dataverse: FakeDataverse) -> dict[str, str]:
    """The CRM's records: name → id."""
    ids = {"Aino": dataverse.add_contact("Aino", "Virtanen", ONE)}
    ids["Aino's case"] = dataverse.add_incident("Broken router", ids["Aino"])
    ids["Liisa"] = dataverse.add_contact("Liisa", "Mäkinen", MANY)
    ids["Jussi"] = dataverse.add_contact("Jussi", "Mäkinen", "+35891234567", MANY)
    ids["Mäkinen Oy"] = dataverse.add_account("Mäkinen Oy", MANY)
    ids["Pekka"] = dataverse.add_lead("Pekka", "Mäkinen", "Mäkinen Oy", MANY)
    return ids


# -- reading the app's log lines ---------------------------------------------------------------


def line(app: AppProcess, what: str, ok: Callable[[dict[str, Any]], bool],
         timeout: float = WAIT) -> dict[str, Any]:
    """The first log line `ok` accepts, waiting for it (the app's lines are read as they
    come; nothing is slept)."""
    deadline = time.monotonic() + timeout
    while True:
        for seen in list(app.log.seen):
            if ok(seen):
                return seen
        if time.monotonic() > deadline or app.proc.poll() is not None:
            raise AssertionError(f"no {what} (exit {app.proc.poll()}); events "
                                 f"{[s.get('event') for s in app.log.seen][-40:]}\n"
                                 + "".join(app.log.text[-30:]))
        with contextlib.suppress(AssertionError):  # reads the new lines into app.log.seen
            app.event("(no such event)", timeout=0.5)


def new_call(app: AppProcess, event: str, old: set[str]) -> str:
    """The Call-ID of the first `event` (ringing, dialing) of a call not in `old`."""
    found = line(app, f"a new {event}", lambda s: s.get("event") == event
                 and s.get("call_id") not in old)
    old.add(found["call_id"])
    return str(found["call_id"])


def of_call(app: AppProcess, event: str, call_id: str) -> dict[str, Any]:
    return line(app, f"{event} of {call_id}", lambda s: s.get("event") == event
                and s.get("call_id") == call_id)


def events_of(app: AppProcess, call_id: str) -> list[str]:
    return [s["event"] for s in app.log.seen if s.get("call_id") == call_id]


def dial(profile_root: Path, entra: FakeEntraId, number: str) -> None:
    """`switchboard dial tel:…`: the link handed to the running app, as a click would."""
    done = subprocess.run([sys.executable, "-m", "app", "--profile", str(profile_root), "dial",
                           f"tel:{number}"], cwd=REPO, env=env(entra), capture_output=True,
                          text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr


# -- reading the fake Dataverse ----------------------------------------------------------------


def requests_to(dataverse: FakeDataverse, activity_id: str) -> list[dict[str, Any]]:
    with dataverse.lock:
        return [r for r in dataverse.requests if r["method"] in ("PATCH", "POST")
                and f"phonecalls({activity_id})" in r["path"]]


def forms_of(dataverse: FakeDataverse, call_id: str) -> list[dict[str, str]]:
    """The new phone call forms the web view loaded for the call (its Call-ID is in them)."""
    return [q for q in pages(dataverse, "phonecall")
            if call_id in form_values(q).get("description", "")]


def subject_of(number: str, *, outbound: bool) -> str:
    """Inbound: SIPp's display name and X-Queue-Name; outbound: the number dialled."""
    return f"Call to {number}" if outbound else "Call from Test Caller via Sales"


def expected_body(seeded: dict[str, str], agent: str, number: str, subject: str,
                  regarding: str | None, case_id: str | None, *, outbound: bool,
                  sent: dict[str, Any]) -> dict[str, Any]:
    """The exact create body; the times and the description are the sent ones, checked
    apart (they are the call's own)."""
    body: dict[str, Any] = {
        "subject": subject, "phonenumber": number, "directioncode": outbound,
        "description": sent.get("description"), "actualstart": sent.get("actualstart"),
        "actualend": sent.get("actualend"), "actualdurationminutes": 1,
    }
    me = {"partyid_systemuser@odata.bind": f"/systemusers({agent})"}
    if regarding is None:
        body["phonecall_activity_parties"] = [{**me, "participationtypemask":
                                               1 if outbound else 2}]
        return body
    if regarding == "contact":
        body["regardingobjectid_contact_phonecall@odata.bind"] = f"/contacts({seeded['Aino']})"
    else:
        body["regardingobjectid_incident_phonecall@odata.bind"] = f"/incidents({case_id})"
    aino = {"partyid_contact@odata.bind": f"/contacts({seeded['Aino']})"}
    caller, callee = (me, aino) if outbound else (aino, me)
    body["phonecall_activity_parties"] = [{**caller, "participationtypemask": 1},
                                          {**callee, "participationtypemask": 2}]
    return body


# -- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", list(EXPECTED))
def test_every_caller_in_and_out_is_popped_and_logged_as_the_workflow_says(
        workflow: str, tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    seeded = seed(dataverse)
    agent = dataverse.user_id
    cases_before = set(dataverse.records("incidents"))
    # SIPp answers the three outbound calls; started first so that its port stays its own.
    uas = tmp_path / "uas_answer_then_bye.xml"
    uas.write_text(UAS_ANSWER_THEN_BYE.replace("{hold}", HOLD_MS))
    far = sipp(uas, calls=3, extra=("-timeout", "300s"))
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, workflow=workflow,
                               sipp_port=far.port, configure=answering)
    sign_in(profile, entra)
    app = running(processes, profile, entra)
    seen: set[str] = set()
    made_cases: list[str] = []
    covered: list[str] = []

    for outbound in (False, True):
        for match, (shown, ends) in EXPECTED[workflow].items():
            number = NUMBERS[match]
            where = f"{workflow}, {'outbound' if outbound else 'inbound'}, {match}"
            if outbound:
                dial(profile.root, entra, number)
                call_id = new_call(app, "dialing", seen)
                peer = None
            else:
                peer = inbound(sipp, tmp_path, profile, "uac_remote_bye", number,
                               HOLD_MS=HOLD_MS)
                call_id = new_call(app, "ringing", seen)

            # The pop: our dialog, or the record's page in the model-driven app.
            popped = of_call(app, "popped", call_id)["path"]
            case_id = None
            if shown == "dialog":
                assert popped == "dialog", where
            elif shown == "contact":
                url = (f"{dataverse.org_url}/main.aspx?pagetype=entityrecord&etn=contact"
                       f"&id={seeded['Aino']}")
                assert popped == url, where
                assert {"pagetype": "entityrecord", "etn": "contact",
                        "id": seeded["Aino"]} in pages(dataverse, "contact"), where
            else:
                new = [k for k in dataverse.records("incidents")
                       if k not in cases_before and k not in made_cases]
                assert len(new) == 1, where
                case_id = new[0]
                made_cases.append(case_id)
                assert popped == (f"{dataverse.org_url}/main.aspx?pagetype=entityrecord"
                                  f"&etn=incident&id={case_id}"), where

            if peer is not None:
                assert peer.wait() == 0, peer.output()
            ended = of_call(app, "recorded", call_id)
            assert (ended["result"], ended["direction"]) == (
                "answered", "outbound" if outbound else "inbound"), where

            def the_end(s: dict[str, Any], c: str = call_id) -> bool:
                return s.get("call_id") == c and s.get("event") in ("crm_logged",
                                                                    "crm_call_form")
            done = line(app, f"the end of {call_id}", the_end)
            if workflow == "case":  # a case needs a customer: asked for, not attempted
                assert ("crm_case_needs_customer" in events_of(app, call_id)) == (
                    match != "one"), where
            activity_id = records.activity_id(call_id)
            if ends == "form":
                assert done["event"] == "crm_call_form", where
                [form] = forms_of(dataverse, call_id)
                assert set(form) == {"pagetype", "etn", "extraqs"}, where  # a new one
                assert form["pagetype"] == "entityrecord" and form["etn"] == "phonecall"
                values = form_values(form)
                notes, lines = records.parse_description(values.pop("description"))
                subject = values.pop("subject")
                assert subject == subject_of(number, outbound=outbound), where
                assert values == {
                    "phonenumber": number, "directioncode": "1" if outbound else "0",
                    "actualdurationminutes": "1"}, where
                assert notes == "" and lines["Call-ID"] == call_id, where
                assert lines["Result"] == "answered", where
                assert activity_id not in dataverse.records("phonecalls"), where
                assert requests_to(dataverse, activity_id) == [], where
                covered.append(f"{where}: form")
                continue

            assert done["event"] == "crm_logged" and done["activity"] == activity_id, where
            assert forms_of(dataverse, call_id) == [], where
            writes = requests_to(dataverse, activity_id)
            assert [(r["method"], r["headers"].get("If-None-Match"), r["headers"].get(
                "If-Match")) for r in writes] == [("PATCH", "*", None),
                                                   ("PATCH", None, "*")], where
            create, close = writes[0]["body"], writes[1]["body"]
            want = expected_body(seeded, agent, number, subject_of(number, outbound=outbound),
                                 ends, case_id, outbound=outbound, sent=create)
            assert create == want, where
            notes, lines = records.parse_description(create["description"])
            assert (notes, lines["Result"], lines["Call-ID"]) == ("", "answered", call_id)
            assert lines.get("Queue") == (None if outbound else "Sales"), where
            assert datetime.fromisoformat(create["actualstart"]) < datetime.fromisoformat(
                create["actualend"]), where
            assert close == {"statecode": 1, "statuscode": 2 if outbound else 4}, where

            row = dataverse.records("phonecalls")[activity_id]
            assert (row["statecode"], row["statuscode"], row["directioncode"]) == (
                1, 2 if outbound else 4, outbound), where
            masks = party_masks(dataverse, activity_id)
            if ends is None:
                assert row["_regardingobjectid_value"] is None, where
                assert masks == {f"systemuser/{agent}": 1 if outbound else 2}, where
            else:
                assert row["_regardingobjectid_value"] == (
                    seeded["Aino"] if ends == "contact" else case_id), where
                aino = f"contact/{seeded['Aino']}"
                assert masks == {f"systemuser/{agent}": 1 if outbound else 2,
                                 aino: 2 if outbound else 1}, where
            covered.append(f"{where}: {ends or 'nobody'}")
    assert far.wait(timeout=WAIT) == 0, far.output()

    # Cases only where a customer was known: the Case workflow's two calls from/to Aino.
    created = {k: v for k, v in dataverse.records("incidents").items()
               if k not in cases_before}
    assert sorted(created) == sorted(made_cases)
    with dataverse.lock:  # and no create was tried without a customer
        case_posts = [r for r in dataverse.requests
                      if r["method"] == "POST" and r["path"].endswith("/incidents")]
    assert [r["body"] for r in case_posts] == [
        {"title": "Phone call from Aino Virtanen", "description": None,
         "customerid_contact@odata.bind": f"/contacts({seeded['Aino']})"}] * len(made_cases)
    assert [(c["_customerid_value"], c["title"]) for c in created.values()] == (
        [(seeded["Aino"], "Phone call from Aino Virtanen")] * 2 if workflow == "case" else [])
    # Every phone call in the fake is one of the logged ones (no duplicates, no strays).
    logged = {records.activity_id(s["call_id"]) for s in app.log.seen
              if s.get("event") == "crm_logged"}
    assert set(dataverse.records("phonecalls")) == logged
    print(f"\n{workflow}: " + "; ".join(covered))
    app.stop()
    assert secrets_in(profile, entra) == []


# -- what the agent does in the pane, in the real process ---------------------------------------

def act(window: Any, order: dict[str, Any], _inbox: Path) -> bool:
    """The agent's hand (tests/app_driver.py): runs the order's JavaScript in the pane's
    page once it shows `page` (a click on a link to switchboard://action/…, which the page
    turns into the intent, as the agent's click does), or hangs the call up as the call
    card's button does."""
    from PySide6.QtWebEngineCore import QWebEngineScript

    from app.ui.screenpop import ScreenPopView

    if order["do"] == "hangup":
        (handle,) = list(window.call_panel.cards)
        window.call_panel.hangup_requested.emit(handle)
        return True
    views = [v for v in window.findChildren(ScreenPopView)
             if v.url().toString().startswith(order["page"])]
    if not views:
        return False  # not shown yet
    views[0].page().runJavaScript(order["js"], QWebEngineScript.ScriptWorldId.ApplicationWorld)
    return True


def order(inbox: Path, name: str, page: str = "", js: str = "") -> None:
    """Ask the driver to run `js` in the pane once it shows `page`, or (no js) to hang up."""
    give_order(inbox, name, do="js" if js else "hangup", page=page, js=js)


def test_a_caller_picked_from_several_in_the_dialog_gets_the_phone_call_and_no_form(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    seeded = seed(dataverse)
    agent = dataverse.user_id
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, workflow="phone_call",
                               configure=answering)
    sign_in(profile, entra)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = processes(driver_cmd(profile.root, inbox, f"{__name__}:act"), env(entra))
    app.event("registration")
    # The agent hangs up (after the pick): SIPp waits for the BYE.
    peer = inbound(sipp, tmp_path, profile, "uac_local_bye", MANY)
    call_id = new_call(app, "ringing", set())
    assert of_call(app, "popped", call_id)["path"] == "dialog"
    # The agent clicks the lead's "Log call here".
    order(inbox, "pick", "switchboard://crm/dialog",
          "[...document.querySelectorAll('li')].find(li => li.textContent"
          ".includes('Pekka')).querySelector('a.primary').click(); true")
    assert of_call(app, "crm_linked", call_id)["record"] == f"lead/{seeded['Pekka']}"
    lead_page = {"pagetype": "entityrecord", "etn": "lead", "id": seeded["Pekka"]}
    assert wait_for(lambda: lead_page in pages(dataverse, "lead"))  # opened in Dynamics
    order(inbox, "hangup")
    assert peer.wait() == 0, peer.output()
    done = line(app, "the end", lambda s: s.get("call_id") == call_id
                and s.get("event") in ("crm_logged", "crm_call_form"))
    assert done["event"] == "crm_logged"  # picked: logged by the app, no form at the end
    activity_id = records.activity_id(call_id)
    writes = requests_to(dataverse, activity_id)
    assert len(writes) == 2, writes
    create = writes[0]["body"]
    assert create == {
        "subject": "Call from Test Caller", "phonenumber": MANY,
        "directioncode": False, "description": create["description"],
        "actualstart": create["actualstart"], "actualend": create["actualend"],
        "actualdurationminutes": 1,
        "regardingobjectid_lead_phonecall@odata.bind": f"/leads({seeded['Pekka']})",
        "phonecall_activity_parties": [
            {"partyid_lead@odata.bind": f"/leads({seeded['Pekka']})",
             "participationtypemask": 1},
            {"partyid_systemuser@odata.bind": f"/systemusers({agent})",
             "participationtypemask": 2}]}
    assert records.parse_description(create["description"])[1]["Call-ID"] == call_id
    assert writes[1]["body"] == {"statecode": 1, "statuscode": 4}
    row = dataverse.records("phonecalls")[activity_id]
    assert (row["_regardingobjectid_value"], row["statecode"], row["statuscode"]) == (
        seeded["Pekka"], 1, 4)
    assert party_masks(dataverse, activity_id) == {f"lead/{seeded['Pekka']}": 1,
                                                   f"systemuser/{agent}": 2}
    assert forms_of(dataverse, call_id) == []
    assert list(dataverse.records("phonecalls")) == [activity_id]


def nth_of_call(app: AppProcess, event: str, call_id: str, n: int) -> dict[str, Any]:
    """The call's `n`th `event` line (1-based), waiting for it."""
    def enough(_s: dict[str, Any]) -> bool:
        return len([s for s in app.log.seen if s.get("event") == event
                    and s.get("call_id") == call_id]) >= n
    line(app, f"{event} #{n} of {call_id}", enough)
    return [s for s in app.log.seen if s.get("event") == event
            and s.get("call_id") == call_id][n - 1]


def test_an_unknown_caller_is_added_as_a_contact_in_the_dialog_then_gets_the_case(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    seed(dataverse)
    agent = dataverse.user_id
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, workflow="case",
                               configure=answering)
    sign_in(profile, entra)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = processes(driver_cmd(profile.root, inbox, f"{__name__}:act"), env(entra))
    app.event("registration")
    peer = inbound(sipp, tmp_path, profile, "uac_local_bye", NONE)
    call_id = new_call(app, "ringing", set())
    # Answered: Dynamics needs a customer for the case, so the dialog asks for one.
    of_call(app, "crm_case_needs_customer", call_id)
    assert nth_of_call(app, "popped", call_id, 1)["path"] == "dialog"
    order(inbox, "new-contact", "switchboard://crm/dialog",
          "const f = document.querySelector('form.new');"
          "f.first_name.value = 'Ville'; f.last_name.value = 'Uusi';"
          "f.querySelector('button').click(); true")
    # The case dialog again, with the new contact chosen.
    assert nth_of_call(app, "popped", call_id, 2)["path"] == "dialog"
    [(ville, contact)] = [(k, v) for k, v in dataverse.records("contacts").items()
                          if v["firstname"] == "Ville"]
    assert (contact["lastname"], contact["telephone1"]) == ("Uusi", NONE)
    order(inbox, "new-case", "switchboard://crm/dialog",
          "[...document.querySelectorAll('a')].find(a => a.textContent"
          " === 'New case').click(); true")
    popped = nth_of_call(app, "popped", call_id, 3)["path"]
    [case_id] = [k for k, v in dataverse.records("incidents").items()
                 if v["_customerid_value"] == ville]
    assert popped == (f"{dataverse.org_url}/main.aspx?pagetype=entityrecord&etn=incident"
                      f"&id={case_id}")
    assert dataverse.records("incidents")[case_id]["title"] == "Phone call from Ville Uusi"
    order(inbox, "hangup")
    assert peer.wait() == 0, peer.output()
    assert of_call(app, "crm_logged", call_id)["activity"] == records.activity_id(call_id)
    activity_id = records.activity_id(call_id)
    create = requests_to(dataverse, activity_id)[0]["body"]
    assert create == {
        "subject": "Call from Test Caller", "phonenumber": NONE,
        "directioncode": False, "description": create["description"],
        "actualstart": create["actualstart"], "actualend": create["actualend"],
        "actualdurationminutes": 1,
        "regardingobjectid_incident_phonecall@odata.bind": f"/incidents({case_id})",
        "phonecall_activity_parties": [
            {"partyid_contact@odata.bind": f"/contacts({ville})", "participationtypemask": 1},
            {"partyid_systemuser@odata.bind": f"/systemusers({agent})",
             "participationtypemask": 2}]}
    row = dataverse.records("phonecalls")[activity_id]
    assert (row["_regardingobjectid_value"], row["statecode"], row["statuscode"]) == (
        case_id, 1, 4)
    with dataverse.lock:  # one case create, with the customer: never one without
        case_posts = [r["body"] for r in dataverse.requests
                      if r["method"] == "POST" and r["path"].endswith("/incidents")]
    assert case_posts == [{"title": "Phone call from Ville Uusi", "description": None,
                           "customerid_contact@odata.bind": f"/contacts({ville})"}]
