"""The CRM context header travels with a transferred call, over Kamailio, between engines.

A is the customer (a tests/integration/agent.py child process, a plain pjsua2 phone), B
the engine in this process, C another agent process. B blind-transfers A to C with an
X-Switchboard-Context value: it goes out as an embedded header of the Refer-To, and A's
pjsua2 copies it into its INVITE to C, where C's engine reports it on IncomingCall. B's
consultation INVITE carries it as a plain header. The app-level test (two Switchboard
processes popping the same record) is tests/integration/test_app_transfer_context.py.
"""

from __future__ import annotations

import pytest

from app.core.calls import CallState, CallStateChanged, IncomingCall, TransferState, TransferStatus
from app.core.crm import RecordKind, RecordRef
from app.core.transfer_context import HEADER, TransferContext, decode, encode
from tests.integration.desk import Desk
from tests.integration.test_kamailio_transfer import registered_agent, registered_engine

pytestmark = pytest.mark.sip

CONTEXT = TransferContext("local", RecordRef(RecordKind.CONTACT, "1"), "7", "+358401234567",
                          "blind")


def test_blind_transfer_carries_the_context_to_the_target(make_engine, kamailio,
                                                          agent) -> None:
    customer = registered_agent(agent, kamailio, "alice")
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    desk = Desk(bob)

    customer.send("dial sip:bob@127.0.0.1")
    ring = desk.wait(IncomingCall)
    assert ring.context == ""  # an ordinary call carries none
    assert desk.session.answer(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED)

    bob.engine.transfer(ring.handle, "sip:carol@127.0.0.1", encode(CONTEXT))
    moved = customer.wait("TransferRequested")
    assert moved["target_uri"] == "sip:carol@127.0.0.1"  # the header is not the target
    offered = colleague.wait("IncomingCall")
    assert offered["remote_number"] == "alice"
    assert decode(offered["context"]) == CONTEXT, offered["context"]
    colleague.send(f"answer {offered['handle']}")
    desk.wait(TransferStatus, handle=ring.handle, state=TransferState.ACCEPTED)
    colleague.wait("CallStateChanged", handle=offered["handle"], state="connected")
    customer.send(f"hangup {moved['new_handle']}")
    colleague.wait("CallStateChanged", handle=offered["handle"], state="ended")


def test_consultation_invite_carries_the_context(make_engine, kamailio, agent) -> None:
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    consulted = TransferContext("local", None, "7", "+358401234567", "consulted")

    handle = bob.engine.dial("sip:carol@127.0.0.1", headers={HEADER: encode(consulted)})
    offered = colleague.wait("IncomingCall")
    assert decode(offered["context"]) == consulted
    bob.engine.hangup(handle)
    colleague.wait("CallStateChanged", handle=offered["handle"], state="ended")
