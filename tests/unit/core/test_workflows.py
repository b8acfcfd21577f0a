"""The full table of workflow decisions: workflow, direction, matches, phase."""

from __future__ import annotations

import pytest

from app.core.calls import Direction
from app.core.crm import Account, Contact, IdentifyResult, Lead, RecordKind, RecordRef
from app.core.workflows import (
    CreateCase,
    LogActivity,
    Nothing,
    Offer,
    OpenDialog,
    Phase,
    PopRecord,
    Workflow,
    decide,
    dialog_query,
    relevant,
)

C1 = RecordRef(RecordKind.CONTACT, "1")
C2 = RecordRef(RecordKind.CONTACT, "2")
A1 = RecordRef(RecordKind.ACCOUNT, "7")
L1 = RecordRef(RecordKind.LEAD, "9")
K1 = RecordRef(RecordKind.CASE, "3")

NONE: tuple[RecordRef, ...] = ()
ONE = (C1,)
MANY = (C1, C2)

IN, OUT = Direction.INBOUND, Direction.OUTBOUND
R, A, E, D = Phase.RINGING, Phase.ANSWERED, Phase.ENDED, Phase.DECLINED
W = Workflow
Of = Offer

CASE_ONE = frozenset({Of.CHOOSE_CASE, Of.NEW_CASE, Of.NEW_CASE_UNIDENTIFIED})
CASE_MANY = frozenset({Of.SEARCH, Of.CHOOSE, Of.NEW_CASE_UNIDENTIFIED})
CASE_NONE = frozenset({Of.SEARCH, Of.NEW_CASE})
CA = frozenset({Of.SEARCH, Of.CHOOSE, Of.UPDATE_PHONE, Of.NEW_CONTACT, Of.NEW_ACCOUNT})
CA_NONE = CA - {Of.CHOOSE}
CL = frozenset({Of.SEARCH, Of.CHOOSE, Of.UPDATE_PHONE, Of.NEW_CONTACT, Of.NEW_LEAD})
CL_NONE = CL - {Of.CHOOSE}
PC = frozenset({Of.SEARCH, Of.CHOOSE})
PC_NONE = frozenset({Of.SEARCH})

# Inbound and outbound without a linked record behave the same; each row is checked for
# both directions.
TABLE = [
    # workflow, matches, phase, expected
    (W.CASE, NONE, R, [Nothing()]),
    (W.CASE, ONE, R, [Nothing()]),
    (W.CASE, MANY, R, [Nothing()]),
    (W.CASE, NONE, A, [CreateCase(link_contact=None)]),
    (W.CASE, ONE, A, [CreateCase(link_contact=C1)]),
    (W.CASE, MANY, A, [CreateCase(link_contact=None)]),
    (W.CASE, NONE, E, [LogActivity(())]),
    (W.CASE, ONE, E, [LogActivity((C1,))]),
    (W.CASE, MANY, E, [LogActivity(())]),
    (W.CASE, NONE, D, [Nothing()]),
    (W.CASE, ONE, D, [Nothing()]),
    (W.CASE, MANY, D, [Nothing()]),

    (W.CASE_DIALOG, NONE, R, [OpenDialog(W.CASE_DIALOG, (), CASE_NONE)]),
    (W.CASE_DIALOG, ONE, R, [OpenDialog(W.CASE_DIALOG, (C1,), CASE_ONE)]),
    (W.CASE_DIALOG, MANY, R, [OpenDialog(W.CASE_DIALOG, (C1, C2), CASE_MANY)]),
    (W.CASE_DIALOG, NONE, A, [Nothing()]),
    (W.CASE_DIALOG, ONE, A, [Nothing()]),
    (W.CASE_DIALOG, MANY, A, [Nothing()]),
    (W.CASE_DIALOG, NONE, E, [LogActivity(())]),
    (W.CASE_DIALOG, ONE, E, [LogActivity((C1,))]),
    (W.CASE_DIALOG, MANY, E, [LogActivity(())]),
    (W.CASE_DIALOG, NONE, D, [Nothing()]),
    (W.CASE_DIALOG, ONE, D, [Nothing()]),
    (W.CASE_DIALOG, MANY, D, [Nothing()]),

    (W.CONTACT_ACCOUNT, NONE, R, [OpenDialog(W.CONTACT_ACCOUNT, (), CA_NONE)]),
    (W.CONTACT_ACCOUNT, ONE, R, [PopRecord(C1)]),
    (W.CONTACT_ACCOUNT, MANY, R, [OpenDialog(W.CONTACT_ACCOUNT, (C1, C2), CA)]),
    (W.CONTACT_ACCOUNT, NONE, A, [Nothing()]),
    (W.CONTACT_ACCOUNT, ONE, A, [Nothing()]),
    (W.CONTACT_ACCOUNT, MANY, A, [Nothing()]),
    (W.CONTACT_ACCOUNT, NONE, E, [LogActivity(())]),
    (W.CONTACT_ACCOUNT, ONE, E, [LogActivity((C1,))]),
    (W.CONTACT_ACCOUNT, MANY, E, [LogActivity(())]),
    (W.CONTACT_ACCOUNT, NONE, D, [Nothing()]),
    (W.CONTACT_ACCOUNT, ONE, D, [Nothing()]),
    (W.CONTACT_ACCOUNT, MANY, D, [Nothing()]),

    (W.CONTACT_LEAD, NONE, R, [OpenDialog(W.CONTACT_LEAD, (), CL_NONE)]),
    (W.CONTACT_LEAD, ONE, R, [PopRecord(C1)]),
    (W.CONTACT_LEAD, MANY, R, [OpenDialog(W.CONTACT_LEAD, (C1, C2), CL)]),
    (W.CONTACT_LEAD, NONE, A, [Nothing()]),
    (W.CONTACT_LEAD, ONE, A, [Nothing()]),
    (W.CONTACT_LEAD, MANY, A, [Nothing()]),
    (W.CONTACT_LEAD, NONE, E, [LogActivity(())]),
    (W.CONTACT_LEAD, ONE, E, [LogActivity((C1,))]),
    (W.CONTACT_LEAD, MANY, E, [LogActivity(())]),
    (W.CONTACT_LEAD, NONE, D, [Nothing()]),
    (W.CONTACT_LEAD, ONE, D, [Nothing()]),
    (W.CONTACT_LEAD, MANY, D, [Nothing()]),

    (W.PHONE_CALL, NONE, R, [OpenDialog(W.PHONE_CALL, (), PC_NONE)]),
    (W.PHONE_CALL, ONE, R, [PopRecord(C1)]),
    (W.PHONE_CALL, MANY, R, [OpenDialog(W.PHONE_CALL, (C1, C2), PC)]),
    (W.PHONE_CALL, NONE, A, [Nothing()]),
    (W.PHONE_CALL, ONE, A, [Nothing()]),
    (W.PHONE_CALL, MANY, A, [Nothing()]),
    (W.PHONE_CALL, NONE, E, [LogActivity(())]),
    (W.PHONE_CALL, ONE, E, [LogActivity((C1,))]),
    (W.PHONE_CALL, MANY, E, [LogActivity(())]),
    (W.PHONE_CALL, NONE, D, [Nothing()]),
    (W.PHONE_CALL, ONE, D, [Nothing()]),
    (W.PHONE_CALL, MANY, D, [Nothing()]),
]


def _id(row: tuple) -> str:
    workflow, matches, phase, _ = row
    count = {0: "none", 1: "one"}.get(len(matches), "many")
    return f"{workflow.value}-{count}-{phase.value}"


@pytest.mark.parametrize("direction", [IN, OUT], ids=["in", "out"])
@pytest.mark.parametrize("row", TABLE, ids=[_id(r) for r in TABLE])
def test_table(direction: Direction, row: tuple) -> None:
    workflow, matches, phase, expected = row
    assert decide(direction, workflow, matches, phase) == expected


# Outbound calls dialled from a record: that record is the match, whatever the number
# matched (here: two contacts), and the call is logged regarding it.
LINKED = [
    (W.CASE, C1, R, [Nothing()]),
    (W.CASE, C1, A, [CreateCase(link_contact=C1)]),
    (W.CASE, K1, A, [PopRecord(K1)]),
    (W.CASE, C1, E, [LogActivity((C1,))]),
    (W.CASE, C1, D, [Nothing()]),
    (W.CASE_DIALOG, C1, R, [OpenDialog(W.CASE_DIALOG, (C1,), CASE_ONE)]),
    (W.CASE_DIALOG, K1, R, [PopRecord(K1)]),
    (W.CASE_DIALOG, C1, A, [Nothing()]),
    (W.CASE_DIALOG, K1, E, [LogActivity((K1,))]),
    (W.CONTACT_ACCOUNT, A1, R, [PopRecord(A1)]),
    (W.CONTACT_ACCOUNT, A1, A, [Nothing()]),
    (W.CONTACT_ACCOUNT, A1, E, [LogActivity((A1,))]),
    (W.CONTACT_LEAD, L1, R, [PopRecord(L1)]),
    (W.CONTACT_LEAD, L1, E, [LogActivity((L1,))]),
    (W.PHONE_CALL, C2, R, [PopRecord(C2)]),
    (W.PHONE_CALL, C2, A, [Nothing()]),
    (W.PHONE_CALL, C2, E, [LogActivity((C2,))]),
]


@pytest.mark.parametrize("row", LINKED, ids=[f"{r[0].value}-{r[1]}-{r[2].value}"
                                             for r in LINKED])
def test_outbound_from_record(row: tuple) -> None:
    workflow, linked, phase, expected = row
    assert decide(OUT, workflow, MANY, phase, linked_record=linked) == expected


@pytest.mark.parametrize("workflow", list(W))
def test_record_chosen_in_dialog_is_what_the_activity_regards(workflow: Workflow) -> None:
    assert decide(IN, workflow, MANY, E, linked_record=C2) == [LogActivity((C2,))]


def test_case_workflows_count_contacts_only() -> None:
    # A company switchboard number matching an account is not an identified contact.
    assert decide(IN, W.CASE, (A1,), A) == [CreateCase(link_contact=None)]
    assert decide(IN, W.CASE_DIALOG, (A1, L1), R) == [OpenDialog(W.CASE_DIALOG, (),
                                                                  CASE_NONE)]


def test_contact_account_counts_accounts_not_leads() -> None:
    assert decide(IN, W.CONTACT_ACCOUNT, (A1,), R) == [PopRecord(A1)]
    assert decide(IN, W.CONTACT_ACCOUNT, (L1,), R) == [OpenDialog(W.CONTACT_ACCOUNT, (),
                                                                  CA_NONE)]
    assert decide(IN, W.CONTACT_ACCOUNT, (C1, A1), R) == [
        OpenDialog(W.CONTACT_ACCOUNT, (C1, A1), CA)]


def test_contact_lead_counts_leads_not_accounts() -> None:
    assert decide(IN, W.CONTACT_LEAD, (L1,), R) == [PopRecord(L1)]
    assert decide(IN, W.CONTACT_LEAD, (A1,), R) == [OpenDialog(W.CONTACT_LEAD, (), CL_NONE)]


def test_identify_result_is_accepted_as_matches() -> None:
    result = IdentifyResult("+358401234567", contacts=(Contact("1", "A", "B"),),
                            accounts=(Account("7", "Acme"),), leads=(Lead("9", "L", "M"),))
    assert relevant(W.CASE, result) == (C1,)
    assert relevant(W.PHONE_CALL, result) == (C1, A1, L1)
    assert decide(IN, W.CASE, result, A) == [CreateCase(link_contact=C1)]


def test_dialog_query_names_the_page_and_preselects_one_contact() -> None:
    [action] = decide(IN, W.CASE_DIALOG, ONE, R)
    assert isinstance(action, OpenDialog)
    query = dialog_query(action, number="+358401234567", queue=None, call="c1",
                         direction=IN)
    assert query == {"kind": "case", "number": "+358401234567", "call": "c1",
                     "direction": "inbound", "chosen": "contact/1"}
    [many] = decide(IN, W.CONTACT_LEAD, MANY, R)
    assert isinstance(many, OpenDialog)
    assert dialog_query(many, number="1", queue="Sales", call="c", direction=OUT)[
        "kind"] == "contact_lead"
