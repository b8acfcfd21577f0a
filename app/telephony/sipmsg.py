"""Reading an incoming INVITE's text: headers, caller identity, queue, auto-answer request.

Pure functions on the raw message (`SipRxData.wholeMsg`), so the engine callback only
copies a string and everything else is testable without pjsua2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.core.numbers import normalise, try_normalise

# RFC 3261 §7.3.3 compact forms of the headers we read.
_COMPACT = {"f": "from", "t": "to", "i": "call-id", "m": "contact"}
_ANSWER_AFTER = re.compile(r";\s*answer-after\s*=\s*([0-9]+(?:\.[0-9]+)?)", re.I)
_AUTO_ANSWER_ALERT = re.compile(r"auto[\s_-]?answer", re.I)
_URI_IN_BRACKETS = re.compile(r"<([^>]*)>")


def headers(message: str) -> dict[str, list[str]]:
    """Header name (lower case, compact forms expanded) → values, in order; folded lines joined."""
    head = message.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    lines = head.replace("\r\n", "\n").split("\n")[1:]  # skip the request line
    out: dict[str, list[str]] = {}
    last: str | None = None
    for line in lines:
        if line[:1] in (" ", "\t") and last is not None:
            out[last][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        out.setdefault(key, []).append(value.strip())
        last = key
    return out


def header(message: str, name: str) -> str | None:
    values = headers(message).get(name.lower())
    return values[0] if values else None


@dataclass(frozen=True)
class NameAddr:
    display_name: str
    uri: str


def parse_name_addr(value: str) -> NameAddr:
    """`"Alice" <sip:alice@x>;tag=1` → NameAddr('Alice', 'sip:alice@x'); bare URIs work too."""
    value = value.strip()
    match = _URI_IN_BRACKETS.search(value)
    if match:
        name = value[: match.start()].strip()
        if name.startswith('"') and name.endswith('"') and len(name) >= 2:
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return NameAddr(name, match.group(1).strip())
    uri = value.split(";", 1)[0].strip()
    return NameAddr("", uri)


def uri_user(uri: str) -> str:
    """The user part of a sip:/sips:/tel: URI (`sip:+358401@h;user=phone` → `+358401`)."""
    uri = uri.strip()
    scheme, sep, rest = uri.partition(":")
    if not sep:
        return uri
    if scheme.lower() == "tel":
        return rest.split(";", 1)[0]
    userinfo, at, _host = rest.partition("@")
    if not at:
        return ""
    return userinfo.split(";", 1)[0].split(":", 1)[0]


def number_from_uri(uri: str, region: str) -> str:
    """E.164 when the user part parses as a number, else the raw user part."""
    user = uri_user(uri)
    return try_normalise(user, region) or user


def requested_auto_answer(message: str) -> float | None:
    """Seconds the caller asks us to auto-answer after, or None when it does not ask.

    `Call-Info: <sip:x>;answer-after=N` (RFC 7462 draft usage, common on PBXs) or
    `Alert-Info: <http://...>;info=alert-autoanswer` / `Alert-Info: ... auto answer`.
    """
    hdrs = headers(message)
    for value in hdrs.get("call-info", []):
        match = _ANSWER_AFTER.search(value)
        if match:
            return float(match.group(1))
    for value in hdrs.get("alert-info", []):
        if _AUTO_ANSWER_ALERT.search(value):
            return 0.0
    return None


def auto_answer_after(*, enabled: bool, delay: float, only_when_requested: bool,
                      requested: float | None) -> float | None:
    """Combine the settings with what the INVITE asked for."""
    if not enabled:
        return None
    if only_when_requested:
        return requested
    return delay if requested is None else min(delay, requested)


@dataclass(frozen=True)
class InviteFacts:
    call_id: str
    remote_uri: str
    remote_number: str
    display_name: str
    queue: str | None
    local_number: str
    requested_auto_answer: float | None


def read_invite(message: str, *, queue_header: str, region: str | None) -> InviteFacts:
    """Everything the engine needs from an INVITE, caller from P-Asserted-Identity else From.

    `region=None` leaves the numbers as the INVITE wrote them (the user parts): parsing
    them costs a few hundred microseconds on a cold path, so the engine answers 180 first
    and normalises with `normalised()` afterwards.
    """
    hdrs = headers(message)
    from_value = (hdrs.get("from") or [""])[0]
    pai_values = hdrs.get("p-asserted-identity") or []
    ident = parse_name_addr(pai_values[0]) if pai_values else parse_name_addr(from_value)
    from_addr = parse_name_addr(from_value)
    display = ident.display_name or from_addr.display_name
    to_addr = parse_name_addr((hdrs.get("to") or [""])[0])
    queue_values = hdrs.get(queue_header.lower()) if queue_header else None
    queue = queue_values[0].strip() if queue_values and queue_values[0].strip() else None
    return InviteFacts(
        call_id=(hdrs.get("call-id") or [""])[0],
        remote_uri=ident.uri or from_addr.uri,
        remote_number=_number(ident.uri or from_addr.uri, region),
        display_name=display,
        queue=queue,
        local_number=_number(to_addr.uri, region),
        requested_auto_answer=requested_auto_answer(message),
    )


def _number(uri: str, region: str | None) -> str:
    return uri_user(uri) if region is None else number_from_uri(uri, region)


def normalised(facts: InviteFacts, region: str) -> InviteFacts:
    """`facts` read with region=None, with both numbers in E.164 where they parse."""
    return replace(
        facts, remote_number=try_normalise(facts.remote_number, region) or facts.remote_number,
        local_number=try_normalise(facts.local_number, region) or facts.local_number)


def target_uri(target: str, *, domain: str, transport: str, region: str) -> tuple[str, str]:
    """(request URI, remote number) for what the agent dialled.

    A `sip:`/`sips:` URI is used as it is; `tel:` and written numbers are normalised to
    E.164 (raises `InvalidNumber`, a ValueError, when they are not numbers) and sent to
    `sip:NUMBER@domain`.
    """
    text = target.strip()
    lower = text.lower()
    if lower.startswith(("sip:", "sips:")):
        if "@" not in text and not text.split(":", 1)[1]:
            raise ValueError(f"{target!r} is not a SIP address")
        return text, number_from_uri(text, region)
    if lower.startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    elif lower.startswith("callto:"):
        text = text[7:].lstrip("/")
    number = normalise(text, region)
    if not domain:
        raise ValueError("no SIP domain to dial numbers on: set sip.domain or sip.server, "
                         "or dial a full sip: address")
    params = "" if transport == "udp" else f";transport={transport}"
    return f"sip:{number}@{domain}{params}", number


__all__ = [
    "InviteFacts",
    "NameAddr",
    "auto_answer_after",
    "header",
    "headers",
    "number_from_uri",
    "parse_name_addr",
    "read_invite",
    "requested_auto_answer",
    "target_uri",
    "uri_user",
]
