"""The transfer half of a pjsua2 call: REFER out (blind or with Replaces), its progress,
and being transferred or replaced.

`CallTransfer` is mixed into `EngineCall` (app/telephony/call.py), ahead of `pj.Call`, so
pjsua2's director finds these callbacks on the call object as it finds the others. Like
the rest of the call it runs on the engine thread only. The rules it keeps:

- a connected call is held before the REFER, which goes out once the hold is answered
  (sent back to back, the REFER can overtake the re-INVITE through a proxy);
- a blind transfer's X-Switchboard-Context (app/core/transfer_context.py) goes into the
  Refer-To as an embedded header; the transferee copies it into its INVITE;
- the outcome is taken from the first final NOTIFY, and BYE waits for the next engine
  round (a BYE racing a pending REFER subscription is a known pjsip crash);
- an incoming REFER or INVITE with Replaces gets a fresh Call object (`prm.newCall`) so
  one Python object never serves two calls.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import pjsua2 as pj

from app.core.calls import CallState, TransferState, TransferStatus
from app.core.transfer_context import refer_to
from app.telephony.guard import guarded
from app.telephony.mapping import MediaStatus, transfer_state

if TYPE_CHECKING:
    from app.telephony.call import CallHost, EngineCall

log = logging.getLogger("app.telephony.call")  # one logger for the whole call


class CallTransfer:
    """Transfers of one EngineCall (see the module docstring)."""

    host: CallHost
    handle: int
    state: CallState
    silent: bool
    local_hangup: bool
    _audio_status: MediaStatus

    if TYPE_CHECKING:  # pj.Call's and EngineCall's own, used here
        def xfer(self, dest: str, prm: Any) -> None: ...
        def xferReplaces(self, dest_call: Any, prm: Any) -> None: ...
        def set_hold(self, held: bool) -> None: ...

    def _init_transfer(self) -> None:
        self.transfer_target = ""  # the URI of a blind transfer we started
        # A transfer waiting for its hold re-INVITE to finish: (target URI, the handle of
        # the call it replaces for a consulted transfer, else None).
        self._pending_refer: tuple[str, int | None] | None = None
        self._consulted: int | None = None  # the call a sent REFER with Replaces names
        self._refer_context = ""  # X-Switchboard-Context value for a blind transfer's target

    @guarded
    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        """Progress of the transfer we started (REFER response, then NOTIFY sipfrags)."""
        self.host.assert_engine_thread()
        code, final = int(prm.statusCode), bool(prm.finalNotify)
        state = transfer_state(code, final)
        if state in (TransferState.ACCEPTED, TransferState.FAILED):
            prm.cont = False  # we have the outcome; later NOTIFYs change nothing
        self._transfer_status(state, code, str(prm.reason), final)
        if state is TransferState.ACCEPTED:
            # The customer is the target's now. BYE only after this NOTIFY has been
            # handled (queued for the next engine round): a BYE sent while the REFER
            # subscription is still being processed is a known pjsip crash.
            self.host.hangup(self.handle)
            consulted = self._consulted
            if consulted is not None:
                # The target ends the replaced call itself (RFC 3891); should it not,
                # ours must not stay up talking to nobody.
                self.host.schedule(5.0, lambda: self.host.hangup(consulted))

    @guarded
    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        """The far end transfers us: honour it with a fresh Call object for the new call
        (without one, pjsua2 lets this object serve both calls)."""
        self.host.assert_engine_thread()
        prm.newCall = self.host.transfer_requested(cast("EngineCall", self),
                                                   str(prm.dstUri))

    @guarded
    def onCallReplaceRequest(self, prm: pj.OnCallReplaceRequestParam) -> None:
        """An INVITE with Replaces for this call (we were consulted, and the consulting
        agent completed the transfer): the new call gets a fresh Call object; pjsua2
        answers it by itself and ends this call."""
        self.host.assert_engine_thread()
        self.local_hangup = True  # ended on our side, on purpose
        prm.newCall = self.host.replace_requested(cast("EngineCall", self),
                                                  str(prm.rdata.wholeMsg))

    def fail_transfer(self, reason: str) -> None:
        self._transfer_status(TransferState.FAILED, 0, reason, True)

    def _transfer_status(self, state: TransferState, code: int, reason: str,
                         final: bool) -> None:
        if not self.silent:
            self.host.emit(TransferStatus(self.handle, state, code, reason, final,
                                          self.transfer_target))

    def transfer(self, uri: str, context: str = "") -> None:
        """Blind transfer (REFER) to `uri`; progress comes back in onCallTransferStatus.
        `context` (app/core/transfer_context.py) goes into the Refer-To as an embedded
        header, which the transferee copies into its INVITE to the target."""
        self._refer_context = context
        self._start_refer(uri, None)

    def transfer_to(self, other: EngineCall) -> None:
        """Consulted transfer: REFER with Replaces, so our caller takes over `other`."""
        try:
            target = str(other.getInfo().remoteUri)
        except pj.Error:
            target = ""
        self._start_refer(target, other.handle)

    def _start_refer(self, target: str, replaces: int | None) -> None:
        """A connected call is put on hold first and referred once the hold is answered:
        sent back to back, the REFER can overtake the re-INVITE through a proxy, and the
        far end must then refuse the re-INVITE (500 Invalid CSeq, RFC 3261 12.2.2).
        """
        self.transfer_target = target
        if self.state not in (CallState.CONNECTED, CallState.HELD):
            self._transfer_status(TransferState.FAILED, 0,
                                  f"cannot transfer a call that is {self.state.value}", True)
            return
        self._pending_refer = (target, replaces)
        if self.state is CallState.CONNECTED and \
                self._audio_status != MediaStatus.LOCAL_HOLD:
            try:
                self.set_hold(True)
                return
            except pj.Error as exc:
                log.info("call %d: hold before transfer failed (%s)", self.handle,
                         exc.reason)
        self._refer()

    def _refer(self) -> None:
        pending, self._pending_refer = self._pending_refer, None
        if pending is None or self.state is CallState.ENDED:
            return  # already sent, or the call ended while the hold was under way
        uri, replaces = pending
        try:
            if replaces is None:
                self.xfer(refer_to(uri, self._refer_context), pj.CallOpParam(True))
                return
            other = self.host.find_call(replaces)
            if other is None or other.state not in (CallState.CONNECTED, CallState.HELD):
                self._transfer_status(TransferState.FAILED, 0,
                                      "the consultation call has ended", True)
                return
            self.xferReplaces(other, pj.CallOpParam(True))
            self._consulted = other.handle
        except pj.Error as exc:
            self._transfer_status(TransferState.FAILED, 0, str(exc.reason), True)


__all__ = ["CallTransfer"]
