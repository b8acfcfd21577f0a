"""SIPp rings the running app (offscreen, real engine, real web view, real CRM file): the
test asserts the page the screen-pop loaded and, after BYE, the activity in the CRM.

Also: a locked CRM gives a visible error and the call still rings and is answered; a CRM
that is away when the call ends leaves the log pending (shown in the status bar) until
it is back, then it lands once.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWebEngineCore import QWebEngineScript
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings
from app.core.calls import CallState
from app.core.crm import NewCase, NewContact
from app.crm.local.store import LocalStore
from app.paths import Profile
from tests.fakes.memory_secrets import MemorySecretStore
from tests.integration.conftest import Sipp, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
    # Headless: no GPU. Chromium and Qt say so, then render in software.
    pytest.mark.qt_log_ignore(r"QRhiGles2", r"Failed to create RHI",
                              r"createPlatformVulkanInstance", r"QVulkanInstance",
                              r"GBM is not supported", r"GPUInfo not initialized"),
]

WAIT_MS = 30_000  # the first Chromium start on a busy machine is slow
CALLER = "+358401234567"  # the number in the SIPp scenarios' From


def seed(profile: Profile, *contacts: tuple[str, str, str]) -> dict[str, str]:
    """Contacts (first, last, phone) in the profile's CRM; returns name → id."""
    profile.ensure()
    ids = {}
    with LocalStore(profile.db_path("crm")) as store:
        for first, last, phone in contacts:
            contact = store.create_contact(NewContact(first, last, phones=(phone,)))
            ids[first] = contact.id
        if contacts:
            store.create_case(NewCase("Late delivery", contact_id=ids[contacts[0][0]]))
    return ids


def make_app(qtbot: QtBot, profile: Profile, **crm: Any) -> SwitchboardApp:
    settings = Settings()
    sip = settings.sip
    sip.mode, sip.username, sip.listen_address, sip.port = "direct", "agent", "127.0.0.1", 0
    sip.srtp = "disabled"
    settings.phone.audio = "null"
    settings.crm.workflow = "contact_account"
    settings.crm.outbox_retry_min_seconds = 0.2
    settings.crm.outbox_retry_max_seconds = 1.0
    for key, value in crm.items():
        setattr(settings.crm, key, value)
    app = build_app(profile, settings, secrets=MemorySecretStore())
    app.start(show=True)
    qtbot.waitUntil(lambda: app.engine_running or app.window.problem_banner.isVisible(),
                    timeout=WAIT_MS)
    assert app.engine_running, app.window.problem_label.text()
    return app


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    return Profile.at(tmp_path / "profile")


@pytest.fixture
def apps(qtbot: QtBot) -> Iterator[list[SwitchboardApp]]:
    """Apps made by a test; each is shut down (engine stopped) at the end."""
    made: list[SwitchboardApp] = []
    yield made
    for app in made:
        app.shutdown()
        app.window.close()
    qtbot.wait(10)


def ring(sipp: Callable[..., Sipp], tmp_path: Path, app: SwitchboardApp, name: str,
         number: str = CALLER, **subs: str) -> Sipp:
    path = scenario(tmp_path, name, **subs)
    path.write_text(path.read_text().replace(CALLER, number))
    return sipp(path, f"127.0.0.1:{app.engine.local_port}")


def js(qtbot: QtBot, app: SwitchboardApp, script: str) -> Any:
    """Read the page's DOM from Qt's isolated world (page script is off)."""
    box: list[Any] = []
    assert app.crm is not None
    app.crm.view.page().runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld,
                                      box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT_MS)
    return box[0]


def wait_heading(qtbot: QtBot, app: SwitchboardApp, expected: str) -> None:
    """The popped page's <h1> shows `expected`. Polled: the pane may ask Chromium once more
    for a load it dropped, so the first read can catch the page between two loads."""
    seen: list[Any] = []

    def shows() -> bool:
        seen.append(js(qtbot, app, "(document.querySelector('h1') || {}).textContent || ''"))
        return bool(seen[-1] == expected)

    try:
        qtbot.waitUntil(shows, timeout=WAIT_MS)
    except qtbot.TimeoutError:
        raise AssertionError(f"heading {seen[-1]!r}, expected {expected!r}") from None


def page_text(qtbot: QtBot, app: SwitchboardApp) -> str:
    box: list[str] = []
    assert app.crm is not None
    app.crm.view.page().toPlainText(box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT_MS)
    return box[0]


def wait_popped(qtbot: QtBot, app: SwitchboardApp) -> tuple[str, str]:
    assert app.crm is not None
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as blocker:
        pass
    call_id, path = blocker.args
    return call_id, path


def ringing_call(qtbot: QtBot, app: SwitchboardApp) -> int:
    qtbot.waitUntil(lambda: len(app.session.ringing) == 1, timeout=WAIT_MS)
    return app.session.ringing[0].handle


def activities(profile: Profile) -> list[dict[str, Any]]:
    conn = sqlite3.connect(profile.db_path("crm"))
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute("SELECT * FROM activities ORDER BY id")]
        for row in rows:
            row["links"] = sorted(f"{k}/{i}" for k, i in conn.execute(
                "SELECT kind, record_id FROM activity_links WHERE activity_id = ?",
                (row["id"],)))
        return rows
    finally:
        conn.close()


def test_one_match_pops_the_contact_and_the_call_is_logged_after_bye(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    ids = seed(profile, ("Aino", "Virtanen", "040 123 4567"))
    app = make_app(qtbot, profile)
    apps.append(app)
    assert app.crm is not None
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as popped:
        peer = ring(sipp, tmp_path, app, "uac_remote_bye", HOLD_MS="2500")
    call_id, path = popped.args
    assert path == f"contact/{ids['Aino']}"
    assert app.crm.view.url().toString() == f"switchboard://crm/contact/{ids['Aino']}"
    wait_heading(qtbot, app, "Aino Virtanen")
    assert "Late delivery" in page_text(qtbot, app)

    handle = ringing_call(qtbot, app)
    app.session.answer(handle)
    qtbot.waitUntil(lambda: app.session.get(handle) is not None
                    and app.session.get(handle).state is CallState.CONNECTED,
                    timeout=WAIT_MS)
    qtbot.keyClicks(app.crm.notes.edit, "Wants a call back on Friday")
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS):
        assert peer.wait() == 0, peer.output()
    assert app.crm.notes.state_label.text() == "Logged"

    [activity] = activities(profile)
    assert activity["call_id"] == call_id
    assert activity["direction"] == "inbound"
    assert activity["result"] == "answered"
    assert activity["caller_number"] == CALLER
    assert activity["queue"] == "Sales"
    assert activity["notes"] == "Wants a call back on Friday"
    assert activity["subject"] == "Call from Test Caller via Sales"
    assert activity["links"] == [f"contact/{ids['Aino']}"]
    assert not app.crm.outbox_status.isVisible()


def test_many_matches_open_the_dialog_and_the_chosen_contact_is_logged(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    ids = seed(profile, ("Liisa", "Mäkinen", "040 123 4567"),
               ("Jussi", "Mäkinen", "+358 40 1234567"))
    app = make_app(qtbot, profile)
    apps.append(app)
    assert app.crm is not None
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as popped:
        peer = ring(sipp, tmp_path, app, "uac_remote_bye", HOLD_MS="2500")
    assert popped.args[1] == "dialog"
    wait_heading(qtbot, app, "2 matches")
    text = page_text(qtbot, app)
    assert "Liisa Mäkinen" in text and "Jussi Mäkinen" in text
    assert js(qtbot, app, "document.querySelector('.queue').textContent") == "Sales"

    handle = ringing_call(qtbot, app)
    app.session.answer(handle)
    # The agent picks Jussi: a real click on the page's "Open" link.
    js(qtbot, app, "[...document.querySelectorAll('li')].find(li => li.textContent"
                   ".includes('Jussi')).querySelector('a.primary').click(); true")
    qtbot.waitUntil(lambda: app.crm is not None and app.crm.view.url().toString()
                    == f"switchboard://crm/contact/{ids['Jussi']}", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Jussi Mäkinen" in page_text(qtbot, app), timeout=WAIT_MS)
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS):
        assert peer.wait() == 0, peer.output()
    [activity] = activities(profile)
    assert activity["links"] == [f"contact/{ids['Jussi']}"]


def test_unknown_caller_gets_the_dialog_and_the_missed_call_is_logged(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    seed(profile, ("Aino", "Virtanen", "040 123 4567"))
    app = make_app(qtbot, profile)
    apps.append(app)
    assert app.crm is not None
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as popped:
        peer = ring(sipp, tmp_path, app, "uac_cancel", number="+358501112233",
                    HOLD_MS="3000")
    assert popped.args[1] == "dialog"
    wait_heading(qtbot, app, "Unknown caller")
    assert "050 1112233" in js(qtbot, app, "document.querySelector('.number').textContent")
    assert js(qtbot, app, "document.querySelectorAll('form.new').length") == 2
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS):
        assert peer.wait() == 0, peer.output()
    [activity] = activities(profile)
    assert (activity["result"], activity["caller_number"], activity["links"]) == (
        "missed", "+358501112233", [])


def test_missed_calls_are_not_logged_when_switched_off(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    seed(profile, ("Aino", "Virtanen", "040 123 4567"))
    app = make_app(qtbot, profile, log_missed_calls=False)
    apps.append(app)
    assert app.crm is not None
    peer = ring(sipp, tmp_path, app, "uac_cancel", HOLD_MS="1500")
    wait_popped(qtbot, app)
    assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: app.crm is not None
                    and app.crm.notes.state_label.text() == "Not logged", timeout=WAIT_MS)
    assert app.crm.outbox.pending_count() == 0
    assert activities(profile) == []


def lock(profile: Profile) -> sqlite3.Connection:
    """Hold the CRM file exclusively, as another program might."""
    locker = sqlite3.connect(profile.db_path("crm"), isolation_level=None)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("UPDATE contacts SET title = title")
    return locker


def test_locked_crm_shows_an_error_and_the_call_rings_and_is_answered(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    seed(profile, ("Aino", "Virtanen", "040 123 4567"))
    app = make_app(qtbot, profile)
    apps.append(app)
    assert app.crm is not None
    locker = lock(profile)
    try:
        peer = ring(sipp, tmp_path, app, "uac_remote_bye", HOLD_MS="6000")
        handle = ringing_call(qtbot, app)  # rings while the CRM is still being asked
        app.session.answer(handle)
        qtbot.waitUntil(lambda: app.crm is not None
                        and app.crm.view.url().path() == "/error", timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "locked" in page_text(qtbot, app), timeout=WAIT_MS)
        assert "the call goes on" in page_text(qtbot, app)
        assert app.session.get(handle) is not None
        assert app.session.get(handle).state is CallState.CONNECTED
        assert peer.wait() == 0, peer.output()
        # The call ended while the CRM was locked: its log waits, and the agent sees so.
        qtbot.waitUntil(lambda: app.crm is not None and app.crm.outbox_status.isVisible(),
                        timeout=WAIT_MS)
        assert app.crm.outbox_status.label.text() == "1 call log waiting for the CRM"
        assert app.crm.notes.state_label.text() == "Logged"
    finally:
        locker.close()
    # The CRM is back: the same log lands exactly once and the count goes away.
    qtbot.waitUntil(lambda: len(activities(profile)) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: app.crm is not None and not app.crm.outbox_status.isVisible(),
                    timeout=WAIT_MS)
    [activity] = activities(profile)
    assert activity["result"] == "answered"
    assert activity["links"] == []  # nobody was identified while the CRM was locked


def test_missing_crm_shows_an_error_and_the_call_goes_on(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    seed(profile)
    app = make_app(qtbot, profile)
    apps.append(app)
    assert app.crm is not None
    profile.db_path("crm").unlink()  # e.g. the profile's drive went away
    peer = ring(sipp, tmp_path, app, "uac_remote_bye", HOLD_MS="800")
    handle = ringing_call(qtbot, app)
    qtbot.waitUntil(lambda: app.crm is not None
                    and app.crm.view.url().path() == "/error", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "missing" in page_text(qtbot, app), timeout=WAIT_MS)
    app.session.answer(handle)
    qtbot.waitUntil(lambda: app.session.get(handle) is None, timeout=WAIT_MS)
    assert peer.wait() == 0, peer.output()
    qtbot.waitUntil(lambda: app.crm is not None
                    and app.crm.outbox_status.label.text()
                    == "1 call log waiting for the CRM", timeout=WAIT_MS)


def test_a_call_dialled_from_a_record_pops_it_and_is_logged_on_it(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    ids = seed(profile, ("Aino", "Virtanen", "040 123 4567"))
    app = make_app(qtbot, profile)
    apps.append(app)
    assert app.crm is not None
    peer = sipp(scenario(tmp_path, "uas_answer"))
    # What a click on a number link in Aino's page sends (pages.py: dial number, ref).
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as popped:
        app.crm.view.action_requested.emit(
            "dial", {"number": f"sip:answer@127.0.0.1:{peer.port}",
                     "ref": f"contact/{ids['Aino']}"})
    assert popped.args[1] == f"contact/{ids['Aino']}"
    qtbot.waitUntil(lambda: bool(app.session.calls)
                    and app.session.calls[0].state is CallState.CONNECTED, timeout=WAIT_MS)
    qtbot.keyClicks(app.crm.notes.edit, "Called back")
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS):
        app.session.hangup(app.session.calls[0].handle)
    assert peer.wait() == 0, peer.output()
    [activity] = activities(profile)
    assert (activity["direction"], activity["result"], activity["notes"]) == (
        "outbound", "answered", "Called back")
    assert activity["links"] == [f"contact/{ids['Aino']}"]


def test_case_workflow_creates_a_case_on_answer_and_saves_the_call_on_it(
        qtbot: QtBot, apps: list[SwitchboardApp], profile: Profile,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    ids = seed(profile, ("Aino", "Virtanen", "040 123 4567"))
    app = make_app(qtbot, profile, workflow="case", save_call_info_on_case=True)
    apps.append(app)
    assert app.crm is not None
    peer = ring(sipp, tmp_path, app, "uac_remote_bye", HOLD_MS="2500")
    handle = ringing_call(qtbot, app)
    with qtbot.waitSignal(app.crm.page_shown, timeout=WAIT_MS) as popped:
        app.session.answer(handle)
    kind, case_id = popped.args[1].split("/")
    assert kind == "case"
    assert "Phone call from Aino Virtanen" in page_text(qtbot, app)
    with qtbot.waitSignal(app.crm.activity_landed, timeout=WAIT_MS) as landed:
        assert peer.wait() == 0, peer.output()
    assert landed.args[1] == case_id
    assert activities(profile) == []  # saved on the case instead
    conn = sqlite3.connect(profile.db_path("crm"))
    try:
        [(contact_id, text)] = conn.execute(
            "SELECT cases.contact_id, case_calls.text FROM case_calls "
            "JOIN cases ON cases.id = case_calls.case_id WHERE case_id = ?",
            (int(case_id),)).fetchall()
    finally:
        conn.close()
    assert str(contact_id) == ids["Aino"]
    assert "Queue: Sales" in text and "Result: answered" in text
