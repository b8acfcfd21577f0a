"""The calls the agent has: a card per call with the controls that fit its state.

A ringing call shows name (the CRM's, once it has looked the number up, else the SIP
display name), number, queue (or "Direct") and which CRM named the caller (or how many
records it found), with Answer / Decline; a call
in progress shows Hang up, Mute, Hold and a keypad for DTMF, and Transfer… (blind) and
Consult… (call a colleague first), which open a target field with the colleagues and
queues to pick from. A consultation's card offers Complete transfer, Swap and Cancel, and
while the colleague's phone still rings Transfer now in Complete's place; a
transfer's progress (trying, ringing, done, failed) is a line on the card, and when it
failed the caller is one click (Resume) away. A hold or resume the far end refused is
said on the card. Record / Pause / Stop and a recording
indicator, and a call-quality badge (MOS, raw figures on hover) are on every call in
progress. A second call (call waiting) gets its own
card under the first. The panel only shows state and emits intents: it is given the
calls as `CallsView` (app/core/transitions.py: which call is waiting, the pairs of a
consultation, the call each shortcut acts on); which call to hold when another is
answered, or what a swap resumes, is the session's business.
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

from app.core.calls import Call, CallState, Direction, TransferState
from app.core.duration import format_duration
from app.core.numbers import display
from app.core.transitions import CallsView
from app.ui.call_extras import QualityBadge, RecordingBar, TransferBox, transfer_text
from app.ui.crm_names import crm_line

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
    transfer_requested = Signal(int, str)  # blind: handle, number or address
    consult_requested = Signal(int, str)  # hold the caller, call this colleague
    complete_transfer_requested = Signal(int)  # the consultation's handle
    transfer_to_consultation_requested = Signal(int)  # the ringing consultation's handle
    cancel_consultation_requested = Signal(int)
    swap_requested = Signal(int)
    record_requested = Signal(int)
    recording_pause_requested = Signal(int, bool)
    recording_stop_requested = Signal(int)

    def __init__(self, call: Call, region: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.handle = call.handle
        self.region = region
        self.call = call
        self.waiting = False
        self.peer: Call | None = None  # the other call of a consultation pair
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
        self.crm_label = QLabel(self)  # which CRM named the caller, or what it found
        self.crm_label.setObjectName("call_crm")
        for label in (self.name_label, self.number_label, self.queue_label, self.crm_label):
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

        self.transfer_button = _button(self, self.tr("Transfer…"), "transfer_button",
                                       "toggle", checkable=True)
        self.consult_button = _button(self, self.tr("Consult…"), "consult_button", "toggle",
                                      checkable=True)
        self.transfer_button.clicked.connect(lambda on: self._open_transfer(on, False))
        self.consult_button.clicked.connect(lambda on: self._open_transfer(on, True))
        self.transfer_box = TransferBox(self)
        self.transfer_box.submitted.connect(self._transfer_submitted)
        self.transfer_box.closed.connect(lambda: self._open_transfer(False, False))
        self.transfer_box.hide()
        transfer_row = QHBoxLayout()
        transfer_row.setContentsMargins(0, 0, 0, 0)
        transfer_row.addWidget(self.transfer_button)
        transfer_row.addWidget(self.consult_button)
        transfer_row.addStretch(1)
        self.transfer_controls = QWidget(self)
        self.transfer_controls.setLayout(transfer_row)

        # A consultation: hand the caller over, talk to the caller again, or give up.
        self.consult_label = QLabel(self)
        self.consult_label.setObjectName("consult_label")
        self.consult_label.setWordWrap(True)
        self.consult_label.setTextFormat(Qt.TextFormat.PlainText)
        self.complete_button = _button(self, self.tr("Complete transfer"),
                                       "complete_transfer_button", "answer")
        self.transfer_now_button = _button(self, self.tr("Transfer now"),
                                           "transfer_to_consultation_button", "answer")
        self.transfer_now_button.setToolTip(
            self.tr("Hand the caller to this colleague now, without waiting for an answer"))
        self.transfer_now_button.clicked.connect(
            lambda: self.transfer_to_consultation_requested.emit(self.handle))
        self.swap_button = _button(self, self.tr("Swap"), "swap_button", "plain")
        self.cancel_consult_button = _button(self, self.tr("Cancel"),
                                             "cancel_consultation_button", "plain")
        self.complete_button.clicked.connect(
            lambda: self.complete_transfer_requested.emit(self.handle))
        self.swap_button.clicked.connect(lambda: self.swap_requested.emit(self.handle))
        self.cancel_consult_button.clicked.connect(
            lambda: self.cancel_consultation_requested.emit(self.handle))
        consult_row = QHBoxLayout()
        consult_row.setContentsMargins(0, 0, 0, 0)
        for b in (self.complete_button, self.transfer_now_button, self.swap_button,
                  self.cancel_consult_button):
            consult_row.addWidget(b)
        self.consult_controls = QWidget(self)
        self.consult_controls.setLayout(consult_row)

        # How a transfer of this call goes; after a failure, the caller is one click away.
        self.transfer_status = QLabel(self)
        self.transfer_status.setObjectName("transfer_status")
        self.transfer_status.setWordWrap(True)
        self.transfer_status.setTextFormat(Qt.TextFormat.PlainText)
        self.resume_button = _button(self, self.tr("Resume"), "transfer_resume_button",
                                     "answer")
        self.resume_button.clicked.connect(lambda: self.hold_requested.emit(self.handle,
                                                                            False))
        status_row = QHBoxLayout()
        status_row.setContentsMargins(0, 0, 0, 0)
        status_row.addWidget(self.transfer_status, 1)
        status_row.addWidget(self.resume_button, 0, Qt.AlignmentFlag.AlignTop)
        self.transfer_info = QWidget(self)
        self.transfer_info.setLayout(status_row)

        # A hold or resume the far end refused: said on the card, the buttons stay true.
        self.hold_error_label = QLabel(self)
        self.hold_error_label.setObjectName("hold_error")
        self.hold_error_label.setWordWrap(True)
        self.hold_error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hold_error_label.hide()

        self.recording_bar = RecordingBar(self)
        self.recording_bar.record_clicked.connect(
            lambda: self.record_requested.emit(self.handle))
        self.recording_bar.pause_clicked.connect(
            lambda paused: self.recording_pause_requested.emit(self.handle, paused))
        self.recording_bar.stop_clicked.connect(
            lambda: self.recording_stop_requested.emit(self.handle))
        self.quality_badge = QualityBadge(self)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.status_label, 1)
        header.addWidget(self.quality_badge)

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
        layout.addLayout(header)
        layout.addWidget(self.name_label)
        layout.addWidget(self.number_label)
        layout.addWidget(self.queue_label)
        layout.addWidget(self.crm_label)
        layout.addSpacing(6)
        layout.addWidget(self.ringing_controls)
        layout.addWidget(self.call_controls)
        layout.addWidget(self.hold_error_label)
        layout.addWidget(self.consult_label)
        layout.addWidget(self.consult_controls)
        layout.addWidget(self.transfer_controls)
        layout.addWidget(self.transfer_box)
        layout.addWidget(self.transfer_info)
        layout.addWidget(self.recording_bar)
        layout.addWidget(self.keypad)
        self.show_call(call)

    # -- state in --------------------------------------------------------------------

    def show_call(self, call: Call, *, waiting: bool = False,
                  peer: Call | None = None) -> None:
        """Show `call`; `peer` is the other call of its consultation pair, if any."""
        self.call = call
        self.waiting = waiting
        self.peer = peer
        number = display(call.remote_number, self.region) if call.remote_number else ""
        # The CRM's name first: the SIP display name is whatever the caller's phone sent.
        name = call.crm_name.strip() or call.display_name.strip()
        if name == number or name == call.remote_number:
            name = ""  # a display name that is only the number says nothing twice
        self.name_label.setText(name or number or self.tr("Unknown caller"))
        self.number_label.setText(number if name else "")
        self.number_label.setVisible(bool(name and number))
        crm = crm_line(call.crm, call.crm_name, call.crm_matches)
        self.crm_label.setText(crm)
        self.crm_label.setVisible(bool(crm))
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
        self._show_transfer(call, peer)
        self._show_hold_failure(call)
        self.recording_bar.show_state(call.recording, can_record=connected,
                                      error=call.recording_error)
        self.quality_badge.show_report(call.quality if call.state is not CallState.RINGING
                                       else None)
        self.setProperty("state", "waiting" if ringing and waiting else call.state.value)
        self.style().unpolish(self)
        self.style().polish(self)
        self.tick()

    def _show_transfer(self, call: Call, peer: Call | None) -> None:
        connected = call.state in (CallState.CONNECTED, CallState.HELD)
        consultation = call.consultation_for is not None and peer is not None
        busy = call.transferring or call.replaced_by is not None
        # Transfer… and Consult… on a call in progress that is neither a consultation
        # nor has one going (then the consultation card holds the controls).
        can_transfer = connected and not busy and peer is None and call.consultation_for \
            is None
        self.transfer_controls.setVisible(can_transfer)
        if not can_transfer and self.transfer_box.isVisible():
            self._open_transfer(False, False)
        handing_over = peer is not None and (peer.transferring or peer.transfer is
                                             TransferState.ACCEPTED)
        self.consult_controls.setVisible(consultation and not busy and not handing_over)
        self.complete_button.setEnabled(consultation and connected)
        # Still ringing: Transfer now takes Complete's place (the card keeps its width).
        ringing_out = consultation and call.state in (CallState.DIALING, CallState.ALERTING)
        self.complete_button.setVisible(not ringing_out)
        self.transfer_now_button.setVisible(ringing_out)
        self.swap_button.setEnabled(consultation and connected)
        if peer is not None:
            who = self._who(peer)
            self.consult_label.setText(
                self.tr("Consulting about %s (on hold)") % who
                if consultation and peer.state is CallState.HELD
                else self.tr("Consulting about %s") % who if consultation
                else self.tr("Consulting %s") % who)
        self.consult_label.setVisible(peer is not None)
        text, kind = transfer_text(call)
        self.transfer_status.setText(text)
        self.transfer_status.setProperty("kind", kind)
        self.transfer_status.style().unpolish(self.transfer_status)
        self.transfer_status.style().polish(self.transfer_status)
        self.transfer_info.setVisible(bool(text))
        self.resume_button.setVisible(call.transfer is TransferState.FAILED
                                      and call.state is CallState.HELD)

    def _show_hold_failure(self, call: Call) -> None:
        failed = call.hold_failure
        if failed is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            self.hold_error_label.hide()
            return
        answer = f"{failed.sip_code} {failed.reason}".strip() if failed.sip_code else ""
        if failed.held:
            text = (self.tr("The other side refused the hold (%s): the call is not on hold.")
                    % answer if answer else
                    self.tr("The other side did not answer the hold: the call is not on "
                            "hold."))
        else:
            text = (self.tr("The other side refused to resume (%s): the call is still on "
                            "hold.") % answer if answer else
                    self.tr("The other side did not answer the resume: the call is still on "
                            "hold."))
        self.hold_error_label.setText(text)
        self.hold_error_label.show()

    def _who(self, call: Call) -> str:
        number = display(call.remote_number, self.region) if call.remote_number else ""
        return (call.crm_name.strip() or call.display_name.strip() or number
                or self.tr("Unknown caller"))

    def set_transfer_targets(self, targets: list[tuple[str, str]]) -> None:
        self.transfer_box.set_targets(targets)

    def show_transfer_error(self, message: str) -> None:
        """The transfer or consultation could not even start; the field stays open."""
        self.transfer_box.show()
        self.transfer_box.show_error(message)

    def show_recording_error(self, message: str) -> None:
        self.recording_bar.show_error(message)

    def transfer_started(self) -> None:
        """The request was accepted: close the field."""
        self._open_transfer(False, False)

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

    def _open_transfer(self, shown: bool, consult: bool) -> None:
        self.transfer_button.setChecked(shown and not consult)
        self.consult_button.setChecked(shown and consult)
        if shown:
            self.transfer_box.set_mode(consult=consult)
            self.transfer_box.show()
            self.transfer_box.target_box.setFocus()
        else:
            self.transfer_box.hide()
            self.transfer_box.reset()

    @Slot(str, bool)
    def _transfer_submitted(self, target: str, consult: bool) -> None:
        (self.consult_requested if consult else self.transfer_requested).emit(self.handle,
                                                                               target)


INTENTS = ("answer_requested", "decline_requested", "hangup_requested", "mute_requested",
           "hold_requested", "dtmf_requested", "transfer_requested", "consult_requested",
           "complete_transfer_requested", "transfer_to_consultation_requested",
           "cancel_consultation_requested", "swap_requested",
           "record_requested", "recording_pause_requested", "recording_stop_requested")


class CallPanel(QWidget):
    """All current calls, newest ringing call under the one in progress."""

    answer_requested = Signal(int)
    decline_requested = Signal(int)
    hangup_requested = Signal(int)
    mute_requested = Signal(int, bool)
    hold_requested = Signal(int, bool)
    dtmf_requested = Signal(int, str)
    transfer_requested = Signal(int, str)
    consult_requested = Signal(int, str)
    complete_transfer_requested = Signal(int)
    transfer_to_consultation_requested = Signal(int)
    cancel_consultation_requested = Signal(int)
    swap_requested = Signal(int)
    record_requested = Signal(int)
    recording_pause_requested = Signal(int, bool)
    recording_stop_requested = Signal(int)

    def __init__(self, region: str = "FI", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call_panel")
        self.region = region
        self.cards: dict[int, CallCard] = {}
        self._view = CallsView()
        self._targets: list[tuple[str, str]] = []
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

    def show_calls(self, view: CallsView) -> None:
        """Show these calls: a card each (new ones added, ended ones removed)."""
        self._view = view
        shown = {s.call.handle for s in view.calls}
        for handle in [h for h in self.cards if h not in shown]:
            gone = self.cards.pop(handle)
            self._layout.removeWidget(gone)
            gone.hide()
            gone.deleteLater()
        for s in view.calls:
            card = self.cards.get(s.call.handle)
            if card is None:
                card = CallCard(s.call, self.region, self)
                for name in INTENTS:
                    getattr(card, name).connect(getattr(self, name))
                card.set_transfer_targets(self._targets)
                self.cards[s.call.handle] = card
                self._layout.addWidget(card)
            card.show_call(s.call, waiting=s.waiting, peer=s.peer)
        self.idle_label.setVisible(not self.cards)
        if self.cards and not self._timer.isActive():
            self._timer.start()
        elif not self.cards:
            self._timer.stop()

    def set_transfer_targets(self, targets: list[tuple[str, str]]) -> None:
        """Colleagues and queues offered by Transfer… and Consult…: (name, target)."""
        self._targets = list(targets)
        for card in self.cards.values():
            card.set_transfer_targets(self._targets)

    def show_transfer_error(self, handle: int, message: str) -> None:
        card = self.cards.get(handle)
        if card is not None:
            card.show_transfer_error(message)

    def show_recording_error(self, handle: int, message: str) -> None:
        card = self.cards.get(handle)
        if card is not None:
            card.show_recording_error(message)

    def transfer_started(self, handle: int) -> None:
        card = self.cards.get(handle)
        if card is not None:
            card.transfer_started()

    @Slot()
    def _tick(self) -> None:
        now = datetime.now(timezone.utc)
        for card in self.cards.values():
            card.tick(now)

    # -- what the keyboard shortcuts act on: given with the calls ------------------------

    def ringing_handle(self) -> int | None:
        """The call Answer and Decline act on."""
        return self._view.answer

    def live_handle(self) -> int | None:
        """The call Hang up acts on (the one in progress)."""
        return self._view.hangup

    def toggle_mute(self) -> None:
        if self._view.mute is not None:
            self.mute_requested.emit(*self._view.mute)

    def toggle_hold(self) -> None:
        if self._view.hold is not None:
            self.hold_requested.emit(*self._view.hold)
