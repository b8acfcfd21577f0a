"""A stand-in for our own Engine (app/telephony/engine.py) for tests that drive the app
without SIP.

`ScriptedEngine` is built like `Engine(sip, password=..., policy=..., on_event=...)` (pass
it, or a factory making it, as `build_app`'s `engine_factory`). It records each command in
`commands` and answers it with the events a real engine would send, through `on_event`
(the real GuiPoster in an app), and plays the far end with `ring`, `remote_answers` and
`remote_hangs_up`. Not a fake of an outside service: it follows our own engine interface.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from app.config import SipSettings
from app.core.calls import (
    CallState,
    CallStateChanged,
    EngineEvent,
    HangupSide,
    IncomingCall,
    MediaChanged,
    OutgoingCallStarted,
)


class ScriptedEngine:
    """Plays the engine: commands are recorded and answered with engine events."""

    def __init__(self, settings: SipSettings, *, password: str | None, policy: Any,
                 on_event: Callable[[EngineEvent], None], region: str = "FI",
                 audio: Any = None, log_sip: bool = False) -> None:
        self.emit = on_event
        self.commands: list[tuple[Any, ...]] = []
        self.handles = itertools.count(1)
        self.start_error: Exception | None = None
        self.started = self.stopped = False

    def start(self, timeout: float = 10.0) -> None:
        if self.start_error is not None:
            raise self.start_error
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    # commands
    def dial(self, target: str, *, caller_id: str | None = None,
             headers: dict[str, str] | None = None) -> int:
        handle = next(self.handles)
        self.commands.append(("dial", target, caller_id))
        self.emit(OutgoingCallStarted(handle, f"out-{handle}", f"sip:{target}@pbx", target,
                                      caller_id or "201"))
        self.emit(CallStateChanged(handle, CallState.ALERTING, 180, "Ringing"))
        return handle

    def answer(self, handle: int) -> None:
        self.commands.append(("answer", handle))
        self.emit(CallStateChanged(handle, CallState.CONNECTED, 200, "OK"))

    def decline(self, handle: int, code: int = 486) -> None:
        self.commands.append(("decline", handle))
        self.emit(CallStateChanged(handle, CallState.ENDED, code, "Busy Here",
                                   HangupSide.LOCAL))

    def hangup(self, handle: int) -> None:
        self.commands.append(("hangup", handle))
        self.emit(CallStateChanged(handle, CallState.ENDED, 200, "Normal call clearing",
                                   HangupSide.LOCAL))

    def set_mute(self, handle: int, muted: bool) -> None:
        self.commands.append(("mute", handle, muted))
        self.emit(MediaChanged(handle, True, muted, False, False))

    def set_hold(self, handle: int, held: bool) -> None:
        self.commands.append(("hold", handle, held))
        self.emit(CallStateChanged(handle, CallState.HELD if held else CallState.CONNECTED))

    def send_dtmf(self, handle: int, digits: str) -> None:
        self.commands.append(("dtmf", handle, digits))

    def transfer(self, handle: int, target: str, context: str = "") -> None:
        # The far end's progress (NOTIFY sipfrag) is the test's to play: `emit`.
        self.commands.append(("transfer", handle, target, context))

    def transfer_to_call(self, handle: int, other: int) -> None:
        self.commands.append(("transfer_to_call", handle, other))

    # what the far end does
    def ring(self, number: str = "+358401234567", name: str = "Maija Meikäläinen",
             queue: str | None = "Sales") -> int:
        handle = next(self.handles)
        self.emit(IncomingCall(handle, f"in-{handle}", f"sip:{number}@pbx", number, name,
                               queue, "201", None, waiting=False))
        return handle

    def remote_answers(self, handle: int) -> None:
        self.emit(CallStateChanged(handle, CallState.CONNECTED, 200, "OK"))

    def remote_hangs_up(self, handle: int) -> None:
        self.emit(CallStateChanged(handle, CallState.ENDED, 200, "", HangupSide.REMOTE))



__all__ = ["ScriptedEngine"]
