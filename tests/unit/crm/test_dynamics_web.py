"""Which pages are the Dynamics environment's, and which record a page shows."""

from __future__ import annotations

import pytest

from app.core.crm import RecordKind, RecordRef
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.client import DataverseClient
from app.crm.dynamics.web import DynamicsWeb
from tests.unit.crm.dynamics_helpers import StaticTokens

ORG = "https://contoso.crm4.dynamics.com"
ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


@pytest.fixture
def web() -> DynamicsWeb:
    return DynamicsWeb(ORG, "login.microsoftonline.com")


@pytest.mark.parametrize("url, inside", [
    (f"{ORG}/main.aspx?pagetype=entityrecord&etn=contact&id={ID}", True),
    (f"{ORG}/main.aspx?appid=1&pagetype=dashboard", True),
    ("https://login.microsoftonline.com/common/oauth2/authorize?x=1", True),
    ("https://login.live.com/login.srf", True),
    ("http://contoso.crm4.dynamics.com/main.aspx", False),  # not the environment's origin
    ("https://contoso.crm4.dynamics.com.evil.example/main.aspx", False),
    ("https://fabrikam.crm4.dynamics.com/main.aspx", False),  # another environment
    ("https://www.example.com/", False),
    ("mailto:someone@example.com", False),
])
def test_only_the_environment_and_its_sign_in_load_in_the_view(
        web: DynamicsWeb, url: str, inside: bool) -> None:
    assert web.inside(url) is inside


def test_the_configured_authority_host_is_inside_too() -> None:
    web = DynamicsWeb(ORG, "127.0.0.1:8443")
    assert web.inside("https://127.0.0.1:8443/contoso/oauth2/v2.0/authorize")
    assert not web.inside("https://127.0.0.1:9999/")


@pytest.mark.parametrize("kind", list(RecordKind))
def test_every_record_url_the_backend_makes_names_its_record(web: DynamicsWeb,
                                                             kind: RecordKind) -> None:
    backend = DynamicsBackend(DataverseClient(ORG, StaticTokens()), app_id="abc")
    url = backend.record_url(RecordRef(kind, ID))
    expected = "" if kind is RecordKind.ACTIVITY else f"{kind.value}/{ID}"
    assert web.record_of(url) == expected


@pytest.mark.parametrize("url", [
    f"{ORG}/main.aspx?pagetype=entitylist&etn=contact",
    f"{ORG}/main.aspx?pagetype=entityrecord&etn=contact&id=../../x",
    f"{ORG}/main.aspx?pagetype=entityrecord&etn=systemuser&id={ID}",
    f"https://fabrikam.crm4.dynamics.com/main.aspx?pagetype=entityrecord&etn=contact&id={ID}",
])
def test_other_pages_show_no_record(web: DynamicsWeb, url: str) -> None:
    assert web.record_of(url) == ""


def test_braced_upper_case_ids_are_read_as_the_same_record(web: DynamicsWeb) -> None:
    url = f"{ORG}/main.aspx?pagetype=entityrecord&etn=account&id=%7B{ID.upper()}%7D"
    assert web.record_of(url) == f"account/{ID}"
