"""A pytest plugin that finds what stalls Python threads in a test run (issue 8).

    ./dev test -p scripts.gil_probe [pytest arguments]
    GIL_PROBE_OUT=/tmp/gil.txt ./dev test -p scripts.gil_probe tests/integration

The audio threads need the GIL every 5-20 ms, so anything that holds it longer is heard
as a gap. This records, for the whole run: every garbage collection over 5 ms (GC
callbacks), and every time a thread of its own that sleeps 2 ms at a time woke more than
15 ms late (the GIL or the CPU was taken), with the test that was running. It writes the
longest of each, and those that fell in the audio tests, to `GIL_PROBE_OUT`
(default `gil_probe.txt`). Session 4 found with it that full collections of the test
process took 100-155 ms, 71 times in 11 minutes (app/audio/collector.py).
"""

from __future__ import annotations

import collections
import gc
import os
import threading
import time
from typing import Any

_pauses: list[tuple[int, float]] = []  # (generation, ms)
_late: list[tuple[float, str]] = []  # (ms, test)
_test = [""]  # the test running now
_began = [0.0]  # when the collection running now began


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _began[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _began[0]) * 1000
    if ms > 5:
        _pauses.append((info["generation"], ms))


def _sleeper() -> None:
    while True:
        began = time.perf_counter()
        time.sleep(0.002)
        late = (time.perf_counter() - began - 0.002) * 1000
        if late > 15:
            _late.append((late, _test[0]))


def pytest_configure(config: Any) -> None:
    gc.callbacks.append(_on_gc)
    threading.Thread(target=_sleeper, name="gil-probe", daemon=True).start()


def pytest_runtest_setup(item: Any) -> None:
    _test[0] = item.nodeid


def pytest_sessionfinish(session: Any) -> None:
    lines = [f"collections over 5 ms: {len(_pauses)}, by generation: "
             f"{dict(collections.Counter(g for g, _ in _pauses))}"]
    lines += [f"  gen{g} {ms:.1f} ms" for g, ms in sorted(_pauses, key=lambda p: -p[1])[:20]]
    lines.append(f"wake-ups over 15 ms late: {len(_late)}")
    lines += [f"  {ms:.1f} ms in {test}" for ms, test in sorted(_late, reverse=True)[:40]]
    audio = [(ms, test) for ms, test in _late if "audio" in test]
    lines.append(f"of those in audio tests: {len(audio)}")
    lines += [f"  {ms:.1f} ms in {test}" for ms, test in audio]
    path = os.environ.get("GIL_PROBE_OUT", "gil_probe.txt")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
