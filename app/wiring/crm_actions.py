"""What the screen-pop pages ask for: the CRM's page actions, carried out.

`PageActions.show_record` pops a record for a call (the `popped` event waits for that
page). A page button is a `switchboard://action/NAME?…` link that the view turns into
`action_requested(NAME, params)` (app/ui/screenpop.py; the names and their parameters are
listed in app/crm/local/pages.py). `PageActions.on_action` links the call to a record or
case, creates a case/contact/account/lead on the CRM's task lane and pops it, adds the
caller's number to a record, or dials from a record page (that call is then linked to the
record). What it
learns about a call it tells the call's tracker (app/core/crm_call.py); it keeps no call
state of its own. A CRM whose records are its own web pages (Salesforce's Lightning
URLs) has them loaded in the pane's CRM web page. Every click-to-dial (a `tel:` link
clicked there, a number on a built-in page) is parsed by the strict link parser
(app/core/links.py) before anything is dialled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Slot

from app.core.crm import (
    Account,
    Contact,
    CrmBackend,
    CrmError,
    CrmUnavailable,
    Lead,
    NewAccount,
    NewContact,
    NewLead,
    RecordRef,
)
from app.core.crm_call import CrmCall, CrmCallTracker, ReportLinked, ShowCall
from app.core.links import LinkRefused, parse_link
from app.core.phone import PhoneSession
from app.logs import call_event
from app.threads import Lane, TaskRunner
from app.ui.main_window import MainWindow
from app.ui.notes import ScreenPopPane

log = logging.getLogger(__name__)

PREFIX = "switchboard://crm/"



def _tr(text: str) -> str:
    return QCoreApplication.translate("CrmWiring", text)  # one context for the CRM wiring


class PageActions(QObject):
    """Shows records for a call in the pane and carries out what its pages ask for."""

    def __init__(self, store: CrmBackend, session: PhoneSession, window: MainWindow,
                 pane: ScreenPopPane, *, tracker: CrmCallTracker, tasks: TaskRunner,
                 lane: Lane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.session = session
        self.window = window
        self.pane = pane
        self.tracker = tracker
        self._tasks = tasks
        self._lane = lane  # the CRM backend's lane (database or network)

    def show(self, call_id: str, path: str, query: Mapping[str, str] | None = None) -> None:
        """Load `path` in the pane; for a call, the tracker awaits it for `popped`."""
        self.tracker.page_requested(call_id, path)
        self.pane.show_page(path, query)

    def show_record(self, call_id: str, ref: RecordRef) -> None:
        try:
            url = self.store.record_url(ref)
        except CrmError as exc:  # e.g. not signed in to the CRM: say so in the pane
            self.pane.show_page("error", {"message": str(exc)})
            return
        if url.startswith(("https://", "http://")):  # the CRM's own record page
            self.tracker.page_requested(call_id, url)
            self.pane.show_url(url)
            return
        self.show(call_id, url[len(PREFIX):] if url.startswith(PREFIX) else str(ref))

    @Slot(str, dict)
    def on_action(self, name: str, params: dict[str, str]) -> None:
        call_id = params.get("call", "")
        try:
            self._act(name, params, call_id, self.tracker.get(call_id))
        except CrmError as exc:
            self.window.show_problem(_tr("The CRM could not do that: %s") % exc)

    def _act(self, name: str, p: dict[str, str], call_id: str, state: CrmCall | None
             ) -> None:
        number = p.get("number", "") or (state.number if state else "")
        if name in ("open", "regarding"):
            ref = RecordRef.parse(p.get("ref", ""))
            self._link(call_id, ref)
            if state is not None and state.matches is not None:
                found: list[Contact | Account | Lead] = [
                    *state.matches.contacts, *state.matches.accounts, *state.matches.leads]
                chosen = [r for r in found if r.ref == ref]
                if chosen:
                    self._named(call_id, chosen[0].name)
            self.show_record(call_id, ref)
        elif name == "choose-case":
            case = RecordRef.parse(f"case/{p.get('case', '')}")
            self._link(call_id, case)
            if p.get("contact") and state is not None:
                self.tracker.also_regarding(call_id, RecordRef.parse(f"contact/{p['contact']}"))
            self.show_record(call_id, case)
        elif name == "new-case":
            contact = p.get("contact") or None
            if contact and state is not None:
                self.tracker.also_regarding(call_id, RecordRef.parse(f"contact/{contact}"))
            new = self.tracker.new_case(call_id, contact, number)
            self.create(call_id, lambda: self.store.create_case(new))
        elif name == "attach-number":
            ref = RecordRef.parse(p.get("ref", ""))

            def attach() -> RecordRef:
                self.store.attach_number(ref, number)
                return ref
            self.create(call_id, attach)
        elif name == "new-contact":
            then = None
            if p.get("then") == "case":  # a case needs a customer: this one, then the case
                def then(ref: RecordRef) -> None:
                    self.show(call_id, "dialog", {"kind": "case", "number": number,
                                                  "call": call_id, "chosen": str(ref)})
            self.create(call_id, lambda: self._new_contact(p, number), then=then)
        elif name == "new-account":
            new_account = NewAccount(p.get("name", ""), p.get("email", ""),
                                     phones=(number,) if number else ())
            self.create(call_id, lambda: self.store.create_account(new_account))
        elif name == "new-lead":
            lead = NewLead(p.get("first_name", ""), p.get("last_name", ""),
                           p.get("company", ""), p.get("email", ""),
                           phones=(number,) if number else ())
            self.create(call_id, lambda: self.store.create_lead(lead))
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

    def create(self, call_id: str, fn: Callable[[], Any],
               then: Callable[[RecordRef], None] | None = None) -> None:
        """Run a CRM write on a worker; link the call to the result and show it (or
        hand it to `then`)."""
        def failed(error: BaseException) -> None:
            if isinstance(error, CrmUnavailable):
                self.pane.show_page("error", {"message": str(error)})
            else:
                self.window.show_problem(_tr("The CRM could not do that: %s") % error)

        def succeeded(result: Any) -> None:
            ref = result if isinstance(result, RecordRef) else result.ref
            self._link(call_id, ref)
            if isinstance(result, (Contact, Account, Lead)):  # a new record: the caller
                self._named(call_id, result.name)
            if then is not None:
                then(ref)
            else:
                self.show_record(call_id, ref)
        self._tasks.run(self._lane, fn, succeeded=succeeded, failed=failed)

    def _named(self, call_id: str, name: str) -> None:
        """The notes header, the call card and Recent calls follow the record the agent
        chose (they showed the number, or "3 matches")."""
        for action in self.tracker.named(call_id, name):
            if isinstance(action, ShowCall):
                self.pane.notes.show_call(action.who, action.notes)
        state = self.tracker.get(call_id)
        call = self.session.get(state.handle) if state is not None else None
        if call is not None and call.crm:
            self.session.set_crm_caller(call.handle, name, call.crm, call.crm_matches)

    def _link(self, call_id: str, ref: RecordRef) -> None:
        for action in self.tracker.link(call_id, ref):
            if isinstance(action, ReportLinked):
                call_event("crm_linked", call_id=action.call_id, record=str(action.ref))

    def _dial(self, number: str, ref: str | None) -> None:
        """Click-to-dial from a page; the call is linked to the record it came from."""
        link = RecordRef.parse(ref) if ref else None
        try:  # untrusted, link or bare number: only what the strict parser rebuilt is dialled
            number = parse_link(number, self.tracker.region).value
        except LinkRefused as exc:
            self.window.show_dial_error(exc.text(QCoreApplication.translate))
            return
        outcome = self.session.dial(number)
        if not outcome.ok:
            self.window.show_dial_error(outcome.error)
            return
        if link is not None and outcome.handle is not None:
            self.tracker.dialled_from(outcome.handle, link)
