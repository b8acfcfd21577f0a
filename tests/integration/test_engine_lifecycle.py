"""Engine start/stop: bad ports, no sound card, TCP, stopping in the middle of a call."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.config import SipSettings
from app.core.calls import (
    CallState,
    CallStateChanged,
    IncomingCall,
    basic_policy,
)
from tests.integration.conftest import EventLog, scenario

pytestmark = pytest.mark.sip


def test_port_in_use_is_an_engine_error_that_says_what_to_do() -> None:
    from app.telephony import Engine, EngineError

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        engine = Engine(SipSettings(mode="direct", listen_address="127.0.0.1", port=port),
                        password=None, policy=basic_policy, on_event=EventLog())
        with pytest.raises(EngineError, match=r"sip\.port"):
            engine.start()
        engine.stop()  # idempotent after a failed start


def test_registrar_mode_without_server_is_refused() -> None:
    from app.telephony import Engine, EngineError

    engine = Engine(SipSettings(mode="registrar", server=""), password=None,
                    policy=basic_policy, on_event=EventLog())
    with pytest.raises(EngineError, match=r"sip\.server"):
        engine.start()


def test_commands_after_stop_raise() -> None:
    from app.telephony import Engine, EngineError

    engine = Engine(SipSettings(mode="direct", listen_address="127.0.0.1"), password=None,
                    policy=basic_policy, on_event=EventLog())
    engine.start()
    engine.stop()
    engine.stop()
    with pytest.raises(EngineError):
        engine.hangup(1)


def test_tcp_transport(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine(transport="tcp")
    assert eut.engine.local_uri.endswith(";transport=tcp")
    peer = sipp(scenario(tmp_path, "uac_remote_bye"), f"127.0.0.1:{eut.engine.local_port}",
                extra=("-t", "t1"))
    incoming = eut.events.wait(IncomingCall)
    eut.engine.answer(incoming.handle)
    assert peer.wait() == 0, peer.output()
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)


def test_stop_during_a_call_hangs_up_cleanly(make_engine, sipp, tmp_path: Path) -> None:
    eut = make_engine()
    peer = sipp(scenario(tmp_path, "uac_local_bye"), f"127.0.0.1:{eut.engine.local_port}")
    incoming = eut.events.wait(IncomingCall)
    eut.engine.answer(incoming.handle)
    eut.events.wait(CallStateChanged, handle=incoming.handle, state=CallState.CONNECTED)
    eut.engine.stop()  # must send BYE and not abort the process
    assert peer.wait() == 0, peer.output()
    ended = eut.events.of(CallStateChanged, handle=incoming.handle, state=CallState.ENDED)
    assert len(ended) == 1


@pytest.fixture
def tls_listener(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`openssl s_server` with a throw-away self-signed certificate: prints what it gets."""
    import subprocess

    from tests.integration.conftest import free_port

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    out = tmp_path / "received.txt"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                                 "-cert", str(cert), "-key", str(key), "-quiet"],
                                stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.STDOUT)
    try:
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until it accepts connections
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port, out
    finally:
        proc.kill()
        proc.communicate()  # waits, and closes its stdin pipe (no ResourceWarning)


def test_tls_invite_goes_out_encrypted(make_engine, tls_listener) -> None:
    import time

    port, received = tls_listener
    eut = make_engine(transport="tls", tls_verify=False)
    handle = eut.engine.dial(f"sip:tls-peer@127.0.0.1:{port};transport=tls")
    deadline = time.monotonic() + 10
    while b"INVITE sip:tls-peer@" not in received.read_bytes():
        assert time.monotonic() < deadline, received.read_bytes()[-2000:]
        time.sleep(0.1)
    text = received.read_bytes().decode(errors="replace")
    assert "Via: SIP/2.0/TLS" in text
    eut.engine.hangup(handle)


@pytest.mark.parametrize(("ours", "secure"), [("mandatory", True), ("disabled", False)])
def test_srtp_mandatory_call_to_an_optional_peer(make_engine, agent, ours: str,
                                                 secure: bool) -> None:
    bob = agent("--user", "bob", "--srtp", "optional")
    eut = make_engine(srtp=ours)
    handle = eut.engine.dial(bob.ready["local_uri"])
    ring = bob.wait("IncomingCall")
    bob.send(f"answer {ring['handle']}")
    eut.events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)
    from tests.integration.conftest import until

    stats = until(lambda: eut.engine.media_stats(handle),
                  lambda s: s is not None and s.rx_packets > 0)
    # Negotiated, not only offered: both streams run over RTP/SAVP (SDES keys, a=crypto),
    # and a plain offer to the same peer stays RTP/AVP.
    assert stats.srtp is secure
    assert bob.query(f"stats {ring['handle']}", "Stats")["srtp"] is secure
    eut.engine.hangup(handle)
    bob.wait("CallStateChanged", handle=ring["handle"], state="ended")
