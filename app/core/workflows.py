"""The phone workflows as decisions: (direction, workflow, matches, phase) → actions.

Pure: no Qt, no CRM calls. The app identifies the caller (off the GUI thread), then asks
`decide` what to do at each phase of the call and carries the actions out: pop a record,
open the disposition dialog, create a case, log the call. The full table of cells is in
tests/unit/core/test_workflows.py.

Workflows (config `crm.workflow`):
- case: answering creates a case and opens it, linked to the contact when exactly one
  contact matched; a declined call creates nothing.
- case_dialog: ringing opens a dialog. One contact: its five latest cases to choose from,
  "new case" and "new case without identification". Several: choose the contact. None:
  search and "new case".
- contact_account: one match (contact or account) pops it; none or several open a dialog
  with search, choose, "update phone" on the chosen record, new contact, new account.
- contact_lead: the same with leads instead of accounts.
- phone_call: one match pops it; otherwise a dialog to choose the record; the call is
  logged as an activity regarding the chosen record.

Every workflow logs the call when it ends (missed calls included) regarding the record
the call was linked to (`linked_record`: chosen in the dialog, the created case, or the
record an outbound call was dialled from), else the single match. An outbound call
dialled from a record is linked to that record from the start.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.calls import Direction
from app.core.crm import IdentifyResult, RecordKind, RecordRef


class Workflow(enum.Enum):
    CASE = "case"
    CASE_DIALOG = "case_dialog"
    CONTACT_ACCOUNT = "contact_account"
    CONTACT_LEAD = "contact_lead"
    PHONE_CALL = "phone_call"


class Phase(enum.Enum):
    RINGING = "ringing"  # inbound ringing, or outbound dialled (before the answer)
    ANSWERED = "answered"
    ENDED = "ended"  # hung up after an answer, or missed / not answered
    DECLINED = "declined"  # the agent (or a rule) refused an inbound call


class Offer(enum.Enum):
    """Buttons a dialog shows besides the listed records."""

    SEARCH = "search"
    CHOOSE = "choose"  # pick one of `choices`
    CHOOSE_CASE = "choose_case"  # pick one of the chosen contact's latest cases
    NEW_CASE = "new_case"
    NEW_CASE_UNIDENTIFIED = "new_case_without_identification"
    UPDATE_PHONE = "update_phone"  # add the caller's number to the chosen record
    NEW_CONTACT = "new_contact"
    NEW_ACCOUNT = "new_account"
    NEW_LEAD = "new_lead"


@dataclass(frozen=True)
class Nothing:
    pass


@dataclass(frozen=True)
class PopRecord:
    ref: RecordRef


@dataclass(frozen=True)
class OpenDialog:
    kind: Workflow  # which dialog: CASE_DIALOG, CONTACT_ACCOUNT, CONTACT_LEAD, PHONE_CALL
    choices: tuple[RecordRef, ...]
    offers: frozenset[Offer]


@dataclass(frozen=True)
class CreateCase:
    link_contact: RecordRef | None  # None: a case without identification
    open_after: bool = True


@dataclass(frozen=True)
class LogActivity:
    regarding: tuple[RecordRef, ...]


Action = Nothing | PopRecord | OpenDialog | CreateCase | LogActivity

RECENT_CASES = 5  # cases the case dialog offers for one matched contact

# Which matched records count for a workflow: a case belongs to a contact, so an account
# matching the number does not make the case workflows "identified".
_RELEVANT: dict[Workflow, frozenset[RecordKind]] = {
    Workflow.CASE: frozenset({RecordKind.CONTACT}),
    Workflow.CASE_DIALOG: frozenset({RecordKind.CONTACT}),
    Workflow.CONTACT_ACCOUNT: frozenset({RecordKind.CONTACT, RecordKind.ACCOUNT}),
    Workflow.CONTACT_LEAD: frozenset({RecordKind.CONTACT, RecordKind.LEAD}),
    Workflow.PHONE_CALL: frozenset({RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD}),
}

_CASE_ONE = frozenset({Offer.CHOOSE_CASE, Offer.NEW_CASE, Offer.NEW_CASE_UNIDENTIFIED})
_CASE_MANY = frozenset({Offer.SEARCH, Offer.CHOOSE, Offer.NEW_CASE_UNIDENTIFIED})
_CASE_NONE = frozenset({Offer.SEARCH, Offer.NEW_CASE})
_CA = frozenset({Offer.SEARCH, Offer.CHOOSE, Offer.UPDATE_PHONE, Offer.NEW_CONTACT,
                 Offer.NEW_ACCOUNT})
_CL = frozenset({Offer.SEARCH, Offer.CHOOSE, Offer.UPDATE_PHONE, Offer.NEW_CONTACT,
                 Offer.NEW_LEAD})
_PC = frozenset({Offer.SEARCH, Offer.CHOOSE})


def relevant(workflow: Workflow, matches: IdentifyResult | Sequence[RecordRef]
             ) -> tuple[RecordRef, ...]:
    refs = matches.refs() if isinstance(matches, IdentifyResult) else tuple(matches)
    kinds = _RELEVANT[workflow]
    return tuple(r for r in refs if r.kind in kinds)


def decide(direction: Direction, workflow: Workflow,
           matches: IdentifyResult | Sequence[RecordRef], phase: Phase,
           linked_record: RecordRef | None = None) -> list[Action]:
    """What to do at `phase` of a call; see the module docstring for the rules."""
    found = relevant(workflow, matches)
    if direction is Direction.OUTBOUND and linked_record is not None \
            and phase is not Phase.ENDED:
        found = (linked_record,)  # dialled from this record: it is the match
    if phase is Phase.DECLINED:
        return [Nothing()]
    if phase is Phase.ENDED:
        regarding = (linked_record,) if linked_record else found if len(found) == 1 else ()
        return [LogActivity(regarding)]
    one = found[0] if len(found) == 1 else None
    if workflow is Workflow.CASE:
        if phase is Phase.ANSWERED:
            if one is not None and one.kind is RecordKind.CASE:
                return [PopRecord(one)]  # dialled from a case: the call belongs to it
            contact = one if one is not None and one.kind is RecordKind.CONTACT else None
            return [CreateCase(link_contact=contact)]
        return [Nothing()]
    if phase is Phase.ANSWERED:
        return [Nothing()]  # the pop or dialog is already up since ringing
    if workflow is Workflow.CASE_DIALOG:
        if one is not None and one.kind is RecordKind.CASE:
            return [PopRecord(one)]
        if one is not None:
            return [OpenDialog(workflow, (one,), _CASE_ONE)]
        return [OpenDialog(workflow, found, _CASE_MANY if found else _CASE_NONE)]
    if one is not None:
        return [PopRecord(one)]
    offers = {Workflow.CONTACT_ACCOUNT: _CA, Workflow.CONTACT_LEAD: _CL,
              Workflow.PHONE_CALL: _PC}[workflow]
    if not found:
        offers = offers - {Offer.CHOOSE}
    return [OpenDialog(workflow, found, offers)]


def dialog_query(action: OpenDialog, *, number: str, queue: str | None, call: str,
                 direction: Direction) -> dict[str, str]:
    """The query for switchboard://crm/dialog that shows `action` (app/crm/local/pages)."""
    kind = {Workflow.CASE_DIALOG: "case", Workflow.CASE: "case"}.get(action.kind,
                                                                    action.kind.value)
    query = {"kind": kind, "number": number, "call": call, "direction": direction.value}
    if queue:
        query["queue"] = queue
    if len(action.choices) == 1 and Offer.CHOOSE_CASE in action.offers:
        query["chosen"] = str(action.choices[0])
    return query
