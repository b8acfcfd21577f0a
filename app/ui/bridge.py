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
