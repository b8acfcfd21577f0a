"""Dataverse translation without a server: the exact phone call body, literals, the call id."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from app.core.crm import CrmError, RecordKind, RecordNotFound, RecordRef
from app.crm.dynamics import records
from tests.unit.crm.dynamics_helpers import activity

CONTACT = RecordRef(RecordKind.CONTACT, "0b5e0000-0000-4000-8000-000000000001")
ACCOUNT = RecordRef(RecordKind.ACCOUNT, "0b5e0000-0000-4000-8000-000000000002")
CASE = RecordRef(RecordKind.CASE, "0b5e0000-0000-4000-8000-000000000003")
LEAD = RecordRef(RecordKind.LEAD, "0b5e0000-0000-4000-8000-000000000004")
AGENT = "0b5e0000-0000-4000-8000-0000000000aa"


def test_inbound_phone_call_body_is_exact() -> None:
    body = records.phonecall_body(activity(regarding=(CONTACT,)), AGENT)
    assert body == {
        "subject": "Call from Matti Meikäläinen",
        "phonenumber": "+358401234567",
        "directioncode": False,
        "description": "Wants a callback on Friday\n\n-- Switchboard --\nResult: answered\n"
                       "Call-ID: a84b4c76e66710@pbx.example.com",
        "actualstart": "2025-03-04T09:15:00Z",
        "actualend": "2025-03-04T09:17:01Z",
        "actualdurationminutes": 3,
        "regardingobjectid_contact_phonecall@odata.bind": f"/contacts({CONTACT.id})",
        "phonecall_activity_parties": [
            {"partyid_contact@odata.bind": f"/contacts({CONTACT.id})",
             "participationtypemask": 1},
            {"partyid_systemuser@odata.bind": f"/systemusers({AGENT})",
             "participationtypemask": 2},
        ],
    }


def test_outbound_phone_call_swaps_from_and_to_and_says_outgoing() -> None:
    body = records.phonecall_body(activity(direction="outbound", regarding=(CONTACT,)), AGENT)
    assert body["directioncode"] is True
    assert body["phonecall_activity_parties"] == [
        {"partyid_systemuser@odata.bind": f"/systemusers({AGENT})", "participationtypemask": 1},
        {"partyid_contact@odata.bind": f"/contacts({CONTACT.id})", "participationtypemask": 2},
    ]


@pytest.mark.parametrize(("refs", "bind"), [
    ((ACCOUNT,), "regardingobjectid_account_phonecall@odata.bind"),
    ((LEAD,), "regardingobjectid_lead_phonecall@odata.bind"),
    ((CONTACT, CASE), "regardingobjectid_incident_phonecall@odata.bind"),
])
def test_regarding_uses_the_phone_call_navigation_property(refs: tuple[RecordRef, ...],
                                                           bind: str) -> None:
    body = records.phonecall_body(activity(regarding=refs), AGENT)
    assert [k for k in body if k.startswith("regardingobjectid_")] == [bind]


def test_unknown_caller_has_only_the_agent_as_party_and_no_regarding() -> None:
    body = records.phonecall_body(activity(), AGENT)
    assert not [k for k in body if k.startswith("regardingobjectid")]
    assert body["phonecall_activity_parties"] == [
        {"partyid_systemuser@odata.bind": f"/systemusers({AGENT})", "participationtypemask": 2}]


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 0), (1, 1), (60, 1), (61, 2), (121, 3)])
def test_duration_is_rounded_up_to_whole_minutes(seconds: int, minutes: int) -> None:
    assert records.duration_minutes(seconds) == minutes


def test_the_call_id_gives_the_same_activity_id_every_time() -> None:
    first = records.activity_id("abc@pbx")
    assert first == records.activity_id("abc@pbx") != records.activity_id("abd@pbx")
    assert uuid.UUID(first).version == 5
    with pytest.raises(CrmError):
        records.activity_id("")


def test_literals_double_quotes_and_bracket_wildcards() -> None:
    assert records.literal("O'Brien") == "'O''Brien'"
    assert records.literal("' or 1 eq 1 or '") == "''' or 1 eq 1 or '''"
    assert records.like_literal("50%_[x]") == "'50[%][_][[]x]'"


def test_ids_from_outside_must_be_guids() -> None:
    with pytest.raises(RecordNotFound):
        records.guid("42) or (1")
    assert records.guid("0B5E0000-0000-4000-8000-000000000001") == (
        "0b5e0000-0000-4000-8000-000000000001")


def test_description_keeps_details_when_notes_are_long_and_parses_back() -> None:
    text = records.description("x" * 5000, {"Result": "answered", "Call-ID": "c1"})
    assert len(text) <= records.DESCRIPTION_MAX
    notes, lines = records.parse_description(text)
    assert notes.endswith("…") and lines == {"Result": "answered", "Call-ID": "c1"}


def test_when_the_call_was_first_answered_is_in_the_details() -> None:
    answered = dataclasses.replace(activity(), answered_at="2025-03-04T09:15:09+00:00")
    _notes, lines = records.parse_description(
        str(records.phonecall_body(answered, AGENT)["description"]))
    assert lines["Answered at"] == "2025-03-04T09:15:09+00:00"
    # Never answered: no such line (actualstart is when it arrived).
    _notes, lines = records.parse_description(
        str(records.phonecall_body(activity(result="missed"), AGENT)["description"]))
    assert "Answered at" not in lines
