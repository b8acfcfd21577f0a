"""The data side of the fake Salesforce org: records, a SOQL subset, search, validation.

Shapes follow the Salesforce REST API Developer Guide ("Query", "Parameterized Search",
"sObject Basic Information", "Insert or Update (Upsert) a Record Using an External ID",
"Status Codes and Error Responses") and the Object Reference for Contact, Account, Lead,
Case, Task, UserServicePresence and ServicePresenceStatus.

GUESSES (marked so nobody mistakes them for Salesforce's behaviour):
- Phone search: a record matches when the digits of one of its phone fields END WITH the
  digits of the search term. Salesforce's real phone tokenisation is not documented.
- Text search (`in: ALL`): every word of the term must be a case-insensitive substring
  of one searchable field.
- Only the SOQL used by Switchboard is understood: SELECT fields (dotted parent fields
  allowed) FROM one object, WHERE `field op literal` joined by AND, ORDER BY one field,
  LIMIT. Anything else is 400 MALFORMED_QUERY, which makes a typo in our SOQL loud.
- Error messages are close to the real ones, not byte-identical.
"""

from __future__ import annotations

import copy
import itertools
import re
from datetime import datetime, timedelta, timezone
from typing import Any

PREFIX = {"Account": "001", "Contact": "003", "Lead": "00Q", "Case": "500", "Task": "00T",
          "User": "005", "UserServicePresence": "0Hn", "ServicePresenceStatus": "0N5"}
SYSTEM = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted")
FIELDS: dict[str, set[str]] = {
    "Account": {"Name", "Website", "Phone", "Description"},
    "Contact": {"FirstName", "LastName", "Email", "Title", "AccountId", "Phone", "MobilePhone",
                "HomePhone", "OtherPhone", "Description"},
    "Lead": {"FirstName", "LastName", "Company", "Email", "Status", "Phone", "MobilePhone",
             "IsConverted"},
    "Case": {"CaseNumber", "Subject", "Description", "Status", "Origin", "ContactId",
             "AccountId"},
    "Task": {"Subject", "Description", "Status", "ActivityDate", "WhoId", "WhatId",
             "TaskSubtype", "CallType", "CallDurationInSeconds", "CallObject",
             "CallDisposition", "OwnerId"},
    "User": {"Name"},
    "UserServicePresence": {"UserId", "ServicePresenceStatusId", "IsCurrentState",
                            "StatusStartDate"},
    "ServicePresenceStatus": {"DeveloperName", "MasterLabel"},
}
PHONES = {"Account": ("Phone",), "Contact": ("Phone", "MobilePhone", "HomePhone", "OtherPhone"),
          "Lead": ("Phone", "MobilePhone")}
TEXT = {"Account": ("Name", "Website"), "Contact": ("FirstName", "LastName", "Email", "Title"),
        "Lead": ("FirstName", "LastName", "Company", "Email"),
        "Case": ("CaseNumber", "Subject", "Description")}
REQUIRED = {"Account": ("Name",), "Contact": ("LastName",), "Lead": ("LastName", "Company")}
DEFAULTS: dict[str, dict[str, Any]] = {
    "Lead": {"IsConverted": False, "Status": "Open - Not Contacted"},
    "Task": {"Status": "Not Started", "TaskSubtype": "Task"}, "Case": {"Status": "New"}}
READ_ONLY = {"CaseNumber", *SYSTEM}
CREATE_ONLY = {"Task": {"TaskSubtype"}}  # Object Reference: TaskSubtype is Create, not Update
PICKLISTS = {("Task", "CallType"): {"Inbound", "Outbound", "Internal"},
             ("Task", "TaskSubtype"): {"Task", "Email", "ListEmail", "Cadence", "Call",
                                       "LinkedIn"}}
_SEARCH_ESCAPE = re.compile(r"\\(.)")
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>|,)"
                    r"|(?P<word>[A-Za-z_][\w.]*)|(?P<num>\d+))", re.S)
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b",
            "f": "\f", "_": "\\_", "%": "\\%"}


class ApiError(Exception):
    """An error answer: HTTP status and Salesforce's `[{"message", "errorCode"}]` body."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None,
                 body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else [
            {"message": message, "errorCode": code, **({"fields": fields} if fields else {})}]


class Org:
    """Records by object and id; not thread-safe on its own (the server holds a lock)."""

    def __init__(self, api_version: str = "62.0") -> None:
        self.api_version = api_version
        self.fields = {o: set(f) for o, f in FIELDS.items()}  # grows with custom fields
        self.records: dict[str, dict[str, dict[str, Any]]] = {o: {} for o in FIELDS}
        self.external_ids: dict[str, set[str]] = {}  # object → unique external-ID fields
        self._ids = itertools.count(1)
        self._case_numbers = itertools.count(1001)
        self._clock = datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc)

    # -- records ----------------------------------------------------------------------------

    def add_field(self, sobject: str, field: str) -> None:
        """A custom field the admin added (`Recording_URL__c`, say)."""
        self.fields[sobject].add(field)

    def add_external_id(self, sobject: str, field: str) -> None:
        self.fields[sobject].add(field)
        self.external_ids.setdefault(sobject, set()).add(field)

    def _now(self) -> str:
        # One second per write: "most recently modified" never ties.
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def new_id(self, sobject: str) -> str:
        return f"{PREFIX[sobject]}{next(self._ids):012d}AAA"

    def find(self, ident: str) -> tuple[str, dict[str, Any]] | None:
        for sobject, rows in self.records.items():
            if ident in rows:
                return sobject, rows[ident]
        return None

    def create(self, sobject: str, body: dict[str, Any], *, trusted: bool = False) -> str:
        self._check_object(sobject)
        if not trusted:
            self._validate(sobject, body, creating=True)
        for field in REQUIRED.get(sobject, ()):
            if not body.get(field):
                raise ApiError(400, "REQUIRED_FIELD_MISSING",
                               f"Required fields are missing: [{field}]", [field])
        for field in self.external_ids.get(sobject, ()):
            value = body.get(field)
            if value and any(r.get(field) == value for r in self.records[sobject].values()):
                raise ApiError(400, "DUPLICATE_VALUE", f"duplicate value found: {field} "
                               "duplicates value on record with id: (hidden)", [field])
        ident, now = self.new_id(sobject), self._now()
        row: dict[str, Any] = {f: None for f in self.fields[sobject]}
        row.update({"Id": ident, "CreatedDate": now, "LastModifiedDate": now,
                    "SystemModstamp": now, "IsDeleted": False})
        row.update(DEFAULTS.get(sobject, {}))
        if sobject == "Case":
            row["CaseNumber"] = f"{next(self._case_numbers):08d}"
        row.update(body)
        self.records[sobject][ident] = row
        return ident

    def update(self, sobject: str, ident: str, body: dict[str, Any]) -> None:
        self._check_object(sobject)
        row = self.records[sobject].get(ident)
        if row is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        self._validate(sobject, body, creating=False)
        row.update(body)
        row["LastModifiedDate"] = row["SystemModstamp"] = self._now()

    def upsert(self, sobject: str, field: str, value: str,
               body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self._check_object(sobject)
        if field not in self.external_ids.get(sobject, ()):
            raise ApiError(404, "NOT_FOUND", "Provided external ID field does not exist or is "
                           f"not accessible: {field}")
        matches = [i for i, r in self.records[sobject].items() if r.get(field) == value]
        if len(matches) > 1:
            raise ApiError(300, "MULTIPLE_CHOICES", "more than one record",
                           body=[f"/services/data/v{self.api_version}/sobjects/{sobject}/{i}"
                                 for i in matches])
        if matches:
            self.update(sobject, matches[0], body)
            return 200, {"id": matches[0], "success": True, "errors": [], "created": False}
        ident = self.create(sobject, {**body, field: value})
        return 201, {"id": ident, "success": True, "errors": [], "created": True}

    def _check_object(self, sobject: str) -> None:
        if sobject not in self.records:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _validate(self, sobject: str, body: dict[str, Any], *, creating: bool) -> None:
        for field, value in body.items():
            if field not in self.fields[sobject] and field not in SYSTEM:
                raise ApiError(400, "INVALID_FIELD",
                               f"No such column '{field}' on sobject of type {sobject}")
            if field in READ_ONLY or (not creating and field in CREATE_ONLY.get(sobject, ())):
                raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                               f"Unable to create/update fields: {field}. Please check the "
                               "security settings of this field and verify that it is "
                               "read/write for your profile or permission set.", [field])
            allowed = PICKLISTS.get((sobject, field))
            if allowed is not None and value not in allowed:
                raise ApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                               f"bad value for restricted picklist field: {value}", [field])
            if field.endswith("Id") and field != "Id" and value and self.find(value) is None:
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference "
                               "id", [field])
        who, what = body.get("WhoId"), body.get("WhatId")
        if sobject == "Task" and who and what and str(who).startswith(PREFIX["Lead"]):
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           "Related To ID: You can't associate a lead with a related record.",
                           ["WhatId"])

    # -- reading ----------------------------------------------------------------------------

    def shape(self, sobject: str, row: dict[str, Any], fields: list[str] | None) -> dict:
        out: dict[str, Any] = {"attributes": {
            "type": sobject,
            "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{row['Id']}"}}
        for field in fields or sorted(row):
            if "." in field:
                relation, _, child = field.partition(".")
                parent = self.find(str(row.get(f"{relation}Id") or ""))
                if parent is None:
                    out[relation] = None
                else:
                    nested = out.get(relation) or self.shape(parent[0], parent[1], [])
                    nested[child] = parent[1].get(child)
                    out[relation] = nested
            else:
                if field not in row:
                    raise ApiError(400, "INVALID_FIELD",
                                   f"No such column '{field}' on entity '{sobject}'")
                out[field] = row[field]
        return out

    def value(self, row: dict[str, Any], field: str) -> Any:
        if "." in field:
            relation, _, child = field.partition(".")
            parent = self.find(str(row.get(f"{relation}Id") or ""))
            return None if parent is None else parent[1].get(child)
        return row.get(field)

    def query(self, soql: str) -> dict[str, Any]:
        tokens = _tokens(soql)
        fields: list[str] = []
        _expect(tokens, "SELECT")
        while True:
            fields.append(_word(tokens))
            if not (tokens and tokens[0] == ("op", ",")):
                break
            tokens.pop(0)
        _expect(tokens, "FROM")
        sobject = _word(tokens)
        if sobject not in self.records:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        conditions = _where(tokens)
        order, descending, limit = None, False, None
        if _peek_word(tokens, "ORDER"):
            tokens.pop(0)
            _expect(tokens, "BY")
            order = _word(tokens)
            if _peek_word(tokens, "ASC") or _peek_word(tokens, "DESC"):
                descending = tokens.pop(0)[1].upper() == "DESC"
        if _peek_word(tokens, "LIMIT"):
            tokens.pop(0)
            kind, text = tokens.pop(0) if tokens else ("", "")
            if kind != "num":
                raise _malformed("LIMIT needs a number")
            limit = int(text)
        if tokens:
            raise _malformed(f"unexpected token: {tokens[0][1]}")
        rows = [r for r in self.records[sobject].values() if self.matches(r, conditions)]
        if order is not None:
            rows.sort(key=lambda r: (self.value(r, order) is None, self.value(r, order) or ""),
                      reverse=descending)
        rows = rows[:limit] if limit is not None else rows
        return {"totalSize": len(rows), "done": True,
                "records": [self.shape(sobject, r, fields) for r in rows]}

    def matches(self, row: dict[str, Any], conditions: list[tuple[str, str, Any]]) -> bool:
        for field, op, literal in conditions:
            value = self.value(row, field)
            if (op == "=" and value != literal) or (op == "!=" and value == literal):
                return False
        return True

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        q = body.get("q")
        if not isinstance(q, str) or len(q.strip()) < 2:
            raise ApiError(400, "INVALID_SEARCH", "search term must be longer than one "
                           "character")
        term = _SEARCH_ESCAPE.sub(r"\1", q).strip()
        scope = str(body.get("in", "ALL")).upper()
        out: list[dict[str, Any]] = []
        for spec in body.get("sobjects") or []:
            sobject = spec.get("name")
            if sobject not in self.records:
                raise ApiError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not "
                               "supported.")
            conditions = _where(_tokens("WHERE " + spec["where"])) if spec.get("where") else []
            hits = [r for r in self.records[sobject].values()
                    if self._found(sobject, r, term, scope) and self.matches(r, conditions)]
            limit = int(spec.get("limit") or body.get("defaultLimit") or 2000)
            out += [self.shape(sobject, r, spec.get("fields") or body.get("fields") or ["Id"])
                    for r in hits[:limit]]
        return {"searchRecords": out[:int(body.get("overallLimit") or 2000)]}

    def _found(self, sobject: str, row: dict[str, Any], term: str, scope: str) -> bool:
        phone_values = [re.sub(r"\D", "", str(row.get(f) or "")) for f in PHONES.get(sobject, ())]
        if scope == "PHONE":
            digits = re.sub(r"\D", "", term)
            return bool(digits) and any(v.endswith(digits) for v in phone_values if v)
        texts = [str(row.get(f) or "").casefold() for f in TEXT.get(sobject, ())]
        return all(any(w.casefold() in t for t in texts) for w in term.split())

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        return copy.deepcopy(self.records)


def _malformed(why: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", f"unexpected token or syntax: {why}")


def _tokens(soql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(soql):
        if soql[pos:].strip() == "":
            break
        match = _TOKEN.match(soql, pos)
        if match is None:
            raise _malformed(soql[pos:pos + 20])
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _expect(tokens: list[tuple[str, str]], word: str) -> None:
    if not _peek_word(tokens, word):
        raise _malformed(f"expected {word}")
    tokens.pop(0)


def _peek_word(tokens: list[tuple[str, str]], word: str) -> bool:
    return bool(tokens) and tokens[0][0] == "word" and tokens[0][1].upper() == word


def _word(tokens: list[tuple[str, str]]) -> str:
    if not tokens or tokens[0][0] != "word":
        raise _malformed("expected a name")
    return tokens.pop(0)[1]


def _literal(tokens: list[tuple[str, str]]) -> Any:
    if not tokens:
        raise _malformed("expected a value")
    kind, text = tokens.pop(0)
    if kind == "str":
        return _unquote(text)
    if kind == "num":
        return int(text)
    if kind == "word" and text.lower() in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[text.lower()]
    raise _malformed(f"bad value {text}")


def _unquote(text: str) -> str:
    out, chars = [], iter(text[1:-1])
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            if nxt not in _ESCAPES:
                raise _malformed(f"invalid escape \\{nxt}")
            out.append(_ESCAPES[nxt])
        else:
            out.append(c)
    return "".join(out)


def _where(tokens: list[tuple[str, str]]) -> list[tuple[str, str, Any]]:
    conditions: list[tuple[str, str, Any]] = []
    if not _peek_word(tokens, "WHERE"):
        return conditions
    tokens.pop(0)
    while True:
        field = _word(tokens)
        if not tokens or tokens[0][0] != "op" or tokens[0][1] not in ("=", "!="):
            raise _malformed("only = and != are understood")
        op = tokens.pop(0)[1]
        conditions.append((field, op, _literal(tokens)))
        if not _peek_word(tokens, "AND"):
            return conditions
        tokens.pop(0)
