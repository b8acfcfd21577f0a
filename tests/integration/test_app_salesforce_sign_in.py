"""Signing in to Salesforce from inside the app: the sign-in bar (issue 12).

The whole app is built as in test_app_salesforce_matrix.py (build_app in this process,
the real backend over HTTP to tests/fakes/salesforce.py, ScriptedEngine for SIP), with
an empty keyring. The test plays the agent's system browser: `webbrowser.open` (what the
app calls to open it) follows the org's authorize URL and its redirect to the app's
loopback listener, as a browser would; PKCE is checked by the fake org.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable

import pytest
import requests
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.crm.salesforce.factory import secret_key
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.salesforce import FakeSalesforce
from tests.integration.test_app_salesforce_matrix import (
    ONE,
    WAIT_MS,
    Agent,
    call_fields,
    expected_task,
    lightning,
    salesforce_settings,
    task_of,
)
from tests.integration.test_app_salesforce_matrix import org as org  # the fixtures
from tests.integration.test_app_salesforce_matrix import start_app as start_app


class Browser:
    """The agent's browser: approves the org's authorize page, lands on the callback."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.landed: list[int] = []
        self.threads: list[threading.Thread] = []

    def open(self, url: str, *_args: object, **_kwargs: object) -> bool:
        self.opened.append(url)
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self.threads.append(thread)
        thread.start()
        return True

    def _visit(self, url: str) -> None:
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        self.landed.append(requests.get(answer.headers["Location"], timeout=10).status_code)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    fake = Browser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


def test_the_sign_in_bar_signs_in_through_the_browser_and_the_waiting_log_lands(
        qtbot: QtBot, org: FakeSalesforce, browser: Browser,
        start_app: Callable[..., SwitchboardApp]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    settings = salesforce_settings(org, "contact_account")
    settings.salesforce.omni_status_map = ["Available_for_Voice=Available"]
    keyring = MemorySecretStore()
    app = start_app(settings, keyring)
    agent = Agent(qtbot, app)
    pane = agent.crm.pane

    # Not signed in: the bar says so; a call rings and is answered all the same.
    qtbot.waitUntil(pane.sign_in_bar.isVisible, timeout=WAIT_MS)
    assert "not signed in to Salesforce" in pane.sign_in_label.text()
    assert pane.sign_in_button.text() == "Sign in to Salesforce"
    queued: list[str] = []
    agent.crm.call_logged.connect(queued.append)
    call = agent.inbound(ONE)
    agent.answer(call)
    agent.engine.remote_hangs_up(call.handle)
    qtbot.waitUntil(lambda: queued == [call.call_id], timeout=WAIT_MS)  # in the outbox
    assert org.all("Task") == [] and browser.opened == []

    # The agent presses the button; the browser opens the org's authorize page.
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.sign_in_bar.isVisible(), timeout=WAIT_MS)
    [authorize] = browser.opened
    assert authorize.startswith(f"{org.login_url}/services/oauth2/authorize?")
    assert "code_challenge_method=S256" in authorize
    assert browser.landed == [200]
    assert org.grants[:1] == ["authorization_code"]
    [refresh] = org.refresh_tokens()
    assert keyring.values == {secret_key(settings.salesforce): refresh}
    # Omni-Channel presence is read at sign-in (the agent is offline there).
    menu = app.availability.menu
    qtbot.waitUntil(lambda: menu.source_label.text() == "Omni-Channel: offline",
                    timeout=WAIT_MS)

    # The call log that waited lands now, and the next caller is found and popped.
    qtbot.waitUntil(lambda: call.call_id in agent.landed, timeout=WAIT_MS)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, ONE, None, None)
    second = agent.inbound(ONE)
    assert agent.wait_pop(second) == lightning(org, "Contact", aino)
    agent.answer(second)
    agent.hang_up_and_wait_for_the_task(second)
    assert call_fields(task_of(org, second.call_id)) == expected_task(second, ONE, aino, None)


def test_a_sign_in_revoked_in_the_org_brings_the_bar_back(
        qtbot: QtBot, org: FakeSalesforce, browser: Browser,
        start_app: Callable[..., SwitchboardApp]) -> None:
    org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    settings = salesforce_settings(org, "contact_account")
    token = org.issue_refresh_token()
    app = start_app(settings, MemorySecretStore({secret_key(settings.salesforce): token}))
    agent = Agent(qtbot, app)
    pane = agent.crm.pane
    first = agent.inbound(ONE)
    agent.wait_pop(first)
    assert not pane.sign_in_bar.isVisible()

    # The admin revokes the app's access; the session also runs out.
    assert requests.post(f"{org.login_url}/services/oauth2/revoke", data={"token": token},
                         timeout=10).status_code == 200
    org.expire_sessions()
    agent.inbound(ONE)
    qtbot.waitUntil(pane.sign_in_bar.isVisible, timeout=WAIT_MS)
    assert "not signed in to Salesforce" in pane.sign_in_label.text()
    assert browser.opened == []  # nothing opens by itself: the agent decides
