"""Phone numbers: E.164 everywhere inside, national format only for display.

`normalise` turns anything a human writes or pastes ("+358 40 123 4567", "040-1234567",
"00358401234567", "(040) 123 45 67") into E.164 or raises `InvalidNumber` with a message
an agent can act on. `match_key` gives the key the CRM indexes numbers by, so the same
subscriber matches however the number was stored.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

MAX_INPUT = 64  # longer than any number plus separators; refuse before parsing
_ALLOWED = re.compile(r"^[0-9+()\-./\s\u00a0*#]+$")
_INTL_PREFIX = re.compile(r"^\s*00")
_SHORT = re.compile(r"^[0-9*#]{1,8}$")  # extensions, service codes


class InvalidNumber(ValueError):
    """The text is not a phone number; the message says why in words for the agent."""


def _clean_region(region: str) -> str:
    region = (region or "").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidNumber(f"unknown default region {region!r}; set phone.default_region "
                            "to a two-letter country code such as FI")
    return region


def normalise(text: str, region: str = "FI") -> str:
    """Return E.164 (`+358401234567`) for a written number, or a short code unchanged.

    Short digit strings (extensions like `201`, service codes with `*`/`#`) are returned
    as they are: they are dialled on the phone system, not looked up as E.164.
    """
    if not isinstance(text, str):
        raise InvalidNumber("a phone number must be text")
    stripped = text.strip()
    if not stripped:
        raise InvalidNumber("the number is empty")
    if len(stripped) > MAX_INPUT:
        raise InvalidNumber(f"that is too long for a phone number ({len(stripped)} characters)")
    if not _ALLOWED.match(stripped):
        raise InvalidNumber(f"{stripped!r} has characters that are not part of a phone number")
    compact = re.sub(r"[\s\u00a0().\-/]", "", stripped)
    if _SHORT.match(compact):
        return compact
    if "*" in compact or "#" in compact:
        raise InvalidNumber(f"{stripped!r} mixes a number with * or #")
    if compact.count("+") > 1 or ("+" in compact and not compact.startswith("+")):
        raise InvalidNumber(f"{stripped!r} has a + in the wrong place")
    compact = _INTL_PREFIX.sub("+", compact)
    try:
        parsed = phonenumbers.parse(compact, _clean_region(region))
    except NumberParseException as exc:
        raise InvalidNumber(f"{stripped!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber(f"{stripped!r} has the wrong number of digits for "
                            f"{phonenumbers.region_code_for_number(parsed) or 'its country'}")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def try_normalise(text: str, region: str = "FI") -> str | None:
    try:
        return normalise(text, region)
    except InvalidNumber:
        return None


def display(e164: str, region: str = "FI") -> str:
    """National format for numbers of our region, international for the rest."""
    try:
        parsed = phonenumbers.parse(e164, None if e164.startswith("+") else region)
    except NumberParseException:
        return e164
    fmt = (PhoneNumberFormat.NATIONAL
           if phonenumbers.region_code_for_number(parsed) == region.upper()
           else PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, fmt)


def match_key(text: str, region: str = "FI") -> str | None:
    """The key a CRM indexes a number by: E.164 when it parses, else the bare digits.

    None means the text holds no digits at all and cannot match anything.
    """
    e164 = try_normalise(text, region)
    if e164 is not None:
        return e164
    digits = re.sub(r"\D", "", text or "")
    return digits or None
