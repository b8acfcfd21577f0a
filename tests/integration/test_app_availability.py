"""Availability inside the running app, with the real engine: SIPp calls, the AMI fake.

The agent chooses a status in the window's StatusMenu; SIPp then calls the real pjsua2
engine and sees the refusal code the status calls for (DND: 486 direct, 480 queue;
OffWork: 480 queue, direct rings). After an answered call the menu shows Wrap Up, and the
status before the call returns when it is over or when the agent ends it. Time-based
returns use the app's injected clock (real time plus an offset the test moves forward),
so nothing waits for minutes and nothing asserts how long anything took.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QRadioButton, QTabWidget
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings
from app.core.availability import Phase
from app.core.callbacks import CallbackProcessor, CallbackRequest, HandledStore
from app.core.calls import CallState
from app.core.contactcenter import BackendUnavailable
from app.core.crm import NewContact
from app.core.display_number import ANONYMOUS, HIDDEN
from app.core.history import MEMORY, History
from app.crm.local.store import LocalStore
from app.paths import Profile
from app.threads import TaskRunner
from app.ui.call_panel import CallCard
from app.ui.callbacks import CallbackList
from app.ui.queue_dashboard import COL_ACTIVE, COL_LENGTH, COL_NUMBER, QueueDashboard
from app.ui.status_menu import StatusMenu
from app.wiring.callbacks import CallbackWiring
from tests.fakes.ami_server import FakeAmiServer, Member
from tests.fakes.enreach_api import FakeEnreachApi
from tests.fakes.memory_secrets import MemorySecretStore
from tests.integration.conftest import Sipp, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
]

WAIT_MS = 10_000
ME = "PJSIP/agent"  # the AMI interface the factory derives from sip.username "agent"
QUEUE_HEADER = "      X-Queue-Name: Support"


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> Settings:
    s = Settings()
    sip = s.sip
    sip.mode, sip.username, sip.listen_address, sip.port = "direct", "agent", "127.0.0.1", 0
    sip.srtp = "disabled"
    sip.caller_ids = ["+358912345"]
    s.phone.audio = "null"
    s.availability.wrap_up_seconds = 30
    return s


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def make_app(qtbot: QtBot, settings: Settings, clock: Clock, secrets: MemorySecretStore
             ) -> Iterator[Callable[..., SwitchboardApp]]:
    """Start the real app; pjsua2 has one Endpoint per process, so it is always stopped."""
    made: list[SwitchboardApp] = []

    def make(profile: Profile | None = None, **kw: Any) -> SwitchboardApp:
        assert all(a._stopped for a in made), "one engine per process at a time"
        app = build_app(profile, settings, secrets=secrets, history=History(MEMORY),
                        clock=clock, **kw)
        made.append(app)
        qtbot.addWidget(app.window)
        app.start()
        qtbot.waitUntil(lambda: app.engine_running or app.window.problem_banner.isVisible(),
                        timeout=WAIT_MS)
        assert app.engine_running, app.window.problem_label.text()
        return app

    yield make
    for app in made:
        app.shutdown()


# -- helpers -------------------------------------------------------------------------------


def menu_of(app: SwitchboardApp) -> StatusMenu:
    """"Select your status", opened from the status badge as the agent does."""
    panel = app.availability.panel
    if not panel.popup.isVisible():
        panel.badge.click()
    menu = panel.menu
    assert menu.isVisible()
    return menu


def choose(qtbot: QtBot, app: SwitchboardApp, status: str, duration: str = "") -> None:
    """Pick a duration (optional), then click the status's radio button, as the agent does."""
    menu = menu_of(app)
    if duration:
        index = menu.duration.findText(duration)
        assert index >= 0, [menu.duration.itemText(i) for i in range(menu.duration.count())]
        menu.duration.setCurrentIndex(index)
    radio = next(r for r in menu.status_box.findChildren(QRadioButton) if r.text() == status)
    if radio.isChecked():  # clicking a checked radio emits nothing; the combo does
        menu.duration.activated.emit(menu.duration.currentIndex())
    else:
        tick(qtbot, radio)
    qtbot.waitUntil(lambda: shown(app).startswith(status))


def tick(qtbot: QtBot, box: QAbstractButton) -> None:
    """Click a radio or check box on its indicator (it ignores clicks beside its text)."""
    qtbot.waitUntil(lambda: box.isVisible() and box.isEnabled(), timeout=WAIT_MS)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))


def shown(app: SwitchboardApp) -> str:
    return menu_of(app).current.text()


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    # A new call card is laid out and shown on a later turn of the event loop.
    qtbot.waitUntil(lambda: button.isVisible() and button.isEnabled(), timeout=WAIT_MS)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def peer_of(app: SwitchboardApp) -> str:
    """Where SIPp sends its INVITE: the real engine's SIP port."""
    return f"127.0.0.1:{app.engine.local_port}"  # type: ignore[attr-defined]


def member(server: FakeAmiServer, queue: str = "Sales") -> Member:
    found = server.member(queue, ME)
    assert found is not None
    return found


def only_card(qtbot: QtBot, app: SwitchboardApp) -> CallCard:
    qtbot.waitUntil(lambda: len(app.window.call_panel.cards) == 1, timeout=WAIT_MS)
    return next(iter(app.window.call_panel.cards.values()))


def refused(sipp: Callable[..., Sipp], tmp_path: Path, app: SwitchboardApp, code: int,
            headers: str = "") -> None:
    """SIPp calls the app and must get exactly `code` (it fails on anything else)."""
    peer = sipp(scenario(tmp_path, "uac_refused", CODE=str(code), HEADERS=headers),
                peer_of(app))
    assert peer.wait() == 0, peer.output()


def answered_call(qtbot: QtBot, app: SwitchboardApp, sipp: Callable[..., Sipp],
                  tmp_path: Path) -> None:
    """A direct call that the agent answers and hangs up."""
    peer = sipp(scenario(tmp_path, "uac_local_bye"), peer_of(app))
    card = only_card(qtbot, app)
    assert shown(app).startswith("In a Call")
    click(qtbot, card.answer_button)
    qtbot.waitUntil(lambda: card.call.state is CallState.CONNECTED, timeout=WAIT_MS)
    click(qtbot, card.hangup_button)
    qtbot.waitUntil(lambda: not app.window.call_panel.cards, timeout=WAIT_MS)
    assert peer.wait() == 0, peer.output()


# -- the engine refuses what the status forbids --------------------------------------------


def test_dnd_refuses_direct_calls_486_and_queue_calls_480(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="switchboard.calls")
    app = make_app()
    assert shown(app) == "Available"
    choose(qtbot, app, "Do not disturb")
    logged = [getattr(r, "fields", {}) for r in caplog.records
              if getattr(r, "event", "") == "availability"]
    assert {"by": "agent", "status": "Do not disturb", "type": "dnd"}.items() <= \
        logged[-1].items()  # every change says who made it
    refused(sipp, tmp_path, app, 486)
    refused(sipp, tmp_path, app, 480, QUEUE_HEADER)
    assert not app.window.call_panel.cards  # nothing rang
    assert shown(app) == "Do not disturb"  # refused calls are not "In a Call"
    qtbot.waitUntil(lambda: len(app.history.recent(10)) == 2, timeout=WAIT_MS)
    assert {(r.queue, r.result.value) for r in app.history.recent(10)} == {
        (None, "declined"), ("Support", "declined")}  # both kept in the call history


def test_offwork_lets_direct_calls_ring_and_refuses_queue_calls(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path) -> None:
    app = make_app()
    choose(qtbot, app, "Off work")
    refused(sipp, tmp_path, app, 480, QUEUE_HEADER)
    peer = sipp(scenario(tmp_path, "uac_cancel", HOLD_MS="1500"),
                peer_of(app))
    card = only_card(qtbot, app)  # the direct call rings
    assert card.call.state is CallState.RINGING
    assert shown(app) == "In a Call (then Off work)"
    assert peer.wait() == 0, peer.output()  # the caller gave up: 487 after CANCEL
    qtbot.waitUntil(lambda: not app.window.call_panel.cards, timeout=WAIT_MS)
    assert shown(app) == "Off work"  # unanswered: no wrap-up


# -- In a Call, Wrap Up, and back --------------------------------------------------------------


def test_wrap_up_after_an_answered_call_then_the_status_before_returns(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path, clock: Clock) -> None:
    app = make_app()
    choose(qtbot, app, "Busy")
    answered_call(qtbot, app, sipp, tmp_path)
    menu = menu_of(app)
    qtbot.waitUntil(lambda: shown(app) == "Wrap Up (then Busy)")
    assert menu.end_wrap_up.isVisible()
    assert menu.remaining.text().endswith("left")
    refused(sipp, tmp_path, app, 480, QUEUE_HEADER)  # no queue calls while wrapping up
    clock.advance(seconds=31)  # the 30 s wrap-up is over at the next tick
    qtbot.waitUntil(lambda: shown(app) == "Busy", timeout=WAIT_MS)
    assert not menu.end_wrap_up.isVisible()
    phases = [(c.by.value, c.phase) for c in app.availability.availability.history[-3:]]
    assert phases == [("call", Phase.IN_CALL), ("wrap_up", Phase.WRAP_UP),
                      ("wrap_up", Phase.IDLE)]


def test_agent_ends_wrap_up_early(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path) -> None:
    app = make_app()
    answered_call(qtbot, app, sipp, tmp_path)
    qtbot.waitUntil(lambda: shown(app) == "Wrap Up (then Available)")
    click(qtbot, menu_of(app).end_wrap_up)
    qtbot.waitUntil(lambda: shown(app) == "Available")
    last = app.availability.availability.current
    assert (last.by.value, last.note) == ("agent", "wrap-up ended early")


def test_status_chosen_for_a_while_returns_by_itself(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path, clock: Clock) -> None:
    app = make_app()
    choose(qtbot, app, "Off work")
    choose(qtbot, app, "Do not disturb", duration="30 min")
    menu = menu_of(app)
    assert menu.remaining.text().endswith("left, then Off work")
    refused(sipp, tmp_path, app, 486)  # enforced while it lasts
    with qtbot.waitSignal(app.availability.changed, timeout=WAIT_MS) as changed:
        clock.advance(minutes=31)
    assert changed.args[0].status.name == "Off work"  # what the tray and others follow
    qtbot.waitUntil(lambda: shown(app) == "Off work", timeout=WAIT_MS)
    assert menu.remaining.text() == "until changed"
    assert app.availability.availability.current.by.value == "timer"


def test_status_chosen_for_a_while_survives_a_restart(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path, clock: Clock) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    first = make_app(profile)
    choose(qtbot, first, "Do not disturb", duration="30 min")
    first.shutdown()
    saved = profile.data_dir / "availability.json"
    assert '"Do not disturb"' in saved.read_text()

    clock.advance(minutes=5)  # closed for five minutes
    app = make_app(profile)
    menu = menu_of(app)
    assert shown(app) == "Do not disturb"
    assert menu.remaining.text().startswith(("25:00", "24:5"))
    assert menu.remaining.text().endswith("left, then Available")
    assert app.availability.availability.history[0].by.value == "restore"
    refused(sipp, tmp_path, app, 486)  # still enforced by the new engine
    clock.advance(minutes=26)
    qtbot.waitUntil(lambda: shown(app) == "Available", timeout=WAIT_MS)


def test_pool_calls_off_refuses_queue_calls_only(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], sipp: Callable[..., Sipp],
        tmp_path: Path) -> None:
    app = make_app()
    menu = menu_of(app)
    tick(qtbot, menu.pool_calls)
    qtbot.waitUntil(lambda: not app.availability.availability.pool_calls)
    refused(sipp, tmp_path, app, 480, QUEUE_HEADER)
    assert shown(app) == "Available" and not menu.pool_calls.isChecked()


def test_scheduled_availability_switches_by_itself_and_ends(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], clock: Clock) -> None:
    app = make_app()
    menu = menu_of(app)
    toggle = app.availability.panel.schedule_toggle
    assert not menu.upcoming_box.isVisible()
    click(qtbot, toggle)  # unfold the schedule
    assert menu.upcoming_box.isVisible()
    start = (clock() + timedelta(hours=2)).astimezone().replace(second=0, microsecond=0)
    menu.new_status.setCurrentText("Meeting")
    menu.new_start.setDateTime(QDateTime(start.replace(tzinfo=None)))
    menu.new_end.setDateTime(QDateTime((start + timedelta(hours=1)).replace(tzinfo=None)))
    click(qtbot, menu.add_upcoming)
    assert menu.upcoming.count() == 1 and "Meeting" in menu.upcoming.item(0).text()
    assert toggle.text().endswith("(1)")
    clock.advance(hours=2, minutes=1)
    qtbot.waitUntil(lambda: shown(app) == "Meeting", timeout=WAIT_MS)
    assert app.availability.availability.current.by.value == "schedule"
    assert menu.upcoming.count() == 0
    clock.advance(hours=1)
    qtbot.waitUntil(lambda: shown(app) == "Available", timeout=WAIT_MS)


# -- the phone system: AMI fake drives the dashboard in the window ---------------------------


@pytest.fixture
def ami_server() -> Iterator[FakeAmiServer]:
    srv = FakeAmiServer()
    srv.add_queue("Sales", [(ME, "agent"), ("PJSIP/1002", "Agent 1002")])
    srv.add_queue("Support", [("PJSIP/1003", "Agent 1003")])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def ami_settings(settings: Settings, ami_server: FakeAmiServer,
                 secrets: MemorySecretStore) -> Settings:
    cc = settings.contactcenter
    cc.backend, cc.host, cc.port = "asterisk_ami", "127.0.0.1", ami_server.port
    cc.user, cc.keyring_key, cc.poll_seconds = "switchboard", "ami", 3600
    cc.queue_numbers = ["Sales=+35810100"]
    secrets.set("ami", "s3cret")
    return settings


def row(dash: QueueDashboard, name: str, col: int,
        role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> object:
    model = dash.model
    r = next(i for i in range(model.rowCount()) if model.index(i, 0).data() == name)
    return model.index(r, col).data(role)


def test_ami_drives_the_dashboard_and_follows_the_status(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], ami_settings: Settings,
        ami_server: FakeAmiServer) -> None:
    app = make_app()
    dash = app.window.queues_area.findChild(QueueDashboard)
    assert dash is not None and dash.isVisible()
    qtbot.waitUntil(lambda: dash.model.rowCount() == 2, timeout=WAIT_MS)
    tabs = app.window.queues_area.findChild(QTabWidget)
    assert tabs is not None and tabs.count() == 1  # Asterisk has no callback requests
    assert row(dash, "Sales", COL_NUMBER) == "+35810100"
    assert row(dash, "Sales", COL_ACTIVE, Qt.ItemDataRole.CheckStateRole) == \
        Qt.CheckState.Checked
    ami_server.caller_join("Support", "c1")
    ami_server.caller_join("Support", "c2")
    qtbot.waitUntil(lambda: row(dash, "Support", COL_LENGTH) == 2, timeout=WAIT_MS)

    # the agent's status reaches the phone system as a pause with the status as reason
    choose(qtbot, app, "Lunch")
    qtbot.waitUntil(lambda: member(ami_server).paused, timeout=WAIT_MS)
    assert member(ami_server).reason == "Lunch"
    choose(qtbot, app, "Available")
    qtbot.waitUntil(lambda: not member(ami_server).paused, timeout=WAIT_MS)

    # a supervisor pauses the agent: the menu follows, made by the backend, no echo back
    sent = len(ami_server.actions)
    ami_server.admin_pause(ME, True, "Meeting")
    qtbot.waitUntil(lambda: shown(app) == "Meeting", timeout=WAIT_MS)
    assert app.availability.availability.current.by.value == "backend"
    assert not [a for a in ami_server.actions[sent:] if a.get("Action") == "QueuePause"]

    # the queue's number can be shown on outbound calls, and the number can be hidden,
    # both in the one chooser under the dial pad
    box = app.window.dialpad.caller_id_box
    index = box.findData("+35810100")
    assert index >= 0 and box.itemText(index) == "Sales (10100)"  # national form
    box.setCurrentIndex(index)
    box.activated.emit(index)
    assert app.session.caller_id == "+35810100"
    hidden = box.findData(HIDDEN)
    box.setCurrentIndex(hidden)
    box.activated.emit(hidden)
    assert app.session.caller_id == ANONYMOUS


def test_status_set_while_the_phone_system_is_away_is_applied_when_it_is_back(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], ami_settings: Settings,
        ami_server: FakeAmiServer) -> None:
    app = make_app()
    dash = app.window.queues_area.findChild(QueueDashboard)
    assert dash is not None
    qtbot.waitUntil(lambda: dash.model.rowCount() == 2, timeout=WAIT_MS)
    ami_server.stop()
    qtbot.waitUntil(lambda: dash.banner.isVisible(), timeout=WAIT_MS)
    assert "cannot be reached" in dash.banner.text()
    choose(qtbot, app, "Do not disturb")  # the phone keeps working on SIP alone
    ami_server.start()
    qtbot.waitUntil(lambda: not dash.banner.isVisible(), timeout=3 * WAIT_MS)
    qtbot.waitUntil(lambda: member(ami_server).paused, timeout=WAIT_MS)
    assert member(ami_server).reason == "Do not disturb"


def test_restored_status_is_what_the_phone_system_gets_on_connect(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], ami_settings: Settings,
        ami_server: FakeAmiServer, tmp_path: Path) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    first = make_app(profile)
    choose(qtbot, first, "Lunch")
    qtbot.waitUntil(lambda: member(ami_server).paused, timeout=WAIT_MS)
    first.shutdown()
    ami_server.admin_pause(ME, False, "")  # as if a restart of the phone system forgot it
    sent = len(ami_server.actions)
    app = make_app(profile)
    assert shown(app) == "Lunch"
    qtbot.waitUntil(lambda: member(ami_server).paused, timeout=WAIT_MS)
    assert member(ami_server).reason == "Lunch"
    pauses = [a for a in ami_server.actions[sent:] if a.get("Action") == "QueuePause"]
    assert pauses and all(a.get("Paused") == "true" for a in pauses)  # never Available


def test_hidden_number_reaches_the_callee_as_anonymous(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], settings: Settings,
        sipp: Callable[..., Sipp], tmp_path: Path) -> None:
    peer = sipp(scenario(tmp_path, "uas_busy", CHECK="true", CHECK_HEADER="From:"))
    app = make_app()
    pad = app.window.dialpad
    hidden = pad.caller_id_box.findData(HIDDEN)
    pad.caller_id_box.setCurrentIndex(hidden)
    pad.caller_id_box.activated.emit(hidden)
    qtbot.keyClicks(pad.number_edit, f"sip:busy@127.0.0.1:{peer.port}")
    click(qtbot, pad.call_button)
    assert peer.wait() == 0, peer.output()
    logged = (peer.log_dir / "actions.log").read_text()
    assert "sip:anonymous@anonymous.invalid" in logged
    assert "agent@" not in logged.split("checked header:")[1].splitlines()[0]


# -- callbacks: Enreach fake → built-in CRM case → one-click dial back -------------------------


@pytest.fixture
def enreach_api() -> Iterator[FakeEnreachApi]:
    fake = FakeEnreachApi()
    fake.add_queue("q-sales", "Sales", "+358101000", active=True, ServingAgents=2,
                   FreeAgents=1, QueueLength=1, MaxWaitTime=40)
    fake.start()
    yield fake
    fake.stop()


def test_callback_request_becomes_a_case_and_is_dialled_back_with_one_click(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp], settings: Settings,
        enreach_api: FakeEnreachApi, sipp: Callable[..., Sipp], tmp_path: Path,
        secrets: MemorySecretStore) -> None:
    profile = Profile.at(tmp_path / "profile").ensure()
    crm = LocalStore(profile.db_path("crm"), region="FI")
    contact = crm.create_contact(NewContact("Maija", "Meikäläinen",
                                            phones=("+358401234567",)))
    peer = sipp(scenario(tmp_path, "uas_busy", CHECK="true", CHECK_HEADER="To:"))
    settings.sip.domain = f"127.0.0.1:{peer.port}"  # numbers are dialled at SIPp
    cc = settings.contactcenter
    cc.backend, cc.user, cc.keyring_key = "enreach", enreach_api.user, "enreach"
    cc.discovery_url, cc.poll_seconds = enreach_api.base, 0.2
    secrets.set("enreach", enreach_api.secret)
    app = make_app(profile)
    dash = app.window.queues_area.findChild(QueueDashboard)
    assert dash is not None
    qtbot.waitUntil(lambda: dash.model.rowCount() == 1, timeout=WAIT_MS)

    enreach_api.add_callback("cb-7", "Sales", "+358401234567", "2026-03-02T10:15:00Z",
                             note="Please call about my order")
    tabs = app.window.queues_area.findChild(QTabWidget)
    assert tabs is not None and tabs.count() == 1  # no requests yet: no callbacks tab
    qtbot.waitUntil(lambda: tabs.count() == 2, timeout=WAIT_MS)
    callbacks = app.window.queues_area.findChild(CallbackList)
    assert callbacks is not None and "cb-7" in callbacks.rows
    qtbot.waitUntil(lambda: enreach_api.closed_callbacks != [], timeout=WAIT_MS)
    ((closed_id, note),) = enreach_api.closed_callbacks
    (case,) = crm.recent_cases(contact.id)  # linked: exactly one contact has the number
    assert closed_id == "cb-7" and note == f"Case {case.id} created in CRM"
    assert case.subject.startswith("CallBack - 2026-03-02")
    _, label, button = callbacks.rows["cb-7"]
    qtbot.waitUntil(lambda: f"Case {case.id} in the CRM" in label.text(), timeout=WAIT_MS)
    assert "Please call about my order" in label.text()

    assert tabs.tabBar().isVisible()
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Queues",
                                                              "Callback requests (1)"]
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=tabs.tabBar().tabRect(1).center())
    qtbot.waitUntil(callbacks.isVisible)
    click(qtbot, button)  # one click dials the caller back
    assert peer.wait() == 0, peer.output()
    assert "sip:+358401234567@127.0.0.1" in (peer.log_dir / "actions.log").read_text()
    crm.close()


def test_a_request_the_phone_system_could_not_close_is_closed_on_a_later_round(
        qtbot: QtBot, settings: Settings, tmp_path: Path) -> None:
    """CallbackWiring alone (no engine): the close fails once, the retry closes it."""
    profile = Profile.at(tmp_path / "profile").ensure()
    attempts: list[str] = []
    closed: list[tuple[str, str]] = []

    def close(request_id: str, note: str) -> None:
        attempts.append(request_id)
        if len(attempts) == 1:
            raise BackendUnavailable("phone system restarting")
        closed.append((request_id, note))

    crm = LocalStore(profile.db_path("crm"))
    handled = HandledStore(profile.db_path("callbacks"))
    tasks = TaskRunner()
    wiring = CallbackWiring(CallbackList(), CallbackProcessor(crm, close, handled), tasks,
                            dial=lambda _n: None, retry_ms=50)
    qtbot.addWidget(wiring.widget)
    request = CallbackRequest("cb-1", "Sales",
                              datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc), "+358401234567")
    wiring.on_requests([request])
    _, label, _ = wiring.widget.rows["cb-1"]
    qtbot.waitUntil(lambda: closed == [("cb-1", "Case 1 created in CRM")], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Case 1 in the CRM" in label.text(), timeout=WAIT_MS)
    wiring.stop()
    tasks.shutdown(5)
    handled.close()
    assert crm.counts()["cases"] == 1  # created once, closed on the second round
    crm.close()
