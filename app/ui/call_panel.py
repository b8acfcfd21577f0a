"""The calls the agent has: a card per call with the controls that fit its state.

A ringing call shows number, name and queue (or "Direct") with Answer / Decline; a call
in progress shows Hang up, Mute, Hold and a keypad for DTMF; a second call (call waiting)
gets its own card under the first. The panel only shows state and emits intents; which
call to hold when another is answered is the session's business.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.calls import Call, CallState, Direction
from app.core.duration import format_duration
from app.core.numbers import display

LIVE = (CallState.DIALING, CallState.ALERTING, CallState.CONNECTING, CallState.CONNECTED)
DTMF_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")


def _button(parent: QWidget, text: str, name: str, role: str, *,
            checkable: bool = False) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setProperty("role", role)
    button.setCheckable(checkable)
    return button


class CallCard(QFrame):
    """One call: who, how long, and the buttons its state allows."""

    answer_requested = Signal(int)
    decline_requested = Signal(int)
    hangup_requested = Signal(int)
    mute_requested = Signal(int, bool)
    hold_requested = Signal(int, bool)
    dtmf_requested = Signal(int, str)

    def __init__(self, call: Call, region: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.handle = call.handle
        self.region = region
        self.call = call
        self.waiting = False
        self.setObjectName(f"call_card_{call.handle}")
        self.setProperty("card", True)
        # Never shrink below what the card needs: overlapping buttons are worse than a
        # scrolling column.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("call_status")
        self.name_label = QLabel(self)
        self.name_label.setObjectName("call_name")
        self.number_label = QLabel(self)
        self.number_label.setObjectName("call_number")
        self.queue_label = QLabel(self)
        self.queue_label.setObjectName("call_queue")
        for label in (self.name_label, self.number_label, self.queue_label):
            label.setTextFormat(Qt.TextFormat.PlainText)  # caller-controlled text
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.answer_button = _button(self, self.tr("Answer"), "answer_button", "answer")
        self.decline_button = _button(self, self.tr("Decline"), "decline_button", "hangup")
        self.mute_button = _button(self, self.tr("Mute"), "mute_button", "toggle",
                                   checkable=True)
        self.hold_button = _button(self, self.tr("Hold"), "hold_button", "toggle",
                                   checkable=True)
        self.keypad_button = _button(self, self.tr("Keypad"), "keypad_button", "toggle",
                                     checkable=True)
        self.hangup_button = _button(self, self.tr("Hang up"), "hangup_button", "hangup")
        self.answer_button.clicked.connect(lambda: self.answer_requested.emit(self.handle))
        self.decline_button.clicked.connect(lambda: self.decline_requested.emit(self.handle))
        self.hangup_button.clicked.connect(lambda: self.hangup_requested.emit(self.handle))
        # A toggle asks for the new state; the button follows the call, not the click.
        self.mute_button.clicked.connect(self._mute_clicked)
        self.hold_button.clicked.connect(self._hold_clicked)
        self.keypad_button.toggled.connect(self._show_keypad)

        self.keypad = QWidget(self)
        self.keypad.setObjectName("dtmf_pad")
        grid = QGridLayout(self.keypad)
        grid.setContentsMargins(0, 4, 0, 0)
        grid.setSpacing(4)
        for i, key in enumerate(DTMF_KEYS):
            key_button = _button(self.keypad, key, f"dtmf_{key}", "key")
            key_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            key_button.clicked.connect(
                lambda _=False, k=key: self.dtmf_requested.emit(self.handle, k))
            grid.addWidget(key_button, i // 3, i % 3)
        self.keypad.hide()

        ringing_row = QHBoxLayout()
        ringing_row.addWidget(self.answer_button)
        ringing_row.addWidget(self.decline_button)
        self.ringing_controls = QWidget(self)
        self.ringing_controls.setLayout(ringing_row)
        ringing_row.setContentsMargins(0, 0, 0, 0)

        call_row = QHBoxLayout()
        call_row.setContentsMargins(0, 0, 0, 0)
        for b in (self.mute_button, self.hold_button, self.keypad_button, self.hangup_button):
            call_row.addWidget(b)
        self.call_controls = QWidget(self)
        self.call_controls.setLayout(call_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(4)
        layout.addWidget(self.status_label)
        layout.addWidget(self.name_label)
        layout.addWidget(self.number_label)
        layout.addWidget(self.queue_label)
        layout.addSpacing(6)
        layout.addWidget(self.ringing_controls)
        layout.addWidget(self.call_controls)
        layout.addWidget(self.keypad)
        self.show_call(call)

    # -- state in --------------------------------------------------------------------

    def show_call(self, call: Call, *, waiting: bool = False) -> None:
        self.call = call
        self.waiting = waiting
        number = display(call.remote_number, self.region) if call.remote_number else ""
        name = call.display_name.strip()
        self.name_label.setText(name or number or self.tr("Unknown caller"))
        self.number_label.setText(number if name else "")
        self.number_label.setVisible(bool(name and number))
        if call.direction is Direction.INBOUND:
            self.queue_label.setText(self.tr("Queue: %s") % call.queue if call.queue
                                     else self.tr("Direct"))
        else:
            self.queue_label.setText(self.tr("Outbound, shown as %s") % call.local_number
                                     if call.local_number else self.tr("Outbound"))
        ringing = call.state is CallState.RINGING
        connected = call.state in (CallState.CONNECTED, CallState.HELD)
        self.ringing_controls.setVisible(ringing)
        self.call_controls.setVisible(not ringing)
        for b in (self.mute_button, self.hold_button, self.keypad_button):
            b.setEnabled(connected)
        self.keypad_button.setEnabled(call.state is CallState.CONNECTED)
        if call.state is not CallState.CONNECTED:
            self.keypad_button.setChecked(False)
        self.mute_button.setChecked(call.muted)
        self.mute_button.setText(self.tr("Unmute") if call.muted else self.tr("Mute"))
        self.hold_button.setChecked(call.state is CallState.HELD)
        self.hold_button.setText(self.tr("Resume") if call.state is CallState.HELD
                                 else self.tr("Hold"))
        self.hangup_button.setText(self.tr("Cancel") if call.state in
                                   (CallState.DIALING, CallState.ALERTING)
                                   else self.tr("Hang up"))
        self.setProperty("state", "waiting" if ringing and waiting else call.state.value)
        self.style().unpolish(self)
        self.style().polish(self)
        self.tick()

    def tick(self, now: datetime | None = None) -> None:
        """Refresh the status line (with the running time)."""
        now = now or datetime.now(timezone.utc)
        call = self.call
        state = call.state
        if state is CallState.RINGING:
            text = self.tr("Call waiting") if self.waiting else self.tr("Incoming call")
            text += "  " + format_duration((now - call.arrived_at).total_seconds())
        elif state is CallState.DIALING:
            text = self.tr("Calling…")
        elif state is CallState.ALERTING:
            text = self.tr("Ringing…")
        elif state is CallState.CONNECTING:
            text = self.tr("Connecting…")
        else:
            since = call.answered_at or call.arrived_at
            running = format_duration((now - since).total_seconds())
            if state is CallState.HELD:
                text = self.tr("On hold  %s") % running
            elif call.muted:
                text = self.tr("Connected, muted  %s") % running
            else:
                text = self.tr("Connected  %s") % running
        self.status_label.setText(text)

    # -- intents out -----------------------------------------------------------------

    @Slot(bool)
    def _mute_clicked(self, checked: bool) -> None:
        self.mute_button.setChecked(self.call.muted)
        self.mute_requested.emit(self.handle, not self.call.muted)

    @Slot(bool)
    def _hold_clicked(self, checked: bool) -> None:
        held = self.call.state is CallState.HELD
        self.hold_button.setChecked(held)
        self.hold_requested.emit(self.handle, not held)

    @Slot(bool)
    def _show_keypad(self, shown: bool) -> None:
        self.keypad.setVisible(shown)


class CallPanel(QWidget):
    """All current calls, newest ringing call under the one in progress."""

    answer_requested = Signal(int)
    decline_requested = Signal(int)
    hangup_requested = Signal(int)
    mute_requested = Signal(int, bool)
    hold_requested = Signal(int, bool)
    dtmf_requested = Signal(int, str)

    def __init__(self, region: str = "FI", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call_panel")
        self.region = region
        self.cards: dict[int, CallCard] = {}
        self.idle_label = QLabel(self.tr("No calls"), self)
        self.idle_label.setObjectName("idle_label")
        self.idle_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        self._layout.addWidget(self.idle_label)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def show_call(self, call: Call) -> None:
        """Add or refresh the card of `call`."""
        card = self.cards.get(call.handle)
        if card is None:
            card = CallCard(call, self.region, self)
            for name in ("answer_requested", "decline_requested", "hangup_requested",
                         "mute_requested", "hold_requested", "dtmf_requested"):
                getattr(card, name).connect(getattr(self, name))
            self.cards[call.handle] = card
            self._layout.addWidget(card)
        self._refresh()

    def remove_call(self, handle: int) -> None:
        card = self.cards.pop(handle, None)
        if card is not None:
            self._layout.removeWidget(card)
            card.hide()
            card.deleteLater()
        self._refresh()

    def _refresh(self) -> None:
        busy = any(c.call.state is not CallState.RINGING for c in self.cards.values())
        for card in self.cards.values():
            card.show_call(card.call, waiting=busy)
        self.idle_label.setVisible(not self.cards)
        if self.cards and not self._timer.isActive():
            self._timer.start()
        elif not self.cards:
            self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        now = datetime.now(timezone.utc)
        for card in self.cards.values():
            card.tick(now)

    # -- what the keyboard shortcuts act on ---------------------------------------------

    def ringing_handle(self) -> int | None:
        ringing = [c for c in self.cards.values() if c.call.state is CallState.RINGING]
        return ringing[0].handle if ringing else None

    def live_handle(self) -> int | None:
        """The call in progress (not held, not ringing), if any."""
        live = [c for c in self.cards.values() if c.call.state in LIVE]
        return live[-1].handle if live else None

    def toggle_mute(self) -> None:
        handle = self.live_handle()
        if handle is not None and self.cards[handle].mute_button.isEnabled():
            self.mute_requested.emit(handle, not self.cards[handle].call.muted)

    def toggle_hold(self) -> None:
        handle = self.live_handle()
        if handle is not None and self.cards[handle].call.state is CallState.CONNECTED:
            self.hold_requested.emit(handle, True)
            return
        held = [c for c in self.cards.values() if c.call.state is CallState.HELD]
        if handle is None and len(held) == 1:
            self.hold_requested.emit(held[0].handle, False)
