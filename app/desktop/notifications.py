"""Incoming-call toasts with Answer and Decline, and the missed-call count.

A `QSystemTrayIcon.showMessage` balloon cannot carry buttons, so an incoming call gets a
small frameless, always-on-top window of our own near the tray corner. It is shown
without taking focus (an agent typing in the CRM must not answer a call by pressing
Enter) and offers Answer and Decline; clicking the rest of it brings the main window to
the front. `Notifier` keeps one toast per ringing call, counts calls that rang out
unanswered, and emits intents only: `answer_requested(call_id)`,
`decline_requested(call_id)`, `show_window_requested()`, `missed_count_changed(n)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.numbers import display

log = logging.getLogger(__name__)

MARGIN = 12  # pixels between toasts and from the screen edge


def windows_can_be_raised() -> bool:
    """False on the offscreen/minimal platforms (tests, headless), which warn on raise."""
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


class IncomingCallToast(QFrame):
    """One ringing call: who, from which queue, Answer / Decline."""

    answer_clicked = Signal(int)
    decline_clicked = Signal(int)
    body_clicked = Signal()

    def __init__(self, call_id: int, name: str, number: str, queue: str = "",
                 region: str = "FI", parent: QWidget | None = None) -> None:
        flags = Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        if windows_can_be_raised():
            flags |= Qt.WindowType.Tool  # no taskbar entry; Qt raises Tool windows on show
        super().__init__(parent, flags)
        self.call_id = call_id
        self.setObjectName("incomingCallToast")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setWindowTitle(self.tr("Incoming call"))
        self.setAccessibleName(self.tr("Incoming call"))

        shown_number = display(number, region) if number else self.tr("Unknown number")
        self.title_label = QLabel(self.tr("Incoming call"))
        self.title_label.setStyleSheet("font-weight: bold;")
        # Caller-supplied text is shown as plain text, never as rich text.
        self.name_label = QLabel(name or shown_number)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name_label.setStyleSheet("font-size: 14pt;")
        self.number_label = QLabel(shown_number if name else "")
        self.number_label.setTextFormat(Qt.TextFormat.PlainText)
        self.number_label.setVisible(bool(name))
        self.queue_label = QLabel(self.tr("Queue: {queue}").format(queue=queue) if queue
                                  else self.tr("Direct call"))
        self.queue_label.setTextFormat(Qt.TextFormat.PlainText)
        self._number = shown_number
        self.crm_label = QLabel("")  # which CRM named the caller (after its lookup)
        self.crm_label.setTextFormat(Qt.TextFormat.PlainText)
        self.crm_label.setVisible(False)

        self.answer_button = QPushButton(self.tr("Answer"))
        self.answer_button.setObjectName("answerButton")
        self.answer_button.setStyleSheet("background: #2e9d4f; color: white;")
        self.decline_button = QPushButton(self.tr("Decline"))
        self.decline_button.setObjectName("declineButton")
        self.decline_button.setStyleSheet("background: #d0342c; color: white;")
        for button in (self.answer_button, self.decline_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Enter/Space by accident
        self.answer_button.clicked.connect(lambda: self.answer_clicked.emit(self.call_id))
        self.decline_button.clicked.connect(lambda: self.decline_clicked.emit(self.call_id))

        buttons = QHBoxLayout()
        # Same order as the call card in the main window: an agent's hand learns one place.
        buttons.addWidget(self.answer_button)
        buttons.addWidget(self.decline_button)
        layout = QVBoxLayout(self)
        for label in (self.title_label, self.name_label, self.number_label,
                      self.queue_label, self.crm_label):
            layout.addWidget(label)
        layout.addLayout(buttons)
        self.setMinimumWidth(280)
        self.adjustSize()

    def show_crm(self, name: str, line: str) -> None:
        """The CRM looked the caller up: its name for them (if one) and where it came from."""
        if name:
            self.name_label.setText(name)
            self.number_label.setText(self._number)
            self.number_label.setVisible(True)
        self.crm_label.setText(line)
        self.crm_label.setVisible(bool(line))
        self.adjustSize()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.body_clicked.emit()
        super().mouseReleaseEvent(event)


def toast_position(size: tuple[int, int], screen: QRect, anchor: QRect | None,
                   index: int = 0) -> QPoint:
    """Top-left for a toast of `size`: next to the tray icon's corner when known, else the
    bottom-right of the screen's available area; `index` stacks toasts away from it."""
    width, height = size
    step = (height + MARGIN) * index
    if anchor is not None and anchor.isValid() and screen.contains(anchor.center()):
        # The tray sits on some edge; put the toast on the screen side of the icon.
        top_half = anchor.center().y() < screen.center().y()
        x = min(max(anchor.center().x() - width // 2, screen.left() + MARGIN),
                screen.right() - width - MARGIN + 1)
        if top_half:
            y = max(anchor.top() + anchor.height() + MARGIN, screen.top() + MARGIN) + step
        else:
            y = min(anchor.top() - height - MARGIN, screen.bottom() - height - MARGIN) - step
        return QPoint(x, y)
    return QPoint(screen.right() - width - MARGIN + 1,
                  screen.bottom() - height - MARGIN + 1 - step)


class Notifier(QObject):
    """Shows and withdraws incoming-call toasts; counts missed calls."""

    answer_requested = Signal(int)
    decline_requested = Signal(int)
    show_window_requested = Signal()
    missed_count_changed = Signal(int)

    def __init__(self, region: str = "FI",
                 tray_geometry: Callable[[], QRect] | None = None,
                 parent: QObject | None = None) -> None:
        """`tray_geometry`: a callable returning the tray icon's QRect (or an empty one)."""
        super().__init__(parent)
        self.region = region
        self._tray_geometry = tray_geometry
        self._toasts: dict[int, IncomingCallToast] = {}
        self._missed = 0

    @property
    def missed_count(self) -> int:
        return self._missed

    def toast(self, call_id: int) -> IncomingCallToast | None:
        return self._toasts.get(call_id)

    def incoming_call(self, call_id: int, name: str, number: str, queue: str = "") -> None:
        """A call rings: show its toast (again, if it is already shown)."""
        self.withdraw(call_id)
        toast = IncomingCallToast(call_id, name, number, queue, self.region)
        toast.answer_clicked.connect(self._on_answer)
        toast.decline_clicked.connect(self._on_decline)
        toast.body_clicked.connect(self.show_window_requested)
        self._toasts[call_id] = toast
        self._place(toast, len(self._toasts) - 1)
        toast.show()  # a new top-level window maps on top; raise_() is not needed

    def show_crm(self, call_id: int, name: str, line: str) -> None:
        """The CRM's name for a ringing caller (and which CRM) on its toast."""
        toast = self._toasts.get(call_id)
        if toast is not None:
            toast.show_crm(name, line)
            # It grew by a line or two: placed again, or at the bottom of the screen its
            # Answer and Decline went below the edge (seen at 1024x600, no tray).
            self._restack()

    def withdraw(self, call_id: int) -> None:
        """The call stopped ringing (answered here or elsewhere, declined, hung up)."""
        toast = self._toasts.pop(call_id, None)
        if toast is not None:
            # Qt's quit() closes every window, toasts too, and so deletes them.
            if shiboken6.isValid(toast):
                toast.close()
            self._restack()

    def call_missed(self, call_id: int) -> None:
        """The call rang out or the caller gave up before anyone answered."""
        self.withdraw(call_id)
        self.set_missed_count(self._missed + 1)

    def set_missed_count(self, count: int) -> None:
        """Set the count (e.g. from history at start, or 0 when the agent has looked)."""
        count = max(0, count)
        if count != self._missed:
            self._missed = count
            self.missed_count_changed.emit(count)

    def clear_missed(self) -> None:
        self.set_missed_count(0)

    def close_all(self) -> None:
        for call_id in list(self._toasts):
            self.withdraw(call_id)

    def _on_answer(self, call_id: int) -> None:
        # Answering from the toast also brings the window (and the CRM record) forward.
        self.withdraw(call_id)
        self.answer_requested.emit(call_id)
        self.show_window_requested.emit()

    def _on_decline(self, call_id: int) -> None:
        self.withdraw(call_id)
        self.decline_requested.emit(call_id)

    def _anchor(self) -> QRect | None:
        if self._tray_geometry is not None:
            rect = self._tray_geometry()
            if rect.isValid():
                return rect
        return None

    def _place(self, toast: IncomingCallToast, index: int) -> None:
        anchor = self._anchor()
        screen = (QGuiApplication.screenAt(anchor.center()) if anchor is not None else None)
        screen = screen or QGuiApplication.primaryScreen()
        if screen is None:
            return
        hint = toast.sizeHint()
        size = (max(hint.width(), toast.minimumWidth()), hint.height())
        toast.resize(*size)
        toast.move(toast_position(size, screen.availableGeometry(), anchor, index))

    def _restack(self) -> None:
        shown = [t for t in self._toasts.values() if shiboken6.isValid(t)]
        for index, toast in enumerate(shown):
            self._place(toast, index)
