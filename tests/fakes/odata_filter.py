"""The OData `$filter` subset the fake Dataverse understands, parsed strictly.

Follows "Filter rows" of the Dataverse Web API documentation
(learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows) and the
OData v4 URL conventions: `eq`/`ne`, `and`/`or`/`not`, parentheses, string literals in single
quotes with `''` for a quote, guids and numbers bare, `null`/`true`/`false`, and
`contains`/`startswith`/`endswith`, whose values are T-SQL LIKE patterns (`%`, `_`, `[...]`,
`[^...]`; a bracket escapes a wildcard). String comparison is case-insensitive, as the
document says. Error texts copy the documented ones ("There is an unterminated literal at
position N in '...'"); the syntax-error wording for other mistakes is our guess.

A client that forgets to escape a quote gets either a 400 or more rows than it asked for,
which is what the injection tests look for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) or b(r)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) and b(r)

_HEX = "[0-9a-fA-F]"
_TOKEN = re.compile(r"\s*(?:(?P<str>')|(?P<punct>[(),])"
                    rf"|(?P<lit>{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}|-?\d+)"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")
_FUNCTIONS = ("contains", "startswith", "endswith")


class FilterError(ValueError):
    """The filter is not valid; str() is the message Dataverse would put in the error body."""


def _like(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                neg = body.startswith("^") and len(body) > 1
                body = body[1:] if neg else body
                out.append("[" + ("^" if neg else "") + re.escape(body) + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


class _Parser:
    def __init__(self, text: str, fields: frozenset[str], entity: str) -> None:
        self.text, self.fields, self.entity = text, fields, entity
        self.tokens: list[tuple[str, Any, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                raise FilterError(f"Syntax error at position {pos} in '{text}'.")
            start = m.start(m.lastgroup or 0)
            if m.group("str") is not None:
                value, pos = self._string(start)
                self.tokens.append(("str", value, start))
                continue
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), start))
            pos = m.end()
        self.i = 0

    def _string(self, start: int) -> tuple[str, int]:
        out, pos = [], start + 1
        while True:
            if pos >= len(self.text):
                raise FilterError(f"There is an unterminated literal at position {start} in "
                                  f"'{self.text}'.")
            ch = self.text[pos]
            if ch == "'":
                if self.text[pos + 1:pos + 2] == "'":
                    out.append("'")
                    pos += 2
                    continue
                return "".join(out), pos + 1
            out.append(ch)
            pos += 1

    def _peek(self) -> tuple[str, Any, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, kind: str | None = None, value: str | None = None) -> tuple[str, Any, int]:
        tok = self._peek()
        if tok is None or (kind and tok[0] != kind) or (value and str(tok[1]).lower() != value):
            where = tok[2] if tok else len(self.text)
            raise FilterError(f"Syntax error at position {where} in '{self.text}'.")
        self.i += 1
        return tok

    def _field(self, name: str) -> str:
        if name not in self.fields:
            raise FilterError(f"Could not find a property named '{name}' on type "
                              f"'Microsoft.Dynamics.CRM.{self.entity}'.")
        return name

    def parse(self) -> Predicate:
        pred = self._or()
        if self._peek() is not None:
            raise FilterError(f"Syntax error at position {self._peek()[2]} in "  # type: ignore[index]
                              f"'{self.text}'.")
        return pred

    def _or(self) -> Predicate:
        left = self._and()
        while (tok := self._peek()) and tok[0] == "word" and tok[1] == "or":
            self.i += 1
            right, prev = self._and(), left
            left = _either(prev, right)
        return left

    def _and(self) -> Predicate:
        left = self._unary()
        while (tok := self._peek()) and tok[0] == "word" and tok[1] == "and":
            self.i += 1
            right, prev = self._unary(), left
            left = _both(prev, right)
        return left

    def _unary(self) -> Predicate:
        tok = self._peek()
        if tok and tok[0] == "word" and tok[1] == "not":
            self.i += 1
            inner = self._unary()
            return lambda r: not inner(r)
        if tok and tok[0] == "punct" and tok[1] == "(":
            self.i += 1
            inner = self._or()
            self._take("punct", ")")
            return inner
        if tok and tok[0] == "word" and tok[1] in _FUNCTIONS:
            return self._function()
        return self._comparison()

    def _function(self) -> Predicate:
        name = self._take("word")[1]
        self._take("punct", "(")
        field = self._field(self._take("word")[1])
        self._take("punct", ",")
        pattern = self._take("str")[1]
        self._take("punct", ")")
        wrapped = {"contains": f"%{pattern}%", "startswith": f"{pattern}%",
                   "endswith": f"%{pattern}"}[name]
        rx = _like(wrapped)
        return lambda r: isinstance(r.get(field), str) and rx.fullmatch(r[field]) is not None

    def _comparison(self) -> Predicate:
        field = self._field(self._take("word")[1])
        op = self._take("word")[1]
        if op not in ("eq", "ne"):
            raise FilterError(f"Syntax error: the operator '{op}' is not supported here in "
                              f"'{self.text}'.")
        kind, raw, _ = self._take()
        value: Any
        if kind == "str":
            value = raw.lower()
        elif kind == "word" and raw in ("null", "true", "false"):
            value = {"null": None, "true": True, "false": False}[raw]
        elif kind in ("lit", "word"):
            value = int(raw) if re.fullmatch(r"-?\d+", raw) else raw.lower()
        else:
            raise FilterError(f"Syntax error at position {self.tokens[self.i - 1][2]} in "
                              f"'{self.text}'.")

        def current(r: Record) -> Any:
            v = r.get(field)
            return v.lower() if isinstance(v, str) else v

        if op == "eq":
            return lambda r: current(r) == value
        return lambda r: current(r) != value


def compile_filter(text: str, fields: frozenset[str], entity: str) -> Predicate:
    """A predicate over records, or FilterError with Dataverse's wording."""
    return _Parser(text, fields, entity).parse()
