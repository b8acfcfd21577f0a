"""Which number the callee sees on the agent's outbound calls: the one rule behind the one
chooser (under the dial pad).

The choices are the configured caller ids (`sip.caller_ids`, the first being the work
number), the queues' numbers the phone system reports, "don't show the number", and, when
no number is configured, the phone system's own default. A choice is a value: "" (the
phone system's default), HIDDEN, or an E.164 number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HIDDEN = "hidden"  # the chooser's value for "don't show my number"
ANONYMOUS = "anonymous"  # the caller id the engine is given to hide the number


@dataclass(frozen=True)
class DisplayChoice:
    """One entry of the chooser: `value` is what choosing it hands back."""

    value: str
    kind: str  # "default", "work" (the first configured), "number", "queue", "hidden"
    name: str = ""  # the queue's name


def display_choices(configured: Sequence[str],
                    queues: Sequence[tuple[str, str]]) -> list[DisplayChoice]:
    """The chooser's entries, in order; a queue number already configured is not repeated."""
    choices: list[DisplayChoice] = []
    if configured:
        choices.append(DisplayChoice(configured[0], "work"))
        choices += [DisplayChoice(n, "number") for n in configured[1:]]
    else:
        choices.append(DisplayChoice("", "default"))
    seen = set(configured)
    for name, number in queues:
        if number and number not in seen:
            seen.add(number)
            choices.append(DisplayChoice(number, "queue", name))
    choices.append(DisplayChoice(HIDDEN, "hidden"))
    return choices


def caller_id_for(value: str, configured: Sequence[str]) -> str | None:
    """The caller id to dial with for a chosen `value` (None: the phone system's default)."""
    if value == HIDDEN:
        return ANONYMOUS
    if not value:
        return configured[0] if configured else None
    return value


def value_of(caller_id: str | None) -> str:
    """The chooser's value that shows `caller_id` (the session's current one)."""
    if caller_id == ANONYMOUS:
        return HIDDEN
    return caller_id or ""


__all__ = ["ANONYMOUS", "HIDDEN", "DisplayChoice", "caller_id_for", "display_choices",
           "value_of"]
