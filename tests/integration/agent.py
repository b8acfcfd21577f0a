"""A second agent in its own process: app.telephony.Engine driven over stdin/stdout lines.

pjsua2 allows one Endpoint per process, so tests (and `switchboard demo`) run the far
end of a call as this child process. Commands, one per line on stdin:

    dial TARGET | answer H | decline H [CODE] | hangup H | hold H 0|1 | mute H 0|1
    dtmf H DIGITS | xfer H TARGET | stats H | publish 0|1 NOTE... | subscribe URI | quit

Every engine event is written to stdout as one JSON object with its class name in
"type"; `stats` answers {"type": "Stats", "handle": H, "rx": N, "tx": N,
"rx_level": 0..255, "srtp": true|false}. The first line
is {"type": "Ready", "local_uri": ..., "port": ...}. pjsua2's own console output goes to
stderr so it never mixes with the protocol.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import sys
import threading
from datetime import datetime
from typing import Any, TextIO

from app.config import SipSettings
from app.core.calls import basic_policy
from app.telephony import Engine


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Protocol:
    """Thread-safe JSON line writer (events come from the engine thread)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def write(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self._out.write(json.dumps(obj) + "\n")
            self._out.flush()

    def event(self, event: Any) -> None:
        data = {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}
        self.write({"type": type(event).__name__, **data})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="", help="registrar host:port; empty: direct mode")
    p.add_argument("--user", default="agent2")
    p.add_argument("--password", default=None)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--auto-answer", action="store_true")
    p.add_argument("--dtmf", default="rfc4733", choices=("rfc4733", "info"))
    p.add_argument("--capture-file", default=None, help="WAV file looped as the microphone")
    p.add_argument("--rtp-port", type=int, default=4000, help="first local RTP port")
    p.add_argument("--record-file", default=None,
                   help="WAV file that records what calls hear (complete after quit)")
    p.add_argument("--srtp", default="disabled", choices=("disabled", "optional", "mandatory"))
    p.add_argument("--media-address", default="",
                   help="address written into the SDP for RTP (sip.media_address)")
    return p.parse_args(argv)


def handle(engine: Engine, proto: Protocol, line: str) -> bool:
    """Run one command line; False when it was `quit`."""
    words = line.split()
    if not words:
        return True
    cmd, args = words[0], words[1:]
    try:
        if cmd == "quit":
            return False
        if cmd == "dial":
            proto.write({"type": "Dialled", "handle": engine.dial(args[0])})
        elif cmd == "answer":
            engine.answer(int(args[0]))
        elif cmd == "decline":
            engine.decline(int(args[0]), int(args[1]) if len(args) > 1 else 486)
        elif cmd == "hangup":
            engine.hangup(int(args[0]))
        elif cmd == "hold":
            engine.set_hold(int(args[0]), args[1] == "1")
        elif cmd == "mute":
            engine.set_mute(int(args[0]), args[1] == "1")
        elif cmd == "dtmf":
            engine.send_dtmf(int(args[0]), args[1])
        elif cmd == "xfer":
            engine.transfer(int(args[0]), args[1])
        elif cmd == "stats":
            stats = engine.media_stats(int(args[0]))
            proto.write({"type": "Stats", "handle": int(args[0]),
                         "rx": stats.rx_packets if stats else None,
                         "tx": stats.tx_packets if stats else None,
                         "rx_level": stats.rx_level if stats else None,
                         "srtp": stats.srtp if stats else None})
        elif cmd == "publish":
            engine.publish_presence(args[0] == "1", " ".join(args[1:]))
        elif cmd == "subscribe":
            engine.subscribe_presence(args[0])
        else:
            proto.write({"type": "Error", "message": f"unknown command {cmd!r}"})
    except (ValueError, IndexError, RuntimeError) as exc:
        proto.write({"type": "Error", "message": f"{cmd}: {exc}"})
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Keep the protocol on a private copy of stdout; fd 1 (pjsua2's console) → stderr.
    proto_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    proto = Protocol(proto_out)
    settings = SipSettings(
        mode="registrar" if args.server else "direct", server=args.server,
        domain=args.server.split(":")[0] if args.server else "", username=args.user,
        listen_address="127.0.0.1", port=args.port, auto_answer=args.auto_answer,
        dtmf_method=args.dtmf, srtp=args.srtp, rtp_port=args.rtp_port,
        media_address=args.media_address, retry_min_seconds=0.5,
        retry_max_seconds=5.0)
    engine = Engine(settings, password=args.password, policy=basic_policy,
                    on_event=proto.event, capture_file=args.capture_file,
                    record_file=args.record_file)
    engine.start()
    proto.write({"type": "Ready", "local_uri": engine.local_uri, "port": engine.local_port})
    try:
        for line in sys.stdin:
            if not handle(engine, proto, line):
                break
    finally:
        engine.stop()
        proto.write({"type": "Stopped"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
