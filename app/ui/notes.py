"""The screen-pop pane with its call notes box, and the CRM outbox status for the status bar.

They only show state and emit intents; the CRM wiring (app/wiring/crm.py) decides what
the notes belong to and when a call counts as logged. The pane never replaces a CRM web
page holding unsaved edits: it asks the page first and follows app/core/screenpop_gate.py
(hold the pop until the call is answered, then until the agent presses Open).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.screenpop_gate import Hold, PopGate
from app.ui.screenpop import ScreenPopView

MAX_NOTES = 5000  # the CRM field holds more; an agent's call note never needs it


class CallNotes(QWidget):
    """Notes for the call on screen; `notes_edited(text)` whenever the agent types."""

    notes_edited = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call_notes")
        self.title_label = QLabel(self.tr("Call notes"), self)
        self.title_label.setObjectName("notes_title")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setProperty("heading", True)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("notes_state")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName("notes_edit")
        self.edit.setPlaceholderText(self.tr("Notes for this call go into the CRM with it."))
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(64)
        self.edit.textChanged.connect(self._text_changed)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title_label, 1)
        head.addWidget(self.state_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.edit)
        self._quiet = False
        self.show_no_call()

    @Slot()
    def _text_changed(self) -> None:
        if self._quiet:
            return
        text = self.edit.toPlainText()
        if len(text) > MAX_NOTES:
            self.edit.setPlainText(text[:MAX_NOTES])
            return
        self.notes_edited.emit(text)

    def _set_text(self, text: str) -> None:
        self._quiet = True
        try:
            if self.edit.toPlainText() != text:
                self.edit.setPlainText(text)
        finally:
            self._quiet = False

    def show_no_call(self) -> None:
        self.title_label.setText(self.tr("Call notes"))
        self.state_label.clear()
        self._set_text("")
        self.edit.setReadOnly(True)
        self.edit.setEnabled(False)

    def show_call(self, who: str, notes: str) -> None:
        """A live call: editable notes for `who`."""
        self.title_label.setText(self.tr("Notes — %s") % who)
        self.state_label.clear()
        self._set_text(notes)
        self.edit.setEnabled(True)
        self.edit.setReadOnly(False)

    def show_logged(self, who: str, notes: str, state: str, editable: bool = False) -> None:
        """The call has ended and its notes went with the call log; `editable`: what the
        agent adds now (wrap-up) updates that log."""
        self.title_label.setText(self.tr("Notes — %s") % who)
        self.state_label.setText(state)
        self._set_text(notes)
        self.edit.setEnabled(True)
        self.edit.setReadOnly(not editable)

    def set_state(self, state: str) -> None:
        self.state_label.setText(state)


class OutboxStatus(QWidget):
    """Status-bar item: call logs waiting for the CRM, and refused ones with a retry."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outbox_status")
        self.label = QLabel(self)
        self.label.setObjectName("outbox_label")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.retry_button = QPushButton(self.tr("Retry"), self)
        self.retry_button.setObjectName("outbox_retry")
        self.retry_button.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.retry_button)
        self.show_counts(0, 0, "")

    def show_counts(self, pending: int, failed: int, last_error: str) -> None:
        parts = []
        if pending == 1:
            parts.append(self.tr("1 call log waiting for the CRM"))
        elif pending:
            parts.append(self.tr("%d call logs waiting for the CRM") % pending)
        if failed == 1:
            parts.append(self.tr("1 call log refused by the CRM"))
        elif failed:
            parts.append(self.tr("%d call logs refused by the CRM") % failed)
        self.label.setText(" · ".join(parts))
        self.setToolTip(last_error)
        self.retry_button.setVisible(failed > 0)
        self.setVisible(bool(parts))


def _url_key(url: QUrl) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Path and decoded query of a switchboard:// URL (encodings of one URL differ)."""
    query = parse_qsl(url.query(QUrl.ComponentFormattingOption.FullyEncoded),
                      keep_blank_values=True)
    return url.path().strip("/"), tuple(query)


DROPPED_LOAD_MS = 300  # many times what a built-in page takes to load, even on a busy machine
Target = tuple[str, str, tuple[tuple[str, str], ...]]  # ("page", path, query) / ("url", url, ())


class ScreenPopPane(QWidget):
    """The screen-pop view with the call notes under it.

    `show_page(path, query)` loads a built-in page, `show_url(url)` a CRM web page;
    `loaded(path or url)` says when the page asked for last has finished loading (what the
    agent sees), never for a page left behind. `sign_in_requested` is the "Sign in to …"
    button of a CRM that needs the agent's sign-in (`show_sign_in`).
    """

    loaded = Signal(str)
    sign_in_requested = Signal()

    def __init__(self, view: ScreenPopView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenpop_pane")
        self.view = view
        self.notes = CallNotes(self)
        self.gate: PopGate[Target] = PopGate()
        self.hold_bar = QWidget(self)
        self.hold_bar.setObjectName("screenpop_hold")
        self.hold_label = QLabel(self.hold_bar)
        self.hold_label.setObjectName("screenpop_hold_label")
        self.hold_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hold_label.setWordWrap(True)
        self.hold_button = QPushButton(self.tr("Open now"), self.hold_bar)
        self.hold_button.setObjectName("screenpop_hold_open")
        self.hold_button.clicked.connect(self._open_held)
        bar = QHBoxLayout(self.hold_bar)
        bar.setContentsMargins(10, 4, 10, 4)
        bar.addWidget(self.hold_label, 1)
        bar.addWidget(self.hold_button)
        self.hold_bar.hide()
        self.sign_in_bar = QWidget(self)
        self.sign_in_bar.setObjectName("crm_sign_in")
        self.sign_in_label = QLabel(self.sign_in_bar)
        self.sign_in_label.setTextFormat(Qt.TextFormat.PlainText)
        self.sign_in_label.setWordWrap(True)
        self.sign_in_button = QPushButton(self.sign_in_bar)
        self.sign_in_button.setObjectName("crm_sign_in_button")
        self.sign_in_button.clicked.connect(self.sign_in_requested)
        sign_in = QHBoxLayout(self.sign_in_bar)
        sign_in.setContentsMargins(10, 4, 10, 4)
        sign_in.addWidget(self.sign_in_label, 1)
        sign_in.addWidget(self.sign_in_button)
        self.sign_in_bar.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sign_in_bar)
        layout.addWidget(self.hold_bar)
        layout.addWidget(view, 1)
        layout.addWidget(self.notes)
        self._wanted: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._wanted_url = QUrl()
        self._wanted_web = ""  # the CRM web page asked for last, until it has loaded
        self._reloaded = False
        # A load that another page's finish overtook is given this long to show up before
        # it is taken for dropped and asked for again.
        self._dropped_check = QTimer(self)
        self._dropped_check.setSingleShot(True)
        self._dropped_check.setInterval(DROPPED_LOAD_MS)
        self._dropped_check.timeout.connect(self._reload_if_dropped)
        view.builtin_page.destroyed.connect(self._dropped_check.stop)  # closing down
        # loadingChanged, not loadFinished: it names the URL that finished, so a late
        # "finished" of the page we navigated away from is never taken for ours.
        view.builtin_page.loadingChanged.connect(self._loading_changed)
        if view.web_page is not None:
            view.web_page.loaded.connect(self._web_loaded)

    # -- navigation ----------------------------------------------------------------------

    def show_page(self, path: str, query: Mapping[str, str] | None = None) -> None:
        self._navigate(("page", path, tuple(dict(query or {}).items())))

    def show_url(self, url: str) -> None:
        """A CRM web page (a Salesforce record) in the CRM's own page."""
        self._navigate(("url", url, ()))

    def _navigate(self, target: Target) -> None:
        web = self.view.web_page
        if web is None or not self.view.showing_web:
            self._go(target)
            return
        # The agent may be editing the CRM's page: ask it before replacing it.
        self.gate.want(target)
        web.dirty(self._dirty_answer)

    def _dirty_answer(self, dirty: bool) -> None:
        decision = self.gate.checked(dirty)
        if decision.go is not None:
            self._go(decision.go)
        elif decision.held is not None:
            self._show_held(decision.hold)

    def _go(self, target: Target) -> None:
        self.hold_bar.hide()
        kind, where, query = target
        if kind == "url":
            self._wanted, self._wanted_web = None, where
            self.view.show_url(where)
            return
        self._wanted_web = ""
        self._wanted_url = ScreenPopView.crm_url(where, dict(query))
        self._wanted, self._reloaded = _url_key(self._wanted_url), False
        self._dropped_check.stop()
        self.view.load(self._wanted_url)

    def _show_held(self, hold: Hold | None) -> None:
        if hold is Hold.UNTIL_ANSWER:
            text = self.tr("You have unsaved changes on this page, so the caller's record was "
                           "not opened. It opens when you answer the call.")
        else:
            text = self.tr("You have unsaved changes on this page, so the caller's record was "
                           "not opened. Save or cancel your changes, then press Open now.")
        self.hold_label.setText(text)
        self.hold_bar.show()

    @Slot()
    def _open_held(self) -> None:
        target = self.gate.agent_asked()
        if target is not None:
            self._go(target)
        self.hold_bar.hide()

    def refresh_record(self) -> None:
        """A call was just logged: a built-in record page on screen is loaded again, so
        its Calls section lists it (instead of a stale "No calls logged yet.")."""
        if self.view.showing_web or self._wanted is not None or self.gate_holds():
            return  # the CRM's own page, a load under way, or a pop waiting: leave it
        url = self.view.builtin_page.url()
        parts = [p for p in url.path().split("/") if p]
        if url.scheme() == "switchboard" and url.host() == "crm" and len(parts) == 2 \
                and parts[0] in ("contact", "account", "lead", "case"):
            self.view.load(url)

    def gate_holds(self) -> bool:
        return self.hold_bar.isVisibleTo(self)

    def call_started(self) -> None:
        """A new call took the pane: a pop held for it waits for its answer."""
        self.gate.call_started()

    def call_answered(self) -> None:
        """The pane's call was answered: a held pop is tried again (the page is asked)."""
        web = self.view.web_page
        if self.gate.call_answered() and web is not None:
            web.dirty(self._dirty_answer)

    def show_sign_in(self, text: str, button: str) -> None:
        """Show the CRM's sign-in bar (`text` says why); empty `text` hides it."""
        self.sign_in_label.setText(text)
        self.sign_in_button.setText(button)
        self.sign_in_bar.setVisible(bool(text))

    @Slot(str)
    def _web_loaded(self, url: str) -> None:
        # The CRM may redirect (instance → Lightning domain): what counts is that the
        # page asked for last is what the agent now sees.
        if url == self._wanted_web and self.view.showing_web:
            self._wanted_web = ""
            self.loaded.emit(url)

    @Slot(QWebEngineLoadingInfo)
    def _loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        if info.status() is not QWebEngineLoadingInfo.LoadStatus.LoadSucceededStatus:
            return
        key = _url_key(info.url())
        if key == self._wanted:
            self._wanted = None
            self._dropped_check.stop()
            self.loaded.emit(key[0])
        elif self._wanted is not None and not self._reloaded:
            # Chromium sometimes drops a load issued while the previous one (the "Looking
            # up…" page) is still committing: that one finishes, ours never starts (1-2
            # times in 40 bench calls). But ours may only be late: asking again at once
            # then loads the page twice, and a click on the first copy is lost when the
            # second replaces it. So wait a moment first.
            self._dropped_check.start()

    @Slot()
    def _reload_if_dropped(self) -> None:
        if self._wanted is None or self._reloaded or self.view.builtin_page.isLoading():
            return  # it arrived, or is on its way after all
        self._reloaded = True
        self.view.load(self._wanted_url)
