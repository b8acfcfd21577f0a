"""The main window: calls, dial pad and recent calls on the left, the screen-pop on the right.

It composes the widgets, forwards their intents as its own signals, owns the keyboard
shortcuts and shows the registration state and engine problems. It holds no rules: the
composition root (app/compose.py) builds it and app/wiring/phone.py connects it to the
PhoneSession.

Shortcuts: Ctrl+Return answer, Ctrl+Shift+D decline, Ctrl+Shift+H hang up, Ctrl+M mute,
Ctrl+Shift+P hold/resume, Ctrl+L dial pad.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.calls import CallRecord, RegistrationChanged, RegistrationState
from app.core.display_number import DisplayChoice
from app.core.transitions import CallsView
from app.ui.call_panel import CallPanel
from app.ui.dialpad import DialPad
from app.ui.history_view import HistoryView

STYLE_PATH = Path(__file__).with_name("style.qss")
START_SIZE = QSize(1180, 760)
COLUMN_MIN_WIDTH = 360  # the left column (calls, dial pad, recent calls) at its narrowest
MAX_PROBLEMS = 3  # distinct messages the banner keeps (newest last) until dismissed

SHORTCUTS = {
    "answer": "Ctrl+Return",
    "decline": "Ctrl+Shift+D",
    "hangup": "Ctrl+Shift+H",
    "mute": "Ctrl+M",
    "hold": "Ctrl+Shift+P",
    "focus_dial": "Ctrl+L",
}


def start_size(room: QSize | None) -> QSize:
    """The window's first size: START_SIZE, but never larger than the screen's free area
    `room`. On a 1024x600 screen a 1180x760 window put its bottom bar (status, Settings…,
    Set up the phone…) and the ringing call's lower half off screen, and Windows and
    several X11 window managers do not shrink a new window for us."""
    if room is None or room.isEmpty():
        return QSize(START_SIZE)
    return START_SIZE.boundedTo(room)


class MainWindow(QMainWindow):
    """Shows state, emits intents; `screenpop_area` is left for the web view."""

    dial_requested = Signal(str)
    answer_requested = Signal(int)
    decline_requested = Signal(int)
    hangup_requested = Signal(int)
    mute_requested = Signal(int, bool)
    hold_requested = Signal(int, bool)
    dtmf_requested = Signal(int, str)
    redial_requested = Signal(str)
    caller_id_selected = Signal(str)
    history_filter_requested = Signal(str)
    history_search_requested = Signal(str)
    audio_settings_requested = Signal()
    settings_requested = Signal()
    setup_requested = Signal()  # the first-run assistant, from "Set up the phone…"

    def __init__(self, region: str = "FI", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(self.tr("Switchboard"))
        screen = QGuiApplication.primaryScreen()
        self.resize(start_size(screen.availableGeometry().size() if screen else None))
        self.setMinimumSize(720, 520)

        self.call_panel = CallPanel(region, self)
        self.dialpad = DialPad(self, region)
        self.history_view = HistoryView(region, self)

        side = QWidget(self)
        side.setObjectName("side_panel")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(14, 14, 14, 10)
        side_layout.setSpacing(10)
        # The agent's status control goes here (filled by the availability wiring).
        self.status_area = QWidget(side)
        self.status_area.setObjectName("status_area")
        self._status_layout = QVBoxLayout(self.status_area)
        self._status_layout.setContentsMargins(0, 0, 0, 0)
        self.status_area.hide()
        side_layout.addWidget(self.status_area)
        side_layout.addWidget(self.call_panel)
        side_layout.addWidget(self._heading(self.tr("Dial")))
        side_layout.addWidget(self.dialpad)
        side_layout.addWidget(self._heading(self.tr("Recent calls")))
        side_layout.addWidget(self.history_view, 1)
        self.history_view.setMinimumHeight(190)

        # Calls are never squeezed: when two calls, the pad and the history do not fit, the
        # column scrolls instead of overlapping the call cards.
        self.side_scroll = QScrollArea(self)
        self.side_scroll.setObjectName("side_scroll")
        self.side_scroll.setWidget(side)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setMinimumWidth(COLUMN_MIN_WIDTH)
        side.installEventFilter(self)  # its layout requests: see _fit_column

        # Left empty on purpose: the screen-pop web view goes here (another module).
        self.screenpop_area = QWidget(self)
        self.screenpop_area.setObjectName("screenpop_area")
        pop_layout = self._pop_layout = QVBoxLayout(self.screenpop_area)
        pop_layout.setContentsMargins(0, 0, 0, 0)
        self.screenpop_placeholder = QLabel(
            self.tr("Caller details appear here when a call comes in."), self.screenpop_area)
        self.screenpop_placeholder.setObjectName("screenpop_placeholder")
        self.screenpop_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.screenpop_placeholder.setWordWrap(True)
        pop_layout.addWidget(self.screenpop_placeholder)

        # Under the screen-pop: the live queue dashboard, when a phone-system backend is set.
        self.queues_area = QWidget(self)
        self.queues_area.setObjectName("queues_area")
        self._queues_layout = QVBoxLayout(self.queues_area)
        self._queues_layout.setContentsMargins(0, 0, 0, 0)
        self.queues_area.hide()
        self.right_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.right_splitter.setObjectName("right_splitter")
        self.right_splitter.addWidget(self.screenpop_area)
        self.right_splitter.addWidget(self.queues_area)
        self.right_splitter.setStretchFactor(0, 3)
        self.right_splitter.setStretchFactor(1, 1)
        self.right_splitter.setChildrenCollapsible(False)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.side_scroll)
        self.splitter.addWidget(self.right_splitter)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([400, 780])
        self.splitter.setChildrenCollapsible(False)

        self.problem_banner = QFrame(self)
        self.problem_banner.setObjectName("problem_banner")
        self.problem_label = QLabel(self.problem_banner)
        self.problem_label.setObjectName("problem_label")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)
        dismiss = QPushButton(self.tr("Dismiss"), self.problem_banner)
        dismiss.setObjectName("dismiss_problem")
        dismiss.clicked.connect(self.clear_problem)
        banner_layout = QHBoxLayout(self.problem_banner)
        banner_layout.setContentsMargins(14, 8, 10, 8)
        banner_layout.addWidget(self.problem_label, 1)
        banner_layout.addWidget(dismiss)
        self.problem_banner.hide()
        self._problems: list[str] = []
        self._problem_fatal = False

        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.problem_banner)
        central_layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.registration_label = QLabel(self)
        self.registration_label.setObjectName("registration_label")
        self.statusBar().addWidget(self.registration_label, 1)
        self.audio_button = QPushButton(self.tr("Audio…"), self)
        self.audio_button.setObjectName("audio_settings_button")
        self.audio_button.setToolTip(self.tr("Microphone, speaker, ringer and volumes"))
        self.audio_button.setFlat(True)
        self.audio_button.clicked.connect(self.audio_settings_requested)
        self.statusBar().addPermanentWidget(self.audio_button)
        self.settings_button = QPushButton(self.tr("Settings…"), self)
        self.settings_button.setObjectName("settings_button")
        self.settings_button.setToolTip(self.tr("Phone account, audio, CRM, phone system, "
                                                "language and caller ids"))
        self.settings_button.setFlat(True)
        self.settings_button.clicked.connect(self.settings_requested)
        self.statusBar().addPermanentWidget(self.settings_button)
        self.setup_button = QPushButton(self.tr("Set up the phone…"), self)
        self.setup_button.setObjectName("setup_button")
        self.setup_button.setProperty("role", "answer")
        self.setup_button.clicked.connect(self.setup_requested)
        self.setup_button.hide()
        self.statusBar().insertWidget(0, self.setup_button)
        self._retry_deadline: float | None = None
        self._registration: RegistrationChanged | None = None
        self._setup_needed = False
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(1000)
        self._retry_timer.timeout.connect(self._render_registration)
        self.show_starting()

        self._forward_intents()
        self._make_shortcuts()
        if STYLE_PATH.exists():
            self.setStyleSheet(STYLE_PATH.read_text(encoding="utf-8"))

    def set_status_widget(self, widget: QWidget) -> None:
        """Place the agent's status control above the calls."""
        self._status_layout.addWidget(widget)
        self.status_area.show()

    def set_screenpop_widget(self, widget: QWidget) -> None:
        """Replace the placeholder with the screen-pop view."""
        self.screenpop_placeholder.hide()
        self._pop_layout.addWidget(widget)

    def set_queues_widget(self, widget: QWidget) -> None:
        """Show the queue dashboard under the screen-pop."""
        self._queues_layout.addWidget(widget)
        self.queues_area.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and watched is self.side_scroll.widget():
            self._fit_column()
        return super().eventFilter(watched, event)

    def _fit_column(self) -> None:
        # A connected call's buttons (the Finnish ones most), its recording row or a
        # consultation can need more width than the column has. Horizontal scrolling is
        # off, so they would go past its edge, out of reach ("Lopeta puhelu" and the dial
        # pad's Call button were cut at 1024x600). The column widens instead and the
        # screen-pop gives way; it is never made narrower than the agent left it.
        column = self.side_scroll.widget()
        if column is None:
            return
        need = column.minimumSizeHint().width() + \
            self.side_scroll.verticalScrollBar().sizeHint().width()
        self.side_scroll.setMinimumWidth(max(COLUMN_MIN_WIDTH, need))

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setProperty("heading", True)
        return label

    def _forward_intents(self) -> None:
        for name in ("answer_requested", "decline_requested", "hangup_requested",
                     "mute_requested", "hold_requested", "dtmf_requested"):
            getattr(self.call_panel, name).connect(getattr(self, name))
        self.dialpad.dial_requested.connect(self.dial_requested)
        self.dialpad.caller_id_selected.connect(self.caller_id_selected)
        self.history_view.redial_requested.connect(self.redial_requested)
        self.history_view.filter_requested.connect(self.history_filter_requested)
        self.history_view.search_requested.connect(self.history_search_requested)

    def _make_shortcuts(self) -> None:
        actions = {
            "answer": self._answer_shortcut,
            "decline": self._decline_shortcut,
            "hangup": self._hangup_shortcut,
            "mute": self.call_panel.toggle_mute,
            "hold": self.call_panel.toggle_hold,
            "focus_dial": self.dialpad.focus_input,
        }
        self.shortcuts: dict[str, QShortcut] = {}
        for name, keys in SHORTCUTS.items():
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(actions[name])
            self.shortcuts[name] = shortcut

    # -- shortcuts: pick the call they act on --------------------------------------------

    @Slot()
    def _answer_shortcut(self) -> None:
        handle = self.call_panel.ringing_handle()
        if handle is not None:
            self.answer_requested.emit(handle)

    @Slot()
    def _decline_shortcut(self) -> None:
        handle = self.call_panel.ringing_handle()
        if handle is not None:
            self.decline_requested.emit(handle)

    @Slot()
    def _hangup_shortcut(self) -> None:
        handle = self.call_panel.live_handle()
        if handle is not None:
            self.hangup_requested.emit(handle)

    # -- state in --------------------------------------------------------------------

    def show_calls(self, view: CallsView) -> None:
        """The calls as the session sees them (app/core/transitions.py `CallsView`)."""
        self.call_panel.show_calls(view)

    def show_dial_error(self, message: str) -> None:
        self.dialpad.show_error(message)

    def dial_accepted(self) -> None:
        self.dialpad.clear()

    def set_history(self, records: list[CallRecord]) -> None:
        self.history_view.set_records(records)

    def set_display_numbers(self, choices: list[DisplayChoice], current: str) -> None:
        """The one chooser of the number shown on outbound calls (under the dial pad)."""
        self.dialpad.set_display_numbers(choices, current)

    def show_problem(self, message: str, *, fatal: bool = False) -> None:
        """Add `message` to the banner: the last few distinct ones stay, newest last (a
        later note must not hide an earlier one, such as no sound device), until dismissed."""
        if message in self._problems:
            self._problems.remove(message)
        self._problems = [*self._problems, message][-MAX_PROBLEMS:]
        self._problem_fatal = self._problem_fatal or fatal
        self.problem_label.setText("\n".join(self._problems))
        self.problem_banner.setProperty("fatal", self._problem_fatal)
        self.problem_banner.style().unpolish(self.problem_banner)
        self.problem_banner.style().polish(self.problem_banner)
        self.problem_banner.show()

    @Slot()
    def clear_problem(self) -> None:
        self._problems, self._problem_fatal = [], False
        self.problem_banner.hide()
        self.problem_label.clear()

    def show_starting(self) -> None:
        self._show_phone_set_up()
        self._set_registration_text(self.tr("Starting the phone…"), "pending")

    def show_setup_needed(self) -> None:
        """No phone account yet: say so (no status, no failure) and offer the assistant."""
        self._setup_needed = True
        self._registration = None
        self._retry_timer.stop()
        self.status_area.hide()  # a status means nothing before there is a phone
        self.setup_button.show()
        self._set_registration_text(self.tr("Phone not set up"), "pending")

    def _show_phone_set_up(self) -> None:
        if self._setup_needed:
            self._setup_needed = False
            self.setup_button.hide()
            if self._status_layout.count():
                self.status_area.show()

    def show_stopped(self) -> None:
        """The engine is not running (the reason goes to the problem banner)."""
        self._registration = None
        self._retry_timer.stop()
        self._set_registration_text(self.tr("Phone not running"), "bad")

    def show_registration(self, ev: RegistrationChanged) -> None:
        self._show_phone_set_up()
        self._registration = ev
        self._retry_deadline = (time.monotonic() + ev.retry_in
                                if ev.state is RegistrationState.FAILED and ev.retry_in
                                else None)
        if self._retry_deadline is not None:
            self._retry_timer.start()
        else:
            self._retry_timer.stop()
        self._render_registration()

    @Slot()
    def _render_registration(self) -> None:
        ev = self._registration
        if ev is None:
            return
        reason = f" ({ev.sip_code} {ev.reason})".rstrip() if ev.sip_code else ""
        if ev.state is RegistrationState.REGISTERED:
            text, kind = self.tr("Registered"), "good"
        elif ev.state is RegistrationState.REGISTERING:
            text, kind = self.tr("Registering…"), "pending"
        elif ev.state is RegistrationState.DISABLED:
            text, kind = self.tr("Direct calls (no registrar)"), "good"
        elif ev.state is RegistrationState.FAILED and self._retry_deadline is not None:
            left = max(0, round(self._retry_deadline - time.monotonic()))
            text = self.tr("Not registered — retrying in %d s") % left + reason
            kind = "bad"
            if left == 0:
                self._retry_timer.stop()
        else:
            text, kind = self.tr("Not registered") + reason, "bad"
        self._set_registration_text(text, kind)

    def _set_registration_text(self, text: str, kind: str) -> None:
        self.registration_label.setText("●  " + text)
        self.registration_label.setProperty("kind", kind)
        self.registration_label.style().unpolish(self.registration_label)
        self.registration_label.style().polish(self.registration_label)
