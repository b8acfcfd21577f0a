"""A second CrmBackend, in memory: proves the app takes any backend of core's port as it is.

Not a fake of an outside service (there are no documents to follow): it implements our own
port, `app.core.crm.CrmBackend`, with dictionaries, so a test can build the app with it
and read back what the app wrote. Its pages are the built-in ones
(`switchboard://crm/<kind>/<id>`), rendered from it by app/crm/local/pages.py like any
backend's. Every method may be called from a worker thread; one lock guards the data.
`calls` lists the methods the app called, in order, with their main argument.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone

from app.core.crm import (
    ACTIVITY_UPDATABLE,
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
from app.core.numbers import InvalidNumber, normalise

PAGES = "switchboard://crm/"


class MemoryCrm:
    """Contacts, accounts, leads, cases, tasks and logged calls, kept in dictionaries."""

    def __init__(self, region: str = "FI") -> None:
        self.region = region
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.contacts: dict[str, Contact] = {}
        self.accounts: dict[str, Account] = {}
        self.leads: dict[str, Lead] = {}
        self.cases: dict[str, Case] = {}
        self.tasks: dict[str, Task] = {}
        self.activities: dict[str, CallActivity] = {}  # activity id → the logged call
        self.case_logs: dict[str, dict[str, CallActivity]] = {}  # case id → call id → log
        self.calls: list[tuple[str, str]] = []

    # -- helpers ---------------------------------------------------------------------------

    def _id(self) -> str:
        return str(next(self._ids))

    def _phones(self, phones: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._e164(p) for p in phones)

    def _e164(self, number: str) -> str:
        try:
            return normalise(number, self.region)
        except InvalidNumber:
            return number

    def _called(self, method: str, arg: object = "") -> None:
        self.calls.append((method, str(arg)))

    # -- lookups -----------------------------------------------------------------------------

    def identify(self, number: str) -> IdentifyResult:
        with self._lock:
            self._called("identify", number)
            wanted = self._e164(number)
            return IdentifyResult(
                number,
                contacts=tuple(c for c in self.contacts.values() if wanted in c.phones),
                accounts=tuple(a for a in self.accounts.values() if wanted in a.phones),
                leads=tuple(lead for lead in self.leads.values() if wanted in lead.phones))

    def search(self, text: str) -> SearchResult:
        with self._lock:
            self._called("search", text)
            t = text.strip().casefold()

            def hit(*words: str) -> bool:
                return bool(t) and any(w.casefold().startswith(t) for w in words if w)
            return SearchResult(
                contacts=tuple(c for c in self.contacts.values()
                               if hit(c.first_name, c.last_name, c.email, c.account_name)),
                accounts=tuple(a for a in self.accounts.values() if hit(a.name, a.email)),
                leads=tuple(lead for lead in self.leads.values()
                            if hit(lead.first_name, lead.last_name, lead.company)),
                cases=tuple(c for c in self.cases.values() if hit(c.number, c.subject)))

    def record_url(self, ref: RecordRef) -> str:
        return f"{PAGES}{ref}"

    def get(self, ref: RecordRef) -> Contact | Account | Lead | Case:
        with self._lock:
            record: Contact | Account | Lead | Case | None = None
            if ref.kind is RecordKind.CONTACT:
                record = self.contacts.get(ref.id)
            elif ref.kind is RecordKind.ACCOUNT:
                record = self.accounts.get(ref.id)
            elif ref.kind is RecordKind.LEAD:
                record = self.leads.get(ref.id)
            elif ref.kind is RecordKind.CASE:
                record = self.cases.get(ref.id)
        if record is None:
            raise RecordNotFound(f"There is no {ref.kind.value} {ref.id}")
        return record

    def recent_cases(self, contact_id: str, limit: int = 5) -> tuple[Case, ...]:
        with self._lock:
            cases = [c for c in self.cases.values() if c.contact_id == contact_id]
        return tuple(sorted(cases, key=lambda c: c.modified_at or datetime.min.replace(
            tzinfo=timezone.utc), reverse=True)[:limit])

    # -- writes ------------------------------------------------------------------------------

    def create_contact(self, new: NewContact) -> Contact:
        with self._lock:
            self._called("create_contact", new.last_name)
            account = self.accounts.get(new.account_id or "")
            contact = Contact(self._id(), new.first_name, new.last_name, new.email,
                              new.title, new.account_id, account.name if account else "",
                              self._phones(new.phones))
            self.contacts[contact.id] = contact
            return contact

    def create_account(self, new: NewAccount) -> Account:
        with self._lock:
            self._called("create_account", new.name)
            account = Account(self._id(), new.name, new.email, new.website,
                              self._phones(new.phones))
            self.accounts[account.id] = account
            return account

    def create_lead(self, new: NewLead) -> Lead:
        with self._lock:
            self._called("create_lead", new.last_name)
            lead = Lead(self._id(), new.first_name, new.last_name, new.company, new.email,
                        phones=self._phones(new.phones))
            self.leads[lead.id] = lead
            return lead

    def create_case(self, new: NewCase) -> Case:
        with self._lock:
            self._called("create_case", new.subject)
            ident = self._id()
            case = Case(ident, f"MEM-{ident}", new.subject, new.status, new.description,
                        new.contact_id, new.account_id, datetime.now(timezone.utc))
            self.cases[case.id] = case
            return case

    def create_task(self, new: NewTask) -> Task:
        with self._lock:
            self._called("create_task", new.subject)
            task = Task(self._id(), new.subject, new.description, new.due_at,
                        contact_id=new.contact_id, account_id=new.account_id,
                        created_at=datetime.now(timezone.utc))
            self.tasks[task.id] = task
            return task

    def attach_number(self, ref: RecordRef, number: str) -> None:
        record = self.get(ref)
        with self._lock:
            self._called("attach_number", ref)
            if isinstance(record, Case):
                raise CrmError("A case has no phone numbers")
            phones = (*record.phones, self._e164(number))
            if isinstance(record, Contact):
                self.contacts[record.id] = replace(record, phones=phones)
            elif isinstance(record, Account):
                self.accounts[record.id] = replace(record, phones=phones)
            else:
                self.leads[record.id] = replace(record, phones=phones)

    # -- call logs: once per SIP Call-ID -------------------------------------------------------

    def create_activity(self, activity: CallActivity) -> str:
        with self._lock:
            self._called("create_activity", activity.call_id)
            for ident, logged in self.activities.items():
                if logged.call_id == activity.call_id:
                    return ident
            ident = self._id()
            self.activities[ident] = activity
            return ident

    def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
        unknown = set(fields) - ACTIVITY_UPDATABLE
        if unknown:
            raise CrmError(f"These fields of a logged call cannot be changed: {unknown}")
        with self._lock:
            self._called("update_activity", activity_id)
            if activity_id not in self.activities:
                raise RecordNotFound(f"There is no activity {activity_id}")
            self.activities[activity_id] = replace(self.activities[activity_id],
                                                   **fields)  # type: ignore[arg-type]

    def find_activity(self, call_id: str) -> str | None:
        with self._lock:
            self._called("find_activity", call_id)
            return next((i for i, a in self.activities.items() if a.call_id == call_id),
                        None)

    def log_call_on_case(self, case_id: str, activity: CallActivity) -> None:
        with self._lock:
            self._called("log_call_on_case", case_id)
            if case_id not in self.cases:
                raise RecordNotFound(f"There is no case {case_id}")
            self.case_logs.setdefault(case_id, {})[activity.call_id] = activity


__all__ = ["MemoryCrm"]
