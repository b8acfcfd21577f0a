"""The CRM side of each call as a pure tracker: facts in, actions out.

For every call the tracker follows one sequence: identify the number (the wiring runs the
lookup off the GUI thread), decide what to pop when the answer comes, decide again on
answer (an answer that comes before a slow lookup waits for it), and on hang-up decide
how the call is logged; later details (a linked record, a created case) arrive as facts.
`decide()` (app/core/workflows.py) is called once per decision point: ringing, answered,
ended. The tracker also knows which call the pane follows (the newest live one), that a
missed call is logged only when `log_missed_calls` says so, and what a new case is called.

With `call_form` (Dynamics 365's PhoneCall workflow, as the modelled product has it): an
answered call the agent picked nobody for ends in the CRM's own phone call form, filled in
from the call, for the agent to complete and save (`OpenCallForm`), instead of a log
about nobody. When another call is still on, the pane stays with it and the call is
logged as usual, so nothing is lost.

A transferred call that carries a CRM context (app/core/transfer_context.py) is not looked
up by number: the tracker asks for its records (`Resolve`), and when the CRM has them and
they are the customer's (`transfer_context.agrees`) it pops the same case (or record) the
transferring agent had and logs the call on them (`resolved`); otherwise
(`context_unknown`: another CRM, ids unknown here or someone else's) it falls back to an
ordinary lookup of the customer's number. The other way, `context_for` says what a
transfer of a call should carry.

It does no I/O and knows no Qt: the wiring (app/wiring/crm.py) feeds it facts and carries
out the actions it returns, in order. Tested in tests/unit/core/test_crm_call.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.core import numbers
from app.core.activity import CallLog, call_log
from app.core.calls import Call, CallRecord, CallResult, CallState, Direction
from app.core.crm import (
    Account,
    Case,
    Contact,
    IdentifyResult,
    Lead,
    NewCase,
    RecordKind,
    RecordRef,
)
from app.core.crm_caller import caller_name
from app.core.transfer_context import TransferContext, agrees, fits, usable_number
from app.core.workflows import Action as Decision
from app.core.workflows import (
    CreateCase,
    LogActivity,
    OpenDialog,
    Phase,
    PopRecord,
    Workflow,
    decide,
    dialog_query,
)

Decide = Callable[[Direction, Workflow, IdentifyResult, Phase, RecordRef | None],
                  Sequence[Decision]]


# --- what the wiring is asked to do ---------------------------------------------------


@dataclass(frozen=True)
class Identify:
    """Look `number` up in the CRM; answer with `identified` or `lookup_failed`."""

    call_id: str
    number: str


@dataclass(frozen=True)
class Resolve:
    """Fetch the records a transferred call's context names (`context.refs`) from the
    CRM; answer with `resolved`, or `context_unknown` when they are not here (or the
    context is another CRM's)."""

    call_id: str
    context: TransferContext


@dataclass(frozen=True)
class ShowLookingUp:
    number: str
    slow: bool = False  # the CRM is slow to answer (the call goes on)


@dataclass(frozen=True)
class ShowCall:
    """The notes box shows this call: whose it is and the notes so far."""

    who: str
    notes: str


@dataclass(frozen=True)
class ShowRecord:
    call_id: str
    ref: RecordRef


@dataclass(frozen=True)
class ShowDialog:
    call_id: str
    query: Mapping[str, str]  # for switchboard://crm/dialog


@dataclass(frozen=True)
class ShowRinging:
    """Nothing to pop yet (the case workflow works on answer): say whose call it is."""

    who: str


@dataclass(frozen=True)
class ReportLookupFailed:
    call_id: str
    error: BaseException
    on_screen: bool  # the pane follows this call: show the error there too


@dataclass(frozen=True)
class CreateCallCase:
    """Create `case` for the call; when it exists, `link` the call to it and show it."""

    call_id: str
    case: NewCase


@dataclass(frozen=True)
class SaveLog:
    """Put `log` into the durable outbox, then tell the tracker with `log_saved`."""

    call_id: str
    log: CallLog


@dataclass(frozen=True)
class OpenCallForm:
    """Open the CRM's new phone call form filled in from `log` (the agent saves it)."""

    call_id: str
    log: CallLog


@dataclass(frozen=True)
class ShowEnded:
    """The notes box shows the finished call and whether its log is saved for the CRM."""

    who: str
    notes: str
    logged: bool
    form: bool = False  # not logged by us: the CRM's phone call form is open for the agent


@dataclass(frozen=True)
class ReportLinked:
    call_id: str
    ref: RecordRef


@dataclass(frozen=True)
class ReportPopped:
    call_id: str
    path: str
    ms: float  # from the call's arrival to the page being loaded


Action = (Identify | Resolve | ShowLookingUp | ShowCall | ShowRecord | ShowDialog | ShowRinging
          | ReportLookupFailed | CreateCallCase | SaveLog | OpenCallForm | ShowEnded
          | ReportLinked | ReportPopped)


# --- what the tracker knows about one call --------------------------------------------


@dataclass
class CrmCall:
    """What the CRM side knows about one call. Read it; change it through the tracker."""

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
    ended: CallRecord | None = None  # hung up (perhaps before the lookup came back)
    page: str = ""  # the pop or dialog path, for the `popped` event
    ringing: tuple[Decision, ...] | None = None  # the ringing decision, made once
    context: TransferContext | None = None  # a transferred call's CRM context
    transferred: bool = False  # its records were found: popped and logged as they are


def _case_subject(who: str) -> str:
    return f"Phone call from {who}"


class CrmCallTracker:
    """The per-call CRM sequence for all calls, and which call the pane follows."""

    def __init__(self, workflow: Workflow, *, region: str, log_missed_calls: bool,
                 save_on_case: bool, case_subject: Callable[[str], str] = _case_subject,
                 decide: Decide = decide, call_form: bool = False) -> None:
        self.workflow = workflow
        self.call_form = call_form  # see the module docstring
        self.region = region
        self.log_missed_calls = log_missed_calls
        self.save_on_case = save_on_case
        self.case_subject = case_subject  # who called → the subject (the caller translates)
        self._decide = decide
        self._calls: dict[str, CrmCall] = {}  # by SIP Call-ID, oldest first
        self._focused: str | None = None  # the call the pane and notes show
        self._dial_links: dict[int, RecordRef] = {}  # handle → record it was dialled from
        self._saving: dict[str, CrmCall] = {}  # ended, log handed out in SaveLog

    # -- reading ------------------------------------------------------------------------

    def get(self, call_id: str) -> CrmCall | None:
        return self._calls.get(call_id)

    @property
    def focused(self) -> CrmCall | None:
        return self._calls.get(self._focused or "")

    # -- facts from the phone -----------------------------------------------------------

    def dialled_from(self, handle: int, ref: RecordRef) -> None:
        """The call with `handle` was dialled from `ref`'s page: it belongs to that record."""
        self._dial_links[handle] = ref

    def call_updated(self, call: Call) -> list[Action]:
        if call.ended:
            return []  # call_ended has the record
        actions: list[Action] = []
        state = self._calls.get(call.call_id)
        if state is None:
            state = self._begin(call, actions)
        if call.state is CallState.CONNECTED and not state.answered:
            state.answered = True
            actions += self._answered(state)
        return actions

    def call_ended(self, record: CallRecord) -> list[Action]:
        state = self._calls.get(record.call_id)
        if state is None:  # refused before it rang: nothing to pop, nothing to log
            state = CrmCall(record.call_id, -1, record.direction, record.remote_number,
                            record.display_name or record.remote_number, record.queue,
                            record.arrived_at, looking_up=False)
        state.ended = record
        return [] if state.looking_up else self._log(state, record)

    def quitting(self) -> list[Action]:
        """The app quits: calls that ended while their lookup ran are logged now."""
        actions: list[Action] = []
        for state in list(self._calls.values()):
            if state.ended is not None and state.looking_up:
                state.looking_up = False
                actions += self._log(state, state.ended)
        return actions

    # -- facts from the CRM -------------------------------------------------------------

    def identified(self, call_id: str, result: IdentifyResult) -> list[Action]:
        state = self._calls.get(call_id)
        if state is None:
            return []
        state.looking_up = False
        state.matches = result
        name = caller_name(result)  # the same name as the call card's
        if name:  # the notes say whose call it is
            state.who = name
        actions: list[Action] = []
        if self._focused == call_id and state.ended is None:
            actions += [ShowCall(state.who, state.notes), *self._ringing(state)]
        return actions + self._after_lookup(state)

    def resolved(self, call_id: str,
                 records: tuple[Contact | Account | Lead | Case, ...]) -> list[Action]:
        """The CRM found these of the records the call's transfer context names: when
        they are the customer's (`transfer_context.agrees`), pop the case, else the
        record, and log the call on both; when none is, look the number up instead.

        A context case this CRM does not have (another desktop's built-in CRM) leaves
        the call with the record only, and the workflow goes on as for a call matched
        to it (the case workflow creates a case here on answer)."""
        state = self._calls.get(call_id)
        if state is None:
            return []
        if state.context is None or not agrees(state.context, records, self.region):
            return self.context_unknown(call_id)
        person = next((r for r in records if not isinstance(r, Case)), None)
        case = next((r for r in records if isinstance(r, Case)), None)
        shown = case or person
        if shown is None:
            return self.context_unknown(call_id)
        state.looking_up = False
        state.transferred = case is not None or not state.context.case_id
        state.linked = shown.ref
        if person is not None and case is not None:
            state.also.append(person.ref)
        if person is not None:
            state.who = person.name
            state.matches = IdentifyResult(
                state.number,
                contacts=(person,) if isinstance(person, Contact) else (),
                accounts=(person,) if isinstance(person, Account) else (),
                leads=(person,) if isinstance(person, Lead) else ())
        if state.transferred:
            state.ringing = (PopRecord(shown.ref),)
        actions: list[Action] = []
        if self._focused == call_id and state.ended is None:
            actions += [ShowCall(state.who, state.notes), *self._ringing(state)]
        return actions + self._after_lookup(state)

    def context_unknown(self, call_id: str) -> list[Action]:
        """The context's records are not to be had here: look the number up instead."""
        state = self._calls.get(call_id)
        if state is None or not state.looking_up or state.context is None:
            return []  # gone, or already looked up by number
        state.context = None
        return [Identify(call_id, state.number)]

    def context_for(self, call_id: str, crm: str) -> TransferContext | None:
        """What a transfer of the call should carry to the target (ids and the number)."""
        state = self._calls.get(call_id)
        if state is None:
            return None
        known = [r for r in (state.linked, *state.also) if r is not None]
        if state.matches is not None and state.linked is None:
            refs = state.matches.refs()
            known += refs if len(refs) == 1 else []
        record = next((r for r in known if r.kind is not RecordKind.CASE
                       and r.kind is not RecordKind.ACTIVITY), None)
        case = next((r for r in known if r.kind is RecordKind.CASE), None)
        number = usable_number(state.number)
        if record is None and case is None and not number:
            return None
        return TransferContext(crm, record, case.id if case else "", number)

    def lookup_failed(self, call_id: str, error: BaseException) -> list[Action]:
        state = self._calls.get(call_id)
        if state is None:
            return []
        state.looking_up = False
        actions: list[Action] = [ReportLookupFailed(call_id, error,
                                                    on_screen=self._focused == call_id)]
        return actions + self._after_lookup(state)

    def lookup_slow(self) -> list[Action]:
        """The lookup timer ran out: say so if the pane's call is still waiting for it."""
        state = self.focused
        if state is not None and state.looking_up:
            return [ShowLookingUp(state.number, slow=True)]
        return []

    def log_saved(self, call_id: str, saved: bool) -> list[Action]:
        """The SaveLog for `call_id` is on disk (or could not be written)."""
        state = self._saving.pop(call_id, None)
        return [] if state is None else self._after_end(state, logged=saved)

    # -- facts from the agent -----------------------------------------------------------

    def link(self, call_id: str, ref: RecordRef) -> list[Action]:
        """The agent chose or created `ref` for the call: the call is logged on it."""
        state = self._calls.get(call_id)
        if state is None:
            return []
        state.linked = ref
        return [ReportLinked(call_id, ref)] if state.ended is None else []

    def named(self, call_id: str, name: str) -> list[Action]:
        """The agent chose (or created) the caller's record: its name is whose call it is
        from now on (the notes header, a new case's subject)."""
        state = self._calls.get(call_id)
        if state is None or not name.strip():
            return []
        state.who = name.strip()
        if self._focused == call_id and state.ended is None:
            return [ShowCall(state.who, state.notes)]
        return []

    def also_regarding(self, call_id: str, ref: RecordRef) -> None:
        """Log the call regarding `ref` too (the contact of a chosen case, say)."""
        state = self._calls.get(call_id)
        if state is not None:
            state.also.append(ref)

    def new_case(self, call_id: str, contact_id: str | None, number: str = "") -> NewCase:
        """The case the agent asks for on a call's page (`number`: when there is no call)."""
        state = self._calls.get(call_id)
        return NewCase(self.case_subject(state.who if state else number),
                       contact_id=contact_id)

    def notes_edited(self, text: str) -> None:
        state = self.focused
        if state is not None and state.ended is None:
            state.notes = text

    # -- facts from the pane ------------------------------------------------------------

    def page_requested(self, call_id: str, path: str) -> None:
        """The pane was asked to show `path` for the call (awaited for the popped event)."""
        state = self._calls.get(call_id)
        if state is not None:
            state.page = path

    def page_loaded(self, path: str, now: datetime) -> list[Action]:
        """A page finished loading; the first load of the pane call's page is its pop."""
        state = self.focused
        if state is None or not state.page or path != state.page:
            return []
        state.page = ""  # once per pop
        ms = (now - state.arrived_at).total_seconds() * 1000
        return [ReportPopped(state.call_id, path, round(ms, 1))]

    # -- the sequence -------------------------------------------------------------------

    def _begin(self, call: Call, actions: list[Action]) -> CrmCall:
        who = call.display_name or numbers.display(call.remote_number, self.region)
        ctx = call.context
        if ctx is not None and not fits(ctx, call.remote_number, self.region):
            ctx = None  # someone else's context on this caller's call: not believed
        # A consultation comes from the consulting agent: the customer is the context's.
        number = ctx.number if ctx is not None and ctx.number else call.remote_number
        state = CrmCall(call.call_id, call.handle, call.direction, number, who,
                        call.queue, call.arrived_at,
                        linked=self._dial_links.pop(call.handle, None), context=ctx)
        self._calls[call.call_id] = state
        self._focused = call.call_id  # a new call takes the pane
        first: Action = Resolve(call.call_id, ctx) if ctx is not None and ctx.refs \
            else Identify(call.call_id, state.number)
        actions += [ShowLookingUp(state.number), ShowCall(state.who, ""), first]
        return state

    def _after_lookup(self, state: CrmCall) -> list[Action]:
        actions: list[Action] = []
        if state.answer_waiting:
            state.answer_waiting = False
            actions += self._answered(state)
        if state.ended is not None:
            actions += self._log(state, state.ended)
        return actions

    def _matches(self, state: CrmCall) -> IdentifyResult:
        return state.matches or IdentifyResult(state.number)

    def _ringing(self, state: CrmCall) -> list[Action]:
        if state.ringing is None:
            state.ringing = tuple(self._decide(state.direction, self.workflow,
                                               self._matches(state), Phase.RINGING,
                                               state.linked))
        actions: list[Action] = []
        for decision in state.ringing:
            if isinstance(decision, PopRecord):
                actions.append(ShowRecord(state.call_id, decision.ref))
            elif isinstance(decision, OpenDialog):
                actions.append(ShowDialog(state.call_id, dialog_query(
                    decision, number=state.number, queue=state.queue, call=state.call_id,
                    direction=state.direction)))
            else:  # the case workflow does its work on answer
                actions.append(ShowRinging(state.who))
        return actions

    def _answered(self, state: CrmCall) -> list[Action]:
        if state.looking_up:
            state.answer_waiting = True
            return []
        if state.transferred:
            return []  # the transferred case or record is up already; no new case
        actions: list[Action] = []
        for decision in self._decide(state.direction, self.workflow, self._matches(state),
                                     Phase.ANSWERED, state.linked):
            if isinstance(decision, PopRecord):
                actions.append(ShowRecord(state.call_id, decision.ref))
            elif isinstance(decision, CreateCase):
                contact = decision.link_contact
                if contact is not None:
                    state.also.append(contact)
                actions.append(CreateCallCase(state.call_id, NewCase(
                    self.case_subject(state.who),
                    contact_id=contact.id if contact else None)))
        return actions

    def _log(self, state: CrmCall, record: CallRecord) -> list[Action]:
        """How the ended call is logged; the outbox write is the wiring's (SaveLog)."""
        self._calls.pop(record.call_id, None)
        inbound = record.direction is Direction.INBOUND
        declined = inbound and record.result is CallResult.DECLINED
        missed = inbound and record.result is CallResult.MISSED
        logs = [d for d in self._decide(record.direction, self.workflow,
                                        self._matches(state),
                                        Phase.DECLINED if declined else Phase.ENDED,
                                        state.linked)
                if isinstance(d, LogActivity)]
        if not logs or (missed and not self.log_missed_calls):
            return self._after_end(state, logged=False)
        entry = call_log(record, notes=state.notes, regarding=logs[0].regarding
                         + tuple(state.also), save_on_case=self.save_on_case)
        if self._form_instead(state, record, entry):
            return [OpenCallForm(record.call_id, entry),
                    *self._after_end(state, logged=False, form=True)]
        self._saving[record.call_id] = state
        return [SaveLog(record.call_id, entry)]

    def _form_instead(self, state: CrmCall, record: CallRecord, entry: CallLog) -> bool:
        """The PhoneCall workflow's end for an answered call with nobody picked."""
        others_live = any(c.ended is None for c in self._calls.values())
        return (self.call_form and self.workflow is Workflow.PHONE_CALL
                and record.answered_at is not None and not entry.activity.regarding
                and self._focused == state.call_id and not others_live)

    def _after_end(self, state: CrmCall, *, logged: bool, form: bool = False
                   ) -> list[Action]:
        if self._focused != state.call_id:
            return []
        actions: list[Action] = [ShowEnded(state.who, state.notes, logged, form)]
        live = [c for c in self._calls.values() if c.ended is None]
        if live:  # another call is still on: the pane follows the newest
            actions += self._focus(live[-1])
        return actions

    def _focus(self, state: CrmCall) -> list[Action]:
        self._focused = state.call_id
        actions: list[Action] = [ShowCall(state.who, state.notes)]
        if state.looking_up:
            actions.append(ShowLookingUp(state.number))
        elif state.linked is not None:
            actions.append(ShowRecord(state.call_id, state.linked))
        else:
            actions += self._ringing(state)
        return actions
