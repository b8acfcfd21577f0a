"""Enreach Voice (formerly Benemen / BeneVoice) through its REST API, "EnreachAPI".

Follows https://doc.enreachvoice.com/beneapi/ (EnreachAPI, formerly BeneAPI):
- Service discovery: `GET {discovery}/api/user?user=<e-mail>` answers a list whose items
  carry `apiEndpoint` (with or without a trailing slash).
- Authentication: HTTP Basic with the user name and the API secret key; requests send
  `Accept`/`Content-Type: application/json` and `X-Json-Serializer: 2`.
- `GET users/me` answers the user, with `Id` and `OrganizationID`.
- `GET queues` answers queues with `Id`, `Name`, `Numbers`, `TypeId` and a `Status` object
  (`ServingAgents`, `FreeAgents`, `OngoingCalls`, `QueueLength`, `MaxWaitTime`,
  `AgentsOnWrapUp`, `OpenStatus`) — the "queue information" section, as used by the
  public enreachvoice Python client; we read only these fields.

NOT IN THE DOCUMENTATION WE COULD READ (each marked `UNDOCUMENTED` below, kept in `PATHS`
so a reader with the full reference can correct them in one place): the agent's queue
membership and join/leave, setting availability, listing and closing callback requests,
and the shape of error bodies (we accept JSON `Message` or plain text).

One thread polls every `poll_seconds` and runs queued commands; one `requests.Session`,
a timeout on every request. 401/403 stop with "credentials refused"; network errors,
5xx and 429 keep the commands queued and retry with backoff.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import requests

from app.contactcenter.base import BackendBase, DesiredAvailability
from app.contactcenter.base import backoff as backoff_delay
from app.core.availability import StatusType
from app.core.callbacks import CallbackRequest
from app.core.contactcenter import BackendState, BackendUnavailable, CallbacksChanged, QueueStatus

log = logging.getLogger(__name__)

HEADERS = {"Accept": "application/json", "Content-Type": "application/json",
           "X-Json-Serializer": "2", "User-Agent": "Switchboard"}
SERVICE_QUEUE_TYPES = {4}  # TypeId 4 = ServiceQueue ("queue information" in the docs)

PATHS = {
    "discovery": "api/user",  # documented
    "me": "users/me",  # documented
    "queues": "queues",  # documented (queue information)
    # UNDOCUMENTED: which queues the agent serves, and switching one on or off.
    "my_queues": "users/{user}/queues",
    "my_queue": "users/{user}/queues/{queue}",
    # UNDOCUMENTED: the availability endpoint and its body (we send EventType + Note).
    "availability": "users/{user}/availability",
    # UNDOCUMENTED: callback request list and closing one with a note.
    "callbacks": "callbacks",
    "close_callback": "callbacks/{id}/close",
}
# UNDOCUMENTED: the names of availability types in the API; these are our own.
EVENT_TYPES = {StatusType.AVAILABLE: "Available", StatusType.BUSY: "Busy",
               StatusType.DND: "DND", StatusType.OFFWORK: "OffWork"}


class _Refused(Exception):
    pass


class _Retry(Exception):
    pass


def _error_text(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:200] or resp.reason
    if isinstance(body, dict):
        return str(body.get("Message") or body.get("message") or body)[:200]
    return str(body)[:200]


Command = Callable[[], None]


class EnreachContactCenter(BackendBase):
    def __init__(self, user: str, secret: str, *, discovery_url: str, api_url: str = "",
                 poll_seconds: float = 5.0, timeout: float = 10.0, backoff_first: float = 2.0,
                 backoff_max: float = 120.0, session: requests.Session | None = None) -> None:
        super().__init__()
        self._user, self._secret = user, secret
        self._discovery = discovery_url.rstrip("/")
        self._api = api_url.rstrip("/")
        self._poll = poll_seconds
        self._timeout = timeout
        self._backoff = (backoff_first, backoff_max)
        self._session = session or requests.Session()
        self._session.headers.update(HEADERS)
        self._session.auth = (user, secret)
        self._http_lock = threading.Lock()  # a Session is not promised to be thread-safe
        self._user_id = ""
        self._commands: queue.Queue[Command] = queue.Queue()
        self._head: Command | None = None  # a command that failed and will be retried
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._callback_ids: frozenset[str] = frozenset()

    # -- the ContactCenter protocol ------------------------------------------------------------

    def connect(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="enreach")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 5)
        self._session.close()
        self._set_status(BackendState.CLOSED)

    def join(self, queue_name: str) -> None:
        self._enqueue(lambda: self._set_queue_active(queue_name, True))

    def leave(self, queue_name: str) -> None:
        self._enqueue(lambda: self._set_queue_active(queue_name, False))

    def set_availability(self, type: StatusType, name: str, reason: str = "") -> None:
        self._desired = DesiredAvailability(type, name, reason)
        self._enqueue(self._send_desired)

    def callback_requests(self) -> list[CallbackRequest]:
        return [self._callback(c) for c in self._call_now("GET", PATHS["callbacks"]) or []]

    def close_callback(self, request_id: str, note: str) -> None:
        self._call_now("POST", PATHS["close_callback"].format(id=request_id), {"Note": note})

    def _call_now(self, method: str, path: str, body: Any = None) -> Any:
        """A request from another thread: fails fast with BackendUnavailable when down."""
        if self._status.state is not BackendState.CONNECTED:
            raise BackendUnavailable(self._status.message or "Enreach is not connected")
        try:
            return self._request(method, path, body)
        except (_Retry, _Refused) as exc:
            self._wake.set()  # let the thread find out and report it
            raise BackendUnavailable(str(exc)) from exc

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                if self._status.state is not BackendState.CONNECTED:
                    self._set_status(BackendState.CONNECTING, self._user)
                    self._sign_in()
                    self._set_status(BackendState.CONNECTED, self._api)
                    if self._desired is not None:  # what the agent chose while we were away
                        self._send_desired()
                self._run_commands()
                self._refresh()
                attempt = 0
                delay = self._poll
            except _Refused as exc:
                self._set_status(BackendState.CREDENTIALS_REFUSED,
                                 f"Enreach refused user {self._user!r}: {exc}")
                return
            except _Retry as exc:
                delay = backoff_delay(attempt, *self._backoff)
                attempt += 1
                self._set_status(BackendState.UNREACHABLE, str(exc), delay)
            self._wake.wait(delay)
            self._wake.clear()

    def _sign_in(self) -> None:
        if not self._api:
            found = self._request("GET", f"{self._discovery}/{PATHS['discovery']}",
                                  params={"user": self._user}, absolute=True)
            if not isinstance(found, list) or not found or "apiEndpoint" not in found[0]:
                raise _Refused(f"service discovery does not know {self._user!r}")
            self._api = str(found[0]["apiEndpoint"]).rstrip("/")
        me = self._get(PATHS["me"])
        self._user_id = str((me or {}).get("Id", ""))

    def _run_commands(self) -> None:
        while True:
            if self._head is None:
                try:
                    self._head = self._commands.get_nowait()
                except queue.Empty:
                    return
            self._head()  # raises _Retry and stays at the head: nothing lost
            self._head = None

    def _refresh(self) -> None:
        queues = self._get(PATHS["queues"]) or []
        mine = self._get(PATHS["my_queues"].format(user=self._user_id)) or []
        active = {str(m.get("QueueId")) for m in mine if m.get("Active")}
        rows: dict[str, QueueStatus] = {}
        for q in queues:
            status = q.get("Status")
            if not isinstance(status, dict) or q.get("TypeId") not in SERVICE_QUEUE_TYPES:
                continue
            numbers = q.get("Numbers") or []
            qid = str(q.get("Id", ""))
            rows[qid] = QueueStatus(
                name=str(q.get("Name", qid)), number=str(numbers[0]) if numbers else "",
                serving=int(status.get("ServingAgents") or 0),
                free=int(status.get("FreeAgents") or 0), active=qid in active,
                active_calls=int(status.get("OngoingCalls") or 0),
                queue_length=int(status.get("QueueLength") or 0),
                max_wait_seconds=int(status.get("MaxWaitTime") or 0), id=qid)
        self._publish_rows(rows)
        callbacks = [self._callback(c) for c in self._get(PATHS["callbacks"]) or []]
        ids = frozenset(c.id for c in callbacks)
        if ids != self._callback_ids:
            self._callback_ids = ids
            self._emit(CallbacksChanged(tuple(callbacks)))

    # -- commands ------------------------------------------------------------------------------

    def _enqueue(self, command: Command) -> None:
        self._commands.put(command)
        self._wake.set()

    def _send_desired(self) -> None:
        d = self._desired
        if d is None:
            return
        note = f"{d.name}: {d.reason}" if d.reason else d.name
        self._request("POST", PATHS["availability"].format(user=self._user_id),
                      {"EventType": EVENT_TYPES[d.type], "Note": note})

    def _set_queue_active(self, queue_name: str, on: bool) -> None:
        qid = next((q.id for q in self._rows.values() if q.name == queue_name or
                    q.id == queue_name), queue_name)
        self._request("PUT", PATHS["my_queue"].format(user=self._user_id, queue=qid),
                      {"Active": on})

    # -- HTTP ----------------------------------------------------------------------------------

    def _get(self, path: str) -> Any:
        return self._request("GET", path)

    def _request(self, method: str, path: str, body: Any = None, *,
                 params: dict[str, str] | None = None, absolute: bool = False) -> Any:
        url = path if absolute else f"{self._api}/{path}"
        try:
            with self._http_lock:
                resp = self._session.request(method, url, json=body, params=params,
                                             timeout=self._timeout)
        except requests.RequestException as exc:
            raise _Retry(f"no connection to Enreach: {type(exc).__name__}") from exc
        if resp.status_code in (401, 403):
            raise _Refused(_error_text(resp))
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Retry(f"Enreach API error {resp.status_code}: {_error_text(resp)}")
        if resp.status_code >= 400:  # this request is wrong; retrying will not help
            log.warning("Enreach %s %s refused (%s): %s", method, path, resp.status_code,
                        _error_text(resp))
            return None
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise _Retry(f"Enreach answered something that is not JSON ({exc})") from exc

    @staticmethod
    def _callback(item: dict[str, Any]) -> CallbackRequest:
        # UNDOCUMENTED field names (the callback list section was not available to us).
        raw_time = str(item.get("CreatedTime") or "")
        try:
            when = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        except ValueError:
            when = datetime.now(timezone.utc)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return CallbackRequest(id=str(item.get("Id", "")), queue=str(item.get("QueueName", "")),
                               requested_at=when, number=str(item.get("ContactNumber", "")),
                               recording_url=str(item.get("RecordingUrl") or ""),
                               message=str(item.get("Note") or ""))


__all__ = ["EVENT_TYPES", "PATHS", "EnreachContactCenter"]
