"""Parse tel:, sip:, sips: and callto: links (and bare numbers) into a `DialTarget`.

Everything that reaches this module is untrusted: a link clicked in a web page, an
argument a desktop environment passed to `switchboard %u`, a message another process
sent over the single-instance socket. `parse_link` either returns a `DialTarget` built
from scratch out of the parts it understood (an E.164 number or a minimal
`sip:user@host[:port]` URI), or raises `LinkRefused` with a sentence the agent can read.
Nothing from the input is passed on verbatim, so parameters and headers that could steer
the call elsewhere (`maddr=`, `?Route=`, `?body=`) never reach the SIP stack.

It lives in core because it is the one rule for links wherever they come from: the
desktop's link handler and the CRM import (a `tel:` number in a phone column) use it.

Pure Python: no Qt, no pjsua2. User-facing messages are marked with
`QT_TRANSLATE_NOOP("links", ...)` so `pyside6-lupdate` collects them; the UI translates
`LinkRefused.template` and formats it with `LinkRefused.params` (see `LinkRefused.text`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

import phonenumbers

from app.core.numbers import InvalidNumber, normalise

MAX_LINK = 256  # longer than any real number or SIP address; refused before decoding
SCHEMES = ("tel", "sip", "sips", "callto")

_CONTEXT = "links"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark `text` for translation without translating it here (this module has no Qt)."""
    return text


@dataclass(frozen=True)
class DialTarget:
    """What to dial: `kind="number"` holds E.164 (or a short extension), `"sip"` a SIP URI."""

    kind: Literal["number", "sip"]
    value: str

    def as_link(self) -> str:
        """The canonical link form: `tel:+358401234567` or `sip:alice@example.com`."""
        return f"tel:{self.value}" if self.kind == "number" else self.value


class LinkRefused(ValueError):
    """The link is not something Switchboard will dial; `str()` says why, in English."""

    def __init__(self, template: str, params: dict[str, str] | None = None) -> None:
        self.template = template
        self.params = dict(params or {})
        super().__init__(self.text())

    def text(self, translate: Callable[[str, str], str] | None = None) -> str:
        """The message, optionally translated: `translate(context, template)`."""
        template = translate(_CONTEXT, self.template) if translate else self.template
        return template.format(**self.params)


def _refuse(template: str, **params: str) -> LinkRefused:
    return LinkRefused(template, {k: _shown(v) for k, v in params.items()})


def _shown(text: str) -> str:
    """Input quoted back to the user, with control characters made visible and cut short."""
    visible = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return visible if len(visible) <= 60 else visible[:57] + "..."


def _has_control(text: str) -> bool:
    # Cc: C0/C1 controls (newline, NUL, ESC); Cf: invisible format characters such as the
    # right-to-left override, which can make a link read differently from what it dials.
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_SIP_USER = re.compile(r"^[A-Za-z0-9._~+\-!*]{1,64}$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9\-]{1,63}(?<!-)$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]{2,45}\]$")
_TRANSPORTS = ("udp", "tcp", "tls", "ws", "wss")
_TEL_PARAM = re.compile(r"^[A-Za-z0-9\-]+(=[A-Za-z0-9+\-.()%!~*'_]*)?$")


def looks_like_link(arg: str) -> bool:
    """True when a command-line argument is a link we handle (`switchboard tel:...`)."""
    m = _SCHEME.match(arg.strip()) if isinstance(arg, str) else None
    return m is not None and m.group(1).lower() in SCHEMES


def parse_link(text: str, region: str = "FI") -> DialTarget:
    """Turn a link or a bare number into a `DialTarget`, or raise `LinkRefused`.

    `region` is the country assumed for numbers written without a country code
    (`phone.default_region`).
    """
    if not isinstance(text, str):
        raise _refuse(QT_TRANSLATE_NOOP("links", "A link must be text."))
    if len(text) > MAX_LINK:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "That link is too long to be a phone number or SIP address "
            "({length} characters)."), length=str(len(text)))
    if _has_control(text):
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} contains control characters; it was not dialled."),
            link=text.strip(" "))
    raw = text.strip()
    if not raw:
        raise _refuse(QT_TRANSLATE_NOOP("links", "There is nothing to dial."))
    m = _SCHEME.match(raw)
    if m is None:
        if "@" in raw:
            return _parse_sip("sip", raw)
        return _number(raw, region, raw)
    scheme = m.group(1).lower()
    rest = raw[m.end():]
    if scheme not in SCHEMES:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "Switchboard dials only tel:, sip:, sips: and callto: links, "
            "not {scheme}: links."), scheme=scheme)
    decoded = _decode(rest, raw)
    if scheme == "tel":
        return _parse_tel(decoded, region, raw)
    if scheme == "callto":
        return _parse_callto(decoded, region, raw)
    return _parse_sip(scheme, decoded, raw)


def _decode(rest: str, raw: str) -> str:
    if "%" in rest and re.search(r"%(?![0-9A-Fa-f]{2})", rest):
        raise _refuse(QT_TRANSLATE_NOOP("links", "{link} has a broken %-escape."), link=raw)
    decoded = unquote(rest, errors="strict") if "%" in rest else rest
    # One round of decoding only: a second %-escape left after it (%250A) is refused
    # rather than decoded again, so a doubly encoded newline cannot sneak through.
    if _has_control(decoded) or "%" in decoded:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} hides control characters or a second %-escape in its "
            "%-escapes; it was not dialled."),
            link=raw)
    return decoded


def _number(text: str, region: str, raw: str) -> DialTarget:
    try:
        return DialTarget("number", normalise(text, region))
    except InvalidNumber as exc:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} is not a number Switchboard can dial: {reason}."),
            link=raw, reason=str(exc)) from None


def _parse_tel(body: str, region: str, raw: str) -> DialTarget:
    """RFC 3966: `tel:+358-40-123 4567` or `tel:040-1234567;phone-context=+358`."""
    number, *params = body.split(";")
    context = ""
    for param in params:
        if not _TEL_PARAM.match(param):
            raise _refuse(QT_TRANSLATE_NOOP(
                "links", "{link} has a parameter Switchboard does not understand."), link=raw)
        name, _, value = param.partition("=")
        if name.lower() == "phone-context":
            context = value
        # ext=, isub= and unknown parameters are dropped: only the number is dialled.
    if "?" in number:
        number = number.split("?", 1)[0]
    if number.startswith("+") or not context:
        return _number(number, region, raw)
    if context.startswith("+"):
        # A global number prefix. A plain country code means "a national number of that
        # country" (so a trunk 0 is handled); a longer prefix (an area or PBX prefix) is
        # put in front of the local digits.
        digits = re.sub(r"[^0-9]", "", context)
        if not digits or re.sub(r"[\s\-.()]", "", context) != "+" + digits:
            raise _refuse(QT_TRANSLATE_NOOP(
                "links", "{link} has a phone-context that is not a number prefix."), link=raw)
        for length in (1, 2, 3):
            if len(digits) == length:
                country = phonenumbers.region_code_for_country_code(int(digits))
                if country != "ZZ":
                    return _number(number, country, raw)
        return _number("+" + digits + re.sub(r"[\s\-.()]", "", number), region, raw)
    # A domain-name context (`;phone-context=pbx.example.com`) names the phone system the
    # number is local to: ours, as far as the agent is concerned.
    if not all(_HOST_LABEL.match(label) for label in context.split(".")):
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} has a phone-context that is not a number prefix."), link=raw)
    return _number(number, region, raw)


def _parse_callto(body: str, region: str, raw: str) -> DialTarget:
    """`callto:+358401234567`, `callto://+358401234567`, `callto:alice@example.com`."""
    if body.startswith("//"):
        body = body[2:]
    body = body.split("?", 1)[0].rstrip("/")
    if "@" in body:
        return _parse_sip("sip", body, raw)
    return _number(body, region, raw)


def _parse_sip(scheme: str, body: str, raw: str | None = None) -> DialTarget:
    """`sip:user@host[:port][;transport=x]`; headers (`?...`) and other parameters refused
    or dropped, and the URI rebuilt from the validated parts."""
    raw = raw if raw is not None else body
    if "?" in body:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} carries SIP headers; Switchboard does not send headers from "
            "links, so it was not dialled."), link=raw)
    if not body.isascii():
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} has characters that are not allowed in a SIP address."),
            link=raw)
    address, *params = body.split(";")
    transport = ""
    for param in params:
        name, _, value = param.partition("=")
        if name.lower() == "transport" and value.lower() in _TRANSPORTS:
            transport = value.lower()
        elif not re.match(r"^[A-Za-z0-9\-]+(=[A-Za-z0-9\-.]*)?$", param):
            raise _refuse(QT_TRANSLATE_NOOP(
                "links", "{link} has characters that are not allowed in a SIP address."),
                link=raw)
        # Every other parameter (maddr=, user=, lr, method=) is dropped: it could only
        # route the call somewhere the visible address does not say.
    user, at, hostport = address.rpartition("@")
    if not at or not user:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} is not a SIP address of the form user@host."), link=raw)
    if ":" in user:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} contains a password; Switchboard does not dial links with "
            "passwords in them."), link=raw)
    if not _SIP_USER.match(user):
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} has characters that are not allowed in a SIP address."),
            link=raw)
    host = _host(hostport, raw)
    uri = f"{scheme}:{user}@{host}"
    if transport:
        uri += f";transport={transport}"
    return DialTarget("sip", uri)


def _host(hostport: str, raw: str) -> str:
    port = ""
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[:end + 1], hostport[end + 1:]
        if rest:
            if not rest.startswith(":"):
                host = ""
            port = rest[1:]
        ok = bool(_IPV6.match(host))
    else:
        host, _, port = hostport.partition(":")
        labels = host.split(".")
        ok = bool(host) and len(host) <= 253 and all(_HOST_LABEL.match(lb) for lb in labels)
    if not ok:
        raise _refuse(QT_TRANSLATE_NOOP(
            "links", "{link} does not name a valid host."), link=raw)
    if port or hostport.endswith(":"):
        if not port.isdigit() or not 0 < int(port) < 65536 or len(port) > 5:
            raise _refuse(QT_TRANSLATE_NOOP(
                "links", "{link} has a port that is not a number from 1 to 65535."),
                link=raw)
        return f"{host.lower()}:{int(port)}"
    return host.lower()
