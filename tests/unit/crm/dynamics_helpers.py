"""Shared pieces of the Dynamics tests: a token source, a call activity, a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from app.core.crm import CallActivity, RecordRef

T0 = datetime(2025, 3, 4, 9, 15, 0, tzinfo=timezone.utc)
T1 = datetime(2025, 3, 4, 9, 17, 1, tzinfo=timezone.utc)  # 121 s later


class StaticTokens:
    """Hands out `token`; `refreshed` lists the force_refresh calls; `after_refresh` swaps."""

    def __init__(self, token: str = "good-token", after_refresh: str | None = None) -> None:
        self.token = token
        self.after_refresh = after_refresh
        self.calls: list[bool] = []

    def access_token(self, *, force_refresh: bool = False) -> str:
        self.calls.append(force_refresh)
        if force_refresh and self.after_refresh is not None:
            self.token = self.after_refresh
        return self.token


@dataclass
class FakeClock:
    """`sleep` advances `now`; `slept` records every wait asked for."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def activity(call_id: str = "a84b4c76e66710@pbx.example.com", *, direction: str = "inbound",
             regarding: tuple[RecordRef, ...] = (), notes: str = "Wants a callback on Friday",
             queue: str = "", result: str = "answered") -> CallActivity:
    word = "from" if direction == "inbound" else "to"
    return CallActivity(call_id=call_id, subject=f"Call {word} Matti Meikäläinen",
                        direction=direction, result=result,
                        started_at=T0, ended_at=T1, duration_seconds=121,
                        caller_number="+358401234567", queue=queue, queue_wait_seconds=12,
                        notes=notes, regarding=regarding)
