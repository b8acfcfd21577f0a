"""How the one pjsua2 Endpoint is configured, and its SIP transport.

The engine thread calls these between `libCreate()` and `libStart()`; see engine.py.
"""

from __future__ import annotations

import pjsua2 as pj

from app.config import SipSettings
from app.telephony import siplog

_TRANSPORTS = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP,
               "tls": pj.PJSIP_TRANSPORT_TLS}


def endpoint_config(settings: SipSettings, *, log_sip: bool,
                    clock_rate: int = 8000) -> pj.EpConfig:
    cfg = pj.EpConfig()
    # One thread of ours polls; pjsua2 callbacks run only there (pygui found Python
    # crashing with pjsua worker threads).
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = 4  # what the wheel allows anyway (core.calls.MAX_CALLS)
    cfg.uaConfig.userAgent = settings.user_agent
    siplog.configure(cfg.logConfig, sip_trace=log_sip)
    cfg.medConfig.noVad = True  # keep RTP flowing in silence (hold/mute checks, NAT)
    # The bridge's rate: 16 kHz with the sound path (G.722 keeps wideband end to end),
    # 8 kHz when calls are silent anyway.
    cfg.medConfig.clockRate = clock_rate
    cfg.medConfig.sndClockRate = clock_rate
    return cfg


def set_codecs(ep: pj.Endpoint, wanted: list[str]) -> list[str]:
    """Offer `wanted` (names like "G722", "PCMA"), best first; switch every other codec off.

    Returns the names that matched no codec of this build, for a warning."""
    available = [info.codecId for info in ep.codecEnum2()]
    order = {name.lower(): rank for rank, name in enumerate(wanted)}
    for codec_id in available:
        rank = order.get(codec_id.split("/", 1)[0].lower())
        # pjsua's own default puts speex first; 0 disables a codec.
        ep.codecSetPriority(codec_id, 0 if rank is None else 250 - rank)
    found = {c.split("/", 1)[0].lower() for c in available}
    return [name for name in wanted if name.lower() not in found]


def create_transport(ep: pj.Endpoint, settings: SipSettings) -> tuple[int, str]:
    """(transport id, "host:port" it listens on); raises pj.Error when it cannot bind."""
    tcfg = pj.TransportConfig()
    tcfg.port = settings.port
    if settings.listen_address and settings.listen_address != "0.0.0.0":
        tcfg.boundAddress = settings.listen_address
        tcfg.publicAddress = settings.listen_address
    if settings.transport == "tls":
        tcfg.tlsConfig.verifyServer = settings.tls_verify
    tid = int(ep.transportCreate(_TRANSPORTS[settings.transport], tcfg))
    return tid, str(ep.transportGetInfo(tid).localName)


__all__ = ["create_transport", "endpoint_config"]
