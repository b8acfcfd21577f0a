"""Fixtures for integration tests against real SIP peers on 127.0.0.1.

Everything here starts real processes (SIPp, Kamailio, a second pjsua2 agent) on free
ports and always stops them. The engine under test runs in this process; pjsua2 allows
one Endpoint per process, so each test gets a fresh Engine and stops it at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from app.config import SipSettings
from app.core.calls import RingPolicy, basic_policy

PEERS = Path(__file__).parent / "peers"
ROOT = Path(__file__).resolve().parents[2]
WAIT = 10.0  # generous upper bound for any single SIP exchange on loopback

E = TypeVar("E")


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                    tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(port)
    raise RuntimeError("no free port")


class EventLog:
    """Events from an engine, collected across threads, with waiting helpers."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type[E], **match: Any) -> list[E]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)
                    and all(getattr(e, k) == v for k, v in match.items())]

    def wait(self, kind: type[E], timeout: float = WAIT,
             where: Callable[[E], bool] | None = None, **match: Any) -> E:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events:
                    if isinstance(e, kind) and all(getattr(e, k) == v
                                                   for k, v in match.items()) \
                            and (where is None or where(e)):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind.__name__} {match} within {timeout} s; "
                                         f"got {self.events}")
                self._cond.wait(left)


# -- SIPp -----------------------------------------------------------------------------


def scenario(tmp_path: Path, name: str, **subs: str) -> Path:
    """Copy peers/NAME.xml to tmp_path with {{KEY}} placeholders filled in."""
    text = (PEERS / f"{name}.xml").read_text()
    defaults = {"HOLD_MS": "300", "HEADERS": "", "CHECK": "false",
                "CHECK_HEADER": "Call-ID:", "INFO": "", "CODE": "486"}
    for key, value in {**defaults, **subs}.items():
        # A placeholder alone on its line that becomes empty takes its line with it: an
        # empty line inside a SIP message would end the headers.
        placeholder = "{{" + key + "}}"
        if not value:
            text = re.sub(r"^[ \t]*" + re.escape(placeholder) + r"[ \t]*\n", "", text,
                          flags=re.M)
        text = text.replace(placeholder, value)
    out = tmp_path / f"{name}-{len(list(tmp_path.glob(name + '*')))}.xml"
    out.write_text(text)
    return out


@dataclass
class Sipp:
    proc: subprocess.Popen[bytes]
    port: int
    log_dir: Path

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"SIPp did not finish within {timeout} s:\n{self.output()}") from None

    def output(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*")):
            if path.is_file() and path.stat().st_size < 200_000:
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Callable[..., Sipp]]:
    """Start SIPp: sipp(scenario_path, remote="127.0.0.1:PORT" or None for UAS, ...)."""
    started: list[Sipp] = []

    def start(scenario_file: Path, remote: str | None = None, *, calls: int = 1,
              service: str = "agent", extra: tuple[str, ...] = (),
              port: int | None = None) -> Sipp:
        port = port or free_port()
        log_dir = tmp_path / f"sipp-{len(started)}-{port}"
        log_dir.mkdir()
        cmd = ["sipp", "-sf", str(scenario_file), "-i", "127.0.0.1", "-p", str(port),
               "-mi", "127.0.0.1", "-mp", str(free_port()), "-m", str(calls),
               "-s", service, "-timeout", "30s", "-timeout_error", "-nostdin",
               "-trace_err", "-trace_logs", "-error_file", str(log_dir / "errors.log"),
               "-log_file", str(log_dir / "actions.log"),
               *extra]
        if remote:
            cmd.append(remote)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=log_dir)
        peer = Sipp(proc, port, log_dir)
        started.append(peer)
        if remote is None:
            _wait_udp_bound(port, proc)
        return peer

    yield start
    for peer in started:
        if peer.proc.poll() is None:
            peer.proc.kill()
            peer.proc.wait()


def _wait_udp_bound(port: int, proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Wait until something listens on UDP `port` (so the first packet is not lost)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"peer exited with {proc.returncode} before listening")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.02)
    raise AssertionError(f"nothing listens on udp/{port}")


# -- the engine under test ------------------------------------------------------------


@dataclass
class EngineUnderTest:
    engine: Any
    events: EventLog
    settings: SipSettings


@pytest.fixture
def make_engine() -> Iterator[Callable[..., EngineUnderTest]]:
    """make_engine(**SipSettings overrides, password=, policy=) → a started Engine."""
    from app.telephony import Engine

    made: list[EngineUnderTest] = []

    def make(*, password: str | None = None, policy: RingPolicy = basic_policy,
             capture_file: str | None = None, audio: Any = None,
             **overrides: Any) -> EngineUnderTest:
        assert not made, "one Engine per process at a time (pjsua2 has one Endpoint)"
        base = SipSettings(mode="direct", username="agent", listen_address="127.0.0.1",
                           port=0, retry_min_seconds=0.2, retry_max_seconds=1.0,
                           srtp="disabled")
        settings = replace(base, **overrides)
        events = EventLog()
        engine = Engine(settings, password=password, policy=policy, on_event=events,
                        capture_file=capture_file, audio=audio)
        engine.start()
        made.append(EngineUnderTest(engine, events, settings))
        return made[-1]

    yield make
    for item in made:
        item.engine.stop()


@pytest.fixture(scope="session")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of a 1 kHz tone (8 kHz, 16-bit mono): a microphone that is never silent."""
    import math
    import struct
    import wave

    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 1000
                                                                      * n / 8000)))
                                 for n in range(8000)))
    return path


def until(read: Callable[[], E], ok: Callable[[E], bool], timeout: float = WAIT) -> E:
    """Poll `read()` until `ok(value)`; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    value = read()
    while not ok(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition never held; last value {value!r}")
        time.sleep(0.2)
        value = read()
    return value


# -- Kamailio -------------------------------------------------------------------------

DBTEXT_TABLES = ("version", "presentity", "active_watchers", "watchers", "xcap", "pua")


@dataclass
class Kamailio:
    proc: subprocess.Popen[bytes]
    port: int
    password: str
    workdir: Path

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        return (self.workdir / "kamailio.log").read_text(errors="replace")


def start_kamailio(workdir: Path, *, password: str = "secret", port: int | None = None
                   ) -> Kamailio:
    port = port or free_port()
    db = workdir / "db"
    db.mkdir(parents=True, exist_ok=True)
    for table in DBTEXT_TABLES:
        shutil.copy(Path("/usr/share/kamailio/dbtext/kamailio") / table, db / table)
    cfg = (PEERS / "kamailio.cfg.in").read_text()
    cfg = cfg.replace("@PORT@", str(port)).replace("@DBDIR@", str(db)) \
             .replace("@PASSWORD@", password)
    cfg_path = workdir / "kamailio.cfg"
    cfg_path.write_text(cfg)
    run = workdir / "run"
    run.mkdir(exist_ok=True)
    log = open(workdir / "kamailio.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        ["kamailio", "-f", str(cfg_path), "-DD", "-E", "-Y", str(run),
         "-P", str(run / "kamailio.pid"), "-m", "64", "-M", "8"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    _wait_udp_bound(port, proc)
    return Kamailio(proc, port, password, workdir)


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def kamailio(tmp_path: Path) -> Iterator[Kamailio]:
    server = start_kamailio(tmp_path / "kamailio")
    yield server
    stop_process_group(server.proc)


# -- the second agent (a child process) -----------------------------------------------


@dataclass
class Agent:
    proc: subprocess.Popen[str]
    lines: queue.Queue[dict[str, Any]]
    seen: list[dict[str, Any]] = field(default_factory=list)
    ready: dict[str, Any] = field(default_factory=dict)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, type_: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        def ok(ev: dict[str, Any]) -> bool:
            return ev.get("type") == type_ and all(ev.get(k) == v for k, v in match.items())

        for ev in self.seen:
            if ok(ev):
                return ev
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"agent sent no {type_} {match}; got {self.seen}")
            try:
                ev = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(ev)
            if ok(ev):
                return ev

    def query(self, line: str, type_: str, timeout: float = WAIT) -> dict[str, Any]:
        """Send a command and return the next reply of `type_` that arrives after it."""
        before = len(self.seen)
        self.send(line)
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.seen[before:]:
                if ev.get("type") == type_:
                    self.seen.remove(ev)
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_} reply to {line!r}")
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=left))


def start_agent(*args: str) -> Agent:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.agent", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        cwd=ROOT, bufsize=1)
    lines: queue.Queue[dict[str, Any]] = queue.Queue()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                lines.put(json.loads(line))
            except ValueError:
                continue

    threading.Thread(target=reader, daemon=True).start()
    agent = Agent(proc, lines)
    agent.ready = agent.wait("Ready", timeout=20)
    return agent


def stop_agent(agent: Agent) -> None:
    if agent.proc.poll() is None:
        try:
            agent.send("quit")
            agent.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            agent.proc.kill()
            agent.proc.wait()
    for pipe in (agent.proc.stdin, agent.proc.stdout):  # else a ResourceWarning later
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


@pytest.fixture
def agent() -> Iterator[Callable[..., Agent]]:
    started: list[Agent] = []

    def start(*args: str) -> Agent:
        started.append(start_agent(*args))
        return started[-1]

    yield start
    for item in started:
        stop_agent(item)
