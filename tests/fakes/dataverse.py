"""A fake Dynamics 365 / Dataverse Web API (`/api/data/v9.2/`) on 127.0.0.1, over real HTTP.

Shapes follow these documents (learn.microsoft.com/power-apps/developer/data-platform/...):
- webapi/create-entity-web-api: POST → `204 No Content` + `OData-EntityId: <org>/api/data/
  v9.2/<set>(<id>)`; `Prefer: return=representation` → 201 with the record.
- webapi/update-delete-entities-using-web-api and webapi/perform-conditional-operations-using-
  web-api: PATCH is an upsert; `If-Match: *` → 404 `{"error": {"code": "", "message":
  "<entity> With Id = <id> Does Not Exist"}}` when missing; `If-None-Match: *` → 412
  `{"error": {"code": "", "message": "A record with matching key values already exists."}}`
  when present.
- webapi/query/filter-rows, select-columns, order-rows: `$filter` (see odata_filter.py),
  `$select`, `$top`, `$orderby`; collections as `{"@odata.context", "value": [...]}`; lookups
  as `_<name>_value` with `@OData.Community.Display.V1.FormattedValue` and
  `@Microsoft.Dynamics.CRM.lookuplogicalname` annotations when `Prefer: odata.include-
  annotations` asks; every record carries `@odata.etag`.
- reference/entities/phonecall: `subject`, `phonenumber`, `directioncode`, `description`,
  `actualstart`, `actualend`, `actualdurationminutes`, `regardingobjectid_<entity>_phonecall`
  navigation properties, `phonecall_activity_parties` (activityparty: `partyid_<entity>`
  binds, `participationtypemask` 1 = From, 2 = To); `statecode` not valid for create;
  statuscode 1 Open (state 0), 2 Made / 4 Received (state 1, Completed), 3 Canceled (state 2);
  "Completed and canceled phone calls are read-only".
- reference/entities/contact, account, lead, incident, task, systemuser: the columns below.
- webapi/compose-http-requests-handle-errors: `{"error": {"code", "message"}}` bodies.
- api-limits: 429 with `Retry-After` (seconds) and the three service-protection codes
  0x80072322 (requests), 0x80072321 (execution time), 0x80072326 (concurrency).
- WhoAmI function: `{"BusinessUnitId", "UserId", "OrganizationId"}`.
- AddToQueue action (bound to queue; Target = the activity with its `@odata.type`) →
  AddToQueueResponse `{"QueueItemId"}`; queues found by `name`.
GUESSED (not in the documents we read): the code/wording of a refused update of a closed
phone call, of a create with `statecode`, of a bind to a missing record, of a 403 tenant
policy (the privilege wording "is missing prv... privilege" is the commonly seen one), the
404 code 0x80040217 on a plain retrieve, and that a 401 has an empty body with only a
`WWW-Authenticate: Bearer` header, and the wording of a case created without a customer
(the documents only say a case's Customer is required). The undeclared-property message
for a short-form `regardingobjectid_contact@odata.bind` on a phone call is the OData
library's wording.

The model-driven app's pages (`/main.aspx?pagetype=entityrecord&etn=…&id=…`, "Open forms,
views, dialogs, and reports with a URL") are a stand-in page, not Dynamics' app: a heading
naming the table and id, the `extraqs` values as form fields, and a global `Xrm.Page.data.
entity.getIsDirty()` (Client API) that is true after typing in a field or while the test
sets `dirty_forms`. It needs no bearer token (the real app signs in with cookies).

Test controls: add_* seeders, records(set), fail_next(kind, ...), requests (a log, the
pages included), dirty_forms, and accept_token (which bearer tokens are good; share
FakeEntraId.is_valid_access_token).
"""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.odata_filter import FilterError, compile_filter

API = "/api/data/v9.2/"
ORG_ID = "c0ffee00-0000-4000-8000-00000000000a"
BU_ID = "c0ffee00-0000-4000-8000-00000000000b"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_KEYED = re.compile(rf"^(?P<set>[a-z]+)\((?P<id>{_GUID})\)$")

_PHONES = ("telephone1", "telephone2", "telephone3", "mobilephone")


@dataclass(frozen=True)
class _Entity:
    logical: str
    key: str
    columns: frozenset[str]
    # navigation property (without @odata.bind) → (lookup column, allowed target sets)
    binds: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def _regarding(entity: str, targets: tuple[str, ...]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {f"regardingobjectid_{t[:-1] if t != 'incidents' else 'incident'}_{entity}":
            ("regardingobjectid", (t,)) for t in targets}


_ENTITIES: dict[str, _Entity] = {
    "contacts": _Entity("contact", "contactid", frozenset({
        "contactid", "firstname", "lastname", "fullname", "emailaddress1", "jobtitle",
        "_parentcustomerid_value", "statecode", "modifiedon", *_PHONES}),
        {"parentcustomerid_account": ("parentcustomerid", ("accounts",))}),
    "accounts": _Entity("account", "accountid", frozenset({
        "accountid", "name", "emailaddress1", "websiteurl", "statecode", "modifiedon",
        "telephone1", "telephone2", "telephone3"})),
    "leads": _Entity("lead", "leadid", frozenset({
        "leadid", "firstname", "lastname", "fullname", "companyname", "emailaddress1",
        "statecode", "statuscode", "modifiedon", *_PHONES})),
    "incidents": _Entity("incident", "incidentid", frozenset({
        "incidentid", "ticketnumber", "title", "description", "statecode", "statuscode",
        "_customerid_value", "modifiedon", "createdon"}),
        {"customerid_contact": ("customerid", ("contacts",)),
         "customerid_account": ("customerid", ("accounts",))}),
    "phonecalls": _Entity("phonecall", "activityid", frozenset({
        "activityid", "subject", "phonenumber", "directioncode", "description", "actualstart",
        "actualend", "actualdurationminutes", "scheduledend", "_regardingobjectid_value",
        "statecode", "statuscode", "modifiedon", "createdon"}),
        _regarding("phonecall", ("contacts", "accounts", "leads", "incidents"))),
    "tasks": _Entity("task", "activityid", frozenset({
        "activityid", "subject", "description", "scheduledend", "_regardingobjectid_value",
        "statecode", "statuscode", "modifiedon", "createdon"}),
        _regarding("task", ("contacts", "accounts"))),
    "queues": _Entity("queue", "queueid", frozenset({"queueid", "name", "modifiedon",
                                                     "createdon"})),
    "systemusers": _Entity("systemuser", "systemuserid", frozenset({
        "systemuserid", "fullname", "internalemailaddress", "domainname"})),
}
_STATUS = {"phonecalls": {0: {1}, 1: {2, 4}, 2: {3}}, "tasks": {0: {2, 3, 4, 7}, 1: {5},
                                                                  2: {6}}}
_NAME = {"contacts": ("firstname", "lastname"), "leads": ("firstname", "lastname"),
         "systemusers": ("fullname",), "accounts": ("name",)}

THROTTLE = {
    "throttle_requests": ("0x80072322", "Number of requests exceeded the limit of 6000 over "
                          "time window of 300 seconds."),
    "throttle_time": ("0x80072321", "Combined execution time of incoming requests exceeded "
                      "limit of 1,200,000 milliseconds over time window of 300 seconds. "
                      "Decrease number of concurrent requests or reduce the duration of "
                      "requests and try again later."),
    "throttle_concurrency": ("0x80072326", "Number of concurrent requests exceeded the limit "
                             "of 52."),
}
FAULTS = (*THROTTLE, "unauthorized", "forbidden_policy", "forbidden_privilege", "unavailable",
          "lost", "garbage")


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, code: str = "") -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}})


@dataclass
class _Fault:
    kind: str
    retry_after: int
    method: str | None
    path_contains: str | None
    skip: int = 0  # matching requests to let through first


class FakeDataverse:
    """One Dataverse environment; `org_url` is what the backend is configured with."""

    def __init__(self, accept_token: Callable[[str], bool] | None = None,
                 user_name: str = "Aino Agent") -> None:
        self.accept_token = accept_token or (lambda token: token == "good-token")
        self.port = 0
        self.lock = threading.Lock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in _ENTITIES}
        self.parties: dict[str, list[dict[str, Any]]] = {}
        # AddToQueue: (queue id, activity id) per queue item id; an object is in one queue.
        self.queue_items: dict[str, tuple[str, str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.faults: list[_Fault] = []
        self.dirty_forms = False  # every open form says it has unsaved edits
        self._version = 1000
        self._ticket = 1000
        self._server: ThreadingHTTPServer | None = None
        self.user_id = self.add("systemusers", fullname=user_name,
                                internalemailaddress="agent@contoso.example")

    @property
    def org_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- controls ------------------------------------------------------------------------------

    def add(self, entity_set: str, **columns: Any) -> str:
        """Seed a record as an admin would have made it; returns its id."""
        with self.lock:
            ent = _ENTITIES[entity_set]
            rid = str(columns.pop(ent.key, None) or uuid.uuid4())
            rec = {c: None for c in ent.columns}
            rec.update(columns)
            self._stamp(entity_set, rec, rid, created=True)
            self.tables[entity_set][rid] = rec
            return rid

    def add_contact(self, first: str, last: str, *phones: str, account_id: str | None = None,
                    email: str = "") -> str:
        cols = dict(zip(_PHONES, phones, strict=False))
        return self.add("contacts", firstname=first, lastname=last, emailaddress1=email or None,
                        _parentcustomerid_value=account_id,
                        _parentcustomerid_logical="account" if account_id else None, **cols)

    def add_account(self, name: str, *phones: str) -> str:
        return self.add("accounts", name=name, **dict(zip(_PHONES[:3], phones, strict=False)))

    def add_lead(self, first: str, last: str, company: str, *phones: str) -> str:
        return self.add("leads", firstname=first, lastname=last, companyname=company,
                        **dict(zip(_PHONES, phones, strict=False)))

    def add_incident(self, title: str, contact_id: str) -> str:
        return self.add("incidents", title=title, _customerid_value=contact_id,
                        _customerid_logical="contact")

    def add_queue(self, name: str) -> str:
        return self.add("queues", name=name)

    def records(self, entity_set: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {k: dict(v) for k, v in self.tables[entity_set].items()}

    def fail_next(self, kind: str, *, times: int = 1, retry_after: int = 3,
                  method: str | None = None, path_contains: str | None = None,
                  skip: int = 0) -> None:
        """After `skip` matching requests, the next `times` get `kind` (see FAULTS).

        "lost" carries the request out and then drops the connection without answering.
        """
        assert kind in FAULTS, kind
        with self.lock:
            self.faults.extend(_Fault(kind, retry_after, method, path_contains, skip)
                               for _ in range(times))

    def start(self) -> FakeDataverse:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                         name="fake-dataverse").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- records -------------------------------------------------------------------------------

    def _stamp(self, entity_set: str, rec: dict[str, Any], rid: str, created: bool) -> None:
        ent = _ENTITIES[entity_set]
        rec[ent.key] = rid
        self._version += 1
        rec["@odata.etag"] = f'W/"{self._version}"'
        rec["modifiedon"] = now_iso()
        if created:
            rec["createdon"] = rec["modifiedon"]
            if "statecode" in ent.columns and rec.get("statecode") is None:
                rec["statecode"] = 0
            if entity_set in _STATUS and rec.get("statuscode") is None:
                rec["statuscode"] = min(_STATUS[entity_set][0])
            if entity_set == "incidents" and not rec.get("ticketnumber"):
                self._ticket += 1
                rec["ticketnumber"] = f"CAS-{self._ticket:05d}-F4K3D4"
        if entity_set in _NAME and "fullname" in ent.columns:
            rec["fullname"] = " ".join(str(rec.get(c) or "") for c in _NAME[entity_set]
                                       ).strip() or rec.get("fullname")

    def _lookup_logical(self, rec: dict[str, Any], column: str) -> str | None:
        return rec.get(f"_{column}_logical")

    def _view(self, entity_set: str, rec: dict[str, Any], select: list[str] | None,
              annotations: bool) -> dict[str, Any]:
        ent = _ENTITIES[entity_set]
        cols = select if select else sorted(ent.columns)
        out: dict[str, Any] = {"@odata.etag": rec["@odata.etag"]}
        for c in (*cols, ent.key):
            out[c] = rec.get(c)
            m = re.fullmatch(r"_(\w+)_value", c)
            if m and annotations and rec.get(c):
                logical = self._lookup_logical(rec, m.group(1))
                out[f"{c}@Microsoft.Dynamics.CRM.lookuplogicalname"] = logical
                target = self.tables.get(f"{logical}s", {}).get(rec[c])
                if target is not None:
                    out[f"{c}@OData.Community.Display.V1.FormattedValue"] = (
                        target.get("fullname") or target.get("name") or target.get("title"))
        return out

    def _apply(self, entity_set: str, rec: dict[str, Any], body: dict[str, Any],
               creating: bool) -> None:
        ent = _ENTITIES[entity_set]
        if not isinstance(body, dict):
            raise _error(400, "The request body is not a JSON object.", "0x80060891")
        changes: dict[str, Any] = {}
        parties = None
        for name, value in body.items():
            if name.endswith("@odata.bind"):
                nav = name[: -len("@odata.bind")]
                if nav not in ent.binds:
                    raise _error(400, f"An undeclared property '{nav}' which only has property "
                                 "annotations in the payload but no property value was found in "
                                 "the payload. In OData, only declared navigation properties and "
                                 "declared named streams can be represented as properties "
                                 "without values.", "0x80060888")
                column, targets = ent.binds[nav]
                target_set, target_id = self._bind_target(value, targets)
                changes[f"_{column}_value"] = target_id
                changes[f"_{column}_logical"] = _ENTITIES[target_set].logical
            elif name == f"{entity_set[:-1]}_activity_parties" and entity_set == "phonecalls":
                parties = self._parties(value)
            elif name in ent.columns and not name.startswith("_") and name != ent.key:
                changes[name] = value
            else:
                raise _error(400, f"Invalid property '{name}' was found in entity "
                             f"'Microsoft.Dynamics.CRM.{ent.logical}'.", "0x80060888")
        self._check_state(entity_set, rec, changes, creating)
        rec.update(changes)
        if parties is not None:
            self.parties[rec.get(ent.key) or ""] = parties

    def _bind_target(self, value: Any, targets: tuple[str, ...]) -> tuple[str, str]:
        m = _KEYED.match(str(value).lstrip("/"))
        if not m or m.group("set") not in targets:
            raise _error(400, f"The value '{value}' is not a valid reference here.",
                         "0x80060888")
        if m.group("id").lower() not in self.tables[m.group("set")]:
            logical = _ENTITIES[m.group("set")].logical
            raise _error(404, f"{logical} With Id = {m.group('id')} Does Not Exist",
                         "0x80040217")
        return m.group("set"), m.group("id").lower()

    def _parties(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise _error(400, "phonecall_activity_parties must be a collection.", "0x80060888")
        out = []
        for party in value:
            binds = [k for k in party if k.startswith("partyid_") and k.endswith("@odata.bind")]
            mask = party.get("participationtypemask")
            if len(binds) != 1 or mask not in (1, 2) or set(party) - {binds[0],
                                                                     "participationtypemask"}:
                raise _error(400, f"Invalid activity party {party!r}.", "0x80060888")
            target_set, target_id = self._bind_target(
                party[binds[0]], ("contacts", "accounts", "leads", "systemusers"))
            out.append({"partyid": target_id, "entity": _ENTITIES[target_set].logical,
                        "participationtypemask": mask})
        return out

    def _check_state(self, entity_set: str, rec: dict[str, Any], changes: dict[str, Any],
                     creating: bool) -> None:
        if entity_set not in _STATUS:
            return
        if creating and "statecode" in changes:
            raise _error(400, "statecode is not valid for create; set the state with an "
                         "update after creating the record.", "0x80040203")  # GUESSED
        state_now = rec.get("statecode") or 0
        if not creating and state_now != 0 and set(changes) - {"statecode", "statuscode"}:
            raise _error(400, f"This {_ENTITIES[entity_set].logical} is closed or canceled and "
                         "cannot be edited. Reactivate it first.", "0x80040203")  # GUESSED
        if "statecode" in changes or "statuscode" in changes:
            state = changes.get("statecode", state_now)
            status = changes.get("statuscode", min(_STATUS[entity_set][state]))
            if status not in _STATUS[entity_set].get(state, set()):
                raise _error(400, f"{status} is not a valid status code for state code "
                             f"{_ENTITIES[entity_set].logical}State.{state}.", "0x80040278")
            changes["statuscode"] = status

    # -- the HTTP side -------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

            def do_PATCH(self) -> None:
                fake._dispatch(self, "PATCH")

        return Handler

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self.lock:
            matching = [f for f in self.faults if f.method in (None, method)
                        and (f.path_contains is None or f.path_contains in path)]
            if not matching:
                return None
            if matching[0].skip > 0:
                for f in matching:
                    f.skip -= 1
                return None
            self.faults.remove(matching[0])
            return matching[0]

    def _send(self, h: BaseHTTPRequestHandler, reply: _Reply) -> None:
        data = b""
        if isinstance(reply.body, (bytes, str)):
            data = reply.body.encode() if isinstance(reply.body, str) else reply.body
        elif reply.body is not None:
            data = json.dumps(reply.body).encode()
        h.send_response(reply.status)
        if reply.body is not None and "Content-Type" not in reply.headers:
            h.send_header("Content-Type", "application/json; odata.metadata=minimal")
        h.send_header("OData-Version", "4.0")
        for k, v in reply.headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = unquote(url.path)
        entry = {"method": method, "path": path, "query": query, "body": body,
                 "headers": {k: v for k, v in h.headers.items()
                             if k.lower() in ("if-match", "if-none-match", "prefer")}}
        with self.lock:
            self.requests.append(entry)
        if method == "GET" and path in ("/main.aspx", "/_fake/dirty"):
            self._send(h, self._app_page(path, query))
            return
        fault = self._take_fault(method, path)
        auth = h.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        try:
            if fault is not None and fault.kind != "lost":
                raise self._fault_reply(fault)
            if not self.accept_token(token):
                raise _Reply(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token", '
                                         'error_description="The access token has expired"'})
            with self.lock:
                reply = self._route(method, path, query, body, h.headers)
        except _Reply as exc:
            reply = exc
        if fault is not None and fault.kind == "lost":
            h.close_connection = True  # the work is done; the answer never arrives
            return
        self._send(h, reply)

    def _app_page(self, path: str, query: dict[str, str]) -> _Reply:
        """The stand-in model-driven app page (see the module docstring)."""
        if path == "/_fake/dirty":
            return _Reply(200, "1" if self.dirty_forms else "0", {"Content-Type": "text/plain"})
        values = {k: v[0] for k, v in parse_qs(query.get("extraqs", "")).items()}
        fields = "".join(f'<label>{html.escape(k)} <input name="{html.escape(k)}" '
                         f'value="{html.escape(v)}"></label>' for k, v in values.items())
        heading = f"{query.get('etn', '')} {query.get('id', 'new')}"
        page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(heading)} - Dynamics 365</title></head><body>
<h1>{html.escape(heading)}</h1><form>{fields}<input name="other" value=""></form>
<script>
var edited = false;
document.addEventListener("input", function () {{ edited = true; }});
window.Xrm = {{Page: {{data: {{entity: {{getIsDirty: function () {{
  var asked = new XMLHttpRequest();
  asked.open("GET", "/_fake/dirty", false);
  asked.send();
  return edited || asked.responseText === "1";
}}}}}}}}}};
</script></body></html>"""
        return _Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.kind in THROTTLE:
            code, message = THROTTLE[fault.kind]
            reply = _error(429, message, code)
            reply.headers["Retry-After"] = str(fault.retry_after)
            return reply
        if fault.kind == "unauthorized":
            return _Reply(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if fault.kind == "forbidden_policy":
            return _error(403, "Access to this environment is blocked by a tenant policy: "
                          "requests from this application or network are not allowed.")
        if fault.kind == "forbidden_privilege":
            return _error(403, f"Principal user (Id={self.user_id}, type=8, roleCount=1, "
                          "privilegeCount=0, accessMode=0), is missing prvCreateActivity "
                          "privilege (Id=0f00d000-0000-4000-8000-000000000001) on OTC=4210 for "
                          "entity 'phonecall'.", "0x80040220")
        if fault.kind == "unavailable":
            return _Reply(503, "<html><body>Service Unavailable</body></html>",
                          {"Content-Type": "text/html"})
        return _Reply(200, "<html><head><title>Sign in to your account</title></head></html>",
                      {"Content-Type": "text/html; charset=utf-8"})  # garbage

    def _route(self, method: str, path: str, query: dict[str, str], body: Any,
               headers: Any) -> _Reply:
        if not path.startswith(API):
            raise _error(404, f"Resource not found for the segment '{path}'.", "0x8006088a")
        segment = path[len(API):]
        annotations = "include-annotations" in (headers.get("Prefer") or "")
        if segment == "WhoAmI" and method == "GET":
            return _Reply(200, {"@odata.context": f"{self.org_url}{API}$metadata#Microsoft."
                                "Dynamics.CRM.WhoAmIResponse", "BusinessUnitId": BU_ID,
                                "UserId": self.user_id, "OrganizationId": ORG_ID})
        action = re.match(rf"^queues\((?P<id>{_GUID})\)/Microsoft\.Dynamics\.CRM\.AddToQueue$",
                          segment)
        if action is not None and method == "POST":
            return self._add_to_queue(action.group("id").lower(), body)
        m = _KEYED.match(segment)
        entity_set = m.group("set") if m else segment
        if entity_set not in _ENTITIES:
            raise _error(404, f"Resource not found for the segment '{entity_set}'.",
                         "0x8006088a")
        ent = _ENTITIES[entity_set]
        select = self._select(ent, query.get("$select"))
        if m is None:
            if method == "GET":
                return self._query(entity_set, query, select, annotations)
            if method == "POST":
                rid = str(uuid.uuid4())
                rec = self._create(entity_set, rid, body)
                return self._created(entity_set, rid, rec, headers, annotations)
            raise _error(405, "The HTTP method is not allowed here.")
        rid = m.group("id").lower()
        found = self.tables[entity_set].get(rid)
        if method == "GET":
            if found is None:
                raise _error(404, f"{ent.logical} With Id = {rid} Does Not Exist", "0x80040217")
            return _Reply(200, {"@odata.context": f"{self.org_url}{API}$metadata#{entity_set}"
                                "/$entity", **self._view(entity_set, found, select, annotations)})
        if method != "PATCH":
            raise _error(405, "The HTTP method is not allowed here.")
        if found is not None and headers.get("If-None-Match") == "*":
            raise _error(412, "A record with matching key values already exists.")
        if found is None and headers.get("If-Match") == "*":
            raise _error(404, f"{ent.logical} With Id = {rid} Does Not Exist")
        if found is None:
            self._create(entity_set, rid, body)
            return _Reply(204, None, {"OData-EntityId": f"{self.org_url}{API}{entity_set}"
                                      f"({rid})"})
        staged = dict(found)
        self._apply(entity_set, staged, body, creating=False)
        self._stamp(entity_set, staged, rid, created=False)
        self.tables[entity_set][rid] = staged
        return _Reply(204, None, {"OData-EntityId": f"{self.org_url}{API}{entity_set}({rid})"})

    def _add_to_queue(self, queue_id: str, body: Any) -> _Reply:
        """The queue's bound AddToQueue action: `{"Target": {<key>, "@odata.type"}}` →
        `{"QueueItemId"}`. An object already queued keeps its one queue item (moved here)."""
        if queue_id not in self.tables["queues"]:
            raise _error(404, f"queue With Id = {queue_id} Does Not Exist", "0x80040217")
        target = body.get("Target") if isinstance(body, dict) else None
        if not isinstance(target, dict) or not target.get("activityid") or target.get(
                "@odata.type") != "Microsoft.Dynamics.CRM.phonecall":
            raise _error(400, "AddToQueue needs a Target with its @odata.type and key.",
                         "0x80060888")  # GUESSED wording
        aid = str(target["activityid"]).lower()
        if aid not in self.tables["phonecalls"]:
            raise _error(404, f"phonecall With Id = {aid} Does Not Exist", "0x80040217")
        item = next((k for k, (_q, a) in self.queue_items.items() if a == aid),
                    str(uuid.uuid4()))
        self.queue_items[item] = (queue_id, aid)
        return _Reply(200, {"@odata.context": f"{self.org_url}{API}$metadata#Microsoft."
                            "Dynamics.CRM.AddToQueueResponse", "QueueItemId": item})

    def _create(self, entity_set: str, rid: str, body: Any) -> dict[str, Any]:
        ent = _ENTITIES[entity_set]
        rec: dict[str, Any] = {c: None for c in ent.columns}
        rec[ent.key] = rid
        self._apply(entity_set, rec, body, creating=True)
        if entity_set == "incidents" and (not rec.get("title") or not rec.get("_customerid_value")):
            raise _error(400, "A case needs a title and a customer (customerid).", "0x80040200")
        self._stamp(entity_set, rec, rid, created=True)
        self.tables[entity_set][rid] = rec
        return rec

    def _created(self, entity_set: str, rid: str, rec: dict[str, Any], headers: Any,
                 annotations: bool) -> _Reply:
        location = {"OData-EntityId": f"{self.org_url}{API}{entity_set}({rid})"}
        if "return=representation" in (headers.get("Prefer") or ""):
            return _Reply(201, self._view(entity_set, rec, None, annotations), location)
        return _Reply(204, None, location)

    def _select(self, ent: _Entity, text: str | None) -> list[str] | None:
        if not text:
            return None
        cols = [c.strip() for c in text.split(",")]
        for c in cols:
            if c not in ent.columns:
                raise _error(400, f"Could not find a property named '{c}' on type "
                             f"'Microsoft.Dynamics.CRM.{ent.logical}'.", "0x80060888")
        return cols

    def _query(self, entity_set: str, query: dict[str, str], select: list[str] | None,
               annotations: bool) -> _Reply:
        ent = _ENTITIES[entity_set]
        rows = list(self.tables[entity_set].values())
        if query.get("$filter"):
            try:
                pred = compile_filter(query["$filter"], ent.columns, ent.logical)
            except FilterError as exc:
                raise _error(400, str(exc), "0x80060888") from None
            rows = [r for r in rows if pred(r)]
        if query.get("$orderby"):
            col, _, direction = query["$orderby"].partition(" ")
            if col not in ent.columns:
                raise _error(400, f"Could not find a property named '{col}' on type "
                             f"'Microsoft.Dynamics.CRM.{ent.logical}'.", "0x80060888")
            rows.sort(key=lambda r: (r.get(col) is None, r.get(col) or ""),
                      reverse=direction.strip() == "desc")
        if query.get("$top"):
            rows = rows[: int(query["$top"])]
        return _Reply(200, {"@odata.context": f"{self.org_url}{API}$metadata#{entity_set}",
                            "value": [self._view(entity_set, r, select, annotations)
                                      for r in rows]})
