"""Keeps Python's cyclic garbage collector off the long-lived heap while a call has sound.

Both ends of the audio path run Python code that needs the GIL 50-200 times a second (the
bridge's frame callbacks, the audio thread's feed), and a full collection holds the GIL
for as long as it walks every object: measured 23-30 ms for the app's own heap after
start (57,000 objects), 100-155 ms in a test process. Either is longer than the buffers
hold, so a full collection in the middle of a call is a gap the agent hears.

So when a call's sound starts, the heap is collected once (before the sound card runs,
so nobody hears it) and frozen (`gc.freeze`): the collections that still come during
the call walk only what the call itself made, a fraction of a millisecond. When no call
has sound any more, the heap is unfrozen and collected as usual again, so nothing the
freeze kept out of the collector is lost for good.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


class CallCollector:
    """`call_started()` / `call_ended()` around the time audio flows; both idempotent."""

    def __init__(self) -> None:
        self.frozen = False

    def call_started(self) -> None:
        if self.frozen:
            return
        began = time.perf_counter()
        gc.collect()
        gc.freeze()
        self.frozen = True
        log.debug("heap collected and frozen for the call in %.1f ms (%d objects)",
                  (time.perf_counter() - began) * 1000, gc.get_freeze_count())

    def call_ended(self) -> None:
        if self.frozen:
            self.frozen = False
            gc.unfreeze()


__all__ = ["CallCollector"]
