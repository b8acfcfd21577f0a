"""A screen-pop never replaces a CRM page with unsaved edits: held until answer, then until
the agent asks; the newest wish wins."""

from __future__ import annotations

from app.core.screenpop_gate import Hold, PopGate


def test_a_clean_page_is_replaced_at_once() -> None:
    gate: PopGate[str] = PopGate()
    gate.want("contact/1")
    decision = gate.checked(dirty=False)
    assert (decision.go, decision.held) == ("contact/1", None)
    assert gate.waiting is None


def test_unsaved_edits_hold_the_pop_until_the_call_is_answered() -> None:
    gate: PopGate[str] = PopGate()
    gate.call_started()
    gate.want("contact/1")
    decision = gate.checked(dirty=True)
    assert (decision.go, decision.held, decision.hold) == (None, "contact/1", Hold.UNTIL_ANSWER)
    assert gate.call_answered()  # ask the page again
    assert gate.checked(dirty=False).go == "contact/1"


def test_still_editing_after_the_answer_leaves_it_to_the_agent() -> None:
    gate: PopGate[str] = PopGate()
    gate.want("contact/1")
    gate.checked(dirty=True)
    assert gate.call_answered()
    decision = gate.checked(dirty=True)
    assert (decision.held, decision.hold) == ("contact/1", Hold.UNTIL_AGENT)
    assert gate.agent_asked() == "contact/1"
    assert gate.waiting is None and gate.agent_asked() is None


def test_the_newest_wish_wins_and_nothing_waits_after_it_went() -> None:
    gate: PopGate[str] = PopGate()
    gate.want("looking-up")
    gate.want("dialog")
    assert gate.checked(dirty=False).go == "dialog"
    assert gate.checked(dirty=False).go is None  # a late second answer does nothing
    assert not gate.call_answered()


def test_a_new_call_waits_for_its_own_answer() -> None:
    gate: PopGate[str] = PopGate()
    gate.call_answered()
    gate.call_started()
    gate.want("contact/2")
    assert gate.checked(dirty=True).hold is Hold.UNTIL_ANSWER
