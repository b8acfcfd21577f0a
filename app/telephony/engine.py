"""The telephony engine: one pjsua2 Endpoint on one thread of ours, driven by a command queue.

`Engine.start()` starts the engine thread, which calls `libCreate()` (so it is pjsua2's
"main thread"), runs with `threadCnt=0` + `mainThreadOnly` and polls `libHandleEvents`.
Commands from any other thread are closures put on a queue that the poll loop drains;
results come back as the frozen events of `app.core.calls` through `on_event`, which is
called on the engine thread and must return quickly.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pjsua2 as pj

from app.config import SipSettings
from app.core.calls import (
    CallOffer,
    CallRefused,
    CallState,
    EngineEvent,
    EngineProblem,
    IncomingCall,
    OutgoingCallStarted,
    PresenceChanged,
    RegistrationChanged,
    RegistrationState,
    RingDecision,
    RingPolicy,
    TransferRequested,
    next_auto_answer,
)
from app.core.transfer_context import HEADER as CONTEXT_HEADER
from app.telephony.account import EngineAccount, EngineBuddy, account_config, domain_of
from app.telephony.audio import AudioPipe, AudioRouter, choose_device
from app.telephony.call import ANONYMOUS, EngineCall, MediaStats, dial_param
from app.telephony.endpoint import create_transport, endpoint_config, set_codecs
from app.telephony.sipmsg import (
    auto_answer_after,
    header,
    normalised,
    number_from_uri,
    parse_name_addr,
    read_invite,
    target_uri,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

POLL_MS = 10  # how long libHandleEvents may block; also the worst-case command latency
QUALITY_INTERVAL = 5.0  # seconds between QualityReports of a call (RTCP's own period)


def transfer_context_of(invite: str) -> str:
    """The INVITE's X-Switchboard-Context, copied as text (core parses it; a bounded copy:
    a longer value is refused there anyway)."""
    return (header(invite, CONTEXT_HEADER) or "")[:1024]


class EngineError(RuntimeError):
    """The engine could not start (or is not running); the message says what to do."""


def _pj_reason(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return f"{exc.reason} ({exc.title})" if exc.title else str(exc.reason)
    return str(exc)


class Engine:
    """Softphone engine; see the module docstring for the threading rules."""

    def __init__(self, settings: SipSettings, *, password: str | None, policy: RingPolicy,
                 on_event: Callable[[EngineEvent], None], region: str = "FI",
                 audio: AudioPipe | None = None, log_sip: bool = False,
                 capture_file: str | None = None, record_file: str | None = None) -> None:
        self.settings = settings
        self._capture_file = capture_file
        self._record_file = record_file
        self._password = password
        self._policy = policy
        self._on_event = on_event
        self._region = region
        self._audio = audio  # None: the null device only, calls are silent
        self._log_sip = log_sip
        self._handles = itertools.count(1)
        self._handle_lock = threading.Lock()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._thread_ident: int | None = None
        self._ready = threading.Event()
        self._stop_requested = threading.Event()
        self._start_error: str | None = None
        self._local_name = ""
        # Engine-thread state: pjsua2 objects live only here.
        self._ep: pj.Endpoint | None = None
        self._account: EngineAccount | None = None
        self._calls: dict[int, EngineCall] = {}
        self._finished: list[int] = []
        self.router: AudioRouter | None = None
        self.clock_rate = audio.rate if audio is not None else 8000  # the bridge's
        # How often each call's audio is rated (QualityReport); read at every tick, so a
        # test may shorten it after start().
        self.quality_interval = QUALITY_INTERVAL

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise EngineError("the engine was already started; create a new Engine")
        if self.settings.mode == "registrar" and not self.settings.server:
            raise EngineError('sip.server is empty: set it to the phone system address, '
                              'or set sip.mode = "direct" for peer-to-peer calls')
        self._thread = threading.Thread(target=self._run, name="sip-engine", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise EngineError(f"the SIP engine did not start within {timeout:g} s")
        if self._start_error is not None:
            self._thread.join(timeout)
            raise EngineError(self._start_error)

    def stop(self) -> None:
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stop_requested.set()
        if threading.get_ident() == self._thread_ident:
            return  # called from a callback: the loop ends after this round
        thread.join(15.0)
        if thread.is_alive():
            log.error("the SIP engine thread did not stop within 15 s")

    @property
    def running(self) -> bool:
        return self._ready.is_set() and self._start_error is None and \
            self._thread is not None and self._thread.is_alive()

    @property
    def local_port(self) -> int:
        return int(self._local_name.rsplit(":", 1)[1]) if self._local_name else 0

    @property
    def local_uri(self) -> str:
        params = "" if self.settings.transport == "udp" else \
            f";transport={self.settings.transport}"
        user = self.settings.username or "agent"
        return f"sip:{user}@{self._local_name}{params}"

    def assert_engine_thread(self) -> None:
        assert threading.get_ident() == self._thread_ident, \
            "pjsua2 used outside the engine thread"

    # -- commands (any thread) ----------------------------------------------------------

    def dial(self, target: str, *, caller_id: str | None = None,
             headers: dict[str, str] | None = None) -> int:
        """Start an outgoing call; raises ValueError (InvalidNumber) for an undiallable target."""
        uri, number = target_uri(target, domain=domain_of(self.settings),
                                 transport=self.settings.transport, region=self._region)
        handle = self._next_handle()
        extra = dict(headers or {})
        self._submit(lambda: self._dial(handle, uri, number, caller_id, extra))
        return handle

    def answer(self, handle: int) -> None:
        self._submit(lambda: self._with_call(handle, lambda c: c.accept()))

    def decline(self, handle: int, code: int = 486) -> None:
        if code not in (486, 603):
            raise ValueError("decline code must be 486 (busy) or 603 (decline)")
        self._submit(lambda: self._with_call(handle, lambda c: c.decline(code)))

    def hangup(self, handle: int) -> None:
        self._submit(lambda: self._with_call(handle, lambda c: c.end()))

    def transfer(self, handle: int, target: str, context: str = "") -> None:
        """Blind-transfer a call (REFER) to a number, SIP URI, colleague or queue number.

        A connected call is held first (the customer should not hear the agent while the
        target rings) and referred once the hold is answered. Raises ValueError
        (InvalidNumber) for a target that cannot be dialled, like `dial`; progress comes
        back as TransferStatus events. Once the target has answered, the engine hangs up.
        `context` is an X-Switchboard-Context value for the target (see
        app/core/transfer_context.py), sent in the Refer-To.
        """
        uri, _number = target_uri(target, domain=domain_of(self.settings),
                                  transport=self.settings.transport, region=self._region)
        self._submit(lambda: self._with_call(handle, lambda c: c.transfer(uri, context)))

    def transfer_to_call(self, handle: int, other: int) -> None:
        """Consulted transfer: the caller on `handle` takes over our call `other` (REFER
        with Replaces); held first like `transfer`. Both calls end once it is accepted."""
        self._submit(lambda: self._with_call(handle, lambda c: self._transfer_to(c, other)))

    def _transfer_to(self, call: EngineCall, other: int) -> None:
        target = self._calls.get(other)
        if target is None or target is call:
            call.transfer_target = ""
            call.fail_transfer("no such call to transfer to")
            return
        call.transfer_to(target)

    def find_call(self, handle: int) -> EngineCall | None:
        return self._calls.get(handle)

    def set_mute(self, handle: int, muted: bool) -> None:
        self._submit(lambda: self._with_call(handle, lambda c: c.set_mute(muted)))

    def set_hold(self, handle: int, held: bool) -> None:
        self._submit(lambda: self._with_call(handle, lambda c: c.set_hold(held)))

    def send_dtmf(self, handle: int, digits: str) -> None:
        if not digits or any(d not in "0123456789*#ABCDabcd" for d in digits):
            raise ValueError(f"{digits!r} is not a DTMF digit string")
        method = self.settings.dtmf_method
        self._submit(lambda: self._with_call(handle, lambda c: c.send_digits(digits, method)))

    def start_recording(self, handle: int, path: str, announcement: str | None) -> None:
        """Record the call to a stereo WAV at `path` (far end left, us right); play
        `announcement` (a WAV) to the far end first. RecordingChanged events follow."""
        self._submit(lambda: self._with_call(
            handle, lambda c: c.start_recording(path, announcement)))

    def pause_recording(self, handle: int, paused: bool) -> None:
        self._submit(lambda: self._with_call(handle, lambda c: c.pause_recording(paused)))

    def stop_recording(self, handle: int) -> None:
        self._submit(lambda: self._with_call(handle, lambda c: c.stop_recording()))

    def set_ring_policy(self, policy: RingPolicy) -> None:
        self._policy = policy  # one attribute store: atomic, read on the engine thread

    def publish_presence(self, basic_open: bool, note: str) -> None:
        self._submit(lambda: self._with_account(lambda a: a.publish(basic_open, note)))

    def subscribe_presence(self, uri: str) -> None:
        self._submit(lambda: self._with_account(lambda a: a.subscribe(uri)))

    def media_stats(self, handle: int, timeout: float = 2.0) -> MediaStats | None:
        """RTP packet counters of a call (diagnostics and tests); blocks up to `timeout`."""

        def query() -> MediaStats | None:
            call = self._calls.get(handle)
            return call.media_stats() if call is not None else None

        return self._query(query, timeout)

    def call_handles(self, timeout: float = 2.0) -> list[int] | None:
        """Handles of the calls the engine still holds (diagnostics and tests)."""
        return self._query(lambda: sorted(self._calls), timeout)

    # -- engine-thread plumbing ---------------------------------------------------------

    def _next_handle(self) -> int:
        with self._handle_lock:
            return next(self._handles)

    def _submit(self, fn: Callable[[], None]) -> None:
        if not self.running:
            raise EngineError("the SIP engine is not running")
        self._commands.put(fn)

    def _query(self, fn: Callable[[], T], timeout: float) -> T | None:
        if threading.get_ident() == self._thread_ident:
            return fn()
        done = threading.Event()
        box: list[T] = []

        def run() -> None:
            try:
                box.append(fn())
            finally:
                done.set()

        self._submit(run)
        done.wait(timeout)
        return box[0] if box else None

    def emit(self, event: EngineEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("on_event raised for %s", type(event).__name__)

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_seq), fn))

    def call_finished(self, handle: int) -> None:
        # Deleting the Call inside its own callback would free it under pjsua2's feet.
        self._finished.append(handle)

    def _with_call(self, handle: int, fn: Callable[[EngineCall], Any]) -> None:
        call = self._calls.get(handle)
        if call is None or call.state is CallState.ENDED:
            log.info("command for call %d ignored: no such call in progress", handle)
            return
        try:
            fn(call)
        except pj.Error as exc:
            log.warning("call %d: command failed: %s", handle, _pj_reason(exc))

    def _with_account(self, fn: Callable[[EngineAccount], Any]) -> None:
        if self._account is None:
            return
        try:
            fn(self._account)
        except pj.Error as exc:
            log.warning("account command failed: %s", _pj_reason(exc))
            self.emit(EngineProblem(f"Presence request failed: {exc.reason}"))

    def _run(self) -> None:
        self._thread_ident = threading.get_ident()
        try:
            self._setup()
        except Exception as exc:
            self._start_error = str(exc) if isinstance(exc, EngineError) else \
                f"the SIP engine failed to start: {_pj_reason(exc)}"
            log.error("%s", self._start_error)
            self._teardown()
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop_requested.is_set():
                self._ep.libHandleEvents(POLL_MS)  # type: ignore[union-attr]
                self._round()
        finally:
            self._teardown()

    def _round(self) -> None:
        """One pass of engine housekeeping after a poll: commands, timers, dead calls."""
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            try:
                command()
            except Exception:
                log.exception("engine command failed")
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn = heapq.heappop(self._timers)
            try:
                fn()
            except Exception:
                log.exception("engine timer failed")
        if self._finished:
            for handle in self._finished:
                self._calls.pop(handle, None)
            self._finished.clear()
            if not self._calls and self.router is not None:
                self.router.idle()
            self._auto_answer_due()  # a call ended: the line may be free for a waiting one

    def _setup(self) -> None:
        ep = pj.Endpoint()
        self._ep = ep
        ep.libCreate()
        ep.libInit(endpoint_config(self.settings, log_sip=self._log_sip,
                                   clock_rate=self.clock_rate))
        try:
            transport_id, self._local_name = create_transport(ep, self.settings)
        except pj.Error as exc:
            st = self.settings
            raise EngineError(
                f"could not open SIP {st.transport.upper()} port {st.port or 'any'} on "
                f"{st.listen_address} ({exc.reason}); another program may be using it: set "
                "sip.port to 0 or to a free port") from None
        ep.libStart()
        unknown = set_codecs(ep, self.settings.codecs)
        if unknown:
            log.warning("sip.codecs: no codec named %s in this build", ", ".join(unknown))
        choose_device(ep)
        try:
            self.router = AudioRouter(ep, self._audio, self._capture_file, self._record_file)
        except pj.Error as exc:
            raise EngineError(f"cannot use {self._capture_file} / {self._record_file} as "
                              f"microphone / recording ({exc.reason}); they must be WAV "
                              "files") from None
        account = EngineAccount(self, self.settings)
        host = self.settings.listen_address
        if not host or host == "0.0.0.0":
            host = self._local_name.rsplit(":", 1)[0]
        try:
            account.create(account_config(self.settings, password=self._password,
                                          transport_id=transport_id,
                                          local_host=self._local_name or host))
        except pj.Error as exc:
            raise EngineError(f"the SIP account settings are not valid ({exc.reason}); check "
                              "sip.server, sip.domain and sip.username") from None
        self._account = account
        if self.settings.mode == "direct":
            self.emit(RegistrationChanged(RegistrationState.DISABLED))
        self.schedule(self.quality_interval, self._rate_calls)

    def _teardown(self) -> None:
        ep = self._ep
        if ep is None:
            return
        try:
            self._hang_up_all()
            deadline = time.monotonic() + 2.0
            while self._calls and time.monotonic() < deadline and \
                    ep.libGetState() == pj.PJSUA_STATE_RUNNING:
                ep.libHandleEvents(POLL_MS)
                self._round()
            if self._account is not None:
                self._unregister(ep)
                self._account.close()
                with contextlib.suppress(pj.Error):
                    self._account.shutdown()
                deadline = time.monotonic() + 0.5
                while time.monotonic() < deadline and \
                        ep.libGetState() == pj.PJSUA_STATE_RUNNING:
                    ep.libHandleEvents(POLL_MS)
        finally:
            # A Call or Account alive at libDestroy() aborts the process: drop them first.
            self._calls.clear()
            self._finished.clear()
            self._account = None
            if self.router is not None:
                self.router.close()
                self.router = None
            self._timers.clear()
            gc.collect()
            try:
                ep.libDestroy()
            except pj.Error as exc:
                log.warning("libDestroy: %s", _pj_reason(exc))
            self._ep = None
            del ep
            gc.collect()

    def _unregister(self, ep: pj.Endpoint) -> None:
        """Unregister while the Account still reports back (after shutdown() it cannot)."""
        account = self._account
        if account is None or not account.registered:
            return
        account.closing = True
        try:
            account.setRegistration(False)
        except pj.Error:
            return
        deadline = time.monotonic() + 1.0
        while account.registered and time.monotonic() < deadline and \
                ep.libGetState() == pj.PJSUA_STATE_RUNNING:
            ep.libHandleEvents(POLL_MS)

    def _hang_up_all(self) -> None:
        # A separate function so no local variable keeps a Call alive past libDestroy().
        for call in list(self._calls.values()):
            if call.state is not CallState.ENDED:
                with contextlib.suppress(pj.Error):
                    call.end()

    # -- calls --------------------------------------------------------------------------

    def _dial(self, handle: int, uri: str, number: str, caller_id: str | None,
              headers: dict[str, str]) -> None:
        s = self.settings
        assert self._account is not None
        call = EngineCall(self, self._account, handle, outgoing=True)
        call_id = f"{uuid.uuid4().hex}@switchboard"
        prm = dial_param(s, call_id=call_id, caller_id=caller_id, headers=headers,
                         domain=domain_of(s) or self._local_name)
        shown = caller_id or s.username
        self._calls[handle] = call
        self.emit(OutgoingCallStarted(handle, call_id, uri, number, shown))
        try:
            call.makeCall(uri, prm)
        except pj.Error as exc:
            log.warning("dial %s failed: %s", uri, _pj_reason(exc))
            call.fail(500, f"Could not place the call: {exc.reason}")

    def incoming_call(self, prm: pj.OnIncomingCallParam) -> None:
        """Account.onIncomingCall: decide at once, answer 180 or the refusal right here."""
        assert self._account is not None
        s = self.settings
        message = str(prm.rdata.wholeMsg)
        facts = read_invite(message, queue_header=s.queue_header,
                            region=None)  # numbers are normalised after the 180
        handle = self._next_handle()
        call = EngineCall(self, self._account, handle, outgoing=False, call_id=prm.callId)
        in_progress = sum(1 for c in self._calls.values() if c.state is not CallState.ENDED
                          and not c.silent)
        offer = CallOffer(facts.remote_number, facts.display_name, facts.queue, in_progress)
        try:
            decision = self._policy(offer)
        except Exception:
            log.exception("ring policy failed; ringing anyway")
            decision = RingDecision(True)
        self._calls[handle] = call  # keep the Python object alive until DISCONNECTED
        if not decision.ring:
            call.refuse(decision.sip_code, decision.reason)
            facts = normalised(facts, self._region)
            self.emit(CallRefused(facts.call_id, facts.remote_number, facts.display_name,
                                  facts.queue, decision.sip_code, decision.reason))
            return
        after = auto_answer_after(enabled=s.auto_answer, delay=s.auto_answer_delay,
                                  only_when_requested=s.auto_answer_only_when_requested,
                                  requested=facts.requested_auto_answer)
        if after is not None:
            # Kept even for call waiting: the call is auto-answered once the line is free.
            call.auto_answer_due = time.monotonic() + max(0.0, after)
        # 180 first: the caller should hear ringing before any consumer code runs. It
        # emits no CallStateChanged (RINGING is where an incoming call starts).
        call.ring()
        # A caller that never sends CANCEL (crashed PBX, lost network) must not hold one
        # of pjsua2's four call slots for ever.
        self.schedule(s.max_ring_seconds, lambda: self._ring_timeout(handle))
        facts = normalised(facts, self._region)
        # auto_answer_after is what the agent is told now: a waiting call is not answered
        # after that delay but when the line is free (see core.calls.next_auto_answer).
        self.emit(IncomingCall(handle, facts.call_id, facts.remote_uri, facts.remote_number,
                               facts.display_name, facts.queue, facts.local_number,
                               None if in_progress else after, waiting=in_progress > 0,
                               context=transfer_context_of(message)))
        if after is not None:
            if after <= 0:
                self._auto_answer_due()
            else:
                self.schedule(after, self._auto_answer_due)

    def _rate_calls(self) -> None:
        """Every few seconds: a QualityReport for each call that received audio."""
        for call in list(self._calls.values()):
            if call.silent or call.state not in (CallState.CONNECTED, CallState.HELD):
                continue
            try:
                report = call.sample_quality()
            except pj.Error as exc:
                log.debug("call %d: no stream statistics (%s)", call.handle, exc.reason)
                continue
            if report is not None:
                self.emit(report)
        self.schedule(self.quality_interval, self._rate_calls)

    def _auto_answer_due(self) -> None:
        """Answer the call core's auto-answer rule picks, if any (one per line freed)."""
        def state(c: EngineCall) -> CallState:
            # Answered but CONNECTING not reported yet: already a call the agent is in.
            return CallState.CONNECTING if c.answering and c.state is CallState.RINGING \
                else c.state

        handle = next_auto_answer([(c.handle, state(c), c.auto_answer_due)
                                   for c in self._calls.values() if not c.silent],
                                  time.monotonic())
        if handle is not None:
            self._with_call(handle, lambda c: c.accept())

    def _ring_timeout(self, handle: int) -> None:
        call = self._calls.get(handle)
        if call is None or call.state is not CallState.RINGING or call.answering:
            return
        log.info("call %d rang %g s without an answer: ending it with 480", handle,
                 self.settings.max_ring_seconds)
        try:
            call.expire()
        except pj.Error as exc:
            log.warning("call %d: ending the ringing call failed: %s", handle,
                        _pj_reason(exc))

    def transfer_requested(self, call: EngineCall, target: str) -> EngineCall:
        """EngineCall.onCallTransferRequest: the new call pjsua2 is about to place."""
        assert self._account is not None
        handle = self._next_handle()
        # Refer-To may carry parameters and embedded headers (?Replaces=...): not shown.
        uri = parse_name_addr(target).uri.split("?", 1)[0]
        number = number_from_uri(uri, self._region)
        new = EngineCall(self, self._account, handle, outgoing=True)
        new.pending_start = (uri, number, self.settings.username)
        self._calls[handle] = new
        log.info("call %d: the far end transfers us to %s (new call %d)", call.handle, uri,
                 handle)
        self.emit(TransferRequested(call.handle, handle, uri, number))
        # pjsua2 places the call right after this callback (its CALLING state comes at
        # once); if it could not, the new call never reports a state and must not be
        # left behind. The margin only delays that clean-up.
        self.schedule(5.0, lambda: self._check_transfer_call(handle))
        return new

    def replace_requested(self, call: EngineCall, invite: str) -> EngineCall:
        """EngineCall.onCallReplaceRequest: the call that takes over `call`."""
        assert self._account is not None
        handle = self._next_handle()
        new = EngineCall(self, self._account, handle, outgoing=False)
        self._calls[handle] = new
        facts = normalised(read_invite(invite, queue_header=self.settings.queue_header,
                                       region=None), self._region)
        log.info("call %d is replaced by call %d from %s", call.handle, handle,
                 facts.remote_uri)
        # No ring policy and no ringing: pjsua2 answers a call that replaces a connected
        # one by itself (and ends the replaced call).
        self.emit(IncomingCall(handle, facts.call_id, facts.remote_uri, facts.remote_number,
                               facts.display_name, facts.queue, facts.local_number, 0.0,
                               waiting=False, replaces=call.handle,
                               context=transfer_context_of(invite)))
        return new

    def _check_transfer_call(self, handle: int) -> None:
        call = self._calls.get(handle)
        if call is not None and call.pending_start is not None:
            call.announce("")
            call.fail(500, "The transfer call could not be placed")

    def presence_changed(self, buddy: EngineBuddy) -> None:
        info = buddy.getInfo()
        status = info.presStatus
        if status.status == pj.PJSUA_BUDDY_STATUS_UNKNOWN:
            return  # subscription pending or no document yet: nothing to report
        self.emit(PresenceChanged(uri=buddy.uri,
                                  basic_open=status.status == pj.PJSUA_BUDDY_STATUS_ONLINE,
                                  note=str(status.note), state_text=str(status.statusText)))


__all__ = ["ANONYMOUS", "Engine", "EngineError", "MediaStats"]
