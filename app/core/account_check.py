"""Whether the SIP account is set up well enough to start the phone, and what a test found.

Pure rules shared by the first-run decision, the settings dialog, `switchboard doctor`
and the connection test: the loader (app.config) checks each key's type and range; these
check what the keys mean together (a registrar mode needs a server and a user).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from app.config import ConfigProblem, Settings, SipSettings

# The words below are translated by the caller's `_tr` (Qt's, in this context); the
# default keeps them English, as `switchboard doctor` prints them.
TRANSLATION_CONTEXT = "AccountCheck"
Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


def setup_needed(settings: Settings) -> bool:
    """Nothing about the phone account was configured: the first-run assistant is due."""
    sip = settings.sip
    return sip.mode == "registrar" and not sip.server and not sip.username


def server_problem(server: str, _tr: Translate = _same) -> str:
    """"" when `server` reads as `host[:port][;params]`, else what is wrong with it."""
    text = server.strip()
    if not text:
        return _tr("the phone system address is empty")
    if "://" in text or text.lower().startswith(("sip:", "sips:")):
        return _tr("write the address without sip: or http://, e.g. pbx.example.com:5060")
    if " " in text or "@" in text:
        return _tr("write only the phone system's address, e.g. pbx.example.com")
    host_port = text.split(";", 1)[0]
    port = ""
    if host_port.startswith("["):  # an IPv6 literal: [::1]:5060
        end = host_port.find("]")
        if end < 0:
            return _tr("an IPv6 address needs its closing ]")
        port = host_port[end + 1:].removeprefix(":")
    elif ":" in host_port:
        _host, port = host_port.rsplit(":", 1)
    if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
        return _tr("the port %s is not a number from 1 to 65535") % port
    return ""


def account_problems(sip: SipSettings, _tr: Translate = _same) -> list[ConfigProblem]:
    """What stops the phone account from registering, in the loader's ConfigProblem form."""
    if sip.mode != "registrar":
        return []
    problems = []
    problem = server_problem(sip.server, _tr)
    if problem:
        problems.append(ConfigProblem("sip.server", problem))
    if not sip.username.strip():
        problems.append(ConfigProblem("sip.username", _tr("the SIP user is empty")))
    elif any(ch in sip.username for ch in " @:;"):
        problems.append(ConfigProblem("sip.username",
                                      _tr("write only the part before @, e.g. 1001")))
    return problems


class ProbeOutcome(enum.Enum):
    """What a connection test ended in; the UI says each in words."""

    REGISTERED = "registered"
    BAD_SETTINGS = "bad_settings"  # the account settings themselves (see detail)
    UNKNOWN_HOST = "unknown_host"  # the server's name does not resolve
    UNREACHABLE = "unreachable"  # refused or no route (TCP/TLS), or ICMP unreachable
    NO_ANSWER = "no_answer"  # nothing came back in time
    TLS_FAILED = "tls_failed"  # the TLS handshake or the certificate
    WRONG_PASSWORD = "wrong_password"  # challenged again / 403 after our credentials
    NO_PASSWORD = "no_password"  # challenged, and no password was given
    UNKNOWN_USER = "unknown_user"  # 404: the registrar does not know the user
    REFUSED = "refused"  # any other final answer (code and reason say which)


@dataclass(frozen=True)
class ProbeResult:
    """The end of one connection test: the outcome, the SIP answer if any, and details."""

    outcome: ProbeOutcome
    code: int = 0
    reason: str = ""
    detail: str = ""  # the OS or TLS error text, the contact registered, …


__all__ = ["ProbeOutcome", "ProbeResult", "account_problems", "server_problem",
           "setup_needed"]
