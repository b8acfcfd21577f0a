"""Read queries of the built-in CRM: rows → the frozen records of app.core.crm.

Kept apart from store.py so the store reads as "what the CRM does" and this module as
"how a row becomes a record". Every function takes an open sqlite3 connection.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from app.core.crm import (
    MAX_MATCHES,
    Account,
    CallActivity,
    Case,
    Contact,
    IdentifyResult,
    Lead,
    RecordKind,
    RecordNotFound,
    RecordRef,
    SearchResult,
    Task,
)

__all__ = ["SearchResult", "accounts", "cases", "contacts", "insert_task", "leads", "search",
           "tasks", "tasks_where"]

_TOP = "\U0010ffff"  # sorts after every character: `x <= col < x+_TOP` is a prefix range


def _marks(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


def _phones(conn: sqlite3.Connection, kind: RecordKind,
            ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if ids:
        for rid, number in conn.execute(
                f"SELECT record_id, number FROM phones INDEXED BY phones_record "
                f"WHERE kind = ? AND record_id IN ({_marks(ids)})", (kind.value, *ids)):
            found.setdefault(rid, []).append(number)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _ordered(rows: Iterable[sqlite3.Row | tuple], ids: Sequence[int]) -> list[tuple]:
    by_id = {r[0]: tuple(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def contacts(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[Contact, ...]:
    if not ids:
        return ()
    rows = conn.execute(
        "SELECT c.id, c.first_name, c.last_name, c.email, c.title, c.account_id, "
        f"coalesce(a.name, '') FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id "
        f"WHERE c.id IN ({_marks(ids)})", tuple(ids))
    phones = _phones(conn, RecordKind.CONTACT, ids)
    return tuple(Contact(str(r[0]), r[1], r[2], r[3], r[4],
                         None if r[5] is None else str(r[5]), r[6], phones.get(r[0], ()))
                 for r in _ordered(rows, ids))


def accounts(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[Account, ...]:
    if not ids:
        return ()
    rows = conn.execute(f"SELECT id, name, email, website FROM accounts WHERE id IN "
                        f"({_marks(ids)})", tuple(ids))
    phones = _phones(conn, RecordKind.ACCOUNT, ids)
    return tuple(Account(str(r[0]), r[1], r[2], r[3], phones.get(r[0], ()))
                 for r in _ordered(rows, ids))


def leads(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[Lead, ...]:
    if not ids:
        return ()
    rows = conn.execute(f"SELECT id, first_name, last_name, company, email, status FROM leads "
                        f"WHERE id IN ({_marks(ids)})", tuple(ids))
    phones = _phones(conn, RecordKind.LEAD, ids)
    return tuple(Lead(str(r[0]), r[1], r[2], r[3], r[4], r[5], phones.get(r[0], ()))
                 for r in _ordered(rows, ids))


def _case(r: tuple) -> Case:
    return Case(str(r[0]), r[1], r[2], r[3], r[4], None if r[5] is None else str(r[5]),
                None if r[6] is None else str(r[6]), datetime.fromisoformat(r[7]))


_CASE_COLS = "id, number, subject, status, description, contact_id, account_id, modified_at"


def cases(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[Case, ...]:
    if not ids:
        return ()
    rows = conn.execute(f"SELECT {_CASE_COLS} FROM cases WHERE id IN ({_marks(ids)})",
                        tuple(ids))
    return tuple(_case(r) for r in _ordered(rows, ids))


def cases_where(conn: sqlite3.Connection, where: str, args: tuple, limit: int
                ) -> tuple[Case, ...]:
    rows = conn.execute(f"SELECT {_CASE_COLS} FROM cases WHERE {where} "
                        "ORDER BY modified_at DESC, id DESC LIMIT ?", (*args, limit))
    return tuple(_case(tuple(r)) for r in rows)


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _task(r: tuple) -> Task:
    return Task(str(r[0]), r[1], r[2], _when(r[3]), r[4],
                None if r[5] is None else str(r[5]), None if r[6] is None else str(r[6]),
                _when(r[7]), _when(r[8]))


_TASK_COLS = ("id, subject, description, due_at, status, contact_id, account_id, "
              "created_at, modified_at")


def tasks(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[Task, ...]:
    if not ids:
        return ()
    rows = conn.execute(f"SELECT {_TASK_COLS} FROM tasks WHERE id IN ({_marks(ids)})",
                        tuple(ids))
    return tuple(_task(r) for r in _ordered(rows, ids))


def tasks_where(conn: sqlite3.Connection, where: str, args: tuple, limit: int
                ) -> tuple[Task, ...]:
    """Tasks matching `where`, soonest due first (those without a due time last)."""
    rows = conn.execute(f"SELECT {_TASK_COLS} FROM tasks WHERE {where} "
                        "ORDER BY due_at IS NULL, due_at, id LIMIT ?", (*args, limit))
    return tuple(_task(tuple(r)) for r in rows)


def insert_task(conn: sqlite3.Connection, subject: str, description: str,
                due_at: datetime | None, contact_id: int | None, account_id: int | None,
                ts: str) -> Task:
    """Write one open task (the caller checked the text) and read it back.

    A contact without an account given brings its own account, as a case does.
    """
    if contact_id is not None:
        row = conn.execute("SELECT account_id FROM contacts WHERE id = ?",
                           (contact_id,)).fetchone()
        if row is None:
            raise RecordNotFound(f"the contact {contact_id} is not in the CRM")
        account_id = row[0] if account_id is None else account_id
    cur = conn.execute(
        "INSERT INTO tasks (subject, description, due_at, status, contact_id, account_id, "
        "created_at, modified_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
        (subject, description, None if due_at is None else due_at.isoformat(), contact_id,
         account_id, ts, ts))
    return tasks(conn, [int(cur.lastrowid or 0)])[0]


_ACT_COLS = ("id, call_id, subject, direction, result, started_at, ended_at, "
             "duration_seconds, caller_number, display_number, queue, queue_wait_seconds, "
             "notes, recording_url, transferred_to, transfer_kind, transferred_at")


def activities(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[CallActivity, ...]:
    if not ids:
        return ()
    rows = _ordered(conn.execute(f"SELECT {_ACT_COLS} FROM activities WHERE id IN "
                                 f"({_marks(ids)})", tuple(ids)), ids)
    links: dict[int, list[RecordRef]] = {}
    for aid, kind, rid in conn.execute(f"SELECT activity_id, kind, record_id FROM "
                                       f"activity_links WHERE activity_id IN ({_marks(ids)})",
                                       tuple(ids)):
        links.setdefault(aid, []).append(RecordRef(RecordKind(kind), rid))
    return tuple(CallActivity(
        call_id=r[1], subject=r[2], direction=r[3], result=r[4],
        started_at=datetime.fromisoformat(r[5]), ended_at=datetime.fromisoformat(r[6]),
        duration_seconds=r[7], caller_number=r[8], display_number=r[9], queue=r[10],
        queue_wait_seconds=r[11], notes=r[12], recording_url=r[13],
        transferred_to=r[14], transfer_kind=r[15],
        transferred_at=r[16] or "",
        regarding=tuple(links.get(r[0], ()))) for r in rows)


def activities_for(conn: sqlite3.Connection, ref: RecordRef, limit: int
                   ) -> tuple[CallActivity, ...]:
    rows = conn.execute("SELECT l.activity_id FROM activity_links l JOIN activities a ON "
                        "a.id = l.activity_id WHERE l.kind = ? AND l.record_id = ? "
                        "ORDER BY a.started_at DESC LIMIT ?", (ref.kind.value, ref.id, limit))
    return activities(conn, [r[0] for r in rows])


def _prefix_ids(conn: sqlite3.Connection, table: str, column: str, prefix: str,
                extra: str = "", extra_args: tuple = ()) -> list[int]:
    sql = (f"SELECT id FROM {table} WHERE {column} >= ? AND {column} < ? {extra} "
           f"ORDER BY {column} LIMIT ?")
    return [r[0] for r in conn.execute(sql, (prefix, prefix + _TOP, *extra_args,
                                             MAX_MATCHES))]


def _union(*lists: list[int]) -> list[int]:
    seen: dict[int, None] = {}
    for ids in lists:
        for i in ids:
            seen.setdefault(i, None)
    return list(seen)[:MAX_MATCHES]


def _people(conn: sqlite3.Connection, table: str, words: list[str]) -> list[int]:
    if len(words) >= 2:
        first, last = words[0], " ".join(words[1:])
        both = "AND last_name >= ? AND last_name < ?"
        return _union(_prefix_ids(conn, table, "first_name", first, both, (last, last + _TOP)),
                      _prefix_ids(conn, table, "first_name", last, both,
                                  (first, first + _TOP)))
    word = words[0]
    return _union(_prefix_ids(conn, table, "last_name", word),
                  _prefix_ids(conn, table, "first_name", word),
                  _prefix_ids(conn, table, "email", word))


_CASE_NUMBER = re.compile(r"^(cs-?)?\d{1,9}$", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"^[0-9+()\-./\s]{6,}$")


def search(conn: sqlite3.Connection, text: str,
           identify: Callable[[str], IdentifyResult]) -> SearchResult:
    """Prefix search on names, company, email and case number; a number searches phones.
    A company's name also finds the contacts of that account."""
    found_cases: tuple[Case, ...] = ()
    if _CASE_NUMBER.match(text):
        digits = re.sub(r"\D", "", text)
        found_cases = cases_where(conn, "number = ?", (f"CS-{int(digits):06d}",), MAX_MATCHES)
    if _PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= 6:
        by_phone = identify(text)
        return SearchResult(by_phone.contacts, by_phone.accounts, by_phone.leads, found_cases)
    words = text.split()
    contact_ids = _people(conn, "contacts", words)
    lead_ids = _union(_people(conn, "leads", words),
                      _prefix_ids(conn, "leads", "company", text))
    account_ids = _union(_prefix_ids(conn, "accounts", "name", text),
                         _prefix_ids(conn, "accounts", "email", text))
    # A company's name finds its people too: agents search by who the caller works for.
    by_company = _prefix_ids(conn, "accounts", "name", text)
    if by_company:
        marks = ",".join("?" * len(by_company))
        contact_ids = _union(contact_ids, [r[0] for r in conn.execute(
            f"SELECT id FROM contacts WHERE account_id IN ({marks}) "
            "ORDER BY last_name, first_name LIMIT ?", (*by_company, MAX_MATCHES))])
    if not found_cases:
        found_cases = cases(conn, _prefix_ids(conn, "cases", "subject", text))
    return SearchResult(contacts(conn, contact_ids), accounts(conn, account_ids),
                        leads(conn, lead_ids), found_cases)
