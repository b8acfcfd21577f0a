"""DynamicsBackend: the CrmBackend protocol over the Dataverse Web API.

Identify by phone: first `eq` on the E.164 form in every phone column of contacts, accounts
and leads (3 requests, exact, what the modelled product asks admins to store). Only when
nothing matches and `phone_fallback` is on, a second pass asks for records whose phone
columns end with the number's last four digits (3 more requests; `endswith` is a LIKE
'%1234' that no index serves, so Dataverse scans the columns and the time counts against the
service-protection execution-time limit) and keeps those whose numbers, parsed in the
default region, are the caller's E.164. Numbers written with a separator inside their last
four digits ("040 123 45 67") are not found by either pass; store E.164.

Phone calls are written exactly once: their activityid is uuid5 of the SIP Call-ID, created
with `PATCH phonecalls(<id>)` + `If-None-Match: *` (412 = already there, e.g. after a lost
answer), then closed as Made/Received. Closed phone calls are read-only in Dataverse, so an
update reopens, changes and closes again; a retry after a failure in between converges.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from app.core import numbers
from app.core.crm import (
    ACTIVITY_UPDATABLE,
    MAX_MATCHES,
    Account,
    CallActivity,
    Case,
    Contact,
    CrmError,
    IdentifyResult,
    Lead,
    NewAccount,
    NewCase,
    NewContact,
    NewLead,
    NewTask,
    RecordKind,
    RecordNotFound,
    RecordRef,
    SearchResult,
    Task,
)
from app.crm.dynamics import records as rec
from app.crm.dynamics.client import DataverseClient

_PHONE_KINDS = (RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD)
FALLBACK_TOP = 50  # candidates of the second pass, checked here one by one
SEARCH_TOP = 10


class DynamicsBackend:
    """Dynamics 365 as the app's CRM. Every method blocks: call it off the GUI thread."""

    # A case (incident) must have a customer (customerid: a contact or an account), so
    # there is no "case without identification": the case dialog asks the agent to choose
    # or add the caller first, and the Case workflow opens that dialog on answer when no
    # single contact matched (app/crm/local/pages.py, app/wiring/crm.py).
    case_needs_customer = True

    def __init__(self, client: DataverseClient, *, region: str = "FI",
                 phone_fallback: bool = True, app_id: str = "") -> None:
        self.client = client
        self.region = region
        self.phone_fallback = phone_fallback
        self.app_id = app_id
        self._user_id: str | None = None
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------

    def _rows(self, kind: RecordKind, where: str, top: int,
              orderby: str = "") -> list[dict[str, Any]]:
        params = {"$select": ",".join(rec.SELECT[kind]), "$filter": where, "$top": str(top)}
        if orderby:
            params["$orderby"] = orderby
        value = self.client.get(rec.ENTITY_SETS[kind], params).get("value")
        if not isinstance(value, list):
            raise CrmError("Dynamics 365 answered a query without a list of records.")
        return value

    def identify(self, number: str) -> IdentifyResult:
        e164 = numbers.try_normalise(number, self.region)
        if e164 is None or not e164.startswith("+"):
            return IdentifyResult(number)  # extensions and junk are not customers
        found: dict[RecordKind, list[dict[str, Any]]] = {}
        truncated = False
        for kind in _PHONE_KINDS:
            where = rec.any_of(rec.PHONE_COLUMNS[kind], "{col} eq " + rec.literal(e164))
            rows = self._rows(kind, where, MAX_MATCHES + 1)
            truncated |= len(rows) > MAX_MATCHES
            found[kind] = rows[:MAX_MATCHES]
        if self.phone_fallback and not any(found.values()):
            tail = rec.like_literal(e164[-4:])
            for kind in _PHONE_KINDS:
                where = rec.any_of(rec.PHONE_COLUMNS[kind], "endswith({col}," + tail + ")")
                rows = self._rows(kind, where, FALLBACK_TOP)
                truncated |= len(rows) >= FALLBACK_TOP
                hits = [r for r in rows if self._has_number(kind, r, e164)]
                truncated |= len(hits) > MAX_MATCHES
                found[kind] = hits[:MAX_MATCHES]
        return IdentifyResult(
            number,
            contacts=tuple(rec.contact(r) for r in found[RecordKind.CONTACT]),
            accounts=tuple(rec.account(r) for r in found[RecordKind.ACCOUNT]),
            leads=tuple(rec.lead(r) for r in found[RecordKind.LEAD]),
            truncated=truncated)

    def _has_number(self, kind: RecordKind, row: Mapping[str, Any], e164: str) -> bool:
        return any(numbers.try_normalise(p, self.region) == e164 for p in rec.phones(kind, row))

    def search(self, text: str) -> SearchResult:
        text = (text or "").strip()[:100]
        if not text:
            return SearchResult()
        prefix = rec.like_literal(text)
        starts = "startswith({col}," + prefix + ")"
        return SearchResult(
            contacts=tuple(rec.contact(r) for r in self._rows(
                RecordKind.CONTACT, rec.any_of(("firstname", "lastname", "emailaddress1"),
                                               starts), SEARCH_TOP)),
            accounts=tuple(rec.account(r) for r in self._rows(
                RecordKind.ACCOUNT, rec.any_of(("name", "emailaddress1"), starts),
                SEARCH_TOP)),
            leads=tuple(rec.lead(r) for r in self._rows(
                RecordKind.LEAD, rec.any_of(("firstname", "lastname", "companyname",
                                             "emailaddress1"), starts), SEARCH_TOP)),
            cases=tuple(rec.case(r) for r in self._rows(
                RecordKind.CASE, rec.any_of(("ticketnumber", "title"), starts), SEARCH_TOP)))

    def record_url(self, ref: RecordRef) -> str:
        query = {"pagetype": "entityrecord", "etn": rec.LOGICAL[ref.kind],
                 "id": rec.guid(ref.id)}
        if self.app_id:
            query = {"appid": self.app_id, **query}
        return f"{self.client.org_url}/main.aspx?{urlencode(query)}"

    def activity_form_url(self, activity: CallActivity) -> str:
        """A new phone call form in the model-driven app, filled in from `activity`.

        The PhoneCall workflow opens it when the call ended and the agent picked nobody:
        the agent completes it (regarding, parties) and saves it in Dynamics itself.
        """
        query = {"pagetype": "entityrecord", "etn": "phonecall"}
        if self.app_id:
            query = {"appid": self.app_id, **query}
        return (f"{self.client.org_url}/main.aspx?{urlencode(query)}&extraqs="
                + rec.extraqs(rec.phonecall_form_fields(activity)))

    def get(self, ref: RecordRef) -> Contact | Account | Lead | Case:
        if ref.kind not in rec.FROM_JSON:
            raise RecordNotFound(f"there is no {ref.kind.value} {ref.id!r} in Dynamics 365")
        row = self.client.get(f"{rec.ENTITY_SETS[ref.kind]}({rec.guid(ref.id)})",
                              {"$select": ",".join(rec.SELECT[ref.kind])})
        result: Contact | Account | Lead | Case = rec.FROM_JSON[ref.kind](row)
        return result

    def recent_cases(self, contact_id: str, limit: int = 5) -> tuple[Case, ...]:
        where = f"_customerid_value eq {rec.guid(contact_id, 'contact')}"
        return tuple(rec.case(r) for r in self._rows(RecordKind.CASE, where, limit,
                                                     "modifiedon desc"))

    def find_activity(self, call_id: str) -> str | None:
        """The call's phone call once it is logged in full (created and closed).

        One created but still open (the close was throttled or its answer lost) counts as
        not there yet, so the outbox calls create_activity again, which closes it.
        """
        aid = rec.activity_id(call_id)
        try:
            row = self.client.get(f"phonecalls({aid})", {"$select": "activityid,statecode"})
        except RecordNotFound:
            return None
        return aid if row.get("statecode") != 0 else None

    # -- writing records -----------------------------------------------------------------------

    def _create_and_get(self, kind: RecordKind, body: dict[str, Any]) -> Any:
        new_id = self.client.create(rec.ENTITY_SETS[kind], body)
        return self.get(RecordRef(kind, rec.guid(new_id)))

    def create_contact(self, new: NewContact) -> Contact:
        if not (new.first_name.strip() or new.last_name.strip()):
            raise CrmError("a contact needs a first or a last name")
        body: dict[str, Any] = {"firstname": new.first_name.strip(),
                                "lastname": new.last_name.strip(),
                                "emailaddress1": new.email.strip() or None,
                                "jobtitle": new.title.strip() or None,
                                **self._phone_columns(RecordKind.CONTACT, new.phones)}
        if new.account_id:
            body["parentcustomerid_account@odata.bind"] = (
                f"/accounts({rec.guid(new.account_id, 'account')})")
        result: Contact = self._create_and_get(RecordKind.CONTACT, body)
        return result

    def create_account(self, new: NewAccount) -> Account:
        if not new.name.strip():
            raise CrmError("an account needs a name")
        result: Account = self._create_and_get(RecordKind.ACCOUNT, {
            "name": new.name.strip(), "emailaddress1": new.email.strip() or None,
            "websiteurl": new.website.strip() or None,
            **self._phone_columns(RecordKind.ACCOUNT, new.phones)})
        return result

    def create_lead(self, new: NewLead) -> Lead:
        if not (new.first_name.strip() or new.last_name.strip() or new.company.strip()):
            raise CrmError("a lead needs a name or a company")
        result: Lead = self._create_and_get(RecordKind.LEAD, {
            "firstname": new.first_name.strip(), "lastname": new.last_name.strip(),
            "companyname": new.company.strip() or None,
            "emailaddress1": new.email.strip() or None,
            **self._phone_columns(RecordKind.LEAD, new.phones)})
        return result

    def create_case(self, new: NewCase) -> Case:
        body: dict[str, Any] = {"title": (new.subject or "Phone call").strip()[:200],
                                "description": new.description or None}
        if new.contact_id:
            body["customerid_contact@odata.bind"] = (
                f"/contacts({rec.guid(new.contact_id, 'contact')})")
        elif new.account_id:
            body["customerid_account@odata.bind"] = (
                f"/accounts({rec.guid(new.account_id, 'account')})")
        else:
            raise CrmError("a case in Dynamics 365 needs a customer: choose a contact or an "
                           "account first")
        result: Case = self._create_and_get(RecordKind.CASE, body)
        return result

    def create_task(self, new: NewTask) -> Task:
        body: dict[str, Any] = {"subject": (new.subject or "Task").strip()[:200],
                                "description": new.description or None}
        if new.due_at is not None:
            body["scheduledend"] = rec.iso(new.due_at)
        if new.contact_id:
            body["regardingobjectid_contact_task@odata.bind"] = (
                f"/contacts({rec.guid(new.contact_id, 'contact')})")
        elif new.account_id:
            body["regardingobjectid_account_task@odata.bind"] = (
                f"/accounts({rec.guid(new.account_id, 'account')})")
        new_id = rec.guid(self.client.create("tasks", body))
        row = self.client.get(f"tasks({new_id})", {
            "$select": "subject,description,scheduledend,statecode,createdon,modifiedon"})
        return rec.task(row, new.contact_id, None if new.contact_id else new.account_id)

    def _phone_columns(self, kind: RecordKind, phones: tuple[str, ...]) -> dict[str, str]:
        cleaned = [self._e164(p) for p in phones if (p or "").strip()]
        columns = rec.PHONE_COLUMNS[kind]
        if len(cleaned) > len(columns):
            raise CrmError(f"a Dynamics 365 {rec.LOGICAL[kind]} has room for "
                           f"{len(columns)} phone numbers")
        return dict(zip(columns, cleaned, strict=False))

    def _e164(self, text: str) -> str:
        try:
            return numbers.normalise(text, self.region)
        except numbers.InvalidNumber as exc:
            raise CrmError(str(exc)) from None

    def attach_number(self, ref: RecordRef, number: str) -> None:
        if ref.kind not in _PHONE_KINDS:
            raise CrmError(f"a {ref.kind.value} has no phone numbers to update")
        e164 = self._e164(number)
        path = f"{rec.ENTITY_SETS[ref.kind]}({rec.guid(ref.id)})"
        row = self.client.get(path, {"$select": ",".join(rec.PHONE_COLUMNS[ref.kind])})
        if any(numbers.try_normalise(p, self.region) == e164
               for p in rec.phones(ref.kind, row)):
            return
        free = next((c for c in rec.PHONE_COLUMNS[ref.kind] if not row.get(c)), None)
        if free is None:
            raise CrmError(f"every phone field of this {rec.LOGICAL[ref.kind]} is in use; "
                           "add the number in Dynamics 365 itself")
        self.client.update(path, {free: e164})

    # -- phone calls ---------------------------------------------------------------------------

    def agent_user_id(self) -> str:
        """The signed-in agent's systemuserid (WhoAmI, asked once)."""
        return self._agent_user_id()

    def _agent_user_id(self) -> str:
        with self._lock:
            cached = self._user_id
        if cached is None:
            cached = rec.guid(str(self.client.get("WhoAmI").get("UserId", "")), "user")
            with self._lock:
                self._user_id = cached
        return cached

    def create_activity(self, activity: CallActivity) -> str:
        aid = rec.activity_id(activity.call_id)
        path = f"phonecalls({aid})"
        body = rec.phonecall_body(activity, self._agent_user_id())
        created = self.client.insert(path, body)
        if not created:
            # Already there: an earlier attempt got through but its answer was lost.
            row = self.client.get(path, {"$select": "statecode"})
            if row.get("statecode") != 0:
                return aid
        self.client.update(path, rec.close_body(activity.direction == "outbound"))
        return aid

    def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
        unknown = set(fields) - ACTIVITY_UPDATABLE
        if unknown:
            raise CrmError(f"a call activity has no field {', '.join(sorted(unknown))}")
        if not fields:
            return
        path = f"phonecalls({rec.guid(activity_id, 'phone call')})"
        row = self.client.get(path, {"$select": "description,directioncode,statecode"})
        notes, lines = rec.parse_description(row.get("description") or "")
        change: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "notes":
                notes = str(value)
            elif name == "recording_url":
                lines["Recording"] = str(value)
            elif name == "queue_wait_seconds":
                lines["Queue wait"] = f"{int(float(str(value)))} s"
            elif name == "result":
                lines["Result"] = str(value)
            elif name == "subject":
                change["subject"] = str(value)[: rec.SUBJECT_MAX]
            elif name == "ended_at" and isinstance(value, datetime):
                change["actualend"] = rec.iso(value)
            elif name == "duration_seconds":
                change["actualdurationminutes"] = rec.duration_minutes(float(str(value)))
            else:
                raise CrmError(f"{name} must be a date and time, not {value!r}")
        change["description"] = rec.description(notes, lines)
        if row.get("statecode") != 0:
            self.client.update(path, {"statecode": 0, "statuscode": 1})
        self.client.update(path, change)
        self.client.update(path, rec.close_body(bool(row.get("directioncode"))))

    def log_call_on_case(self, case_id: str, activity: CallActivity) -> None:
        """A phone call regarding the case (it shows on the case's timeline); same id rule."""
        case_ref = RecordRef(RecordKind.CASE, rec.guid(case_id, "case"))
        others = tuple(r for r in activity.regarding if r.kind is not RecordKind.CASE)
        self.create_activity(replace(activity, regarding=(case_ref, *others)))
