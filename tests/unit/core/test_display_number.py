"""The one rule for the number shown on outbound calls (the dial pad's chooser)."""

from __future__ import annotations

from app.core.display_number import (
    ANONYMOUS,
    HIDDEN,
    DisplayChoice,
    caller_id_for,
    display_choices,
    value_of,
)


def test_configured_numbers_then_queue_numbers_then_hidden() -> None:
    choices = display_choices(["+35891000", "+35892000"],
                              [("Sales", "+35810100"), ("Support", ""),
                               ("Billing", "+35892000")])
    assert choices == [DisplayChoice("+35891000", "work"), DisplayChoice("+35892000", "number"),
                       DisplayChoice("+35810100", "queue", "Sales"),
                       DisplayChoice(HIDDEN, "hidden")]


def test_without_configured_numbers_the_phone_systems_default_is_offered() -> None:
    assert [c.kind for c in display_choices([], [])] == ["default", "hidden"]


def test_each_choice_gives_the_caller_id_and_back() -> None:
    configured = ["+35891000"]
    assert caller_id_for(HIDDEN, configured) == ANONYMOUS
    assert caller_id_for("", configured) == "+35891000"
    assert caller_id_for("", []) is None
    assert caller_id_for("+35810100", configured) == "+35810100"
    for caller_id in (ANONYMOUS, None, "+35810100"):
        assert caller_id_for(value_of(caller_id), []) == caller_id
