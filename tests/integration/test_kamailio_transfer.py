"""Three pjsua2 agents on a Kamailio started by the test: blind transfer end to end.

A is the customer, B the agent who transfers, C the colleague. One of them is the engine
in this process (driven through PhoneSession when it is B, as the app drives it); the
others are tests/integration/agent.py child processes. Media is checked by RTP counters
growing both ways on the new A-C call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from app.core.calls import (
    CallResult,
    CallState,
    CallStateChanged,
    HangupSide,
    IncomingCall,
    OutgoingCallStarted,
    RegistrationChanged,
    RegistrationState,
    TransferRequested,
    TransferState,
    TransferStatus,
)
from app.telephony.call import MediaStats
from tests.integration.conftest import WAIT, Agent
from tests.integration.desk import Desk

pytestmark = pytest.mark.sip


def registered_engine(make_engine, kamailio, user: str):  # type: ignore[no-untyped-def]
    eut = make_engine(mode="registrar", server=kamailio.server, domain="127.0.0.1",
                      username=user, password=kamailio.password)
    eut.events.wait(RegistrationChanged, state=RegistrationState.REGISTERED)
    return eut


def registered_agent(agent, kamailio, user: str) -> Agent:  # type: ignore[no-untyped-def]
    peer: Agent = agent("--server", kamailio.server, "--user", user, "--password",
                        kamailio.password)
    peer.wait("RegistrationChanged", state="registered")
    return peer


def agent_stats(peer: Agent, handle: int) -> Callable[[], MediaStats]:
    def read() -> MediaStats:
        reply = peer.query(f"stats {handle}", "Stats")
        return MediaStats(int(reply["rx"] or 0), int(reply["tx"] or 0),
                          int(reply["rx_level"] or 0))
    return read


def engine_stats(engine, handle: int) -> Callable[[], MediaStats]:  # type: ignore[no-untyped-def]
    def read() -> MediaStats:
        stats = engine.media_stats(handle)
        return stats if stats is not None else MediaStats(0, 0, 0)
    return read


def media_flows_both_ways(*reads: Callable[[], MediaStats]) -> None:
    """RX and TX packet counters of every given call leg grow (RTP both ways)."""
    first = [read() for read in reads]
    deadline = time.monotonic() + WAIT
    while True:
        time.sleep(0.3)
        now = [read() for read in reads]
        if all(n.rx_packets > f.rx_packets and n.tx_packets > f.tx_packets
               for n, f in zip(now, first, strict=True)):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"RTP did not flow both ways: {first} -> {now}")


def handed_over(desk: Desk, bob: Any, customer: Agent, colleague: Agent, handle: int,
                moved: dict[str, Any], at_colleague: int) -> None:
    """B's transfer went through: B's call ended on our side, A's new call is up with C
    and RTP flows both ways on both its ends, and B is free (no call in the session or
    the engine)."""
    desk.wait(TransferStatus, handle=handle, state=TransferState.ACCEPTED)
    ended = desk.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert ended.hangup_side is HangupSide.LOCAL
    customer.wait("CallStateChanged", handle=moved["handle"], state="ended")
    customer.wait("CallStateChanged", handle=moved["new_handle"], state="connected")
    colleague.wait("CallStateChanged", handle=at_colleague, state="connected")
    media_flows_both_ways(agent_stats(customer, moved["new_handle"]),
                          agent_stats(colleague, at_colleague))
    desk.pump()
    assert desk.session.calls == []
    assert bob.engine.call_handles() == []


def test_agent_blind_transfers_the_customer_to_a_colleague(make_engine, kamailio,
                                                           agent) -> None:
    customer = registered_agent(agent, kamailio, "alice")
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    desk = Desk(bob)

    customer.send("dial sip:bob@127.0.0.1")
    ring = desk.wait(IncomingCall)
    assert desk.session.answer(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED)

    outcome = desk.session.transfer(ring.handle, "sip:carol@127.0.0.1")
    assert outcome.ok, outcome.error
    moved = customer.wait("TransferRequested")
    assert moved["target_uri"] == "sip:carol@127.0.0.1"
    offered = colleague.wait("IncomingCall")
    assert offered["remote_number"] == "alice"  # Carol sees the customer, not Bob
    desk.wait(TransferStatus, handle=ring.handle, state=TransferState.RINGING)
    call = desk.session.get(ring.handle)
    assert call is not None and call.state is CallState.HELD
    assert (call.transfer, call.transfer_target) == (TransferState.RINGING,
                                                     "sip:carol@127.0.0.1")
    colleague.send(f"answer {offered['handle']}")

    handed_over(desk, bob, customer, colleague, ring.handle, moved, offered["handle"])
    # The call is in history.
    assert [r.result for r in desk.history.records] == [CallResult.ANSWERED]
    customer.send(f"hangup {moved['new_handle']}")
    colleague.wait("CallStateChanged", handle=offered["handle"], state="ended")


def test_customer_engine_honours_the_agents_refer(make_engine, kamailio, agent) -> None:
    alice = registered_engine(make_engine, kamailio, "alice")
    bob = registered_agent(agent, kamailio, "bob")
    carol = registered_agent(agent, kamailio, "carol")

    first = alice.engine.dial("sip:bob@127.0.0.1")
    ring = bob.wait("IncomingCall")
    bob.send(f"answer {ring['handle']}")
    alice.events.wait(CallStateChanged, handle=first, state=CallState.CONNECTED)

    bob.send(f"xfer {ring['handle']} sip:carol@127.0.0.1")
    moved = alice.events.wait(TransferRequested, handle=first)
    started = alice.events.wait(OutgoingCallStarted, handle=moved.new_handle)
    assert started.call_id  # pjsua2's own Call-ID for the call it placed
    offered = carol.wait("IncomingCall")
    assert offered["remote_number"] == "alice"
    carol.send(f"answer {offered['handle']}")

    bob.wait("TransferStatus", handle=ring["handle"], state="accepted")
    bob.wait("CallStateChanged", handle=ring["handle"], state="ended")
    old = alice.events.wait(CallStateChanged, handle=first, state=CallState.ENDED)
    assert old.hangup_side is HangupSide.REMOTE
    alice.events.wait(CallStateChanged, handle=moved.new_handle, state=CallState.CONNECTED)
    media_flows_both_ways(engine_stats(alice.engine, moved.new_handle),
                          agent_stats(carol, offered["handle"]))
    progress = [s["state"] for s in bob.seen if s.get("type") == "TransferStatus"]
    assert progress[-1] == "accepted" and "trying" in progress
    alice.engine.hangup(moved.new_handle)
    carol.wait("CallStateChanged", handle=offered["handle"], state="ended")


def test_colleague_declines_and_the_customer_is_back_with_the_agent(make_engine, kamailio,
                                                                     agent) -> None:
    customer = registered_agent(agent, kamailio, "alice")
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    desk = Desk(bob)

    dialled = int(customer.query("dial sip:bob@127.0.0.1", "Dialled")["handle"])
    ring = desk.wait(IncomingCall)
    desk.session.answer(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED)
    assert desk.session.transfer(ring.handle, "sip:carol@127.0.0.1").ok
    offered = colleague.wait("IncomingCall")
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.HELD)
    colleague.send(f"decline {offered['handle']} 603")

    failed = desk.wait(TransferStatus, handle=ring.handle, state=TransferState.FAILED)
    assert failed.sip_code == 603
    # The session took the customer off hold by itself: connected again, media back.
    bob.events.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED,
                    where=lambda e: e.at > failed.at)
    desk.pump()
    call = desk.session.get(ring.handle)
    assert call is not None and call.state is CallState.CONNECTED
    assert call.transfer is TransferState.FAILED and call.transfer_reason == "603 Decline"
    media_flows_both_ways(engine_stats(bob.engine, ring.handle),
                          agent_stats(customer, dialled))
    desk.session.hangup(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.ENDED)


def test_agent_consults_a_colleague_and_completes_the_transfer(make_engine, kamailio,
                                                               agent) -> None:
    customer = registered_agent(agent, kamailio, "alice")
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    desk = Desk(bob)

    customer.send("dial sip:bob@127.0.0.1")
    ring = desk.wait(IncomingCall)
    desk.session.answer(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED)

    consult = desk.session.consult(ring.handle, "sip:carol@127.0.0.1")
    assert consult.ok and consult.handle is not None
    offered = colleague.wait("IncomingCall")
    assert offered["remote_number"] == "bob"  # Carol first talks to Bob
    colleague.send(f"answer {offered['handle']}")
    desk.wait(CallStateChanged, handle=consult.handle, state=CallState.CONNECTED)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.HELD)
    assert desk.session.consultation_of(ring.handle) is desk.session.get(consult.handle)
    media_flows_both_ways(engine_stats(bob.engine, consult.handle),
                          agent_stats(colleague, offered["handle"]))

    assert desk.session.complete_transfer(consult.handle)
    moved = customer.wait("TransferRequested")
    assert moved["target_uri"] == "sip:carol@127.0.0.1"
    takeover = colleague.wait("IncomingCall", replaces=offered["handle"])
    assert takeover["remote_number"] == "alice"  # Carol now has the customer
    colleague.wait("CallStateChanged", handle=offered["handle"], state="ended")
    colleague.wait("CallStateChanged", handle=takeover["handle"], state="connected")
    customer.wait("CallStateChanged", handle=moved["new_handle"], state="connected")

    desk.wait(TransferStatus, handle=ring.handle, state=TransferState.ACCEPTED)
    first = desk.wait(CallStateChanged, handle=ring.handle, state=CallState.ENDED)
    second = desk.wait(CallStateChanged, handle=consult.handle, state=CallState.ENDED)
    assert first.hangup_side is HangupSide.LOCAL
    assert second.hangup_side is HangupSide.REMOTE  # Carol ended the replaced call
    media_flows_both_ways(agent_stats(customer, moved["new_handle"]),
                          agent_stats(colleague, takeover["handle"]))
    desk.pump()
    assert desk.session.calls == []
    assert bob.engine.call_handles() == []
    assert [r.result for r in desk.history.records] == [CallResult.ANSWERED] * 2
    customer.send(f"hangup {moved['new_handle']}")
    colleague.wait("CallStateChanged", handle=takeover["handle"], state="ended")


@pytest.mark.parametrize("colleague_does", ["declines", "is busy"])
def test_consultation_declined_gives_the_customer_back(make_engine, kamailio, agent,
                                                       colleague_does: str) -> None:
    customer = registered_agent(agent, kamailio, "alice")
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    desk = Desk(bob)

    dialled = int(customer.query("dial sip:bob@127.0.0.1", "Dialled")["handle"])
    ring = desk.wait(IncomingCall)
    desk.session.answer(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED)
    consult = desk.session.consult(ring.handle, "sip:carol@127.0.0.1")
    assert consult.handle is not None
    offered = colleague.wait("IncomingCall")
    held = desk.wait(CallStateChanged, handle=ring.handle, state=CallState.HELD)
    code = 603 if colleague_does == "declines" else 486
    colleague.send(f"decline {offered['handle']} {code}")

    ended = desk.wait(CallStateChanged, handle=consult.handle, state=CallState.ENDED)
    assert ended.sip_code == code
    bob.events.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED,
                    where=lambda e: e.at > held.at)
    desk.pump()
    assert [c.handle for c in desk.session.calls] == [ring.handle]
    media_flows_both_ways(engine_stats(bob.engine, ring.handle),
                          agent_stats(customer, dialled))
    desk.session.hangup(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.ENDED)


def test_agent_transfers_the_customer_to_the_consultation_while_it_rings(
        make_engine, kamailio, agent) -> None:  # type: ignore[no-untyped-def]
    customer = registered_agent(agent, kamailio, "alice")
    colleague = registered_agent(agent, kamailio, "carol")
    bob = registered_engine(make_engine, kamailio, "bob")
    desk = Desk(bob)

    customer.send("dial sip:bob@127.0.0.1")
    ring = desk.wait(IncomingCall)
    desk.session.answer(ring.handle)
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.CONNECTED)
    consult = desk.session.consult(ring.handle, "sip:carol@127.0.0.1")
    assert consult.ok and consult.handle is not None
    offered = colleague.wait("IncomingCall")  # Carol's phone rings; she does not answer
    assert offered["remote_number"] == "bob"
    desk.wait(CallStateChanged, handle=ring.handle, state=CallState.HELD)
    desk.wait(CallStateChanged, handle=consult.handle, state=CallState.ALERTING)

    # Bob hands Alice to the consultation before Carol answers: the ringing consultation
    # is cancelled and Alice blind-transferred to Carol.
    outcome = desk.session.transfer_to_consultation(consult.handle)
    assert outcome.ok, outcome.error
    cancelled = desk.wait(CallStateChanged, handle=consult.handle, state=CallState.ENDED)
    assert cancelled.sip_code == 487
    colleague.wait("CallStateChanged", handle=offered["handle"], state="ended")
    moved = customer.wait("TransferRequested")
    assert moved["target_uri"] == "sip:carol@127.0.0.1"
    second = colleague.wait("IncomingCall", remote_number="alice")  # Alice, not Bob
    desk.wait(TransferStatus, handle=ring.handle, state=TransferState.RINGING)
    call = desk.session.get(ring.handle)
    assert call is not None and call.state is CallState.HELD  # not resumed in between
    colleague.send(f"answer {second['handle']}")

    handed_over(desk, bob, customer, colleague, ring.handle, moved, second["handle"])
    # The customer's call says it went to Carol, blind.
    records = {r.direction.value: r for r in desk.history.records}
    assert records["inbound"].result is CallResult.ANSWERED
    assert (records["inbound"].transferred_to, records["inbound"].transfer_kind) == (
        "sip:carol@127.0.0.1", "blind")
    assert records["outbound"].result is CallResult.NO_ANSWER
    customer.send(f"hangup {moved['new_handle']}")
    colleague.wait("CallStateChanged", handle=second["handle"], state="ended")
