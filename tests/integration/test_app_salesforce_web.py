"""The whole app against the fake Salesforce org: what the agent sees and clicks (issue 12).

Built as in test_app_salesforce_matrix.py (build_app in this process, the real backend
over HTTP to tests/fakes/salesforce.py, the real web views, ScriptedEngine for SIP):
- hostile names from the org (markup, script) show as text in our dialog;
- a `tel:` link clicked in a Lightning page goes through the strict link parser, dials
  what it rebuilt, and the call is logged on the record the page showed; a link the
  parser refuses dials nothing and says why;
- a pop never replaces a Lightning page with unsaved edits: it waits for the answer,
  then for "Open now".
The fake's Lightning pages are stand-ins (see its docstring): the org's scripts are not
there, so the test clicks and types in them with script of its own.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.exceptions import TimeoutError as QtBotTimeout
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.ui.crm_web import World
from tests.fakes.salesforce import FakeSalesforce
from tests.integration.test_app_salesforce_matrix import (
    MANY,
    NONE,
    ONE,
    WAIT_MS,
    Agent,
    call_fields,
    expected_task,
    lightning,
    links,
    pages_loaded,
    salesforce_settings,
    signed_in,
    task_of,
)
from tests.integration.test_app_salesforce_matrix import org as org  # the fixtures
from tests.integration.test_app_salesforce_matrix import start_app as start_app

SCRIPT = "<script>document.title='owned'</script>"
IMAGE = '<img src=x onerror="document.title=\'owned\'">'


def run_in_page(qtbot: QtBot, agent: Agent, script: str) -> Any:
    """Run `script` in the Lightning page's own world (as the page's scripts would)."""
    page = agent.crm.view.web_page
    assert page is not None and agent.crm.view.showing_web
    with qtbot.waitCallback(timeout=WAIT_MS) as done:
        page.runJavaScript(script, World.MainWorld, done)
    return done.args[0]


def where(qtbot: QtBot, agent: Agent, element: str) -> list[float]:
    """The middle of `element` in the page (waits until the page has it)."""
    found: list[list[float]] = []

    def located() -> bool:
        text = run_in_page(qtbot, agent, f"(() => {{ const e = ({element}); if (!e) return "
                           "''; const r = e.getBoundingClientRect(); return JSON.stringify("
                           "[r.x + r.width / 2, r.y + r.height / 2]); })()")
        if isinstance(text, str) and text:
            found.append(json.loads(text))
        return bool(found)
    qtbot.waitUntil(located, timeout=WAIT_MS)
    return found[0]


def click_in_page(qtbot: QtBot, agent: Agent, element: str,
                  until: Callable[[], bool]) -> None:
    """A real mouse click on `element` (a JavaScript expression) of the Lightning page,
    again while `until()` stays false: a page whose DOM is ready may not take input yet.

    Not `element.click()`: Chromium hands a `tel:` link to the page only for a click the
    user made (a scripted click on an external scheme is dropped before the page sees it).
    """
    target = agent.crm.view.focusProxy()
    assert target is not None
    for _ in range(10):
        box = where(qtbot, agent, element)
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton,
                         pos=QPoint(int(box[0]), int(box[1])))
        with contextlib.suppress(QtBotTimeout):
            qtbot.waitUntil(until, timeout=2000)
            return
    raise AssertionError(f"clicking {element} did nothing")


def type_in_page(qtbot: QtBot, agent: Agent, element: str, text: str) -> None:
    """Click into `element` of the Lightning page and type `text` with the keyboard."""
    click_in_page(qtbot, agent, element, lambda: run_in_page(
        qtbot, agent, f"document.activeElement === ({element})") is True)
    target = agent.crm.view.focusProxy()
    assert target is not None
    qtbot.keyClicks(target, text)
    qtbot.waitUntil(lambda: run_in_page(qtbot, agent, f"({element}).value") == text,
                    timeout=WAIT_MS)


@pytest.fixture
def agent_for(qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp]
              ) -> Iterator[Callable[[str], Agent]]:
    def make(workflow: str) -> Agent:
        settings = salesforce_settings(org, workflow)
        return Agent(qtbot, start_app(settings, signed_in(org, settings)))
    yield make


def test_names_with_markup_from_the_org_show_as_text_in_our_dialog(
        qtbot: QtBot, org: FakeSalesforce, agent_for: Callable[[str], Agent]) -> None:
    evil = org.add("Contact", FirstName=SCRIPT, LastName=f"{IMAGE}Evil", Phone=MANY,
                   Title="<b>boss</b>")
    odd = org.add("Account", Name='"><a href="https://example.com/">click</a>', Phone=MANY)
    agent = agent_for("contact_account")

    call = agent.inbound(MANY)
    assert agent.wait_pop(call) == "dialog"
    html, text = agent.dialog_html(), agent.dialog_text()
    # The names are on the page, as the characters the org holds...
    assert SCRIPT in text and f"{IMAGE}Evil" in text
    assert '"><a href="https://example.com/">click</a>' in text
    # ...and none of their markup became an element.
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert '<a href="https://example.com/"' not in html
    assert "&lt;script&gt;" in html
    assert {c["ref"] for c in links(html, "open")} == {f"contact/{evil}", f"account/{odd}"}
    with qtbot.waitCallback(timeout=WAIT_MS) as title:
        agent.crm.view.builtin_page.runJavaScript("document.title", World.ApplicationWorld,
                                                  title)
    assert title.args[0] != "owned"
    assert agent.app.window.windowTitle() != "owned"


def test_a_tel_link_clicked_in_a_lightning_page_dials_through_the_strict_parser(
        qtbot: QtBot, org: FakeSalesforce, agent_for: Callable[[str], Agent]) -> None:
    # The org holds a number with a SIP parameter in it: only the number may be dialled.
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE,
                   MobilePhone="+358 50 123 4567;maddr=evil.example")
    scam = org.add("Contact", FirstName="Scam", LastName="Line", Phone=NONE,
                   MobilePhone="1-900-CALL-NOW")
    agent = agent_for("contact_account")

    call = agent.inbound(ONE)
    assert agent.wait_pop(call) == lightning(org, "Contact", aino)
    agent.answer(call)
    agent.hang_up_and_wait_for_the_task(call)

    # The agent clicks the mobile number on Aino's page.
    click_in_page(qtbot, agent, "document.querySelectorAll('a.phone')[1]",
                  lambda: len(agent.engine.dialled) > 0)
    assert len(agent.engine.dialled) == 1
    handle, dialled = agent.engine.dialled[0]
    assert dialled == "+358501234567"  # rebuilt by the parser; maddr never reaches SIP
    out = agent.outbound_call(handle)
    assert agent.wait_pop(out) == lightning(org, "Contact", aino)  # linked to the page's
    agent.answer(out)
    agent.hang_up_and_wait_for_the_task(out)
    assert call_fields(task_of(org, out.call_id)) == expected_task(
        out, "+358501234567", aino, None)

    # A number the parser refuses dials nothing, and the dial pad says why.
    agent.crm.pane.show_url(lightning(org, "Contact", scam))
    qtbot.waitUntil(lambda: f"/lightning/r/Contact/{scam}/view" in pages_loaded(org),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: run_in_page(qtbot, agent, "document.querySelectorAll("
                                        "'a.phone').length") == 2, timeout=WAIT_MS)
    error = agent.app.window.dialpad.error_label
    click_in_page(qtbot, agent, "document.querySelectorAll('a.phone')[1]",
                  lambda: "1-900-CALL-NOW" in error.text())
    assert "not a number Switchboard can dial" in error.text()
    assert len(agent.engine.dialled) == 1


class SystemBrowser(QObject):
    """Stands in for the agent's browser: Qt's own URL handler hook for `https`."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_a_link_out_of_the_org_opens_in_the_system_browser_not_in_the_view(
        qtbot: QtBot, org: FakeSalesforce, agent_for: Callable[[str], Agent]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    agent = agent_for("contact_account")
    call = agent.inbound(ONE)
    assert agent.wait_pop(call) == lightning(org, "Contact", aino)
    agent.answer(call)
    agent.hang_up_and_wait_for_the_task(call)

    browser = SystemBrowser()
    QDesktopServices.setUrlHandler("https", browser, "open")  # type: ignore[arg-type]
    try:  # a real click on the page's link to https://www.example.com/
        click_in_page(qtbot, agent, "document.querySelector('a.out')",
                      lambda: bool(browser.opened))
    finally:
        QDesktopServices.unsetUrlHandler("https")
    assert browser.opened == ["https://www.example.com/"]
    assert str(run_in_page(qtbot, agent, "location.pathname")) == (
        f"/lightning/r/Contact/{aino}/view")  # the record stays in front of the agent


def test_a_pop_waits_while_the_lightning_page_has_unsaved_edits(
        qtbot: QtBot, org: FakeSalesforce, agent_for: Callable[[str], Agent]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    liisa = org.add("Contact", FirstName="Liisa", LastName="Mäkinen", Phone=MANY)
    agent = agent_for("contact_account")
    pane = agent.crm.pane

    first = agent.inbound(ONE)
    assert agent.wait_pop(first) == lightning(org, "Contact", aino)
    agent.answer(first)
    agent.hang_up_and_wait_for_the_task(first)
    # The agent starts editing a field on Aino's page and leaves it unsaved.
    type_in_page(qtbot, agent, "document.getElementById('field')", "half typed")

    second = agent.inbound(MANY)
    qtbot.waitUntil(pane.hold_bar.isVisible, timeout=WAIT_MS)
    assert "opens when you answer" in pane.hold_label.text()
    assert agent.crm.view.web_page is not None
    assert agent.crm.view.web_page.url().toString() == lightning(org, "Contact", aino)
    assert f"/lightning/r/Contact/{liisa}/view" not in pages_loaded(org)
    assert agent.pops_of(second.call_id) == []

    # Answered while still editing: the bar now asks for "Open now"; still no pop.
    agent.answer(second)
    qtbot.waitUntil(lambda: "Open now" in pane.hold_label.text(), timeout=WAIT_MS)
    assert pane.hold_bar.isVisible()
    assert f"/lightning/r/Contact/{liisa}/view" not in pages_loaded(org)
    assert run_in_page(qtbot, agent, "document.getElementById('field').value") == \
        "half typed"

    # The agent is done with the edit and opens the caller's record.
    qtbot.mouseClick(pane.hold_button, Qt.MouseButton.LeftButton)
    assert agent.wait_pop(second) == lightning(org, "Contact", liisa)
    assert not pane.hold_bar.isVisible()
    agent.hang_up_and_wait_for_the_task(second)
    assert call_fields(task_of(org, second.call_id)) == expected_task(
        second, MANY, liisa, None)


def test_a_pop_goes_ahead_on_answer_when_the_edit_was_saved_meanwhile(
        qtbot: QtBot, org: FakeSalesforce, agent_for: Callable[[str], Agent]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    liisa = org.add("Contact", FirstName="Liisa", LastName="Mäkinen", Phone=MANY)
    agent = agent_for("contact_account")
    pane = agent.crm.pane

    first = agent.inbound(ONE)
    assert agent.wait_pop(first) == lightning(org, "Contact", aino)
    agent.answer(first)
    agent.hang_up_and_wait_for_the_task(first)
    type_in_page(qtbot, agent, "document.getElementById('field')", "half typed")

    second = agent.inbound(MANY)
    qtbot.waitUntil(pane.hold_bar.isVisible, timeout=WAIT_MS)
    # Saved: the field's value is now its default (as after a save and reload).
    run_in_page(qtbot, agent, "const f = document.getElementById('field'); "
                "f.defaultValue = f.value")
    agent.answer(second)
    assert agent.wait_pop(second) == lightning(org, "Contact", liisa)
    assert not pane.hold_bar.isVisible()


def test_a_slow_org_never_delays_ringing_and_the_pop_follows_when_it_answers(
        qtbot: QtBot, org: FakeSalesforce, agent_for: Callable[[str], Agent]) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    agent = agent_for("contact_account")
    org.inject("slow", path="/parameterizedSearch", seconds=60)  # until released

    call = agent.inbound(ONE)
    agent.answer(call)  # rings and is answered while the org says nothing
    qtbot.waitUntil(lambda: "slow to answer" in agent.dialog_text(), timeout=WAIT_MS)
    assert agent.pops_of(call.call_id) == []
    assert org.rest_requests("POST", "/parameterizedSearch")  # asked, not answered

    org.release_slow()
    assert agent.wait_pop(call) == lightning(org, "Contact", aino)
    agent.hang_up_and_wait_for_the_task(call)
    assert call_fields(task_of(org, call.call_id)) == expected_task(call, ONE, aino, None)
