"""A bounded audio ring between two clocks: the SIP conference bridge and the sound card.

One side writes 16-bit mono PCM, the other reads it; each runs on its own thread and at its
own clock, and the two clocks drift apart. The ring keeps the delay between them near a
target and never above a bound:

- it starts (and restarts after running dry) only once `prefill_ms` of audio is queued;
- a reader that finds too little gets the rest as silence, never stale or old audio
  (an underrun, counted);
- a writer that would push the level past `max_ms` drops the oldest audio (an overrun,
  counted) so the delay stays bounded;
- between those, drift is absorbed a few samples at a time: while the level, smoothed
  over about 100 ms, is above the target a read leaves out evenly spaced samples, while
  it is below it repeats some. How many grows with the distance from the target (none
  within `dead_band` of `drift_band_ms`, a quarter by default) and reaches `max_drift`
  (1 in 20 by default) at `drift_band_ms` off. For `settle_ms` after each start (and
  restart after running dry) the cap is `settle_drift` instead: a sound card stream that
  just started is still growing its own buffer, which is not drift, and paid back slowly
  it plays seconds off pitch. Real sound cards drift by
  hundredths of a percent; virtual ones and loaded machines by a few percent, which this
  still absorbs without a gap.

The level is smoothed because both sides move audio in blocks (the bridge 20 ms, the OS
10-64 ms): the level right now saws up and down by a block, and steering by it made the
correction depend on when a read happened to fall, not on the drift. A writer with a steady
clock (`writer_period_ms`: the bridge's 20 ms tick) is also timed, and each read steers by
the level as it would be half a period after the last write (the level now plus what was
read since that write, at the nominal rate). That takes the saw out before smoothing, so
the target can sit close to the level the reader really needs.

Plain Python with a lock held only to copy bytes: safe to call from a pjmedia thread.
"""

from __future__ import annotations

import array
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SAMPLE_BYTES = 2  # signed 16-bit little-endian, mono
SMOOTHING_MS = 100.0  # time constant of the level the drift correction steers by
DEAD_BAND = 0.25  # of drift_band_ms around the target: no correction (measured: 10x fewer)


@dataclass(frozen=True)
class RingCounters:
    """What happened at one ring so far (for the log, `switchboard doctor` and benchmarks)."""

    written_frames: int = 0
    read_frames: int = 0
    underruns: int = 0  # a read found less than it asked for while playing
    overruns: int = 0  # a write had to drop old audio to stay under max_ms
    dropped_samples: int = 0  # skipped for drift or dropped by overruns
    inserted_samples: int = 0  # repeated for drift
    level_ms: float = 0.0  # audio queued right now
    late_writes: int = 0  # a write came more than 1.5 writer periods after the one before
    missed_frames: int = 0  # writer periods that passed with no write at all (e.g. a
    # pjmedia clock more than 500 ms behind skips its ticks instead of catching up)


def _resize(pcm: bytes, samples: int) -> bytes:
    """Drop or repeat evenly spaced samples so `pcm` has exactly `samples` samples.

    Not interpolated on purpose: a block resampled by a few percent is a block played a
    few percent off pitch, and blocks alternating with uncorrected ones warble; measured
    on the virtual card, interpolation took the far end's tone from ~20 to ~10 dB SNR."""
    src = array.array("h", pcm)
    n = len(src)
    if n == samples or n == 0:
        return pcm
    out = array.array("h", (src[i * n // samples] for i in range(samples)))
    return out.tobytes()


class AudioRing:
    """See the module docstring. `rate` in Hz; all sizes in milliseconds. `clock` (seconds,
    monotonic) times the writer when `writer_period_ms` is given."""

    def __init__(self, rate: int, *, prefill_ms: float = 20.0, target_ms: float = 30.0,
                 max_ms: float = 60.0, drift_band_ms: float = 10.0,
                 max_drift: float = 1 / 20, dead_band: float = DEAD_BAND,
                 settle_drift: float | None = None, settle_ms: float = 0.0,
                 writer_period_ms: float | None = None,
                 steer_by_writer: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < prefill_ms <= target_ms < max_ms:
            raise ValueError("need 0 < prefill_ms <= target_ms < max_ms")
        settle_drift = max_drift if settle_drift is None else settle_drift
        if drift_band_ms <= 0 or not 0 < max_drift < 0.5 or not 0 < settle_drift < 0.5 \
                or not 0 <= dead_band < 1 or settle_ms < 0:
            raise ValueError("need drift_band_ms > 0, 0 < max_drift and settle_drift < 0.5, "
                             "0 <= dead_band < 1 and settle_ms >= 0")
        self.rate = rate
        self._bytes_per_ms = rate * SAMPLE_BYTES / 1000.0
        self._prefill = self._ms_to_bytes(prefill_ms)
        self._target = self._ms_to_bytes(target_ms)
        self._max = self._ms_to_bytes(max_ms)
        self._band = self._ms_to_bytes(drift_band_ms) or SAMPLE_BYTES
        self._max_drift = max_drift
        self._dead_band = dead_band
        self._settle_drift = settle_drift
        self._settle_samples = int(settle_ms * rate / 1000)
        self._settling = 0  # samples still to read at settle_drift
        self._smoothing = SMOOTHING_MS * rate / 1000.0  # in samples read
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._playing = False
        self._open = True
        self._smoothed = 0.0  # the level in bytes, averaged over the reads
        self._credit = 0.0  # samples owed to drift: > 0 to leave out, < 0 to repeat
        self._written = self._read = self._underruns = self._overruns = 0
        self._dropped = self._inserted = self._late = self._missed = 0
        self._period = writer_period_ms / 1000 if writer_period_ms else 0.0
        self._bytes_per_s = self._bytes_per_ms * 1000
        self._steer_by_writer = steer_by_writer
        # A writer with a steady clock (the bridge: a frame every 20 ms) is timed.
        self._late_after = writer_period_ms * 1.5 / 1000 if writer_period_ms else None
        self._clock = clock
        self._last_write: float | None = None

    def _ms_to_bytes(self, ms: float) -> int:
        n = int(ms * self._bytes_per_ms)
        return n - n % SAMPLE_BYTES

    # -- the two sides ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue audio; odd trailing bytes are ignored (they cannot be a whole sample)."""
        usable = len(data) - len(data) % SAMPLE_BYTES
        if not usable:
            return
        now = self._clock() if self._late_after is not None else 0.0
        with self._lock:
            if not self._open:
                return
            if self._late_after is not None:
                if self._last_write is not None and now - self._last_write > self._late_after:
                    self._late += 1
                    # 2 periods with one write = 1 missed; a merely late one (1.5) = 0.
                    gap = (now - self._last_write) / self._period
                    self._missed += max(0, int(gap + 0.25) - 1)
                self._last_write = now
            self._buf += data[:usable] if usable != len(data) else data
            self._written += 1
            excess = len(self._buf) - self._max
            if excess > 0:
                # Keep the newest audio: drop the oldest down to the target, not just to
                # the bound, or every following write would overrun again.
                cut = len(self._buf) - self._target
                del self._buf[:cut]
                self._overruns += 1
                self._dropped += cut // SAMPLE_BYTES
                self._smoothed = float(self._target)
                self._credit = 0.0

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes (rounded down to whole samples): audio, then silence."""
        size -= size % SAMPLE_BYTES
        with self._lock:
            if not self._open:
                return bytes(size)
            self._read += 1
            level = len(self._buf)
            if not self._playing:
                if level < self._prefill:
                    return bytes(size)
                self._playing = True
                self._settling = self._settle_samples
                self._smoothed = float(level)
                self._credit = 0.0
            samples = size // SAMPLE_BYTES
            if samples:
                weight = samples / (samples + self._smoothing)
                self._smoothed += (self._steering_level(level) - self._smoothed) * weight
                off = (self._smoothed - self._target) / self._band
                rate = self._max_drift
                if self._settling > 0:
                    rate = self._settle_drift
                    self._settling -= samples
                limit = math.ceil(samples * rate)
                if abs(off) < self._dead_band:
                    off = 0.0  # close enough: noise in the level is not drift
                self._credit += samples * rate * max(-1.0, min(1.0, off))
                self._credit = max(-limit, min(limit, self._credit))
                if self._credit >= 1:
                    # Too much queued: take a few more samples than asked and leave out
                    # evenly spaced ones.
                    extra = min(int(self._credit), (level - size) // SAMPLE_BYTES)
                    if extra > 0:
                        take = size + extra * SAMPLE_BYTES
                        out = _resize(bytes(self._buf[:take]), samples)
                        del self._buf[:take]
                        self._credit -= extra
                        self._dropped += extra
                        return out
                elif self._credit <= -1:
                    # Running low: stretch fewer samples to the size asked (repeat a few).
                    short = int(-self._credit)
                    take = (samples - short) * SAMPLE_BYTES
                    if level >= take:
                        out = _resize(bytes(self._buf[:take]), samples)
                        del self._buf[:take]
                        self._credit += short
                        self._inserted += short
                        return out
            if level >= size:
                out = bytes(self._buf[:size])
                del self._buf[:size]
                return out
            # Ran dry: what is left, then silence; wait for the prefill again.
            out = bytes(self._buf) + bytes(size - level)
            self._buf.clear()
            self._underruns += 1
            self._playing = False
            return out

    def _steering_level(self, level: int) -> float:
        """The level the drift correction steers by (bytes; see the module docstring)."""
        if not self._period or self._last_write is None or not self._steer_by_writer:
            return float(level)
        # A late write is not waited for: past one period the level really is falling.
        since = min(max(self._clock() - self._last_write, 0.0), self._period)
        return level + (since - self._period / 2) * self._bytes_per_s

    def set_open(self, is_open: bool) -> None:
        """A closed ring (no call has sound) takes writes without keeping or counting
        them and reads as silence; opening starts it empty."""
        with self._lock:
            self._open = is_open
            self._buf.clear()
            self._playing = False
            self._last_write = None

    @property
    def counters(self) -> RingCounters:
        with self._lock:
            return RingCounters(self._written, self._read, self._underruns, self._overruns,
                                self._dropped, self._inserted,
                                len(self._buf) / self._bytes_per_ms, self._late,
                                self._missed)


__all__ = ["SAMPLE_BYTES", "AudioRing", "RingCounters"]
