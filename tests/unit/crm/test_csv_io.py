"""CSV import/export of the built-in CRM: bad rows skipped with line numbers, all or nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.crm import CrmUnavailable
from app.core.links import LinkRefused, parse_link
from app.crm.local import csv_io
from app.crm.local.csv_io import CsvFormatError, export_csv, import_csv
from app.crm.local.store import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "crm.sqlite3") as s:
        yield s


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


GOOD = """\
First Name,LAST_NAME,Company,E-mail,Phone,Mobile,Type,Notes
Matti,Meikäläinen,Acme Oy,matti@acme.fi,040 1234567,+358 50 765 4321,contact,vip
Maija,Mehiläinen,Acme Oy,maija@acme.fi,09 123 4567,,,
,,Acme Oy,info@acme.fi,09 765 4321,,account,
Liisa,Liidi,Prospect Oy,liisa@prospect.fi,0401112222,,lead,
"""


def test_import_maps_columns_case_insensitively(store: LocalStore, tmp_path: Path) -> None:
    report = import_csv(store, write(tmp_path, GOOD))
    assert (report.contacts, report.accounts, report.leads) == (2, 1, 1)
    assert report.skipped == []
    assert report.ignored_columns == ["Notes"]
    [matti] = store.identify("0507654321").contacts
    assert (matti.email, matti.account_name) == ("matti@acme.fi", "Acme Oy")
    assert store.identify("+358401234567").contacts == (matti,)
    [maija] = store.identify("091234567").contacts
    assert maija.account_id == matti.account_id  # one Acme Oy, linked by name
    [acme] = store.identify("097654321").accounts  # the account row filled it in
    assert (acme.id, acme.email) == (matti.account_id, "info@acme.fi")
    assert [lead.company for lead in store.identify("0401112222").leads] == ["Prospect Oy"]
    assert "Imported 2 contacts, 1 accounts and 1 leads" in report.summary()


def test_name_column_is_split_and_phones_column_takes_several(store: LocalStore,
                                                              tmp_path: Path) -> None:
    report = import_csv(store, write(tmp_path, "name,phones\n"
                                               "Anna Maria Virtanen,040 1111111;050 2222222\n"))
    assert report.contacts == 1
    [anna] = store.identify("0502222222").contacts
    assert (anna.first_name, anna.last_name) == ("Anna Maria", "Virtanen")
    assert anna.phones == ("+358401111111", "+358502222222")


def test_broken_rows_are_skipped_and_reported_with_line_numbers(
        store: LocalStore, tmp_path: Path) -> None:
    huge = "x" * 200_000  # beyond the csv module's field limit
    long = "y" * 20_000  # within it, beyond ours
    text = (
        "first_name,last_name,email,phone\n"       # 1
        "Good,One,good@one.fi,0401000001\n"        # 2
        "Too,Few\n"                                # 3
        "Bad,Email,not-an-email,0401000003\n"      # 4
        "Letters,InNumber,,040 12ab 567\n"         # 5
        f"Huge,{huge},,0401000006\n"               # 6
        "\n"                                       # 7 blank: ignored silently
        "Good,Two,,0401000008\n"                   # 8
        f"Long,{long},,0401000009\n"               # 9
        '"Multi\nLine",Name,,0401000011\n'         # 10-11: one record
        "Too,Many,a@b.fi,0401000012,extra\n"       # 12
    )
    body = text.encode("utf-8") + b"Latin,K\xe4ytt\xe4j\xe4,,0401000013\n"  # 13
    report = import_csv(store, write(tmp_path, body))
    problems = {p.line: p.message for p in report.skipped}
    assert sorted(problems) == [3, 4, 5, 6, 9, 12, 13]
    assert "2 values but the header has 4 columns" in problems[3]
    assert "not an email address" in problems[4]
    assert "letters" in problems[5]
    assert "field larger than field limit" in problems[6]
    assert "too long" in problems[9]
    assert "5 values" in problems[12]
    assert "not UTF-8" in problems[13]
    assert report.contacts == 3
    assert {c.last_name for c in store.search("good").contacts} == {"One", "Two"}
    assert [c.first_name for c in store.identify("0401000011").contacts] == ["Multi\nLine"]
    assert str(report.skipped[0]).startswith("line 3: ")


def test_bad_row_does_not_leave_its_account_behind(store: LocalStore, tmp_path: Path) -> None:
    report = import_csv(store, write(tmp_path, "first_name,company,email\n"
                                               "A,Ghost Oy,broken\n"
                                               "B,Real Oy,b@real.fi\n"))
    assert (report.contacts, report.accounts) == (1, 1)
    assert store.counts()["accounts"] == 1
    assert [a.name for a in store.search("real").accounts] == ["Real Oy"]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\n\n", "no rows"),
    (b"Matti,Meikalainen,0401234567\n", "must name the columns"),
    (b"type,status\ncontact,open\n", "must name the columns"),
])
def test_unusable_files_import_nothing(store: LocalStore, tmp_path: Path, content: bytes,
                                       message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        import_csv(store, write(tmp_path, content))
    assert sum(store.counts().values()) == 0


def test_missing_file_is_a_clear_error(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="cannot open"):
        import_csv(store, tmp_path / "nope.csv")


def test_failure_mid_import_rolls_everything_back(store: LocalStore, tmp_path: Path) -> None:
    rows = "".join(f"Person,{i},04010{i:05d}\n" for i in range(2000))
    path = write(tmp_path, "first_name,last_name,phone\n" + rows)
    calls: list[tuple[int, int]] = []

    def cancel(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the agent pressed Ctrl-C in the CLI

    with pytest.raises(KeyboardInterrupt):
        import_csv(store, path, progress=cancel)
    assert store.counts()["contacts"] == 0
    assert store.identify("0401000001").count == 0


def test_database_failure_mid_import_rolls_back(store: LocalStore, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "first_name,phone\n" + "".join(
        f"P{i},04020{i:05d}\n" for i in range(50)))
    real = store.create_contact
    made = []

    def flaky(new: object) -> object:
        if len(made) == 30:
            raise CrmUnavailable("disk I/O error")
        made.append(new)
        return real(new)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "create_contact", flaky)
    with pytest.raises(CrmUnavailable):
        import_csv(store, path)
    monkeypatch.undo()
    assert store.counts()["contacts"] == 0


def test_progress_reports_bytes_up_to_the_file_size(store: LocalStore, tmp_path: Path) -> None:
    rows = "".join(f"P,{i},04030{i:05d}\n" for i in range(1200))
    path = write(tmp_path, "first_name,last_name,phone\n" + rows)
    seen: list[tuple[int, int]] = []
    import_csv(store, path, progress=lambda d, t: seen.append((d, t)))
    size = path.stat().st_size
    assert len(seen) == 1200 // csv_io.PROGRESS_EVERY + 1
    assert all(t == size for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (size, size)


def test_export_then_import_round_trips(store: LocalStore, tmp_path: Path) -> None:
    import_csv(store, write(tmp_path, GOOD))
    out = io.StringIO()
    assert export_csv(store, out) == 4 + 0  # one account, two contacts, one lead
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(csv_io.EXPORT_COLUMNS)
    with LocalStore(tmp_path / "copy.sqlite3") as copy:
        report = import_csv(copy, write(tmp_path, text, "exported.csv"))
        assert (report.contacts, report.accounts, report.leads) == (2, 1, 1)
        assert report.ignored_columns == ["id"]
        [matti] = copy.identify("0507654321").contacts
        assert (matti.first_name, matti.account_name) == ("Matti", "Acme Oy")
    target = tmp_path / "out.csv"
    export_csv(store, target)
    assert target.read_text(encoding="utf-8") == text


def test_tel_uris_in_phone_columns_become_their_numbers(store: LocalStore,
                                                        tmp_path: Path) -> None:
    text = ("name,phone,mobile,work_phone,phones\n"
            "Aino Virtanen,tel:+358-40-555-0123,TEL:+358.50.765.4321;ext=12,"
            "tel:040-111-2222;phone-context=+358,tel:+358-9-123-4567;ext=3;040 3333333\n")
    report = import_csv(store, write(tmp_path, text))
    assert report.skipped == []
    [aino] = store.identify("+358405550123").contacts
    assert sorted(aino.phones) == ["+358401112222", "+358403333333", "+358405550123",
                                   "+358507654321", "+35891234567"]


@pytest.mark.parametrize("cell", ["tel:+358-40-5x5-0123", "tel:+358-40-555-0123;ma%zzddr",
                                  "tel:040-555-0123;phone-context=not a prefix"])
def test_a_tel_uri_the_link_parser_refuses_skips_its_row_with_the_parsers_reason(
        store: LocalStore, tmp_path: Path, cell: str) -> None:
    with pytest.raises(LinkRefused) as refused:
        parse_link(cell, "FI")
    report = import_csv(store, write(tmp_path, f"name,phone\nAino Virtanen,{cell}\n"
                                               "Eero Virtanen,tel:+358-40-555-0124\n"))
    assert [(p.line, p.message) for p in report.skipped] == [(2, str(refused.value))]
    assert report.contacts == 1


def test_phone_cells_without_tel_are_left_to_the_crm() -> None:
    assert csv_io.phone_from_cell("040 12ab 567", "FI") == "040 12ab 567"
    assert csv_io.split_phones("tel:+358401234567;ext=1;isub=2;050 1;;") == [
        "tel:+358401234567;ext=1;isub=2", "050 1"]
