"""The OS side of the call audio path: Qt Multimedia plays and captures the two rings.

`AudioPath` owns the rings that `app.telephony.audio.BridgePort` fills and drains, and a
thread of its own ("audio-io") on which a `QAudioSink` and a `QAudioSource` run, so a busy
GUI thread (a page loading, history refreshing, an import) does not starve the sound card.
The speaker is fed in push mode from a 5 ms timer that keeps the device buffer at a small,
constant fill; the microphone's chunks go straight into the capture ring.

All public methods are called on the GUI thread; they reach the audio thread through
queued signals. Qt Multimedia uses PulseAudio/PipeWire on Linux, WASAPI on Windows and
CoreAudio on macOS.
"""

from __future__ import annotations

import array
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import (
    QIODevice,
    QMetaObject,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSink, QAudioSource

from app.audio.collector import CallCollector
from app.audio.realtime import raise_priority
from app.audio.ring import AudioRing, RingCounters

log = logging.getLogger(__name__)

RATE = 16_000  # the bridge's clock rate with sound (see app.telephony.endpoint)
BYTES_PER_MS = RATE * 2 // 1000
# Sizes in ms, chosen with bench/audio_path.py (--set compares others): the speaker
# direction adds ~53 ms with these, against ~80 ms with 30 ms kept in Qt's buffer and
# PulseAudio's own choice of buffer. A 25 ms ring target gave ~47 ms but more gaps when
# the bridge's clock ran late; 30 ms in Qt's buffer, ~55 ms and more gaps while popping.
DEVICE_FILL_MS = 25  # what Qt's buffer for the speaker is kept at by the 5 ms tick
SINK_BUFFER_MS = 60
FILL_TICK_MS = 5
CAPTURE_BUFFER_MS = 100
# The speaker ring: the level it starts at, the mean level it is steered to, its bound.
PLAYBACK_PREFILL_MS, PLAYBACK_TARGET_MS, PLAYBACK_MAX_MS = 20, 30, 60
# Its drift correction, gentler than the ring's default: every sample left out or repeated
# is a small click in a tone, and on a busy machine most of what the level does is jitter,
# not drift. Sound cards drift by hundredths of a percent; 2 % still leaves 20x that.
# Measured on the 10 s speaker test with 4 busy processes (SNR over whole seconds): the
# default (1 in 20, dead band 1/4) lost seconds to 3-19 dB and failed 4 runs of 17; this
# failed 1 of 6 (a gap, not the correction) with a higher mean SNR. For the first 2 s
# after each start it corrects at up to 1 in 20: a PulseAudio stream that just started (a
# new call, another device, after a stall) grows its buffer by tens of ms, and at 1 in 50
# that took ~2 s of tone 2 % off pitch (CI: 982 Hz after a device move).
PLAYBACK_MAX_DRIFT, PLAYBACK_DEAD_BAND = 1 / 50, 0.5
PLAYBACK_SETTLE_DRIFT, PLAYBACK_SETTLE_MS = 1 / 20, 2000
# Steer the speaker ring's drift by the bridge's tick (app.audio.ring). Measured both
# ways: no better SNR or fewer corrections than the smoothed level, so off.
PLAYBACK_STEER_BY_TICK = False
# What PulseAudio keeps of each of our streams (PULSE_LATENCY_MSEC, read by libpulse when
# a stream connects; a value set by the user wins). Qt 6.11 asks for up to 64 ms and its
# API cannot change that: it was 48 ms of the 80. 0 leaves it alone.
PULSE_LATENCY_MS = 20
STALL_SECONDS = 1.0  # a running speaker or microphone that moves no audio this long is gone
SINK_START_MS = 100  # played by a new speaker stream before it counts as running
_HARMLESS = ("NoError", "UnderrunError")  # compared by name: QAudio became QtAudio in 6.7


def pcm_format() -> QAudioFormat:
    fmt = QAudioFormat()
    fmt.setSampleRate(RATE)
    fmt.setChannelCount(1)
    fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    return fmt


def peak_level(data: bytes) -> float:
    """0.0-1.0: the loudest sample of a block of 16-bit PCM."""
    if len(data) < 2:
        return 0.0
    samples = array.array("h", data[: len(data) - len(data) % 2])
    return max(max(samples), -min(samples)) / 32768.0


@dataclass(frozen=True)
class PathCounters:
    playback: RingCounters
    capture: RingCounters


class _Worker(QObject):
    """Lives on the audio thread; owns the Qt audio objects."""

    failed = Signal(str, str)  # which ("speaker"/"microphone"), what happened

    def __init__(self, playback: AudioRing, capture: AudioRing) -> None:
        super().__init__()
        self._playback = playback
        self._capture = capture
        self._out_device = QAudioDevice()
        self._in_device = QAudioDevice()
        self._sink: QAudioSink | None = None
        self._sink_io: QIODevice | None = None
        self._source: QAudioSource | None = None
        self._source_io: QIODevice | None = None
        self._timer: QTimer | None = None
        self._running = False
        self._sink_started = self._mic_started = False
        self._consumed_at = self._mic_at = 0.0
        self._last_processed = 0
        self._speaker_volume = 1.0
        self._mic_volume = 1.0
        self.mic_level = 0.0  # read from the GUI thread (a float store is atomic)
        self.scheduling = ""  # what raise_priority gave this thread
        self.tid = 0  # the OS's id for this thread, once it ran

    # -- slots (audio thread) -------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        if self._running:
            return
        self._running = True
        if not self.scheduling:
            self.tid = threading.get_native_id()
            self.scheduling = raise_priority(self.tid)
        if self._timer is None:
            self._timer = QTimer(self)
            self._timer.setTimerType(Qt.TimerType.PreciseTimer)
            self._timer.timeout.connect(self._tick)
        self._open_sink()
        self._open_source()
        self._timer.start(FILL_TICK_MS)

    @Slot()
    def stop(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.stop()
        self._close_sink()
        self._close_source()
        self.mic_level = 0.0

    @Slot(object, bool)
    def set_output(self, device: QAudioDevice, reopen: bool) -> None:
        # The same device, still playing: nothing to do (every hot-plug event anywhere
        # re-applies the choices; a restart would leave a second of silence).
        same = device == self._out_device and self._sink is not None
        self._out_device = device
        if self._running and reopen and not same:
            self._close_sink()
            self._open_sink()

    @Slot(object)
    def set_input(self, device: QAudioDevice) -> None:
        same = device == self._in_device and self._source is not None
        self._in_device = device
        if self._running and not same:
            self._close_source()
            self._open_source()

    @Slot(float, float)
    def set_volumes(self, speaker: float, mic: float) -> None:
        self._speaker_volume, self._mic_volume = speaker, mic
        if self._sink is not None:
            self._sink.setVolume(speaker)
        if self._source is not None:
            self._source.setVolume(mic)

    # -- devices ----------------------------------------------------------------------------

    def _open_sink(self) -> None:
        if self._out_device.isNull():
            return
        sink = QAudioSink(self._out_device, pcm_format(), self)
        sink.setBufferSize(SINK_BUFFER_MS * BYTES_PER_MS)
        sink.setVolume(self._speaker_volume)
        self._sink = sink
        self._sink_io = sink.start()
        self._sink_started = False
        self._fill()

    def _close_sink(self) -> None:
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
        self._sink = None
        self._sink_io = None

    def _open_source(self) -> None:
        if self._in_device.isNull():
            return
        source = QAudioSource(self._in_device, pcm_format(), self)
        # Qt hands over at most one buffer per period of the OS source (PulseAudio
        # delivers up to 64 ms at once): a smaller buffer loses microphone audio.
        source.setBufferSize(CAPTURE_BUFFER_MS * BYTES_PER_MS)
        source.setVolume(self._mic_volume)
        self._source = source
        self._mic_started = False
        io = source.start()
        io.readyRead.connect(self._mic_ready)
        self._source_io = io

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.stop()
            self._source.deleteLater()
        self._source = None
        self._source_io = None

    # -- the two directions ----------------------------------------------------------------

    def _check_mic(self) -> None:
        if self._source is not None and self._mic_started and \
                time.monotonic() - self._mic_at > STALL_SECONDS:
            self._close_source()
            self.failed.emit("microphone", "stopped capturing")

    @Slot()
    def _tick(self) -> None:
        self._check_errors()
        self._fill()
        self._check_mic()

    @Slot()
    def _fill(self) -> None:
        sink, io = self._sink, self._sink_io
        if sink is None or io is None:
            return
        queued = sink.bufferSize() - sink.bytesFree()
        fill = DEVICE_FILL_MS * BYTES_PER_MS
        if not self._sink_started:
            # Keep the device fed with silence until it has played SINK_START_MS of it:
            # a PulseAudio stream takes a little at once, then nothing for a second or
            # more, and only then runs. From then on the far end's audio is fresh.
            if sink.processedUSecs() < SINK_START_MS * 1000:
                if fill - queued > 0:
                    io.write(bytes(min(fill - queued, sink.bytesFree())))
                return
            self._sink_started = True
            self._consumed_at = time.monotonic()
            self._playback.set_open(True)
        now = time.monotonic()
        # Played audio is counted by the stream itself. (The buffer's level is no sign:
        # a stream that takes exactly what each tick gives shows the same level forever.)
        processed = sink.processedUSecs()
        if processed != self._last_processed:
            self._consumed_at = now
        self._last_processed = processed
        if now - self._consumed_at > STALL_SECONDS:
            # The device took nothing for that long: its stream was killed or the device
            # hangs. Qt does not always say so.
            self._close_sink()
            self.failed.emit("speaker", "stopped playing")
            return
        want = fill - queued
        if want >= FILL_TICK_MS * BYTES_PER_MS:
            want = min(want, sink.bytesFree())
            io.write(self._playback.read(want))

    @Slot()
    def _mic_ready(self) -> None:
        io = self._source_io
        if io is None:
            return
        data = bytes(io.readAll().data())
        if data:
            self._mic_at = time.monotonic()
            if not self._mic_started:
                self._mic_started = True
                self._capture.set_open(True)
            self._capture.write(data)
            self.mic_level = peak_level(data)

    def _check_errors(self) -> None:
        # Polled, not connected to stateChanged: PySide cannot pass QAudio::State across
        # to a slot on this thread.
        sink, source = self._sink, self._source
        if sink is not None and sink.error().name not in _HARMLESS:
            error = sink.error().name
            self._close_sink()
            self.failed.emit("speaker", error)
        if source is not None and source.error().name not in _HARMLESS:
            error = source.error().name
            self._close_source()
            self.failed.emit("microphone", error)


class AudioPath(QObject):
    """The rings for the bridge (`rate`, `playback`, `capture`) and the audio thread."""

    failed = Signal(str, str)  # "speaker"/"microphone", Qt's error name
    _start = Signal()
    _stop = Signal()
    _output = Signal(object, bool)
    _input = Signal(object)
    _volumes = Signal(float, float)

    def __init__(self, parent: QObject | None = None, *,
                 collector: CallCollector | None = None) -> None:
        super().__init__(parent)
        self.rate = RATE
        self._collector = collector
        if PULSE_LATENCY_MS and sys.platform.startswith("linux"):
            # Before any stream of ours connects; someone's own setting wins.
            os.environ.setdefault("PULSE_LATENCY_MSEC", str(PULSE_LATENCY_MS))
        # Speaker side: the bridge writes a frame every 20 ms (timed for late frames).
        self.playback = AudioRing(RATE, prefill_ms=PLAYBACK_PREFILL_MS,
                                  target_ms=PLAYBACK_TARGET_MS, max_ms=PLAYBACK_MAX_MS,
                                  max_drift=PLAYBACK_MAX_DRIFT,
                                  dead_band=PLAYBACK_DEAD_BAND,
                                  settle_drift=PLAYBACK_SETTLE_DRIFT,
                                  settle_ms=PLAYBACK_SETTLE_MS, writer_period_ms=20,
                                  steer_by_writer=PLAYBACK_STEER_BY_TICK)
        # Microphone side: the OS delivers in blocks of 10-64 ms, so the bound is wider.
        self.capture = AudioRing(RATE, prefill_ms=20, target_ms=40, max_ms=100)
        self._thread = QThread()
        self._thread.setObjectName("audio-io")
        self._worker = _Worker(self.playback, self.capture)
        self._worker.moveToThread(self._thread)
        self._worker.failed.connect(self.failed)
        self._start.connect(self._worker.start)
        self._stop.connect(self._worker.stop)
        self._output.connect(self._worker.set_output)
        self._input.connect(self._worker.set_input)
        self._volumes.connect(self._worker.set_volumes)
        self._thread.start(QThread.Priority.TimeCriticalPriority)
        self.active = False
        self.playback.set_open(False)
        self.capture.set_open(False)
        self.bridge_scheduling = ""
        self._bridge_tid = 0

    def bridge_thread(self, tid: int) -> None:
        """The bridge's clock thread, on its first frame (app.telephony.audio); a new
        engine has a new one."""
        if tid != self._bridge_tid:
            self._bridge_tid = tid
            self.bridge_scheduling = raise_priority(tid)

    @property
    def scheduling(self) -> dict[str, str]:
        """How the two audio threads are scheduled ("" until they first ran)."""
        return {"bridge": self.bridge_scheduling, "audio-io": self._worker.scheduling}

    @property
    def thread_ids(self) -> dict[str, int]:
        """The OS's ids of the two audio threads (0 until they first ran)."""
        return {"bridge": self._bridge_tid, "audio-io": self._worker.tid}

    def set_devices(self, output: QAudioDevice, input_: QAudioDevice, *,
                    reopen_output: bool = True) -> None:
        self._output.emit(output, reopen_output)
        self._input.emit(input_)

    def set_output(self, output: QAudioDevice, *, reopen: bool = True) -> None:
        """Play on `output`; with `reopen` False the stream playing now is kept until
        the next start (the sound system already moved it there)."""
        self._output.emit(output, reopen)

    def set_input(self, input_: QAudioDevice) -> None:
        self._input.emit(input_)

    def set_volumes(self, speaker: float, mic: float) -> None:
        self._volumes.emit(speaker, mic)

    def open(self) -> None:
        """Start playing and capturing (a call's media is up)."""
        if not self.active:
            # The rings open when the devices really run (see _Worker): a sound card
            # takes up to a second to start, and audio queued for it meanwhile is stale.
            self.active = True
            if self._collector is not None:
                self._collector.call_started()
            self._start.emit()

    def close(self) -> None:
        """Release the sound card (no call has media any more)."""
        if self.active:
            self.active = False
            self._stop.emit()
            self.playback.set_open(False)
            self.capture.set_open(False)
            if self._collector is not None:
                self._collector.call_ended()

    @property
    def mic_level(self) -> float:
        return self._worker.mic_level

    @property
    def speaker_running(self) -> bool:
        """The speaker device has started taking the call's audio."""
        return self.active and self._worker._sink_started

    @property
    def counters(self) -> PathCounters:
        return PathCounters(self.playback.counters, self.capture.counters)

    def shutdown(self) -> None:
        self.active = False
        if self._collector is not None:
            self._collector.call_ended()
        if self._thread.isRunning():
            # Blocking, and also when closed: a queued stop may still wait behind quit(),
            # which ends the thread without it. The Qt audio objects and the feed timer
            # must be gone before their thread ends (a running timer deleted from here
            # later is "Timers cannot be stopped from another thread").
            QMetaObject.invokeMethod(self._worker, "stop",
                                     Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait(2000)


__all__ = ["RATE", "AudioPath", "PathCounters", "pcm_format", "peak_level"]
