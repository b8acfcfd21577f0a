"""The Salesforce REST client against the fake org: headers, limits, faults, versions."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app.core.crm import CrmError, CrmUnavailable, NewContact, RecordKind, RecordNotFound, RecordRef
from app.crm.salesforce.backend import SalesforceBackend
from app.crm.salesforce.client import ApiUsage, SalesforceClient, new_http_session
from app.crm.salesforce.errors import SalesforceRefused, SalesforceUnavailable
from tests.fakes.salesforce import FakeSalesforce
from tests.unit.crm.salesforce_helpers import DictStore, Org, signed_in, started_fake

NUMBER = "+358401234567"


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    yield from started_fake()


@pytest.fixture
def org(fake: FakeSalesforce) -> Org:
    return signed_in(fake, DictStore())


def test_every_request_names_switchboard_and_the_quota_use_is_read(
        org: Org, caplog: pytest.LogCaptureFixture) -> None:
    org.fake.set_api_usage(11_998, 15_000)
    with caplog.at_level(logging.WARNING, "app.crm.salesforce.client"):
        org.backend.identify(NUMBER)  # three ladder steps: 11 999, 12 000, 12 001 used

    requests = org.fake.rest_requests()
    assert requests and {r.call_options for r in requests} == {"client=Switchboard"}
    assert org.client.usage == ApiUsage(12_001, 15_000)
    assert [r.getMessage() for r in caplog.records] == ["salesforce api usage 12000/15000 (80%)"]


def test_the_agent_is_warned_once_when_the_quota_use_reaches_the_threshold(org: Org) -> None:
    warned: list[ApiUsage] = []
    client = SalesforceClient(org.auth, new_http_session(), api_version="62.0", timeout=5.0,
                              quota_warning_percent=80.0, on_quota_warning=warned.append)
    backend = SalesforceBackend(client, region="FI")
    org.fake.set_api_usage(11_998, 15_000)
    backend.identify(NUMBER)  # three ladder steps: 11 999, 12 000 (80 %), 12 001 used
    backend.identify(NUMBER)  # still above: no second warning
    assert warned == [ApiUsage(12_000, 15_000)]


def test_the_api_version_is_checked_once_against_the_org(org: Org) -> None:
    org.backend.identify(NUMBER)
    org.backend.identify(NUMBER)
    versions = [r for r in org.fake.requests if r.path == "/services/data/"]
    assert len(versions) == 1


def test_an_org_without_the_pinned_version_is_refused_clearly(fake: FakeSalesforce) -> None:
    app = signed_in(fake, DictStore(), api_version="64.0")
    with pytest.raises(CrmError, match=r"does not offer REST API v64\.0 \(its newest is 63\.0\)"):
        app.backend.identify(NUMBER)


def test_a_version_below_the_tested_floor_is_refused_at_once(org: Org) -> None:
    with pytest.raises(CrmError, match=r"older than the oldest version .* \(62\.0\)"):
        SalesforceClient(org.auth, org.client._http, api_version="61.0")


def test_limit_exceeded_is_unavailable_with_a_long_back_off(org: Org) -> None:
    org.fake.inject("limit")
    with pytest.raises(SalesforceUnavailable, match="daily API requests") as caught:
        org.backend.identify(NUMBER)
    assert isinstance(caught.value, CrmUnavailable)
    assert (caught.value.retry_after or 0) >= 1800


def test_the_org_running_out_of_quota_by_itself_is_the_same(org: Org) -> None:
    org.fake.set_api_usage(15_000, 15_000)
    with pytest.raises(SalesforceUnavailable, match="REQUEST_LIMIT_EXCEEDED"):
        org.backend.find_activity("call-1")


def test_503_is_unavailable_with_a_short_back_off(org: Org) -> None:
    org.fake.inject("unavailable")
    with pytest.raises(SalesforceUnavailable, match=r"unavailable \(HTTP 503\)") as caught:
        org.backend.identify(NUMBER)
    assert caught.value.retry_after == 60


def test_malformed_json_is_a_clear_unavailable(org: Org) -> None:
    org.fake.inject("malformed", path="/sobjects/Contact")
    with pytest.raises(SalesforceUnavailable, match=r"garbled data \(HTTP 200\) instead of JSON"):
        org.backend.create_contact(NewContact("Anna", "Virtanen"))


def test_an_html_error_page_is_a_clear_unavailable(org: Org) -> None:
    org.fake.inject("html", status=502)
    with pytest.raises(SalesforceUnavailable, match=r"a web page \(HTTP 502\) instead of JSON"):
        org.backend.identify(NUMBER)


def test_a_slow_org_times_out_as_unavailable(fake: FakeSalesforce) -> None:
    app = signed_in(fake, DictStore(), timeout=0.5)
    app.backend.identify(NUMBER)  # signed in and version checked
    fake.inject("slow", path="parameterizedSearch")
    try:
        with pytest.raises(SalesforceUnavailable, match=r"did not answer within 0\.5 seconds"):
            app.backend.identify(NUMBER)
    finally:
        fake.release_slow()


def test_an_unreachable_org_is_unavailable(org: Org) -> None:
    org.backend.identify(NUMBER)
    org.fake.stop()
    with pytest.raises(SalesforceUnavailable, match="cannot be reached"):
        org.backend.identify(NUMBER)


def test_a_refused_write_is_a_crm_error_in_the_orgs_words(org: Org) -> None:
    with pytest.raises(SalesforceRefused, match="INVALID_CROSS_REFERENCE_KEY") as caught:
        org.backend.create_contact(NewContact("Anna", "Virtanen",
                                              account_id="001000000000999AAA"))
    assert not isinstance(caught.value, CrmUnavailable)
    assert org.fake.all("Contact") == []


def test_a_record_that_is_not_there_is_record_not_found(org: Org) -> None:
    with pytest.raises(RecordNotFound):
        org.backend.get(RecordRef(RecordKind.CONTACT, "003000000000999AAA"))
    with pytest.raises(RecordNotFound):
        org.backend.get(RecordRef(RecordKind.CONTACT, "not-an-id"))


def test_composite_runs_dependent_requests_in_one_call(org: Org) -> None:
    answer = org.client.post("/composite", {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account",
         "referenceId": "acct", "body": {"Name": "Acme Oy"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact",
         "referenceId": "person", "body": {"LastName": "Virtanen", "AccountId": "@{acct.id}"}},
    ]})
    statuses = [r["httpStatusCode"] for r in answer["compositeResponse"]]
    assert statuses == [201, 201]
    [contact] = org.fake.all("Contact")
    assert contact["AccountId"] == answer["compositeResponse"][0]["body"]["id"]
