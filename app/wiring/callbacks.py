"""Callback requests from the phone system → CRM cases/tasks, listed with a one-click dial-back.

`CallbackWiring.on_requests(requests)` (GUI thread) lists the requests at once and runs
the finished `app.core.callbacks.CallbackProcessor` (built by the composition root on the
built-in CRM and the HandledStore) on the database lane: it creates the case or task,
linked when exactly one record has the number, and closes the request on the phone system.
What became of each request comes back to the list. One round runs at a time; requests
that arrive meanwhile wait for the next. A request the CRM or the phone system could not
take yet is tried again after `RETRY_MS`; the HandledStore makes sure none is created
twice. Each outcome is logged as a structured `callback` event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Slot

from app.core.callbacks import CallbackProcessor, CallbackRequest, Outcome
from app.logs import call_event
from app.threads import Lane, TaskRunner
from app.ui.callbacks import CallbackList

log = logging.getLogger(__name__)

RETRY_MS = 30_000  # a request not yet saved or closed is tried again this much later
Round = tuple[list[CallbackRequest], list[Outcome]]


class CallbackWiring(QObject):
    """Lists requests, saves them in the CRM off the GUI thread, retries what failed."""

    def __init__(self, widget: CallbackList, processor: CallbackProcessor | None,
                 tasks: TaskRunner, *, dial: Callable[[str], None], lane: Lane = Lane.DB,
                 retry_ms: int = RETRY_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.widget = widget
        self._processor = processor  # None: no profile, no CRM file: listed only
        self._tasks = tasks
        self._lane = lane
        self._stopped = False
        self._busy = False
        self._waiting: dict[str, CallbackRequest] = {}  # arrived during a round
        self._pending: dict[str, CallbackRequest] = {}  # to try again later
        widget.dial_requested.connect(dial)
        # One timer, not QTimer.singleShot(ms, functor): PySide6 6.12.0 drops a reference
        # to None on every singleShot with a Python callable.
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.setInterval(retry_ms)
        self._retry_timer.timeout.connect(self._retry)

    def on_requests(self, requests: Sequence[CallbackRequest]) -> None:
        """The phone system's open requests (GUI thread)."""
        for request in requests:
            self.widget.show_request(request)
        if self._processor is not None:
            self._submit(requests)

    def stop(self) -> None:
        """No new rounds; the one running finishes under the app's task runner. Safe twice."""
        self._stopped = True
        self._retry_timer.stop()

    def _submit(self, requests: Sequence[CallbackRequest]) -> None:
        if not requests or self._stopped:
            return
        if self._busy:
            self._waiting.update((r.id, r) for r in requests)
            return
        processor, batch = self._processor, list(requests)
        assert processor is not None
        self._busy = self._tasks.run(self._lane, lambda: _process(processor, batch),
                                     succeeded=self._show) is not None

    # -- GUI thread ----------------------------------------------------------------------

    def _show(self, result: Round) -> None:
        self._busy = False
        requests, outcomes = result
        by_id = {o.request_id: o for o in outcomes}
        for request in requests:
            self.widget.show_request(request, by_id.get(request.id))
        for request in requests:
            outcome = by_id.get(request.id)
            if outcome is not None and not outcome.closed:
                self._pending[request.id] = request
            elif outcome is not None:
                self._pending.pop(request.id, None)
        waiting, self._waiting = list(self._waiting.values()), {}
        self._submit(waiting)
        if self._pending and not self._stopped and not self._retry_timer.isActive():
            self._retry_timer.start()

    @Slot()
    def _retry(self) -> None:
        requests, self._pending = list(self._pending.values()), {}
        self._submit(requests)


def _process(processor: CallbackProcessor, requests: list[CallbackRequest]) -> Round:
    """On the database lane: one round; an unusable CRM file is an outcome, not a crash."""
    try:
        outcomes = processor.process_all(requests)
    except Exception as exc:  # the CRM file is unusable: say so, try again later
        log.exception("callback requests not processed")
        outcomes = [Outcome(r.id, "", "", closed=False, error=str(exc)) for r in requests]
    for outcome in outcomes:
        if not outcome.skipped:
            call_event("callback", request_id=outcome.request_id,
                       created=outcome.created, linked=outcome.linked,
                       closed=outcome.closed, error=outcome.error)
    return requests, outcomes


__all__ = ["RETRY_MS", "CallbackWiring"]
