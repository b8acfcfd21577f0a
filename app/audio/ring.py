"""A bounded audio ring between two clocks: the SIP conference bridge and the sound card.

One side writes 16-bit mono PCM, the other reads it; each runs on its own thread and at its
own clock, and the two clocks drift apart. The ring keeps the delay between them near a
target and never above a bound:

- it starts (and restarts after running dry) only once `prefill_ms` of audio is queued;
- a reader that finds too little gets the rest as silence, never stale or old audio
  (an underrun, counted);
- a writer that would push the level past `max_ms` drops the oldest audio (an overrun,
  counted) so the delay stays bounded;
- between those, drift is absorbed one sample at a time: above the high-water mark a read
  skips one sample, below the low-water mark it repeats one, which no ear notices at
  16 kHz (one sample in a 20 ms frame is 0.3 %).

Plain Python with a lock held only to copy bytes: safe to call from a pjmedia thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

SAMPLE_BYTES = 2  # signed 16-bit little-endian, mono


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


class AudioRing:
    """See the module docstring. `rate` in Hz; all sizes in milliseconds."""

    def __init__(self, rate: int, *, prefill_ms: float = 20.0, target_ms: float = 30.0,
                 max_ms: float = 60.0, drift_band_ms: float = 10.0,
                 writer_period_ms: float | None = None) -> None:
        if not 0 < prefill_ms <= target_ms < max_ms:
            raise ValueError("need 0 < prefill_ms <= target_ms < max_ms")
        self.rate = rate
        self._bytes_per_ms = rate * SAMPLE_BYTES / 1000.0
        self._prefill = self._ms_to_bytes(prefill_ms)
        self._max = self._ms_to_bytes(max_ms)
        self._high = self._ms_to_bytes(target_ms + drift_band_ms)
        self._low = self._ms_to_bytes(max(target_ms - drift_band_ms, prefill_ms / 2))
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._playing = False
        self._last_sample = b"\x00\x00"
        self._written = self._read = self._underruns = self._overruns = 0
        self._dropped = self._inserted = self._late = 0
        # A writer with a steady clock (the bridge: a frame every 20 ms) is timed.
        self._late_after = writer_period_ms * 1.5 / 1000 if writer_period_ms else None
        self._last_write = 0.0

    def _ms_to_bytes(self, ms: float) -> int:
        n = int(ms * self._bytes_per_ms)
        return n - n % SAMPLE_BYTES

    # -- the two sides ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue audio; odd trailing bytes are ignored (they cannot be a whole sample)."""
        usable = len(data) - len(data) % SAMPLE_BYTES
        if not usable:
            return
        now = time.monotonic() if self._late_after is not None else 0.0
        with self._lock:
            if self._late_after is not None:
                if self._last_write and now - self._last_write > self._late_after:
                    self._late += 1
                self._last_write = now
            self._buf += data[:usable] if usable != len(data) else data
            self._written += 1
            excess = len(self._buf) - self._max
            if excess > 0:
                # Keep the newest audio: drop the oldest down to the target, not just to
                # the bound, or every following write would overrun again.
                cut = len(self._buf) - (self._high + self._low) // 2
                cut -= cut % SAMPLE_BYTES
                del self._buf[:cut]
                self._overruns += 1
                self._dropped += cut // SAMPLE_BYTES

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes (rounded down to whole samples): audio, then silence."""
        size -= size % SAMPLE_BYTES
        with self._lock:
            self._read += 1
            level = len(self._buf)
            if not self._playing:
                if level < self._prefill:
                    return bytes(size)
                self._playing = True
            if level >= size + SAMPLE_BYTES and level > self._high:
                # Too much queued: skip the last sample of this block.
                out = bytes(self._buf[:size])
                del self._buf[:size + SAMPLE_BYTES]
                self._dropped += 1
                return out
            if self._low > level >= size - SAMPLE_BYTES > 0 and level >= SAMPLE_BYTES:
                # Running low: stretch this block by repeating its last sample.
                take = size - SAMPLE_BYTES
                chunk = bytes(self._buf[:take])
                del self._buf[:take]
                self._inserted += 1
                return chunk + chunk[-SAMPLE_BYTES:]
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

    def clear(self) -> None:
        """Forget queued audio (a device was switched or the path stopped)."""
        with self._lock:
            self._buf.clear()
            self._playing = False
            self._last_write = 0.0

    @property
    def counters(self) -> RingCounters:
        with self._lock:
            return RingCounters(self._written, self._read, self._underruns, self._overruns,
                                self._dropped, self._inserted,
                                len(self._buf) / self._bytes_per_ms, self._late)


__all__ = ["SAMPLE_BYTES", "AudioRing", "RingCounters"]
