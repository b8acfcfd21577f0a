"""Agent A sets DND through the SIP presence backend; agent B, watching A through Kamailio,
sees it (PUBLISH → presence server → NOTIFY), and sees A available again afterwards."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from app.contactcenter.sip_presence import SipPresenceContactCenter
from app.core.availability import StatusType
from app.core.calls import RegistrationChanged, RegistrationState
from app.core.contactcenter import BackendState
from tests.integration.conftest import Agent, EngineUnderTest, Kamailio

pytestmark = pytest.mark.skipif(shutil.which("kamailio") is None, reason="needs kamailio")


def test_dnd_seen_by_a_colleague(kamailio: Kamailio,
                                 make_engine: Callable[..., EngineUnderTest],
                                 agent: Callable[..., Agent]) -> None:
    a = make_engine(mode="registrar", server=kamailio.server, domain="127.0.0.1",
                    username="agenta", password=kamailio.password)
    backend = SipPresenceContactCenter(a.engine, own_uri="sip:agenta@127.0.0.1")
    backend.connect()
    reg = a.events.wait(RegistrationChanged, state=RegistrationState.REGISTERED)
    backend.on_engine_event(reg)
    assert backend.status.state is BackendState.CONNECTED

    b = agent("--server", kamailio.server, "--user", "agentb", "--password",
              kamailio.password)
    b.wait("RegistrationChanged", state="registered")
    backend.set_availability(StatusType.DND, "Do not disturb")
    b.send("subscribe sip:agenta@127.0.0.1")

    # The first NOTIFY may carry the state before our PUBLISH landed (closed, no note):
    # wait for the one that says what A chose.
    b.wait("PresenceChanged", uri="sip:agenta@127.0.0.1", basic_open=False,
           note="Do not disturb")

    backend.set_availability(StatusType.AVAILABLE, "Available")
    b.wait("PresenceChanged", uri="sip:agenta@127.0.0.1", basic_open=True, note="Available")
