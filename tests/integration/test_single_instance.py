"""Single instance between real processes: forward, validation, stale socket after kill -9."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.desktop.single_instance import (
    MAX_MESSAGE,
    decode_message,
    encode_message,
    server_name,
)

REPO = Path(__file__).resolve().parents[2]

LISTENER = r"""
import json, logging, sys
from PySide6.QtCore import QCoreApplication
from app.desktop.single_instance import AnotherInstanceRunning, SingleInstance
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
app = QCoreApplication([])
inst = SingleInstance(sys.argv[1])
try:
    inst.listen()
except AnotherInstanceRunning:
    print(json.dumps({"event": "another"}), flush=True)
    sys.exit(4)
print(json.dumps({"event": "listening", "path": inst._server.fullServerName()}), flush=True)
def got(args):
    print(json.dumps({"event": "message", "args": args}), flush=True)
    if args == ["quit"]:
        app.quit()
inst.message_received.connect(got)
sys.exit(app.exec())
"""

FORWARDER = r"""
import sys
from app.desktop.single_instance import SingleInstance
sys.exit(0 if SingleInstance(sys.argv[1]).try_forward(sys.argv[2:]) else 3)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONSTARTUP", None)
    return env


class Listener:
    def __init__(self, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LISTENER, str(profile)], cwd=REPO, env=_env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first = self.next_event()

    def next_event(self, timeout: float = 20) -> dict[str, object]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        # readline blocks; the child always prints within the deadline or dies (EOF)
        line = self.proc.stdout.readline()
        assert time.monotonic() < deadline + 1, "listener was too slow"
        if not line:
            raise AssertionError(f"listener exited: {self.proc.wait()} "
                                 f"{self.proc.stderr.read() if self.proc.stderr else ''}")
        return json.loads(line)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


def forward(profile: Path, *args: str) -> int:
    return subprocess.run([sys.executable, "-c", FORWARDER, str(profile), *args], cwd=REPO,
                          env=_env(), timeout=30).returncode


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "profile"


@pytest.fixture
def listener(profile: Path) -> Iterator[Listener]:
    first = Listener(profile)
    assert first.first["event"] == "listening"
    yield first
    first.stop()


def test_nobody_listening_means_not_forwarded(profile: Path) -> None:
    assert forward(profile, "dial", "tel:+358401234567") == 3


def test_second_start_hands_its_arguments_over(profile: Path, listener: Listener) -> None:
    assert forward(profile, "dial", "tel:+358401234567") == 0
    assert listener.next_event() == {"event": "message",
                                     "args": ["dial", "tel:+358401234567"]}
    assert forward(profile) == 0  # a plain second start: "show the window"
    assert listener.next_event() == {"event": "message", "args": []}


def test_socket_is_private_to_the_user(listener: Listener) -> None:
    path = Path(str(listener.first["path"]))
    assert path.exists()
    assert path.stat().st_mode & 0o077 == 0


def test_other_profile_is_another_instance(tmp_path: Path, listener: Listener) -> None:
    assert forward(tmp_path / "other", "dial", "tel:+358401234567") == 3


def test_second_listener_refuses_while_the_first_lives(profile: Path,
                                                       listener: Listener) -> None:
    second = Listener(profile)
    assert second.first == {"event": "another"}
    assert second.proc.wait(timeout=10) == 4
    second.stop()  # closes its pipes
    assert forward(profile, "quit") == 0  # the first one still works
    assert listener.next_event()["args"] == ["quit"]


def _raw_send(path: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            return s.recv(64)
        except (BrokenPipeError, ConnectionResetError):
            return b""


@pytest.mark.parametrize("junk", [
    b"not json\n",
    b'{"v": 1, "args": ["dial", "tel:+358\\n401234567"]}\n',
    b'{"v": 1, "args": ["dial", 5]}\n',
    b'{"v": 2, "args": []}\n',
    b'{"v": 1, "args": [], "exec": "rm -rf ~"}\n',
    b'["dial"]\n',
    b"\xff\xfe\n",
    b'{"v": 1, "args": ["' + b"x" * (MAX_MESSAGE + 10) + b'"]}\n',
    b"x" * (MAX_MESSAGE + 10),
], ids=["text", "newline-in-arg", "number-arg", "version", "extra-key", "list", "bad-utf8",
        "oversize-line", "no-newline"])
def test_untrusted_messages_are_refused(profile: Path, listener: Listener,
                                        junk: bytes) -> None:
    if sys.platform == "win32":  # pragma: no cover - named pipes, not Unix sockets
        pytest.skip("raw Unix socket client")
    assert _raw_send(str(listener.first["path"]), junk) == b""
    assert forward(profile, "after") == 0  # nothing was emitted for the junk
    assert listener.next_event() == {"event": "message", "args": ["after"]}
    assert "refused a message" in listener.stop()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_stale_socket_after_kill_is_cleaned_up(profile: Path) -> None:
    first = Listener(profile)
    path = Path(str(first.first["path"]))
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=10)
    first.stop()
    assert path.exists(), "a killed listener leaves its socket file behind"
    assert forward(profile, "dial", "tel:+358401234567") == 3  # connect fails, no hang

    second = Listener(profile)
    try:
        assert second.first["event"] == "listening"
        assert forward(profile, "dial", "sip:alice@example.com") == 0
        assert second.next_event()["args"] == ["dial", "sip:alice@example.com"]
    finally:
        err = second.stop()
    assert "stale instance socket" in err


def test_name_holds_user_and_profile_hash(tmp_path: Path) -> None:
    a, b = server_name(tmp_path / "a"), server_name(tmp_path / "b")
    assert a != b
    assert a == server_name(tmp_path / "x" / ".." / "a")
    if hasattr(os, "getuid"):
        assert a.startswith(f"switchboard-{os.getuid()}-")
    assert len(a) < 64


def test_messages_round_trip_and_are_checked_on_both_sides() -> None:
    assert decode_message(encode_message(["dial", "tel:+358401234567"])) == [
        "dial", "tel:+358401234567"]
    with pytest.raises(ValueError, match="control characters"):
        encode_message(["dial", "a\x00b"])
    with pytest.raises(ValueError, match="at most"):
        encode_message(["x"] * 100)


# -- `switchboard dial LINK` and a plain second start, through the launch helpers ---------

DIAL = r"""
import sys
from app.desktop.launch import dial_command
def start(target):
    print("STARTED", target.as_link(), flush=True)
    return 5
sys.exit(dial_command(sys.argv[2], sys.argv[1], "FI", start))
"""


def _dial(profile: Path, link: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", DIAL, str(profile), link], cwd=REPO,
                          env=_env(), capture_output=True, text=True, timeout=30)


def test_dial_is_forwarded_to_the_running_instance(profile: Path, listener: Listener) -> None:
    done = _dial(profile, "tel:040-1234567")
    assert done.returncode == 0, done.stderr
    assert "STARTED" not in done.stdout
    assert listener.next_event()["args"] == ["dial", "tel:+358401234567"]


def test_dial_starts_the_app_when_none_runs(profile: Path) -> None:
    done = _dial(profile, "callto://+358401234567")
    assert done.returncode == 5
    assert done.stdout.strip() == "STARTED tel:+358401234567"


def test_refused_link_is_never_forwarded(profile: Path, listener: Listener) -> None:
    done = _dial(profile, "sip:alice@example.com?Route=evil")
    assert done.returncode == 2
    assert "headers" in done.stderr
    assert forward(profile, "after") == 0
    assert listener.next_event()["args"] == ["after"]  # nothing came before it


def test_claim_instance_listens_first_then_forwards(profile: Path, qtbot: QtBot) -> None:
    from app.desktop.launch import claim_instance

    first = claim_instance(profile)
    assert first is not None and first.listening
    got: list[list[str]] = []
    first.message_received.connect(got.append)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys\nfrom app.desktop.launch import claim_instance\n"
             "sys.exit(0 if claim_instance(sys.argv[1]) is None else 1)", str(profile)],
            cwd=REPO, env=_env())
        # Our event loop must run to acknowledge the child's message.
        qtbot.waitUntil(lambda: child.poll() is not None, timeout=20000)
        assert child.returncode == 0
        assert got == [[]]  # a plain second start: "show the window"
    finally:
        first.close()
