"""SalesforceBackend against the fake org: identify ladder, records, Tasks exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.config import SalesforceSettings
from app.core.activity import CallLog, case_note
from app.core.availability import Status, StatusType
from app.core.crm import (
    CrmBackend,
    CrmError,
    CrmSignInRequired,
    CrmUnavailable,
    NewAccount,
    NewCase,
    NewContact,
    NewLead,
    NewTask,
    RecordKind,
    RecordRef,
)
from app.core.outbox import Outbox
from app.crm.salesforce.client import LIMIT_BACKOFF
from app.crm.salesforce.factory import build, secret_key
from app.crm.salesforce.presence import OmniPresenceReader, parse_status_map
from tests.fakes.salesforce import CLIENT_ID, USER_ID, FakeSalesforce
from tests.unit.crm.salesforce_helpers import DictStore, Org, activity, signed_in, started_fake

NUMBER = "+358401234567"
EXT = "Switchboard_Call_Id__c"


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    yield from started_fake()


@pytest.fixture
def org(fake: FakeSalesforce) -> Org:
    return signed_in(fake, DictStore())


def searches(org: Org) -> list[dict[str, object]]:
    return [r.body for r in org.fake.rest_requests("POST", "parameterizedSearch")]


def test_it_is_a_crm_backend(org: Org) -> None:
    assert isinstance(org.backend, CrmBackend)


# -- identify ---------------------------------------------------------------------------------


def test_an_unknown_number_tries_the_whole_ladder_without_building_sosl(org: Org) -> None:
    found = org.backend.identify("040 123 4567")

    assert found.count == 0 and found.number == "040 123 4567"
    bodies = searches(org)
    assert [b["q"] for b in bodies] == [r"\+358401234567", "040 1234567", "1234567"]
    for body in bodies:
        assert body["in"] == "PHONE"
        assert body["sobjects"] == [
            {"name": "Contact", "limit": 10, "fields": [
                "Id", "FirstName", "LastName", "Email", "Title", "AccountId", "Account.Name",
                "Phone", "MobilePhone", "HomePhone", "OtherPhone"]},
            {"name": "Account", "limit": 10, "fields": ["Id", "Name", "Website", "Phone"]},
            {"name": "Lead", "limit": 10, "where": "IsConverted = false", "fields": [
                "Id", "FirstName", "LastName", "Company", "Email", "Status", "Phone",
                "MobilePhone"]}]
    assert not org.fake.rest_requests("GET", "/query")  # no SOQL/SOSL text from the caller


def test_a_number_stored_as_e164_is_found_with_one_request(org: Org) -> None:
    account = org.fake.add("Account", Name="Acme Oy")
    contact = org.fake.add("Contact", FirstName="Anna", LastName="Virtanen", Phone=NUMBER,
                           AccountId=account, Email="anna@example.com")

    found = org.backend.identify("040 1234567")

    assert [c.id for c in found.contacts] == [contact]
    assert found.contacts[0].account_name == "Acme Oy"
    assert found.contacts[0].phones == (NUMBER,)
    assert len(searches(org)) == 1


def test_a_number_stored_in_national_form_is_found_on_the_second_step(org: Org) -> None:
    lead = org.fake.add("Lead", LastName="Korhonen", Company="Beta", MobilePhone="040-123 4567")

    found = org.backend.identify(NUMBER)

    assert [x.id for x in found.leads] == [lead] and found.count == 1
    assert len(searches(org)) == 2


def test_a_number_stored_without_trunk_prefix_is_found_by_its_trailing_digits(org: Org) -> None:
    account = org.fake.add("Account", Name="Gamma", Phone="40 123 4567")

    found = org.backend.identify(NUMBER)

    assert [a.id for a in found.accounts] == [account]
    assert len(searches(org)) == 3


def test_many_matches_across_kinds_but_never_a_converted_lead(org: Org) -> None:
    org.fake.add("Contact", LastName="One", Phone=NUMBER)
    org.fake.add("Contact", LastName="Two", MobilePhone=NUMBER)
    org.fake.add("Account", Name="Shared line", Phone=NUMBER)
    org.fake.add("Lead", LastName="Open", Company="X", Phone=NUMBER)
    org.fake.add("Lead", LastName="Converted", Company="X", Phone=NUMBER, IsConverted=True)

    found = org.backend.identify(NUMBER)

    assert (len(found.contacts), len(found.accounts), len(found.leads)) == (2, 1, 1)
    assert [x.last_name for x in found.leads] == ["Open"]
    assert not found.truncated


def test_more_than_ten_of_a_kind_is_cut_to_ten_and_said(org: Org) -> None:
    for i in range(12):
        org.fake.add("Contact", LastName=f"Person {i}", Phone=NUMBER)

    found = org.backend.identify(NUMBER)

    assert len(found.contacts) == 10 and found.truncated


def test_hostile_names_come_back_as_plain_data(org: Org) -> None:
    markup = '<img src=x onerror="alert(1)">'
    account = org.fake.add("Account", Name="<script>alert('x')</script>")
    org.fake.add("Contact", FirstName=markup, LastName="O'Brien\"); DROP --", Phone=NUMBER,
                 AccountId=account, Title="&amp; &lt;b&gt;")

    [contact] = org.backend.identify(NUMBER).contacts

    assert contact.first_name == markup
    assert contact.last_name == "O'Brien\"); DROP --"
    assert contact.account_name == "<script>alert('x')</script>"
    assert contact.title == "&amp; &lt;b&gt;"  # not unescaped either


# -- search, get, urls ------------------------------------------------------------------------


def test_search_by_name_company_or_case_number_escapes_search_operators(org: Org) -> None:
    contact = org.fake.add("Contact", FirstName="Anna", LastName="Virtanen")
    org.fake.add("Lead", LastName="Virtanen", Company="X", IsConverted=True)
    case = org.fake.add("Case", Subject="Broken router")
    number = org.fake.record(case)["CaseNumber"]

    assert [c.id for c in org.backend.search("anna virtanen").contacts] == [contact]
    assert org.backend.search("virtanen").leads == ()
    assert [c.id for c in org.backend.search(number).cases] == [case]
    org.backend.search('Acme* OR (x) "y"')
    assert searches(org)[-1]["q"] == r'Acme\* OR \(x\) \"y\"'
    assert org.backend.search("a").empty  # too short for Salesforce: no request
    # names twice; the case number as a phone (digits only: one step) and as a case; operators
    assert len(searches(org)) == 5


def test_search_by_email_finds_the_contact(org: Org) -> None:
    contact = org.fake.add("Contact", FirstName="Anna", LastName="Virtanen",
                           Email="anna.virtanen@example.com")
    assert [c.id for c in org.backend.search("anna.virtanen@example.com").contacts] == [contact]
    assert searches(org)[-1]["in"] == "ALL"  # e-mail is not a name field: search them all


def test_record_urls_are_lightning_record_pages_and_never_go_online(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen")
    ref = RecordRef(RecordKind.CONTACT, contact)
    # No session yet: no refresh from here (it runs on the GUI thread); the pane says why.
    with pytest.raises(CrmSignInRequired):
        org.backend.record_url(ref)
    assert org.fake.grants == []
    org.backend.identify(NUMBER)  # a session, as every pop has after its lookup
    url = org.backend.record_url(ref)
    assert url == f"{org.fake.instance_url}/lightning/r/Contact/{contact}/view"
    assert org.backend.record_url(RecordRef(RecordKind.ACTIVITY, "00T000000000001AAA")) == \
        f"{org.fake.instance_url}/lightning/r/Task/00T000000000001AAA/view"


# -- creating ---------------------------------------------------------------------------------


def test_new_records_carry_the_callers_number_in_e164(org: Org) -> None:
    account = org.backend.create_account(NewAccount("Acme Oy", website="acme.fi",
                                                    phones=("020 123 4567",)))
    contact = org.backend.create_contact(NewContact("Anna", "Virtanen", email="a@acme.fi",
                                                    account_id=account.id,
                                                    phones=("040 1234567", "+46 8 123 456")))
    lead = org.backend.create_lead(NewLead("Pekka", "Korhonen", phones=(NUMBER,)))

    assert org.fake.record(account.id)["Phone"] == "+358201234567"
    stored = org.fake.record(contact.id)
    assert (stored["Phone"], stored["MobilePhone"], stored["AccountId"]) == \
        (NUMBER, "+468123456", account.id)
    assert org.fake.record(lead.id)["Company"] == "[not provided]"
    assert [c.id for c in org.backend.identify(NUMBER).contacts] == [contact.id]


def test_an_account_email_is_refused_rather_than_dropped(org: Org) -> None:
    with pytest.raises(CrmError, match="no e-mail field"):
        org.backend.create_account(NewAccount("Acme Oy", email="info@acme.fi"))
    assert org.fake.all("Account") == []


def test_a_new_case_comes_from_the_phone_and_has_the_orgs_number(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen")

    case = org.backend.create_case(NewCase("Router broken", "It blinks", contact_id=contact))

    stored = org.fake.record(case.id)
    assert (stored["Origin"], stored["Status"], stored["ContactId"]) == \
        ("Phone", "New", contact)
    assert case.number == stored["CaseNumber"] and case.subject == "Router broken"


def test_a_new_task_is_a_to_do_about_the_contact(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen")
    due = datetime(2024, 6, 4, 12, 0, tzinfo=timezone.utc)

    task = org.backend.create_task(NewTask("Call back", "About the invoice", contact, None, due))

    stored = org.fake.record(task.id)
    assert (stored["Subject"], stored["Status"], stored["ActivityDate"], stored["WhoId"]) == \
        ("Call back", "Not Started", "2024-06-04", contact)


def test_attach_number_fills_the_first_free_phone_field_once(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen", Phone="+358 9 123 456")
    ref = RecordRef(RecordKind.CONTACT, contact)

    org.backend.attach_number(ref, "040 1234567")
    org.backend.attach_number(ref, NUMBER)

    stored = org.fake.record(contact)
    assert (stored["Phone"], stored["MobilePhone"]) == ("+358 9 123 456", NUMBER)
    assert len(org.fake.rest_requests("PATCH")) == 1
    with pytest.raises(CrmError, match="has no phone numbers"):
        org.backend.attach_number(RecordRef(RecordKind.CASE, contact), NUMBER)


def test_recent_cases_are_the_five_most_recently_modified(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen")
    other = org.fake.add("Contact", LastName="Other")
    cases = [org.fake.add("Case", Subject=f"Case {i}", ContactId=contact) for i in range(7)]
    org.fake.add("Case", Subject="Not hers", ContactId=other)
    with org.fake.lock:
        org.fake.org.update("Case", cases[0], {"Status": "Working"})  # now the newest

    recent = org.backend.recent_cases(contact)

    assert [c.subject for c in recent] == ["Case 0", "Case 6", "Case 5", "Case 4", "Case 3"]


# -- call activities --------------------------------------------------------------------------


def test_the_exact_task_body_of_a_logged_call(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen")
    case = org.fake.add("Case", Subject="Router", ContactId=contact)
    call = activity(regarding=(RecordRef(RecordKind.CONTACT, contact),
                               RecordRef(RecordKind.CASE, case)))

    task_id = org.backend.create_activity(call)

    [post] = org.fake.rest_requests("POST", "/sobjects/Task")
    assert post.body == {
        "TaskSubtype": "Call", "Subject": "Call from +358401234567 via Support",
        "Status": "Completed", "ActivityDate": "2024-06-03", "CallType": "Inbound",
        "CallDurationInSeconds": 230, "CallObject": "a84b4c76e66710@pbx.example.com",
        "CallDisposition": "answered", "Description": "Wants a callback",
        "WhoId": contact, "WhatId": case}
    assert org.fake.record(task_id)["TaskSubtype"] == "Call"
    assert org.backend.find_activity(call.call_id) == task_id


def test_a_call_about_a_lead_has_no_related_record(org: Org) -> None:
    lead = org.fake.add("Lead", LastName="Korhonen", Company="Beta")
    account = org.fake.add("Account", Name="Acme")
    call = activity(regarding=(RecordRef(RecordKind.LEAD, lead),
                               RecordRef(RecordKind.ACCOUNT, account)), direction="outbound")

    task = org.fake.record(org.backend.create_activity(call))

    assert (task["WhoId"], task["WhatId"], task["CallType"]) == (lead, None, "Outbound")


def test_no_duplicate_task_when_the_answer_to_the_create_is_lost(org: Org) -> None:
    call = activity()
    org.fake.inject("lost", method="POST", path="/sobjects/Task")

    with pytest.raises(CrmUnavailable):
        org.backend.create_activity(call)
    assert len(org.fake.all("Task")) == 1  # it landed; only the answer got lost

    again = org.backend.create_activity(call)

    assert [t["Id"] for t in org.fake.all("Task")] == [again]


def test_upsert_on_the_external_id_field_is_exactly_once_too(fake: FakeSalesforce) -> None:
    fake.org.add_external_id("Task", EXT)
    org = signed_in(fake, DictStore(), external_id_field=EXT)
    call = activity()
    fake.inject("lost", method="PATCH", path=f"/sobjects/Task/{EXT}/")

    with pytest.raises(CrmUnavailable):
        org.backend.create_activity(call)
    again = org.backend.create_activity(call)

    [task] = fake.all("Task")
    assert task["Id"] == again and task[EXT] == call.call_id
    assert task["TaskSubtype"] == "Call"
    assert not fake.rest_requests("POST", "/sobjects/Task")  # never a plain insert
    second = activity(call_id="b-2@pbx.example.com")
    assert fake.record(org.backend.create_activity(second))[EXT] == "b-2@pbx.example.com"


def test_a_call_id_with_quotes_is_matched_literally(org: Org) -> None:
    tricky = "x' OR CallObject != '"
    org.backend.create_activity(activity(call_id="other@pbx"))

    assert org.backend.find_activity(tricky) is None
    created = org.backend.create_activity(activity(call_id=tricky))
    assert org.backend.find_activity(tricky) == created
    assert len(org.fake.all("Task")) == 2


def test_later_details_update_the_same_task(fake: FakeSalesforce) -> None:
    fake.org.add_field("Task", "Recording_URL__c")
    org = signed_in(fake, DictStore(), recording_field="Recording_URL__c")
    task_id = org.backend.create_activity(activity())

    org.backend.update_activity(task_id, {"notes": "Called back, fixed",
                                          "recording_url": "https://rec.example/1"})

    task = fake.record(task_id)
    assert (task["Description"], task["Recording_URL__c"]) == \
        ("Called back, fixed", "https://rec.example/1")
    with pytest.raises(CrmError, match="no field colour"):
        org.backend.update_activity(task_id, {"colour": "red"})


def test_call_info_saved_on_the_case_is_one_task_on_it(org: Org) -> None:
    case = org.fake.add("Case", Subject="Router")
    call = activity()

    org.backend.log_call_on_case(case, call)
    org.backend.log_call_on_case(case, call)

    [task] = org.fake.all("Task")
    assert (task["WhatId"], task["Description"], task["CallObject"]) == \
        (case, case_note(call), call.call_id)


def test_a_used_up_quota_loses_no_call_log_in_the_outbox(org: Org, tmp_path: Path) -> None:
    now = [1000.0]
    outbox = Outbox(tmp_path / "outbox.sqlite3", clock=lambda: now[0])
    calls = [activity(call_id=f"call-{i}@pbx") for i in range(3)]
    for call in calls:
        outbox.enqueue_log(CallLog(call))
    org.fake.set_api_usage(15_000, 15_000)
    asked = len(org.fake.rest_requests())

    report = outbox.process(org.backend)

    # One refusal is enough: the org is left alone for the long back-off, not asked
    # again for each queued call (that would only spend more of the used-up quota).
    assert (report.applied, report.retrying, report.failed) == (0, 1, 0)
    assert report.paused_for == LIMIT_BACKOFF
    assert len(org.fake.rest_requests()) - asked == 1
    assert org.fake.all("Task") == [] and outbox.pending_count() == 3
    now[0] += LIMIT_BACKOFF - 1
    assert outbox.process(org.backend).retrying == 0
    assert len(org.fake.rest_requests()) - asked == 1
    org.fake.set_api_usage(0, 15_000)  # the quota frees up at midnight
    now[0] += 1
    report = outbox.process(org.backend)
    assert (report.applied, report.failed) == (3, 0)
    assert sorted(t["CallObject"] for t in org.fake.all("Task")) == \
        sorted(c.call_id for c in calls)
    outbox.close()


def test_a_503_during_the_create_writes_nothing(org: Org) -> None:
    org.fake.inject("unavailable", method="POST", path="/sobjects/Task")
    with pytest.raises(CrmUnavailable):
        org.backend.create_activity(activity())
    assert org.fake.all("Task") == []


# -- Omni-Channel -----------------------------------------------------------------------------


def test_omni_presence_is_read_and_mapped(org: Org) -> None:
    statuses = [Status("Available", StatusType.AVAILABLE), Status("Lunch", StatusType.OFFWORK)]
    table = parse_status_map(["Available_for_Voice=Available", "Break=Lunch",
                              "Busy_Chat=busy", "Nonsense", "Odd=whatever"], statuses)
    assert table == {"available_for_voice": statuses[0], "break": statuses[1],
                     "busy_chat": Status("Busy_Chat", StatusType.BUSY)}
    reader = OmniPresenceReader(org.client, table)
    assert reader.current() is None  # offline in Omni-Channel

    voice = org.fake.add("ServicePresenceStatus", DeveloperName="Available_for_Voice",
                         MasterLabel="Available for Voice")
    other = org.fake.add("ServicePresenceStatus", DeveloperName="Training",
                         MasterLabel="Training")
    org.fake.add("UserServicePresence", UserId=USER_ID, ServicePresenceStatusId=other,
                 IsCurrentState=False, StatusStartDate="2024-06-03T07:00:00.000+0000")
    org.fake.add("UserServicePresence", UserId=USER_ID, ServicePresenceStatusId=voice,
                 IsCurrentState=True, StatusStartDate="2024-06-03T08:00:00.000+0000")

    now = reader.current()

    assert now is not None
    assert (now.developer_name, now.label, now.status) == \
        ("Available_for_Voice", "Available for Voice", statuses[0])
    assert now.since == datetime(2024, 6, 3, 8, 0, tzinfo=timezone.utc)


def test_the_settings_build_a_working_backend(fake: FakeSalesforce) -> None:
    settings = SalesforceSettings(login_url=fake.login_url, client_id=CLIENT_ID,
                                  external_id_field=EXT)
    fake.org.add_external_id("Task", EXT)
    store = DictStore()
    store.values[secret_key(settings)] = fake.issue_refresh_token()

    parts = build(settings, region="FI", secret_store=store)

    assert secret_key(settings) == f"salesforce:{CLIENT_ID}"
    assert parts.backend.identify(NUMBER).count == 0
    parts.backend.create_activity(activity())
    assert fake.rest_requests("PATCH", f"/sobjects/Task/{EXT}/")
