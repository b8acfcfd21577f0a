"""The built-in CRM store: identification by any written form, search, cases, activities,
errors an agent can act on, and the pages it renders."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.core.crm import (
    MAX_MATCHES,
    CallActivity,
    CrmBackend,
    CrmError,
    CrmUnavailable,
    NewAccount,
    NewCase,
    NewContact,
    NewLead,
    NewTask,
    RecordKind,
    RecordNotFound,
    RecordRef,
)
from app.crm.local import pages
from app.crm.local.schema import MIGRATIONS, SCHEMA_VERSION
from app.crm.local.store import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "crm.sqlite3", busy_timeout_ms=50) as s:
        yield s


def activity(call_id: str, regarding: tuple[RecordRef, ...] = ()) -> CallActivity:
    t = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    return CallActivity(call_id=call_id, subject="Call from x", direction="inbound",
                        result="answered", started_at=t, ended_at=t, duration_seconds=60,
                        caller_number="+358401234567", regarding=regarding)


def test_store_implements_the_backend_protocol(store: LocalStore) -> None:
    assert isinstance(store, CrmBackend)


@pytest.mark.parametrize("written", ["+358 40 123 4567", "040 1234567", "00358401234567",
                                     "040-123 45 67", "(040) 123 4567"])
@pytest.mark.parametrize("asked", ["+358401234567", "0401234567", "00358 40 1234567"])
def test_any_written_form_matches_any_other(store: LocalStore, written: str,
                                            asked: str) -> None:
    contact = store.create_contact(NewContact("Matti", "Meikäläinen", phones=(written,)))
    result = store.identify(asked)
    assert [c.id for c in result.contacts] == [contact.id]
    assert result.contacts[0].phones == ("+358401234567",)


def test_identify_zero_one_many_and_kinds(store: LocalStore) -> None:
    assert store.identify("+358401234567").count == 0
    assert store.identify("").count == 0
    assert store.identify("not a number").count == 0
    acme = store.create_account(NewAccount("Acme", phones=("09 123 4567",)))
    store.create_contact(NewContact("A", "One", account_id=acme.id, phones=("0401111111",)))
    store.create_contact(NewContact("B", "Two", phones=("0402222222",)))
    store.create_contact(NewContact("C", "Two", phones=("0402222222",)))
    store.create_lead(NewLead("D", "Lead", "Prospect Oy", phones=("0402222222",)))
    one = store.identify("0401111111")
    assert [c.name for c in one.contacts] == ["A One"]
    assert one.contacts[0].account_name == "Acme"
    many = store.identify("+358402222222")
    assert sorted(c.name for c in many.contacts) == ["B Two", "C Two"]
    assert [lead.company for lead in many.leads] == ["Prospect Oy"]
    assert [a.name for a in store.identify("+35891234567").accounts] == ["Acme"]


def test_identify_returns_at_most_ten_of_each_kind(store: LocalStore) -> None:
    for i in range(MAX_MATCHES + 3):
        store.create_contact(NewContact("Same", f"Number{i}", phones=("050 555 0000",)))
    result = store.identify("0505550000")
    assert len(result.contacts) == MAX_MATCHES
    assert result.truncated


def test_attach_number_makes_the_next_call_match(store: LocalStore) -> None:
    contact = store.create_contact(NewContact("New", "Number"))
    store.attach_number(contact.ref, "+358 50 999 8888")
    store.attach_number(contact.ref, "0509998888")  # same number again: no duplicate
    assert [c.id for c in store.identify("0509998888").contacts] == [contact.id]
    assert store.get(contact.ref).phones == ("+358509998888",)  # type: ignore[union-attr]
    with pytest.raises(CrmError, match="not a phone number"):
        store.attach_number(contact.ref, "call me maybe")
    with pytest.raises(RecordNotFound):
        store.attach_number(RecordRef(RecordKind.CONTACT, "999"), "0401234567")


def test_search_by_name_company_email_and_case_number(store: LocalStore) -> None:
    acme = store.create_account(NewAccount("Acme Oy", email="info@acme.fi"))
    ville = store.create_contact(NewContact("Ville", "Virtanen", "ville@acme.fi",
                                            account_id=acme.id))
    store.create_contact(NewContact("Anna", "Virtala"))
    store.create_lead(NewLead("Liisa", "Lead", "Virta Oy"))
    case = store.create_case(NewCase("Broken phone", contact_id=ville.id))
    assert {c.name for c in store.search("virt").contacts} == {"Ville Virtanen",
                                                                "Anna Virtala"}
    assert [c.name for c in store.search("Ville Virt").contacts] == ["Ville Virtanen"]
    assert [c.name for c in store.search("VILLE@").contacts] == ["Ville Virtanen"]
    assert [a.name for a in store.search("acme").accounts] == ["Acme Oy"]
    assert [lead.company for lead in store.search("Virta Oy").leads] == ["Virta Oy"]
    assert [c.id for c in store.search(case.number).cases] == [case.id]
    assert [c.id for c in store.search("cs-1").cases] == [case.id]
    assert [c.id for c in store.search("broken").cases] == [case.id]
    assert store.search("").empty
    assert store.search("%").empty  # no LIKE wildcards


def test_recent_cases_are_the_five_most_recently_modified(store: LocalStore) -> None:
    contact = store.create_contact(NewContact("Case", "Owner"))
    cases = [store.create_case(NewCase(f"Case {i}", contact_id=contact.id)) for i in range(7)]
    store.log_call_on_case(cases[0].id, activity("touch"))  # modifies the oldest case
    recent = store.recent_cases(contact.id)
    assert [c.subject for c in recent] == ["Case 0", "Case 6", "Case 5", "Case 4", "Case 3"]
    assert len(store.recent_cases(contact.id, limit=2)) == 2


def test_case_numbers_and_account_from_contact(store: LocalStore) -> None:
    acme = store.create_account(NewAccount("Acme"))
    contact = store.create_contact(NewContact("A", "B", account_id=acme.id))
    first = store.create_case(NewCase("One", contact_id=contact.id))
    second = store.create_case(NewCase(""))  # without identification
    assert (first.number, second.number) == ("CS-000001", "CS-000002")
    assert first.account_id == acme.id
    assert second.subject == "Phone call" and second.contact_id is None


def test_activity_created_once_per_call_and_updated(store: LocalStore) -> None:
    contact = store.create_contact(NewContact("A", "B"))
    first = store.create_activity(activity("call-1@pbx", (contact.ref,)))
    assert store.create_activity(activity("call-1@pbx")) == first
    assert store.find_activity("call-1@pbx") == first
    store.update_activity(first, {"recording_url": "https://rec/1", "queue_wait_seconds": 30})
    logged = store.get_activity(first)
    assert (logged.recording_url, logged.queue_wait_seconds) == ("https://rec/1", 30)
    assert logged.regarding == (contact.ref,)
    assert [a.call_id for a in store.activities_for(contact.ref)] == ["call-1@pbx"]
    with pytest.raises(CrmError, match="no field colour"):
        store.update_activity(first, {"colour": "red"})
    with pytest.raises(RecordNotFound):
        store.update_activity("999", {"notes": "x"})


@pytest.mark.parametrize("new, message", [
    (NewContact("", ""), "first or a last name"),
    (NewContact("A", "B", email="not-an-email"), "not an email address"),
    (NewContact("A", "B", phones=("040 12ab 567",)), "letters"),
    (NewContact("A" * 20_000, "B"), "too long"),
    (NewAccount(""), "needs a name"),
    (NewLead("", "", ""), "a name or a company"),
])
def test_invalid_records_are_refused_with_a_reason(store: LocalStore, new: object,
                                                   message: str) -> None:
    create = {NewContact: store.create_contact, NewAccount: store.create_account,
              NewLead: store.create_lead}[type(new)]
    with pytest.raises(CrmError, match=message):
        create(new)  # type: ignore[operator]
    assert sum(store.counts().values()) == 0


def test_missing_database_is_unavailable_not_created(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "gone" / "crm.sqlite3", create=False)
    with pytest.raises(CrmUnavailable, match="missing"):
        store.identify("0401234567")
    assert not (tmp_path / "gone").exists()


def test_locked_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    LocalStore(path).close()
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("PRAGMA user_version = 1")
    try:
        with pytest.raises(CrmUnavailable, match="locked by another program"):
            LocalStore(path, busy_timeout_ms=20).identify("0401234567")
    finally:
        locker.close()


def test_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CrmUnavailable, match="damaged or is not a database"):
        LocalStore(path).identify("0401234567")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CrmError, match="newer Switchboard"):
        LocalStore(path).identify("0401234567")


def test_create_task_links_contact_and_its_account(store: LocalStore) -> None:
    firm = store.create_account(NewAccount("Acme"))
    alice = store.create_contact(NewContact("Alice", "Smith", account_id=firm.id))
    due = datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc)
    task = store.create_task(NewTask("CallBack - 2026-03-02 12:30", "Call +358401234567",
                                     contact_id=alice.id, due_at=due))
    assert (task.subject, task.description, task.due_at, task.status) == (
        "CallBack - 2026-03-02 12:30", "Call +358401234567", due, "open")
    assert (task.contact_id, task.account_id) == (alice.id, firm.id)
    assert task.created_at is not None and task.modified_at is not None
    unlinked = store.create_task(NewTask("Ring back"))
    assert (unlinked.contact_id, unlinked.account_id, unlinked.due_at) == (None, None, None)
    assert store.open_tasks(alice.id) == (task,)
    with pytest.raises(RecordNotFound):
        store.create_task(NewTask("x", contact_id="999"))


def test_previous_schema_version_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):  # the database as version 1 left it
        if statement.strip():
            old.execute(statement)
    old.execute("INSERT INTO contacts (first_name, last_name, created_at, modified_at) "
                "VALUES ('Aino', 'Virtanen', '2026-01-01T00:00:00+00:00', "
                "'2026-01-01T00:00:00+00:00')")
    old.execute("INSERT INTO phones VALUES ('+358401234567', 'contact', 1, '+358401234567')")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    with LocalStore(path) as store:
        (aino,) = store.identify("040 1234567").contacts
        assert aino.name == "Aino Virtanen"
        task = store.create_task(NewTask("CallBack", contact_id=aino.id))
        assert store.open_tasks(aino.id) == (task,)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 1


def test_schema_is_wal_and_versioned(store: LocalStore) -> None:
    store.counts()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    plan = " ".join(str(r) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT record_id FROM phones WHERE key = ? AND kind = ?", ("x", "c")))
    assert "PRIMARY KEY" in plan  # a seek in the clustered key, not a scan
    conn.close()


def test_lookups_from_several_threads(store: LocalStore) -> None:
    store.create_contact(NewContact("Thread", "Safe", phones=("0401234567",)))
    results: list[int] = []

    def worker() -> None:
        for _ in range(20):
            results.append(store.identify("+358401234567").count)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1] * 80


def test_record_url_points_at_the_page(store: LocalStore) -> None:
    contact = store.create_contact(NewContact("A", "B"))
    assert store.record_url(contact.ref) == f"switchboard://crm/contact/{contact.id}"


def test_record_ref_parse_refuses_junk() -> None:
    assert RecordRef.parse("lead/12") == RecordRef(RecordKind.LEAD, "12")
    for junk in ("", "contact", "contact/", "planet/1", "contact/1 OR 1=1", "contact/../x"):
        with pytest.raises(CrmError):
            RecordRef.parse(junk)


# -- pages (pure render) ----------------------------------------------------------------


def test_pages_escape_everything_and_carry_a_strict_csp(store: LocalStore) -> None:
    evil = "<img src=x onerror=alert(1)>\"'&"
    contact = store.create_contact(NewContact(evil, evil, title=evil))
    mime, body = pages.render(f"/contact/{contact.id}", {}, store)
    text = body.decode()
    assert mime == "text/html"
    assert "<img" not in text and "onerror=alert(1)>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in text
    assert "script-src 'none'" in text and "default-src 'none'" in text
    assert "<script" not in text


def test_contact_page_lists_open_tasks_escaped(store: LocalStore) -> None:
    evil = "<img src=x onerror=alert(1)>\"'&"
    contact = store.create_contact(NewContact("Aino", "Virtanen"))
    empty = pages.render(f"/contact/{contact.id}", {}, store)[1].decode()
    assert "Open tasks" in empty and "No open tasks." in empty
    store.create_task(NewTask(f"CallBack {evil}", f"Message: {evil}", contact_id=contact.id,
                              due_at=datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc)))
    text = pages.render(f"/contact/{contact.id}", {}, store)[1].decode()
    assert "Open tasks" in text and "No open tasks." not in text
    assert "<img" not in text and "onerror=alert(1)>" not in text
    assert "CallBack &lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in text
    assert "Message: &lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in text


def test_dialog_shows_number_and_queue_or_direct(store: LocalStore) -> None:
    _, direct = pages.render("/dialog", {"kind": "case", "number": "+358401234567"}, store)
    assert '<span class="queue">Direct</span>' in direct.decode()
    assert '<span class="number">040 1234567</span>' in direct.decode()
    _, queued = pages.render("/dialog", {"kind": "contact_lead", "number": "0401234567",
                                         "queue": "Sales & <Support>"}, store)
    assert '<span class="queue">Sales &amp; &lt;Support&gt;</span>' in queued.decode()


def test_dialog_offers_match_the_workflow(store: LocalStore) -> None:
    contact = store.create_contact(NewContact("Only", "One", phones=("0401234567",)))
    _, case = pages.render("/dialog", {"kind": "case", "number": "0401234567", "call": "c1"},
                           store)
    html = case.decode()
    assert "switchboard://action/new-case?call=c1&amp;contact=" + contact.id in html
    assert "New case without identification" in html
    _, ca = pages.render("/dialog", {"kind": "contact_account", "number": "0409999999"},
                         store)
    assert "action/new-account" in ca.decode() and "action/new-lead" not in ca.decode()
    _, cl = pages.render("/dialog", {"kind": "contact_lead", "number": "0409999999",
                                     "q": "only"}, store)
    html = cl.decode()
    assert "action/new-lead" in html and "action/attach-number" in html  # update phone


def test_render_turns_crm_trouble_into_pages(tmp_path: Path, store: LocalStore) -> None:
    missing = LocalStore(tmp_path / "none" / "crm.sqlite3", create=False)
    _, body = pages.render("/contact/1", {}, missing)
    assert pages.NOT_REACHABLE in body.decode()
    _, body = pages.render("/contact/42", {}, store)
    assert "Record not found" in body.decode()
    _, body = pages.render("/../../etc/passwd", {}, store)
    assert "Page not found" in body.decode()
    mime, css = pages.render("/style.css", {}, store)
    assert mime == "text/css" and b"body" in css
