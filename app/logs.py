"""Logging: a rotating file in the profile, text or one JSON object per line, secrets redacted.

Call events go through `call_event(name, **fields)` on the `switchboard.calls` logger, so
that end-to-end tests and support staff can follow a call: with `--log-format json` each
is one line such as `{"ts": ..., "event": "ringing", "call_id": ..., "remote": ...}`.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CALLS = logging.getLogger("switchboard.calls")

_SECRET_PATTERNS = [
    # SIP/HTTP auth headers: keep the scheme, drop the credentials.
    (re.compile(r"((?:Proxy-)?Authorization:\s*\w+)\s+[^\r\n]*", re.I), r"\1 [redacted]"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\1[redacted]"),
    (re.compile(r"((?:password|passwd|secret|token|access_token|refresh_token|client_secret)"
                r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;]+", re.I), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    return text


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = getattr(record, "event", None)
        if event:
            obj["event"] = event
            obj.update(getattr(record, "fields", {}))
        else:
            obj["msg"] = record.getMessage()
        if record.exc_info:
            obj["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(obj, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={v!r}" for k, v in fields.items())
        return line


def setup(log_dir: Path, *, level: str = "info", fmt: str = "text",
          stderr: bool = True) -> Path:
    """Configure the root logger; returns the log file's path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "switchboard.log"
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5,
                                             encoding="utf-8")
    ]
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_RedactFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    return path


def log_engine_event(ev: object) -> None:
    """The call-related engine events as structured lines (registration goes too)."""
    from app.core import calls as c

    if isinstance(ev, c.IncomingCall):
        call_event("ringing", handle=ev.handle, call_id=ev.call_id, remote=ev.remote_number,
                   name=ev.display_name, queue=ev.queue, waiting=ev.waiting)
    elif isinstance(ev, c.CallRefused):
        call_event("refused", call_id=ev.call_id, remote=ev.remote_number, queue=ev.queue,
                   code=ev.sip_code, reason=ev.reason)
    elif isinstance(ev, c.OutgoingCallStarted):
        call_event("dialing", handle=ev.handle, call_id=ev.call_id, remote=ev.remote_number,
                   caller_id=ev.local_number)
    elif isinstance(ev, c.CallStateChanged):
        name = {c.CallState.CONNECTED: "answered", c.CallState.ENDED: "ended",
                c.CallState.ALERTING: "alerting", c.CallState.HELD: "held"}.get(ev.state)
        if name:
            call_event(name, handle=ev.handle, code=ev.sip_code, reason=ev.reason,
                       side=ev.hangup_side.value if ev.state is c.CallState.ENDED else None)
    elif isinstance(ev, c.HoldFailed):
        call_event("hold_failed", handle=ev.handle, held=ev.held, code=ev.sip_code,
                   reason=ev.reason)
    elif isinstance(ev, c.DtmfReceived):
        call_event("dtmf", handle=ev.handle, digit=ev.digit, method=ev.method)
    elif isinstance(ev, c.RegistrationChanged):
        call_event("registration", state=ev.state.value, code=ev.sip_code, reason=ev.reason,
                   retry_in=ev.retry_in)


def call_event(event: str, **fields: Any) -> None:
    """One structured line per call event (ringing, answered, ended, refused, …)."""
    safe = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
    CALLS.info(event, extra={"event": event, "fields": safe})
