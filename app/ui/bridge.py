"""The one crossing from the engine thread to the GUI thread: a queued signal.

`EngineBridge.post(event)` may be called from any thread (the engine calls it from its
own). The event is queued into the thread the bridge lives in (the GUI thread) and comes
out there as `event_received`. Events are plain frozen dataclasses; no Qt or pjsua2
object crosses.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


class EngineBridge(QObject):
    """Re-emits engine events on the GUI thread, in the order they were posted."""

    event_received = Signal(object)
    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._closed = False
        # Queued even when posted from the GUI thread itself: the engine's callback
        # never runs GUI code inside it, whichever thread it comes from.
        self._posted.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def post(self, event: object) -> None:
        """Thread-safe: queue `event` for the GUI thread. Dropped after `close()`."""
        if self._closed:
            return
        try:
            self._posted.emit(event)
        except RuntimeError:  # the C++ side is already gone during shutdown
            log.debug("event after the bridge was deleted: %r", event)

    def close(self) -> None:
        """Stop delivering; events posted later (a stopping engine) are dropped."""
        self._closed = True

    @Slot(object)
    def _deliver(self, event: object) -> None:
        if not self._closed:
            self.event_received.emit(event)


# ---------------------------------------------------------------------------------------
# PySide6 6.12.0 on CPython < 3.12 drops one reference to `True` on every Signal.emit()
# made from Python (the bool emit() returns is released once too often). CPython 3.11
# starts with a few hundred references to True, so after a few hundred emits the
# interpreter aborts with "Fatal Python error: bool_dealloc" — mid-call in a running
# phone, at exit in a test run. From 3.12 on True is immortal and the bug is harmless.
# Until a fixed PySide6 is pinned, give True enough references that it can never reach
# zero. Only done when the leak is measured, so a fixed PySide6 turns this into a no-op.
# ---------------------------------------------------------------------------------------

_BOOL_GUARD = 1 << 40  # a trillion emits
_guarded = False


def _emit_drops_true() -> bool:
    import sys

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def guard_bool_refcount() -> bool:
    """Work around the PySide6 emit() refcount bug above; True when a guard was added."""
    import ctypes
    import sys

    global _guarded
    if _guarded:
        return False
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not _emit_drops_true():
        return False
    # ob_refcnt is the first field of every object in a release build of CPython.
    ctypes.c_ssize_t.from_address(id(True)).value += _BOOL_GUARD
    _guarded = True
    log.info("PySide6 drops a reference to True on each emit(); guard added "
                "(PySide6 6.12.0 with Python < 3.12)")
    return True
