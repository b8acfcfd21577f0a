"""Call quality with real RTP: a UDP relay that drops every tenth RTP packet makes the
engine's MOS estimate drop, the MOS recovers when the loss stops, and the figures kept
with the call are the ones reported.

The relay sits in the media path by address: the engine and the far agent bind their RTP
to 127.0.0.1 but write 127.0.0.2 into their SDP (`sip.media_address`), so each sends its
audio to the relay on 127.0.0.2 (Linux routes all of 127/8 to the loopback), which passes
it on to the other's real port. The loss is
exact (every tenth RTP packet towards the engine), not random, so the figures are known.
"""

from __future__ import annotations

import random
import selectors
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.core.calls import CallRecord, CallState, CallStateChanged, OutgoingCallStarted
from app.core.history import MEMORY, History
from app.core.phone import PhoneSession
from app.core.quality import QualityReport, summarise
from tests.integration.conftest import Agent, EngineUnderTest
from tests.sound_card import write_tone

pytestmark = pytest.mark.sip

RTP_BASE = 26_000 + random.randrange(0, 400) * 20
RELAY_HOST = "127.0.0.2"
PORTS = 8  # the rtp_port_range: a first call's RTP/RTCP are somewhere in there
AGENT_RTP = RTP_BASE + 100


class Relay:
    """A UDP relay on RELAY_HOST for both parties' RTP/RTCP ports.

    Both advertise RELAY_HOST with their real port numbers, so a packet arriving at the
    relay's port X from 127.0.0.1:Y is for the party that owns port X, and goes out to
    127.0.0.1:X from the relay's port Y: each party sees the other at the address its
    SDP gave, and symmetric-RTP latching never takes the relay out of the path.
    Every `drop_every`-th RTP packet to the engine's ports is dropped while `dropping`.
    """

    def __init__(self, engine_ports: range, agent_ports: range, drop_every: int = 10) -> None:
        self.engine_ports = engine_ports
        self.drop_every = drop_every
        self.dropping = False
        self.forwarded = self.dropped = 0
        self._to_engine = 0
        self._selector = selectors.DefaultSelector()
        self._sockets: dict[int, socket.socket] = {}
        self._stop = threading.Event()
        for port in [*engine_ports, *agent_ports]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((RELAY_HOST, port))
            sock.setblocking(False)
            self._sockets[port] = sock
            self._selector.register(sock, selectors.EVENT_READ, port)
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.1):
                sock, port = key.fileobj, key.data
                assert isinstance(sock, socket.socket)
                try:
                    data, (host, source_port) = sock.recvfrom(4096)
                except OSError:
                    continue
                out = self._sockets.get(source_port)
                if host != "127.0.0.1" or out is None:
                    continue
                if port in self.engine_ports and port % 2 == 0:  # RTP to the engine
                    self._to_engine += 1
                    if self.dropping and self._to_engine % self.drop_every == 0:
                        self.dropped += 1
                        continue
                self.forwarded += 1
                out.sendto(data, ("127.0.0.1", port))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self._sockets.values():
            self._selector.unregister(sock)
            sock.close()
        self._selector.close()


@pytest.fixture
def relay() -> Iterator[Relay]:
    try:
        made = Relay(range(RTP_BASE, RTP_BASE + PORTS),
                     range(AGENT_RTP, AGENT_RTP + PORTS))
    except OSError as exc:  # a system without the rest of 127/8 on the loopback
        pytest.skip(f"cannot bind {RELAY_HOST}: {exc}")
    yield made
    made.close()


def reports_after(ours: EngineUnderTest, count: int) -> list[QualityReport]:
    return [e for e in ours.events.events[count:] if isinstance(e, QualityReport)]


def test_ten_percent_rtp_loss_lowers_the_mos_and_it_recovers_and_history_keeps_it(
        make_engine: Callable[..., EngineUnderTest], agent: Callable[..., Agent],
        relay: Relay, tmp_path: Path) -> None:
    tone = write_tone(tmp_path / "1k.wav", 1000, 30, rate=8000)
    far = agent("--auto-answer", "--capture-file", str(tone), "--rtp-port", str(AGENT_RTP),
                "--media-address", RELAY_HOST)
    ours = make_engine(rtp_port=RTP_BASE, rtp_port_range=PORTS, media_address=RELAY_HOST,
                       codecs=["PCMA"])
    ours.engine.quality_interval = 1.0  # five seconds in the app; one is enough here
    events = ours.events
    handle = ours.engine.dial(far.ready["local_uri"])
    events.wait(CallStateChanged, handle=handle, state=CallState.CONNECTED)

    def next_report(where: Callable[[QualityReport], bool]) -> QualityReport:
        return events.wait(QualityReport, timeout=20, handle=handle, where=where)

    clean = next_report(lambda r: r.rx_packets >= 40)
    assert relay.forwarded > 0  # the audio really comes through the relay
    assert clean.lost_packets == 0 and clean.mos >= 4.3, clean
    assert clean.codec.upper().startswith("PCMA")

    relay.dropping = True
    mark = len(events.events)
    lossy = next_report(lambda r: r.at > clean.at and r.lost_packets > 0
                        and r.loss_percent >= 9)
    # A whole interval under loss: exactly one packet in ten (±1 at the interval's edges).
    lossy = next_report(lambda r: r.at > lossy.at)
    assert lossy.loss_percent == pytest.approx(10, abs=2), lossy
    assert lossy.mos <= 3.6, lossy  # G.711 with 10 % loss: about 3.4
    assert clean.mos - lossy.mos >= 0.8

    relay.dropping = False
    recovered = next_report(lambda r: r.at > lossy.at and r.lost_packets == 0)
    recovered = next_report(lambda r: r.at > recovered.at)
    assert recovered.lost_packets == 0 and recovered.mos >= 4.3, recovered
    assert relay.dropped > 0

    ours.engine.hangup(handle)
    events.wait(CallStateChanged, handle=handle, state=CallState.ENDED)

    # The session stores the figures the engine reported, in history, with the call.
    history = History(MEMORY)
    ended: list[CallRecord] = []
    session = PhoneSession(ours.engine, history, Settings())
    session.subscribe(on_call_ended=ended.append)
    for event in list(events.events):
        if getattr(event, "handle", handle) == handle or isinstance(event,
                                                                   OutgoingCallStarted):
            session.handle(event)
    reported = [e for e in events.events if isinstance(e, QualityReport)
                and e.handle == handle]
    assert len(ended) == 1
    stored = history.get(ended[0].call_id)
    assert stored is not None and stored.quality == summarise(reported)
    assert stored.quality is not None
    assert stored.quality.mos_min == min(r.mos for r in reported) <= lossy.mos
    assert 0 < stored.quality.loss_percent < 10
    print(f"\nquality: clean {clean}\n lossy {lossy}\n recovered {recovered}\n "
          f"stored {stored.quality}\n relay forwarded {relay.forwarded} dropped "
          f"{relay.dropped}; reports after the loss started: "
          f"{len(reports_after(ours, mark))}")
