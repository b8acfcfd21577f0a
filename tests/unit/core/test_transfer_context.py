"""The X-Switchboard-Context header: what is sent, what is trusted, what is ignored."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from app.core.crm import Account, Case, Contact, Lead, RecordKind, RecordRef
from app.core.transfer_context import (
    HEADER,
    MAX_VALUE,
    TransferContext,
    agrees,
    decode,
    encode,
    fits,
    refer_to,
    usable_number,
)

AINO = RecordRef(RecordKind.CONTACT, "42")
FULL = TransferContext("local", AINO, "17", "+358401234567", "blind")


def test_round_trip_and_the_documented_form() -> None:
    value = encode(FULL)
    assert value == "v=1;crm=local;record=contact/42;case=17;number=+358401234567;kind=blind"
    assert decode(value) == FULL
    assert FULL.refs == (AINO, RecordRef(RecordKind.CASE, "17"))


@pytest.mark.parametrize("ctx", [
    TransferContext("salesforce", RecordRef(RecordKind.CONTACT, "003AB000001xYzQ")),
    TransferContext("dynamics", None, "6f1c2a9e-0b1d-4c3e-9f00-1a2b3c4d5e6f"),
    TransferContext("local", None, "", "+358401234567", "consulted"),
    TransferContext("local", RecordRef(RecordKind.LEAD, "3")),
    TransferContext("local", RecordRef(RecordKind.ACCOUNT, "9"), "1"),
])
def test_every_kind_of_context_round_trips(ctx: TransferContext) -> None:
    assert decode(encode(ctx)) == ctx


@pytest.mark.parametrize("bad", [
    TransferContext("local"),  # nothing to go on
    TransferContext("Local CRM", AINO),
    TransferContext("local", RecordRef(RecordKind.CASE, "1")),  # a case is `case=`
    TransferContext("local", AINO, "1;v=2"),
    TransferContext("local", AINO, number="Aino Virtanen"),
    TransferContext("local", AINO, kind="warm"),
])
def test_a_context_that_would_not_parse_back_is_never_sent(bad: TransferContext) -> None:
    with pytest.raises(ValueError):
        encode(bad)


@pytest.mark.parametrize("value", [
    None, "", "   ",
    "v=2;crm=local;record=contact/1",  # a version we do not know
    "crm=local;record=contact/1",  # no version
    "v=1;record=contact/1",  # whose ids?
    "v=1;crm=local",  # nothing to go on
    "v=1;crm=local;record=contact/1;record=contact/2",  # which one?
    "v=1;crm=local;record=case/1",  # a case is not the caller
    "v=1;crm=local;record=activity/1",
    "v=1;crm=local;record=contact/",
    "v=1;crm=local;record=contact/1/2",
    "v=1;crm=local;record=robot/1",
    "v=1;crm=local;record=contact/" + "1" * 65,  # ids are at most 64 characters
    "v=1;crm=local;case=1 OR 1=1",
    "v=1;crm=local;case=<script>",
    "v=1;crm=local;case=1;number=+358 40 123",
    "v=1;crm=local;number=+3584012345678901234",
    "v=1;crm=local;case=1;kind=warm",
    "v=1;crm=local;case=1;;",
    "v=1;crm=local;case=1;novalue",
    "v=1;crm=local;case=1;=x",
    "v=1;crm=local;case=1\r\nX-Evil: 1",
    "v=1;crm=local;case=1\x00",
    "v=1;crm=local;case=ä",
    "v=1;crm=local;case=1;note=Aino's router",  # names and notes never travel
    "v%3D1%3Bcrm%3Dlocal%3Bcase%3D1%",  # a broken escape
    "v%3D1%3Bcrm%3Dlocal%3Bcase%3D1%zz",
    "v%3D1%3Bcrm%3Dlocal%3Bcase%3D1%250A",  # escapes are undone once, not twice
])
def test_hostile_or_malformed_values_are_ignored_whole(value: str | None) -> None:
    assert decode(value) is None


def test_oversized_values_are_ignored_without_being_parsed() -> None:
    padding = ";x=" + "a" * MAX_VALUE
    assert decode(encode(FULL) + padding) is None
    assert decode("v=1;crm=local;case=1" + "%41" * 1000) is None
    assert decode("A" * 10_000_000) is None


def test_unknown_keys_from_a_later_sender_are_ignored() -> None:
    assert decode(encode(FULL) + ";queue=support;hops=2") == FULL


def test_a_value_still_in_its_uri_escaped_form_is_read() -> None:
    escaped = refer_to("sip:carol@pbx", encode(FULL)).split("=", 1)[1].rstrip(">")
    assert "%3B" in escaped and decode(escaped) == FULL


def test_refer_to_embeds_the_header_escaped() -> None:
    value = encode(FULL)
    uri = refer_to("sip:carol@pbx.example.com;transport=tcp", value)
    assert uri.startswith("<sip:carol@pbx.example.com;transport=tcp?X-Switchboard-Context=")
    assert uri.endswith(">")
    embedded = uri[1:-1].split("?", 1)[1]
    name, _, escaped = embedded.partition("=")
    assert name == HEADER
    # Only unreserved characters and %XX: nothing the URI or a proxy could read as syntax.
    assert all(ch.isalnum() or ch in "-_.~%" for ch in escaped), escaped
    assert unquote(escaped) == value


def test_refer_to_keeps_existing_embedded_headers_and_plain_targets() -> None:
    assert refer_to("<sip:c@pbx?Foo=1>", "v=1;crm=local;case=1") == \
        "<sip:c@pbx?Foo=1&X-Switchboard-Context=v%3D1%3Bcrm%3Dlocal%3Bcase%3D1>"
    assert refer_to("sip:c@pbx", "") == "sip:c@pbx"


def test_usable_number() -> None:
    assert usable_number("+358401234567") == "+358401234567"
    assert usable_number("alice") == ""
    assert usable_number("") == ""


AINO_RECORD = Contact("42", "Aino", "Virtanen", phones=("+358401234567",))
HER_CASE = Case("17", "00017", "Router keeps dropping", contact_id="42")


def test_records_that_are_the_callers_are_trusted() -> None:
    assert agrees(FULL, [AINO_RECORD, HER_CASE])
    assert agrees(FULL, [AINO_RECORD])
    assert agrees(FULL, [HER_CASE])
    # A number written another way is the same number.
    assert agrees(FULL, [Contact("42", "Aino", "V", phones=("040 123 4567",))])
    # A record without phones, or a context without a number, cannot be checked.
    assert agrees(FULL, [Contact("42", "Aino", "V")])
    assert agrees(TransferContext("local", AINO), [AINO_RECORD])
    assert agrees(FULL, [Lead("42", "Aino", "V", phones=("+358401234567",)), HER_CASE])


def test_another_databases_id_for_someone_else_is_not_trusted() -> None:
    # Contact 42 in this desktop's own CRM is somebody else.
    other = Contact("42", "Matti", "Meikäläinen", phones=("+358501112222",))
    assert not agrees(FULL, [other, HER_CASE])
    # The case is someone else's.
    assert not agrees(FULL, [AINO_RECORD, Case("17", "00017", "Other", contact_id="7")])
    assert not agrees(FULL, [Account("42", "Oy Ab", phones=("+358401234567",)),
                             Case("17", "1", "x", account_id="8")])


def test_only_a_consultation_may_come_from_another_number() -> None:
    blind = FULL
    assert fits(blind, "+358401234567") and fits(blind, "040 123 4567")
    assert not fits(blind, "+358501112222")  # a caller quoting someone else's context
    assert fits(blind, "alice")  # not a phone number: nothing to compare
    assert fits(TransferContext("local", AINO, kind="blind"), "+358501112222")  # no number
    consulted = TransferContext("local", AINO, "17", "+358401234567", "consulted")
    assert fits(consulted, "+358201")  # the colleague calls about the customer
