"""Callback requests from the phone system become CRM cases or tasks, exactly once.

A caller who asks a queue to call back leaves a request (id, queue, time, number, maybe a
message and a recording). Each becomes a case or a task titled `CallBack - <date time>`,
linked to the caller's record when exactly one record matches the number and left
unlinked when none or many do; then the request is closed on the phone system with a note
saying what was created. A small SQLite table remembers handled ids, so a request that
comes back (the next poll, a restart, a failed close) is never created twice.

Blocking (CRM and phone-system calls, SQLite): run it off the GUI thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Protocol, runtime_checkable

from app.core.crm import Case, CrmError, IdentifyResult, NewCase, NewTask, Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackRequest:
    id: str
    queue: str
    requested_at: datetime
    number: str  # E.164 when the phone system gives one we can parse
    recording_url: str = ""
    message: str = ""


@runtime_checkable
class CallbackCrm(Protocol):
    """The part of app.core.crm.CrmBackend this module needs."""

    def identify(self, number: str) -> IdentifyResult: ...

    def create_case(self, new: NewCase) -> Case: ...

    def create_task(self, new: NewTask) -> Task: ...


CloseCallback = Callable[[str, str], None]  # (request id, note) → closes it on the phone system


@dataclass(frozen=True)
class Outcome:
    request_id: str
    created: str  # "case/12", "task/7", or "" when skipped
    linked: str  # "contact/3", "account/9", or "" when unlinked
    closed: bool
    skipped: bool = False  # handled before
    error: str = ""


class HandledStore:
    """Which requests are handled: created in the CRM, and closed on the phone system."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS callback_handled ("
                " request_id TEXT PRIMARY KEY, created TEXT NOT NULL, linked TEXT NOT NULL,"
                " handled_at TEXT NOT NULL, closed INTEGER NOT NULL DEFAULT 0)")

    def get(self, request_id: str) -> tuple[str, str, bool] | None:
        with self._lock:
            row = self._db.execute("SELECT created, linked, closed FROM callback_handled "
                                   "WHERE request_id = ?", (request_id,)).fetchone()
        return None if row is None else (row[0], row[1], bool(row[2]))

    def mark_created(self, request_id: str, created: str, linked: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO callback_handled (request_id, created, "
                             "linked, handled_at) VALUES (?, ?, ?, ?)",
                             (request_id, created, linked,
                              datetime.now(timezone.utc).isoformat()))

    def mark_closed(self, request_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE callback_handled SET closed = 1 WHERE request_id = ?",
                             (request_id,))

    def close(self) -> None:
        self._db.close()


def subject_for(request: CallbackRequest, tz: tzinfo | None = None) -> str:
    when = request.requested_at.astimezone(tz) if tz else request.requested_at.astimezone()
    return f"CallBack - {when:%Y-%m-%d %H:%M}"


def _link(result: IdentifyResult) -> tuple[str | None, str | None, str]:
    """(contact_id, account_id, "kind/id") when exactly one record matches, else unlinked."""
    if result.truncated or result.count != 1:
        return None, None, ""
    if result.contacts:
        c = result.contacts[0]
        return c.id, c.account_id, str(c.ref)
    if result.accounts:
        a = result.accounts[0]
        return None, a.id, str(a.ref)
    return None, None, ""  # a lead: cases and tasks cannot point at leads in every CRM


def _description(request: CallbackRequest) -> str:
    lines = [f"Callback request from {request.number or 'an unknown number'}",
             f"Queue: {request.queue}",
             f"Requested: {request.requested_at.isoformat()}"]
    if request.message:
        lines.append(f"Message: {request.message}")
    if request.recording_url:
        lines.append(f"Recording: {request.recording_url}")
    return "\n".join(lines)


class CallbackProcessor:
    """Turns callback requests into CRM records and closes them, idempotently."""

    def __init__(self, crm: CallbackCrm, close: CloseCallback, store: HandledStore, *,
                 target: str = "case", tz: tzinfo | None = None) -> None:
        if target not in ("case", "task"):
            raise ValueError(f"callback target must be case or task, not {target!r}")
        self._crm = crm
        self._close = close
        self._store = store
        self._target = target
        self._tz = tz

    def process_all(self, requests: list[CallbackRequest]) -> list[Outcome]:
        return [self.process(r) for r in requests]

    def process(self, request: CallbackRequest) -> Outcome:
        done = self._store.get(request.id)
        if done is not None and done[2]:
            return Outcome(request.id, done[0], done[1], closed=True, skipped=True)
        if done is None:
            try:
                created, linked = self._create(request)
            except CrmError as exc:  # CRM down or refusing: try again on the next round
                log.warning("callback %s not created in the CRM: %s", request.id, exc)
                return Outcome(request.id, "", "", closed=False, error=str(exc))
            self._store.mark_created(request.id, created, linked)
        else:
            created, linked = done[0], done[1]  # created earlier; only the close is left
        note = f"{created.split('/')[0].capitalize()} {created.split('/')[-1]} created in CRM"
        try:
            self._close(request.id, note)
        except Exception as exc:  # the phone system is down: closed on a later round
            log.warning("callback %s created as %s but not closed: %s", request.id, created,
                        exc)
            return Outcome(request.id, created, linked, closed=False,
                           skipped=done is not None, error=str(exc))
        self._store.mark_closed(request.id)
        return Outcome(request.id, created, linked, closed=True, skipped=done is not None)

    def _create(self, request: CallbackRequest) -> tuple[str, str]:
        result = self._crm.identify(request.number) if request.number else IdentifyResult("")
        contact_id, account_id, linked = _link(result)
        subject = subject_for(request, self._tz)
        description = _description(request)
        if self._target == "task":
            task = self._crm.create_task(NewTask(subject, description, contact_id,
                                                 account_id, request.requested_at))
            return f"task/{task.id}", linked
        case = self._crm.create_case(NewCase(subject, description, contact_id, account_id))
        return f"case/{case.id}", linked


__all__ = [
    "CallbackCrm",
    "CallbackProcessor",
    "CallbackRequest",
    "CloseCallback",
    "HandledStore",
    "NewTask",
    "Outcome",
    "subject_for",
]
