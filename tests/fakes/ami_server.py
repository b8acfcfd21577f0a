"""A fake Asterisk Manager Interface: a real TCP server on 127.0.0.1 speaking the AMI wire format.

Follows the Asterisk 20 reference on docs.asterisk.org:
- "Asterisk 20 Manager Actions": Login, Logoff, Ping, QueueStatus, QueueSummary,
  QueuePause (Interface, Paused, [Queue], [Reason]), QueueAdd, QueueRemove;
- "Asterisk 20 Manager Events": QueueParams, QueueMember, QueueEntry (list events of
  QueueStatus, ended by QueueStatusComplete), QueueSummary (ended by QueueSummaryComplete),
  QueueMemberAdded/Removed/Status/Pause (Queue, MemberName, Interface, StateInterface,
  Membership, Penalty, CallsTaken, LastCall, LastPause, LoginTime, InCall, Status, Paused,
  PausedReason, Ringinuse, Wrapuptime), QueueCallerJoin/QueueCallerLeave (Queue, Position,
  Count, Uniqueid, CallerIDNum, ...).
Frames are `Key: Value` lines ending in CRLF, a blank line ends a frame, and the server
greets with `Asterisk Call Manager/<version>`. The docs page for the QueueParams event
lists its fields without `Queue:`; real Asterisk sends `Queue:` first and so do we.

Test controls (thread-safe): add_queue, caller_join/caller_leave, set_member_status,
send_raw (malformed frames), drop_clients, stop/start on the same port, actions (log).
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BANNER = b"Asterisk Call Manager/9.0.0\r\n"  # AMI version of Asterisk 20


@dataclass
class Member:
    interface: str
    name: str
    status: int = 1  # AST_DEVICE_NOT_INUSE
    paused: bool = False
    reason: str = ""
    in_call: int = 0


@dataclass
class Caller:
    uniqueid: str
    number: str
    joined: float


@dataclass
class Queue:
    name: str
    members: dict[str, Member] = field(default_factory=dict)
    callers: list[Caller] = field(default_factory=list)


def frame(**fields: object) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n"


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.logged_in = False

    def send(self, data: bytes) -> None:
        with self.lock, contextlib.suppress(OSError):
            self.sock.sendall(data)


class FakeAmiServer:
    def __init__(self, username: str = "switchboard", secret: str = "s3cret", *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.username, self.secret = username, secret
        self.clock = clock
        self.queues: dict[str, Queue] = {}
        self.actions: list[dict[str, str]] = []
        self.login_attempts = 0
        self._lock = threading.RLock()
        self._clients: list[_Client] = []
        self._listener: socket.socket | None = None
        self._ids = itertools.count(1000)
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeAmiServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))  # port 0 the first time, the same one after
        sock.listen(8)
        self.port = sock.getsockname()[1]
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True,
                         name="fake-ami-accept").start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every client (the PBX went away)."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self.drop_clients()

    def drop_clients(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for c in clients:
            with contextlib.suppress(OSError):
                c.sock.shutdown(socket.SHUT_RDWR)
            c.sock.close()

    @property
    def connected_clients(self) -> int:
        with self._lock:
            return sum(1 for c in self._clients if c.logged_in)

    # -- scenario controls ----------------------------------------------------------------

    def add_queue(self, name: str, members: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        with self._lock:
            q = self.queues.setdefault(name, Queue(name))
            for interface, member_name in members:
                q.members[interface] = Member(interface, member_name)

    def caller_join(self, queue: str, uniqueid: str, number: str = "+358401111111") -> None:
        with self._lock:
            q = self.queues[queue]
            q.callers.append(Caller(uniqueid, number, self.clock()))
            self._broadcast(frame(Event="QueueCallerJoin", Privilege="agent,all",
                                  Channel=f"PJSIP/trunk-{uniqueid}", CallerIDNum=number,
                                  CallerIDName="Caller", Uniqueid=uniqueid, Queue=queue,
                                  Position=len(q.callers), Count=len(q.callers)))

    def caller_leave(self, queue: str, uniqueid: str) -> None:
        with self._lock:
            q = self.queues[queue]
            pos = next(i for i, c in enumerate(q.callers) if c.uniqueid == uniqueid) + 1
            q.callers = [c for c in q.callers if c.uniqueid != uniqueid]
            self._broadcast(frame(Event="QueueCallerLeave", Privilege="agent,all",
                                  Channel=f"PJSIP/trunk-{uniqueid}", Uniqueid=uniqueid,
                                  Queue=queue, Position=pos, Count=len(q.callers)))

    def set_member_status(self, queue: str, interface: str, status: int,
                          in_call: int = 0) -> None:
        with self._lock:
            m = self.queues[queue].members[interface]
            m.status, m.in_call = status, in_call
            self._broadcast(self._member_frame("QueueMemberStatus", queue, m))

    def admin_pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """Pause a member from outside (a supervisor's console, the dialplan)."""
        with self._lock:
            for q in self.queues.values():
                m = q.members.get(interface)
                if m is not None:
                    m.paused, m.reason = paused, reason if paused else ""
                    self._broadcast(self._member_frame("QueueMemberPause", q.name, m))

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are to every logged-in client (for malformed frames)."""
        with self._lock:
            clients = [c for c in self._clients if c.logged_in]
        for c in clients:
            c.send(data)

    def member(self, queue: str, interface: str) -> Member | None:
        with self._lock:
            return self.queues.get(queue, Queue(queue)).members.get(interface)

    # -- the server -----------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            client = _Client(sock)
            with self._lock:
                self._clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name="fake-ami-client").start()

    def _serve(self, client: _Client) -> None:
        client.send(BANNER)
        buf = b""
        try:
            while True:
                data = client.sock.recv(4096)
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    raw, buf = buf.split(b"\r\n\r\n", 1)
                    action = {}
                    for line in raw.decode(errors="replace").split("\r\n"):
                        key, _, value = line.partition(":")
                        action[key.strip()] = value.strip()
                    self._handle(client, action)
        except OSError:
            return

    def _handle(self, client: _Client, action: dict[str, str]) -> None:
        name = action.get("Action", "").lower()
        aid = action.get("ActionID", "")
        with self._lock:
            self.actions.append(action)
        ids = {"ActionID": aid} if aid else {}
        if name == "login":
            self.login_attempts += 1
            if action.get("Username") == self.username and action.get("Secret") == self.secret:
                client.logged_in = True
                client.send(frame(Response="Success", **ids,
                                  Message="Authentication accepted"))
                client.send(frame(Event="FullyBooted", Privilege="system,all",
                                  Uptime=1, LastReload=1, Status="Fully Booted"))
            else:
                client.send(frame(Response="Error", **ids, Message="Authentication failed"))
            return
        if not client.logged_in:
            client.send(frame(Response="Error", **ids, Message="Permission denied"))
            return
        handler = {"ping": self._ping, "logoff": self._logoff, "queuestatus": self._status,
                   "queuesummary": self._summary, "queuepause": self._pause,
                   "queueadd": self._add, "queueremove": self._remove}.get(name)
        if handler is None:
            client.send(frame(Response="Error", **ids, Message="Invalid/unknown command"))
            return
        with self._lock:
            handler(client, action, ids)

    def _ping(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        client.send(frame(Response="Success", **ids, Ping="Pong", Timestamp=time.time()))

    def _logoff(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        client.send(frame(Response="Goodbye", **ids, Message="Thanks for all the fish."))

    def _status(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        client.send(frame(Response="Success", **ids, EventList="start",
                          Message="Queue status will follow"))
        items = 0
        now = self.clock()
        for q in self.queues.values():
            client.send(frame(Event="QueueParams", Queue=q.name, Max=0, Strategy="ringall",
                              Calls=len(q.callers), Holdtime=0, TalkTime=0, Completed=0,
                              Abandoned=0, ServiceLevel=60, ServicelevelPerf="0.0",
                              ServicelevelPerf2="0.0", Weight=0, **ids))
            items += 1
            for m in q.members.values():
                client.send(self._member_frame("QueueMember", q.name, m, ids))
                items += 1
            for pos, c in enumerate(q.callers, 1):
                client.send(frame(Event="QueueEntry", Queue=q.name, Position=pos,
                                  Channel=f"PJSIP/trunk-{c.uniqueid}", Uniqueid=c.uniqueid,
                                  CallerIDNum=c.number, CallerIDName="Caller",
                                  ConnectedLineNum="", ConnectedLineName="",
                                  Wait=int(now - c.joined), Priority=0, **ids))
                items += 1
        client.send(frame(Event="QueueStatusComplete", **ids, EventList="Complete",
                          ListItems=items))

    def _summary(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        client.send(frame(Response="Success", **ids, EventList="start",
                          Message="Queue summary will follow"))
        now = self.clock()
        for q in self.queues.values():
            logged = [m for m in q.members.values() if m.status not in (4, 5)]
            free = [m for m in logged if not m.paused and m.status in (0, 1)]
            longest = max((int(now - c.joined) for c in q.callers), default=0)
            client.send(frame(Event="QueueSummary", Queue=q.name, LoggedIn=len(logged),
                              Available=len(free), Callers=len(q.callers), HoldTime=0,
                              TalkTime=0, LongestHoldTime=longest, **ids))
        client.send(frame(Event="QueueSummaryComplete", **ids, EventList="Complete",
                          ListItems=len(self.queues)))

    def _pause(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        interface = action.get("Interface", "")
        paused = action.get("Paused", "").lower() in ("true", "1", "yes")
        queues = [self.queues[action["Queue"]]] if action.get("Queue") in self.queues else (
            [] if action.get("Queue") else list(self.queues.values()))
        hit = [q for q in queues if interface in q.members]
        if not hit:
            client.send(frame(Response="Error", **ids, Message="Interface not found"))
            return
        for q in hit:
            m = q.members[interface]
            m.paused, m.reason = paused, action.get("Reason", "") if paused else ""
            self._broadcast(self._member_frame("QueueMemberPause", q.name, m))
        client.send(frame(Response="Success", **ids, Message="Interface paused successfully"
                          if paused else "Interface unpaused successfully"))

    def _add(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        q = self.queues.get(action.get("Queue", ""))
        interface = action.get("Interface", "")
        if q is None:
            client.send(frame(Response="Error", **ids, Message="Unable to add interface to "
                              "queue: No such queue"))
            return
        if interface in q.members:
            client.send(frame(Response="Error", **ids, Message="Unable to add interface: "
                              "Already there"))
            return
        m = Member(interface, action.get("MemberName") or interface,
                   paused=action.get("Paused", "").lower() == "true")
        q.members[interface] = m
        self._broadcast(self._member_frame("QueueMemberAdded", q.name, m))
        client.send(frame(Response="Success", **ids, Message="Added interface to queue"))

    def _remove(self, client: _Client, action: dict[str, str], ids: dict[str, str]) -> None:
        q = self.queues.get(action.get("Queue", ""))
        interface = action.get("Interface", "")
        if q is None or interface not in q.members:
            client.send(frame(Response="Error", **ids, Message="Unable to remove interface: "
                              "Not there"))
            return
        m = q.members.pop(interface)
        self._broadcast(self._member_frame("QueueMemberRemoved", q.name, m))
        client.send(frame(Response="Success", **ids, Message="Removed interface from queue"))

    def _member_frame(self, event: str, queue: str, m: Member,
                      ids: dict[str, str] | None = None) -> bytes:
        return frame(Event=event, Privilege="agent,all", Queue=queue, MemberName=m.name,
                     Interface=m.interface, StateInterface=m.interface, Membership="dynamic",
                     Penalty=0, CallsTaken=0, LastCall=0, LastPause=0, LoginTime=0,
                     InCall=m.in_call, Status=m.status, Paused=int(m.paused),
                     PausedReason=m.reason, Ringinuse=0, Wrapuptime=0, **(ids or {}))

    def _broadcast(self, data: bytes) -> None:
        for c in [c for c in self._clients if c.logged_in]:
            c.send(data)
