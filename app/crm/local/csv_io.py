"""Import contacts, accounts and leads into the built-in CRM from CSV, and export them.

Column mapping (the first line names the columns; case, spaces and dashes do not matter):

====================  ===================================================================
column                meaning
====================  ===================================================================
type                  `contact` (default), `account` or `lead`
first_name            first name (also: firstname, given_name)
last_name             last name (also: lastname, surname, family_name)
name                  full name of a contact/lead (split at the last space) or an
                      account's name
company               contact: the account to link (created when missing); lead: its
                      company; account: its name (also: account, account_name,
                      organisation, organization)
email                 email address (also: e_mail, email_address)
phone, mobile, work_phone, home_phone, phone2, phone3, fax
                      phone numbers in any written form ("040 123 4567", "+358…"),
                      or RFC 3966 `tel:` URIs ("tel:+358-40-555-0123;ext=12", read by
                      the same strict parser as tel: links, app/core/links.py; the
                      extension and other parameters are dropped, as when dialling)
phones                several numbers separated by `;` (what export writes); a `tel:`
                      URI's own `;name=value` parameters stay with it
title                 contact's job title
website               account's web site
status                lead status (default `open`)
====================  ===================================================================

A contact's `company` links it to the account of that name (created when missing); an
account row for a company an earlier contact already named fills in that account instead
of adding a second one. Unknown columns (such as the `id` that export writes) are ignored
and named in the report. The whole import is one
transaction: a failure part-way (disk full, the database locked, the progress callback
raising to cancel) leaves the CRM exactly as it was. Rows that are wrong (wrong number of
values, a bad email, letters in a number, not UTF-8, a field too long) are skipped and
reported with their line number; the rest are imported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from app.core.crm import CrmError, CrmUnavailable, NewAccount, NewContact, NewLead
from app.core.links import LinkRefused, parse_link
from app.crm.local.store import LocalStore

Progress = Callable[[int, int], None]  # (bytes read, file size)

ALIASES: dict[str, str] = {
    "type": "type", "kind": "type", "record_type": "type",
    "first_name": "first_name", "firstname": "first_name", "given_name": "first_name",
    "last_name": "last_name", "lastname": "last_name", "surname": "last_name",
    "family_name": "last_name",
    "name": "name", "full_name": "name",
    "company": "company", "account": "company", "account_name": "company",
    "organisation": "company", "organization": "company",
    "email": "email", "e_mail": "email", "email_address": "email",
    "title": "title", "job_title": "title",
    "website": "website", "web_site": "website", "url": "website",
    "status": "status",
    "phones": "phones",
}
PHONE_COLUMNS = ("phone", "mobile", "work_phone", "home_phone", "phone2", "phone3", "fax",
                 "mobile_phone", "telephone", "tel")
PROGRESS_EVERY = 500  # rows between progress callbacks
_SURROGATE = re.compile("[\udc80-\udcff]")
_TEL = re.compile(r"^\s*tel:", re.IGNORECASE)
_TEL_PARAM_START = re.compile(r"^\s*[A-Za-z][A-Za-z0-9\-]*(=|\s*$)")  # numbers start otherwise


class CsvFormatError(CrmError):
    """The file as a whole cannot be imported (empty, no header); nothing was imported."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    contacts: int = 0
    accounts: int = 0  # includes accounts created for a contact's `company`
    leads: int = 0
    skipped: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.contacts + self.accounts + self.leads

    def summary(self) -> str:
        text = (f"Imported {self.contacts} contacts, {self.accounts} accounts and "
                f"{self.leads} leads; skipped {len(self.skipped)} rows.")
        if self.ignored_columns:
            text += f" Ignored columns: {', '.join(self.ignored_columns)}."
        return text


def _column(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _map_header(header: list[str]) -> tuple[list[str | None], list[str]]:
    mapped: list[str | None] = []
    ignored: list[str] = []
    for raw in header:
        col = _column(raw)
        if col in ALIASES:
            mapped.append(ALIASES[col])
        elif col in PHONE_COLUMNS:
            mapped.append("phone")
        else:
            mapped.append(None)
            if raw.strip():
                ignored.append(raw.strip())
    return mapped, ignored


def _rows(text: TextIO) -> Iterator[tuple[int, list[str] | None, str]]:
    """(first line of the record, values or None, problem) for each CSV record."""
    reader = csv.reader(text)
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, f"cannot be read as CSV ({exc})"
            line = reader.line_num + 1
            continue
        yield line, values, ""
        line = reader.line_num + 1


def split_phones(value: str) -> list[str]:
    """A `phones` cell → its numbers: split at `;`, but a `tel:` URI keeps its parameters."""
    parts: list[str] = []
    for part in value.split(";"):
        if parts and _TEL.match(parts[-1]) and _TEL_PARAM_START.match(part):
            parts[-1] += ";" + part
        elif part.strip():
            parts.append(part)
    return parts


def phone_from_cell(value: str, region: str) -> str:
    """A phone cell as the CRM stores it: a `tel:` URI becomes its number, else unchanged.

    The URI goes through the strict link parser (the one rule for tel: in the app); a URI
    it refuses makes the row a problem (CrmError) rather than a number with letters in it.
    """
    if not _TEL.match(value):
        return value
    try:
        target = parse_link(value.strip(), region)
    except LinkRefused as exc:
        raise CrmError(str(exc)) from None
    if target.kind != "number":  # tel: always parses to a number; be sure, not sorry
        raise CrmError(f"{value!r} is not a phone number")
    return target.value


def _split_name(full: str) -> tuple[str, str]:
    first, _, last = full.strip().rpartition(" ")
    return (first, last) if first else ("", last)


class _Importer:
    def __init__(self, store: LocalStore, report: ImportReport) -> None:
        self.store = store
        self.report = report
        self.account_ids: dict[str, str] = {}
        self.new_keys: list[str] = []  # accounts remembered while importing the current row
        self.stubs: set[str] = set()  # accounts made only from a contact's `company`

    def account_for(self, name: str) -> str:
        key = name.casefold()
        if key not in self.account_ids:
            found = [a for a in self.store.search(name).accounts if a.name.casefold() == key]
            if found:
                self.account_ids[key] = found[0].id
            else:
                self.account_ids[key] = self.store.create_account(NewAccount(name)).id
                self.new_keys.append(key)
                self.stubs.add(key)
                self.report.accounts += 1
        return self.account_ids[key]

    def row(self, rec: dict[str, str], cells: tuple[str, ...]) -> None:
        phones = tuple(phone_from_cell(cell, self.store.region) for cell in cells)
        kind = (rec.get("type") or "contact").strip().lower()
        first, last = rec.get("first_name", ""), rec.get("last_name", "")
        if not (first or last) and rec.get("name") and kind != "account":
            first, last = _split_name(rec["name"])
        email, company = rec.get("email", ""), rec.get("company", "")
        if kind == "contact":
            account_id = self.account_for(company) if company else None
            self.store.create_contact(NewContact(first, last, email, rec.get("title", ""),
                                                 account_id, phones))
            self.report.contacts += 1
        elif kind == "account":
            name = rec.get("name") or company
            key = name.casefold()
            if key in self.stubs:
                # An earlier contact named this company: fill that account in rather
                # than making a second one with the same name.
                self.store.update_account(self.account_ids[key], email=email,
                                          website=rec.get("website", ""), phones=phones)
                self.stubs.discard(key)
                return
            created = self.store.create_account(NewAccount(name, email,
                                                           rec.get("website", ""), phones))
            self.report.accounts += 1
            if created.name.casefold() not in self.account_ids:  # later rows link to it
                self.account_ids[created.name.casefold()] = created.id
                self.new_keys.append(created.name.casefold())
        elif kind == "lead":
            self.store.create_lead(NewLead(first, last, company, email, phones))
            self.report.leads += 1
        else:
            raise CrmError(f"type {kind!r} is not contact, account or lead")


def import_csv(store: LocalStore, path: Path | str, progress: Progress | None = None
               ) -> ImportReport:
    """Import `path` into `store` in one transaction; see the module docstring for columns.

    Raises CsvFormatError when the file as a whole is unusable, CrmUnavailable when the
    database is; in both cases nothing is imported.
    """
    path = Path(path)
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise CsvFormatError(f"cannot open {path}: {exc.strerror or exc}") from exc
    with raw:
        total = path.stat().st_size
        if total == 0:
            raise CsvFormatError(f"{path} is empty; nothing was imported")
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape",
                                newline="")
        rows = _rows(text)
        header = next((values for _, values, _ in rows if values), None)
        if header is None:
            raise CsvFormatError(f"{path} has no rows; nothing was imported")
        columns, ignored = _map_header(header)
        named = {c for c in columns if c}
        if not named or (named <= {"type", "status"}):
            raise CsvFormatError(
                f"the first line of {path} must name the columns (for example "
                f"first_name,last_name,company,email,phone); it reads {','.join(header)!r}")
        report = ImportReport(ignored_columns=ignored)
        importer = _Importer(store, report)
        done = 0
        with store.transaction() as conn:
            for line, values, problem in rows:
                if values is not None and not any(v.strip() for v in values):
                    continue  # blank line
                problem = problem or _row_problem(values, len(header))
                if problem:
                    report.skipped.append(RowProblem(line, problem))
                    continue
                assert values is not None
                rec: dict[str, str] = {}
                phones: list[str] = []
                for col, value in zip(columns, values, strict=True):
                    value = value.strip()
                    if col == "phone" and value:
                        phones.append(value)
                    elif col == "phones":
                        phones.extend(split_phones(value))
                    elif col and value:
                        rec.setdefault(col, value)
                before = (report.contacts, report.accounts, report.leads)
                importer.new_keys = []
                conn.execute("SAVEPOINT csv_row")
                try:
                    importer.row(rec, tuple(phones))
                except CrmUnavailable:
                    raise  # the database, not the row: roll the whole import back
                except CrmError as exc:
                    # The row may have created its account before failing: undo both the
                    # rows and what we remembered about them.
                    conn.execute("ROLLBACK TO csv_row")
                    report.contacts, report.accounts, report.leads = before
                    for key in importer.new_keys:
                        importer.account_ids.pop(key, None)
                    report.skipped.append(RowProblem(line, str(exc)))
                finally:
                    conn.execute("RELEASE csv_row")
                done += 1
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress(min(raw.tell(), total), total)
        if progress is not None:
            progress(total, total)
        return report


def _row_problem(values: list[str] | None, width: int) -> str:
    if values is None:
        return "cannot be read as CSV"
    if len(values) != width:
        return f"has {len(values)} values but the header has {width} columns"
    if any(_SURROGATE.search(v) for v in values):
        return "is not UTF-8 text (save the file as CSV UTF-8 and import it again)"
    return ""


EXPORT_COLUMNS = ("type", "id", "first_name", "last_name", "name", "company", "email",
                  "title", "website", "status", "phones")


def export_csv(store: LocalStore, out: Path | str | TextIO) -> int:
    """Write every account, contact and lead as CSV that import_csv reads back.

    Accounts come first so re-importing links contacts to them. Returns the rows written.
    """
    if isinstance(out, (str, Path)):
        with Path(out).open("w", encoding="utf-8", newline="") as f:
            return export_csv(store, f)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    phones = ("(SELECT group_concat(number, ';') FROM phones p WHERE p.kind = '{k}' "
              "AND p.record_id = {t}.id)")
    queries = (
        f"SELECT 'account', a.id, '', '', a.name, '', a.email, '', a.website, '', "
        f"{phones.format(k='account', t='a')} FROM accounts a ORDER BY a.id",
        f"SELECT 'contact', c.id, c.first_name, c.last_name, '', coalesce(a.name, ''), "
        f"c.email, c.title, '', '', {phones.format(k='contact', t='c')} "
        f"FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id ORDER BY c.id",
        f"SELECT 'lead', l.id, l.first_name, l.last_name, '', l.company, l.email, '', '', "
        f"l.status, {phones.format(k='lead', t='l')} FROM leads l ORDER BY l.id",
    )
    written = 0
    with store._db() as conn:  # one read snapshot for the whole export
        conn.execute("BEGIN")
        try:
            for sql in queries:
                for row in conn.execute(sql):
                    writer.writerow(["" if v is None else v for v in row])
                    written += 1
        finally:
            conn.execute("COMMIT")
    return written
