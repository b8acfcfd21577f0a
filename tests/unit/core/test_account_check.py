"""The account rules (what the phone needs before it can start) and the connection test's
failures that need no registrar: a name that does not resolve, a port that never answers."""

from __future__ import annotations

import socket

import pytest

from app.config import Settings, SipSettings
from app.core.account_check import ProbeOutcome, account_problems, server_problem, setup_needed
from app.telephony.register_probe import probe_registration


def test_nothing_configured_means_the_assistant_is_due() -> None:
    assert setup_needed(Settings())
    configured = Settings()
    configured.sip.server = "pbx.example.com"
    assert not setup_needed(configured)
    direct = Settings()
    direct.sip.mode = "direct"
    assert not setup_needed(direct)  # peer-to-peer needs no account


@pytest.mark.parametrize("server", ["pbx.example.com", "pbx.example.com:5070", "10.0.0.5",
                                    "[2001:db8::1]:5060", "pbx.example.com;transport=tcp"])
def test_a_host_with_an_optional_port_is_a_server(server: str) -> None:
    assert server_problem(server) == ""


@pytest.mark.parametrize(("server", "words"), [
    ("", "empty"), ("sip:pbx.example.com", "without sip:"),
    ("https://pbx.example.com", "without sip:"), ("1001@pbx.example.com", "only the phone"),
    ("pbx.example.com:0", "port 0"), ("pbx.example.com:sip", "port sip"),
    ("[2001:db8::1:5060", "closing ]"),
])
def test_what_is_wrong_with_a_server_is_said(server: str, words: str) -> None:
    assert words in server_problem(server)


def test_registrar_mode_needs_a_server_and_a_user_direct_mode_neither() -> None:
    keys = [p.key for p in account_problems(SipSettings())]
    assert keys == ["sip.server", "sip.username"]
    assert account_problems(SipSettings(mode="direct")) == []
    assert account_problems(SipSettings(server="pbx", username="1001")) == []


def test_the_test_says_a_name_does_not_resolve() -> None:
    result = probe_registration(SipSettings(server="pbx.invalid", username="1001"), "pw",
                                timeout=2)
    assert result.outcome is ProbeOutcome.UNKNOWN_HOST
    assert "pbx.invalid" in result.detail


def test_the_test_says_nothing_answered() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives the REGISTERs, answers none
        port = silent.getsockname()[1]
        result = probe_registration(
            SipSettings(server=f"127.0.0.1:{port}", username="1001"), "pw", timeout=1.2)
        assert result.outcome is ProbeOutcome.NO_ANSWER
        silent.settimeout(0)
        first = silent.recv(65535).decode()
    assert first.startswith(f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n")
    assert "Expires: 60\r\n" in first and "Authorization" not in first


def test_the_test_checks_the_settings_before_sending_anything() -> None:
    result = probe_registration(SipSettings(server="sip:pbx", username="1001"), "pw")
    assert result.outcome is ProbeOutcome.BAD_SETTINGS
    assert "sip.server" in result.detail
