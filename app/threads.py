"""The one way across threads: a GUI-thread poster and a task runner with two lanes.

- `GuiPoster.post(item)` may be called from any thread (the engine's, a contact-centre
  backend's); the item comes out on the GUI thread as `received`, in the order posted.
  Items are plain frozen dataclasses: no Qt or pjsua2 object crosses.
- `TaskRunner.run(lane, fn, succeeded=..., failed=...)` runs slow work off the GUI thread
  and calls `succeeded(result)` or `failed(error)` back on the GUI thread (Anki's
  taskman, Picard's thread helper). Two lanes, so a slow CRM or phone system on the
  network lane never holds up the SQLite files on the database lane and the other way
  round.
- `TaskRunner.shutdown(timeout)` is the one stop: queued work is dropped, running work
  gets at most `timeout` seconds, and nothing is delivered afterwards.
- After `GuiPoster.close()` or `TaskRunner.shutdown()` no other thread touches the Qt
  object again: a late post or a task that outlived the shutdown would otherwise emit on
  an object the GUI thread may be deleting at that moment (a crash at exit that depends
  on timing). A lock makes the check and the emit one step.

The real-time audio path (app/audio/path.py) keeps its own high-priority QThread: sound
card frames must never queue behind a database write.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")
Succeeded = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class GuiPoster(QObject):
    """Re-emits posted items on the thread it lives in (the GUI thread), in order."""

    received = Signal(object)
    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._closed = False
        # Reentrant: a Python signal handler may post while this thread is inside post().
        self._lock = threading.RLock()
        # Queued even when posted from the GUI thread itself: a callback from the engine
        # never runs GUI code inside it, whichever thread it comes from.
        self._posted.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def post(self, item: object) -> None:
        """Thread-safe: queue `item` for the GUI thread. Dropped after `close()`."""
        with self._lock:  # close() waits for an emit in progress
            if self._closed:
                return
            try:
                self._posted.emit(item)
            except RuntimeError:  # the C++ side is already gone during shutdown
                log.debug("posted after the poster was deleted: %r", item)

    def flush(self) -> None:
        """Deliver what is queued now (GUI thread; used while shutting down)."""
        QCoreApplication.sendPostedEvents(self, 0)

    def close(self) -> None:
        """Stop delivering; items posted later (a stopping engine) are dropped. Once this
        returns, no thread emits on the poster any more, so it may be deleted."""
        with self._lock:
            self._closed = True

    @Slot(object)
    def _deliver(self, item: object) -> None:
        if not self._closed:
            self.received.emit(item)


class Lane(enum.Enum):
    DB = "db"  # SQLite files: the built-in CRM, the outbox, handled callbacks
    NETWORK = "network"  # a CRM or phone system over the network, the engine's start


# Workers per lane. Three on the database lane, as the CRM pool had: an identify must
# not wait behind an outbox round that waits for a locked CRM file.
LANE_WORKERS = {Lane.DB: 3, Lane.NETWORK: 4}


class TaskRunner(QObject):
    """Runs callables on a lane's workers; results come back on the GUI thread."""

    _finished = Signal(object)  # (future, succeeded, failed), emitted on a worker

    def __init__(self, workers: dict[Lane, int] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        counts = {**LANE_WORKERS, **(workers or {})}
        self._pools = {lane: ThreadPoolExecutor(max_workers=counts[lane],
                                                thread_name_prefix=f"{lane.value}-lane")
                       for lane in Lane}
        self._running: set[Future[Any]] = set()
        self._stopped = False
        self._lock = threading.RLock()  # `_stopped` and the emit of a finished task
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def run(self, lane: Lane, fn: Callable[[], T], *,
            succeeded: Callable[[T], None] | None = None,
            failed: Failed | None = None) -> Future[T] | None:
        """Run `fn` on `lane`; None when the runner is shut down (nothing will run).

        Without `failed`, an error is logged. Callbacks run on the GUI thread, never
        after `shutdown`.
        """
        if self._stopped:
            return None
        try:
            future = self._pools[lane].submit(fn)
        except RuntimeError:  # the pool is shutting down with the app
            return None
        self._running.add(future)
        future.add_done_callback(lambda f: self._emit((f, succeeded, failed)))
        return future

    def _emit(self, item: tuple[Future[Any], Succeeded | None, Failed | None]) -> None:
        # A task that outlived shutdown() ends here on its worker, maybe while the GUI
        # thread deletes the runner with the app: after shutdown, never touch it.
        with self._lock:
            if self._stopped:
                return
            with contextlib.suppress(RuntimeError):  # the runner was deleted with the app
                self._finished.emit(item)

    @Slot(object)
    def _deliver(self, item: tuple[Future[Any], Succeeded | None, Failed | None]) -> None:
        future, succeeded, failed = item
        self._running.discard(future)
        if self._stopped or future.cancelled():
            return
        error = future.exception()
        try:
            if error is None:
                if succeeded is not None:
                    succeeded(future.result())
            elif failed is not None:
                failed(error)
            else:
                log.error("background task failed", exc_info=error)
        except Exception:
            log.exception("handling a background result failed")

    def wait(self, future: Future[Any] | None, timeout: float) -> bool:
        """Block until `future` is done (at most `timeout` s); True when it is."""
        if future is None:
            return True
        try:
            future.result(timeout)
        except (futures.TimeoutError, CancelledError):
            return future.done()
        except Exception:  # its error was (or will be) reported through `failed`
            pass
        return True

    def shutdown(self, timeout: float) -> bool:
        """Drop queued work, give running work `timeout` s in all. Safe twice.

        True when every task finished in time; what is still running after that is left
        to end by itself (its result is dropped, and its worker no longer touches the
        runner).
        """
        with self._lock:
            self._stopped = True
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        running = [f for f in self._running if not f.done()]
        _done, late = wait(running, timeout=max(0.0, deadline - time.monotonic()))
        if late:
            log.warning("%d background task(s) still running at shutdown", len(late))
        self._running.clear()
        return not late


__all__ = ["GuiPoster", "Lane", "TaskRunner"]
