"""The app's colleagues list over real SIP presence: Kamailio, a second agent, one click.

The app (build_app's SwitchboardApp with the real engine) registers to the test's Kamailio with the
`sip_presence` backend and lists the second agent (a child process) as a colleague. The
colleague publishes "Lunch" (PIDF closed); the app's list shows a busy dot and the note.
Clicking the colleague asks for a dial of their URI, and the call reaches them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings
from app.core.history import MEMORY, History
from app.ui.colleagues import AVAILABLE, BUSY, UNKNOWN, ColleagueList
from tests.fakes.memory_secrets import MemorySecretStore
from tests.integration.conftest import Agent, Kamailio

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("kamailio") is None, reason="needs kamailio"),
]

WAIT_MS = 15_000
BEA = "sip:agentb@127.0.0.1"


@pytest.fixture
def app(qtbot: QtBot, kamailio: Kamailio) -> Iterator[SwitchboardApp]:
    s = Settings()
    sip = s.sip
    sip.mode, sip.server, sip.domain, sip.username = ("registrar", kamailio.server,
                                                       "127.0.0.1", "agenta")
    sip.listen_address, sip.srtp = "127.0.0.1", "disabled"
    sip.retry_min_seconds, sip.retry_max_seconds = 0.2, 1.0
    s.phone.audio = "null"
    s.contactcenter.backend = "sip_presence"
    s.contactcenter.colleagues = [f"Bea={BEA}", "not a uri"]
    secrets = MemorySecretStore({"agenta@127.0.0.1": kamailio.password})
    switchboard = build_app(None, s, secrets=secrets, history=History(MEMORY))
    qtbot.addWidget(switchboard.window)
    switchboard.start()
    qtbot.waitUntil(lambda: switchboard.engine_running
                    or switchboard.window.problem_banner.isVisible(), timeout=WAIT_MS)
    assert switchboard.engine_running, switchboard.window.problem_label.text()
    yield switchboard
    switchboard.shutdown()


def test_colleague_on_lunch_is_shown_and_one_click_calls_them(
        qtbot: QtBot, app: SwitchboardApp, agent: Callable[..., Agent],
        kamailio: Kamailio) -> None:
    widget = app.window.queues_area.findChild(ColleagueList)
    assert widget is not None
    tabs = app.window.queues_area.findChild(QTabWidget)
    assert tabs is not None and tabs.currentWidget() is widget  # no queues on plain SIP
    assert widget.isVisible() and widget.list.count() == 1  # the bad entry is skipped
    assert widget.state_of(BEA)[0] == UNKNOWN

    bea = agent("--server", kamailio.server, "--user", "agentb", "--password",
                kamailio.password)
    bea.wait("RegistrationChanged", state="registered")
    bea.send("publish 0 Lunch")
    qtbot.waitUntil(lambda: widget.state_of(BEA) == (BUSY, "Bea — Lunch"), timeout=WAIT_MS)
    bea.send("publish 1 Available")
    qtbot.waitUntil(lambda: widget.state_of(BEA) == (AVAILABLE, "Bea — Available"),
                    timeout=WAIT_MS)

    item = widget.list.item(0)
    with qtbot.waitSignal(widget.dial_requested, timeout=WAIT_MS) as dialled:
        qtbot.mouseClick(widget.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=widget.list.visualItemRect(item).center())
    assert dialled.args == [BEA]
    incoming = bea.wait("IncomingCall", timeout=WAIT_MS / 1000)
    assert "agenta" in incoming["remote_uri"]
