"""Callback requests from the phone system → built-in CRM cases/tasks, and a dial-back list.

`CallbackWiring.on_requests(requests)` (GUI thread) lists the requests at once and hands
them to a worker thread, where `app.core.callbacks.CallbackProcessor` creates the case or
task in the built-in CRM (`profile.db_path("crm")`, linked when exactly one record has the
number) and closes the request on the phone system. What became of each request comes back
to the list as a signal. A request the CRM or the phone system could not take yet is tried
again after `RETRY_MS`; the HandledStore (`profile.db_path("callbacks")`) makes sure none is
created twice. Each outcome is logged as a structured `callback` event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from html import escape
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import Settings
from app.core.callbacks import CallbackProcessor, CallbackRequest, HandledStore, Outcome
from app.logs import call_event
from app.paths import Profile

log = logging.getLogger(__name__)

RETRY_MS = 30_000  # a request not yet saved or closed is tried again this much later
CloseCallback = Callable[[str, str], None]


class _Closable(Protocol):
    def close(self) -> None: ...


class CallbackList(QWidget):
    """Callback requests seen this session, each with a one-click "Call back"."""

    dial_requested = Signal(str)
    count_changed = Signal(int)  # rows listed; the composition shows the list from 1 on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callbackList")
        self.list = QListWidget(self)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.rows: dict[str, tuple[QListWidgetItem, QLabel, QPushButton]] = {}

    def show_request(self, request: CallbackRequest, outcome: Outcome | None = None) -> None:
        when = request.requested_at.astimezone()
        text = f"<b>{escape(request.number) or self.tr('unknown number')}</b>  ·  " \
               f"{escape(request.queue)}  ·  {when:%d.%m. %H:%M}"
        if request.message:
            text += f"<br>“{escape(request.message)}”"
        if outcome is not None and outcome.created:
            kind, _, ident = outcome.created.partition("/")
            done = self.tr("Task %1 in the CRM") if kind == "task" else \
                self.tr("Case %1 in the CRM")
            text += "<br><i>" + escape(done.replace("%1", ident)) + "</i>"
        elif outcome is not None and outcome.error:
            text += "<br><i>" + escape(self.tr("Not saved yet: %1").replace(
                "%1", outcome.error)) + "</i>"
        if request.id in self.rows:
            item, label, _button = self.rows[request.id]
            label.setText(text)
            item.setSizeHint(self.list.itemWidget(item).sizeHint())
            return
        row = QWidget(self.list)
        label = QLabel(text, row)
        label.setTextFormat(Qt.TextFormat.RichText)  # everything from outside is escaped
        label.setWordWrap(True)
        button = QPushButton(self.tr("Call back"), row)
        button.setObjectName("callBack")
        button.setEnabled(bool(request.number))
        button.clicked.connect(lambda _=False, n=request.number: self.dial_requested.emit(n))
        box = QHBoxLayout(row)
        box.setContentsMargins(6, 4, 6, 4)
        box.addWidget(label, 1)
        box.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        item = QListWidgetItem(self.list)
        item.setSizeHint(row.sizeHint())
        self.list.setItemWidget(item, row)
        self.rows[request.id] = (item, label, button)
        self.count_changed.emit(len(self.rows))


class CallbackWiring(QObject):
    """Lists requests, saves them in the CRM off the GUI thread, retries what failed."""

    _done = Signal(object)  # (requests, outcomes) from the worker thread

    def __init__(self, settings: Settings, profile: Profile | None, close: CloseCallback,
                 dial: Callable[[str], None], parent: QObject | None = None, *,
                 retry_ms: int = RETRY_MS) -> None:
        super().__init__(parent)
        self._settings = settings
        self._profile = profile
        self._close = close
        self.widget = CallbackList()
        self.widget.dial_requested.connect(dial)
        self._workers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callbacks")
        self._processor: CallbackProcessor | None = None
        self._stores: list[_Closable] = []
        self._stopped = False
        self._done.connect(self._show)
        # One timer, not QTimer.singleShot(ms, functor): PySide6 6.12.0 drops a reference
        # to None on every singleShot with a Python callable (see app/ui/bridge.py).
        self._pending: dict[str, CallbackRequest] = {}
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.setInterval(retry_ms)
        self._retry_timer.timeout.connect(self._retry)

    def on_requests(self, requests: Sequence[CallbackRequest]) -> None:
        """The phone system's open requests (GUI thread)."""
        for request in requests:
            self.widget.show_request(request)
        if self._profile is None:  # no profile, no CRM file: listed only
            return
        if requests and not self._stopped:
            self._workers.submit(self._process, list(requests))

    def stop(self) -> None:
        """Finish the request being saved, then close the CRM files. Safe twice."""
        if self._stopped:
            return
        self._stopped = True
        self._retry_timer.stop()
        self._workers.submit(self._close_stores)
        self._workers.shutdown(wait=True)

    # -- worker thread -------------------------------------------------------------------

    def _process(self, requests: list[CallbackRequest]) -> None:
        try:
            if self._processor is None:
                self._processor = self._make_processor()
            outcomes = self._processor.process_all(requests)
        except Exception as exc:  # the CRM file is unusable: say so, try again later
            log.exception("callback requests not processed")
            outcomes = [Outcome(r.id, "", "", closed=False, error=str(exc)) for r in requests]
        for outcome in outcomes:
            if not outcome.skipped:
                call_event("callback", request_id=outcome.request_id,
                           created=outcome.created, linked=outcome.linked,
                           closed=outcome.closed, error=outcome.error)
        self._done.emit((requests, outcomes))

    def _make_processor(self) -> CallbackProcessor:
        from app.crm.local.store import LocalStore

        assert self._profile is not None
        crm = LocalStore(self._profile.db_path("crm"),
                         region=self._settings.phone.default_region)
        handled = HandledStore(self._profile.db_path("callbacks"))
        self._stores = [crm, handled]
        return CallbackProcessor(crm, self._close, handled,
                                 target=self._settings.contactcenter.callback_target)

    def _close_stores(self) -> None:
        for store in self._stores:
            try:
                store.close()
            except Exception:
                log.exception("closing %r failed", store)

    # -- GUI thread ----------------------------------------------------------------------

    @Slot(object)
    def _show(self, result: tuple[list[CallbackRequest], list[Outcome]]) -> None:
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
        if self._pending and not self._stopped and not self._retry_timer.isActive():
            self._retry_timer.start()

    @Slot()
    def _retry(self) -> None:
        requests, self._pending = list(self._pending.values()), {}
        if requests and not self._stopped:
            self._workers.submit(self._process, requests)


__all__ = ["RETRY_MS", "CallbackList", "CallbackWiring"]
