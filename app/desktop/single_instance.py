"""One Switchboard per user and profile: a second start hands its arguments to the first.

The running instance listens on a `QLocalServer` whose name holds the user id and a hash
of the profile directory, so two users on one machine, or two profiles of one user (the
tests use many), never meet. A second `switchboard` (or `switchboard dial tel:...` from a
browser) connects, writes one JSON line `{"v": 1, "args": [...]}`, waits for `ok`, and
exits 0. The receiver treats the line as untrusted input: it is size-limited, must be
valid JSON of exactly that shape, and every argument is checked for length and control
characters before `message_received` is emitted. What the arguments mean is decided by
the receiver (see `app/desktop/launch.py`), never here.

A listener killed with SIGKILL leaves its Unix socket file behind. `listen()` first
tries to connect; only when nobody answers does it remove the stale socket
(`QLocalServer.removeServer`) and listen. Two starts in the same few milliseconds can
still both listen (the later socket replaces the earlier); the earlier one then simply
receives nothing. (Pattern from qutebrowser `misc/ipc.py`.)
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import sys
import unicodedata
from pathlib import Path

from PySide6.QtCore import QByteArray, QDir, QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
MAX_MESSAGE = 16 * 1024  # bytes of one JSON line, newline included
MAX_ARGS = 16
MAX_ARG = 1024
CONNECT_TIMEOUT_MS = 1000
ACK_TIMEOUT_MS = 3000
CLIENT_IDLE_MS = 5000  # a connected client that sends nothing whole is dropped
ACK = b"ok\n"


class AnotherInstanceRunning(RuntimeError):
    """`listen()` found a live instance on our name; forward to it instead."""


def _user_id() -> str:
    if hasattr(os, "getuid"):
        return str(os.getuid())
    try:
        user = getpass.getuser()
    except Exception:  # getuser raises different errors per platform
        user = "user"
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:8]


def server_name(profile_dir: Path | str) -> str:
    """`switchboard-<uid>-<hash of the resolved profile dir>`; short enough for sun_path."""
    resolved = str(Path(profile_dir).expanduser().resolve())
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"switchboard-{_user_id()}-{digest}"


def encode_message(args: list[str]) -> bytes:
    """One JSON line; raises ValueError when it would be refused by the receiver."""
    data = (json.dumps({"v": PROTOCOL_VERSION, "args": list(args)}, ensure_ascii=True)
            + "\n").encode("ascii")
    decode_message(data)  # the sender checks the same rules, so it fails loudly here
    return data


def decode_message(line: bytes) -> list[str]:
    """Parse and validate one received line; ValueError on anything unexpected."""
    if len(line) > MAX_MESSAGE:
        raise ValueError(f"message longer than {MAX_MESSAGE} bytes")
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON line ({exc})") from None
    if not isinstance(data, dict) or set(data) != {"v", "args"}:
        raise ValueError("expected an object with exactly 'v' and 'args'")
    if data["v"] != PROTOCOL_VERSION:
        raise ValueError(f"unsupported protocol version {data['v']!r}")
    args = data["args"]
    if not isinstance(args, list) or len(args) > MAX_ARGS:
        raise ValueError(f"'args' must be a list of at most {MAX_ARGS} strings")
    for arg in args:
        if not isinstance(arg, str) or len(arg) > MAX_ARG:
            raise ValueError(f"every argument must be text of at most {MAX_ARG} characters")
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in arg):
            raise ValueError("an argument contains control characters")
    return list(args)


class SingleInstance(QObject):
    """Claim the per-user, per-profile instance name, or hand arguments to its owner."""

    message_received = Signal(list)  # list[str], already validated

    def __init__(self, profile_dir: Path | str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(profile_dir)
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, QByteArray] = {}

    # -- the second instance ---------------------------------------------------------

    def try_forward(self, args: list[str], timeout_ms: int = ACK_TIMEOUT_MS) -> bool:
        """Send `args` to a running instance. True: it acknowledged them; False: none runs.

        Needs no event loop (blocking socket calls), so `switchboard dial` can call it
        before creating a QApplication.
        """
        payload = encode_message(args)
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            log.debug("no instance on %s: %s", self.name, socket.errorString())
            return False
        socket.write(payload)
        socket.flush()
        acked = False
        reply = b""
        while socket.waitForReadyRead(timeout_ms):
            reply += bytes(socket.readAll().data())
            if reply.endswith(b"\n") or len(reply) > 64:
                break
        acked = reply == ACK
        if not acked and socket.bytesAvailable():
            reply += bytes(socket.readAll().data())
            acked = reply == ACK
        socket.disconnectFromServer()
        if not acked:
            log.warning("instance on %s did not acknowledge (%r): %s", self.name, reply,
                        socket.errorString())
        return acked

    # -- the first instance ----------------------------------------------------------

    def listen(self) -> None:
        """Start listening; removes a stale socket; raises AnotherInstanceRunning."""
        # Ask first: with socket options set, Qt binds in a temporary directory and
        # renames the socket into place, which would silently replace a live instance's
        # socket instead of failing with AddressInUseError.
        if self._someone_answers():
            raise AnotherInstanceRunning(self.name)
        stale = self._socket_file()
        if stale is not None and stale.exists():
            log.info("removing a stale instance socket %s (left by a crash)", stale)
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        # Only our own user may connect (on Unix Qt sets the socket's mode to 0700).
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.setMaxPendingConnections(8)
        if not server.listen(self.name):
            server.deleteLater()
            if server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
                raise AnotherInstanceRunning(self.name)  # lost a race with another start
            raise OSError(f"cannot listen on {self.name}: {server.errorString()}")
        server.newConnection.connect(self._on_new_connection)
        self._server = server
        log.info("listening for other instances on %s", server.fullServerName())

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def _socket_file(self) -> Path | None:
        """Where Qt puts the socket on Unix (a relative name goes to the temp dir)."""
        if sys.platform == "win32":
            return None  # a named pipe: nothing is left behind by a crash
        return Path(QDir.tempPath()) / self.name

    def _someone_answers(self) -> bool:
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        alive = probe.waitForConnected(CONNECT_TIMEOUT_MS)
        probe.abort()
        return alive

    def _on_new_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if socket is None:
                break
            self._buffers[socket] = QByteArray()
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            QTimer.singleShot(CLIENT_IDLE_MS, socket, lambda s=socket: self._drop_idle(s))
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        buffer = self._buffers.get(socket)
        if buffer is None:
            return
        buffer.append(socket.read(MAX_MESSAGE + 1 - buffer.size()))
        newline = buffer.indexOf(b"\n")
        if newline < 0:
            if buffer.size() > MAX_MESSAGE:
                self._drop(socket, f"message longer than {MAX_MESSAGE} bytes")
            return
        line = bytes(buffer.left(newline + 1).data())
        self._buffers.pop(socket, None)
        try:
            args = decode_message(line)
        except ValueError as exc:
            self._drop(socket, str(exc))
            return
        socket.write(ACK)
        socket.flush()
        socket.disconnectFromServer()
        log.info("another start handed over %d argument(s)", len(args))
        self.message_received.emit(args)

    def _drop(self, socket: QLocalSocket, why: str) -> None:
        self._buffers.pop(socket, None)
        log.warning("refused a message from another process: %s", why)
        socket.abort()

    def _drop_idle(self, socket: QLocalSocket) -> None:
        if socket in self._buffers:
            self._drop(socket, "it sent no complete message in time")

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()
