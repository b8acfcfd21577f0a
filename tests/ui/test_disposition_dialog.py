"""The disposition dialog as agents know it (issue 10), in the real web view: the caller's
number and queue on top, the matches as a table (Type, Full name, Account, Title, Email,
Choose), Update phone on every match, search results in sight after searching, and a
company's name finding its contacts; labels that went stale (the notes header, a record's
"No calls logged yet.") follow the CRM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWebEngineCore import QWebEngineScript

from app.compose import build_app
from app.config import Settings
from app.core.crm import NewAccount, NewContact
from app.core.history import MEMORY, History
from app.crm.local.store import LocalStore
from app.paths import Profile
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine
from tests.ui.test_screenpop import LOAD_TIMEOUT, Harness
from tests.ui.test_screenpop import store as store  # the fixture, re-exported here

pytestmark = pytest.mark.qt_log_ignore(
    r"QRhiGles2", r"Failed to create RHI", r"createPlatformVulkanInstance", r"QVulkanInstance",
    r"GBM is not supported", r"GPUInfo not initialized")
CALLER = "+358401234567"


@pytest.fixture
def harness(qtbot: Any, store: LocalStore) -> Iterator[Harness]:
    h = Harness(qtbot, store)
    h.view.resize(900, 600)  # the pane beside the call column at 1366x768
    h.view.show()  # laid out at that size: what is in sight is measured
    qtbot.waitExposed(h.view)
    yield h
    h.view.close_down()
    qtbot.wait(1)


ROWS = ("[...document.querySelectorAll('%s ul.matches li:not(.head)')].map(li => "
        "[...li.querySelectorAll('[role=cell]')].map(c => c.textContent.trim()))")


def js(harness: Harness, expression: str) -> Any:
    """A JavaScript value through JSON (arrays do not come back from runJavaScript)."""
    return json.loads(harness.js(f"JSON.stringify({expression})"))


def search(harness: Harness, text: str) -> None:
    with harness.qtbot.waitSignal(harness.view.loadFinished, timeout=LOAD_TIMEOUT):
        harness.js(f"document.querySelector('input[name=q]').value = {text!r};"
                   "document.querySelector('section.search form').submit()")


def test_matches_are_a_table_under_the_callers_number_and_queue(harness: Harness,
                                                                  store: LocalStore) -> None:
    firm = store.create_account(NewAccount("Kone Oyj"))
    store.create_contact(NewContact("Aino", "Virtanen", email="aino@kone.fi", title="CFO",
                                    account_id=firm.id, phones=("040 123 4567",)))
    store.create_contact(NewContact("Pekka", "Virtanen", phones=("040 123 4567",)))
    harness.load("dialog", {"kind": "contact_account", "number": CALLER, "queue": "Myynti",
                            "call": "c1"})
    assert harness.js("document.querySelector('.number').textContent") == "040 1234567"
    assert harness.js("document.querySelector('.queue').textContent") == "Myynti"
    head = js(harness, "[...document.querySelectorAll('ul.matches li.head span')]"
                      ".map(s => s.textContent)")
    assert head == ["Type", "Full name", "Account", "Title", "Email", ""]
    rows = js(harness, ROWS % "")
    assert [r[:5] for r in rows] == [
        ["Contact", "Aino Virtanen", "Kone Oyj", "CFO", "aino@kone.fi"],
        ["Contact", "Pekka Virtanen", "", "", ""]]
    assert all(r[5].startswith("Open") and "Has this number" in r[5] for r in rows)
    # the columns line up: every row's name cell starts where the header's does
    lefts = js(harness, "[...document.querySelectorAll('ul.matches li')].map(li => "
                       "li.children[1].getBoundingClientRect().left)")
    assert len(set(lefts)) == 1


def test_a_call_that_came_in_no_queue_says_direct(harness: Harness) -> None:
    harness.load("dialog", {"kind": "contact_account", "number": CALLER, "call": "c5"})
    assert harness.js("document.querySelector('.number').textContent") == "040 1234567"
    assert harness.js("document.querySelector('.queue').textContent") == "Direct"


def test_search_results_are_in_sight_and_each_match_can_take_the_number(
        harness: Harness, store: LocalStore) -> None:
    for i in range(8):  # a long list of matches above where the search used to be
        store.create_contact(NewContact(f"Caller{i}", "Sama", phones=("040 123 4567",)))
    other = store.create_contact(NewContact("Ville", "Virtanen", email="ville@example.fi"))
    harness.load("dialog", {"kind": "case", "number": CALLER, "call": "c2"})
    search(harness, "Ville")
    top, height = js(harness, "[document.getElementById('results').getBoundingClientRect()"
                             ".top, window.innerHeight]")
    assert 0 <= top < height  # the results are on screen without scrolling
    assert harness.js("window.scrollY") == 0
    assert harness.js("document.querySelector('input[name=q]').value") == "Ville"
    rows = js(harness, ROWS % "#results")
    assert [r[:2] for r in rows] == [["Contact", "Ville Virtanen"]]
    assert "Choose" in rows[0][5] and "Update phone" in rows[0][5]

    harness.js("[...document.querySelectorAll('#results a')].find(a => a.textContent == "
               "'Update phone').click(); true")
    harness.qtbot.waitUntil(lambda: bool(harness.actions))
    assert harness.actions == [("attach-number", {"call": "c2", "ref": str(other.ref),
                                                  "number": CALLER})]


def test_a_companys_name_finds_its_contacts(harness: Harness, store: LocalStore) -> None:
    firm = store.create_account(NewAccount("Kone Oyj"))
    store.create_contact(NewContact("Pekka", "Mäkinen", account_id=firm.id))
    store.create_contact(NewContact("Liisa", "Laine"))
    harness.load("dialog", {"kind": "contact_account", "number": "+358501112222",
                            "call": "c3"})
    search(harness, "Kone")
    names = [r[:3] for r in js(harness, ROWS % "#results")]
    assert ["Contact", "Pekka Mäkinen", "Kone Oyj"] in names
    assert ["Account", "Kone Oyj", ""] in names
    assert not any(r[1] == "Liisa Laine" for r in names)
    # Rows with different buttons (Update phone, or none for the account) keep one grid:
    # each column starts at the same x in every row, the header's included.
    lefts = js(harness, "[...document.querySelectorAll('#results ul.matches li')].map(li => "
                        "[...li.children].map(c => Math.round(c.getBoundingClientRect()"
                        ".left)))")
    assert len(lefts) >= 3 and all(row == lefts[0] for row in lefts)


def test_new_contact_account_and_case_are_offered(harness: Harness) -> None:
    harness.load("dialog", {"kind": "contact_account", "number": "+358501112222",
                            "call": "c4"})
    forms = js(harness, "[...document.querySelectorAll('form.new')].map(f => f.action)")
    assert forms == ["switchboard://action/new-contact", "switchboard://action/new-account"]
    assert harness.js("[...document.querySelectorAll('a')].some(a => a.textContent == "
                      "'New case')")


# -- labels that used to go stale, with the whole app and the built-in CRM ----------------

def test_notes_header_names_the_caller_and_the_record_lists_the_logged_call(
        qtbot: Any, tmp_path: Path) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    with LocalStore(profile.db_path("crm")) as crm:
        aino = crm.create_contact(NewContact("Aino", "Virtanen", phones=("040 123 4567",)))
    settings = Settings()
    settings.crm.workflow = "contact_account"
    settings.phone.audio = "null"
    app = build_app(profile, settings, secrets=MemorySecretStore(),
                    engine_factory=ScriptedEngine,  # type: ignore[arg-type]
                    history=History(MEMORY))
    qtbot.addWidget(app.window)
    app.start(show=True)
    try:
        qtbot.waitUntil(lambda: app.engine_running)
        assert app.crm is not None
        engine: ScriptedEngine = app.engine.current  # type: ignore[attr-defined]
        view = app.crm.view

        def page_text() -> str:
            box: list[str] = []
            view.page().runJavaScript("document.body ? document.body.innerText : ''",
                                      QWebEngineScript.ScriptWorldId.ApplicationWorld,
                                      box.append)
            qtbot.waitUntil(lambda: bool(box), timeout=LOAD_TIMEOUT)
            return box[0]

        with qtbot.waitSignal(app.crm.page_shown, timeout=LOAD_TIMEOUT):
            handle = engine.ring(CALLER, "Unknown Phone", "Myynti")
        # The notes are headed with the CRM's name, not the SIP display name.
        assert app.crm.notes.title_label.text() == "Notes — Aino Virtanen"
        assert "No calls logged yet." in page_text()
        engine.remote_answers(handle)
        with qtbot.waitSignal(app.crm.activity_landed, timeout=LOAD_TIMEOUT):
            engine.remote_hangs_up(handle)
        qtbot.waitUntil(lambda: "No calls logged yet." not in page_text(),
                        timeout=LOAD_TIMEOUT)
        assert view.url().toString().endswith(f"/contact/{aino.id}")
    finally:
        app.shutdown()


def test_choosing_a_match_in_the_dialog_renames_the_notes(qtbot: Any, tmp_path: Path) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    with LocalStore(profile.db_path("crm")) as crm:
        pekka = crm.create_contact(NewContact("Pekka", "Mäkinen", phones=("050 111 2233",)))
        crm.create_contact(NewContact("Liisa", "Mäkinen", phones=("050 111 2233",)))
    settings = Settings()
    settings.crm.workflow = "contact_account"
    settings.phone.audio = "null"
    app = build_app(profile, settings, secrets=MemorySecretStore(),
                    engine_factory=ScriptedEngine,  # type: ignore[arg-type]
                    history=History(MEMORY))
    qtbot.addWidget(app.window)
    app.start(show=True)
    try:
        qtbot.waitUntil(lambda: app.engine_running)
        assert app.crm is not None
        engine: ScriptedEngine = app.engine.current  # type: ignore[attr-defined]
        with qtbot.waitSignal(app.crm.page_shown, timeout=LOAD_TIMEOUT):
            engine.ring("+358501112233", "", "Myynti")
        title = app.crm.notes.title_label
        assert title.text() == "Notes — 050 1112233"  # two matches: no name yet
        box: list[Any] = []
        app.crm.view.page().runJavaScript(
            "[...document.querySelectorAll('ul.matches li')].find(li => li.textContent"
            ".includes('Pekka')).querySelector('a.primary').click(); 1",
            QWebEngineScript.ScriptWorldId.ApplicationWorld, box.append)
        qtbot.waitUntil(lambda: bool(box), timeout=LOAD_TIMEOUT)
        assert box == [1]  # the link was there and clicked
        qtbot.waitUntil(lambda: title.text() == "Notes — Pekka Mäkinen", timeout=LOAD_TIMEOUT)
        [card] = app.window.call_panel.cards.values()  # the card names the choice too
        assert (card.name_label.text(), card.crm_label.text()) == (
            "Pekka Mäkinen", "From Built-in CRM")
        qtbot.waitUntil(lambda: app.crm.view.url().toString().endswith(f"/contact/{pekka.id}"),
                        timeout=LOAD_TIMEOUT)
    finally:
        app.shutdown()


def test_the_case_dialog_offers_a_new_contact_then_its_case(harness: Harness) -> None:
    harness.load("dialog", {"kind": "case", "number": "+358501112222", "call": "c5"})
    form = js(harness, "[...document.querySelectorAll('form.new')].map(f => [f.action, "
                       "[...f.querySelectorAll('input[type=hidden]')].map(i => i.name + '=' "
                       "+ i.value)])")
    assert form == [["switchboard://action/new-contact",
                     ["call=c5", "number=+358501112222", "then=case"]]]
    assert js(harness, "[...document.querySelectorAll('a')].map(a => a.textContent)"
              ".filter(t => t == 'New case')") == ["New case"]
