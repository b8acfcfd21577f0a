"""Two Switchboard app processes: a transferred call pops the same CRM record and case.

A is the customer (tests/integration/agent.py, a plain pjsua2 phone calling from
040 123 4567). B and C are the real app (`run_app`, the built-in CRM, auto-answer), each
with its own profile and its own built-in CRM database, as each desktop has in the
product. Both databases were loaded from the same import: Aino Virtanen (contact 1, at
A's number) and her open case 1.

A calls B; B pops the case dialog; B's agent chooses Aino's case (the dialog's
`choose-case` intent, as the button sends it) and blind-transfers the call to C (the
call card's transfer intent). The REFER's Refer-To carries X-Switchboard-Context; A's
pjsua2 copies it into its INVITE to C, and C fetches contact 1 and case 1 from its own CRM
(checking they are the caller's) and pops case 1 — no number lookup. When A hangs up, B's
activity says to whom, how and when the call was transferred, and C's activity is on the
same contact and case. It runs twice: peer to peer (direct mode), and with A, B and C
registered to a Kamailio started by the test (the REFER, its NOTIFYs and A's INVITE with
the header go through the proxy; the apps' SIP passwords come from a test keyring file).
Everything is asserted on the apps' JSON log lines and their CRM databases; B's driver
acts on files the test writes once the log says it may.

A consulted transfer does the same through the consultation: B's consultation INVITE to
C carries the context, so C pops Aino's case while B and C talk; when B completes, A's
INVITE with Replaces takes the consultation's context at C, which pops the same case for
the customer's call, and B's activity says "consulted".

When C's CRM does not have the case (its desktop never had it), C takes the contact the
context names as the caller (no number lookup) and its workflow goes on as for a call
matched to her: the case dialog with Aino chosen; the call is logged on her.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.core.crm import NewCase, RecordKind, RecordRef
from app.crm.local.store import LocalStore
from app.paths import Profile
from tests.app_driver import driver_cmd
from tests.app_driver import order as give_order
from tests.app_process import AppProcess, app_env, make_profile
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.integration.conftest import Agent, Kamailio, free_port

pytestmark = pytest.mark.sip

def act(window: Any, order: dict[str, Any], _inbox: Path) -> bool:
    """B's hand (tests/app_driver.py): the intents the dialog's button and the call card's
    Transfer, Consult and Complete transfer send."""
    from app.ui.screenpop import ScreenPopView

    panel = window.call_panel
    if order["do"] == "choose-case":
        window.findChild(ScreenPopView).action_requested.emit("choose-case", order["params"])
    elif order["do"] == "transfer":
        (handle,) = list(panel.cards)
        panel.transfer_requested.emit(handle, order["target"])
    elif order["do"] == "consult":
        (handle,) = list(panel.cards)
        panel.consult_requested.emit(handle, order["target"])
    elif order["do"] == "complete":
        # Once the colleague has answered the consultation (the newer call).
        cards = panel.cards
        if len(cards) != 2 or cards[max(cards)].call.state.value != "connected":
            return False
        panel.complete_transfer_requested.emit(max(cards))
    return True

CUSTOMER = "0401234567"  # A's SIP user: Aino Virtanen's number in the built-in CRM


def desk_profile(root: Path, port: int, rtp_port: int, *, case: bool = True,
                 kamailio: Kamailio | None = None, user: str = "agent") -> Profile:
    def configure(settings) -> None:  # type: ignore[no-untyped-def]
        settings.sip.auto_answer = True
        settings.sip.rtp_port = rtp_port
        settings.sip.rtp_port_range = 50
        settings.crm.workflow = "case_dialog"
        if kamailio is not None:  # registered, the password in the (test) keyring
            sip = settings.sip
            sip.mode, sip.server, sip.domain = "registrar", kamailio.server, "127.0.0.1"
            sip.username, sip.keyring_key = user, f"sip-{user}"
            sip.retry_min_seconds, sip.retry_max_seconds = 0.2, 1.0
            keyring = root.parent / "keyring.json"
            saved = json.loads(keyring.read_text()) if keyring.exists() else {}
            saved[f"switchboard/sip-{user}"] = kamailio.password
            keyring.write_text(json.dumps(saved))

    profile = make_profile(root, port=port, configure=configure)
    with LocalStore(profile.db_path("crm")) as store:
        if case:
            store.create_case(NewCase("Router keeps dropping", contact_id="1"))
    return profile


def start_desk(processes: Callable[..., AppProcess], profile: Profile, *,
               registered: bool = False) -> AppProcess:
    inbox = profile.root.parent / f"{profile.root.name}-inbox"
    inbox.mkdir()
    env = app_env(PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                  SWITCHBOARD_TEST_KEYRING=str(profile.root.parent / "keyring.json"))
    app = processes(driver_cmd(profile.root, inbox, f"{__name__}:act"), env)
    if registered:
        app.event("registration", state="registered")
    else:
        app.event("registration")
    return app


def order(profile: Profile, name: str, **what: object) -> None:
    """Ask B's driver to act."""
    give_order(profile.root.parent / f"{profile.root.name}-inbox", name, **what)


def activity_of(profile: Profile, call_id: str):  # type: ignore[no-untyped-def]
    with LocalStore(profile.db_path("crm")) as store:
        activity_id = store.find_activity(call_id)
        assert activity_id is not None
        return store.get_activity(activity_id)


@dataclass
class Transferred:
    b_profile: Profile
    c_profile: Profile
    b: AppProcess
    c: AppProcess
    call_b: str
    target: str
    customer: Agent
    customer_call: int  # A's new call, to C

    def hang_up(self, call_c: str) -> None:
        """A hangs up on C; C's log of the call is in its CRM."""
        self.customer.send(f"hangup {self.customer_call}")
        self.c.event("crm_logged", call_id=call_c)


def customer_calls_b_and_b_transfers_to_c(
        tmp_path: Path, processes: Callable[..., AppProcess], agent: Callable[..., Agent],
        *, c_has_case: bool, kamailio: Kamailio | None = None) -> Transferred:
    """A calls B, B chooses Aino's case and blind-transfers to C: directly, or all three
    registered to `kamailio` (the REFER, the NOTIFYs and A's INVITE through the proxy)."""
    port_b, port_c = free_port(), free_port()
    b_profile = desk_profile(tmp_path / "b", port_b, 4100, kamailio=kamailio, user="bob")
    c_profile = desk_profile(tmp_path / "c", port_c, 4200, case=c_has_case,
                             kamailio=kamailio, user="carol")
    registered = kamailio is not None
    b = start_desk(processes, b_profile, registered=registered)
    c = start_desk(processes, c_profile, registered=registered)
    if kamailio is None:
        customer = agent("--user", CUSTOMER, "--rtp-port", "4300")
        b_uri, target = f"sip:agent@127.0.0.1:{port_b}", f"sip:agent@127.0.0.1:{port_c}"
    else:
        customer = agent("--server", kamailio.server, "--user", CUSTOMER, "--password",
                         kamailio.password, "--rtp-port", "4300")
        customer.wait("RegistrationChanged", state="registered")
        b_uri, target = "sip:bob@127.0.0.1", "sip:carol@127.0.0.1"

    customer.send(f"dial {b_uri}")
    dialog = b.event("popped")  # the case dialog, with Aino's case offered
    call_b = dialog["call_id"]
    order(b_profile, "1-choose", do="choose-case",
          params={"call": call_b, "case": "1", "contact": "1"})
    b.event("crm_linked", call_id=call_b, record="case/1")
    order(b_profile, "2-transfer", do="transfer", target=target)
    sent = b.event("transfer_context", call_id=call_b)
    assert sent["refs"] == ["contact/1", "case/1"] and sent["crm"] == "local"

    moved = customer.wait("TransferRequested")
    customer.wait("CallStateChanged", handle=moved["new_handle"], state="connected")
    return Transferred(b_profile, c_profile, b, c, call_b, target, customer,
                       int(moved["new_handle"]))


@pytest.mark.parametrize("network", ["direct", "kamailio"])
def test_transferred_call_pops_the_same_record_and_case_at_the_target(
        network: str, tmp_path: Path, processes: Callable[..., AppProcess],
        agent: Callable[..., Agent], request: pytest.FixtureRequest) -> None:
    proxy = request.getfixturevalue("kamailio") if network == "kamailio" else None
    t = customer_calls_b_and_b_transfers_to_c(tmp_path, processes, agent, c_has_case=True,
                                              kamailio=proxy)
    b_profile, c_profile, b, c, call_b, target = (t.b_profile, t.c_profile, t.b, t.c,
                                                  t.call_b, t.target)

    received = c.event("crm_context")  # fetched by id from C's own CRM, not looked up
    call_c = received["call_id"]
    assert received["refs"] == ["case/1", "contact/1"]
    popped = c.event("popped", call_id=call_c)
    assert popped["path"] == "case/1", popped

    b.event("crm_logged", call_id=call_b)
    transferred = activity_of(b_profile, call_b)
    assert (transferred.transferred_to, transferred.transfer_kind) == (target, "blind")
    assert transferred.transferred_at  # when C answered
    assert f"Transferred (blind) to {target}" in transferred.notes
    assert set(transferred.regarding) == {RecordRef(RecordKind.CASE, "1"),
                                          RecordRef(RecordKind.CONTACT, "1")}

    t.hang_up(call_c)
    at_c = activity_of(c_profile, call_c)
    assert set(at_c.regarding) == {RecordRef(RecordKind.CASE, "1"),
                                   RecordRef(RecordKind.CONTACT, "1")}
    assert at_c.caller_number == "+358401234567" and not at_c.transferred_to


def test_consulted_transfer_pops_the_same_case_for_the_consultation_and_the_customer(
        tmp_path: Path, processes: Callable[..., AppProcess],
        agent: Callable[..., Agent]) -> None:
    port_b, port_c = free_port(), free_port()
    b_profile = desk_profile(tmp_path / "b", port_b, 4100)
    c_profile = desk_profile(tmp_path / "c", port_c, 4200)
    b, c = start_desk(processes, b_profile), start_desk(processes, c_profile)
    customer = agent("--user", CUSTOMER, "--rtp-port", "4300")

    customer.send(f"dial sip:agent@127.0.0.1:{port_b}")
    call_b = b.event("popped")["call_id"]
    order(b_profile, "1-choose", do="choose-case",
          params={"call": call_b, "case": "1", "contact": "1"})
    b.event("crm_linked", call_id=call_b, record="case/1")
    target = f"sip:agent@127.0.0.1:{port_c}"
    order(b_profile, "2-consult", do="consult", target=target)
    assert b.event("transfer_context", call_id=call_b)["refs"] == ["contact/1", "case/1"]

    consultation = c.event("crm_context")  # B's call to C, about Aino's case
    assert consultation["refs"] == ["case/1", "contact/1"]
    assert c.event("popped", call_id=consultation["call_id"])["path"] == "case/1"

    order(b_profile, "3-complete", do="complete")
    moved = customer.wait("TransferRequested")
    customer_call = customer.wait("OutgoingCallStarted", handle=moved["new_handle"])
    customer.wait("CallStateChanged", handle=moved["new_handle"], state="connected")
    call_c = customer_call["call_id"]  # the INVITE with Replaces, as C knows it
    assert c.event("crm_context", call_id=call_c)["refs"] == ["case/1", "contact/1"]
    assert c.event("popped", call_id=call_c)["path"] == "case/1"

    b.event("crm_logged", call_id=call_b)
    transferred = activity_of(b_profile, call_b)
    assert (transferred.transferred_to, transferred.transfer_kind) == (
        "agent", "consulted")  # the consultation's remote number
    customer.send(f"hangup {moved['new_handle']}")
    c.event("crm_logged", call_id=call_c)
    assert set(activity_of(c_profile, call_c).regarding) == {
        RecordRef(RecordKind.CASE, "1"), RecordRef(RecordKind.CONTACT, "1")}


def test_target_without_the_case_takes_the_contact_the_context_names(
        tmp_path: Path, processes: Callable[..., AppProcess],
        agent: Callable[..., Agent]) -> None:
    t = customer_calls_b_and_b_transfers_to_c(tmp_path, processes, agent, c_has_case=False)
    c, c_profile = t.c, t.c_profile

    received = c.event("crm_context")
    call_c = received["call_id"]
    assert received["refs"] == ["contact/1"]
    popped = c.event("popped", call_id=call_c)
    assert popped["path"] == "dialog", popped  # choose or create one of Aino's cases
    t.hang_up(call_c)
    assert RecordRef(RecordKind.CONTACT, "1") in activity_of(c_profile, call_c).regarding
