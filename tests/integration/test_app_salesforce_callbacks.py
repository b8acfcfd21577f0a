"""Callback requests from the phone system become Cases or Tasks in Salesforce (issue 12).

The whole app as in test_app_salesforce_matrix.py (build_app in this process, the real
Salesforce backend over HTTP to tests/fakes/salesforce.py) with the Enreach contact
centre (tests/fakes/enreach_api.py) delivering a callback request: the request becomes
a Case (`Origin = Phone`) or a Task (`Status = Not Started`, due on the day asked for) on
the one contact with the number, written on the network lane, and is closed on the phone
system with the Salesforce id, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.core.callbacks import CallbackRequest, subject_for
from app.ui.callbacks import CallbackList
from tests.fakes.enreach_api import FakeEnreachApi
from tests.fakes.salesforce import FakeSalesforce
from tests.integration.test_app_salesforce_matrix import (
    ONE,
    WAIT_MS,
    salesforce_settings,
    signed_in,
)
from tests.integration.test_app_salesforce_matrix import org as org  # the fixtures
from tests.integration.test_app_salesforce_matrix import start_app as start_app

REQUESTED = "2026-03-02T10:15:00Z"
REQUESTED_AT = datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc)


@pytest.fixture
def enreach() -> Iterator[FakeEnreachApi]:
    fake = FakeEnreachApi()
    fake.add_queue("q-sales", "Sales", "+358101000", active=True, ServingAgents=2,
                   FreeAgents=1, QueueLength=0, MaxWaitTime=0)
    fake.start()
    yield fake
    fake.stop()


@pytest.mark.parametrize("target", ["case", "task"])
def test_a_callback_request_becomes_a_salesforce_record_on_the_caller(
        qtbot: QtBot, org: FakeSalesforce, enreach: FakeEnreachApi,
        start_app: Callable[..., SwitchboardApp], target: str) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    settings = salesforce_settings(org, "contact_account")
    cc = settings.contactcenter
    cc.backend, cc.user, cc.keyring_key = "enreach", enreach.user, "enreach"
    cc.discovery_url, cc.poll_seconds, cc.callback_target = enreach.base, 0.2, target
    keyring = signed_in(org, settings)
    keyring.set("enreach", enreach.secret)
    app = start_app(settings, keyring)

    enreach.add_callback("cb-7", "Sales", ONE, REQUESTED, note="Please call about my order")
    qtbot.waitUntil(lambda: enreach.closed_callbacks != [], timeout=WAIT_MS)
    [(closed_id, note)] = enreach.closed_callbacks
    sobject = {"case": "Case", "task": "Task"}[target]
    [record] = org.all(sobject)
    assert (closed_id, note) == ("cb-7", f"{target.capitalize()} {record['Id']} created in CRM")
    request = CallbackRequest("cb-7", "Sales", REQUESTED_AT, ONE)
    assert record["Subject"] == subject_for(request)
    assert "Please call about my order" in record["Description"]
    assert f"Callback request from {ONE}" in record["Description"]
    if target == "case":
        assert (record["Origin"], record["Status"], record["ContactId"]) == (
            "Phone", "New", aino)
        assert org.all("Task") == []
    else:
        assert (record["Status"], record["WhoId"], record["WhatId"]) == (
            "Not Started", aino, None)
        assert record["ActivityDate"] == REQUESTED_AT.date().isoformat()
        assert record.get("TaskSubtype") == "Task"  # a to-do, not a logged call
        assert org.all("Case") == []

    callbacks = app.window.queues_area.findChild(CallbackList)
    assert callbacks is not None and "cb-7" in callbacks.rows
    _, label, _button = callbacks.rows["cb-7"]
    qtbot.waitUntil(lambda: record["Id"] in label.text(), timeout=WAIT_MS)
    # The next poll rounds see the request again; nothing is written twice.
    polls = len(enreach.requests)
    qtbot.waitUntil(lambda: len(enreach.requests) > polls + 4, timeout=WAIT_MS)
    assert len(org.all(sobject)) == 1 and len(enreach.closed_callbacks) == 1

