"""DynamicsBackend against the fake Dataverse over a real socket: look-ups, writes, calls."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from app.core.crm import (
    CrmBackend,
    CrmError,
    CrmUnavailable,
    NewAccount,
    NewCase,
    NewContact,
    RecordKind,
    RecordNotFound,
    RecordRef,
)
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.client import DataverseClient
from tests.fakes.dataverse import FakeDataverse
from tests.unit.crm.dynamics_helpers import FakeClock, StaticTokens, activity


@pytest.fixture
def fake() -> Iterator[FakeDataverse]:
    server = FakeDataverse().start()
    yield server
    server.stop()


@pytest.fixture
def crm(fake: FakeDataverse) -> DynamicsBackend:
    return DynamicsBackend(DataverseClient(fake.org_url, StaticTokens(), timeout=5),
                           region="FI")


def _queries(fake: FakeDataverse, entity_set: str) -> list[str]:
    return [r["query"].get("$filter", "") for r in fake.requests
            if r["method"] == "GET" and r["path"].endswith("/" + entity_set)]


def test_it_is_a_crm_backend(crm: DynamicsBackend) -> None:
    assert isinstance(crm, CrmBackend)


def test_identify_nobody(fake: FakeDataverse, crm: DynamicsBackend) -> None:
    fake.add_contact("Other", "Person", "+358501112222")
    result = crm.identify("040 123 4567")
    assert result.count == 0 and not result.truncated


def test_identify_one_contact_by_e164_in_any_phone_column(fake: FakeDataverse,
                                                          crm: DynamicsBackend) -> None:
    account = fake.add_account("Meikäläinen Oy")
    cid = fake.add_contact("Matti", "Meikäläinen", "+358 9 555 1234", "+358401234567",
                           account_id=account)
    result = crm.identify("040 123 4567")
    assert [c.id for c in result.contacts] == [cid]
    assert result.contacts[0].account_id == account
    assert result.contacts[0].account_name == "Meikäläinen Oy"
    assert result.accounts == () and result.leads == ()
    # E.164 found it: the fallback pass never ran
    assert all("endswith" not in q for q in _queries(fake, "contacts"))
    assert "telephone2 eq '+358401234567'" in _queries(fake, "contacts")[0]


def test_identify_many_across_contacts_accounts_and_leads(fake: FakeDataverse,
                                                          crm: DynamicsBackend) -> None:
    fake.add_contact("Matti", "M", "+358401234567")
    fake.add_contact("Maija", "M", "", "", "", "+358401234567")
    fake.add_account("Shared line Oy", "+358401234567")
    fake.add_lead("Lea", "Lead", "Prospect Ab", "+358401234567")
    result = crm.identify("+358 40 123 4567")
    assert (len(result.contacts), len(result.accounts), len(result.leads)) == (2, 1, 1)


def test_identify_caps_each_kind_and_says_there_were_more(fake: FakeDataverse,
                                                          crm: DynamicsBackend) -> None:
    for i in range(12):
        fake.add_contact("Same", f"Number{i}", "+358401234567")
    result = crm.identify("0401234567")
    assert len(result.contacts) == 10 and result.truncated


def test_fallback_finds_other_written_forms_and_checks_each_candidate(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    cid = fake.add_contact("Written", "Nationally", "040-1234567")
    fake.add_contact("Same", "Last digits", "+358 50 999 4567")  # ends alike, other number
    result = crm.identify("+358401234567")
    assert [c.id for c in result.contacts] == [cid]
    assert any("endswith(telephone1,'4567')" in q for q in _queries(fake, "contacts"))


def test_fallback_can_be_switched_off(fake: FakeDataverse) -> None:
    fake.add_contact("Written", "Nationally", "040-1234567")
    crm = DynamicsBackend(DataverseClient(fake.org_url, StaticTokens(), timeout=5),
                          phone_fallback=False)
    assert crm.identify("+358401234567").count == 0
    assert len([r for r in fake.requests if r["method"] == "GET"]) == 3


def test_identify_does_not_look_up_extensions_or_junk(fake: FakeDataverse,
                                                      crm: DynamicsBackend) -> None:
    assert crm.identify("201").count == 0
    assert crm.identify("' or contactid ne null or '").count == 0
    assert fake.requests == []


def test_search_escapes_quotes_and_wildcards(fake: FakeDataverse, crm: DynamicsBackend) -> None:
    obrien = fake.add_contact("Sean", "O'Brien", "+353861234567")
    fake.add_contact("Sean", "Other", "+353861234568")
    fake.add_account("100% Juice Oy")
    fake.add_account("1000 Lakes Oy")
    assert [c.id for c in crm.search("O'Brien").contacts] == [obrien]
    assert [a.name for a in crm.search("100%").accounts] == ["100% Juice Oy"]
    # an injection attempt is just an odd name that matches nobody
    result = crm.search("x') or startswith(lastname,'")
    assert result.empty
    sent = _queries(fake, "contacts")[0]
    assert "startswith(firstname,'O''Brien')" in sent


def test_query_values_are_percent_encoded_on_the_wire(fake: FakeDataverse,
                                                      crm: DynamicsBackend) -> None:
    crm.search("A&B #1+")
    seen = _queries(fake, "accounts")[0]
    assert "startswith(name,'A&B #1+')" in seen  # arrived whole: not cut at & or #, + kept


def test_record_url_opens_the_record_in_the_model_driven_app(fake: FakeDataverse) -> None:
    ref = RecordRef(RecordKind.CONTACT, "0b5e0000-0000-4000-8000-000000000001")
    crm = DynamicsBackend(DataverseClient(fake.org_url, StaticTokens()))
    assert crm.record_url(ref) == (f"{fake.org_url}/main.aspx?pagetype=entityrecord&etn=contact"
                                   "&id=0b5e0000-0000-4000-8000-000000000001")
    crm.app_id = "a1b2c3d4-0000-4000-8000-000000000009"
    query = parse_qs(urlparse(crm.record_url(RecordRef(RecordKind.CASE, ref.id))).query)
    assert query["appid"] == [crm.app_id] and query["etn"] == ["incident"]


def test_create_and_get_records(fake: FakeDataverse, crm: DynamicsBackend) -> None:
    acc = crm.create_account(NewAccount("Uusi Oy", phones=("09 555 1234",)))
    con = crm.create_contact(NewContact("Uuno", "Uusi", email="uuno@uusi.fi",
                                        account_id=acc.id, phones=("040 765 4321",)))
    assert con.phones == ("+358407654321",) and con.account_id == acc.id
    assert crm.get(con.ref) == con
    assert crm.identify("0407654321").contacts == (con,)
    case = crm.create_case(NewCase("Broken phone", "It rings backwards", contact_id=con.id))
    assert case.contact_id == con.id and case.number.startswith("CAS-")
    assert crm.recent_cases(con.id) == (case,)
    with pytest.raises(CrmError, match="customer"):
        crm.create_case(NewCase("Nobody's case"))
    with pytest.raises(RecordNotFound):
        crm.get(RecordRef(RecordKind.CONTACT, "0b5e0000-0000-4000-8000-00000000dead"))


def test_attach_number_fills_the_first_free_phone_column(fake: FakeDataverse,
                                                         crm: DynamicsBackend) -> None:
    cid = fake.add_contact("Matti", "M", "+358501112222")
    crm.attach_number(RecordRef(RecordKind.CONTACT, cid), "040 123 4567")
    crm.attach_number(RecordRef(RecordKind.CONTACT, cid), "+358401234567")  # no duplicate
    row = fake.records("contacts")[cid]
    assert (row["telephone1"], row["telephone2"], row["mobilephone"]) == (
        "+358501112222", "+358401234567", None)


def _phonecall(fake: FakeDataverse) -> tuple[str, dict[str, object]]:
    calls = fake.records("phonecalls")
    assert len(calls) == 1
    return next(iter(calls.items()))


def test_inbound_call_is_logged_with_parties_and_closed_as_received(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    cid = fake.add_contact("Matti", "M", "+358401234567")
    contact = RecordRef(RecordKind.CONTACT, cid)
    aid = crm.create_activity(activity(regarding=(contact,)))
    key, row = _phonecall(fake)
    assert key == aid == crm.find_activity("a84b4c76e66710@pbx.example.com")
    assert (row["directioncode"], row["statecode"], row["statuscode"]) == (False, 1, 4)
    assert (row["_regardingobjectid_value"], row["actualdurationminutes"]) == (cid, 3)
    assert fake.parties[aid] == [
        {"partyid": cid, "entity": "contact", "participationtypemask": 1},
        {"partyid": fake.user_id, "entity": "systemuser", "participationtypemask": 2}]
    create = next(r for r in fake.requests if r["method"] == "PATCH")
    assert create["headers"] == {"If-None-Match": "*"}
    assert crm.find_activity("never-logged@pbx") is None


def test_outbound_call_is_closed_as_made_with_the_agent_as_caller(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    cid = fake.add_contact("Matti", "M", "+358401234567")
    aid = crm.create_activity(activity(direction="outbound",
                                       regarding=(RecordRef(RecordKind.CONTACT, cid),)))
    _, row = _phonecall(fake)
    assert (row["directioncode"], row["statecode"], row["statuscode"]) == (True, 1, 2)
    assert [(p["entity"], p["participationtypemask"]) for p in fake.parties[aid]] == [
        ("systemuser", 1), ("contact", 2)]


@pytest.mark.parametrize("lost_patch", [0, 1], ids=["create-answer-lost",
                                                   "close-answer-lost"])
def test_no_duplicate_when_an_answer_is_lost(fake: FakeDataverse, crm: DynamicsBackend,
                                             lost_patch: int) -> None:
    fake.fail_next("lost", method="PATCH", path_contains="phonecalls", skip=lost_patch)
    call = activity(regarding=())
    with pytest.raises(CrmUnavailable, match="lost"):
        crm.create_activity(call)
    first_id = crm.create_activity(call)  # what the outbox does next
    key, row = _phonecall(fake)
    assert key == first_id and (row["statecode"], row["statuscode"]) == (1, 4)
    assert crm.create_activity(call) == first_id  # and once more: still one phone call
    assert len(fake.records("phonecalls")) == 1


def test_update_reopens_changes_and_closes_again(fake: FakeDataverse,
                                                 crm: DynamicsBackend) -> None:
    aid = crm.create_activity(activity(queue="Support"))
    crm.update_activity(aid, {"recording_url": "https://rec.example/1.wav",
                              "queue_wait_seconds": 42, "duration_seconds": 200})
    _, row = _phonecall(fake)
    assert (row["statecode"], row["statuscode"], row["actualdurationminutes"]) == (1, 4, 4)
    assert "Recording: https://rec.example/1.wav" in str(row["description"])
    assert "Queue wait: 42 s" in str(row["description"])
    assert str(row["description"]).startswith("Wants a callback on Friday")
    with pytest.raises(CrmError, match="no field"):
        crm.update_activity(aid, {"colour": "red"})


def test_call_logged_on_a_case_is_a_phone_call_regarding_the_case(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    cid = fake.add_contact("Matti", "M", "+358401234567")
    case_id = fake.add_incident("Broken phone", cid)
    call = activity(regarding=(RecordRef(RecordKind.CONTACT, cid),))
    crm.log_call_on_case(case_id, call)
    crm.log_call_on_case(case_id, call)
    key, row = _phonecall(fake)
    assert row["_regardingobjectid_value"] == case_id
    assert fake.parties[key][0]["partyid"] == cid


def test_hundred_calls_under_throttling_and_lost_answers_become_hundred_phone_calls(
        fake: FakeDataverse) -> None:
    clock = FakeClock()
    client = DataverseClient(fake.org_url, StaticTokens(), timeout=5, sleep=clock.sleep,
                             clock=clock.clock)
    crm = DynamicsBackend(client)
    kinds = ["throttle_requests", "throttle_time", "throttle_concurrency"]
    for i in range(100):
        if i % 3 == 0:
            fake.fail_next(kinds[i % 9 // 3], retry_after=2, path_contains="phonecalls")
        if i % 7 == 0:
            fake.fail_next("lost", method="PATCH", path_contains="phonecalls", skip=i % 2)
    ids = set()
    for i in range(100):
        call = activity(call_id=f"call-{i}@pbx.example.com")
        for _attempt in range(50):  # what the outbox does: retry while unavailable
            try:
                ids.add(crm.create_activity(call))
                break
            except CrmUnavailable:
                continue
    calls = fake.records("phonecalls")
    assert len(ids) == len(calls) == 100
    assert all((c["statecode"], c["statuscode"]) == (1, 4) for c in calls.values())
    assert fake.faults == [] and clock.slept and set(clock.slept) == {2.0}
