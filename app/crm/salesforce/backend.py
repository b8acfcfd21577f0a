"""Salesforce as core's CrmBackend: identify, search, create, link and log calls as Tasks.

Follows the Salesforce REST API Developer Guide ("Parameterized Search", "sObject Basic
Information" create, "sObject Rows" update, "Insert or Update (Upsert) a Record Using an
External ID", "Query") and the Object Reference for Contact, Account, Lead, Case, Task.

Identify never builds SOSL from caller input: it asks parameterizedSearch (`in: PHONE`)
with the number as an escaped search string. Salesforce does not normalise phone numbers
the way we do, so it tries a ladder and stops at the first step that finds anything:
E.164 (`+358401234567`), the national form (`040 1234567`), the last
`trailing_digits` digits (hits kept only when one of their numbers ends in those digits).
Each step is one API request: a known caller costs 1, an unknown one 3.

Exactly once per call: REST create has no idempotency key. With `external_id_field` set
(a unique external-ID text field on Task) the Task is upserted keyed by the SIP Call-ID;
otherwise we query by `CallObject` (the Call-ID) before inserting.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import phonenumbers

from app.core import numbers
from app.core.activity import case_note
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
from app.crm.salesforce import records
from app.crm.salesforce.client import SalesforceClient
from app.crm.salesforce.errors import SalesforceRefused, SalesforceUnavailable, SignInRequired
from app.crm.salesforce.records import FIELDS, OBJECTS, PHONE_FIELDS, check_id, soql_string

NO_COMPANY = "[not provided]"  # Lead.Company is required; Salesforce's own placeholder
_PHONE_KINDS = (RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD)
_PHONE_TEXT = re.compile(r"^[0-9+()\-./\s]+$")
# External-ID values travel in the URL path; a Call-ID with these cannot (see create).
_UNSAFE_IN_PATH = re.compile(r"[/?#%\\]")


class SalesforceBackend:
    """The CrmBackend of one Salesforce org. Every method blocks: call it off the GUI thread."""

    def __init__(self, client: SalesforceClient, *, region: str = "FI",
                 external_id_field: str = "", trailing_digits: int = 7,
                 recording_field: str = "", queue_wait_field: str = "") -> None:
        self.client = client
        self.region = region
        self.external_id_field = external_id_field
        self.trailing_digits = trailing_digits
        self.recording_field = recording_field
        self.queue_wait_field = queue_wait_field

    # -- identify and search ------------------------------------------------------------

    def identify(self, number: str) -> IdentifyResult:
        for term, trailing in self.ladder(number):
            rows = self._phone_search(term)
            if trailing:
                rows = [r for r in rows if _ends_with(r, term)]
            if rows:
                return _result(number, rows)
        return IdentifyResult(number)

    def ladder(self, number: str) -> list[tuple[str, bool]]:
        """The search terms tried in order, each with "keep only trailing-digit matches"."""
        e164 = numbers.try_normalise(number, self.region)
        if e164 is None or not e164.startswith("+"):
            digits = re.sub(r"\D", "", number or "")
            return [(digits, False)] if len(digits) >= 3 else []
        parsed = phonenumbers.parse(e164)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        terms = [(e164, False), (national, False)]
        significant = phonenumbers.national_significant_number(parsed)
        if 0 < self.trailing_digits < len(significant):
            terms.append((significant[-self.trailing_digits:], True))
        return list(dict.fromkeys(terms))

    def _phone_search(self, term: str) -> list[dict[str, Any]]:
        lead_filter = {"where": "IsConverted = false"}
        body = {"q": records.search_text(term), "in": "PHONE", "overallLimit": 3 * MAX_MATCHES,
                "sobjects": [{"name": "Contact", "fields": list(FIELDS["Contact"]),
                              "limit": MAX_MATCHES},
                             {"name": "Account", "fields": list(FIELDS["Account"]),
                              "limit": MAX_MATCHES},
                             {"name": "Lead", "fields": list(FIELDS["Lead"]),
                              "limit": MAX_MATCHES, **lead_filter}]}
        return _search_records(self.client.post("/parameterizedSearch", body))

    def search(self, text: str) -> SearchResult:
        text = (text or "").strip()[:100]
        if len(text) < 2:  # Salesforce search needs two characters
            return SearchResult()
        if _PHONE_TEXT.match(text) and len(re.sub(r"\D", "", text)) >= 5:
            # Digits may be a phone number (the identify ladder) or a case number.
            found = self.identify(text)
            cases = self._text_search(text, ("Case",)).cases
            return SearchResult(found.contacts, found.accounts, found.leads, cases)
        return self._text_search(text, ("Contact", "Account", "Lead", "Case"))

    def _text_search(self, text: str, sobjects: tuple[str, ...]) -> SearchResult:
        body = {"q": records.search_text(text), "in": "ALL",
                "overallLimit": len(sobjects) * MAX_MATCHES,
                "sobjects": [{"name": name, "fields": list(FIELDS[name]), "limit": MAX_MATCHES,
                              **({"where": "IsConverted = false"} if name == "Lead" else {})}
                             for name in sobjects]}
        rows = _search_records(self.client.post("/parameterizedSearch", body))
        hits = [records.record(r) for r in rows]
        return SearchResult(
            contacts=tuple(r for r in hits if isinstance(r, Contact)),
            accounts=tuple(r for r in hits if isinstance(r, Account)),
            leads=tuple(r for r in hits if isinstance(r, Lead)),
            cases=tuple(r for r in hits if isinstance(r, Case)))

    # -- reading ------------------------------------------------------------------------

    def record_url(self, ref: RecordRef) -> str:
        # Called on the GUI thread: no I/O here. A refresh would block the window for as
        # long as the org takes (and wait for a refresh running on the network lane).
        session = self.client.auth.current()
        if session is None:
            raise SignInRequired("Switchboard has no Salesforce session right now, so the "
                                 "record cannot be opened; it opens once Salesforce "
                                 "answers again (or after you sign in).")
        return f"{session.instance_url}/lightning/r/{OBJECTS[ref.kind]}/{check_id(ref.id)}/view"

    def get(self, ref: RecordRef) -> Contact | Account | Lead | Case:
        sobject = OBJECTS[ref.kind]
        if sobject not in records.PARSERS:
            raise RecordNotFound(f"a {ref.kind.value} cannot be opened as a record here")
        rows = self.client.query(f"SELECT {', '.join(FIELDS[sobject])} FROM {sobject} "
                                 f"WHERE Id = {soql_string(check_id(ref.id))} LIMIT 1")
        if not rows:
            raise RecordNotFound(f"the {ref.kind.value} {ref.id} is not in Salesforce "
                                 "(it may have been deleted or you may not see it)")
        parsed: Contact | Account | Lead | Case = records.PARSERS[sobject](rows[0])
        return parsed

    def recent_cases(self, contact_id: str, limit: int = 5) -> tuple[Case, ...]:
        rows = self.client.query(
            f"SELECT {', '.join(FIELDS['Case'])} FROM Case WHERE ContactId = "
            f"{soql_string(check_id(contact_id, 'contact'))} "
            f"ORDER BY LastModifiedDate DESC LIMIT {max(1, min(int(limit), 50))}")
        return tuple(records.case(r) for r in rows)

    def find_activity(self, call_id: str) -> str | None:
        # CallObject is filled whether the Task was upserted or inserted, so one query
        # finds both (and Tasks logged before the admin added the external-ID field).
        rows = self.client.query(f"SELECT Id FROM Task WHERE CallObject = "
                                 f"{soql_string(call_id)} ORDER BY CreatedDate ASC LIMIT 1")
        return str(rows[0]["Id"]) if rows else None

    # -- creating -----------------------------------------------------------------------

    def create_contact(self, new: NewContact) -> Contact:
        first, last = new.first_name.strip(), new.last_name.strip()
        if not (first or last):
            raise CrmError("a contact needs a first or a last name")
        body = {"FirstName": first if last else "", "LastName": last or first,
                "Email": new.email.strip(), "Title": new.title.strip(),
                **self._phone_fields("Contact", new.phones)}
        if new.account_id:
            body["AccountId"] = check_id(new.account_id, "account")
        rid = self._insert("Contact", body)
        return Contact(rid, body["FirstName"], body["LastName"], body["Email"], body["Title"],
                       new.account_id, "", self._phones_of("Contact", body))

    def create_account(self, new: NewAccount) -> Account:
        if not new.name.strip():
            raise CrmError("an account needs a name")
        if new.email.strip():
            raise CrmError("a Salesforce account has no e-mail field; add the e-mail to a "
                           "contact of the account instead")
        body = {"Name": new.name.strip(), "Website": new.website.strip(),
                **self._phone_fields("Account", new.phones)}
        rid = self._insert("Account", body)
        return Account(rid, body["Name"], "", body["Website"], self._phones_of("Account", body))

    def create_lead(self, new: NewLead) -> Lead:
        first, last = new.first_name.strip(), new.last_name.strip()
        company = new.company.strip()
        if not (first or last or company):
            raise CrmError("a lead needs a name or a company")
        body = {"FirstName": first if last else "", "LastName": last or first or company,
                "Company": company or NO_COMPANY, "Email": new.email.strip(),
                **self._phone_fields("Lead", new.phones)}
        rid = self._insert("Lead", body)
        return Lead(rid, body["FirstName"], body["LastName"], body["Company"], body["Email"],
                    "open", self._phones_of("Lead", body))

    def create_case(self, new: NewCase) -> Case:
        body: dict[str, Any] = {"Subject": (new.subject.strip() or "Phone call")
                                [:records.SUBJECT_MAX],
                                "Description": new.description.strip()[:records.TEXT_MAX],
                                "Status": records.case_status(new.status), "Origin": "Phone"}
        if new.contact_id:
            body["ContactId"] = check_id(new.contact_id, "contact")
        if new.account_id:
            body["AccountId"] = check_id(new.account_id, "account")
        rid = self._insert("Case", body)
        # The case number is given by the org: read it back (one more request).
        found = self.get(RecordRef(RecordKind.CASE, rid))
        assert isinstance(found, Case)
        return found

    def create_task(self, new: NewTask) -> Task:
        body: dict[str, Any] = {"Subject": (new.subject.strip() or "Task")[:records.SUBJECT_MAX],
                                "Description": new.description.strip()[:records.TEXT_MAX],
                                "Status": "Not Started"}
        if new.due_at is not None:
            body["ActivityDate"] = new.due_at.date().isoformat()
        if new.contact_id:
            body["WhoId"] = check_id(new.contact_id, "contact")
        if new.account_id:
            body["WhatId"] = check_id(new.account_id, "account")
        rid = self._insert("Task", body)
        return Task(rid, body["Subject"], body["Description"], new.due_at, "open",
                    new.contact_id, new.account_id)

    def attach_number(self, ref: RecordRef, number: str) -> None:
        if ref.kind not in _PHONE_KINDS:
            raise CrmError(f"a {ref.kind.value} has no phone numbers to update")
        try:
            e164 = numbers.normalise(number, self.region)
        except numbers.InvalidNumber as exc:
            raise CrmError(str(exc)) from None
        sobject = OBJECTS[ref.kind]
        rows = self.client.query(f"SELECT {', '.join(PHONE_FIELDS[sobject])} FROM {sobject} "
                                 f"WHERE Id = {soql_string(check_id(ref.id))} LIMIT 1")
        if not rows:
            raise RecordNotFound(f"the {ref.kind.value} {ref.id} is not in Salesforce")
        current = {f: str(rows[0].get(f) or "") for f in PHONE_FIELDS[sobject]}
        if any(numbers.match_key(v, self.region) == e164 for v in current.values() if v):
            return  # already there: the next call matches
        free = next((f for f, v in current.items() if not v), None)
        if free is None:
            raise CrmError(f"every phone field of this {ref.kind.value} is filled; change one "
                           "in Salesforce")
        self.client.patch(f"/sobjects/{sobject}/{ref.id}", {free: e164})

    # -- call activities ----------------------------------------------------------------

    def create_activity(self, activity: CallActivity) -> str:
        return self._log_task(activity, records.task_body(
            activity, recording_field=self.recording_field,
            queue_wait_field=self.queue_wait_field))

    def log_call_on_case(self, case_id: str, activity: CallActivity) -> None:
        # Salesforce keeps a case's calls as Tasks related to it (WhatId): they show in the
        # case's activity timeline. The Task carries the whole call summary as text.
        people = tuple(r for r in activity.regarding if r.kind is RecordKind.CONTACT)
        on_case = dataclasses.replace(
            activity, regarding=(RecordRef(RecordKind.CASE, check_id(case_id, "case")),
                                 *people))
        self._log_task(on_case, records.task_body(
            on_case, description=case_note(activity), recording_field=self.recording_field,
            queue_wait_field=self.queue_wait_field))

    def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
        unknown = set(fields) - ACTIVITY_UPDATABLE
        if unknown:
            raise CrmError(f"a call activity has no field {', '.join(sorted(unknown))}")
        body = records.task_update(fields, recording_field=self.recording_field,
                                   queue_wait_field=self.queue_wait_field)
        if body:
            self.client.patch(f"/sobjects/Task/{check_id(activity_id, 'task')}", body)

    def _log_task(self, activity: CallActivity, body: dict[str, Any]) -> str:
        field = self.external_id_field
        if field and not _UNSAFE_IN_PATH.search(activity.call_id):
            return self._upsert_task(field, activity.call_id, body)
        existing = self.find_activity(activity.call_id)
        if existing is not None:
            return existing
        return self._insert("Task", body)

    def _upsert_task(self, field: str, call_id: str, body: dict[str, Any]) -> str:
        path = f"/sobjects/Task/{field}/{quote(call_id, safe='')}"
        try:
            reply = self.client.patch(path, body)
        except SalesforceRefused as exc:
            # The Task exists already (the answer to our first try got lost) and upsert
            # turned into an update of TaskSubtype, which is create-only: it is there.
            if "INVALID_FIELD_FOR_INSERT_UPDATE" not in exc.codes:
                raise
            found = self.find_activity(call_id)
            if found is None:
                raise
            return found
        if isinstance(reply.data, dict) and reply.data.get("id"):
            return str(reply.data["id"])
        found = self.find_activity(call_id)
        if found is None:
            raise SalesforceUnavailable("Salesforce accepted the call log but did not say "
                                        "which Task it is; checking again later.", 60.0)
        return found

    # -- helpers ------------------------------------------------------------------------

    def _insert(self, sobject: str, body: dict[str, Any]) -> str:
        data = self.client.post(f"/sobjects/{sobject}", {k: v for k, v in body.items()
                                                         if v not in ("", None)})
        rid = data.get("id") if isinstance(data, dict) else None
        if not isinstance(rid, str) or not rid:
            raise SalesforceUnavailable(f"Salesforce did not say which {sobject} it created; "
                                        "checking again later.", 60.0)
        return rid

    def _phone_fields(self, sobject: str, phones: tuple[str, ...]) -> dict[str, str]:
        written: list[str] = []
        for raw in phones:
            if not raw.strip():
                continue
            try:
                written.append(numbers.normalise(raw, self.region))
            except numbers.InvalidNumber as exc:
                raise CrmError(str(exc)) from None
        written = list(dict.fromkeys(written))
        slots = PHONE_FIELDS[sobject]
        if len(written) > len(slots):
            raise CrmError(f"a Salesforce {sobject.lower()} has room for {len(slots)} phone "
                           f"number(s), not {len(written)}")
        return dict(zip(slots, written, strict=False))

    @staticmethod
    def _phones_of(sobject: str, body: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(body[f]) for f in PHONE_FIELDS[sobject] if body.get(f))


def _search_records(data: Any) -> list[dict[str, Any]]:
    rows = data.get("searchRecords") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SalesforceUnavailable("Salesforce answered the search without results.", 60.0)
    return [r for r in rows if isinstance(r, dict)]


def _ends_with(row: Mapping[str, Any], digits: str) -> bool:
    sobject = (row.get("attributes") or {}).get("type", "")
    return any(re.sub(r"\D", "", str(row.get(f) or "")).endswith(digits)
               for f in PHONE_FIELDS.get(sobject, ()))


def _result(number: str, rows: list[dict[str, Any]]) -> IdentifyResult:
    found = [records.record(r) for r in rows]
    contacts = tuple(r for r in found if isinstance(r, Contact))
    accounts = tuple(r for r in found if isinstance(r, Account))
    leads = tuple(r for r in found if isinstance(r, Lead))
    return IdentifyResult(number, contacts[:MAX_MATCHES], accounts[:MAX_MATCHES],
                          leads[:MAX_MATCHES],
                          truncated=any(len(g) >= MAX_MATCHES
                                        for g in (contacts, accounts, leads)))
