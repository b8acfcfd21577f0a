"""The account's SIP domain, decided in one place for the account, keyring and presence.

Who the agent is (`sip_domain`): `sip.domain` when set, else the host of `sip.server`
without its port or URI parameters (`pbx.example.com:5060;transport=tls` →
`pbx.example.com`), as the config documents it ("empty means the `server` host"). The
address of record, the keyring key and the presence URI all use it, so they agree; and
the keyring key of existing installs (`user@host`) stays where it was.

Where numbers are sent (`request_domain`): the same, except that a port in `sip.server`
is kept. In direct mode there is no proxy, so `sip:NUMBER@host:port` is the only thing
that takes a dialled number to a gateway on another port.
"""

from __future__ import annotations

from app.config import SipSettings


def _without_params(server: str) -> str:
    return server.strip().split(";", 1)[0]


def server_host(server: str) -> str:
    """`host[:port][;params]` → `host`; an IPv6 literal keeps its brackets (`[::1]`)."""
    hostport = _without_params(server)
    if hostport.startswith("["):
        end = hostport.find("]")
        return hostport[:end + 1] if end > 0 else hostport
    return hostport.partition(":")[0]


def sip_domain(sip: SipSettings) -> str:
    """The domain of the agent's SIP address (`sip:username@domain`); "" when none is set."""
    return sip.domain or server_host(sip.server)


def request_domain(sip: SipSettings) -> str:
    """Where `sip:NUMBER@…` goes when the agent dials a number: `sip_domain`, with the port."""
    return sip.domain or _without_params(sip.server)


def address_of_record(sip: SipSettings) -> str:
    """`username@domain`, the keyring key's default (just the username without a domain)."""
    domain = sip_domain(sip)
    return f"{sip.username}@{domain}" if domain else sip.username
