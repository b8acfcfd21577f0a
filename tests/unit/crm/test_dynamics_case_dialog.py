"""The case dialog over Dynamics 365: a case needs a customer, so one is chosen or added first."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from app.core.crm import CrmError, NewCase
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.client import DataverseClient
from app.crm.local.pages import dialog_page
from tests.fakes.dataverse import FakeDataverse
from tests.unit.crm.dynamics_helpers import StaticTokens

CALLER = "+358401234567"


@pytest.fixture
def fake() -> Iterator[FakeDataverse]:
    server = FakeDataverse().start()
    yield server
    server.stop()


@pytest.fixture
def crm(fake: FakeDataverse) -> DynamicsBackend:
    return DynamicsBackend(DataverseClient(fake.org_url, StaticTokens(), timeout=5))


class Links(HTMLParser):
    """The page's action links and the new-record forms' hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.forms: list[str] = []
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "a":
            self.hrefs.append(values.get("href", ""))
        elif tag == "form" and "new" in values.get("class", ""):
            self.forms.append(values.get("action", ""))
        elif tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")


def parse(page: bytes) -> tuple[str, Links]:
    links = Links()
    text = page.decode()
    links.feed(text)
    return text, links


def test_an_unknown_caller_is_chosen_or_added_as_a_contact_before_any_case(
        crm: DynamicsBackend) -> None:
    text, links = parse(dialog_page(crm, {"kind": "case", "number": CALLER,
                                          "call": "c1@pbx"}))
    assert "A case in this CRM needs a customer" in text
    assert not any("new-case" in h for h in links.hrefs)  # nothing Dynamics would refuse
    assert links.forms == ["switchboard://action/new-contact"]
    assert {"call": "c1@pbx", "number": CALLER, "then": "case"}.items() <= \
        links.hidden.items()


def test_a_known_contact_gets_new_case_for_them_and_no_case_without_identification(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    aino = fake.add_contact("Aino", "Virtanen", CALLER)
    text, links = parse(dialog_page(crm, {"kind": "case", "number": CALLER,
                                          "call": "c1@pbx"}))
    cases = [h for h in links.hrefs if "new-case" in h]
    assert cases == [f"switchboard://action/new-case?call=c1%40pbx&contact={aino}"]
    assert "without identification" not in text


def test_several_contacts_are_offered_to_choose_from_with_the_contact_form(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    fake.add_contact("Liisa", "Mäkinen", CALLER)
    fake.add_contact("Jussi", "Mäkinen", CALLER)
    text, links = parse(dialog_page(crm, {"kind": "case", "number": CALLER,
                                          "call": "c1@pbx"}))
    assert "Liisa Mäkinen" in text and "Jussi Mäkinen" in text
    assert sum("chosen=contact" in h for h in links.hrefs) == 2
    assert not any("new-case" in h for h in links.hrefs)


def test_the_backend_says_so_if_a_case_without_a_customer_reaches_it(
        fake: FakeDataverse, crm: DynamicsBackend) -> None:
    with pytest.raises(CrmError, match="needs a customer"):
        crm.create_case(NewCase("Phone call from 040 1234567"))
    assert fake.records("incidents") == {}


@pytest.mark.parametrize("kind", ["case", "contact_account", "contact_lead", "phone_call"])
def test_hostile_names_from_dynamics_are_text_in_every_dialog(
        fake: FakeDataverse, crm: DynamicsBackend, kind: str) -> None:
    fake.add_contact('<img src=x onerror="alert(1)">', "</li><script>x()</script>", CALLER)
    fake.add_account("Evil & Co\" onclick=\"steal()", CALLER)
    fake.add_lead("'><b>", "Lead", "<iframe src=//evil>", CALLER)
    text, _links = parse(dialog_page(crm, {"kind": kind, "number": CALLER,
                                           "call": "c1@pbx"}))
    for raw in ("<img", "<script", "onclick=\"steal", "<iframe", "<b>"):
        assert raw not in text, (kind, raw)
    assert "&lt;img src=x onerror=" in text  # shown, as text
