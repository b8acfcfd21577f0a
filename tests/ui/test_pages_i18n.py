"""The built-in CRM's pages in Finnish: every word of pages.py through the Qt catalogue.

The pages are rendered by the pure `pages.render` with the same translate function the
app wires in (`app.compose.translate_page`) and a real LocalStore on a temporary file.
A Finnish page must contain no English text that the catalogue translates, and a
translation is escaped like data (it could contain `<` or `&`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.compose import translate_page
from app.core.crm import CallActivity, NewAccount, NewCase, NewContact, NewLead
from app.crm.local import pages
from app.crm.local.store import LocalStore
from app.i18n import catalogue, install_translator, remove_translators
from tests.ui.test_i18n import HAS_LUPDATE, _update_script, messages

CONTEXT = pages.TRANSLATION_CONTEXT
KNOWN = "0401234567"  # Aino Virtanen, Virtanen Oy
MANY = "0407654321"  # two contacts, an account and a lead
UNKNOWN = "0509999999"


@pytest.fixture
def finnish(qapp: QApplication) -> Iterator[None]:
    assert install_translator(qapp, "fi") == "fi"
    yield
    remove_translators(qapp)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "crm.sqlite3") as s:
        firm = s.create_account(NewAccount("Virtanen Oy", "info@virtanen.example",
                                           "https://virtanen.example", phones=("091234567",)))
        aino = s.create_contact(NewContact("Aino", "Virtanen", "aino@virtanen.example",
                                           "Toimitusjohtaja", firm.id, phones=(KNOWN,)))
        s.create_contact(NewContact("Pekka", "Mäki", account_id=firm.id, phones=(MANY,)))
        s.create_contact(NewContact("Liisa", "Mäki", phones=(MANY,)))
        s.create_account(NewAccount("Mäki Ky", phones=(MANY,)))
        s.create_lead(NewLead("Olli", "Oja", "Oja Tmi", phones=(MANY,)))
        case = s.create_case(NewCase("Laskun korjaus", "Väärä summa", contact_id=aino.id))
        t = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        call = CallActivity(call_id="c1", subject="Puhelu: Aino Virtanen",
                            direction="inbound", result="answered", started_at=t,
                            ended_at=t, duration_seconds=60, caller_number="+358401234567",
                            notes="Soittaa huomenna", regarding=(aino.ref,))
        s.create_activity(call)
        s.log_call_on_case(case.id, dataclasses.replace(call, call_id="c2"))
        yield s


class _Text(HTMLParser):
    """What an agent reads: text nodes, placeholders, the title and the lang attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        if found.get("placeholder"):
            self.chunks.append(found["placeholder"] or "")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.chunks.append(data.strip())


def read(body: bytes) -> _Text:
    parser = _Text()
    parser.feed(body.decode("utf-8"))
    return parser


def translated() -> dict[str, str]:
    """CrmPages source → Finnish, for every string the catalogue translates differently."""
    return {s: t for c, s, t in messages(catalogue("fi")) if c == CONTEXT and t and t != s}


def english_left(body: bytes) -> set[str]:
    """English sources that are on the page as a whole text, or (sentences) anywhere."""
    page = read(body)
    left = set(page.chunks) & set(translated())
    everywhere = " ".join(page.chunks)
    for source in translated():
        fixed = max(re.split(r"%[sd]", source), key=len).strip(" “”")
        if len(fixed) >= 10 and fixed in everywhere:
            left.add(source)
    return left


def render(store: LocalStore, path: str, **query: str) -> bytes:
    mime, body = pages.render(path, query, store, translate_page)
    assert mime == "text/html"
    return body


# -- pages in Finnish ---------------------------------------------------------------------

def test_record_pages_speak_finnish(finnish: None, store: LocalStore) -> None:
    aino = store.identify(KNOWN).contacts[0]
    body = render(store, f"/contact/{aino.id}")
    page = read(body)
    assert page.lang == "fi"
    for text in ("Yhteyshenkilö", "Titteli", "Asiakasyritys", "Sähköposti", "Puhelin",
                 "Viimeisimmät tapaukset", "Avoimet tehtävät", "Ei avoimia tehtäviä.",
                 "Puhelut"):
        assert text in page.chunks, text
    assert any("vastattu" in c for c in page.chunks)  # the call's result, in words
    assert any("avoin" in c for c in page.chunks)  # the case's status
    assert not english_left(body)
    case = store.recent_cases(aino.id)[0]
    firm = store.search("Virtanen Oy").accounts[0]
    lead = store.identify(MANY).leads[0]
    for path, words in [(f"/case/{case.id}", {"Tapaus", "Tila", "Kuvaus", "Tapauksen puhelut"}),
                        (f"/account/{firm.id}", {"Asiakasyritys", "Verkkosivusto",
                                                 "Yhteyshenkilöt", "Tapaukset"}),
                        (f"/lead/{lead.id}", {"Liidi", "Yritys", "Tila",
                                              "Puheluita ei ole vielä kirjattu."})]:
        body = render(store, path)
        assert words <= set(read(body).chunks), path
        assert not english_left(body), path


@pytest.mark.parametrize(("kind", "number", "expected"), [
    ("case", KNOWN, {"Tapaus", "Soittaja tunnistettu", "Valitse tapaus", "Uusi tapaus",
                     "Uusi tapaus ilman tunnistusta", "Soittaja", "Jono", "Suora puhelu",
                     "Hae CRM:stä", "Hae"}),
    ("case", UNKNOWN, {"Tuntematon soittaja", "Uusi tapaus"}),
    ("case", MANY, {"2 osumaa", "Kuka soittaa?", "Valitse", "Uusi tapaus ilman tunnistusta"}),
    ("contact_account", UNKNOWN, {"Yhteyshenkilö ja asiakasyritys", "Tuntematon soittaja",
                                  "Numerolla ei löytynyt tietuetta", "Uusi yhteyshenkilö",
                                  "Uusi asiakasyritys", "Etunimi", "Sukunimi",
                                  "Yrityksen nimi"}),
    ("contact_account", MANY, {"3 osumaa", "Avaa", "Uusi yhteyshenkilö"}),
    ("contact_lead", MANY, {"Yhteyshenkilö ja liidi", "3 osumaa", "Uusi liidi", "Yritys"}),
    ("phone_call", MANY, {"Puhelu", "4 osumaa", "Kirjaa puhelu tähän"}),
])
def test_dialogs_speak_finnish(finnish: None, store: LocalStore, kind: str, number: str,
                               expected: set[str]) -> None:
    body = render(store, "/dialog", kind=kind, number=number, call="c9")
    page = read(body)
    assert expected <= set(page.chunks), expected - set(page.chunks)
    assert "Nimi, yritys, sähköposti tai tapausnumero" in page.chunks  # the search hint
    assert page.lang == "fi"
    assert not english_left(body)


def test_search_results_and_update_phone_in_finnish(finnish: None,
                                                    store: LocalStore) -> None:
    body = render(store, "/dialog", kind="contact_lead", number=UNKNOWN, q="Mäki")
    page = read(body)
    assert "Tulokset haulle ”Mäki”" in page.chunks
    assert "Päivitä numero" in page.chunks  # the found records lack the caller's number
    body = render(store, "/dialog", kind="case", number=UNKNOWN, q="zzz")
    assert "Ei tuloksia." in read(body).chunks
    assert not english_left(body)


@pytest.mark.parametrize(("path", "query", "heading"), [
    ("/idle", {}, "Ei puhelua"),
    ("/looking-up", {"number": KNOWN}, "Haetaan…"),
    ("/error", {"message": "x"}, "CRM ei vastaa — puhelu jatkuu"),
    ("/ringing", {}, "Saapuva puhelu"),
    ("/contact/999", {}, "Tietuetta ei löydy"),
    ("/nowhere", {}, "Sivua ei löydy"),
])
def test_status_pages_in_finnish(finnish: None, store: LocalStore, path: str,
                                 query: dict[str, str], heading: str) -> None:
    _, body = pages.render(path, query, store, translate_page)
    assert read(body).chunks[1] == heading  # after the <title>
    assert not english_left(body)


def test_without_a_translator_the_pages_stay_english(qapp: QApplication,
                                                     store: LocalStore) -> None:
    body = render(store, "/dialog", kind="case", number=MANY)
    page = read(body)
    assert page.lang == "en"
    assert {"2 matches", "Caller", "Queue", "Direct", "Search the CRM"} <= set(page.chunks)


# -- escaping -----------------------------------------------------------------------------

def test_a_translation_with_markup_is_escaped_like_data(store: LocalStore) -> None:
    def hostile(text: str) -> str:
        return f'<b onmouseover="x">{text}</b> & \'"'

    evil = "<img src=x onerror=alert(1)>"
    store.create_contact(NewContact(evil, "Ä", phones=(UNKNOWN,)))
    for path, query in [("/dialog", {"kind": "contact_lead", "number": MANY, "q": evil}),
                        ("/dialog", {"kind": "case", "number": UNKNOWN}),
                        ("/idle", {}), (f"/account/{store.search('Virtanen Oy').accounts[0].id}",
                                        {})]:
        _, body = pages.render(path, query, store, hostile)
        html = body.decode()
        assert not re.search(r"<(b|img)\s", html), path
        assert "&lt;b onmouseover=&quot;x&quot;&gt;" in html, path
        assert ('<html lang="&lt;b onmouseover=&quot;x&quot;&gt;en&lt;/b&gt; &amp; &#x27;&quot;"'
                in html)


# -- the catalogue ------------------------------------------------------------------------

def test_every_page_string_is_collected_and_translated() -> None:
    """No lupdate needed: the ast scan finds the strings, and the .ts has them all."""
    script = _update_script()
    sources = script.app_sources()
    assert script.dynamic_calls(sources) == []  # every _tr() in pages.py is a literal
    collected = {s for c, s in script.helper_strings(sources) if c == CONTEXT}
    assert {"Caller identified", "%d matches", "Search the CRM", "Who is calling?",
            "Records pop up here when a call rings.", "Update phone"} <= collected
    finished = {s: t for c, s, t in messages(catalogue("fi")) if c == CONTEXT and t}
    assert collected - set(finished) == set()


def test_page_translations_keep_their_placeholders() -> None:
    """`tr("%d matches") % n` must not raise: the page would not render at all."""
    for context, source, translation in messages(catalogue("fi")):
        if context == CONTEXT:
            assert (sorted(re.findall(r"%[sd]", source))
                    == sorted(re.findall(r"%[sd]", translation))), source


@pytest.mark.skipif(not HAS_LUPDATE, reason="pyside6-lupdate is not installed")
def test_update_script_puts_page_strings_under_their_context(tmp_path: Path) -> None:
    script = _update_script()
    copy = tmp_path / "switchboard_fi.ts"
    copy.write_bytes(catalogue("fi").read_bytes())
    script.lupdate(copy, "fi")
    assert [s for c, s in script.unfinished(copy) if c == CONTEXT] == []  # test_i18n: all
    found = {(c, s) for c, s, _ in messages(copy)}
    assert (CONTEXT, "Caller identified") in found
    assert not {c for c, _ in found if not c}  # lupdate's own scan files nothing context-less
