"""What the agent asks to call and what the session asks of the engine to call it.

`dial_target` turns what an agent typed or clicked into something the engine can dial (a
SIP URI as is, else E.164 or a short code); `DialOutcome` is what became of a dial or
transfer request; `CallControl` is the engine's command methods as PhoneSession
(app/core/phone.py) and its transfers (app/core/transfers.py) use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from app.core.numbers import InvalidNumber, normalise

_URI_MAX = 256


class CallControl(Protocol):
    """The engine's command methods, as the session uses them."""

    def dial(self, target: str, *, caller_id: str | None = None,
             headers: dict[str, str] | None = None) -> int: ...
    def answer(self, handle: int) -> None: ...
    def decline(self, handle: int, code: int = 486) -> None: ...
    def hangup(self, handle: int) -> None: ...
    def set_mute(self, handle: int, muted: bool) -> None: ...
    def set_hold(self, handle: int, held: bool) -> None: ...
    def send_dtmf(self, handle: int, digits: str) -> None: ...
    def transfer(self, handle: int, target: str, context: str = "") -> None: ...
    def transfer_to_call(self, handle: int, other: int) -> None: ...


@dataclass(frozen=True)
class DialOutcome:
    """What became of a dial request: a handle, or a message for the agent."""

    target: str = ""
    handle: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.handle is not None


def dial_target(text: str, region: str = "FI") -> str:
    """What to hand the engine for `text`: a SIP URI as is, else E.164 or a short code.

    Accepts `sip:`/`sips:` URIs, `tel:` and `callto:` links, `user@host`, and any number
    a human writes. Raises InvalidNumber with a message for the agent.
    """
    text = (text or "").strip()
    lower = text.lower()
    if lower.startswith(("sip:", "sips:")):
        rest = text.split(":", 1)[1]
        if not rest or len(text) > _URI_MAX or re.search(r"[\s\x00-\x1f\x7f<>\"]", text):
            raise InvalidNumber(f"{text[:40]!r} is not a SIP address I can call")
        return text
    if lower.startswith("tel:"):
        return normalise(text[4:].split(";", 1)[0], region)
    if lower.startswith("callto:"):
        text = text[7:].lstrip("/")
    if "@" in text:
        if len(text) > _URI_MAX or re.search(r"[\s\x00-\x1f\x7f<>\"]", text) \
                or text.startswith("@") or text.endswith("@"):
            raise InvalidNumber(f"{text[:40]!r} is not a SIP address I can call")
        return "sip:" + text
    return normalise(text, region)


__all__ = ["CallControl", "DialOutcome", "dial_target"]
