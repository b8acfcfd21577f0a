"""Asterisk queues over the Manager Interface (AMI): status, pause/unpause, join/leave.

One background thread owns the TCP connection: it logs in, asks QueueStatus and
QueueSummary for a full picture, then keeps it live from member and caller events
(QueueMemberStatus/Pause/Added/Removed, QueueCallerJoin/Leave). Commands from other
threads are queued to it. Every action carries an ActionID so list responses are matched
to their request. A malformed frame is logged and skipped. A lost connection is retried
with backoff and the agent's availability is re-applied once logged in again; refused
credentials stop the retries and say so. Field names follow docs.asterisk.org "Asterisk 20
Manager Actions/Events" (see tests/fakes/ami_server.py).

Availability maps onto QueuePause on every queue of our interface: DND and OffWork pause
with the status name as Reason, Available and Busy unpause. Asterisk has no callback
request list, so `callback_requests()` is always empty.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable

from app.contactcenter.base import BackendBase, DesiredAvailability
from app.contactcenter.base import backoff as backoff_delay
from app.core.availability import StatusType
from app.core.callbacks import CallbackRequest
from app.core.contactcenter import BackendState, QueueStatus, RemoteAvailabilityChanged

log = logging.getLogger(__name__)

Frame = dict[str, str]
MAX_FRAME_BYTES = 64 * 1024  # a frame longer than this is garbage: drop it
_LOGGED_OUT = (4, 5)  # AST_DEVICE_INVALID, AST_DEVICE_UNAVAILABLE
_FREE = (0, 1)  # AST_DEVICE_UNKNOWN, AST_DEVICE_NOT_INUSE (what Asterisk counts Available)
_ON_CALL = (2, 3, 7, 8)  # INUSE, BUSY, RINGINUSE, ONHOLD
_PAUSING = (StatusType.DND, StatusType.OFFWORK)


class _AuthRefused(Exception):
    pass


class _Lost(Exception):
    pass


def _int(frame: Frame, key: str) -> int:
    try:
        return int(frame.get(key, "0") or 0)
    except ValueError:
        log.warning("AMI: %s=%r is not a number (skipped)", key, frame.get(key))
        return 0


class FrameReader:
    """Splits the AMI byte stream into frames; tolerant of junk, never raises on content."""

    def __init__(self) -> None:
        self._buf = b""
        self._lines: list[str] = []
        self.banner: str | None = None
        self.skipped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while b"\n" in self._buf:
            raw, self._buf = self._buf.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
            if self.banner is None:
                self.banner = line
                if not line.startswith("Asterisk Call Manager"):
                    log.warning("AMI: unexpected greeting %r", line[:80])
                continue
            if line == "":
                if self._lines:
                    frame = self._parse(self._lines)
                    self._lines = []
                    if frame is not None:
                        frames.append(frame)
                continue
            self._lines.append(line)
        if len(self._buf) > MAX_FRAME_BYTES or sum(map(len, self._lines)) > MAX_FRAME_BYTES:
            log.warning("AMI: frame over %d bytes dropped", MAX_FRAME_BYTES)
            self._buf, self._lines = b"", []
            self.skipped += 1
        return frames

    def _parse(self, lines: list[str]) -> Frame | None:
        frame: Frame = {}
        for line in lines:
            key, sep, value = line.partition(":")
            if not sep or not key.strip() or " " in key.strip():
                log.warning("AMI: malformed line %r skipped", line[:80])
                continue
            frame.setdefault(key.strip(), value.strip())
        if "Response" not in frame and "Event" not in frame:
            log.warning("AMI: frame without Response or Event skipped: %r", lines[:3])
            self.skipped += 1
            return None
        return frame


def encode(action: str, fields: dict[str, str]) -> bytes:
    lines = [f"Action: {action}"]
    for key, value in fields.items():
        clean = str(value).replace("\r", " ").replace("\n", " ")  # no header injection
        lines.append(f"{key}: {clean}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AmiContactCenter(BackendBase):
    def __init__(self, host: str, port: int, username: str, secret: str, interface: str, *,
                 member_name: str = "", queue_numbers: dict[str, str] | None = None,
                 poll_seconds: float = 5.0, connect_timeout: float = 5.0,
                 backoff_first: float = 1.0, backoff_max: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._addr = (host, port)
        self._username, self._secret = username, secret
        self._interface, self._member_name = interface, member_name or interface
        self._numbers = dict(queue_numbers or {})
        self._poll = poll_seconds
        self._timeout = connect_timeout
        self._backoff = (backoff_first, backoff_max)
        self._clock = clock
        self._commands: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, str] = {}  # ActionID → action name
        # The model: per queue, members by interface and callers by Uniqueid (join time).
        self._members: dict[str, dict[str, Frame]] = {}
        self._callers: dict[str, dict[str, float]] = {}
        self._summary: dict[str, Frame] = {}
        self._snapshot: tuple[str, dict[str, dict[str, Frame]],
                              dict[str, dict[str, float]]] | None = None

    # -- the ContactCenter protocol ------------------------------------------------------------

    def connect(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ami")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._set_status(BackendState.CLOSED)

    def join(self, queue_name: str) -> None:
        self._commands.put(("QueueAdd", {"Queue": queue_name, "Interface": self._interface,
                                         "MemberName": self._member_name,
                                         "Paused": self._paused_text()}))

    def leave(self, queue_name: str) -> None:
        self._commands.put(("QueueRemove", {"Queue": queue_name,
                                            "Interface": self._interface}))

    def set_availability(self, type: StatusType, name: str, reason: str = "") -> None:
        self._desired = DesiredAvailability(type, name, reason)
        self._commands.put(self._pause_command(self._desired))

    def callback_requests(self) -> list[CallbackRequest]:
        return []  # Asterisk queues have no callback-request list

    def close_callback(self, request_id: str, note: str) -> None:
        raise LookupError("Asterisk has no callback requests to close")

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._set_status(BackendState.CONNECTING, f"{self._addr[0]}:{self._addr[1]}")
            try:
                sock = socket.create_connection(self._addr, timeout=self._timeout)
            except OSError as exc:
                delay = backoff_delay(attempt, *self._backoff)
                self._set_status(BackendState.UNREACHABLE, f"no connection to "
                                 f"{self._addr[0]}:{self._addr[1]}: {exc.strerror or exc}",
                                 delay)
                attempt += 1
                self._stop.wait(delay)
                continue
            self._sock = sock
            try:
                self._session(sock)
            except _AuthRefused as exc:
                self._set_status(BackendState.CREDENTIALS_REFUSED,
                                 f"The phone system refused user {self._username!r}: {exc}")
                return
            except (_Lost, OSError) as exc:
                if self._stop.is_set():
                    return
                attempt = 0 if self._status.state is BackendState.CONNECTED else attempt + 1
                delay = backoff_delay(attempt, *self._backoff)
                self._set_status(BackendState.UNREACHABLE, f"connection to "
                                 f"{self._addr[0]}:{self._addr[1]} lost: {exc}", delay)
                attempt += 1
                self._stop.wait(delay)
            finally:
                self._sock = None
                sock.close()

    def _session(self, sock: socket.socket) -> None:
        reader = FrameReader()
        sock.settimeout(0.2)
        self._send(sock, "Login", {"Username": self._username, "Secret": self._secret,
                                   "Events": "agent"})
        next_poll = self._clock() + self._poll
        while not self._stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                data = None
            if data == b"":
                raise _Lost("closed by the server")
            for frame in reader.feed(data or b""):
                self._on_frame(sock, frame)
            if self._status.state is BackendState.CONNECTED:
                while True:
                    try:
                        action, fields = self._commands.get_nowait()
                    except queue.Empty:
                        break
                    self._send(sock, action, fields)
                if self._clock() >= next_poll:
                    next_poll = self._clock() + self._poll
                    self._refresh(sock)
                    self._recompute()

    def _send(self, sock: socket.socket, action: str, fields: dict[str, str]) -> None:
        aid = f"sb-{next(self._ids)}"
        self._pending[aid] = action
        sock.sendall(encode(action, {"ActionID": aid, **fields}))

    def _refresh(self, sock: socket.socket) -> None:
        self._send(sock, "QueueStatus", {})
        self._send(sock, "QueueSummary", {})

    # -- frames ----------------------------------------------------------------------------------

    def _on_frame(self, sock: socket.socket, frame: Frame) -> None:
        aid = frame.get("ActionID", "")
        if "Response" in frame:
            action = self._pending.pop(aid, "") if frame.get("EventList") != "start" else \
                self._pending.get(aid, "")
            self._on_response(sock, action, aid, frame)
            return
        event = frame.get("Event", "")
        handler = getattr(self, f"_ev_{event}", None)
        if handler is None:
            return  # events we do not use (FullyBooted, Newchannel, …)
        try:
            handler(frame, aid)
        except Exception:  # one odd event must not take the connection down
            log.exception("AMI: %s event could not be used: %r", event, frame)

    def _on_response(self, sock: socket.socket, action: str, aid: str, frame: Frame) -> None:
        ok = frame["Response"] == "Success"
        if action == "Login":
            if not ok:
                raise _AuthRefused(frame.get("Message", "authentication failed"))
            self._set_status(BackendState.CONNECTED, f"{self._addr[0]}:{self._addr[1]}")
            self._refresh(sock)
            if self._desired is not None:  # what the agent chose while we were away
                self._send(sock, *self._pause_command(self._desired))
        elif action == "QueueStatus" and ok:
            self._snapshot = (aid, {}, {})
        elif not ok:
            log.warning("AMI: %s refused: %s", action or "action", frame.get("Message", ""))

    def _ev_QueueParams(self, f: Frame, aid: str) -> None:
        if self._snapshot and self._snapshot[0] == aid:
            self._snapshot[1].setdefault(f["Queue"], {})
            self._snapshot[2].setdefault(f["Queue"], {})

    def _ev_QueueMember(self, f: Frame, aid: str) -> None:
        if self._snapshot and self._snapshot[0] == aid:
            self._snapshot[1].setdefault(f["Queue"], {})[f["Interface"]] = f

    def _ev_QueueEntry(self, f: Frame, aid: str) -> None:
        if self._snapshot and self._snapshot[0] == aid:
            joined = self._clock() - _int(f, "Wait")
            self._snapshot[2].setdefault(f["Queue"], {})[f["Uniqueid"]] = joined

    def _ev_QueueStatusComplete(self, f: Frame, aid: str) -> None:
        if self._snapshot and self._snapshot[0] == aid:
            _, members, callers = self._snapshot
            self._snapshot = None
            self._pending.pop(aid, None)
            self._members, self._callers = members, callers
            self._recompute()

    def _ev_QueueSummary(self, f: Frame, aid: str) -> None:
        self._summary[f["Queue"]] = f

    def _ev_QueueSummaryComplete(self, f: Frame, aid: str) -> None:
        self._pending.pop(aid, None)
        self._recompute()

    def _ev_QueueMemberStatus(self, f: Frame, aid: str) -> None:
        self._members.setdefault(f["Queue"], {})[f["Interface"]] = f
        self._recompute()

    def _ev_QueueMemberPause(self, f: Frame, aid: str) -> None:
        self._ev_QueueMemberStatus(f, aid)
        if f["Interface"] != self._interface:
            return
        paused = f.get("Paused") == "1"
        our_pause_in_flight = "QueuePause" in self._pending.values()
        if not our_pause_in_flight and paused != (self._paused_text() == "true"):
            # Someone else (an admin, the dialplan) paused or unpaused us. A pause only stops
            # queue calls, which is what OffWork means; the reason names the status.
            reason = f.get("PausedReason", "")
            self._emit(RemoteAvailabilityChanged(
                StatusType.OFFWORK if paused else StatusType.AVAILABLE,
                reason.split(":")[0] if paused and reason else "", reason))

    _ev_QueueMemberAdded = _ev_QueueMemberStatus

    def _ev_QueueMemberRemoved(self, f: Frame, aid: str) -> None:
        self._members.get(f["Queue"], {}).pop(f["Interface"], None)
        self._recompute()

    def _ev_QueueCallerJoin(self, f: Frame, aid: str) -> None:
        self._callers.setdefault(f["Queue"], {})[f["Uniqueid"]] = self._clock()
        self._recompute()

    def _ev_QueueCallerLeave(self, f: Frame, aid: str) -> None:
        self._callers.get(f["Queue"], {}).pop(f["Uniqueid"], None)
        self._recompute()

    # -- the rows --------------------------------------------------------------------------------

    def _recompute(self) -> None:
        now = self._clock()
        rows: dict[str, QueueStatus] = {}
        for name in set(self._members) | set(self._callers) | set(self._summary):
            members = self._members.get(name, {}).values()
            statuses = [(_int(m, "Status"), m.get("Paused") == "1") for m in members]
            waits = [now - t for t in self._callers.get(name, {}).values()]
            rows[name] = QueueStatus(
                name=name, number=self._numbers.get(name, ""),
                serving=sum(1 for s, _ in statuses if s not in _LOGGED_OUT),
                free=sum(1 for s, p in statuses if s in _FREE and not p),
                active=self._interface in self._members.get(name, {}),
                active_calls=sum(1 for s, _ in statuses if s in _ON_CALL),
                queue_length=len(waits), max_wait_seconds=int(max(waits, default=0)))
        self._publish_rows(rows)

    def _paused_text(self) -> str:
        d = self._desired
        return "true" if d is not None and d.type in _PAUSING else "false"

    def _pause_command(self, d: DesiredAvailability) -> tuple[str, dict[str, str]]:
        fields = {"Interface": self._interface, "Paused": self._paused_text()}
        if d.type in _PAUSING:
            fields["Reason"] = f"{d.name}: {d.reason}" if d.reason else d.name
        return "QueuePause", fields


__all__ = ["AmiContactCenter", "FrameReader", "encode"]
