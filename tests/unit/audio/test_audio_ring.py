"""AudioRing: prefill, silence on underrun, bounded overrun, drift by evenly spaced samples,
closed rings and counters, and a long run between two clocks that drift 3 % apart (1.5 %
for the speaker ring's gentler correction)."""

from __future__ import annotations

import array
import math
from itertools import pairwise
from typing import Any

import pytest

from app.audio import path
from app.audio.ring import AudioRing

RATE = 16_000
MS = RATE // 1000  # samples per millisecond
FRAME = 20 * MS  # the bridge's frame: 320 samples


def ramp(start: int, count: int) -> bytes:
    """Samples numbered start+1, start+2, …: every sample says where in the stream it was."""
    return array.array("h", (1 + (start + i) % 32_000 for i in range(count))).tobytes()


def samples(pcm: bytes) -> list[int]:
    return list(array.array("h", pcm))


def ring(**kw: Any) -> AudioRing:
    """The playback ring's shape: prefill 20 ms, target 30 ms, bound 60 ms."""
    return AudioRing(RATE, prefill_ms=20, target_ms=30, max_ms=60, **kw)


def steady(**kw: Any) -> AudioRing:
    """The same ring with the drift correction out of reach (its band wider than any
    level), to see the other rules alone."""
    return ring(drift_band_ms=10_000, **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- prefill ----------------------------------------------------------------------------------

def test_reads_are_silence_until_the_prefill_is_queued() -> None:
    r = steady()
    r.write(ramp(0, 19 * MS))
    assert r.read(5 * MS * 2) == bytes(5 * MS * 2)
    assert r.counters.underruns == 0  # waiting for the prefill is not running dry
    assert r.counters.level_ms == 19.0  # and nothing was consumed meanwhile


def test_once_the_prefill_is_queued_the_audio_comes_out_in_order() -> None:
    r = steady()
    r.write(ramp(0, 10 * MS))
    r.write(ramp(10 * MS, 20 * MS))
    assert samples(r.read(30 * MS * 2)) == samples(ramp(0, 30 * MS))


# -- underrun ---------------------------------------------------------------------------------

def test_a_read_that_finds_too_little_gets_what_is_there_then_silence() -> None:
    r = steady()
    r.write(ramp(0, FRAME))
    r.read(15 * MS * 2)
    out = samples(r.read(10 * MS * 2))
    assert out[:5 * MS] == samples(ramp(15 * MS, 5 * MS))
    assert out[5 * MS:] == [0] * (5 * MS)
    assert r.counters.underruns == 1


def test_after_running_dry_it_plays_silence_never_the_old_audio_again() -> None:
    r = steady()
    r.write(ramp(0, FRAME))
    r.read(FRAME * 2)
    for _ in range(5):
        assert r.read(5 * MS * 2) == bytes(5 * MS * 2)
    assert r.counters.underruns == 1  # counted once, not at every silent read


def test_after_running_dry_it_waits_for_the_prefill_again() -> None:
    r = steady()
    r.write(ramp(0, FRAME))
    r.read(25 * MS * 2)  # dry
    r.write(ramp(FRAME, 10 * MS))
    assert r.read(5 * MS * 2) == bytes(5 * MS * 2)
    r.write(ramp(30 * MS, 10 * MS))
    assert samples(r.read(5 * MS * 2)) == samples(ramp(FRAME, 5 * MS))


# -- overrun ----------------------------------------------------------------------------------

def test_a_write_past_the_bound_drops_the_oldest_audio_and_keeps_the_newest() -> None:
    r = steady()
    for n in range(4):  # 80 ms written, 60 ms allowed
        r.write(ramp(n * FRAME, FRAME))
    c = r.counters
    assert c.overruns == 1
    assert c.level_ms == 30.0  # cut back to the target, so the next write fits again
    assert c.dropped_samples == 50 * MS
    assert samples(r.read(30 * MS * 2)) == samples(ramp(50 * MS, 30 * MS))


def test_the_level_never_exceeds_the_bound_however_much_is_written() -> None:
    r = steady()
    for n in range(50):
        r.write(ramp(n * 7 * MS, 7 * MS))
        assert r.counters.level_ms <= 60.0
    r.write(ramp(0, 500 * MS))  # one write larger than the bound: its newest part stays
    assert r.counters.level_ms <= 60.0
    assert samples(r.read(30 * MS * 2)) == samples(ramp(470 * MS, 30 * MS))


# -- drift ------------------------------------------------------------------------------------

def test_at_the_target_the_audio_passes_through_untouched() -> None:
    r = ring()
    r.write(ramp(0, 30 * MS))
    out = r.read(5 * MS * 2)
    assert samples(out) == samples(ramp(0, 5 * MS))
    assert r.counters.dropped_samples == r.counters.inserted_samples == 0


def test_too_much_queued_leaves_out_evenly_spaced_samples_at_most_one_in_twenty() -> None:
    r = ring()
    r.write(ramp(0, 55 * MS))  # far above the target: the correction is at its cap
    out = samples(r.read(FRAME * 2))
    assert len(out) == FRAME and out[0] == 1
    following = samples(r.read(2))  # where the stream goes on (a left-out last sample)
    steps = [b - a for a, b in pairwise(out + following)]
    assert set(steps) == {1, 2}  # each step skips at most one sample: nothing reordered
    skips = [i for i, s in enumerate(steps) if s == 2]
    assert len(skips) == r.counters.dropped_samples == FRAME // 20
    gaps = [b - a for a, b in pairwise(skips)]
    assert min(gaps) >= 19 and max(gaps) <= 21  # evenly spaced, not a burst


def test_too_little_queued_repeats_evenly_spaced_samples_at_most_one_in_twenty() -> None:
    r = ring()
    r.write(ramp(0, 20 * MS))  # the prefill, 10 ms under the target: at the cap
    out = samples(r.read(10 * MS * 2))
    steps = [b - a for a, b in pairwise(out)]
    assert len(out) == 10 * MS and out[0] == 1
    assert set(steps) == {0, 1}
    repeats = [i for i, s in enumerate(steps) if s == 0]
    assert len(repeats) == r.counters.inserted_samples == 10 * MS // 20
    gaps = [b - a for a, b in pairwise(repeats)]
    assert min(gaps) >= 19 and max(gaps) <= 21
    assert r.counters.underruns == 0


@pytest.mark.parametrize("read_ms", [1, 5, 10, 20])
def test_however_far_off_the_level_one_read_corrects_no_more_than_the_cap(
        read_ms: int) -> None:
    r = ring()
    n = read_ms * MS
    cap = math.ceil(n / 20)
    for _ in range(200):
        r.write(ramp(0, 58 * MS - int(r.counters.level_ms * MS)))  # keep it near the bound
        before = r.counters.dropped_samples
        r.read(n * 2)
        assert r.counters.dropped_samples - before <= cap
    assert r.counters.dropped_samples <= 200 * n / 20 + cap  # and no more than 1 in 20 overall


def settling(**kw: Any) -> AudioRing:
    """A ring that corrects 1 in 50, and 1 in 20 for its first 100 ms of playing."""
    return ring(max_drift=1 / 50, settle_drift=1 / 20, settle_ms=100, **kw)


def repeated_while_reading(r: AudioRing, ms: int) -> int:
    """Read `ms` of 5 ms blocks with the level held 10 ms under the target (at the cap)."""
    before = r.counters.inserted_samples
    for _ in range(ms // 5):
        level = round(r.counters.level_ms * MS)
        if level < 20 * MS:
            r.write(ramp(0, 20 * MS - level))
        r.read(5 * MS * 2)
    return r.counters.inserted_samples - before


def test_a_ring_that_just_started_corrects_at_its_settle_cap_then_at_its_own() -> None:
    r = settling()
    r.write(ramp(0, 20 * MS))
    assert repeated_while_reading(r, 100) == 100 * MS // 20  # settling: 1 in 20
    assert 0.8 * 100 * MS / 50 <= repeated_while_reading(r, 100) <= 100 * MS / 50  # then 1 in 50


def test_a_ring_that_ran_dry_settles_again_when_it_restarts() -> None:
    r = settling()
    r.write(ramp(0, 20 * MS))
    repeated_while_reading(r, 200)  # settled
    r.read(60 * MS * 2)  # runs dry
    assert r.counters.underruns == 1
    r.write(ramp(0, 20 * MS))
    assert repeated_while_reading(r, 100) == 100 * MS // 20


def test_a_level_that_only_saws_around_the_target_is_not_taken_for_drift() -> None:
    # The bridge writes 20 ms at a time and the sound card reads 5 ms: the level saws
    # between 20 and 40 ms. That is not drift; correcting it would distort the audio.
    r = ring()
    r.write(ramp(0, 40 * MS))
    settled = r.counters
    for n in range(2, 3000):
        for _ in range(4):
            r.read(5 * MS * 2)
        r.write(ramp(n * FRAME, FRAME))
        if n == 50:
            settled = r.counters  # the first second finds the level
    c = r.counters
    assert c.dropped_samples + c.inserted_samples \
        == settled.dropped_samples + settled.inserted_samples
    assert c.underruns == c.overruns == 0


@pytest.mark.parametrize("read_ms", [5, 10])
def test_steered_by_the_bridge_tick_a_saw_of_whole_frames_is_not_taken_for_drift(
        read_ms: int) -> None:
    # The same saw, now timed: the ring knows when each 20 ms frame came, so it steers by
    # the level half a frame after it and can aim for a mean of 20 ms (the level saws
    # between 10 and 30 ms) without a single correction.
    clock = Clock()
    r = AudioRing(RATE, prefill_ms=20, target_ms=20, max_ms=60, writer_period_ms=20,
                  clock=clock)
    r.write(ramp(0, 10 * MS))
    settled = r.counters
    for n in range(1, 3000):
        clock.now = n * 0.020
        r.write(ramp(n * FRAME, FRAME))
        for k in range(20 // read_ms):
            clock.now = n * 0.020 + k * read_ms / 1000
            r.read(read_ms * MS * 2)
        if n == 50:
            settled = r.counters  # the first second finds the level
    c = r.counters
    assert c.dropped_samples + c.inserted_samples \
        == settled.dropped_samples + settled.inserted_samples
    assert c.underruns == c.overruns == c.late_writes == 0


# -- odd sizes --------------------------------------------------------------------------------

def test_an_odd_trailing_byte_is_not_half_a_sample_in_the_stream() -> None:
    r = steady()
    r.write(ramp(0, 15 * MS) + b"\x07")
    r.write(ramp(15 * MS, 15 * MS))
    assert r.counters.level_ms == 30.0
    assert samples(r.read(30 * MS * 2)) == samples(ramp(0, 30 * MS))


def test_a_write_of_one_byte_is_no_write() -> None:
    r = steady()
    r.write(b"\x01")
    r.write(b"")
    assert r.counters.written_frames == 0 and r.counters.level_ms == 0


def test_a_read_of_an_odd_size_returns_whole_samples() -> None:
    r = steady()
    r.write(ramp(0, 30 * MS))
    assert len(r.read(11)) == 10
    assert r.read(1) == b""


# -- closed ------------------------------------------------------------------------------------

def test_a_closed_ring_discards_writes_and_reads_silence_without_counting() -> None:
    r = steady()
    r.set_open(False)
    r.write(ramp(0, 40 * MS))
    assert r.read(10 * MS * 2) == bytes(10 * MS * 2)
    c = r.counters
    assert (c.written_frames, c.read_frames, c.level_ms, c.underruns) == (0, 0, 0.0, 0)


def test_closing_throws_away_what_was_queued_and_opening_starts_empty() -> None:
    r = steady()
    r.write(ramp(0, 40 * MS))
    r.set_open(False)
    r.set_open(True)
    assert r.counters.level_ms == 0
    assert r.read(5 * MS * 2) == bytes(5 * MS * 2)  # waiting for a new prefill
    r.write(ramp(1000, 30 * MS))
    assert samples(r.read(5 * MS * 2)) == samples(ramp(1000, 5 * MS))


# -- counters ----------------------------------------------------------------------------------

def test_frames_written_and_read_and_the_level_are_counted() -> None:
    r = steady()
    for n in range(3):
        r.write(ramp(n * FRAME, FRAME))
    for _ in range(4):
        r.read(5 * MS * 2)
    c = r.counters
    assert (c.written_frames, c.read_frames) == (3, 4)
    assert c.level_ms == 40.0


def test_a_write_more_than_one_and_a_half_periods_after_the_last_is_late() -> None:
    clock = Clock()
    r = steady(writer_period_ms=20, clock=clock)
    for t in (0.0, 0.020, 0.049, 0.0795, 0.099, 0.199, 0.219):
        clock.now = t
        r.write(ramp(0, FRAME))
    assert r.counters.late_writes == 2  # 30.5 ms and 100 ms after the one before
    assert r.counters.missed_frames == 4  # 30.5 ms is one tick late; 100 ms lost four


def test_the_first_write_after_opening_is_never_late() -> None:
    clock = Clock()
    r = steady(writer_period_ms=20, clock=clock)
    r.write(ramp(0, FRAME))
    r.set_open(False)
    clock.now = 5.0
    r.write(ramp(0, FRAME))  # closed: neither kept nor timed
    r.set_open(True)
    clock.now = 10.0
    r.write(ramp(0, FRAME))
    assert r.counters.late_writes == 0


def test_a_ring_without_a_writer_period_times_nothing() -> None:
    clock = Clock()
    r = steady(clock=clock)
    for t in (0.0, 1.0, 5.0):
        clock.now = t
        r.write(ramp(0, FRAME))
    assert r.counters.late_writes == 0


def test_impossible_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        AudioRing(RATE, prefill_ms=40, target_ms=30, max_ms=60)
    with pytest.raises(ValueError):
        AudioRing(RATE, prefill_ms=20, target_ms=60, max_ms=60)
    with pytest.raises(ValueError):
        AudioRing(RATE, max_drift=0.0)
    with pytest.raises(ValueError):
        AudioRing(RATE, dead_band=1.0)  # no correction at any level: that is no ring
    with pytest.raises(ValueError):
        AudioRing(RATE, settle_drift=0.5)
    with pytest.raises(ValueError):
        AudioRing(RATE, settle_ms=-1)


# -- two clocks, three minutes -----------------------------------------------------------

SPEAKER = {"max_drift": path.PLAYBACK_MAX_DRIFT, "dead_band": path.PLAYBACK_DEAD_BAND,
           "settle_drift": path.PLAYBACK_SETTLE_DRIFT, "settle_ms": path.PLAYBACK_SETTLE_MS}


@pytest.mark.parametrize("read_ms", [5, 10])  # the speaker side reads 5 ms per tick, or more
@pytest.mark.parametrize(("speed", "settings"), [
    (1.03, {}), (0.97, {}), (1.015, SPEAKER), (0.985, SPEAKER)],
    ids=["3%-fast", "3%-slow", "speaker-1.5%-fast", "speaker-1.5%-slow"])
def test_a_sound_card_fast_or_slow_plays_three_minutes_without_a_gap(
        speed: float, settings: dict[str, float], read_ms: int) -> None:
    """The bridge writes 50 frames of 320 samples a second; the sound card reads 5 or 10 ms
    at a time on a clock running fast or slow: 3 % with the ring's default correction, 1.5 %
    with the speaker ring's gentler one (app.audio.path). Simulated time, events in clock
    order."""
    r = ring(writer_period_ms=20, **settings)
    seconds, frame_s = 180, 0.020
    read_n = read_ms * MS
    read_s = read_n / RATE / speed
    written = reads = 0
    next_read = 0.0013  # the two clocks are not in phase
    out = array.array("h")
    started = None
    highest = 0.0
    while written * frame_s < seconds:
        if written * frame_s <= next_read:
            r.write(ramp(written * FRAME, FRAME))
            written += 1
            highest = max(highest, r.counters.level_ms)
        else:
            out.frombytes(r.read(read_n * 2))
            reads += 1
            next_read = reads * read_s + 0.0013
            if started is None and next_read > 1.0:
                started = r.counters  # the first second settles the level
    end = r.counters

    assert started is not None
    assert end.underruns == started.underruns and end.overruns == 0
    assert highest <= 60.0
    # Only drift was corrected, as many samples as the clocks drifted, the right way round:
    played = len(out) - out.count(0)
    net = end.inserted_samples - end.dropped_samples
    assert net == pytest.approx(written * FRAME * (speed - 1), rel=0.02)
    wrong_way = end.dropped_samples if speed > 1 else end.inserted_samples
    assert wrong_way < abs(net) / 100
    # and every sample written came out once (or twice, or not, for drift), in order.
    assert played == written * FRAME + end.inserted_samples - end.dropped_samples \
        - round(end.level_ms * MS)
    # (Drift is resampled by interpolation, so a pair across the ramp's wrap-around at
    # 32,000 gets a value in between: those pairs say nothing about order.)
    steps = {b - a for a, b in pairwise(out) if 2_000 < a < 30_000 and 2_000 < b < 30_000}
    assert steps <= {0, 1, 2}
