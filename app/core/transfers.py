"""Transfers in the agent's phone session: blind, consulted, being transferred, and the
CRM context that goes with them.

`TransferMixin` is the transfer half of `PhoneSession` (app/core/phone.py), pure Python
like it; the session's call table, engine commands and listeners are its own. The rules:

- a blind transfer of a connected call holds the customer first (the engine does that,
  then sends the REFER) and follows the far end's progress on `Call.transfer`; when it
  fails the customer is still ours and is taken off hold, unless the agent is on another
  call by then (then it stays held for the agent to resume) or had held it before
  transferring. When it is accepted the engine hangs up;
- when the far end transfers us (REFER), the call to the target starts like a dialled
  one: the other connected calls are held, and the old call shows `transferred_to`;
- a consultation (`consult`) holds the customer and dials the colleague; the agent may
  swap between the two (`swap`, or `set_hold`), complete (`complete_transfer`: the
  customer takes over the consultation, both our calls end) or cancel
  (`cancel_consultation`), or hand the customer over before the colleague answers
  (`transfer_to_consultation`: semi-attended, see there). When the consultation ends
  without being completed
  (cancelled, busy, declined, hung up by the colleague), the customer is taken off hold
  unless the agent is on another call;
- a call that takes over another (INVITE with Replaces: we were consulted and the other
  agent completed) is answered by the engine; `Call.replaces` / `replaced_by` link them;
- the CRM context travels with a transfer (app/core/transfer_context.py): what
  `set_transfer_context`'s provider says about the call goes to the target in the
  Refer-To (blind) or on the consultation INVITE (consulted); an incoming call's header
  becomes `Call.context`, and a call that replaces another takes the replaced one's;
- an accepted transfer is in the call's record: to whom, blind or consulted, and when.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from app.core.calls import (
    Call,
    CallState,
    IncomingCall,
    TransferRequested,
    TransferState,
    TransferStatus,
)
from app.core.dialing import CallControl, DialOutcome, dial_target
from app.core.numbers import InvalidNumber
from app.core.transfer_context import HEADER as CONTEXT_HEADER
from app.core.transfer_context import TransferContext
from app.core.transfer_context import decode as decode_context
from app.core.transfer_context import encode as encode_context

log = logging.getLogger(__name__)

T = TypeVar("T")


class TransferMixin:
    """The transfer intents and events of PhoneSession (see the module docstring)."""

    _calls: dict[int, Call]
    _control: CallControl
    _on_call_updated: list[Callable[[Call], None]]
    region: str

    if TYPE_CHECKING:  # the session's own, used here
        @property
        def calls(self) -> list[Call]: ...
        @property
        def active(self) -> Call | None: ...
        def _notify(self, listeners: list[Callable[[T], None]], value: T) -> None: ...
        def _command(self, what: str, fn: Callable[..., T], *args: Any,
                     **kw: Any) -> T | None: ...
        def _hold_others(self, keep: int) -> None: ...
        def _dial(self, text: str, headers: dict[str, str] | None) -> DialOutcome: ...
        def hangup(self, handle: int) -> bool: ...
        def set_hold(self, handle: int, held: bool) -> bool: ...

    def _init_transfers(self) -> None:
        self._held_for_transfer: set[int] = set()
        # consultation handle → customer handle, until its OutgoingCallStarted arrives
        self._pending_consultations: dict[int, int] = {}
        self._context_of: Callable[[Call], TransferContext | None] | None = None
        # consultation handle → what was dialled, for a transfer before it is answered
        self._consultation_targets: dict[int, str] = {}
        # customers whose ringing consultation is being cancelled to transfer them
        self._handing_over: set[int] = set()

    def _received_context(self, call: Call, ev: IncomingCall, replaced: Call | None) -> None:
        """An incoming call's X-Switchboard-Context; one that replaces our consultation
        takes the consultation's (the record and case the consulting agent sent)."""
        call.context = decode_context(ev.context)
        if ev.context and call.context is None:
            log.warning("call %d: ignored a malformed %s header", ev.handle, CONTEXT_HEADER)
        if replaced is not None:
            call.context = call.context or replaced.context

    def set_transfer_context(self, provider: Callable[[Call], TransferContext | None] | None
                             ) -> None:
        """Who knows a call's CRM record and case (the CRM wiring): asked at each transfer
        for the context the target gets. None: transfers carry no context."""
        self._context_of = provider

    def _context_header(self, call: Call, kind: str) -> str:
        """The X-Switchboard-Context value for transferring `call` ("" for none)."""
        if self._context_of is None:
            return ""
        try:
            ctx = self._context_of(call)
            if ctx is None:
                return ""
            return encode_context(TransferContext(ctx.crm, ctx.record, ctx.case_id,
                                                  ctx.number, kind))
        except Exception:  # the transfer matters more than its context
            log.exception("no transfer context for call %d", call.handle)
            return ""

    def _transfer_status(self, ev: TransferStatus) -> None:
        call = self._calls.get(ev.handle)
        if call is None:
            return
        call.apply_transfer(ev)
        if ev.state is TransferState.FAILED and ev.handle in self._held_for_transfer:
            self._held_for_transfer.discard(ev.handle)
            if call.state is CallState.HELD and self.active is None:
                self._command("take the call off hold", self._control.set_hold, ev.handle,
                              False)
        self._notify(self._on_call_updated, call)

    def _transfer_requested(self, ev: TransferRequested) -> None:
        call = self._calls.get(ev.handle)
        if call is not None:
            call.transferred_to = ev.target_number or ev.target_uri
            self._notify(self._on_call_updated, call)
        # The new call is the one the agent is on now, as if dialled.
        self._hold_others(keep=ev.new_handle)

    def _consultation_ended(self, consultation: Call) -> None:
        """The customer comes back off hold when a consultation ends without a transfer."""
        self._consultation_targets.pop(consultation.handle, None)
        if consultation.consultation_for is None or \
                consultation.consultation_for in self._handing_over:
            return
        customer = self._calls.get(consultation.consultation_for)
        if customer is None or customer.state is not CallState.HELD or \
                customer.transfer in (TransferState.TRYING, TransferState.RINGING,
                                      TransferState.ACCEPTED) or self.active is not None:
            return
        self._command("take the call off hold", self._control.set_hold, customer.handle,
                      False)

    def transfer(self, handle: int, text: str) -> DialOutcome:
        """Blind-transfer a connected (or held) call to what the agent typed or picked: a
        number, a SIP address, a colleague's address or a queue's number."""
        call = self._calls.get(handle)
        if call is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            return DialOutcome(error="Only a call in progress can be transferred")
        if call.transferring:
            return DialOutcome(error="This call is already being transferred")
        try:
            target = dial_target(text, self.region)
        except InvalidNumber as exc:
            message = str(exc)
            return DialOutcome(error=message[:1].upper() + message[1:])
        context = self._context_header(call, "blind")
        try:
            if context:  # holds a connected call first
                self._control.transfer(handle, target, context=context)
            else:
                self._control.transfer(handle, target)
        except Exception as exc:  # bad target by the engine's rule, engine not running
            log.warning("transfer of call %d to %s failed: %s", handle, target, exc)
            return DialOutcome(target=target, error=f"The call could not be transferred: "
                                                    f"{exc}")
        if call.state is CallState.CONNECTED:
            self._held_for_transfer.add(handle)
        call.transfer = TransferState.TRYING
        call.transfer_target = target
        call.transfer_reason = ""
        call.transfer_kind = "blind"
        self._notify(self._on_call_updated, call)
        return DialOutcome(target=target, handle=handle)

    def consult(self, handle: int, text: str) -> DialOutcome:
        """Hold the customer on `handle` and call a colleague (number, address, queue)."""
        call = self._calls.get(handle)
        if call is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            return DialOutcome(error="Only a call in progress can be transferred")
        if call.transferring:
            return DialOutcome(error="This call is already being transferred")
        if any(c.consultation_for == handle for c in self._calls.values()):
            return DialOutcome(error="A consultation for this call is already going on")
        context = self._context_header(call, "consulted")
        # Holds the customer as the consultation starts.
        outcome = self._dial(text, {CONTEXT_HEADER: context} if context else None)
        if outcome.handle is not None:
            self._pending_consultations[outcome.handle] = handle
            self._consultation_targets[outcome.handle] = outcome.target
            consultation = self._calls.get(outcome.handle)
            if consultation is not None:  # the engine reported it already
                consultation.consultation_for = handle
        return outcome

    def consultation_of(self, handle: int) -> Call | None:
        """The consultation call going on for the customer call `handle`, if any."""
        return next((c for c in self.calls if c.consultation_for == handle), None)

    def complete_transfer(self, consultation: int) -> bool:
        """Hand the customer to the consulted colleague (REFER with Replaces)."""
        call = self._calls.get(consultation)
        customer = self._calls.get(call.consultation_for) if call and \
            call.consultation_for is not None else None
        if call is None or customer is None or call.state not in (CallState.CONNECTED,
                                                                   CallState.HELD):
            return False
        if customer.transferring:
            return False
        customer.transfer = TransferState.TRYING
        customer.transfer_target = call.remote_number
        customer.transfer_reason = ""
        customer.transfer_kind = "consulted"
        self._command("transfer the call", self._control.transfer_to_call,
                      customer.handle, call.handle)
        self._notify(self._on_call_updated, customer)
        return True

    def transfer_to_consultation(self, consultation: int) -> DialOutcome:
        """Hand the customer to the colleague of `consultation` at once, answered or not.

        Answered: `complete_transfer` (REFER with Replaces). Still ringing: a Replaces
        cannot take over an early dialog the target did not start (RFC 3891 §3), so this
        is the semi-attended transfer: the ringing consultation is cancelled and the
        customer blind-transferred (REFER, the blind path's context) to what was dialled.
        If that transfer fails, the customer comes back as from any failed transfer.
        """
        call = self._calls.get(consultation)
        customer = self._calls.get(call.consultation_for) if call and \
            call.consultation_for is not None else None
        if call is None or customer is None:
            return DialOutcome(error="This is not a consultation")
        if call.state in (CallState.CONNECTED, CallState.HELD):
            if self.complete_transfer(consultation):
                return DialOutcome(target=call.remote_number, handle=customer.handle)
            return DialOutcome(error="This call is already being transferred")
        # CONNECTING: the colleague has answered, too late to cancel; Complete comes next.
        if call.state not in (CallState.DIALING, CallState.ALERTING):
            return DialOutcome(error="The colleague is answering; complete the transfer")
        if customer.transferring or customer.state not in (CallState.CONNECTED,
                                                           CallState.HELD):
            return DialOutcome(error="This call is already being transferred")
        target = self._consultation_targets.get(consultation) or call.remote_number
        # The consultation's end must not take the customer off hold in between: the
        # engine may report it before the REFER has gone.
        self._handing_over.add(customer.handle)
        try:
            self.hangup(consultation)  # CANCEL first: the colleague's phone is free again
            outcome = self.transfer(customer.handle, target)
        finally:
            self._handing_over.discard(customer.handle)
        if outcome.ok:
            # The consultation held the customer, not the agent: a failure gives it back.
            self._held_for_transfer.add(customer.handle)
        elif consultation not in self._calls:  # ended already, and skipped the resume
            self._consultation_ended(call)
        return outcome

    def cancel_consultation(self, consultation: int) -> bool:
        """End the consultation; the customer comes back off hold when it has ended."""
        call = self._calls.get(consultation)
        if call is None or call.consultation_for is None:
            return False
        return self.hangup(consultation)

    def swap(self, handle: int) -> bool:
        """Talk to the other party of a consultation (`handle` is either call of the
        pair): whichever of the two is held is resumed, which holds the other."""
        call = self._calls.get(handle)
        if call is None:
            return False
        pair = [c for c in self.calls if c.handle == handle
                or (call.consultation_for is not None and c.handle == call.consultation_for)
                or c.consultation_for == handle]
        held = next((c for c in pair if c.state is CallState.HELD), None)
        return len(pair) == 2 and held is not None and self.set_hold(held.handle, False)


__all__ = ["TransferMixin"]
