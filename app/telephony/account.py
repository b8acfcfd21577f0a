"""The SIP account: its configuration, registration with backoff, presence publish/subscribe.

Runs on the engine thread. pjsua's own registration retry is switched off; we retry with
exponential backoff (settings.retry_min_seconds … retry_max_seconds) and say so in
RegistrationChanged events.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

import pjsua2 as pj

from app.config import SipSettings
from app.core.calls import EngineEvent, RegistrationChanged, RegistrationState
from app.core.sip_domain import request_domain as domain_of
from app.core.sip_domain import sip_domain
from app.telephony.call import guarded
from app.telephony.mapping import retry_delay
from app.telephony.sipmsg import header, parse_name_addr

log = logging.getLogger(__name__)

_SRTP = {"disabled": pj.PJMEDIA_SRTP_DISABLED, "optional": pj.PJMEDIA_SRTP_OPTIONAL,
         "mandatory": pj.PJMEDIA_SRTP_MANDATORY}


class AccountHost(Protocol):
    def emit(self, event: EngineEvent) -> None: ...

    def assert_engine_thread(self) -> None: ...

    def schedule(self, delay: float, fn: Callable[[], None]) -> None: ...

    def incoming_call(self, prm: pj.OnIncomingCallParam) -> None: ...

    def presence_changed(self, buddy: EngineBuddy) -> None: ...


def account_config(settings: SipSettings, *, password: str | None, transport_id: int,
                   local_host: str) -> pj.AccountConfig:
    """Build the pjsua2 AccountConfig for registrar or direct mode."""
    cfg = pj.AccountConfig()
    display = settings.display_name.replace('"', "")
    name = f'"{display}" ' if display else ""
    params = "" if settings.transport == "udp" else f";transport={settings.transport}"
    scheme = "sip"  # TLS goes in ;transport=tls, sips: would force TLS end to end
    if settings.mode == "registrar":
        domain = sip_domain(settings)  # no port: the same address as keyring and presence
        cfg.idUri = f"{name}<{scheme}:{settings.username}@{domain}>"
        cfg.regConfig.registrarUri = f"{scheme}:{settings.server}{params}"
        cfg.regConfig.timeoutSec = settings.register_expiry
        cfg.regConfig.retryIntervalSec = 0  # we do our own backoff
        cfg.regConfig.firstRetryIntervalSec = 0
        cfg.regConfig.dropCallsOnFail = False
        cfg.regConfig.registerOnAdd = True
        cfg.regConfig.unregWaitMsec = 500
        # Everything goes through the phone system, which knows where the agents are.
        cfg.sipConfig.proxies.append(f"sip:{settings.server};lr{params}")
        cfg.presConfig.publishEnabled = True
        cfg.presConfig.publishShutdownWaitMsec = 200
        if password is not None:
            user = settings.auth_username or settings.username
            cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
    else:
        cfg.idUri = f"{name}<sip:{settings.username or 'agent'}@{local_host}{params}>"
        cfg.regConfig.registrarUri = ""
        cfg.regConfig.registerOnAdd = False
    cfg.sipConfig.transportId = transport_id
    cfg.mediaConfig.srtpUse = _SRTP[settings.srtp]
    # Signalling security is the transport's business; do not refuse RTP/SAVP on UDP/TCP.
    cfg.mediaConfig.srtpSecureSignaling = 0
    bound = settings.listen_address
    if bound and bound != "0.0.0.0":
        cfg.mediaConfig.transportConfig.boundAddress = bound
        cfg.mediaConfig.transportConfig.publicAddress = bound
    if settings.media_address:
        cfg.mediaConfig.transportConfig.publicAddress = settings.media_address
    cfg.mediaConfig.transportConfig.port = settings.rtp_port
    cfg.mediaConfig.transportConfig.portRange = settings.rtp_port_range
    return cfg


class EngineBuddy(pj.Buddy):
    """A subscribed presentity; state changes go to the engine."""

    def __init__(self, host: AccountHost, uri: str) -> None:
        super().__init__()
        self.host = host
        self.uri = uri

    @guarded
    def onBuddyState(self) -> None:
        self.host.assert_engine_thread()
        self.host.presence_changed(self)


class EngineAccount(pj.Account):
    """Registration state machine with backoff; incoming calls go straight to the engine."""

    def __init__(self, host: AccountHost, settings: SipSettings) -> None:
        super().__init__()
        self.host = host
        self.settings = settings
        self.registered = False
        self.failures = 0
        self.closing = False
        self.buddies: dict[str, EngineBuddy] = {}

    @guarded
    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.host.assert_engine_thread()
        self.host.incoming_call(prm)

    @guarded
    def onRegStarted(self, prm: pj.OnRegStartedParam) -> None:
        self.host.assert_engine_thread()
        if prm.renew and not self.registered:
            self.host.emit(RegistrationChanged(RegistrationState.REGISTERING))

    @guarded
    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        self.host.assert_engine_thread()
        code, reason = int(prm.code), str(prm.reason)
        if 200 <= code < 300 and prm.expiration > 0:
            self.registered = True
            self.failures = 0
            self.host.emit(RegistrationChanged(RegistrationState.REGISTERED, code, reason,
                                               contact=self._contact(prm)))
            return
        self.registered = False
        if 200 <= code < 300 or self.closing:
            self.host.emit(RegistrationChanged(RegistrationState.UNREGISTERED, code, reason))
            return
        delay = retry_delay(self.failures, self.settings.retry_min_seconds,
                            self.settings.retry_max_seconds)
        self.failures += 1
        log.info("registration failed (%d %s); retrying in %.1f s", code, reason, delay)
        self.host.emit(RegistrationChanged(RegistrationState.FAILED, code, reason,
                                           retry_in=delay))
        self.host.schedule(delay, self._retry)

    def _retry(self) -> None:
        if self.closing or self.registered:
            return
        try:
            self.setRegistration(True)
        except pj.Error as exc:
            # e.g. a registration already in progress; the result will arrive anyway.
            log.info("registration retry not started: %s", exc.info())

    def _contact(self, prm: pj.OnRegStateParam) -> str:
        """The binding the registrar confirmed (Contact of its 200 OK), else our AOR."""
        try:
            value = header(str(prm.rdata.wholeMsg), "contact")
            if value:
                return parse_name_addr(value.split(",")[0]).uri
            return str(self.getInfo().uri)
        except pj.Error:
            return ""

    # -- presence -----------------------------------------------------------------------

    def publish(self, basic_open: bool, note: str) -> None:
        status = pj.PresenceStatus()
        status.status = (pj.PJSUA_BUDDY_STATUS_ONLINE if basic_open
                         else pj.PJSUA_BUDDY_STATUS_OFFLINE)
        status.note = note
        status.activity = pj.PJRPID_ACTIVITY_UNKNOWN
        self.setOnlineStatus(status)

    def subscribe(self, uri: str) -> None:
        if uri in self.buddies:
            self.buddies[uri].subscribePresence(True)
            return
        buddy = EngineBuddy(self.host, uri)
        cfg = pj.BuddyConfig()
        cfg.uri = uri
        cfg.subscribe = True
        buddy.create(self, cfg)
        self.buddies[uri] = buddy

    def close(self) -> None:
        """Stop retrying and forget the buddies (their C++ side dies with them)."""
        self.closing = True
        for buddy in self.buddies.values():
            with contextlib.suppress(pj.Error):
                buddy.subscribePresence(False)
        self.buddies.clear()


__all__ = ["EngineAccount", "EngineBuddy", "account_config", "domain_of"]
