"""The screen-pop view with the real QWebEngineView: hostile CRM data stays text, no script
runs, actions become intents, external links leave for the system browser, and a broken
CRM gives a visible error page."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineScript, QWebEngineSettings

from app.core.crm import NewAccount, NewCase, NewContact
from app.crm.local import pages
from app.crm.local.store import LocalStore
from app.ui.screenpop import ScreenPopView

IMG = "<img src=x onerror=\"document.title='pwned';document.body.dataset.pwned='img'\">"
SCRIPT = "</script><script>document.body.dataset.pwned='script'</script>"
QUOTE = "\"' onmouseover=\"document.body.dataset.pwned='attr'"
# Headless machines have no GPU: Qt and Chromium say so at the first view, then render
# in software. That is the environment, not our code.
pytestmark = pytest.mark.qt_log_ignore(
    r"QRhiGles2", r"Failed to create RHI", r"createPlatformVulkanInstance", r"QVulkanInstance",
    r"GBM is not supported", r"GPUInfo not initialized")
LOAD_TIMEOUT = 30_000  # ms; the first Chromium start on a busy machine is slow


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "crm.sqlite3", busy_timeout_ms=50) as s:
        yield s


class Harness:
    def __init__(self, qtbot: Any, store: LocalStore, render: pages_render | None = None
                 ) -> None:
        self.qtbot = qtbot
        self.opened: list[str] = []
        self.actions: list[tuple[str, dict]] = []
        self.view = ScreenPopView(render or (lambda p, q: pages.render(p, q, store)),
                                  open_external=lambda url: self.opened.append(url.toString()))
        self.view.action_requested.connect(lambda n, p: self.actions.append((n, p)))
        self.view.resize(600, 800)  # not qtbot.addWidget: close_down() ends its life

    def load(self, path: str, query: Mapping[str, str] | None = None) -> None:
        with self.qtbot.waitSignal(self.view.loadFinished, timeout=LOAD_TIMEOUT) as blocker:
            self.view.show_page(path, query)
        assert blocker.args == [True]

    def js(self, script: str) -> Any:
        """Run in Qt's isolated world: it reads the page's DOM even with page JS off."""
        box: list[Any] = []
        self.view.page().runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld,
                                       box.append)
        self.qtbot.waitUntil(lambda: bool(box), timeout=LOAD_TIMEOUT)
        return box[0]


pages_render = Callable[[str, Mapping[str, str]], tuple[str, bytes]]


@pytest.fixture
def harness(qtbot: Any, store: LocalStore) -> Iterator[Harness]:
    h = Harness(qtbot, store)
    yield h
    h.view.close_down()
    qtbot.wait(1)


def test_hostile_contact_renders_as_text_and_runs_nothing(harness: Harness,
                                                           store: LocalStore) -> None:
    account = store.create_account(NewAccount(IMG, website="javascript:alert(1)"))
    contact = store.create_contact(NewContact(SCRIPT, QUOTE, title=IMG, account_id=account.id,
                                              phones=("040 1234567",)))
    store.create_case(NewCase(IMG + SCRIPT, contact_id=contact.id))
    harness.load(f"contact/{contact.id}")

    assert harness.js("document.querySelector('h1').textContent") == f"{SCRIPT} {QUOTE}"
    assert harness.js("document.querySelector('.sub').textContent") == IMG
    assert harness.js("document.querySelectorAll('img, script, iframe').length") == 0
    assert harness.js("document.querySelectorAll('[onerror], [onmouseover]').length") == 0
    assert harness.js("document.body.dataset.pwned === undefined") is True
    assert harness.js("document.title") == f"{SCRIPT} {QUOTE} — Contact"
    assert IMG + SCRIPT in harness.js("document.body.textContent")

    harness.load(f"account/{account.id}")
    assert harness.js("document.querySelector('h1').textContent") == IMG
    # A javascript: "website" is shown as text, never as a link.
    assert harness.js("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    assert harness.js("document.body.dataset.pwned === undefined") is True


def test_hostile_caller_and_queue_in_the_dialog_are_text(harness: Harness,
                                                         store: LocalStore) -> None:
    harness.load("dialog", {"kind": "contact_account", "number": "+358401234567",
                            "queue": IMG, "call": SCRIPT, "q": QUOTE})
    assert harness.js("document.querySelector('.queue').textContent") == IMG
    assert harness.js("document.querySelector('input[name=q]').value") == QUOTE
    assert harness.js("document.querySelector('input[name=call]').value") == SCRIPT
    assert harness.js("document.querySelectorAll('img, script').length") == 0
    assert harness.js("document.body.dataset.pwned === undefined") is True


def test_csp_blocks_inline_script_even_with_javascript_enabled(qtbot: Any,
                                                               store: LocalStore) -> None:
    # If escaping ever failed, the page's Content-Security-Policy is the second wall.
    def leaky(path: str, query: Mapping[str, str]) -> tuple[str, bytes]:
        if path.endswith("style.css"):
            return pages.render(path, query, store)
        body = ("<h1>x</h1><script>document.title='ran'</script>"
                "<img src=x onerror=\"document.body.dataset.pwned='img'\">")
        return "text/html", pages.page("untouched", body)

    h = Harness(qtbot, store, render=leaky)
    h.view.page().settings().setAttribute(QWebEngineSettings.WebAttribute.JavascriptEnabled,
                                          True)
    h.load("leaky")
    assert h.js("document.title") == "untouched"
    assert h.js("document.body.dataset.pwned === undefined") is True
    h.view.close_down()


def test_case_dialog_buttons_become_intents_not_page_loads(harness: Harness,
                                                           store: LocalStore) -> None:
    contact = store.create_contact(NewContact("Maija", "Mehiläinen",
                                              phones=("+358 40 123 4567",)))
    cases = [store.create_case(NewCase(f"Case {i}", contact_id=contact.id)) for i in range(7)]
    harness.load("dialog", {"kind": "case", "number": "+358401234567", "queue": "Support",
                            "call": "abc@pbx"})
    assert harness.js("document.querySelector('.number').textContent") == "040 1234567"
    assert harness.js("document.querySelector('.queue').textContent") == "Support"
    listed = harness.js("[...document.querySelectorAll('ul.records a')]"
                        ".map(a => a.textContent).join('|')").split("|")
    assert listed == [f"{c.number} {c.subject}" for c in reversed(cases)][:5]

    before = harness.view.url().toString()
    harness.js("document.querySelector('a.button.primary').click()")  # "New case"
    harness.qtbot.waitUntil(lambda: bool(harness.actions))
    assert harness.actions == [("new-case", {"call": "abc@pbx", "contact": contact.id})]
    assert harness.view.url().toString() == before


def test_direct_call_dialog_says_direct(harness: Harness) -> None:
    harness.load("dialog", {"kind": "case", "number": "+358501112222"})
    assert harness.js("document.querySelector('.queue').textContent") == "Direct"
    assert harness.js("document.querySelector('h1').textContent") == "Unknown caller"


def test_search_form_stays_in_the_crm(harness: Harness, store: LocalStore) -> None:
    store.create_contact(NewContact("Ville", "Virtanen", email="ville@example.fi"))
    harness.load("dialog", {"kind": "contact_lead", "number": "+358501112222",
                            "call": "c9"})
    with harness.qtbot.waitSignal(harness.view.loadFinished, timeout=LOAD_TIMEOUT):
        harness.js("document.querySelector('input[name=q]').value = 'virt';"
                   "document.querySelector('section.search form').submit()")
    assert harness.js("document.querySelector('section.search ul.records .name')"
                      ".textContent") == "Ville Virtanen"
    assert QUrl(harness.view.url()).host() == "crm"


def test_links_leaving_the_crm_open_in_the_system_browser(harness: Harness,
                                                          store: LocalStore) -> None:
    # (mailto: links never reach the page's navigation hook: Qt WebEngine hands
    # external protocols to QDesktopServices itself, which is the system handler too.)
    account = store.create_account(NewAccount("Acme", website="https://acme.example/x?a=1"))
    harness.load(f"account/{account.id}")
    before = harness.view.url().toString()
    harness.js("document.querySelector('a[href^=\"https:\"]').click()")
    harness.qtbot.waitUntil(lambda: bool(harness.opened))
    assert harness.opened == ["https://acme.example/x?a=1"]
    assert harness.view.url().toString() == before


def test_links_between_crm_pages_load_in_the_view(harness: Harness,
                                                  store: LocalStore) -> None:
    account = store.create_account(NewAccount("Acme"))
    contact = store.create_contact(NewContact("Ville", "Virtanen", account_id=account.id))
    harness.load(f"contact/{contact.id}")
    with harness.qtbot.waitSignal(harness.view.loadFinished, timeout=LOAD_TIMEOUT) as b:
        harness.js("document.querySelector('a[href*=\"/account/\"]').click()")
    assert b.args == [True]
    assert harness.view.url().toString() == f"switchboard://crm/account/{account.id}"
    assert harness.js("document.querySelector('h1').textContent") == "Acme"


def test_click_to_dial_is_an_intent(harness: Harness, store: LocalStore) -> None:
    contact = store.create_contact(NewContact("Dial", "Me", phones=("040 7654321",)))
    harness.load(f"contact/{contact.id}")
    harness.js("document.querySelector('a.number').click()")
    harness.qtbot.waitUntil(lambda: bool(harness.actions))
    assert harness.actions == [("dial", {"number": "+358407654321",
                                         "ref": f"contact/{contact.id}"})]


def test_locked_database_shows_the_error_page(harness: Harness, store: LocalStore) -> None:
    contact = store.create_contact(NewContact("Locked", "Out"))
    store.close()  # another program takes the lock; our fresh connection meets it
    locker = sqlite3.connect(store.path, isolation_level=None)
    try:
        locker.execute("PRAGMA locking_mode = EXCLUSIVE")
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("UPDATE contacts SET title = 'x'")
        harness.load(f"contact/{contact.id}")
    finally:
        locker.close()
    assert harness.js("document.querySelector('h1').textContent") == \
        "CRM not reachable — the call goes on"
    assert "locked" in harness.js("document.querySelector('.detail').textContent")


def test_missing_database_shows_the_error_page(qtbot: Any, tmp_path: Path) -> None:
    missing = LocalStore(tmp_path / "nowhere" / "crm.sqlite3", create=False)
    h = Harness(qtbot, missing)
    h.load("dialog", {"kind": "case", "number": "+358401234567"})
    assert h.js("document.querySelector('h1').textContent") == \
        "CRM not reachable — the call goes on"
    assert "missing" in h.js("document.querySelector('.detail').textContent")
    h.view.close_down()


def test_states_looking_up_and_error(harness: Harness) -> None:
    with harness.qtbot.waitSignal(harness.view.loadFinished, timeout=LOAD_TIMEOUT):
        harness.view.show_looking_up("+358401234567")
    assert harness.js("document.querySelector('h1').textContent") == "Looking up…"
    with harness.qtbot.waitSignal(harness.view.loadFinished, timeout=LOAD_TIMEOUT):
        harness.view.show_error(IMG)
    assert harness.js("document.querySelector('.detail').textContent") == IMG
    assert harness.js("document.querySelectorAll('img').length") == 0


def test_view_with_storage_under_a_directory(qtbot: Any, store: LocalStore,
                                             tmp_path: Path) -> None:
    view = ScreenPopView(lambda p, q: pages.render(p, q, store),
                         storage_dir=tmp_path / "web")
    assert not view.page().profile().isOffTheRecord()
    assert view.page().profile().persistentStoragePath() == str(tmp_path / "web" / "storage")
    with qtbot.waitSignal(view.loadFinished, timeout=LOAD_TIMEOUT) as blocker:
        view.show_idle()
    assert blocker.args == [True]
    view.close_down()
    qtbot.wait(10)  # let the deferred profile deletion run while the app is alive
