"""Human-written numbers → E.164, and the messages for what is not a number."""

from __future__ import annotations

import pytest

from app.core.numbers import InvalidNumber, display, match_key, normalise, try_normalise

GOOD = [
    ("+358 40 123 4567", "+358401234567"),
    ("040-1234567", "+358401234567"),
    ("00358401234567", "+358401234567"),
    ("(040) 123 45 67", "+358401234567"),
    ("040.123.4567", "+358401234567"),
    ("040/123 4567", "+358401234567"),
    ("\u00a0040 1234567\t", "+358401234567"),  # pasted from a web page
    ("0401234567\n", "+358401234567"),  # pasted with the line end
    ("09 1234 567", "+35891234567"),  # Helsinki landline
    ("+46 8 123 456 78", "+46812345678"),
    ("0046 8 123 456 78", "+46812345678"),
    ("+1 (212) 555-0100", "+12125550100"),
    ("+358 (0)40 123 4567", "+358401234567"),  # the national 0 written in brackets
    ("+44 (0)20 7946 0958", "+442079460958"),
    ("201", "201"),  # extension
    ("*21#", "*21#"),  # service code
    ("112", "112"),
]

BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "characters"),
    ("040 1234567 ext 5", "characters"),
    ("040 1234567; DROP TABLE calls", "characters"),
    ("<script>alert(1)</script>", "characters"),
    ("\x00040", "characters"),
    ("\u0660\u0664\u0660", "characters"),  # Arabic-Indic digits are not accepted
    ("+", "not a phone number"),
    ("++358401234567", "wrong place"),
    ("040+1234567", "wrong place"),
    ("12*34567890", "mixes"),
    ("0" * 70, "too long"),
    ("12345678901234567890", "not a phone number"),
    ("+999 123", "wrong number of digits"),
]


@pytest.mark.parametrize(("text", "e164"), GOOD)
def test_written_numbers_normalise(text: str, e164: str) -> None:
    assert normalise(text, "FI") == e164
    assert try_normalise(text, "FI") == e164


@pytest.mark.parametrize(("text", "why"), BAD)
def test_non_numbers_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidNumber, match=why):
        normalise(text, "FI")
    assert try_normalise(text, "FI") is None


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidNumber):
        normalise(None, "FI")  # type: ignore[arg-type]


def test_unknown_region_says_which_setting() -> None:
    with pytest.raises(InvalidNumber, match="default_region"):
        normalise("040 1234567", "XX")


def test_region_decides_national_numbers() -> None:
    assert normalise("08 123 456 78", "SE") == "+46812345678"


def test_display_is_national_for_our_region_only() -> None:
    assert display("+358401234567", "FI") == "040 1234567"
    assert display("+46812345678", "FI").startswith("+46")
    assert display("201", "FI") == "201"
    assert display("not a number", "FI") == "not a number"


def test_match_key() -> None:
    assert match_key("040 123 4567") == "+358401234567"
    assert match_key("ext. 12-34x") == "1234"
    assert match_key("no digits") is None
    assert match_key("") is None
