"""The rule that a screen-pop never takes the agent away from unsaved edits in a CRM page.

The pane asks before replacing a CRM web page (a Salesforce record the agent may be
editing): `want(target)` notes what it wants to show (the newest wish wins), the page is
asked whether it holds unsaved edits, and `checked(dirty)` says what to do: go, or hold
the pop. A held pop waits for the answer of the call (then the page is asked again), or
for the agent to ask for it; the product this is modelled on does the same, and says so.
Pure: no Qt; the pane (app/ui/notes.py) asks the page and carries the decision out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class Hold(enum.Enum):
    UNTIL_ANSWER = "until_answer"  # the call is ringing: try again when it is answered
    UNTIL_AGENT = "until_agent"  # answered and still editing: the agent opens it


@dataclass(frozen=True)
class Decision(Generic[T]):
    go: T | None = None  # navigate here now
    held: T | None = None  # not now: show that it waits
    hold: Hold | None = None


class PopGate(Generic[T]):
    """What the pane wanted to show while a CRM page might hold unsaved edits."""

    def __init__(self) -> None:
        self.waiting: T | None = None
        self.answered = False

    def want(self, target: T) -> None:
        """The pane was asked to show `target` over a CRM page: ask the page first."""
        self.waiting = target

    def call_started(self) -> None:
        """A new call took the pane: its pop waits for its own answer."""
        self.answered = False

    def checked(self, dirty: bool) -> Decision[T]:
        """The page answered whether it holds unsaved edits."""
        if self.waiting is None:
            return Decision()
        if not dirty:
            target, self.waiting = self.waiting, None
            return Decision(go=target)
        return Decision(held=self.waiting,
                        hold=Hold.UNTIL_AGENT if self.answered else Hold.UNTIL_ANSWER)

    def call_answered(self) -> bool:
        """The call was answered; True when a held pop should be tried again now."""
        self.answered = True
        return self.waiting is not None

    def agent_asked(self) -> T | None:
        """The agent pressed "Open": the held pop goes now, edits or not."""
        target, self.waiting = self.waiting, None
        return target


__all__ = ["Decision", "Hold", "PopGate"]
