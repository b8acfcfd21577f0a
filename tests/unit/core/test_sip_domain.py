"""The SIP domain rule: one address for the account, the keyring key and presence."""

from __future__ import annotations

import re

import pytest

from app import secrets
from app.config import ContactCenterSettings, SipSettings
from app.contactcenter.factory import create_contact_center
from app.contactcenter.sip_presence import SipPresenceContactCenter
from app.core.calls import PresenceChanged
from app.core.contactcenter import ColleaguePresenceChanged
from app.core.sip_domain import address_of_record, request_domain, server_host, sip_domain
from app.telephony.account import account_config, domain_of


class QuietEngine:
    def publish_presence(self, basic_open: bool, note: str) -> None:
        pass

    def subscribe_presence(self, uri: str) -> None:
        pass


@pytest.mark.parametrize(("server", "host"), [
    ("pbx.example.com", "pbx.example.com"),
    ("pbx.example.com:5080", "pbx.example.com"),
    ("pbx.example.com:5061;transport=tls", "pbx.example.com"),
    (" 10.0.0.5:5060 ", "10.0.0.5"),
    ("[2001:db8::1]:5060", "[2001:db8::1]"),
    ("[2001:db8::1]", "[2001:db8::1]"),
    ("", ""),
])
def test_the_domain_is_the_server_host_without_port_or_parameters(server: str,
                                                                  host: str) -> None:
    assert server_host(server) == host
    assert sip_domain(SipSettings(server=server)) == host


def test_a_configured_domain_wins_as_it_is() -> None:
    sip = SipSettings(server="pbx.example.com:5080", domain="example.com")
    assert (sip_domain(sip), request_domain(sip)) == ("example.com", "example.com")


def test_dialled_numbers_go_to_the_servers_port() -> None:
    sip = SipSettings(server="gw.example.com:5080;transport=tcp")
    assert request_domain(sip) == "gw.example.com:5080"
    assert domain_of(sip) == request_domain(sip)  # what the engine dials numbers on


def test_account_keyring_and_presence_use_one_address() -> None:
    sip = SipSettings(mode="registrar", server="pbx.example.com:5080", username="agent7")
    config = account_config(sip, password=None, transport_id=0, local_host="127.0.0.1")
    found = re.search(r"<sip:([^>]*)>", config.idUri)
    assert found is not None
    aor = found.group(1)
    assert aor == address_of_record(sip) == secrets.sip_key(sip) == "agent7@pbx.example.com"
    backend = create_contact_center(ContactCenterSettings(backend="sip_presence"), sip,
                                    engine=QuietEngine(), get_secret=lambda _key: None)
    assert isinstance(backend, SipPresenceContactCenter)
    heard: list[object] = []
    backend.add_listener(heard.append)
    # The phone system echoes our own presence: it is not a colleague's.
    backend.on_engine_event(PresenceChanged(f"sip:{aor}", True, "Available", "open"))
    backend.on_engine_event(PresenceChanged("sip:bob@pbx.example.com", True, "", "open"))
    assert heard == [ColleaguePresenceChanged("sip:bob@pbx.example.com", True, "")]


def test_without_a_server_or_domain_the_keyring_key_is_the_username() -> None:
    assert address_of_record(SipSettings(username="agent7")) == "agent7"
