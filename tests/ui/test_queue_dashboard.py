"""The queue dashboard driven live by the AMI and Enreach fakes through the real backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.contactcenter.asterisk_ami import AmiContactCenter
from app.contactcenter.enreach import EnreachContactCenter
from app.core.contactcenter import BackendState, BackendStatus, ContactCenter, QueueStatus
from app.threads import GuiPoster
from app.ui.queue_dashboard import (
    COL_ACTIVE,
    COL_LENGTH,
    COL_WAIT,
    QueueDashboard,
)
from tests.fakes.ami_server import FakeAmiServer
from tests.fakes.enreach_api import FakeEnreachApi

ME = "PJSIP/1001"


def cell(dash: QueueDashboard, name: str, col: int,
         role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> object:
    model = dash.model
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == name)
    return model.index(row, col).data(role)


def tick_active(dash: QueueDashboard, name: str, on: bool) -> None:
    model = dash.model
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == name)
    state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
    model.setData(model.index(row, COL_ACTIVE), state.value, Qt.ItemDataRole.CheckStateRole)


def follow(dash: QueueDashboard, backend: ContactCenter) -> GuiPoster:
    """What app/wiring/contactcenter.py does for the dashboard: events across, first state."""
    poster = GuiPoster(dash)
    poster.received.connect(dash.on_event)
    backend.add_listener(poster.post)
    dash.show_status(backend.status)
    dash.show_queues(backend.queues())
    return poster


@pytest.fixture
def dash(qtbot: QtBot) -> QueueDashboard:
    widget = QueueDashboard()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def ami_server() -> Iterator[FakeAmiServer]:
    srv = FakeAmiServer()
    srv.add_queue("Sales", [(ME, "Agent 1001"), ("PJSIP/1002", "Agent 1002")])
    srv.add_queue("Support", [("PJSIP/1003", "Agent 1003")])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def ami(ami_server: FakeAmiServer, dash: QueueDashboard) -> Iterator[AmiContactCenter]:
    backend = AmiContactCenter("127.0.0.1", ami_server.port, "switchboard", "s3cret", ME,
                               queue_numbers={"Sales": "+35810100"}, poll_seconds=3600,
                               backoff_first=0.02, backoff_max=0.1)
    follow(dash, backend)
    dash.join_requested.connect(backend.join)
    dash.leave_requested.connect(backend.leave)
    backend.connect()
    yield backend
    backend.close()


def test_ami_drives_the_dashboard_live(qtbot: QtBot, dash: QueueDashboard,
                                       ami: AmiContactCenter,
                                       ami_server: FakeAmiServer) -> None:
    qtbot.waitUntil(lambda: dash.model.rowCount() == 2)
    assert dash.banner.isHidden() and not dash.table.isHidden()
    assert cell(dash, "Sales", COL_ACTIVE, Qt.ItemDataRole.CheckStateRole) == \
        Qt.CheckState.Checked
    ami_server.caller_join("Support", "x1")
    ami_server.caller_join("Support", "x2")
    qtbot.waitUntil(lambda: cell(dash, "Support", COL_LENGTH) == 2)
    ami_server.caller_leave("Support", "x1")
    qtbot.waitUntil(lambda: cell(dash, "Support", COL_LENGTH) == 1)


def test_join_and_leave_from_the_row(qtbot: QtBot, dash: QueueDashboard,
                                     ami: AmiContactCenter, ami_server: FakeAmiServer) -> None:
    qtbot.waitUntil(lambda: dash.model.rowCount() == 2)
    with qtbot.waitSignal(dash.join_requested) as sig:
        tick_active(dash, "Support", True)
    assert sig.args == ["Support"]
    # the tick is a request: it shows once the phone system confirms
    qtbot.waitUntil(lambda: cell(dash, "Support", COL_ACTIVE,
                                 Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked)
    assert ami_server.member("Support", ME) is not None
    tick_active(dash, "Sales", False)
    qtbot.waitUntil(lambda: cell(dash, "Sales", COL_ACTIVE,
                                 Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked)


def test_banner_when_backend_goes_away_and_returns(qtbot: QtBot, dash: QueueDashboard,
                                                   ami: AmiContactCenter,
                                                   ami_server: FakeAmiServer) -> None:
    qtbot.waitUntil(lambda: dash.model.rowCount() == 2)
    ami_server.stop()
    qtbot.waitUntil(lambda: not dash.banner.isHidden())
    assert "cannot be reached" in dash.banner.text()
    ami_server.start()
    qtbot.waitUntil(lambda: dash.banner.isHidden())


def test_banner_for_refused_credentials(qtbot: QtBot, dash: QueueDashboard,
                                        ami_server: FakeAmiServer) -> None:
    backend = AmiContactCenter("127.0.0.1", ami_server.port, "switchboard", "wrong", ME)
    follow(dash, backend)
    backend.connect()
    try:
        qtbot.waitUntil(lambda: "refused our sign-in" in dash.banner.text())
        assert "Check the user and secret" in dash.banner.text()
        assert not dash.empty.isHidden()
    finally:
        backend.close()


def test_enreach_drives_the_dashboard(qtbot: QtBot, dash: QueueDashboard) -> None:
    api = FakeEnreachApi()
    api.add_queue("q1", "Sales", "+358101000", active=True, ServingAgents=4, FreeAgents=2,
                  OngoingCalls=2, QueueLength=3, MaxWaitTime=125)
    api.start()
    backend = EnreachContactCenter(api.user, api.secret, discovery_url=api.base,
                                   poll_seconds=0.05, timeout=2)
    follow(dash, backend)
    backend.connect()
    try:
        qtbot.waitUntil(lambda: dash.model.rowCount() == 1)
        assert cell(dash, "Sales", COL_WAIT) == "2:05"
        api.set_queue_status("q1", QueueLength=7, MaxWaitTime=200)
        qtbot.waitUntil(lambda: cell(dash, "Sales", COL_LENGTH) == 7)
        assert cell(dash, "Sales", COL_WAIT) == "3:20"
    finally:
        backend.close()
        api.stop()


def test_rows_update_in_place_and_keep_selection(qtbot: QtBot, dash: QueueDashboard) -> None:
    dash.show_queues([QueueStatus("A"), QueueStatus("B")])
    dash.table.selectRow(1)
    dash.show_queues([QueueStatus("A", queue_length=1), QueueStatus("B", queue_length=2)])
    assert dash.table.selectionModel().selectedRows()[0].row() == 1
    assert cell(dash, "B", COL_LENGTH) == 2


def test_no_banner_without_backend(dash: QueueDashboard) -> None:
    dash.show_status(BackendStatus(BackendState.DISABLED))
    assert dash.banner.isHidden()
    dash.show_status(BackendStatus(BackendState.UNREACHABLE, "timed out", 4.0))
    assert dash.banner.text() == ("The phone system cannot be reached (timed out). "
                                  "Retrying in 4 s.")
    dash.show_queues([QueueStatus("A")])
    assert not dash.table.isEnabled()  # stale rows are greyed
