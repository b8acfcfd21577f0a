"""A fake Salesforce org on 127.0.0.1 over real HTTP: OAuth 2.0 sign-in and the REST API.

Follows these public documents (shapes, parameters, error bodies):
- Salesforce Help, "OAuth 2.0 Web Server Flow for Web App Integration": GET
  /services/oauth2/authorize (response_type=code, client_id, redirect_uri, state, scope,
  code_challenge + code_challenge_method=S256), redirect to the callback URL with
  `code` and `state`; POST /services/oauth2/token with grant_type=authorization_code and
  code_verifier; the token answer {access_token, refresh_token, signature, scope,
  instance_url, id, token_type, issued_at}; OAuth errors as {error, error_description}.
- "OAuth 2.0 Refresh Token Flow for Renewed Sessions": grant_type=refresh_token; with
  refresh token rotation enabled a new refresh_token comes with each answer and the old
  one is invalidated.
- "Revoke OAuth Tokens Programmatically": POST /services/oauth2/revoke, form `token`,
  200 on success, 400 with `invalid_token` / `unsupported_token_type`.
- "OAuth 2.0 Device Flow for IoT Integration": POST /services/oauth2/token with
  response_type=device_code → {device_code, user_code, verification_uri, interval}; polling
  with grant_type=device and code=<device_code> → authorization_pending until approved.
- REST API Developer Guide: "Versions" (GET /services/data/), "Limits", "Query",
  "Parameterized Search" (POST body: q, in, sobjects[{name, fields, where, limit}],
  overallLimit), "sObject Basic Information" (POST create → {id, success, errors}),
  "sObject Rows" (PATCH update → 204), "Insert or Update (Upsert) a Record Using an
  External ID" (201 created / 200 updated with `created`, 300 on several matches),
  "Composite" (compositeRequest / compositeResponse, allOrNone), "Status Codes and Error
  Responses" (401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED), "Limit Info Header"
  (Sforce-Limit-Info: api-usage=n/m on every REST answer).
Data behaviour and what is GUESSED is in tests/fakes/salesforce_org.py.

Web sessions follow Salesforce Help "Using Frontdoor.jsp to Bridge an Existing Session
Into Salesforce": POST /secur/frontdoor.jsp with the form fields `sid` (an OAuth access
token with the `web` scope) and `retURL` (a relative URL) starts a web session and
redirects to retURL; the web session is the `sid` cookie (HttpOnly). A page asked for
without a valid session redirects to the login page (`/?ec=302&startURL=…`).

STAND-IN, not Salesforce's: GET /lightning/r/<Object>/<Id>/view answers, for a web session,
a small HTML page with the record's name as its <h1> (escaped), its phone numbers as
`tel:` links, a link out of the org, and an input to type into (an "unsaved edit"); the
login page is a plain page titled "Login | Salesforce". The real Lightning app is a large
script application; this only lets the app's web view load the right URL and lets a test
click and type in it. The pages appear in `requests`; `web_sessions` lists the frontdoor
bridges made (the access token each carried).

The fake signs the agent in without a login page (the test plays the browser) and checks
PKCE: the token request must carry the verifier whose S256 hash came with the authorize
request. Test controls: `org` (records: `add`), `issue_refresh_token`, `expire_sessions`,
`rotate_refresh_tokens`, `move_instance` (a second listener becomes the instance; the old
one refuses sessions), `approve_device`, `set_api_usage`, `inject(kind, …)` with kinds
limit, unavailable (optionally with `retry_after` seconds in a Retry-After header), slow,
malformed, html, lost; `requests` logs (method, path, body…).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

from tests.fakes.salesforce_org import ApiError, Org

CLIENT_ID = "3MVG9switchboard.test.client"
ORG_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"
VERSIONS = [{"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"},
            {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"},
            {"label": "Spring '25", "url": "/services/data/v63.0", "version": "63.0"}]
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
HTML_ERROR = ("<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
              "<h1>Maintenance</h1><p>The server is temporarily unable to service your "
              "request.</p></body></html>")


@dataclass
class Fault:
    kind: str  # limit | unavailable | slow | malformed | html | lost
    times: int
    path: str
    method: str
    status: int
    seconds: float
    retry_after: int = 0


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    port: int
    token: str  # the bearer token sent ("" for none)
    call_options: str  # the Sforce-Call-Options header


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-able, str (sent as is) or None (no body)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class FakeSalesforce:
    def __init__(self, client_id: str = CLIENT_ID, api_version: str = "62.0") -> None:
        self.client_id = client_id
        self.org = Org(api_version)
        self.lock = threading.RLock()
        self.callback_urls: set[str] = set()
        self.rotate_refresh_tokens = False
        self.requests: list[Logged] = []
        self.grants: list[str] = []  # grant_type (or response_type) of each token request
        self.api_used, self.api_limit = 0, 15000
        self._faults: list[Fault] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._refresh: dict[str, set[str]] = {}  # refresh token → its access tokens
        self._access: set[str] = set()
        self._devices: dict[str, dict[str, Any]] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._retired: set[int] = set()
        self._release = threading.Event()
        self.web_sessions: list[str] = []  # the sid of each frontdoor.jsp bridge

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeSalesforce:
        self._listen()
        return self

    def stop(self) -> None:
        self._release.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def _listen(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                         name="fake-salesforce").start()
        return server

    @property
    def login_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def instance_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[-1].server_address[1]}"

    # -- controls ------------------------------------------------------------------------------

    def add(self, sobject: str, **fields: Any) -> str:
        with self.lock:
            return self.org.create(sobject, fields, trusted=True)

    def record(self, ident: str) -> dict[str, Any]:
        with self.lock:
            found = self.org.find(ident)
            assert found is not None, ident
            return dict(found[1])

    def all(self, sobject: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.org.records[sobject].values()]

    def issue_refresh_token(self) -> str:
        """A refresh token as if the agent had signed in earlier (skips the browser)."""
        with self.lock:
            token = "5Aep" + secrets.token_urlsafe(24)
            self._refresh[token] = set()
            return token

    def refresh_token_valid(self, token: str) -> bool:
        with self.lock:
            return token in self._refresh

    def expire_sessions(self) -> None:
        """Every access token stops working (the org's session timeout ran out)."""
        with self.lock:
            self._access.clear()
            for tokens in self._refresh.values():
                tokens.clear()

    def move_instance(self) -> str:
        """The org moves to a new instance URL; the old one refuses every session."""
        with self.lock:
            self._retired.add(self._servers[-1].server_address[1])
            self._listen()
            return self.instance_url

    def approve_device(self, user_code: str) -> None:
        with self.lock:
            for device in self._devices.values():
                if device["user_code"] == user_code:
                    device["approved"] = True

    def set_api_usage(self, used: int, limit: int) -> None:
        with self.lock:
            self.api_used, self.api_limit = used, limit

    def inject(self, kind: str, *, times: int = 1, path: str = "/services/data/v",
               method: str = "", status: int = 0, seconds: float = 30.0,
               retry_after: int = 0) -> None:
        """The next `times` requests whose path contains `path` (and method) get the fault."""
        assert kind in {"limit", "unavailable", "slow", "malformed", "html", "lost"}, kind
        with self.lock:
            self._faults.append(Fault(kind, times, path, method.upper(), status, seconds,
                                      retry_after))

    def clear_faults(self) -> None:
        """The org is back: no injected fault is left."""
        with self.lock:
            self._faults.clear()

    def refresh_tokens(self) -> set[str]:
        """Every refresh token the org has issued and not revoked."""
        with self.lock:
            return set(self._refresh)

    def release_slow(self) -> None:
        self._release.set()

    def rest_requests(self, method: str = "", contains: str = "") -> list[Logged]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith("/services/data/v")
                    and (not method or r.method == method) and contains in r.path]

    def tokens_used(self) -> set[str]:
        with self.lock:
            return {r.token for r in self.requests if r.token}

    # -- HTTP ----------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

            def do_PATCH(self) -> None:
                fake._dispatch(self, "PATCH")

        return Handler

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        form = "x-www-form-urlencoded" in h.headers.get("Content-Type", "")
        try:
            body: Any = ({k: v[0] for k, v in parse_qs(raw.decode()).items()} if form
                         else json.loads(raw) if raw else None)
        except ValueError:
            self._send(h, _Reply(400, [{"message": "The request body is not JSON",
                                        "errorCode": "JSON_PARSER_ERROR"}]))
            return
        auth = h.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        cookies = SimpleCookie(h.headers.get("Cookie", ""))
        web_sid = cookies["sid"].value if "sid" in cookies else ""
        port = int(h.connection.getsockname()[1])  # which listener
        with self.lock:
            self.requests.append(Logged(method, url.path, {k: v[0] for k, v in
                                                            parse_qs(url.query).items()},
                                        body, port, token,
                                        h.headers.get("Sforce-Call-Options", "")))
            fault = self._take_fault(method, url.path)
        if fault is not None and fault.kind == "slow":
            self._release.wait(fault.seconds)
        elif fault is not None and fault.kind != "lost":
            self._send(h, self._fault_reply(fault))
            return
        with self.lock:
            reply = (self._web(method, url.path, url.query, body, web_sid)
                     if url.path.startswith(("/lightning/", "/secur/")) or url.path == "/"
                     else self._route(method, url.path, url.query, body, token, port))
        if fault is not None and fault.kind == "lost":
            # The org did the work; the answer never arrives.
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(h, reply)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.path in path and fault.method in ("", method) and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_reply(self, fault: Fault) -> _Reply:
        if fault.kind == "limit":
            return self._rest_reply(_Reply(403, [{"message": "TotalRequests Limit exceeded.",
                                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]))
        if fault.kind == "unavailable":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            return self._rest_reply(_Reply(503, [{"message": "Service Unavailable",
                                                  "errorCode": "SERVER_UNAVAILABLE"}],
                                           headers))
        if fault.kind == "malformed":
            return _Reply(fault.status or 200, '{"id": "003000000000', {},
                          "application/json;charset=UTF-8")
        return _Reply(fault.status or 503, HTML_ERROR, {}, "text/html; charset=utf-8")

    def _send(self, h: BaseHTTPRequestHandler, reply: _Reply) -> None:
        data = b"" if reply.body is None else (
            reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
        try:
            h.send_response(reply.status)
            for name, value in reply.headers.items():
                h.send_header(name, value)
            if data:
                h.send_header("Content-Type", reply.content_type)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a slow answer): as with a real server

    def _rest_reply(self, reply: _Reply) -> _Reply:
        reply.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.api_limit}"
        return reply

    # -- routing -------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: str, body: Any, token: str,
               port: int) -> _Reply:
        if path == "/services/oauth2/authorize" and method == "GET":
            return self._authorize({k: v[0] for k, v in parse_qs(query).items()})
        if path == "/services/oauth2/token" and method == "POST":
            return self._token(body or {})
        if path == "/services/oauth2/revoke" and method == "POST":
            return self._revoke(body or {})
        if path.rstrip("/") == "/services/data" and method == "GET":
            return self._rest_reply(_Reply(200, VERSIONS))
        prefix = f"/services/data/v{self.org.api_version}"
        if not path.startswith(prefix + "/"):
            return self._rest_reply(_Reply(404, [{"message": "The requested resource does not "
                                                  "exist", "errorCode": "NOT_FOUND"}]))
        if token not in self._access or port in self._retired:
            return self._rest_reply(_Reply(401, INVALID_SESSION))
        self.api_used += 1
        if self.api_used > self.api_limit:
            return self._rest_reply(_Reply(403, [{"message": "TotalRequests Limit exceeded.",
                                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]))
        try:
            status, data = self._rest(method, path[len(prefix):], query, body)
        except ApiError as exc:
            status, data = exc.status, exc.body
        return self._rest_reply(_Reply(status, data))

    def _rest(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        parts = [unquote(p) for p in path.split("/") if p]
        if path == "/limits" and method == "GET":
            return 200, {"DailyApiRequests": {"Max": self.api_limit,
                                              "Remaining": self.api_limit - self.api_used},
                         "DataStorageMB": {"Max": 5, "Remaining": 5}}
        if path == "/query" and method == "GET":
            return 200, self.org.query(params.get("q", ""))
        if path == "/parameterizedSearch" and method == "POST":
            return 200, self.org.search(body or {})
        if path == "/composite" and method == "POST":
            return 200, self._composite(body or {})
        if parts[:1] == ["sobjects"] and len(parts) == 2 and method == "POST":
            return 201, {"id": self.org.create(parts[1], dict(body or {})), "success": True,
                         "errors": []}
        if parts[:1] == ["sobjects"] and len(parts) == 3:
            sobject, ident = parts[1], parts[2]
            if method == "PATCH":
                self.org.update(sobject, ident, dict(body or {}))
                return 204, None
            if method == "GET":
                row = self.org.records.get(sobject, {}).get(ident)
                if row is None:
                    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
                fields = params["fields"].split(",") if params.get("fields") else None
                return 200, self.org.shape(sobject, row, fields)
        if parts[:1] == ["sobjects"] and len(parts) == 4:
            sobject, ext_field, value = parts[1], parts[2], parts[3]
            if method == "PATCH":
                return self.org.upsert(sobject, ext_field, value, dict(body or {}))
            if method == "GET":
                rows = [r for r in self.org.records.get(sobject, {}).values()
                        if r.get(ext_field) == value]
                if not rows:
                    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
                return 200, self.org.shape(sobject, rows[0], None)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _composite(self, body: dict[str, Any]) -> dict[str, Any]:
        before = self.org.snapshot()
        results: list[dict[str, Any]] = []
        refs: dict[str, Any] = {}
        failed = False
        for sub in body.get("compositeRequest") or []:
            url, text = str(sub.get("url", "")), json.dumps(sub.get("body"))
            for ref, data in refs.items():  # @{ref.field} → an earlier answer's value
                if isinstance(data, dict):
                    for key, value in data.items():
                        url = url.replace(f"@{{{ref}.{key}}}", str(value))
                        text = text.replace(f"@{{{ref}.{key}}}", str(value))
            parsed = urlparse(url)
            prefix = f"/services/data/v{self.org.api_version}"
            try:
                status, data = self._rest(str(sub.get("method", "GET")).upper(),
                                          parsed.path[len(prefix):], parsed.query,
                                          json.loads(text))
            except ApiError as exc:
                status, data = exc.status, exc.body
            refs[str(sub.get("referenceId"))] = data
            failed |= status >= 400
            results.append({"body": data, "httpHeaders": {}, "httpStatusCode": status,
                            "referenceId": sub.get("referenceId")})
        if failed and body.get("allOrNone"):
            self.org.records = before
            for result in results:
                if result["httpStatusCode"] < 400:
                    result.update(httpStatusCode=400, body=[{
                        "errorCode": "PROCESSING_HALTED",
                        "message": "The transaction was rolled back since another operation "
                                   "in the same transaction failed."}])
        return {"compositeResponse": results}

    def _web(self, method: str, path: str, query: str, form: Any, sid: str) -> _Reply:
        """The org's web side: frontdoor.jsp, the login page, the record pages."""
        if path == "/secur/frontdoor.jsp" and method == "POST":
            form = form if isinstance(form, dict) else {}
            back = str(form.get("retURL") or "/")
            if not back.startswith("/") or back.startswith("//"):
                back = "/"  # retURL is relative: never a way off the org
            if form.get("sid") not in self._access:
                return _Reply(302, None, {"Location": f"/?ec=302&startURL={back}"})
            self.web_sessions.append(str(form["sid"]))
            return _Reply(302, None, {"Location": back,
                                      "Set-Cookie": f"sid={form['sid']}; Path=/; HttpOnly"})
        if path == "/" and method == "GET":
            return _Reply(200, "<!doctype html><title>Login | Salesforce</title>"
                          "<h1>Log in</h1>", {}, "text/html; charset=utf-8")
        if path.startswith("/lightning/") and method == "GET":
            if sid not in self._access:
                return _Reply(302, None, {"Location": f"/?ec=302&startURL={path}"})
            return self._lightning(path)
        return _Reply(404, "<!doctype html><title>Not found</title>", {},
                      "text/html; charset=utf-8")

    def _lightning(self, path: str) -> _Reply:
        """The stand-in record page (see the module docstring)."""
        parts = path.split("/")
        found = self.org.find(parts[4]) if len(parts) >= 6 and parts[2] == "r" else None
        if found is None:
            return _Reply(404, "<!doctype html><title>Not found</title><h1>Not found</h1>", {},
                          "text/html; charset=utf-8")
        sobject, row = found
        name = row.get("Name") or " ".join(
            str(row.get(f) or "") for f in ("FirstName", "LastName")).strip()
        phones = "".join(f'<a class="phone" href="tel:{html.escape(str(row[f]))}">'
                         f"{html.escape(str(row[f]))}</a>"
                         for f in ("Phone", "MobilePhone") if row.get(f))
        page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(name)} | "
                f"{sobject}</title><h1>{html.escape(name)}</h1>{phones}"
                '<a class="out" href="https://www.example.com/">website</a>'
                '<input id="field" value="">')
        return _Reply(200, page, {}, "text/html; charset=utf-8")

    # -- OAuth ---------------------------------------------------------------------------------

    def _authorize(self, q: dict[str, str]) -> _Reply:
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or redirect not in self.callback_urls:
            # Salesforce shows an error page instead of redirecting to an unknown URL.
            return _Reply(400, "<html><body>error=redirect_uri_mismatch</body></html>", {},
                          "text/html; charset=utf-8")
        back: dict[str, str] = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            back.update(error="unsupported_response_type", error_description="response type "
                        "not supported")
        elif not q.get("code_challenge") or q.get("code_challenge_method", "S256") != "S256":
            back.update(error="invalid_request", error_description="missing required "
                        "code challenge")
        else:
            code = "aPrx" + secrets.token_urlsafe(24)
            self._codes[code] = {"challenge": q["code_challenge"], "redirect_uri": redirect}
            back = {"code": code, **back}
        return _Reply(302, None, {"Location": f"{redirect}?{urlencode(back)}"})

    def _token(self, form: dict[str, str]) -> _Reply:
        self.grants.append(form.get("grant_type") or form.get("response_type", ""))
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("response_type") == "device_code":
            device_code = secrets.token_urlsafe(24)
            user_code = secrets.token_hex(4).upper()
            self._devices[device_code] = {"user_code": user_code, "approved": False}
            return _Reply(200, {"device_code": device_code, "user_code": user_code,
                                "verification_uri": f"{self.login_url}/setup/connect",
                                "interval": 5})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self._codes.pop(form.get("code", ""), None)
            if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "invalid authorization code")
            if _s256(form.get("code_verifier", "")) != issued["challenge"]:
                return _oauth_error("invalid_grant", "invalid code verifier")
            return self._tokens(self.issue_refresh_token(), with_refresh=True)
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self._refresh:
                return _oauth_error("invalid_grant", "expired access/refresh token")
            if not self.rotate_refresh_tokens:
                return self._tokens(old, with_refresh=False)
            for access in self._refresh.pop(old):
                self._access.discard(access)
            return self._tokens(self.issue_refresh_token(), with_refresh=True)
        if grant == "device":
            device = self._devices.get(form.get("code", ""))
            if device is None:
                return _oauth_error("invalid_grant", "invalid device code")
            if not device["approved"]:
                return _oauth_error("authorization_pending", "authorization pending")
            del self._devices[form["code"]]
            return self._tokens(self.issue_refresh_token(), with_refresh=True)
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _tokens(self, refresh: str, *, with_refresh: bool) -> _Reply:
        access = f"{ORG_ID}!" + secrets.token_urlsafe(32)
        self._access.add(access)
        self._refresh.setdefault(refresh, set()).add(access)
        answer = {"access_token": access, "signature": secrets.token_urlsafe(16),
                  "scope": "api refresh_token web", "instance_url": self.instance_url,
                  "id": f"{self.login_url}/id/{ORG_ID}/{USER_ID}", "token_type": "Bearer",
                  "issued_at": str(int(time.time() * 1000))}
        if with_refresh:
            answer["refresh_token"] = refresh
        return _Reply(200, answer)

    def _revoke(self, form: dict[str, str]) -> _Reply:
        token = form.get("token", "")
        if token in self._refresh:
            for access in self._refresh.pop(token):
                self._access.discard(access)
            return _Reply(200)
        if token in self._access:
            self._access.discard(token)
            return _Reply(200)
        return _oauth_error("invalid_token", "invalid token")


def _oauth_error(error: str, description: str) -> _Reply:
    return _Reply(400, {"error": error, "error_description": description})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
