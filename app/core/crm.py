"""The one interface every CRM backend offers, and the plain records it speaks in.

This is core's port: adapters in app/crm/ (built-in, Salesforce, Dynamics) implement it and
import it from here; core never imports an adapter. Backends turn their own shapes into the
frozen dataclasses below; nothing backend-specific (rows, JSON, SObject names) leaks out.
Failures are two exception types an agent can act on: `CrmUnavailable` (try again later,
the call goes on) and `CrmError` (this request is wrong and will stay wrong).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

MAX_MATCHES = 10  # per record kind; more than this is "many" and the dialog offers search


class CrmError(Exception):
    """A CRM request failed and retrying the same request will not help.

    The message is written for the agent ("the case number is missing"), not for us.
    """


class CrmUnavailable(CrmError):
    """The CRM could not be reached or is busy; the same request may work later.

    `retry_after`: seconds the CRM asked to be left alone (a 429's `Retry-After`); the
    outbox sends nothing to it before then. None: no wish, the outbox backs off as usual.
    """

    retry_after: float | None = None


class CrmSignInRequired(CrmUnavailable):
    """The CRM needs the agent to sign in (again); calls go on and writes wait meanwhile."""


class CrmAccessDenied(CrmUnavailable):
    """A privilege or a tenant policy refuses us; the message is written for IT."""


class RecordNotFound(CrmError):
    """The record asked for does not exist (any more)."""


class RecordKind(enum.Enum):
    CONTACT = "contact"
    ACCOUNT = "account"
    LEAD = "lead"
    CASE = "case"
    ACTIVITY = "activity"


@dataclass(frozen=True)
class RecordRef:
    """Points at one record in the CRM: its kind and the backend's id as text."""

    kind: RecordKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value}/{self.id}"

    @classmethod
    def parse(cls, text: str) -> RecordRef:
        """`contact/42` → RecordRef(CONTACT, "42"); raises CrmError when malformed."""
        kind, _, ident = (text or "").partition("/")
        try:
            return cls(RecordKind(kind), _check_id(ident))
        except ValueError:
            raise CrmError(f"{text!r} does not name a CRM record") from None


def _check_id(ident: str) -> str:
    if not ident or len(ident) > 64 or not all(c.isalnum() or c in "-_" for c in ident):
        raise ValueError(ident)
    return ident


@dataclass(frozen=True)
class Contact:
    id: str
    first_name: str
    last_name: str
    email: str = ""
    title: str = ""
    account_id: str | None = None
    account_name: str = ""
    phones: tuple[str, ...] = ()

    @property
    def ref(self) -> RecordRef:
        return RecordRef(RecordKind.CONTACT, self.id)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    email: str = ""
    website: str = ""
    phones: tuple[str, ...] = ()

    @property
    def ref(self) -> RecordRef:
        return RecordRef(RecordKind.ACCOUNT, self.id)


@dataclass(frozen=True)
class Lead:
    id: str
    first_name: str
    last_name: str
    company: str = ""
    email: str = ""
    status: str = "open"
    phones: tuple[str, ...] = ()

    @property
    def ref(self) -> RecordRef:
        return RecordRef(RecordKind.LEAD, self.id)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"


@dataclass(frozen=True)
class Case:
    id: str
    number: str
    subject: str
    status: str = "open"
    description: str = ""
    contact_id: str | None = None
    account_id: str | None = None
    modified_at: datetime | None = None

    @property
    def ref(self) -> RecordRef:
        return RecordRef(RecordKind.CASE, self.id)


@dataclass(frozen=True)
class Task:
    """A to-do in the CRM (a callback to make, say), optionally about a contact/account."""

    id: str
    subject: str
    description: str = ""
    due_at: datetime | None = None
    status: str = "open"  # "open" / "done"
    contact_id: str | None = None
    account_id: str | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class CallActivity:
    """One logged call as the CRM stores it (see app/core/activity.py for how it is built)."""

    call_id: str  # SIP Call-ID: the same call never becomes two activities
    subject: str
    direction: str  # "inbound" / "outbound"
    result: str  # CallResult value
    started_at: datetime
    ended_at: datetime
    duration_seconds: int
    caller_number: str
    display_number: str = ""
    queue: str = ""  # "" for a direct call
    queue_wait_seconds: int = 0
    notes: str = ""
    regarding: tuple[RecordRef, ...] = ()
    recording_url: str = ""
    # The agent handed the caller on: to whom, "blind" or "consulted", and when the target
    # answered (ISO 8601; text, so the outbox's JSON carries it as it is). Empty for a
    # call not transferred; also written into `notes` as a line.
    transferred_to: str = ""
    transfer_kind: str = ""
    transferred_at: str = ""
    # When the call was first answered (ISO 8601, text like transferred_at); "" when it
    # never was. `started_at` is when it arrived.
    answered_at: str = ""


@dataclass(frozen=True)
class IdentifyResult:
    """Who a number belongs to: up to MAX_MATCHES of each kind, and whether there were more."""

    number: str
    contacts: tuple[Contact, ...] = ()
    accounts: tuple[Account, ...] = ()
    leads: tuple[Lead, ...] = ()
    truncated: bool = False

    @property
    def count(self) -> int:
        return len(self.contacts) + len(self.accounts) + len(self.leads)

    def refs(self) -> tuple[RecordRef, ...]:
        return (tuple(c.ref for c in self.contacts) + tuple(a.ref for a in self.accounts)
                + tuple(lead.ref for lead in self.leads))


Match = IdentifyResult  # the name the issue uses


@dataclass(frozen=True)
class SearchResult:
    contacts: tuple[Contact, ...] = ()
    accounts: tuple[Account, ...] = ()
    leads: tuple[Lead, ...] = ()
    cases: tuple[Case, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.contacts or self.accounts or self.leads or self.cases)


@dataclass(frozen=True)
class NewContact:
    first_name: str
    last_name: str
    email: str = ""
    title: str = ""
    account_id: str | None = None
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewAccount:
    name: str
    email: str = ""
    website: str = ""
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewLead:
    first_name: str
    last_name: str
    company: str = ""
    email: str = ""
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewCase:
    subject: str
    description: str = ""
    contact_id: str | None = None
    account_id: str | None = None
    status: str = "open"
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewTask:
    subject: str
    description: str = ""
    contact_id: str | None = None
    account_id: str | None = None
    due_at: datetime | None = None


TASK_STATUSES = ("open", "done")

# Fields update_activity accepts; anything else is a CrmError (a typo must not vanish).
ACTIVITY_UPDATABLE = frozenset({"recording_url", "queue_wait_seconds", "notes", "subject",
                                "result", "ended_at", "duration_seconds"})


@runtime_checkable
class CrmBackend(Protocol):
    """What the app asks of a CRM. Every method may block: call it off the GUI thread."""

    def identify(self, number: str) -> IdentifyResult:
        """Records whose phone numbers match `number` (any written form)."""
        ...

    def search(self, text: str) -> SearchResult:
        """Records by name, company, email or case number (prefix, case-insensitive)."""
        ...

    def record_url(self, ref: RecordRef) -> str:
        """Where the record is shown: a switchboard:// page or the CRM's own https URL."""
        ...

    def get(self, ref: RecordRef) -> Contact | Account | Lead | Case:
        ...

    def create_contact(self, new: NewContact) -> Contact:
        ...

    def create_account(self, new: NewAccount) -> Account:
        ...

    def create_lead(self, new: NewLead) -> Lead:
        ...

    def create_case(self, new: NewCase) -> Case:
        ...

    def create_task(self, new: NewTask) -> Task:
        """A new open task, linked to the contact/account when given."""
        ...

    def attach_number(self, ref: RecordRef, number: str) -> None:
        """Add `number` to the record's phones so the next call from it matches."""
        ...

    def recent_cases(self, contact_id: str, limit: int = 5) -> tuple[Case, ...]:
        """The contact's cases, most recently modified first."""
        ...

    def create_activity(self, activity: CallActivity) -> str:
        """Log a call; returns the new activity's id."""
        ...

    def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
        """Change fields (see ACTIVITY_UPDATABLE) of a logged call."""
        ...

    def find_activity(self, call_id: str) -> str | None:
        """The id of the activity logged for SIP Call-ID `call_id`, if any."""
        ...

    def log_call_on_case(self, case_id: str, activity: CallActivity) -> None:
        """Write the call's details onto the case instead of a separate activity.

        Idempotent per `activity.call_id`: the same call written twice appears once.
        """
        ...
