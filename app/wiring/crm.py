"""The CRM wired into the running phone: lookup on ring, screen-pop, dialog actions, call
notes, and the outbox that logs every finished call (issue #3).

`CrmWiring` connects a finished `CrmBackend` (chosen and built by app/compose.py), the
outbox, the PhoneSession, the screen-pop pane and the window. What happens to each call is
decided by the pure tracker in app/core/crm_call.py; this module feeds it the facts (call
updates, lookup results, page loads, notes) and carries out its actions:
- ring or dial: the pane shows "Looking up…" at once and the number is identified on the
  backend's task lane (never the GUI thread); the tracker turns the matches into a pop or a
  dialog as soon as the lookup returns. The ring never waits for it; a slow or failing CRM
  shows a plain state in the pane and the call goes on;
- dialog and record pages send intents (`action_requested`): choose a record or a case,
  create a case/contact/account/lead, update the phone, click-to-dial (a call dialled
  from a record is linked to that record); app/wiring/crm_actions.py carries them out;
- hang-up: the call log (activity, or a note on the chosen case) goes into the durable
  outbox first; only then does the notes box say "Logged". A timer runs the outbox on the
  backend's lane; the status bar shows how many logs wait for the CRM.

- transfer: a call the agent transfers carries its record, case and the customer's
  number to the target (the tracker's `context_for`, given to the PhoneSession); a
  transferred call that arrives with a context has its records fetched instead of a
  number lookup (`Resolve`), and the same case or record pops (see app/core/crm_call.py).

Structured log events: `popped` (call_id, path, ms from INVITE to page loaded),
`crm_lookup_failed`, `transfer_context` (call_id, refs sent), `crm_context` (call_id,
refs popped from a received context, or `unknown`), `crm_queued` (on disk in the
outbox) and `crm_logged` (call_id, activity id) when the CRM has it.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot

from app.core.calls import Call, CallRecord
from app.core.crm import (
    Account,
    CallActivity,
    Case,
    Contact,
    CrmAccessDenied,
    CrmBackend,
    CrmError,
    CrmSignInRequired,
    IdentifyResult,
    Lead,
    RecordNotFound,
)
from app.core.crm_call import (
    Action,
    CreateCallCase,
    CrmCallTracker,
    Identify,
    OpenCallForm,
    ReportLinked,
    ReportLookupFailed,
    ReportPopped,
    Resolve,
    SaveLog,
    ShowCall,
    ShowDialog,
    ShowEnded,
    ShowLookingUp,
    ShowRecord,
    ShowRinging,
)
from app.core.crm_caller import caller_name
from app.core.outbox import ACTIVITY, Outbox, OutboxItem, ProcessReport
from app.core.phone import PhoneSession
from app.core.transfer_context import TransferContext
from app.core.transitions import CallAnswered, CallStarted, CallTransition
from app.logs import call_event
from app.threads import Lane, TaskRunner
from app.ui.main_window import MainWindow
from app.ui.notes import OutboxStatus, ScreenPopPane
from app.wiring.crm_actions import PageActions

log = logging.getLogger(__name__)

OUTBOX_TICK_MS = 1000  # how often due outbox items are looked at (the outbox backs off)
SLOW_LOOKUP_MS = 1500  # after this the pane says the CRM is slow (the call goes on)
# Notes typed after the call update its log once the agent pauses this long (not per key).
WRAP_NOTES_MS = 1000


def crm_name(backend: CrmBackend) -> str:
    """The name a transfer context gives the backend's ids: the adapter's package under
    app/crm (local, salesforce, dynamics), else the class name (a test's CRM)."""
    parts = type(backend).__module__.split(".")
    if parts[:2] == ["app", "crm"] and len(parts) > 2:
        return parts[2]
    return type(backend).__name__.lower()[:16] or "crm"


def _tr(text: str) -> str:
    return QCoreApplication.translate("CrmWiring", text)


class CrmWiring(QObject):
    """Feeds the call tracker, carries out its actions, and runs the outbox."""

    page_shown = Signal(str, str)  # call_id, path: the pop or dialog finished loading
    call_logged = Signal(str)  # call_id: the call log is on disk in the outbox
    activity_landed = Signal(str, str)  # call_id, activity (or case) id in the CRM
    sign_in_needed = Signal()  # the CRM no longer takes our sign-in (after one refresh)

    def __init__(self, backend: CrmBackend, outbox: Outbox, tracker: CrmCallTracker,
                 pane: ScreenPopPane, outbox_status: OutboxStatus, actions: PageActions,
                 session: PhoneSession, window: MainWindow, tasks: TaskRunner, *,
                 lane: Lane, call_form: Callable[[CallActivity], str] | None = None,
                 crm: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self._crm = crm  # crm.backend's name: which CRM a caller's name came from
        self._call_form = call_form  # the CRM's new phone call form (OpenCallForm)
        self.outbox = outbox
        self.tracker = tracker
        self.pane = pane
        self.view = pane.view
        self.notes = pane.notes
        self.outbox_status = outbox_status
        self.actions = actions
        self.session = session
        self.window = window
        self._tasks = tasks
        self._lane = lane  # the database lane for the built-in CRM, else the network's
        self._processing = False
        self._stopped = False

        # Queued: the intent is emitted inside acceptNavigationRequest, and loading a page
        # from there (re-entering Chromium's navigation) kills the process with SIGTRAP.
        self.view.action_requested.connect(actions.on_action,
                                           Qt.ConnectionType.QueuedConnection)
        if self.view.web_page is not None:  # tel: links in the CRM's own pages
            self.view.web_page.action_requested.connect(actions.on_action,
                                                        Qt.ConnectionType.QueuedConnection)
        pane.loaded.connect(self._on_loaded)
        # The record on screen lists the call once the CRM has it.
        self.activity_landed.connect(lambda _call, _id: pane.refresh_record())
        self.notes.notes_edited.connect(self._notes_edited)
        outbox_status.retry_requested.connect(self._retry_failed)
        session.subscribe(on_transition=self._transition, on_call_ended=self._call_ended)
        self.crm_name = crm_name(backend)
        session.set_transfer_context(self._transfer_context)
        self._timer = QTimer(self)
        self._timer.setInterval(OUTBOX_TICK_MS)
        self._timer.timeout.connect(self.process_outbox)
        # One timer, not QTimer.singleShot(ms, functor): PySide6 6.12.0 drops a reference
        # to None on every singleShot with a Python callable.
        self._slow_timer = QTimer(self)
        self._slow_timer.setSingleShot(True)
        self._slow_timer.setInterval(SLOW_LOOKUP_MS)
        self._slow_timer.timeout.connect(self._maybe_slow)
        # Notes after the call: the ended call the notes box shows (its log is in the
        # outbox, not on a case), and the text typed since, sent as an update of the same
        # activity when the typing pauses, a new call takes the box, or the app stops.
        self._saved_call: str | None = None  # set while log_saved's actions run
        self._wrap_call: str | None = None
        self._wrap_text: str | None = None
        self._wrap_timer = QTimer(self)
        self._wrap_timer.setSingleShot(True)
        self._wrap_timer.setInterval(WRAP_NOTES_MS)
        self._wrap_timer.timeout.connect(self._send_wrap_notes)
        pane.show_page("idle")

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._timer.start()
        self.process_outbox()  # whatever an earlier run left behind

    def stop(self) -> None:
        """Stop the timers, log calls that ended while looking up, close the pane. The
        stores are closed by the app once its task runner has stopped."""
        if self._stopped:
            return
        self._send_wrap_notes()
        self._stopped = True
        self._timer.stop()
        self._slow_timer.stop()
        self._wrap_timer.stop()
        self._run(self.tracker.quitting())  # calls that ended while looking up
        self.view.close_down()

    def _submit(self, fn: Callable[[], Any],
                done: Callable[[Any, BaseException | None], None]) -> None:
        """Run `fn` on the backend's lane; `done(result, error)` runs on the GUI thread."""
        if self._stopped:
            return
        self._tasks.run(self._lane, fn, succeeded=lambda result: done(result, None),
                        failed=lambda error: done(None, error))

    # -- calls: facts to the tracker, its actions carried out -----------------------------

    def _transition(self, transition: CallTransition) -> None:
        if not isinstance(transition, (CallStarted, CallAnswered)):
            return  # the end comes with its record (`_call_ended`, also for refused calls)
        call = self.session.get(transition.handle)
        if call is not None:
            self._run(self.tracker.call_updated(call))
        focused = self.tracker.focused
        if (isinstance(transition, CallAnswered) and focused is not None
                and focused.call_id == transition.call_id):
            self.pane.call_answered()  # a pop held back by unsaved edits may go now

    def _call_ended(self, record: CallRecord) -> None:
        self._run(self.tracker.call_ended(record))

    @Slot()
    def _maybe_slow(self) -> None:
        if not self._stopped:
            self._run(self.tracker.lookup_slow())

    def _identified(self, call_id: str, result: IdentifyResult | None,
                    error: BaseException | None) -> None:
        if error is not None or result is None:
            self._run(self.tracker.lookup_failed(call_id, error or CrmError("no answer")))
        else:
            state = self.tracker.get(call_id)
            if state is not None:  # the card, toast and history say who it is
                self.session.set_crm_caller(state.handle, caller_name(result), self._crm,
                                            result.count)
            self._run(self.tracker.identified(call_id, result))

    def _transfer_context(self, call: Call) -> TransferContext | None:
        """What a transfer of `call` carries to the target (asked by the PhoneSession)."""
        ctx = self.tracker.context_for(call.call_id, self.crm_name)
        if ctx is not None:
            call_event("transfer_context", call_id=call.call_id,
                       refs=[str(r) for r in ctx.refs], crm=ctx.crm)
        return ctx

    def _resolve(self, action: Resolve) -> None:
        call_id, ctx = action.call_id, action.context
        if ctx.crm != self.crm_name:  # another CRM's ids mean nothing here
            call_event("crm_context", call_id=call_id, unknown=f"from {ctx.crm}")
            self._run(self.tracker.context_unknown(call_id))
            return
        refs, backend = ctx.refs, self.backend

        def fetch() -> tuple[Contact | Account | Lead | Case, ...]:
            found = []
            for ref in refs:
                try:
                    found.append(backend.get(ref))
                except RecordNotFound:  # e.g. a case only the other desktop's CRM has
                    continue
            return tuple(found)
        self._submit(fetch, lambda result, error: self._resolved(call_id, result, error))
        self._slow_timer.start()

    def _resolved(self, call_id: str,
                  result: tuple[Contact | Account | Lead | Case, ...] | None,
                  error: BaseException | None) -> None:
        if isinstance(error, RecordNotFound) or (error is None and result is None):
            call_event("crm_context", call_id=call_id, unknown=str(error or "not found"))
            self._run(self.tracker.context_unknown(call_id))
        elif error is not None or result is None:
            self._run(self.tracker.lookup_failed(call_id, error or CrmError("no answer")))
        else:
            actions = self.tracker.resolved(call_id, result)
            state = self.tracker.get(call_id)
            if state is not None and state.context is not None:
                call_event("crm_context", call_id=call_id,
                           refs=[str(r) for r in (state.linked, *state.also) if r])
            else:
                call_event("crm_context", call_id=call_id, unknown="not the caller's")
            self._run(actions)

    @Slot(str)
    def _notes_edited(self, text: str) -> None:
        if self._wrap_call is not None and self.tracker.focused is None:
            self._wrap_text = text  # after the call: an update of its log (see __init__)
            self._wrap_timer.start()
            return
        self.tracker.notes_edited(text)

    @Slot()
    def _send_wrap_notes(self) -> None:
        call_id, text = self._wrap_call, self._wrap_text
        self._wrap_text = None
        self._wrap_timer.stop()
        if call_id is None or text is None:
            return
        try:
            self.outbox.enqueue_update(call_id, {"notes": text}, replace=True)
        except sqlite3.Error as exc:
            log.error("outbox write failed for the notes of %s: %s", call_id, exc)
            return
        call_event("crm_notes_queued", call_id=call_id)
        self.process_outbox()

    @Slot(str)
    def _on_loaded(self, path: str) -> None:
        self._run(self.tracker.page_loaded(path, datetime.now(timezone.utc)))

    def _run(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self._do(action)

    def _do(self, action: Action) -> None:
        if isinstance(action, Identify):
            number, call_id = action.number, action.call_id
            self._submit(lambda: self.backend.identify(number),
                         lambda result, error: self._identified(call_id, result, error))
            self._slow_timer.start()
        elif isinstance(action, Resolve):
            self._resolve(action)
        elif isinstance(action, ShowLookingUp):
            if not action.slow:
                self.pane.call_started()
            number = action.number
            if action.slow:
                number = _tr("%s — the CRM is slow to answer; the call goes on") % number
            self.pane.show_page("looking-up", {"number": number})
        elif isinstance(action, ShowCall):
            self._send_wrap_notes()  # another call takes the notes box
            self._wrap_call = None
            self.notes.show_call(action.who, action.notes)
        elif isinstance(action, ShowRecord):
            self.actions.show_record(action.call_id, action.ref)
        elif isinstance(action, ShowDialog):
            self.actions.show(action.call_id, "dialog", action.query)
        elif isinstance(action, ShowRinging):
            self.pane.show_page("ringing", {"who": action.who})
        elif isinstance(action, ReportLookupFailed):
            error = action.error
            call_event("crm_lookup_failed", call_id=action.call_id, error=str(error))
            if isinstance(error, CrmSignInRequired):
                self.sign_in_needed.emit()  # a prompt that never blocks the call
            elif isinstance(error, CrmAccessDenied):
                self.window.show_problem(str(error))  # written for the agent's IT
            if action.on_screen:
                self.pane.show_page("error", {
                    "message": str(error) if isinstance(error, CrmError)
                    else _tr("The CRM lookup failed: %s") % error})
        elif isinstance(action, CreateCallCase):
            pending = self.tracker.get(action.call_id)
            if (action.case.contact_id is None and pending is not None
                    and getattr(self.backend, "case_needs_customer", False)):
                # Dynamics 365 refuses a case without a customer: the case dialog lets the
                # agent choose or add the caller, then create the case.
                call_event("crm_case_needs_customer", call_id=action.call_id)
                query = {"kind": "case", "number": pending.number, "call": action.call_id,
                         "direction": pending.direction.value}
                if pending.queue:
                    query["queue"] = pending.queue
                self.actions.show(action.call_id, "dialog", query)
                return
            self.actions.create(action.call_id,
                                functools.partial(self.backend.create_case, action.case))
        elif isinstance(action, SaveLog):
            self._save(action)
        elif isinstance(action, OpenCallForm):
            if self._call_form is not None:
                url = self._call_form(action.log.activity)
                call_event("crm_call_form", call_id=action.call_id)
                self.pane.show_url(url)  # through the unsaved-edits gate
        elif isinstance(action, ShowEnded):
            state = _tr("Logged") if action.logged else _tr("Not logged")
            if action.form:
                state = _tr("Complete and save the phone call form")
            self._send_wrap_notes()
            self._wrap_call = self._saved_call if action.logged and not action.form else None
            self.notes.show_logged(action.who, action.notes, state,
                                   editable=self._wrap_call is not None)
        elif isinstance(action, ReportLinked):
            call_event("crm_linked", call_id=action.call_id, record=str(action.ref))
        elif isinstance(action, ReportPopped):
            call_event("popped", call_id=action.call_id, path=action.path, ms=action.ms)
            self.page_shown.emit(action.call_id, action.path)

    def _save(self, action: SaveLog) -> None:
        """Put the call log into the outbox; only then say "Logged"."""
        call_id, entry = action.call_id, action.log
        try:
            self.outbox.enqueue_log(entry)
        except sqlite3.Error as exc:
            log.error("outbox write failed for %s: %s", call_id, exc)
            self.window.show_problem(_tr("This call could not be saved for the CRM: %s")
                                     % exc)
            self._run(self.tracker.log_saved(call_id, saved=False))
            return
        call_event("crm_queued", call_id=call_id,
                   regarding=[str(r) for r in entry.activity.regarding],
                   on_case=entry.case_id)
        self.call_logged.emit(call_id)
        # Notes typed after this call update its activity; a log on a case has none.
        self._saved_call = call_id if entry.case_id is None else None
        try:
            self._run(self.tracker.log_saved(call_id, saved=True))
        finally:
            self._saved_call = None
        self.process_outbox()

    # -- outbox ------------------------------------------------------------------------

    @Slot()
    def process_outbox(self) -> None:
        """Apply due call logs on a worker (one round at a time)."""
        if self._processing or self._stopped:
            return
        self._processing = True

        def work() -> tuple[ProcessReport, int, list[OutboxItem]]:
            report = self.outbox.process(self.backend)
            return report, self.outbox.pending_count(), self.outbox.failed()
        self._submit(work, self._processed)

    def _processed(self, result: tuple[ProcessReport, int, list[OutboxItem]] | None,
                   error: BaseException | None) -> None:
        self._processing = False
        if error is not None or result is None:
            log.error("outbox round failed: %s", error)
            return
        report, pending, failed = result
        if report.sign_in_required:  # the round stopped; the bar brings it back (resume)
            self.sign_in_needed.emit()
        for call_id, kind, result_id in report.landed:
            if kind == ACTIVITY:
                call_event("crm_logged", call_id=call_id, activity=result_id)
            else:
                call_event("crm_logged", call_id=call_id, kind=kind, result=result_id)
            self.activity_landed.emit(call_id, result_id)
        self.outbox_status.show_counts(pending, len(failed),
                                       failed[-1].last_error if failed else "")

    @Slot()
    def resume_outbox(self) -> None:
        """The agent signed in again: the writes held for it are due now."""
        self._submit(self.outbox.resume, lambda _r, _e: self.process_outbox())

    @Slot()
    def _retry_failed(self) -> None:
        def work() -> None:
            for item in self.outbox.failed():
                self.outbox.retry(item.id)
        self._submit(work, lambda _r, _e: self.process_outbox())


__all__ = ["CrmWiring"]
