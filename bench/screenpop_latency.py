"""Benchmark ring → page visible: INVITE received at the engine to loadFinished of the pop.

    python bench/screenpop_latency.py [--contacts 1000000] [--calls 100] [--keep DIR]

Builds a built-in CRM with generated contacts (bench/crm_lookup.py's generator:
executemany in one transaction), starts the whole app in this process (offscreen, real
pjsua2 engine, real QWebEngineView, null audio) and lets SIPp ring it `--calls` times,
one call at a time, each from a different known customer. For every call it takes the
engine's IncomingCall timestamp (set on the engine thread when pjsua2 hands over the
INVITE) and the moment the popped contact page finished loading (CrmWiring.page_shown:
the page's loadingChanged with LoadSucceeded for that URL, i.e. its loadFinished), and
prints p50/p95/max. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium's sandbox refuses root
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (
        os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "") + " --no-sandbox").strip()

from bench.crm_lookup import generate, pct, subscriber

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="ring_then_cancel">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Bench Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      CSeq: 1 INVITE
      X-Queue-Name: Customer Service
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180"/>
  <pause milliseconds="{ring_ms}"/>
  <send><![CDATA[

      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "Bench Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>
  <recv response="487"/>
  <send><![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "Bench Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
</scenario>
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_until(done: Callable[[], bool], timeout: float) -> None:
    """Run the Qt event loop until `done()` (checked every 5 ms) or `timeout` seconds.

    Not a processEvents() loop: PySide6 6.12.0 drops a reference to None on each
    processEvents() call, and a few hundred thousand of them abort the interpreter.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout

    def check() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(check)
    timer.start()
    if not done():
        loop.exec()
    timer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--ring-ms", type=int, default=700, help="ring time before CANCEL")
    parser.add_argument("--gap-ms", type=int, default=1300, help="time between calls")
    parser.add_argument("--keep", type=Path, help="build the profile here and keep it")
    args = parser.parse_args(argv)
    if shutil.which("sipp") is None:
        print("SIPp is not installed")
        return 1

    from PySide6.QtWidgets import QApplication

    from app.compose import build_app
    from app.config import Settings
    from app.core.calls import Call
    from app.paths import Profile
    from app.secrets import KeyringSecretStore
    from app.ui.screenpop import register_schemes

    with tempfile.TemporaryDirectory(prefix="pop-bench-") as tmpdir:
        root = args.keep or Path(tmpdir)
        profile = Profile.at(root / "profile").ensure()
        crm = profile.db_path("crm")
        if not crm.exists():
            took = generate(crm, args.contacts)
            print(f"generated {args.contacts:,} contacts in {took:.1f} s")
        rng = random.Random(7)
        callers = root / "callers.csv"
        callers.write_text("SEQUENTIAL\n" + "".join(
            f"{subscriber(rng.randint(1, args.contacts))};\n" for _ in range(args.calls)))
        scenario = root / "ring_then_cancel.xml"
        scenario.write_text(SCENARIO.replace("{ring_ms}", str(args.ring_ms)))

        register_schemes()
        _qapp = QApplication.instance() or QApplication([sys.argv[0]])  # kept alive
        settings = Settings()
        sip = settings.sip
        sip.mode, sip.username, sip.listen_address = "direct", "agent", "127.0.0.1"
        sip.port, sip.srtp = free_port(), "disabled"
        settings.phone.audio = "null"
        settings.crm.workflow = "contact_account"
        app = build_app(profile, settings, secrets=KeyringSecretStore())  # direct: unused
        assert app.crm is not None
        arrived: dict[str, datetime] = {}
        latencies: list[float] = []
        pages: dict[str, str] = {}

        def updated(call: Call) -> None:
            arrived.setdefault(call.call_id, call.arrived_at)

        def shown(call_id: str, path: str) -> None:
            now = datetime.now(timezone.utc)
            if call_id in arrived and call_id not in pages:
                pages[call_id] = path
                latencies.append((now - arrived[call_id]).total_seconds() * 1000)

        app.session.subscribe(on_call_updated=updated)
        app.crm.page_shown.connect(shown)
        app.start(show=True)
        run_until(lambda: app.engine_running, 60)
        # Let Chromium warm up as it would on an agent's desktop before the first call.
        warm_until = time.monotonic() + 3
        run_until(lambda: time.monotonic() > warm_until, 10)
        period = args.ring_ms + args.gap_ms
        cmd = ["sipp", "-sf", str(scenario), "-inf", str(callers), "-i", "127.0.0.1",
               "-p", str(free_port()), "-m", str(args.calls), "-l", "1",
               "-r", "1", "-rp", str(period), "-s", "agent", "-nostdin",
               "-timeout", f"{args.calls * period // 1000 + 60}s",
               f"127.0.0.1:{sip.port}"]
        peer = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        run_until(lambda: peer.poll() is not None, args.calls * period / 1000 + 120)
        settle = time.monotonic() + 3
        run_until(lambda: time.monotonic() > settle, 10)
        app.shutdown()

    popped = len(latencies)
    contact_pops = sum(p.startswith("contact/") for p in pages.values())
    print()
    print(f"ring → page visible, {args.contacts:,} contacts, SIPp exit {peer.returncode}")
    print(f"{'calls':>6} | {'popped':>6} | {'contact':>7} | {'p50 ms':>7} | {'p95 ms':>7} | "
          f"{'max ms':>7} | {'mean ms':>7}")
    print("-" * 64)
    if latencies:
        print(f"{len(arrived):>6} | {popped:>6} | {contact_pops:>7} | "
              f"{statistics.median(latencies):>7.1f} | {pct(latencies, 95):>7.1f} | "
              f"{max(latencies):>7.1f} | {statistics.mean(latencies):>7.1f}")
    print("targets: p50 ≤ 80 ms, p95 ≤ 150 ms", flush=True)
    # Skip interpreter teardown: PySide6 6.12.0 can trip over None's refcount there.
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
