"""The demo's simulated customer: a second SIP agent in its own process that rings the agent.

pjsua2 allows one Endpoint per process, so the caller runs as a child of `switchboard
demo`. It calls once as a known customer through a queue, once as an unknown number
directly and once from a number three CRM records share (the dialog to choose); it
hangs up after talking a while (or gives up when nobody answers), and exits when its
parent does.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app.config import SipSettings
from app.core.calls import CallState, CallStateChanged, EngineEvent, basic_policy
from app.telephony.engine import Engine

POLL = 0.2


@dataclass(frozen=True)
class DemoCall:
    number: str
    queue: str | None


SCRIPT = (
    DemoCall("+358401234567", "Customer Service"),  # Aino Virtanen in the demo CRM
    DemoCall("+358 9 8765 4321", None),  # nobody in the CRM has this number
    DemoCall("+358 9 555 0101", "Customer Service"),  # Kallio Dental and two of its people
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, help="the agent's SIP URI")
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process ends")
    p.add_argument("--first-delay", type=float, default=4.0)
    p.add_argument("--between", type=float, default=6.0, help="seconds between calls")
    p.add_argument("--ring-timeout", type=float, default=30.0)
    p.add_argument("--talk", type=float, default=12.0)
    return p.parse_args(argv)


class Caller:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.events: queue.Queue[EngineEvent] = queue.Queue()
        settings = SipSettings(mode="direct", username="customer", listen_address="127.0.0.1",
                               port=0, srtp="disabled", caller_id_method="from-user",
                               user_agent="Switchboard demo caller")
        voice = Path(__file__).resolve().parents[1] / "resources" / "sounds" / "demo-caller.wav"
        self.engine = Engine(settings, password=None, policy=basic_policy,
                             on_event=self.events.put,
                             capture_file=str(voice) if voice.exists() else None)

    def parent_alive(self) -> bool:
        return not self.args.parent_pid or os.getppid() == self.args.parent_pid

    def sleep(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not self.parent_alive():
                return False
            time.sleep(POLL)
        return True

    def wait_state(self, handle: int, states: set[CallState], timeout: float
                   ) -> CallStateChanged | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.parent_alive():
            try:
                ev = self.events.get(timeout=POLL)
            except queue.Empty:
                continue
            if isinstance(ev, CallStateChanged) and ev.handle == handle and (
                    ev.state in states or ev.state is CallState.ENDED):
                return ev
        return None

    def place(self, call: DemoCall) -> None:
        headers = {"X-Queue-Name": call.queue} if call.queue else None
        for _attempt in range(5):  # the agent's phone may still be starting
            handle = self.engine.dial(self.args.target, caller_id=call.number.replace(" ", ""),
                                      headers=headers)
            ev = self.wait_state(handle, {CallState.CONNECTED}, self.args.ring_timeout)
            if ev is None:
                self.engine.hangup(handle)  # nobody answered: the agent sees a missed call
                self.wait_state(handle, set(), 5)
                return
            if ev.state is CallState.CONNECTED:
                self.sleep(self.args.talk)
                self.engine.hangup(handle)
                self.wait_state(handle, set(), 5)
                return
            if ev.sip_code not in (0, 408, 503):  # declined or busy: that is the agent's answer
                return
            if not self.sleep(2):
                return

    def run(self) -> int:
        self.engine.start()
        try:
            if not self.sleep(self.args.first_delay):
                return 0
            for i, call in enumerate(SCRIPT):
                if i and not self.sleep(self.args.between):
                    break
                self.place(call)
        finally:
            self.engine.stop()
        return 0


def main(argv: list[str] | None = None) -> int:
    return Caller(parse_args(argv)).run()


if __name__ == "__main__":
    sys.exit(main())
