"""One way to write a length of time: the call timer, history, queue waits, case notes."""

from __future__ import annotations

import pytest

from app.core.duration import format_duration


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (5, "0:05"), (65, "1:05"), (599.9, "9:59"), (3599, "59:59"),
    (3600, "1:00:00"), (3725, "1:02:05"), (4500, "1:15:00"), (36000, "10:00:00"),
])
def test_minutes_and_seconds_then_hours_from_an_hour(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_negative_length_is_zero() -> None:
    assert format_duration(-3) == "0:00"
