"""tel:/sip:/callto: links and bare numbers → DialTarget; anything dubious → LinkRefused."""

from __future__ import annotations

import pytest

from app.core.links import MAX_LINK, DialTarget, LinkRefused, looks_like_link, parse_link
from app.desktop.launch import Dial, Refused, ShowWindow, forwarded_request, rewrite_link_argv

FI_MOBILE = "+358401234567"


@pytest.mark.parametrize("link", [
    "tel:+358 40 123 4567",
    "tel:+358-40-123-4567",
    "tel:+358.40.123.4567",
    "tel:+358(40)1234567",
    "TEL:+358401234567",
    "  tel:+358401234567  ",
    "tel:040-1234567;phone-context=+358",
    "tel:1234567;phone-context=+35840",
    "tel:%2B358%2040%20123%204567",
    "tel:+358401234567;ext=12",
    "tel:+358401234567;isub=1",
    "callto:+358401234567",
    "callto://+358401234567",
    "callto://+358401234567/",
    "callto:040 123 4567",
    "+358 40 123 4567",
    "040-1234567",
    "00358401234567",
])
def test_numbers_become_e164(link: str) -> None:
    assert parse_link(link, "FI") == DialTarget("number", FI_MOBILE)


def test_local_number_without_context_uses_the_default_region() -> None:
    assert parse_link("tel:020 7946 0018", "GB").value == "+442079460018"


def test_phone_context_country_code_wins_over_default_region() -> None:
    assert parse_link("tel:020 7946 0018;phone-context=+44", "FI").value == "+442079460018"


def test_domain_phone_context_means_a_number_on_our_phone_system() -> None:
    assert parse_link("tel:201;phone-context=pbx.example.com") == DialTarget("number", "201")


@pytest.mark.parametrize(("link", "uri"), [
    ("sip:alice@example.com", "sip:alice@example.com"),
    ("sips:alice@example.com", "sips:alice@example.com"),
    ("SIP:Alice@Example.COM", "sip:Alice@example.com"),
    ("sip:alice@example.com:5070", "sip:alice@example.com:5070"),
    ("sip:alice@127.0.0.1:5070;transport=tcp", "sip:alice@127.0.0.1:5070;transport=tcp"),
    ("sip:alice@[::1]:5070", "sip:alice@[::1]:5070"),
    ("sip:%61lice@example.com", "sip:alice@example.com"),
    ("sip:+358401234567@pbx.example.com", "sip:+358401234567@pbx.example.com"),
    # maddr/lr/user= are dropped: they could route the call away from the visible host
    ("sip:alice@example.com;maddr=evil.example;lr;user=phone", "sip:alice@example.com"),
    ("callto:alice@example.com", "sip:alice@example.com"),
    ("alice@example.com", "sip:alice@example.com"),
])
def test_sip_uris_are_rebuilt_from_validated_parts(link: str, uri: str) -> None:
    assert parse_link(link) == DialTarget("sip", uri)


@pytest.mark.parametrize(("link", "why"), [
    ("javascript:alert(1)", "not javascript: links"),
    ("http://example.com/tel:+358401234567", "not http: links"),
    ("file:///etc/passwd", "not file: links"),
    ("skype:alice?call", "not skype: links"),
    ("", "nothing to dial"),
    ("   ", "nothing to dial"),
    ("tel:+358401234567\n", "control characters"),
    ("tel:+358401234567%0A", "control characters"),
    ("tel:+358401234567%0d%0aINVITE", "control characters"),
    ("tel:+358401234567%250A", "second %-escape"),
    ("tel:+358%E2%80%AE401234567", "control characters"),  # right-to-left override
    ("tel:+358401234567\x00", "control characters"),
    ("sip:alice@example.com\r\nVia: evil", "control characters"),
    ("tel:%zz", "broken %-escape"),
    ("tel:+358401234567;$(reboot)", "parameter"),
    ("tel:+358401234567`id`", "not a number"),
    ("tel:+358401234567|calc", "not a number"),
    ("tel:+358401234567&& rm -rf ~", "not a number"),
    ("tel:abc", "not a number"),
    ("tel:+358401234567;phone-context=+358;x=$(id)", "parameter"),
    ("tel:1234567;phone-context=+35x", "phone-context"),
    ("sip:alice@example.com?Route=%3Csip:evil.example%3E", "SIP headers"),
    ("sip:alice@example.com?body=hi", "SIP headers"),
    ("sip:alice@example.com;x=$(id)", "not allowed"),
    ("sip:al ice@example.com", "not allowed"),
    ("sip:al\"ice@example.com", "not allowed"),
    ("sip:alice:secret@example.com", "password"),
    ("sip:example.com", "user@host"),
    ("sip:alice@", "valid host"),
    ("sip:alice@exa_mple.com", "valid host"),
    ("sip:alice@example.com:0", "port"),
    ("sip:alice@example.com:99999", "port"),
    ("sip:alice@example.com:", "port"),
    ("sip:älice@example.com", "not allowed"),
    ("x" * (MAX_LINK + 1), "too long"),
])
def test_refused_links_say_why(link: str, why: str) -> None:
    with pytest.raises(LinkRefused) as info:
        parse_link(link)
    assert why in str(info.value)


def test_callto_query_is_dropped_not_passed_on() -> None:
    # callto: links sometimes carry ?call or ?chat; only the number survives.
    assert parse_link("callto:+358401234567?foo=$(id)") == DialTarget("number", FI_MOBILE)


def test_refusal_quotes_control_characters_visibly() -> None:
    with pytest.raises(LinkRefused) as info:
        parse_link("sip:a\nb@example.com")
    assert "\n" not in str(info.value)
    assert "\\x0a" in str(info.value)


def test_refusal_can_be_translated() -> None:
    with pytest.raises(LinkRefused) as info:
        parse_link("javascript:alert(1)")
    finnish = {"Switchboard dials only tel:, sip:, sips: and callto: links, not {scheme}: "
               "links.": "Switchboard soittaa vain tel:-, sip:-, sips:- ja callto:-linkkejä, "
               "ei {scheme}:-linkkejä."}
    text = info.value.text(lambda ctx, t: finnish.get(t, t))
    assert text.endswith("ei javascript:-linkkejä.")


def test_non_text_is_refused() -> None:
    with pytest.raises(LinkRefused):
        parse_link(None)  # type: ignore[arg-type]


def test_target_round_trips_through_its_link_form() -> None:
    for link in ("tel:+358401234567", "sip:alice@example.com:5070;transport=tcp"):
        target = parse_link(link)
        assert parse_link(target.as_link()) == target


def test_dial_target_is_frozen() -> None:
    target = DialTarget("number", FI_MOBILE)
    with pytest.raises(AttributeError):
        target.value = "+1"  # type: ignore[misc]


@pytest.mark.parametrize(("arg", "expected"), [
    ("tel:+358401234567", True), ("SIP:a@b", True), ("callto://1", True),
    ("sips:a@b", True), ("run", False), ("dial", False), ("--profile", False),
    ("/tmp/x", False), ("http://x", False), ("C:\\x", False),
])
def test_looks_like_link(arg: str, expected: bool) -> None:
    assert looks_like_link(arg) is expected


# -- what the command line and the running instance do with links ----------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["tel:+358401234567"], ["dial", "tel:+358401234567"]),
    (["--profile", "/p", "sip:a@b.c"], ["--profile", "/p", "dial", "sip:a@b.c"]),
    (["dial", "tel:1"], ["dial", "tel:1"]),
    ([], []),
    (["run"], ["run"]),
    (["--profile", "tel:odd-dir"], ["--profile", "tel:odd-dir"]),
])
def test_desktop_launch_with_a_link_becomes_dial(argv: list[str], expected: list[str]) -> None:
    assert rewrite_link_argv(argv) == expected


def test_forwarded_dial_is_parsed_again() -> None:
    assert forwarded_request(["dial", "tel:040 1234567"], "FI") == Dial(
        DialTarget("number", FI_MOBILE))
    refused = forwarded_request(["dial", "javascript:alert(1)"])
    assert isinstance(refused, Refused) and "javascript" in refused.message
    assert forwarded_request([]) == ShowWindow()
    assert isinstance(forwarded_request(["rm", "-rf", "/"]), Refused)
    assert isinstance(forwarded_request(["dial"]), Refused)
