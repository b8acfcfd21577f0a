"""pjsua2's log into Python logging, with SIP credentials redacted.

pjlib writes its log from whichever thread is working (engine, media, clock), so this
only formats a string and hands it to `logging`, which is thread-safe.
"""

from __future__ import annotations

import logging
import re

import pjsua2 as pj

log = logging.getLogger("app.telephony.sip")

# Authorization / Proxy-Authorization carry the digest response; keep the scheme only.
_CREDENTIALS = re.compile(r"^((?:Proxy-)?Authorization:\s*\S+)[^\r\n]*", re.I | re.M)
# pjlib levels 1..6 → logging levels; pjlib's level 3 "info" is chatty, so DEBUG.
_LEVELS = {1: logging.ERROR, 2: logging.WARNING}
_MESSAGE_DUMP = ("bytes Request msg", "bytes Response msg")


def redact(text: str) -> str:
    return _CREDENTIALS.sub(r"\1 <redacted>", text)


class SipLog(pj.LogWriter):
    """LogWriter handed to pjsua2. libDestroy() deletes the writer it was given
    (pjsip/pjproject#3511), so the engine disowns this object to the C++ side."""

    def __init__(self, sip_trace: bool) -> None:
        super().__init__()
        self.sip_trace = sip_trace

    def write(self, entry: pj.LogEntry) -> None:
        try:
            text = str(entry.msg)
            level = _LEVELS.get(int(entry.level), logging.DEBUG)
            if self.sip_trace and any(marker in text for marker in _MESSAGE_DUMP):
                level = logging.INFO  # the trace the agent asked for (log.sip_trace)
            log.log(level, "%s", redact(text).rstrip())
        except Exception:  # never raise into pjlib's logging
            pass


def configure(cfg: pj.LogConfig, *, sip_trace: bool) -> SipLog:
    """Route pjsua2's log to Python logging; with `sip_trace`, include every SIP message."""
    writer = SipLog(sip_trace)
    cfg.writer = writer
    cfg.msgLogging = 1 if sip_trace else 0
    cfg.level = 4 if sip_trace else 3
    cfg.consoleLevel = cfg.level  # the writer replaces the console
    cfg.decor = 0
    writer.__disown__()
    return writer


__all__ = ["SipLog", "configure", "redact"]
