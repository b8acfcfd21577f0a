"""Salesforce Omni-Channel presence mirrored into the app's availability (issue 12).

The whole app as in test_app_salesforce_matrix.py (build_app in this process, the real
backend over HTTP to tests/fakes/salesforce.py). Omni-Channel presence is read-only
through the API (Object Reference: UserServicePresence, ServicePresenceStatus): the app
reads it at start and when the agent presses "Read again" in "Select your status", maps
it through `salesforce.omni_status_map`, and never polls.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.config import Settings
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.salesforce import USER_ID, FakeSalesforce
from tests.integration.test_app_salesforce_matrix import (
    NONE,
    WAIT_MS,
    Agent,
    salesforce_settings,
    signed_in,
)
from tests.integration.test_app_salesforce_matrix import org as org  # the fixtures
from tests.integration.test_app_salesforce_matrix import start_app as start_app


def omni_settings(org: FakeSalesforce) -> Settings:
    settings = salesforce_settings(org, "contact_account")
    settings.salesforce.omni_status_map = ["Available_for_Voice=Available", "Break=Lunch"]
    return settings


def be_in_omni(org: FakeSalesforce, status: str, start: str) -> None:
    """The agent's Omni-Channel status changes to `status` (as the widget would do it)."""
    with org.lock:
        for row in org.org.records["UserServicePresence"].values():
            row["IsCurrentState"] = False
    org.add("UserServicePresence", UserId=USER_ID, ServicePresenceStatusId=status,
            IsCurrentState=True, StatusStartDate=start)


def presence_reads(org: FakeSalesforce) -> int:
    with org.lock:
        return sum("FROM UserServicePresence" in r.query.get("q", "") for r in org.requests)


def test_omni_channel_presence_sets_the_availability_at_start_and_when_asked(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]) -> None:
    voice = org.add("ServicePresenceStatus", DeveloperName="Available_for_Voice",
                    MasterLabel="Available for Voice")
    away = org.add("ServicePresenceStatus", DeveloperName="Break", MasterLabel="Break")
    training = org.add("ServicePresenceStatus", DeveloperName="Training",
                       MasterLabel="Training")
    be_in_omni(org, away, "2026-12-01T08:00:00.000+0000")
    settings = omni_settings(org)
    app = start_app(settings, signed_in(org, settings))
    availability = app.availability.availability
    menu = app.availability.menu

    # At start: Omni's Break is this app's Lunch.
    qtbot.waitUntil(lambda: availability.status.name == "Lunch", timeout=WAIT_MS)
    assert menu.source_label.text() == "Omni-Channel: Break"
    assert not menu.source.isHidden() and menu.source_button.text() == "Read again"
    assert presence_reads(org) == 1

    # The agent went available in the Omni-Channel widget and asks the app to read it.
    be_in_omni(org, voice, "2026-12-01T09:00:00.000+0000")
    qtbot.mouseClick(menu.source_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: availability.status.name == "Available", timeout=WAIT_MS)
    assert menu.source_label.text() == "Omni-Channel: Available for Voice"

    # A status the table does not map is shown and leaves the availability alone.
    be_in_omni(org, training, "2026-12-01T10:00:00.000+0000")
    qtbot.mouseClick(menu.source_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Training" in menu.source_label.text(), timeout=WAIT_MS)
    assert menu.source_label.text() == "Omni-Channel: Training (not mapped to a status here)"
    assert availability.status.name == "Available"
    assert presence_reads(org) == 3  # read when asked, never polled


def test_without_a_sign_in_the_status_says_so_and_nothing_changes(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]) -> None:
    app = start_app(omni_settings(org), MemorySecretStore())
    menu = app.availability.menu
    before = app.availability.availability.status
    qtbot.waitUntil(lambda: menu.source_label.text() != "", timeout=WAIT_MS)
    assert menu.source_label.text() == "Omni-Channel status: sign in to read it."
    assert app.availability.availability.status == before
    assert presence_reads(org) == 0


def test_without_an_omni_status_map_omni_channel_is_never_read(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]) -> None:
    settings = salesforce_settings(org, "contact_account")
    app = start_app(settings, signed_in(org, settings))
    agent = Agent(qtbot, app)
    call = agent.inbound(NONE)  # the org is asked (on the same lane a read would use)
    assert agent.wait_pop(call) == "dialog"
    assert app.availability.menu.source.isHidden()
    assert presence_reads(org) == 0
