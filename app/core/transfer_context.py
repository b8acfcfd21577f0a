"""The CRM context that travels with a transferred call: the `X-Switchboard-Context` header.

When an agent transfers a call, the receiving Switchboard should open the same CRM record
and case, not start from zero with a fresh number lookup. The transferring app puts a
small, versioned value into a SIP header of the INVITE the target receives:

- blind transfer: as an embedded header in the REFER's `Refer-To` URI
  (`<sip:carol@pbx?X-Switchboard-Context=v%3D1%3B...>`, RFC 3261 §19.1.1); the transferee
  copies it into its INVITE to the target (pjsip does, as do most PBXs and phones);
- consulted transfer: on our own consultation INVITE to the colleague; the customer's
  INVITE with Replaces that follows takes the context of the call it replaces.

The value, once unescaped, is `;`-separated `key=value` pairs:

    v=1;crm=local;record=contact/42;case=17;number=+358401234567;kind=blind

`v` (required, "1") is the format version; `crm` names the CRM the ids belong to (local,
salesforce, dynamics): a target with another CRM ignores the ids; `record` is a
`RecordRef` (contact/account/lead); `case` is a case id; `number` is the customer's E.164
number (the consultation INVITE comes from the agent, not the customer, so the target
needs it for its fallback lookup); `kind` is blind or consulted. It holds ids only, never
names or notes. Unknown keys are ignored (later versions may add some). Anything else
— too long (over MAX_VALUE characters), characters outside `[A-Za-z0-9=;/+_.-]`,
malformed ids, duplicated keys, another version — makes the whole value ignored, and the
target does an ordinary number lookup. A value that arrives still percent-escaped (a
proxy that kept the URI form) is unescaped once.

Anyone who can send us an INVITE can write this header, so it is trusted no further than
the caller id already is: the ids must be records of the caller's number (`agrees`), and
on a blind transfer, whose INVITE comes from the customer, the context's number must be
the caller's own (`fits`); only a consultation comes from someone else (the colleague).
Phone systems should strip X- headers like this one from calls that come in from outside.

Pure functions; the engine (app/telephony/) only copies the header text in and out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from app.core.crm import Account, Case, Contact, CrmError, Lead, RecordKind, RecordRef
from app.core.numbers import match_key

HEADER = "X-Switchboard-Context"
VERSION = "1"
MAX_VALUE = 256  # characters of the unescaped value; a longer one is ignored whole
KINDS = ("blind", "consulted")

_ALLOWED = re.compile(r"^[A-Za-z0-9=;/+_.\-]*$")
_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}")
_CRM = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")
_NUMBER = re.compile(r"^\+?[0-9]{2,16}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PERSON_KINDS = frozenset({RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD})


@dataclass(frozen=True)
class TransferContext:
    """Which CRM record and case a transferred call is about, and the customer's number."""

    crm: str
    record: RecordRef | None = None  # a contact, account or lead
    case_id: str = ""
    number: str = ""  # the customer's E.164 number
    kind: str = ""  # "blind" / "consulted"

    @property
    def case(self) -> RecordRef | None:
        return RecordRef(RecordKind.CASE, self.case_id) if self.case_id else None

    @property
    def refs(self) -> tuple[RecordRef, ...]:
        """The records the target opens and logs the call on, case last."""
        return tuple(r for r in (self.record, self.case) if r is not None)


def encode(ctx: TransferContext) -> str:
    """The header value for `ctx`; raises ValueError for a context that would not parse
    back (the sender's bug, never sent)."""
    parts = [f"v={VERSION}", f"crm={ctx.crm}"]
    if ctx.record is not None:
        parts.append(f"record={ctx.record}")
    if ctx.case_id:
        parts.append(f"case={ctx.case_id}")
    if ctx.number:
        parts.append(f"number={ctx.number}")
    if ctx.kind:
        parts.append(f"kind={ctx.kind}")
    value = ";".join(parts)
    if decode(value) != ctx:
        raise ValueError(f"transfer context {ctx!r} cannot be sent")
    return value


def decode(value: str | None) -> TransferContext | None:
    """The context in a received header value, or None when there is none or it is not
    one we trust to be well formed (see the module docstring)."""
    if not value:
        return None
    text = value.strip()
    if len(text) > 3 * MAX_VALUE:
        return None
    if "%" in text:
        if _ESCAPED.sub("", text).count("%"):
            return None  # a lone or malformed escape
        text = unquote(text)
    if len(text) > MAX_VALUE or not _ALLOWED.match(text):
        return None
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, val = part.partition("=")
        if not sep or not key or key in fields:
            return None
        fields[key] = val
    if fields.get("v") != VERSION or not _CRM.match(fields.get("crm", "")):
        return None
    record: RecordRef | None = None
    if "record" in fields:
        try:
            record = RecordRef.parse(fields["record"])
        except CrmError:
            return None
        if record.kind not in _PERSON_KINDS:
            return None
    case_id = fields.get("case", "")
    number = fields.get("number", "")
    kind = fields.get("kind", "")
    if (case_id and not _ID.match(case_id)) or (number and not _NUMBER.match(number)) \
            or (kind and kind not in KINDS):
        return None
    if record is None and not case_id and not number:
        return None  # nothing to go on
    return TransferContext(fields["crm"], record, case_id, number, kind)


def usable_number(number: str) -> str:
    """`number` when the header may carry it (an E.164-like number), else ""."""
    return number if _NUMBER.match(number or "") else ""


def fits(ctx: TransferContext, caller_number: str, region: str = "FI") -> bool:
    """Whether `ctx` may be about a call from `caller_number`: a consultation comes from
    the colleague (any number); any other call must come from the context's number, when
    both are phone numbers."""
    if ctx.kind == "consulted" or not ctx.number or not usable_number(caller_number):
        return True
    return match_key(ctx.number, region) == match_key(caller_number, region)


def agrees(ctx: TransferContext, records: Sequence[Contact | Account | Lead | Case],
           region: str = "FI") -> bool:
    """Whether the records the target found for `ctx`'s ids are the customer's.

    Ids are only unique within one CRM database: two desktops with a built-in CRM each
    may both have a contact 1, and they need not be the same person. So a record is
    trusted only when it has the context's number among its phones (when both are
    known), and a case only when it belongs to that record (when it names a contact or
    an account). A shared CRM (one Salesforce org) always agrees with itself.
    """
    person = next((r for r in records if not isinstance(r, Case)), None)
    case = next((r for r in records if isinstance(r, Case)), None)
    if person is not None and ctx.number and person.phones:
        wanted = match_key(ctx.number, region)
        if wanted not in {match_key(p, region) for p in person.phones}:
            return False
    if case is not None and person is not None:
        owner = {Contact: case.contact_id, Account: case.account_id}.get(type(person))
        if owner is not None and owner != person.id:
            return False
    return True


def refer_to(uri: str, value: str) -> str:
    """The `Refer-To` value for a blind transfer to `uri` carrying `value` as an embedded
    header: name-addr form (a URI with `?` must be in angle brackets), the value escaped
    so that only unreserved characters and %XX remain."""
    uri = uri.strip()
    if uri.startswith("<") and uri.endswith(">"):
        uri = uri[1:-1]
    if not value:
        return uri
    joiner = "&" if "?" in uri else "?"
    return f"<{uri}{joiner}{HEADER}={quote(value, safe='')}>"


__all__ = ["HEADER", "KINDS", "MAX_VALUE", "TransferContext", "agrees", "decode", "encode",
           "fits", "refer_to", "usable_number"]
