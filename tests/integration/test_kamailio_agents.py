"""Two agents registered to Kamailio call each other: media, hold, mute, waiting, presence.

The engine under test runs in this process; the other agent is tests/integration/agent.py
in a child process (pjsua2 allows one Endpoint per process).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.core.calls import (
    CallState,
    CallStateChanged,
    HangupSide,
    IncomingCall,
    MediaChanged,
    PresenceChanged,
    RegistrationChanged,
    RegistrationState,
)
from tests.integration.conftest import WAIT, scenario, until

pytestmark = pytest.mark.sip


def registered(make_engine, kamailio, user: str = "alice", **overrides):  # type: ignore[no-untyped-def]
    eut = make_engine(mode="registrar", server=kamailio.server, domain="127.0.0.1",
                      username=user, password=kamailio.password, **overrides)
    eut.events.wait(RegistrationChanged, state=RegistrationState.REGISTERED)
    return eut


def rx_packets(read, timeout: float = WAIT, *, growing: bool):  # type: ignore[no-untyped-def]
    """Poll an RX packet counter until it grows (or, with growing=False, stops growing)."""
    deadline = time.monotonic() + timeout
    last = read()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = read()
        if (now > last) == growing:
            return now
        last = now
    raise AssertionError(f"rx packets never {'grew' if growing else 'stopped'} (at {last})")


def test_agents_call_each_other_with_hold_and_mute(make_engine, kamailio, agent,
                                                   tone_wav: Path) -> None:
    bob = agent("--server", kamailio.server, "--user", "bob", "--password", kamailio.password)
    bob.wait("RegistrationChanged", state="registered")
    # Our microphone plays a tone, so Bob can hear whether we are muted.
    eut = registered(make_engine, kamailio, capture_file=str(tone_wav))

    handle = eut.engine.dial("sip:bob@127.0.0.1")
    ring = bob.wait("IncomingCall")
    assert ring["remote_number"] == "alice"
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.ALERTING)
    bob.send(f"answer {ring['handle']}")
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)
    bob.wait("CallStateChanged", handle=ring["handle"], state="connected")

    def bob_rx() -> int:
        return int(bob.query(f"stats {ring['handle']}", "Stats")["rx"])

    def bob_hears() -> int:
        return int(bob.query(f"stats {ring['handle']}", "Stats")["rx_level"])

    def alice_rx() -> int:
        stats = eut.engine.media_stats(handle)
        assert stats is not None
        return stats.rx_packets

    # Media flows both ways.
    rx_packets(bob_rx, growing=True)
    rx_packets(alice_rx, growing=True)

    # Mute: our microphone (the tone) no longer feeds the call; Bob hears silence.
    until(bob_hears, lambda level: level > 20)
    eut.engine.set_mute(handle, True)
    eut.events.wait(MediaChanged, handle=handle, muted=True)
    until(bob_hears, lambda level: level < 5)
    eut.engine.set_mute(handle, False)
    eut.events.wait(MediaChanged, handle=handle, muted=False, active=True)
    until(bob_hears, lambda level: level > 20)

    # Hold: Bob's side reports the call held by the far end; resume brings media back.
    eut.engine.set_hold(handle, True)
    held = eut.events.wait(CallStateChanged, handle=handle, state=CallState.HELD)
    eut.events.wait(MediaChanged, handle=handle, held_locally=True)
    bob.wait("MediaChanged", handle=ring["handle"], held_remotely=True)
    rx_packets(alice_rx, growing=False)  # Bob sends nothing to a sendonly hold (recvonly)
    eut.engine.set_hold(handle, False)
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED,
                    where=lambda e: e.at > held.at)
    bob.wait("MediaChanged", handle=ring["handle"], held_remotely=False, active=True)
    rx_packets(alice_rx, growing=True)

    # DTMF by RFC 4733 reaches Bob.
    eut.engine.send_dtmf(handle, "42")
    bob.wait("DtmfReceived", handle=ring["handle"], digit="4", method="rfc4733")
    bob.wait("DtmfReceived", handle=ring["handle"], digit="2", method="rfc4733")

    bob.send(f"hangup {ring['handle']}")
    ended = eut.events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)
    assert ended.hangup_side is HangupSide.REMOTE
    states = [e.state for e in eut.events.of(CallStateChanged, handle=handle)]
    assert states == [CallState.ALERTING, CallState.CONNECTING, CallState.CONNECTED,
                      CallState.HELD, CallState.CONNECTED, CallState.ENDED]


def test_call_waiting_second_call_rings_with_waiting(make_engine, kamailio, agent) -> None:
    eut = registered(make_engine, kamailio)
    bob = agent("--server", kamailio.server, "--user", "bob", "--password", kamailio.password)
    carol = agent("--server", kamailio.server, "--user", "carol", "--password",
                  kamailio.password)
    bob.wait("RegistrationChanged", state="registered")
    carol.wait("RegistrationChanged", state="registered")

    bob.send("dial sip:alice@127.0.0.1")
    first = eut.events.wait(IncomingCall)
    assert first.waiting is False
    assert first.remote_number == "bob"
    eut.engine.answer(first.handle)
    eut.events.wait(CallStateChanged, handle=first.handle, state=CallState.CONNECTED)

    carol.send("dial sip:alice@127.0.0.1")
    second = eut.events.wait(IncomingCall, remote_number="carol")
    assert second.waiting is True
    assert second.handle != first.handle
    eut.engine.decline(second.handle, 486)
    carol.wait("CallStateChanged", state="ended", sip_code=486)
    eut.engine.hangup(first.handle)
    bob.wait("CallStateChanged", state="ended")


def test_auto_answer(make_engine, kamailio, agent) -> None:
    eut = registered(make_engine, kamailio, auto_answer=True, auto_answer_delay=0.0)
    bob = agent("--server", kamailio.server, "--user", "bob", "--password", kamailio.password)
    bob.wait("RegistrationChanged", state="registered")
    bob.send("dial sip:alice@127.0.0.1")
    incoming = eut.events.wait(IncomingCall)
    assert incoming.auto_answer_after == 0.0
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.CONNECTED)
    bob.wait("CallStateChanged", state="connected")


def test_auto_answer_only_when_the_invite_asks(make_engine, kamailio, agent) -> None:
    """Bob (the agent script) sends no Call-Info, so nothing is answered by itself."""
    eut = registered(make_engine, kamailio, auto_answer=True,
                     auto_answer_only_when_requested=True)
    bob = agent("--server", kamailio.server, "--user", "bob", "--password", kamailio.password)
    bob.wait("RegistrationChanged", state="registered")
    bob.send("dial sip:alice@127.0.0.1")
    incoming = eut.events.wait(IncomingCall)
    assert incoming.auto_answer_after is None
    eut.engine.hangup(incoming.handle)
    ended = eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert ended.hangup_side is HangupSide.LOCAL
    assert not eut.events.of(CallStateChanged, handle=incoming.handle,
                             state=CallState.CONNECTED)


def test_auto_answer_requested_by_call_info(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(auto_answer=True, auto_answer_only_when_requested=True)
    peer = sipp(scenario(tmp_path, "uac_remote_bye",
                         HEADERS="      Call-Info: <sip:pbx>;answer-after=0"),
                f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    assert incoming.auto_answer_after == 0.0
    assert peer.wait() == 0, peer.output()  # answered without anyone calling answer()
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)


def test_wrong_password_fails_with_backoff(make_engine, kamailio) -> None:
    eut = make_engine(mode="registrar", server=kamailio.server, domain="127.0.0.1",
                      username="alice", password="wrong", retry_min_seconds=0.2,
                      retry_max_seconds=0.4)
    eut.events.wait(RegistrationChanged, state=RegistrationState.FAILED,
                    where=lambda e: len(eut.events.of(RegistrationChanged,
                                                      state=RegistrationState.FAILED)) >= 3)
    failures = eut.events.of(RegistrationChanged, state=RegistrationState.FAILED)
    assert [f.retry_in for f in failures[:3]] == [0.2, 0.4, 0.4]
    assert all(f.sip_code in (401, 403) for f in failures)
    assert not eut.events.of(RegistrationChanged, state=RegistrationState.REGISTERED)


def test_registrar_down_then_up(make_engine, sipp, tmp_path: Path) -> None:
    """The registrar says 503 (down); the retry after retry_min_seconds finds it up."""
    down = sipp(scenario(tmp_path, "uas_register", CODE="503 Service Unavailable"))
    eut = make_engine(mode="registrar", server=f"127.0.0.1:{down.port}", domain="127.0.0.1",
                      username="alice", password="x", retry_min_seconds=0.5)
    failed = eut.events.wait(RegistrationChanged, state=RegistrationState.FAILED)
    assert failed.sip_code == 503
    assert failed.retry_in == 0.5
    assert down.wait() == 0, down.output()
    # A REGISTER sent before this binds is retransmitted (UDP timer E), so none is lost.
    up = sipp(scenario(tmp_path, "uas_register", CODE="200 OK"), port=down.port)
    eut.events.wait(RegistrationChanged, state=RegistrationState.REGISTERED)
    assert up.wait() == 0, up.output()


def test_presence_publish_and_subscribe(make_engine, kamailio, agent) -> None:
    eut = registered(make_engine, kamailio)
    bob = agent("--server", kamailio.server, "--user", "bob", "--password", kamailio.password)
    bob.wait("RegistrationChanged", state="registered")
    bob.send("publish 1 Available for queue calls")
    # The presence server has the state (its 200 sent) before we subscribe, so the first
    # NOTIFY carries it.
    until(kamailio.log, lambda text: "PUBLISH 200 sip:bob@127.0.0.1" in text)
    eut.engine.subscribe_presence("sip:bob@127.0.0.1")
    seen = eut.events.wait(PresenceChanged, uri="sip:bob@127.0.0.1", basic_open=True,
                           timeout=15)
    assert seen.note == "Available for queue calls"
    bob.send("publish 0 Lunch")
    closed = eut.events.wait(PresenceChanged, uri="sip:bob@127.0.0.1", basic_open=False,
                             timeout=15)
    assert closed.note == "Lunch"


def test_registered_contact_and_unregister_on_stop(make_engine, kamailio) -> None:
    eut = registered(make_engine, kamailio)
    reg = eut.events.of(RegistrationChanged, state=RegistrationState.REGISTERED)[0]
    assert reg.contact.startswith(f"sip:alice@127.0.0.1:{eut.engine.local_port}")
    eut.engine.stop()
    assert eut.events.of(RegistrationChanged, state=RegistrationState.UNREGISTERED)
