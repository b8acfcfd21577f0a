"""What the screen-pop pages ask for: the built-in CRM's page actions, carried out.

`PageActions.show_record` pops a record for a call (the `popped` event waits for that
page). A page button is a `switchboard://action/NAME?…` link that the view turns into
`action_requested(NAME, params)` (app/ui/screenpop.py; the names and their parameters are
listed in app/crm/local/pages.py). `PageActions.on_action` links the call to a record or
case, creates a case/contact/account/lead on a worker and pops it, adds the caller's number
to a record, or dials from a record page (that call is then linked to the record).
`CallCrm`, the CRM's state of one call, lives here because both this module and
app/wiring/crm.py (which owns the calls) work on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Slot

from app.core.calls import CallRecord, Direction
from app.core.crm import (
    CrmError,
    CrmUnavailable,
    IdentifyResult,
    NewAccount,
    NewCase,
    NewContact,
    NewLead,
    RecordRef,
)
from app.core.phone import PhoneSession
from app.crm.local.store import LocalStore
from app.logs import call_event
from app.ui.main_window import MainWindow
from app.ui.notes import ScreenPopPane

log = logging.getLogger(__name__)

PREFIX = "switchboard://crm/"

# `submit(fn, done)`: run `fn` on a worker, then `done(result, error)` on the GUI thread.
Submit = Callable[[Callable[[], Any], Callable[[Any, BaseException | None], None]], None]


def _tr(text: str) -> str:
    return QCoreApplication.translate("CrmWiring", text)  # one context for the CRM wiring


@dataclass
class CallCrm:
    """What the CRM side knows about one call."""

    call_id: str
    handle: int
    direction: Direction
    number: str
    who: str
    queue: str | None
    arrived_at: datetime
    matches: IdentifyResult | None = None
    looking_up: bool = True
    linked: RecordRef | None = None  # chosen in the dialog, created, or dialled from
    also: list[RecordRef] = field(default_factory=list)  # e.g. the chosen case's contact
    notes: str = ""
    answered: bool = False
    answer_waiting: bool = False  # answered before the lookup came back
    ended: CallRecord | None = None  # hung up before the lookup came back
    page: str = ""  # the pop or dialog path, for the `popped` event


class PageActions(QObject):
    """Shows records for a call in the pane and carries out what its pages ask for."""

    def __init__(self, store: LocalStore, session: PhoneSession, window: MainWindow,
                 pane: ScreenPopPane, *, call_for: Callable[[str], CallCrm | None],
                 submit: Submit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.session = session
        self.window = window
        self.pane = pane
        self._call_for = call_for
        self._submit = submit
        self._dial_links: dict[int, RecordRef] = {}  # handle → record it was dialled from

    def show(self, state: CallCrm | None, path: str,
             query: Mapping[str, str] | None = None) -> None:
        """Load `path` in the pane; for a call, remember it for the `popped` event."""
        if state is not None:
            state.page = path
        self.pane.show_page(path, query)

    def show_record(self, state: CallCrm | None, ref: RecordRef) -> None:
        url = self.store.record_url(ref)
        self.show(state, url[len(PREFIX):] if url.startswith(PREFIX) else str(ref))

    def take_dial_link(self, handle: int) -> RecordRef | None:
        """The record the call with `handle` was dialled from (asked once, when it starts)."""
        return self._dial_links.pop(handle, None)

    @Slot(str, dict)
    def on_action(self, name: str, params: dict[str, str]) -> None:
        state = self._call_for(params.get("call", ""))
        try:
            self._act(name, params, state)
        except CrmError as exc:
            self.window.show_problem(_tr("The CRM could not do that: %s") % exc)

    def _act(self, name: str, p: dict[str, str], state: CallCrm | None) -> None:
        number = p.get("number", "") or (state.number if state else "")
        if name in ("open", "regarding"):
            ref = RecordRef.parse(p.get("ref", ""))
            self._link(state, ref)
            self.show_record(state, ref)
        elif name == "choose-case":
            case = RecordRef.parse(f"case/{p.get('case', '')}")
            self._link(state, case)
            if p.get("contact") and state is not None:
                state.also.append(RecordRef.parse(f"contact/{p['contact']}"))
            self.show_record(state, case)
        elif name == "new-case":
            contact = p.get("contact") or None
            if contact and state is not None:
                state.also.append(RecordRef.parse(f"contact/{contact}"))
            who = state.who if state else number
            new = NewCase(_tr("Phone call from %s") % who, contact_id=contact)
            self.create(state, lambda: self.store.create_case(new))
        elif name == "attach-number":
            ref = RecordRef.parse(p.get("ref", ""))

            def attach() -> RecordRef:
                self.store.attach_number(ref, number)
                return ref
            self.create(state, attach)
        elif name == "new-contact":
            self.create(state, lambda: self._new_contact(p, number))
        elif name == "new-account":
            new_account = NewAccount(p.get("name", ""), p.get("email", ""),
                                     phones=(number,) if number else ())
            self.create(state, lambda: self.store.create_account(new_account))
        elif name == "new-lead":
            lead = NewLead(p.get("first_name", ""), p.get("last_name", ""),
                           p.get("company", ""), p.get("email", ""),
                           phones=(number,) if number else ())
            self.create(state, lambda: self.store.create_lead(lead))
        elif name == "dial":
            self._dial(p.get("number", ""), p.get("ref") or None)
        else:
            log.warning("unknown screen-pop action %r ignored", name)

    def _new_contact(self, p: dict[str, str], number: str) -> Any:
        """On a worker: the contact, under an account of that name (found or created)."""
        account_id = None
        company = p.get("company", "").strip()
        if company:
            same = [a for a in self.store.search(company).accounts
                    if a.name.casefold() == company.casefold()]
            account = same[0] if same else self.store.create_account(NewAccount(company))
            account_id = account.id
        return self.store.create_contact(NewContact(
            p.get("first_name", ""), p.get("last_name", ""), p.get("email", ""),
            account_id=account_id, phones=(number,) if number else ()))

    def create(self, state: CallCrm | None, fn: Callable[[], Any]) -> None:
        """Run a CRM write on a worker; link the call to the result and show it."""
        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                if isinstance(error, CrmUnavailable):
                    self.pane.show_page("error", {"message": str(error)})
                else:
                    self.window.show_problem(_tr("The CRM could not do that: %s") % error)
                return
            ref = result if isinstance(result, RecordRef) else result.ref
            self._link(state, ref)
            self.show_record(state, ref)
        self._submit(fn, done)

    def _link(self, state: CallCrm | None, ref: RecordRef) -> None:
        if state is not None:
            state.linked = ref
            if state.ended is None:
                call_event("crm_linked", call_id=state.call_id, record=str(ref))

    def _dial(self, number: str, ref: str | None) -> None:
        """Click-to-dial from a page; the call is linked to the record it came from."""
        link = RecordRef.parse(ref) if ref else None
        outcome = self.session.dial(number)
        if not outcome.ok:
            self.window.show_dial_error(outcome.error)
            return
        if link is not None and outcome.handle is not None:
            self._dial_links[outcome.handle] = link
