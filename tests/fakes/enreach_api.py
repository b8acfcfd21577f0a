"""A fake Enreach Voice REST API ("EnreachAPI", formerly BeneAPI) on 127.0.0.1, over real HTTP.

Follows https://doc.enreachvoice.com/beneapi/ where we could read it:
- service discovery `GET /api/user?user=<e-mail>` → `[{"siloName", "username",
  "apiEndpoint", "uiEndpoint", "authority", "authorityIdPHint", ...}]`, apiEndpoint with a
  trailing slash as in the documented example;
- HTTP Basic with user name and API secret key; `GET users/me` → `{"Id", "OrganizationID",
  ...}`;
- `GET queues` → `[{"Id", "Name", "TypeId", "Numbers", "Status": {"OpenStatus",
  "MaxWaitTime", "QueueLength", "OngoingCalls", "AgentsOnWrapUp", "FreeAgents",
  "ServingAgents"}}]` ("queue information"; TypeId 4 is a service queue).
UNDOCUMENTED here (our guesses, mirrored from app/contactcenter/enreach.py `PATHS`):
`users/{id}/queues` (+ PUT `{"Active"}`), `users/{id}/availability` (POST `{"EventType",
"Note"}`), `callbacks` and `callbacks/{id}/close` (POST `{"Note"}`), and error bodies as
JSON `{"Message": ...}` (the ASP.NET Web API default shape).

Test controls: set_queue_status, add_callback, fail_next (status + body), stop/start on the
same port, requests (a log of (method, path, body)).
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

USER_ID = "7d1c6f2e-0000-4000-8000-000000000001"
ORG_ID = "7d1c6f2e-0000-4000-8000-0000000000aa"
API_ROOT = "/api-sedna"


class FakeEnreachApi:
    def __init__(self, user: str = "agent@example.com", secret: str = "api-secret") -> None:
        self.user, self.secret = user, secret
        self.port = 0
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, Any]] = []
        self.failures: list[tuple[int, str]] = []
        self.queues: dict[str, dict[str, Any]] = {}
        self.active: dict[str, bool] = {}
        self.availability: list[dict[str, Any]] = []
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.closed_callbacks: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- controls ------------------------------------------------------------------------------

    def add_queue(self, qid: str, name: str, number: str, *, active: bool = False,
                  type_id: int = 4, **status: int) -> None:
        with self.lock:
            self.queues[qid] = {"Id": qid, "Name": name, "TypeId": type_id,
                                "Numbers": [number], "Status": {
                                    "OpenStatus": 5, "MaxWaitTime": 0, "QueueLength": 0,
                                    "OngoingCalls": 0, "AgentsOnWrapUp": 0, "FreeAgents": 0,
                                    "ServingAgents": 0}}
            self.queues[qid]["Status"].update(status)
            self.active[qid] = active

    def set_queue_status(self, qid: str, **status: int) -> None:
        with self.lock:
            self.queues[qid]["Status"].update(status)

    def add_callback(self, cid: str, queue: str, number: str, created: str,
                     note: str = "", recording: str = "") -> None:
        with self.lock:
            self.callbacks[cid] = {"Id": cid, "QueueName": queue, "ContactNumber": number,
                                   "CreatedTime": created, "Note": note,
                                   "RecordingUrl": recording}

    def fail_next(self, status: int, body: str = '{"Message": "An error has occurred."}',
                  times: int = 1) -> None:
        with self.lock:
            self.failures.extend([(status, body)] * times)

    def start(self) -> FakeEnreachApi:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                         name="fake-enreach").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the API -------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

            def do_PUT(self) -> None:
                fake._dispatch(self, "PUT")

        return Handler

    def _reply(self, h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _authorised(self, h: BaseHTTPRequestHandler) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.secret}".encode()).decode()
        return h.headers.get("Authorization") == f"Basic {expected}"

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.lock:
            self.requests.append((method, url.path, body))
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            self._reply(h, *failure)
            return
        if url.path == "/api/user":  # service discovery: no authentication
            user = parse_qs(url.query).get("user", [""])[0]
            found = [] if user != self.user else [{
                "siloName": "Silo02", "username": user,
                "apiEndpoint": f"{self.base}{API_ROOT}/", "uiEndpoint": f"{self.base}/ui",
                "authority": None, "authorityIdPHint": None,
                "basicAuthEndpoint": f"{self.base}/Account/BasicLogOn"}]
            self._reply(h, 200, found)
            return
        if not url.path.startswith(API_ROOT + "/"):
            self._reply(h, 404, {"Message": "No HTTP resource was found."})
            return
        if not self._authorised(h):
            self._reply(h, 401, {"Message": "Authorization has been denied for this request."})
            return
        parts = url.path[len(API_ROOT) + 1:].strip("/").split("/")
        with self.lock:
            status, answer = self._route(method, parts, body)
        self._reply(h, status, answer)

    def _route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if parts == ["users", "me"] and method == "GET":
            return 200, {"Id": USER_ID, "OrganizationID": ORG_ID, "Email": self.user}
        if parts == ["queues"] and method == "GET":
            return 200, json.loads(json.dumps(list(self.queues.values())))
        if parts == ["users", USER_ID, "queues"] and method == "GET":
            return 200, [{"QueueId": q, "Active": a} for q, a in self.active.items()]
        if parts[:3] == ["users", USER_ID, "queues"] and len(parts) == 4 and method == "PUT":
            if parts[3] not in self.queues:
                return 404, {"Message": "Queue not found"}
            self.active[parts[3]] = bool((body or {}).get("Active"))
            return 200, {"QueueId": parts[3], "Active": self.active[parts[3]]}
        if parts == ["users", USER_ID, "availability"] and method == "POST":
            self.availability.append(body)
            return 200, body
        if parts == ["callbacks"] and method == "GET":
            return 200, list(self.callbacks.values())
        if parts[0] == "callbacks" and parts[2:] == ["close"] and method == "POST":
            if self.callbacks.pop(parts[1], None) is None:
                return 404, {"Message": "Callback request not found"}
            self.closed_callbacks.append((parts[1], (body or {}).get("Note", "")))
            return 200, {}
        return 404, {"Message": "No HTTP resource was found."}
