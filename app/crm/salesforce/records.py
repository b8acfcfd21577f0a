"""Salesforce JSON ⇄ core's CRM records, and safe literals for SOQL and search strings.

Pure: no HTTP. Field names follow the Salesforce Object Reference (Contact, Account, Lead,
Case, Task). Everything the org sends stays plain data here; escaping for display is the
UI's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from app.core.crm import (
    Account,
    CallActivity,
    Case,
    Contact,
    CrmError,
    Lead,
    RecordKind,
    RecordNotFound,
    RecordRef,
    Task,
)

OBJECTS = {RecordKind.CONTACT: "Contact", RecordKind.ACCOUNT: "Account",
           RecordKind.LEAD: "Lead", RecordKind.CASE: "Case", RecordKind.ACTIVITY: "Task"}
PHONE_FIELDS = {"Contact": ("Phone", "MobilePhone", "HomePhone", "OtherPhone"),
                "Account": ("Phone",), "Lead": ("Phone", "MobilePhone")}
FIELDS = {
    "Contact": ("Id", "FirstName", "LastName", "Email", "Title", "AccountId", "Account.Name",
                *PHONE_FIELDS["Contact"]),
    "Account": ("Id", "Name", "Website", *PHONE_FIELDS["Account"]),
    "Lead": ("Id", "FirstName", "LastName", "Company", "Email", "Status",
             *PHONE_FIELDS["Lead"]),
    "Case": ("Id", "CaseNumber", "Subject", "Status", "Description", "ContactId", "AccountId",
             "LastModifiedDate"),
    "Task": ("Id", "Subject", "Description", "ActivityDate", "Status", "WhoId", "WhatId",
             "CreatedDate", "LastModifiedDate"),
}
SUBJECT_MAX = 255  # Task.Subject and Case.Subject
TEXT_MAX = 32000  # Description (long text area)
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
# Reserved characters of a search string (SOSL "FIND" syntax, also used by q of
# parameterizedSearch): escaped so caller text is searched literally, never as operators.
_SEARCH_RESERVED = re.compile(r"([?&|!{}\[\]()^~*:\\\"'+\-])")


def check_id(ident: str | None, what: str = "record") -> str:
    """A Salesforce record id (15 or 18 letters and digits), or RecordNotFound."""
    if ident is None or not _ID.match(ident):
        raise RecordNotFound(f"{ident!r} is not a Salesforce {what} id")
    return ident


def soql_string(value: str) -> str:
    """A SOQL string literal: quotes and backslashes escaped, control characters refused."""
    if any(ord(c) < 32 for c in value):
        raise CrmError("the value has control characters and cannot be searched for")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_text(value: str) -> str:
    """Caller text as a literal search string (reserved characters escaped)."""
    return _SEARCH_RESERVED.sub(r"\\\1", value)


def sf_datetime(value: object) -> datetime | None:
    """`2024-05-20T20:49:32.000+0000` → an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _s(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return value if isinstance(value, str) else ""


def _opt(row: Mapping[str, Any], name: str) -> str | None:
    return _s(row, name) or None


def _phones(row: Mapping[str, Any], sobject: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in (_s(row, f) for f in PHONE_FIELDS[sobject]) if p))


def contact(row: Mapping[str, Any]) -> Contact:
    account = row.get("Account")
    return Contact(id=_s(row, "Id"), first_name=_s(row, "FirstName"),
                   last_name=_s(row, "LastName"), email=_s(row, "Email"),
                   title=_s(row, "Title"), account_id=_opt(row, "AccountId"),
                   account_name=_s(account, "Name") if isinstance(account, dict) else "",
                   phones=_phones(row, "Contact"))


def account(row: Mapping[str, Any]) -> Account:
    return Account(id=_s(row, "Id"), name=_s(row, "Name"), website=_s(row, "Website"),
                   phones=_phones(row, "Account"))


def lead(row: Mapping[str, Any]) -> Lead:
    return Lead(id=_s(row, "Id"), first_name=_s(row, "FirstName"),
                last_name=_s(row, "LastName"), company=_s(row, "Company"),
                email=_s(row, "Email"), status=_s(row, "Status") or "open",
                phones=_phones(row, "Lead"))


def case(row: Mapping[str, Any]) -> Case:
    return Case(id=_s(row, "Id"), number=_s(row, "CaseNumber"), subject=_s(row, "Subject"),
                status=_s(row, "Status") or "open", description=_s(row, "Description"),
                contact_id=_opt(row, "ContactId"), account_id=_opt(row, "AccountId"),
                modified_at=sf_datetime(row.get("LastModifiedDate")))


def task(row: Mapping[str, Any]) -> Task:
    due = _s(row, "ActivityDate")
    who, what = _s(row, "WhoId"), _s(row, "WhatId")
    return Task(id=_s(row, "Id"), subject=_s(row, "Subject"),
                description=_s(row, "Description"),
                due_at=datetime.fromisoformat(due) if due else None,
                status="done" if _s(row, "Status") == "Completed" else "open",
                contact_id=who if who.startswith("003") else None,
                account_id=what if what.startswith("001") else None,
                created_at=sf_datetime(row.get("CreatedDate")),
                modified_at=sf_datetime(row.get("LastModifiedDate")))


PARSERS: dict[str, Callable[[Mapping[str, Any]], Contact | Account | Lead | Case]] = {
    "Contact": contact, "Account": account, "Lead": lead, "Case": case}


def record(row: Mapping[str, Any]) -> Contact | Account | Lead | Case | None:
    """A search or query row by its `attributes.type`; None for kinds we do not show."""
    attributes = row.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    parser = PARSERS.get(sobject) if isinstance(sobject, str) else None
    return parser(row) if parser is not None else None


def case_status(status: str) -> str:
    """Our status words → Case.Status picklist values of a default org."""
    return {"open": "New", "closed": "Closed", "": "New"}.get(status.strip().lower(),
                                                              status.strip())


def who_and_what(regarding: tuple[RecordRef, ...]) -> tuple[str | None, str | None]:
    """WhoId (a contact or lead) and WhatId (a case, else an account) for an activity.

    Salesforce refuses a WhatId on a task whose WhoId is a lead, so a lead wins alone.
    """
    who = next((r.id for r in regarding
                if r.kind in (RecordKind.CONTACT, RecordKind.LEAD)), None)
    what = next((r.id for r in regarding if r.kind is RecordKind.CASE), None) or \
        next((r.id for r in regarding if r.kind is RecordKind.ACCOUNT), None)
    if who is not None and any(r.kind is RecordKind.LEAD and r.id == who for r in regarding):
        what = None
    return who, what


def call_type(direction: str) -> str:
    return {"inbound": "Inbound", "outbound": "Outbound"}.get(direction, "Internal")


def task_body(activity: CallActivity, *, description: str | None = None,
              recording_field: str = "", queue_wait_field: str = "") -> dict[str, Any]:
    """The Task of a logged call (Object Reference: Task, call fields).

    `description` replaces the notes (log_call_on_case writes the whole call summary).
    """
    who, what = who_and_what(activity.regarding)
    body: dict[str, Any] = {
        "TaskSubtype": "Call",
        "Subject": activity.subject[:SUBJECT_MAX],
        "Status": "Completed",
        "ActivityDate": activity.started_at.date().isoformat(),
        "CallType": call_type(activity.direction),
        "CallDurationInSeconds": int(activity.duration_seconds),
        "CallObject": activity.call_id,
        "CallDisposition": activity.result,
        "Description": (activity.notes if description is None else description)[:TEXT_MAX],
    }
    if who is not None:
        body["WhoId"] = who
    if what is not None:
        body["WhatId"] = what
    if recording_field and activity.recording_url:
        body[recording_field] = activity.recording_url
    if queue_wait_field and activity.queue:
        body[queue_wait_field] = int(activity.queue_wait_seconds)
    return body


def task_update(fields: Mapping[str, object], *, recording_field: str = "",
                queue_wait_field: str = "") -> dict[str, Any]:
    """An update_activity field map (see core's ACTIVITY_UPDATABLE) → Task fields.

    `ended_at` has no Task field, and the recording link and queue wait only have one
    when the admin configured it; those are left out (the README says so).
    """
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "notes":
            body["Description"] = str(value)[:TEXT_MAX]
        elif name == "subject":
            body["Subject"] = str(value)[:SUBJECT_MAX]
        elif name == "result":
            body["CallDisposition"] = str(value)
        elif name == "duration_seconds":
            body["CallDurationInSeconds"] = int(str(value))
        elif name == "recording_url" and recording_field:
            body[recording_field] = str(value)
        elif name == "queue_wait_seconds" and queue_wait_field:
            body[queue_wait_field] = int(str(value))
    return body
