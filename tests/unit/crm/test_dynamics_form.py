"""The pre-filled phone call form the PhoneCall workflow opens for an unidentified caller."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from app.crm.dynamics import records
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.client import DataverseClient
from tests.unit.crm.dynamics_helpers import StaticTokens, activity


def form_values(url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the address's own parameters, the form values inside `extraqs`)."""
    query = urlsplit(url).query
    outer = {k: v[0] for k, v in parse_qs(query).items()}
    inner = {k: v[0] for k, v in parse_qs(outer.pop("extraqs")).items()}
    return outer, inner


def backend(app_id: str = "") -> DynamicsBackend:
    client = DataverseClient("https://contoso.crm4.dynamics.com", StaticTokens())
    return DynamicsBackend(client, app_id=app_id)


def test_the_form_opens_a_new_phone_call_with_the_calls_values() -> None:
    call = activity(notes="Asked for a quote & a call = back", queue="Sales")
    url = backend().activity_form_url(call)
    assert url.startswith("https://contoso.crm4.dynamics.com/main.aspx?")
    outer, values = form_values(url)
    assert outer == {"pagetype": "entityrecord", "etn": "phonecall"}
    assert values["subject"] == "Call from Matti Meikäläinen"
    assert values["phonenumber"] == "+358401234567"
    assert values["directioncode"] == "0"
    assert values["actualdurationminutes"] == "3"
    notes, lines = records.parse_description(values["description"])
    assert notes == "Asked for a quote & a call = back"  # `&` and `=` survive the encoding
    assert lines["Started"] == "2025-03-04T09:15:00Z"
    assert lines["Ended"] == "2025-03-04T09:17:01Z"
    assert lines["Queue"] == "Sales"
    assert lines["Call-ID"] == call.call_id


def test_outbound_calls_say_so_and_the_configured_app_is_used() -> None:
    url = backend(app_id="0a1b2c3d-0000-4000-8000-000000000001").activity_form_url(
        activity(direction="outbound"))
    outer, values = form_values(url)
    assert outer["appid"] == "0a1b2c3d-0000-4000-8000-000000000001"
    assert values["directioncode"] == "1"


def test_extraqs_is_encoded_twice_as_the_documents_ask() -> None:
    assert records.extraqs({"name": "A=B&C"}) == "name%3DA%253DB%2526C"
    assert unquote(unquote(records.extraqs({"name": "A=B&C"}).split("%3D", 1)[1])) == "A=B&C"
