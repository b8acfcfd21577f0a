"""Pure translation between Dataverse JSON and our records: OData literals, phone calls.

Nothing here does I/O, so the exact phone call body (parties, direction, regarding binds)
is tested without a server. Column names follow the Dataverse table reference (contact,
account, lead, incident, task, phonecall, activityparty).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

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

# One fixed namespace: the same SIP Call-ID always gives the same phone call id, on every
# machine, so a retried write is an upsert of the same record, never a second one.
PHONECALL_NAMESPACE = uuid.UUID("6f1d3c52-7a4e-5b7e-9c39-2b8f0e5d7a10")

ENTITY_SETS = {RecordKind.CONTACT: "contacts", RecordKind.ACCOUNT: "accounts",
               RecordKind.LEAD: "leads", RecordKind.CASE: "incidents",
               RecordKind.ACTIVITY: "phonecalls"}
LOGICAL = {RecordKind.CONTACT: "contact", RecordKind.ACCOUNT: "account",
           RecordKind.LEAD: "lead", RecordKind.CASE: "incident",
           RecordKind.ACTIVITY: "phonecall"}
PHONE_COLUMNS = {RecordKind.CONTACT: ("telephone1", "telephone2", "mobilephone", "telephone3"),
                 RecordKind.ACCOUNT: ("telephone1", "telephone2", "telephone3"),
                 RecordKind.LEAD: ("telephone1", "telephone2", "mobilephone", "telephone3")}
SELECT = {
    RecordKind.CONTACT: ("firstname", "lastname", "emailaddress1", "jobtitle",
                         "_parentcustomerid_value", *PHONE_COLUMNS[RecordKind.CONTACT]),
    RecordKind.ACCOUNT: ("name", "emailaddress1", "websiteurl",
                         *PHONE_COLUMNS[RecordKind.ACCOUNT]),
    RecordKind.LEAD: ("firstname", "lastname", "companyname", "emailaddress1", "statecode",
                      *PHONE_COLUMNS[RecordKind.LEAD]),
    RecordKind.CASE: ("ticketnumber", "title", "description", "statecode",
                      "_customerid_value", "modifiedon"),
}
DESCRIPTION_MAX = 2000  # phonecall.description MaxLength
SUBJECT_MAX = 200
STATUS_MADE, STATUS_RECEIVED = 2, 4  # phonecall statuscode of statecode 1 (Completed)
DETAILS_MARK = "-- Switchboard --"
_LOOKUP_NAME = "@OData.Community.Display.V1.FormattedValue"
_LOOKUP_KIND = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def activity_id(call_id: str) -> str:
    """The phone call's activityid for a SIP Call-ID (uuid5, deterministic)."""
    if not call_id:
        raise CrmError("a call without a SIP Call-ID cannot be logged exactly once")
    return str(uuid.uuid5(PHONECALL_NAMESPACE, call_id))


def guid(text: str, what: str = "record") -> str:
    """`text` as a Dataverse id, or RecordNotFound (never a path segment from outside)."""
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        raise RecordNotFound(f"{text!r} is not a Dynamics 365 {what} id") from None


def literal(value: str) -> str:
    """An OData string literal: quotes doubled (filter-rows, "Manage single quotes")."""
    return "'" + value.replace("'", "''") + "'"


def like_literal(value: str) -> str:
    """A literal for contains/startswith/endswith, whose values are LIKE patterns."""
    return literal(re.sub(r"([%_\[])", r"[\1]", value))


def any_of(columns: tuple[str, ...], template: str) -> str:
    return " or ".join(template.format(col=c) for c in columns)


def when(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def phones(kind: RecordKind, row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row[c]) for c in PHONE_COLUMNS[kind] if row.get(c))


def contact(row: Mapping[str, Any]) -> Contact:
    parent = row.get("_parentcustomerid_value")
    is_account = row.get("_parentcustomerid_value" + _LOOKUP_KIND) == "account"
    return Contact(id=str(row["contactid"]), first_name=row.get("firstname") or "",
                   last_name=row.get("lastname") or "", email=row.get("emailaddress1") or "",
                   title=row.get("jobtitle") or "",
                   account_id=str(parent) if parent and is_account else None,
                   account_name=(row.get("_parentcustomerid_value" + _LOOKUP_NAME) or ""
                                 if is_account else ""),
                   phones=phones(RecordKind.CONTACT, row))


def account(row: Mapping[str, Any]) -> Account:
    return Account(id=str(row["accountid"]), name=row.get("name") or "",
                   email=row.get("emailaddress1") or "", website=row.get("websiteurl") or "",
                   phones=phones(RecordKind.ACCOUNT, row))


def lead(row: Mapping[str, Any]) -> Lead:
    status = {0: "open", 1: "qualified", 2: "disqualified"}.get(row.get("statecode") or 0,
                                                                "open")
    return Lead(id=str(row["leadid"]), first_name=row.get("firstname") or "",
                last_name=row.get("lastname") or "", company=row.get("companyname") or "",
                email=row.get("emailaddress1") or "", status=status,
                phones=phones(RecordKind.LEAD, row))


def case(row: Mapping[str, Any]) -> Case:
    customer = row.get("_customerid_value")
    kind = row.get("_customerid_value" + _LOOKUP_KIND)
    status = {0: "open", 1: "resolved", 2: "cancelled"}.get(row.get("statecode") or 0, "open")
    return Case(id=str(row["incidentid"]), number=row.get("ticketnumber") or "",
                subject=row.get("title") or "", status=status,
                description=row.get("description") or "",
                contact_id=str(customer) if customer and kind == "contact" else None,
                account_id=str(customer) if customer and kind == "account" else None,
                modified_at=when(row.get("modifiedon")))


def task(row: Mapping[str, Any], contact_id: str | None, account_id: str | None) -> Task:
    return Task(id=str(row["activityid"]), subject=row.get("subject") or "",
                description=row.get("description") or "", due_at=when(row.get("scheduledend")),
                status="open" if (row.get("statecode") or 0) == 0 else "done",
                contact_id=contact_id, account_id=account_id,
                created_at=when(row.get("createdon")), modified_at=when(row.get("modifiedon")))


FROM_JSON: dict[RecordKind, Callable[[Mapping[str, Any]], Contact | Account | Lead | Case]] = {
    RecordKind.CONTACT: contact, RecordKind.ACCOUNT: account, RecordKind.LEAD: lead,
    RecordKind.CASE: case}


# -- the phone call ----------------------------------------------------------------------------

def _bind(ref: RecordRef) -> str:
    return f"/{ENTITY_SETS[ref.kind]}({guid(ref.id)})"


def regarding(refs: tuple[RecordRef, ...]) -> RecordRef | None:
    """The one record a phone call is about: the case, else the contact, account, lead."""
    for kind in (RecordKind.CASE, RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD):
        for ref in refs:
            if ref.kind is kind:
                return ref
    return None


def customer(refs: tuple[RecordRef, ...]) -> RecordRef | None:
    """The party on the other end: a contact, else an account, else a lead."""
    for kind in (RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD):
        for ref in refs:
            if ref.kind is kind:
                return ref
    return None


def details(activity: CallActivity) -> dict[str, str]:
    """The call facts Dataverse has no column for, as "Key: value" lines."""
    lines = {"Result": activity.result}
    if activity.answered_at:  # actualstart is when it arrived
        lines["Answered at"] = activity.answered_at
    if activity.queue:
        lines["Queue"] = activity.queue
        lines["Queue wait"] = f"{int(activity.queue_wait_seconds)} s"
    if activity.display_number:
        lines["Number shown"] = activity.display_number
    if activity.recording_url:
        lines["Recording"] = activity.recording_url
    lines["Call-ID"] = activity.call_id
    return lines


def description(notes: str, lines: Mapping[str, str]) -> str:
    tail = "\n".join([DETAILS_MARK, *(f"{k}: {v}" for k, v in lines.items())])
    room = DESCRIPTION_MAX - len(tail) - 2
    notes = notes.strip()
    if len(notes) > room:
        notes = notes[: max(0, room - 1)] + "…"
    return f"{notes}\n\n{tail}" if notes else tail


def parse_description(text: str) -> tuple[str, dict[str, str]]:
    """(notes, detail lines) of a description written by `description`."""
    notes, mark, tail = (text or "").partition(DETAILS_MARK)
    if not mark:
        return (text or "").strip(), {}
    lines = {}
    for line in tail.strip().splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            lines[key] = value
    return notes.strip(), lines


def duration_minutes(seconds: float) -> int:
    return math.ceil(max(0.0, seconds) / 60)


def phonecall_body(activity: CallActivity, agent_user_id: str) -> dict[str, Any]:
    """The phone call as created: columns, regarding bind, parties (From = 1, To = 2)."""
    outbound = activity.direction == "outbound"
    body: dict[str, Any] = {
        "subject": (activity.subject or "Phone call")[:SUBJECT_MAX],
        "phonenumber": activity.caller_number,
        "directioncode": outbound,
        "description": description(activity.notes, details(activity)),
        "actualstart": iso(activity.started_at),
        "actualend": iso(activity.ended_at),
        "actualdurationminutes": duration_minutes(activity.duration_seconds),
    }
    about = regarding(activity.regarding)
    if about is not None:
        # The phone-call-specific navigation property; the short `regardingobjectid_contact`
        # belongs to activitypointer and Dataverse refuses it on a phone call.
        body[f"regardingobjectid_{LOGICAL[about.kind]}_phonecall@odata.bind"] = _bind(about)
    agent = {"partyid_systemuser@odata.bind": f"/systemusers({guid(agent_user_id)})"}
    who = customer(activity.regarding)
    other = ({f"partyid_{LOGICAL[who.kind]}@odata.bind": _bind(who)} if who is not None
             else None)
    caller, callee = (agent, other) if outbound else (other, agent)
    parties = []
    if caller is not None:
        parties.append({**caller, "participationtypemask": 1})
    if callee is not None:
        parties.append({**callee, "participationtypemask": 2})
    body["phonecall_activity_parties"] = parties
    return body


def phonecall_form_fields(activity: CallActivity) -> dict[str, str]:
    """A new phone call form's values (`extraqs`) for a call nobody was picked for.

    "Set column values using parameters passed to a form": Boolean columns as 0/1; dates
    are left to the form (their text format is the user's locale), so the times go into
    the description with the other details.
    """
    lines = {"Started": iso(activity.started_at), "Ended": iso(activity.ended_at),
             **details(activity)}
    return {"subject": (activity.subject or "Phone call")[:SUBJECT_MAX],
            "phonenumber": activity.caller_number,
            "directioncode": "1" if activity.direction == "outbound" else "0",
            "actualdurationminutes": str(duration_minutes(activity.duration_seconds)),
            "description": description(activity.notes, lines)}


def extraqs(fields: Mapping[str, str]) -> str:
    """The `extraqs` value: each value encoded, then the whole (so `=` and `&` survive)."""
    inner = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items())
    return quote(inner, safe="")


def close_body(outbound: bool) -> dict[str, int]:
    return {"statecode": 1, "statuscode": STATUS_MADE if outbound else STATUS_RECEIVED}
