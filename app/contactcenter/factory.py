"""Build the configured ContactCenter backend (the composition root calls this once)."""

from __future__ import annotations

from collections.abc import Callable

from app.config import ContactCenterSettings, SipSettings
from app.contactcenter.base import BackendBase, NullContactCenter
from app.contactcenter.sip_presence import PresenceEngine
from app.core.sip_domain import server_host, sip_domain


def create_contact_center(settings: ContactCenterSettings, sip: SipSettings, *,
                          get_secret: Callable[[str], str | None],
                          engine: PresenceEngine | None = None) -> BackendBase:
    """A backend that is not connected yet: call `connect()` when the app is ready.

    `get_secret(keyring_key)` is the app's secret store's `get`; an empty secret is
    passed on, and the backend then reports "credentials refused" once it tries.
    """
    backend = settings.backend
    if backend == "asterisk_ami":
        from app.contactcenter.asterisk_ami import AmiContactCenter

        interface = settings.interface or f"PJSIP/{sip.username}"
        return AmiContactCenter(settings.host or server_host(sip.server), settings.port,
                                settings.user, get_secret(settings.keyring_key) or "",
                                interface, member_name=sip.display_name or sip.username,
                                queue_numbers=_pairs(settings.queue_numbers),
                                poll_seconds=settings.poll_seconds)
    if backend == "enreach":
        from app.contactcenter.enreach import EnreachContactCenter

        return EnreachContactCenter(settings.user, get_secret(settings.keyring_key) or "",
                                    discovery_url=settings.discovery_url,
                                    api_url=settings.host, poll_seconds=settings.poll_seconds)
    if backend == "sip_presence":
        from app.contactcenter.sip_presence import SipPresenceContactCenter

        if engine is None:
            raise ValueError("sip_presence needs the telephony engine")
        return SipPresenceContactCenter(engine, own_uri=f"sip:{sip.username}@{sip_domain(sip)}")
    return NullContactCenter()


def _pairs(entries: list[str]) -> dict[str, str]:
    """`Name=value` lines → {name: value}; lines without `=` are skipped."""
    out: dict[str, str] = {}
    for entry in entries:
        name, sep, value = entry.rpartition("=")
        if sep and name.strip() and value.strip():
            out[name.strip()] = value.strip()
    return out


__all__ = ["create_contact_center"]
