"""INVITE→180 / INVITE→200 latency and idle cost: our engine vs baresip vs linphonec.

Each user agent auto-answers on 127.0.0.1 and takes the same SIPp load: by default 50
calls at 10 calls/s, one at a time, 20 ms of talk each (an auto-answering agent never has
two calls at once, and linphonec without a sound card takes only one). SIPp reports whole
milliseconds only, so the latencies come from a loopback capture (tshark: first INVITE →
first 180/200 of each Call-ID). Before the load each UA sits idle for a few seconds; its
CPU % over that window and its RSS are reported too. It prints a table, asserts nothing.

    python bench/sip_latency.py [--calls 50] [--rate 10] [--idle 5] [--only baresip] [--keep]

A bare pjsua2 auto-answerer (bench/peers/bare_pjsua2.py, no Switchboard code) runs too,
so the floor the wheel itself sets is measured in the same run.

Our engine runs as the app configures it (app.config defaults: SRTP optional, RFC 4733
DTMF, call waiting on) plus auto-answer with no delay, in a child process
(tests/integration/agent.py), so its CPU and memory are measured on their own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parent / "peers"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_bound(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Wait until something holds UDP `port` on 127.0.0.1."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on udp/{port} after {timeout} s")


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    user: str  # the request-URI user it answers (baresip 404s any other)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdin:
            self.proc.stdin.close()


def fill(template: Path, out: Path, **subs: str) -> Path:
    text = template.read_text()
    for key, value in subs.items():
        text = text.replace(f"@{key}@", value)
    out.write_text(text)
    return out


def start_engine(work: Path, port: int) -> Running:
    log = open(work / "engine.out", "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.agent", "--user", "agent", "--port",
         str(port), "--auto-answer", "--srtp", "optional"],
        stdin=subprocess.PIPE, stdout=log, stderr=subprocess.DEVNULL, cwd=ROOT)
    log.close()
    return Running(proc, port, "agent")


def start_bare_pjsua2(work: Path, port: int) -> Running:
    proc = subprocess.Popen([sys.executable, str(PEERS / "bare_pjsua2.py"), str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    return Running(proc, port, "bare")


def start_baresip(work: Path, port: int) -> Running:
    conf = work / "baresip"
    conf.mkdir()
    fill(PEERS / "baresip" / "config.in", conf / "config", PORT=str(port))
    fill(PEERS / "baresip" / "accounts.in", conf / "accounts", PORT=str(port))
    # baresip's menu reads stdin: give it a pipe that stays open.
    proc = subprocess.Popen(["baresip", "-f", str(conf)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Running(proc, port, "bare")


def start_linphonec(work: Path, port: int) -> Running:
    home = work / "linphone-home"
    (home / ".local" / "share" / "linphone").mkdir(parents=True)
    rc = fill(PEERS / "linphonerc.in", work / "linphonerc", PORT=str(port))
    env = {**os.environ, "HOME": str(home)}
    # Without a HOME holding .local/share/linphone it opens no SIP socket; it also quits
    # when stdin closes, so we hold the pipe open for its lifetime.
    proc = subprocess.Popen(["linphonec", "-c", str(rc), "-a"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return Running(proc, port, "linphonec")


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def idle_cost(pid: int, seconds: float) -> tuple[float, float]:
    before = cpu_ticks(pid)
    time.sleep(seconds)
    used = (cpu_ticks(pid) - before) / CLK_TCK
    return 100.0 * used / seconds, rss_mb(pid)


def capture_latencies(port: int, work: Path, load: Callable[[], int]) -> tuple[
        list[float], list[float], int, int]:
    """Run `load` under a loopback capture; (ms to 180, ms to 200, answered, sipp rc)."""
    pcap = work / f"capture-{port}.pcap"
    tshark = subprocess.Popen(
        ["tshark", "-i", "lo", "-f", f"udp port {port}", "-w", str(pcap)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The capture file gets its header once dumpcap really captures.
    deadline = time.monotonic() + 60
    while not (pcap.exists() and pcap.stat().st_size > 0):
        if time.monotonic() > deadline or tshark.poll() is not None:
            tshark.kill()
            raise RuntimeError("tshark did not start capturing on lo")
        time.sleep(0.1)
    time.sleep(0.5)
    rc = load()
    time.sleep(0.5)
    tshark.send_signal(signal.SIGINT)
    tshark.wait(10)
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-d", f"udp.port=={port},sip", "-Y", "sip",
         "-T", "fields", "-E", "separator=\t", "-e", "frame.time_epoch", "-e", "sip.Call-ID",
         "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method"],
        capture_output=True, text=True, check=True).stdout
    invite: dict[str, float] = {}
    ringing: dict[str, float] = {}
    answered: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 5:
            continue
        when, call_id, method, status, cseq_method = parts[:5]
        t = float(when)
        if method == "INVITE":
            invite.setdefault(call_id, t)
        elif cseq_method == "INVITE" and status == "180":
            ringing.setdefault(call_id, t)
        elif cseq_method == "INVITE" and status == "200":
            answered.setdefault(call_id, t)
    to_180 = [(ringing[c] - invite[c]) * 1000 for c in ringing if c in invite]
    to_200 = [(answered[c] - invite[c]) * 1000 for c in answered if c in invite]
    return to_180, to_200, len(to_200), rc


def sipp_load(port: int, user: str, work: Path, calls: int, rate: float) -> int:
    cmd = ["sipp", "-sf", str(PEERS / "uac_bench.xml"), "-s", user, "-i", "127.0.0.1",
           "-p", str(free_port()), "-mi", "127.0.0.1", "-mp", str(free_port()),
           "-m", str(calls), "-r", str(rate), "-l", "1", "-nostdin", "-timeout", "60s",
           "-trace_err", "-error_file", str(work / f"sipp-{port}.err"),
           f"127.0.0.1:{port}"]
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False, timeout=calls / rate + 90).returncode
    except subprocess.TimeoutExpired:
        return -1


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    median = statistics.median(values)
    p90 = statistics.quantiles(values, n=10)[8] if len(values) >= 2 else values[0]
    return f"{median:.2f} ({p90:.2f})"


UAS: dict[str, Callable[[Path, int], Running]] = {
    "switchboard engine": start_engine,
    "bare pjsua2 (floor)": start_bare_pjsua2,
    "baresip": start_baresip,
    "linphonec": start_linphonec,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=50)
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--idle", type=float, default=5.0, help="seconds of idle measurement")
    p.add_argument("--only", default="", help="comma-separated subset: engine,baresip,...")
    p.add_argument("--keep", action="store_true", help="keep captures and logs (path printed)")
    args = p.parse_args(argv)
    for tool in ("sipp", "tshark", "baresip", "linphonec"):
        if shutil.which(tool) is None:
            print(f"missing {tool}; see /work/shared/PEERS.md for the packages", file=sys.stderr)
    wanted = [n for n in UAS if not args.only or any(w in n for w in args.only.split(","))]
    rows = []
    tmp = tempfile.mkdtemp(prefix="sip-latency-")
    try:
        for name in wanted:
            work = Path(tmp) / name.replace(" ", "-")
            work.mkdir()
            port = free_port()
            print(f"{name}: starting on udp/{port}", file=sys.stderr)
            running = UAS[name](work, port)
            try:
                wait_bound(port, running.proc)
                time.sleep(1.0)  # let start-up work finish before measuring idle
                print(f"{name}: idle for {args.idle:g} s", file=sys.stderr)
                cpu, rss = idle_cost(running.proc.pid, args.idle)
                print(f"{name}: {args.calls} calls", file=sys.stderr)
                to_180, to_200, ok, rc = capture_latencies(
                    port, work, lambda r=running, w=work: sipp_load(
                        r.port, r.user, w, args.calls, args.rate))
            except RuntimeError as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                continue
            finally:
                running.stop()
            rows.append((name, f"{ok}/{args.calls}" + ("" if rc == 0 else f" (sipp rc {rc})"),
                         summary(to_180), summary(to_200), f"{cpu:.2f} %", f"{rss:.1f} MB"))
    finally:
        if args.keep:
            print(f"captures and logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    header = ("UA", "answered", "INVITE→180 ms median (p90)", "INVITE→200 ms median (p90)",
              "idle CPU", "RSS")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{args.calls} calls at {args.rate:g}/s on 127.0.0.1, "
          f"{os.cpu_count()} CPUs, idle window {args.idle:g} s\n")
    for i, row in enumerate([header, *rows]):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return 0


if __name__ == "__main__":
    sys.exit(main())
