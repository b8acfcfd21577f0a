"""One pjsua2 call: its callbacks become our frozen events, our commands become pjsua2 calls.

Every method runs on the engine thread. Callbacks copy what they need out of pjsua2 at
once and never raise back into the library (an exception inside a SWIG director callback
can take the process down).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pjsua2 as pj

from app.config import SipSettings
from app.core.calls import (
    LEGAL_TRANSITIONS,
    CallState,
    CallStateChanged,
    DtmfReceived,
    EngineEvent,
    HangupSide,
    HoldFailed,
    MediaChanged,
    OutgoingCallStarted,
    RecordingChanged,
    RecordingState,
)
from app.core.display_number import ANONYMOUS  # the caller id that hides the number
from app.core.quality import QualityReport, estimate_mos, loss_percent
from app.telephony.guard import guarded
from app.telephony.mapping import (
    MediaStatus,
    early_media,
    hangup_side,
    held_state,
    next_state,
    state_for_inv,
)
from app.telephony.recording import FLUSH_SECONDS, CallRecording
from app.telephony.transfer import CallTransfer

if TYPE_CHECKING:
    from app.telephony.audio import AudioRouter

log = logging.getLogger(__name__)


class CallHost(Protocol):
    """What a call needs from the engine."""

    router: AudioRouter | None
    clock_rate: int  # the conference bridge's, so recordings are written at it

    def emit(self, event: EngineEvent) -> None: ...

    def assert_engine_thread(self) -> None: ...

    def call_finished(self, handle: int) -> None: ...

    def hangup(self, handle: int) -> None: ...

    def schedule(self, delay: float, fn: Callable[[], None]) -> None: ...

    def transfer_requested(self, call: EngineCall, target: str) -> EngineCall: ...

    def replace_requested(self, call: EngineCall, invite: str) -> EngineCall: ...

    def find_call(self, handle: int) -> EngineCall | None: ...


@dataclass(frozen=True)
class MediaStats:
    """RTP counters of a call's audio stream (from RTCP statistics)."""

    rx_packets: int
    tx_packets: int
    rx_level: int  # 0..255, last level of the audio received from the far end
    srtp: bool = False  # the stream's transport is secure RTP (RTP/SAVP): SRTP negotiated


# The "S" of RTP/SAVP in pjmedia_tp_proto: set for SRTP (SDES or DTLS), not for RTP/AVP.
_SECURE_PROFILE = pj.PJMEDIA_TP_PROTO_RTP_SAVP & ~pj.PJMEDIA_TP_PROTO_RTP_AVP


def _caused_by_remote(event: pj.SipEvent) -> bool:
    """Was this disconnect triggered by a message received from the far end?"""
    if event.type == pj.PJSIP_EVENT_RX_MSG:
        return True
    if event.type == pj.PJSIP_EVENT_TSX_STATE:
        return bool(event.body.tsxState.type == pj.PJSIP_EVENT_RX_MSG)
    return False


class EngineCall(CallTransfer, pj.Call):
    """pjsua2 Call subclass owned by the engine; `handle` is ours and never reused."""

    def __init__(self, host: CallHost, account: pj.Account, handle: int, *, outgoing: bool,
                 call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.host = host
        self.handle = handle
        self.outgoing = outgoing
        self.state = CallState.DIALING if outgoing else CallState.RINGING
        self.silent = False  # refused before ringing: no CallStateChanged events
        self.local_hangup = False
        self.muted = False
        self.hold_requested = False
        self.answering = False  # 200 sent, CONNECTING not reported yet
        self.auto_answer_due: float | None = None  # monotonic time; None: never by itself
        self._init_transfer()  # app/telephony/transfer.py
        # A call pjsua2 places for an incoming REFER: (uri, number, local number) for the
        # OutgoingCallStarted sent once pjsua2 gives it its Call-ID.
        self.pending_start: tuple[str, str, str] | None = None
        self._media: MediaChanged | None = None
        self._audio_status = MediaStatus.NONE
        self.recording: CallRecording | None = None
        self._quality_counts = (0, 0, 0, 0)  # rx packets, rx lost, tx packets, tx lost

    # -- helpers ------------------------------------------------------------------------

    def _report(self, state: CallState, code: int = 0, reason: str = "", *,
                side: HangupSide = HangupSide.NONE, early: bool = False,
                from_media: bool = False) -> None:
        if state is CallState.ENDED:
            wanted: CallState | None = state
        elif from_media:  # hold/resume: held_state() already checked it
            wanted = state if state in LEGAL_TRANSITIONS[self.state] else None
        else:
            wanted = next_state(self.state, state)
        if wanted is None or wanted is self.state:
            return
        self.state = wanted
        if self.silent:
            return
        self.host.emit(CallStateChanged(self.handle, wanted, sip_code=code, reason=reason,
                                        hangup_side=side, early_media=early))

    def _audio_index(self, info: pj.CallInfo) -> tuple[int, int]:
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO:
                return media.index, media.status
        return -1, MediaStatus.NONE

    def _emit_media(self) -> None:
        status = self._audio_status
        event = MediaChanged(
            handle=self.handle,
            active=status == MediaStatus.ACTIVE,
            muted=self.muted,
            held_locally=status == MediaStatus.LOCAL_HOLD or (
                self.hold_requested and status == MediaStatus.NONE),
            held_remotely=status == MediaStatus.REMOTE_HOLD,
        )
        if self.recording is not None:
            # The agent's side of the recording is what the far end hears: nothing while
            # muted or held.
            self.recording.set_near_active(not event.muted and not event.held_locally)
        if event != self._media and not self.silent and self.state is not CallState.ENDED:
            self._media = event
            self.host.emit(event)

    # -- pjsua2 callbacks ---------------------------------------------------------------

    @guarded
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.host.assert_engine_thread()
        info = self.getInfo()
        if self.pending_start is not None:
            self.announce(str(info.callIdString))
        new = state_for_inv(info.state, self.outgoing)
        code, reason = int(info.lastStatusCode), str(info.lastReason)
        if new is CallState.ENDED:
            self.stop_recording()  # the file is complete before the call is reported ended
            if self.state is not CallState.ENDED:
                side = hangup_side(local_request=self.local_hangup, sip_code=code,
                                   remote_message=_caused_by_remote(prm.e),
                                   outgoing=self.outgoing)
                self._report(CallState.ENDED, code, reason, side=side)
            self.host.call_finished(self.handle)
            return
        if new is None:
            return
        early = False
        if new is CallState.ALERTING:
            _index, status = self._audio_index(info)
            prov = [m.status for m in info.provMedia if m.type == pj.PJMEDIA_TYPE_AUDIO]
            early = early_media(code, prov[0] if prov else status)
        self._report(new, code, reason, early=early)

    @guarded
    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.host.assert_engine_thread()
        info = self.getInfo()
        index, status = self._audio_index(info)
        self._audio_status = MediaStatus(status)
        if index >= 0 and status in (MediaStatus.ACTIVE, MediaStatus.REMOTE_HOLD):
            router = self.host.router
            if router is not None:
                router.connect(self.getAudioMedia(index), muted=self.muted)
            if self.recording is not None:
                self.recording.reattach(self.getAudioMedia(index))
        change = held_state(self.state, status)
        if change is not None:
            self._report(change, from_media=True)
        self._emit_media()
        if self._pending_refer and status == MediaStatus.LOCAL_HOLD:
            # Next engine round: the ACK of the hold re-INVITE goes out first.
            self.host.schedule(0, self._refer)

    @guarded
    def onCallTsxState(self, prm: pj.OnCallTsxStateParam) -> None:
        self.host.assert_engine_thread()
        if prm.e.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx = prm.e.body.tsxState.tsx
        if not (tsx.role == pj.PJSIP_ROLE_UAC and str(tsx.method) == "INVITE" and
                int(tsx.statusCode) >= 300):
            return
        if self._pending_refer:
            # The hold was refused (e.g. 491 glare) or timed out: the transfer matters
            # more than the customer not hearing the agent meanwhile.
            log.info("call %d: hold before transfer failed (%d); transferring anyway",
                     self.handle, int(tsx.statusCode))
            self.host.schedule(0, self._refer)
        elif self.state in (CallState.CONNECTED, CallState.HELD):
            # Our hold or resume re-INVITE was refused (488, 491) or timed out (408): the
            # call stays as it was, and the agent is told instead of a button that lies.
            asked = self.hold_requested
            self.hold_requested = self.state is CallState.HELD
            log.info("call %d: %s refused (%d %s)", self.handle,
                     "hold" if asked else "resume", int(tsx.statusCode), tsx.statusText)
            if not self.silent:
                self.host.emit(HoldFailed(self.handle, asked, int(tsx.statusCode),
                                          str(tsx.statusText)))

    @guarded
    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.host.assert_engine_thread()
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc4733"
        if not self.silent:
            self.host.emit(DtmfReceived(self.handle, str(prm.digit), method))

    # -- commands (engine thread) -------------------------------------------------------

    def announce(self, call_id: str) -> None:
        """Tell the consumers about a call pjsua2 placed for a REFER, before its states."""
        assert self.pending_start is not None
        uri, number, local = self.pending_start
        self.pending_start = None
        self.host.emit(OutgoingCallStarted(self.handle, call_id, uri, number, local))

    def fail(self, code: int, reason: str) -> None:
        """The call could not even start (makeCall raised): report it ENDED."""
        self.silent = False
        self._report(CallState.ENDED, code, reason, side=HangupSide.NONE)
        self.host.call_finished(self.handle)

    def ring(self) -> None:
        prm = pj.CallOpParam()
        prm.statusCode = 180
        self.answer(prm)

    def refuse(self, code: int, reason: str = "") -> None:
        self.silent = True
        self.local_hangup = True
        prm = pj.CallOpParam()
        prm.statusCode = code
        if reason:
            prm.reason = reason
        self.hangup(prm)

    def accept(self) -> None:
        if self.outgoing or self.state is not CallState.RINGING or self.answering:
            log.info("call %d: answer ignored in state %s", self.handle, self.state.value)
            return
        prm = pj.CallOpParam()
        prm.statusCode = 200
        self.answer(prm)
        self.answering = True

    def expire(self) -> None:
        """Rang too long (sip.max_ring_seconds): 480, and nobody hung up (a missed call)."""
        prm = pj.CallOpParam()
        prm.statusCode = 480
        self.hangup(prm)

    def decline(self, code: int) -> None:
        if self.outgoing or self.state is not CallState.RINGING:
            log.info("call %d: decline ignored in state %s", self.handle, self.state.value)
            return
        self.local_hangup = True
        prm = pj.CallOpParam()
        prm.statusCode = code
        self.hangup(prm)

    def end(self) -> None:
        """Hang up, cancel (outgoing, before answer) or decline with 603 (incoming ringing)."""
        if self.state is CallState.ENDED:
            return
        self.local_hangup = True
        self.hangup(pj.CallOpParam())

    def set_mute(self, muted: bool) -> None:
        self.muted = muted
        router = self.host.router
        info = self.getInfo()
        index, status = self._audio_index(info)
        if router is not None and index >= 0 and status in (MediaStatus.ACTIVE,
                                                            MediaStatus.REMOTE_HOLD):
            audio = self.getAudioMedia(index)
            if muted:
                router.mute(audio)
            else:
                router.unmute(audio)
        self._emit_media()

    def set_hold(self, held: bool) -> None:
        if self.state not in (CallState.CONNECTED, CallState.HELD):
            log.info("call %d: hold ignored in state %s", self.handle, self.state.value)
            return
        self.hold_requested = held
        if held:
            self.setHold(pj.CallOpParam(True))
        else:
            prm = pj.CallOpParam(True)
            prm.opt.flag = pj.PJSUA_CALL_UNHOLD
            self.reinvite(prm)

    def send_digits(self, digits: str, method: str) -> None:
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = (pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "info"
                      else pj.PJSUA_DTMF_METHOD_RFC2833)
        self.sendDtmf(prm)

    # -- recording (see app/telephony/recording.py) ----------------------------------

    def start_recording(self, path: str, announcement: str | None) -> None:
        if self.recording is not None and self.recording.open:
            log.info("call %d: already recording", self.handle)
            return
        index, status = self._audio_index(self.getInfo())
        router = self.host.router
        if index < 0 or status == MediaStatus.NONE or router is None or \
                self.state not in (CallState.CONNECTED, CallState.HELD):
            self.host.emit(RecordingChanged(self.handle, RecordingState.FAILED, "", 0.0,
                                            "the call has no audio to record yet"))
            return
        try:
            recording = CallRecording(self.handle, path, self.host.clock_rate)
        except OSError as exc:
            self.host.emit(RecordingChanged(self.handle, RecordingState.FAILED, "", 0.0,
                                            f"cannot write {path}: {exc.strerror or exc}"))
            return
        self.recording = recording
        recording.set_near_active(not self.muted and status != MediaStatus.LOCAL_HOLD)
        recording.attach(self.getAudioMedia(index), router.microphone, announcement)
        log.info("call %d: recording to %s", self.handle, path)
        self.host.emit(recording.event(RecordingState.RECORDING))
        self.host.schedule(FLUSH_SECONDS, lambda: self._flush_recording(recording))

    def _flush_recording(self, recording: CallRecording) -> None:
        if recording is not self.recording or not recording.open:
            return
        try:
            recording.flush()
        except OSError as exc:  # disk full, folder gone: stop, keep what was written
            log.warning("call %d: recording failed: %s", self.handle, exc)
            self.recording = None
            with contextlib.suppress(OSError):
                recording.close()
            self.host.emit(recording.event(RecordingState.FAILED, str(exc)))
            return
        self.host.schedule(FLUSH_SECONDS, lambda: self._flush_recording(recording))

    def pause_recording(self, paused: bool) -> None:
        recording = self.recording
        if recording is None or not recording.open or recording.paused == paused:
            return
        recording.set_paused(paused)
        self.host.emit(recording.event(RecordingState.PAUSED if paused
                                       else RecordingState.RECORDING))

    def stop_recording(self) -> None:
        recording, self.recording = self.recording, None
        if recording is None or not recording.open:
            return
        try:
            recording.close()
        except OSError as exc:
            self.host.emit(recording.event(RecordingState.FAILED, str(exc)))
            return
        log.info("call %d: recording complete, %.1f s", self.handle, recording.position)
        self.host.emit(recording.event(RecordingState.STOPPED))

    def sample_quality(self) -> QualityReport | None:
        """The E-model estimate for the audio received since the last sample (None when
        no audio came in: ringing, held, or no media yet)."""
        index, status = self._audio_index(self.getInfo())
        if index < 0 or status == MediaStatus.NONE:
            return None
        stat = self.getStreamStat(index)
        rx, tx = stat.rtcp.rxStat, stat.rtcp.txStat
        now = (int(rx.pkt), int(rx.loss), int(tx.pkt), int(tx.loss))
        before, self._quality_counts = self._quality_counts, now
        received, lost = now[0] - before[0], now[1] - before[1]
        if received <= 0:
            return None
        try:
            codec = str(self.getStreamInfo(index).codecName)
        except pj.Error:
            codec = ""
        rx_loss = loss_percent(lost, received)
        jitter_ms = int(rx.jitterUsec.last) / 1000
        rtt_ms = int(stat.rtcp.rttUsec.last) / 1000
        mos, r = estimate_mos(rtt_ms=rtt_ms, jitter_ms=jitter_ms, loss_percent=rx_loss,
                              codec=codec)
        return QualityReport(self.handle, round(mos, 2), round(r, 1), round(rx_loss, 2),
                             round(jitter_ms, 1), round(rtt_ms, 1), codec, received, lost,
                             round(loss_percent(now[3] - before[3], now[2] - before[2]), 2))

    def media_stats(self) -> MediaStats | None:
        index, status = self._audio_index(self.getInfo())
        if index < 0 or status == MediaStatus.NONE:
            return None
        stat = self.getStreamStat(index)
        # Levels are named from the conference port's side: "tx" is what the port
        # transmits into the bridge, i.e. what we receive from the far end.
        level = int(self.getAudioMedia(index).getTxLevel())
        proto = int(self.getStreamInfo(index).proto)
        return MediaStats(int(stat.rtcp.rxStat.pkt), int(stat.rtcp.txStat.pkt), level,
                          srtp=bool(proto & _SECURE_PROFILE))


def dial_param(settings: SipSettings, *, call_id: str, caller_id: str | None,
               headers: dict[str, str], domain: str) -> pj.CallOpParam:
    """CallOpParam for an outgoing INVITE: our Call-ID, caller id, extra headers."""
    prm = pj.CallOpParam(True)
    prm.opt.customCallId = call_id  # known before makeCall, so events can carry it
    prm.opt.videoCount = 0
    if caller_id == ANONYMOUS:
        # The agent hides the number: `Privacy: id` (RFC 3325) asks the phone system to
        # withhold it. Without a proxy that could (direct mode), or when the number goes
        # in From anyway, From itself is anonymous (RFC 3323 section 4.1.1.3); behind a
        # registrar From stays ours so the phone system still knows who is calling.
        headers = {"Privacy": "id", **headers}
        if settings.mode == "direct" or settings.caller_id_method == "from-user":
            prm.txOption.localUri = '"Anonymous" <sip:anonymous@anonymous.invalid>'
    elif caller_id:
        cid_uri = f"sip:{caller_id}@{domain}"
        if settings.caller_id_method == "from-user":
            name = settings.display_name.replace('"', "")
            prm.txOption.localUri = f'"{name}" <{cid_uri}>' if name else f"<{cid_uri}>"
        else:
            headers = {"P-Preferred-Identity": f"<{cid_uri}>", **headers}
    for name, value in headers.items():
        hdr = pj.SipHeader()
        hdr.hName = name
        hdr.hValue = value
        prm.txOption.headers.append(hdr)
    return prm


__all__ = ["ANONYMOUS", "CallHost", "EngineCall", "MediaStats", "dial_param", "guarded"]
